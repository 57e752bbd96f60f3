"""`edgebench perfmodel transfer | suggest` through the real entry point, on table files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.cli.main import main
from tests.perfmodel.generated import factorial_frame
from tests.perfmodel.test_suggest import device_table


@pytest.fixture
def tables(tmp_path: Path) -> tuple[Path, Path]:
    source = factorial_frame(seed=1, noise_sd=0.3)
    target = factorial_frame(seed=2, noise_sd=0.3).assign(y=lambda f: 2.5 * f["y"] + 3)
    source.to_csv(tmp_path / "source.csv", index=False)
    target.to_csv(tmp_path / "target.txt", index=False, sep=" ")  # whitespace-separated, detected
    return tmp_path / "source.csv", tmp_path / "target.txt"


def transfer_args(source: Path, target: Path, *more: str) -> list[str]:
    return ["perfmodel", "transfer", "--source", str(source), "--target", str(target), "--options", "a,b,c,noise1",
            "--measure", "y", "--learner", "tree", *more]


def test_transfer_json_has_a_record_per_method_and_budget(tables, capsys):
    assert main(transfer_args(*tables, "--budget", "6", "--budget", "10%", "--repeats", "2", "--json")) == 0
    records = json.loads(capsys.readouterr().out)
    assert {(r["method"], r["budget"]) for r in records} == {(m, b) for m in ("scratch", "dm", "lms", "nlms", "gs")
                                                           for b in (6, 8)}
    lms = next(r for r in records if r["method"] == "lms" and r["budget"] == 8)
    assert lms["mape_pct_mean"] < 5 and lms["repeats"] == 2 and lms["budget_share"] == pytest.approx(8 / 72)
    assert set(lms) >= {"mape_pct_sd", "nmse_mean", "within_10pct_share"}
    assert "a:b" in next(r for r in records if r["method"] == "gs")["selected_terms"]


def test_transfer_table_puts_scratch_beside_each_method(tables, capsys):
    assert main(transfer_args(*tables, "--budget", "6", "--repeats", "1", "--methods", "dm,gs")) == 0
    captured = capsys.readouterr()
    assert "scratch added" in captured.err
    assert "÷ scratch" in captured.out and "GS terms" in captured.out and "a:b" in captured.out
    assert [m for m in ("scratch", "dm", "gs", "lms") if f" {m} " in captured.out] == ["scratch", "dm", "gs"]


@pytest.mark.parametrize(("more", "message"), [
    (["--budget", "72"], "at most 71"),
    (["--budget", "x"], "expected a count of rows"),
    (["--budget", "4", "--methods", "dm,zz"], "subset of scratch,dm,lms,nlms,gs"),
])
def test_transfer_errors(tables, capsys, more, message):
    assert main(transfer_args(*tables, *more)) == 2
    assert message in capsys.readouterr().err


def test_transfer_names_the_missing_column(tables, capsys):
    argv = transfer_args(*tables, "--budget", "4")
    argv[argv.index("a,b,c,noise1")] = "a,b,threads"
    assert main(argv) == 2
    assert "no column 'threads'; the columns are: a, b, c, noise1, y" in capsys.readouterr().err


def test_suggest_writes_a_plan_and_push_and_run_lines(tmp_path, capsys):
    frame = device_table()
    frame.to_csv(tmp_path / "phone-a.csv", index=False)
    frame.drop(columns="latency_ms").to_csv(tmp_path / "phone-b-configs.csv", index=False)  # not measured yet
    plan_path = tmp_path / "plan.json"
    assert main(["perfmodel", "suggest", "--source", str(tmp_path / "phone-a.csv"), "--target-configs",
                 str(tmp_path / "phone-b-configs.csv"), "--options", "flops,threads,gpu", "--measure", "latency_ms",
                 "--budget", "5", "--device", "SERIAL9", "-o", str(plan_path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(plan_path.read_text())
    assert printed["schema"] == "edgebench.perfmodel.plan/1" and len(printed["configurations"]) == 5
    assert printed["push_and_run"] and all("--target SERIAL9" in line for line in printed["push_and_run"])


def test_suggest_without_a_source_says_what_to_give(workspace, capsys):
    assert main(["perfmodel", "suggest", "--budget", "5"]) == 2
    assert "needs --source FILE_OR_SELECTOR (the measured rows to learn from) or --device D" in capsys.readouterr().err
    assert main(["perfmodel", "suggest", "--device", "SERIAL9", "--budget", "5"]) == 2
    assert "has no results store" in capsys.readouterr().err


def test_suggest_from_the_source_configurations_gives_lines(tmp_path, capsys):
    device_table().to_csv(tmp_path / "phone-a.csv", index=False)
    assert main(["perfmodel", "suggest", "--source", str(tmp_path / "phone-a.csv"), "--options", "flops,threads,gpu",
                 "--measure", "latency_ms", "--budget", "3", "--strategy", "variance"]) == 0
    out = capsys.readouterr().out
    assert "3 configurations of" in out and "edgebench push-and-run m" in out


def test_what_a_store_table_left_out_is_said_on_stderr(tables, capsys, monkeypatch):
    """A store selector's table carries notes (rows without an ok run, simulated figures): they are shown."""
    import dataclasses

    from edgebench.perfmodel import sources

    real = sources.resolve_source

    def with_notes(text, **kwargs):
        table = real(text, **kwargs)
        return dataclasses.replace(table, notes=("left out 3 of 75 row(s) without an ok run: 3 run_failed",))

    monkeypatch.setattr(sources, "resolve_source", with_notes)
    assert main(transfer_args(*tables, "--budget", "4", "--repeats", "1", "--methods", "dm", "--json")) == 0
    err = capsys.readouterr().err
    assert "source " in err and "target " in err and "left out 3 of 75 row(s)" in err
