from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from edgebench.battery import calibrate, plot_energy, plot_trace, summarize_repeats

from .synth import INFERENCE_TIMES, WINDOWS, clean_run, idle_recording
from .test_summary import run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_plot_trace_writes_a_png(tmp_path: Path) -> None:
    series, _ = clean_run()
    cal = calibrate(idle_recording(), source="synthetic")
    out = plot_trace(series, cal, WINDOWS, INFERENCE_TIMES, tmp_path / "plots" / "trace.png")
    assert out == tmp_path / "plots" / "trace.png"
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    # No inference timestamps is fine too.
    assert plot_trace(series, cal, WINDOWS, None, tmp_path / "bare.png").read_bytes().startswith(PNG_MAGIC)


def test_plot_energy_writes_a_png_for_mixed_summaries(tmp_path: Path) -> None:
    summaries = {
        "fp32 cpu/4t": summarize_repeats([run(v) for v in (19.0, 20.0, 21.0, 20.5, 19.5)]),
        "int8 cpu/4t": summarize_repeats([run(9.0), run(9.5), run(8.8)]),
        "int8 gpu": summarize_repeats([run(5.0)]),
        "fp16 npu": summarize_repeats([run(3.0, valid=False)]),
    }
    data = plot_energy(summaries, tmp_path / "energy.png").read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5_000


def test_plots_never_import_pyplot(tmp_path: Path) -> None:
    """pyplot picks a global backend (and can open windows); the Agg canvas needs neither."""
    code = ("import sys; from edgebench.battery import plot_energy, summarize_repeats; "
            f"plot_energy({{'a': summarize_repeats([])}}, {str(tmp_path / 'e.png')!r}); "
            "print('matplotlib.pyplot' in sys.modules, 'matplotlib' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "toolchain"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["False", "True"]
