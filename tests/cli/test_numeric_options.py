"""Every number push-and-run and profile-battery pass to the runner is checked on the host (issue #11
A5): NaN, infinity and values beyond the runner's own bounds are usage errors before any device work,
naming the flag, the accepted range and what was received."""
from __future__ import annotations

import pytest

from edgebench.cli.main import main

from tests.conftest import REAL_MODELS

ADD = REAL_MODELS / "tflm_simple_add_model.tflite"


@pytest.mark.parametrize("flags, said", [
    (["--min-seconds", "nan"], "--min-seconds takes a number from 0 to 86,400. Received: nan"),
    (["--min-seconds", "inf"], "--min-seconds takes a number from 0 to 86,400. Received: inf"),
    (["--run-delay-ms", "nan"], "--run-delay-ms takes a number from 0 to 3,600,000. Received: nan"),
    (["--run-delay-ms", "-1"], "--run-delay-ms takes a number from 0 to 3,600,000. Received: -1"),
    (["--threads", "100000"], "--threads takes a whole number from 1 to 1,024. Received: 100000"),
    (["--threads", "1,1025"], "--threads takes a whole number from 1 to 1,024. Received: 1025"),
    (["--runs", "10000000000000000000000"], "--runs takes a whole number from 1 to 1,000,000,000"),
    (["--cooldown", "nan"], "--cooldown takes a number from 0 to 86,400. Received: nan"),
    (["--reconnect-timeout", "nan"], "--reconnect-timeout takes a number from 0 to 86,400. Received: nan"),
])
def test_push_and_run_refuses_numbers_the_runner_would_refuse(workspace, capsys, flags, said):
    code = main(["push-and-run", str(ADD), "--protocol", "smoke", *flags])
    err = capsys.readouterr().err
    assert code == 2, err
    assert said in err and "Give a value in that range" in err
    assert not (workspace / "local-device").exists()  # refused before anything was staged


@pytest.mark.parametrize("flags, said", [
    (["--duration", "nan"], "--duration takes a number from 1 to 86,400. Received: nan"),
    (["--idle", "inf"], "--idle takes a number from 0 to 86,400. Received: inf"),
    (["--warmup", "nan"], "--warmup takes a number from 0 to 86,400. Received: nan"),
    (["--inference-rate", "nan"], "--inference-rate takes a number from 0.001 to 1,000,000. Received: nan"),
    (["--rate", "5000"], "--rate takes a number from 0.1 to 1,000. Received: 5000"),
    (["--cooldown", "inf"], "--cooldown takes a number from 0 to 86,400. Received: inf"),
])
def test_profile_battery_refuses_numbers_the_runner_or_driver_would_refuse(workspace, capsys, flags, said):
    code = main(["profile-battery", str(ADD), "--target", "no-such-serial", *flags])
    err = capsys.readouterr().err
    assert code == 2 and said in err, err


def test_the_python_api_checks_types_and_ranges(workspace):
    from edgebench.api import push_and_run
    from edgebench.errors import UsageError

    for kwargs, said in ((dict(threads=(1, 100000)), "--threads takes a whole number from 1 to 1,024"),
                         (dict(threads=(1.5,)), "Received: 1.5 (float)"),
                         (dict(threads=()), "--threads needs at least one thread count"),
                         (dict(min_seconds=float("nan")), "--min-seconds takes a number"),
                         (dict(runs=True), "--runs takes a whole number"),
                         (dict(run_delay_ms="5"), "Received: '5' (str)")):
        with pytest.raises(UsageError, match=said.replace("(", r"\(").replace(")", r"\)")):
            push_and_run([str(ADD)], protocol="smoke", **kwargs)
