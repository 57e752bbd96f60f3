"""profile-battery and input shapes: a model with dynamic dimensions and no shape is refused before the
device is touched (setting a phone up for a battery run takes minutes); a given shape is planned."""
from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.errors import UsageError
from edgebench.profiling.protocol import BatteryProtocol
from edgebench.profiling.session import BatterySession
from edgebench.store import ResultsStore
from edgebench.workspace import Workspace

DYNAMIC = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "eb_dynamic_image_conv.tflite"


class _Untouchable:
    """A target that fails the test if the session reaches the device."""

    name = "untouchable"

    def __getattr__(self, item: str):
        raise AssertionError(f"the device was touched ({item}) before the model was refused")


def _session(tmp_path: Path, input_shapes=None) -> BatterySession:
    store = ResultsStore(tmp_path / "results.sqlite")
    return BatterySession(Workspace.resolve(tmp_path / "ws"), store, _Untouchable(), BatteryProtocol(), (),
                          input_shapes=input_shapes)


def test_a_dynamic_model_without_a_shape_is_refused_before_the_device_is_touched(tmp_path):
    with pytest.raises(UsageError, match=r"input 'image' has signature \[-1,-1,-1,3\].*--input-shape default"):
        _session(tmp_path).run([str(DYNAMIC)])


def test_a_given_shape_gets_past_the_refusal(tmp_path):
    with pytest.raises(AssertionError, match="the device was touched"):  # planned, then on to the device
        _session(tmp_path, ["image=1,32,32,3"]).run([str(DYNAMIC)])
