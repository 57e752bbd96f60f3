"""suggest: the requested count of distinct configurations that exist among the candidates, by guided
sampling or by the source forest's predictive variance; the plan round-trips through JSON; the push-and-run
lines measure exactly the chosen configurations."""
from __future__ import annotations

import itertools
import json
import shlex

import pandas as pd
import pytest

from edgebench.errors import UsageError
from edgebench.perfmodel.plan_commands import run_values_from_frame
from edgebench.perfmodel.suggest import plan_from_dict, plan_to_dict, read_plan, suggest, tree_variance, write_plan
from tests.perfmodel.generated import OPTIONS, factorial_frame, table


def option_rows(t) -> set[tuple[float, ...]]:
    return {tuple(r) for r in t.x().tolist()}


@pytest.mark.parametrize("strategy", ["gs", "variance"])
def test_the_requested_count_of_distinct_existing_configurations(strategy):
    source = table(factorial_frame(noise_sd=0.3))
    doubled = pd.concat([factorial_frame(seed=5), factorial_frame(seed=6)], ignore_index=True)  # each config twice
    candidates = table(doubled.drop(columns="y"), "candidates", measure=None)
    plan = suggest(source, candidates, 9, strategy, seed=0)
    chosen = [tuple(c.options[o] for o in OPTIONS) for c in plan.configurations]
    assert len(chosen) == len(set(chosen)) == 9
    assert set(chosen) <= option_rows(candidates)
    assert all(int(c.id) <= 72 for c in plan.configurations)  # each configuration's first row


def test_gs_plan_varies_the_influential_terms_and_names_them():
    source = table(factorial_frame(noise_sd=0.3))
    plan = suggest(source, source, 12, "gs")
    assert {"a", "b", "a:b"} <= set(plan.selected_terms)
    assert sum(c.reason.startswith("varies a:b") for c in plan.configurations) >= 6


def test_variance_strategy_takes_the_largest_variances_in_order():
    source = table(factorial_frame(noise_sd=0.3))
    plan = suggest(source, source, 5, "variance", seed=3)
    variance = tree_variance(source, source.x(), 3)
    chosen = [int(c.id) - 1 for c in plan.configurations]
    assert [variance[i] for i in chosen] == sorted(variance, reverse=True)[:5]
    assert "rank 1 of 72" in plan.configurations[0].reason


def test_plan_round_trips(tmp_path):
    source = table(factorial_frame(noise_sd=0.3))
    plan = suggest(source, source, 4, "gs", device="emulator-5554")
    assert plan_from_dict(json.loads(json.dumps(plan_to_dict(plan)))) == plan
    write_plan(plan, tmp_path / "plan.json")
    assert read_plan(tmp_path / "plan.json") == plan
    (tmp_path / "other.json").write_text('{"schema": "something/else"}')
    with pytest.raises(UsageError, match="expected 'edgebench.perfmodel.plan/1'"):
        read_plan(tmp_path / "other.json")


def test_errors_for_budget_strategy_and_options():
    source = table(factorial_frame())
    with pytest.raises(UsageError, match="72 distinct configurations; ask for 1 to 72"):
        suggest(source, source, 73)
    with pytest.raises(UsageError, match="expected one of gs, variance"):
        suggest(source, source, 3, "magic")
    with pytest.raises(UsageError, match="--seed -2"):
        suggest(source, source, 3, "variance", seed=-2)
    other = table(factorial_frame().rename(columns={"noise1": "threads"}), "new", options=("a", "b", "c", "threads"))
    with pytest.raises(UsageError, match=r"only the candidates \(new\) has threads"):
        suggest(source, other, 3)


def device_table() -> pd.DataFrame:
    """Two models (FLOPs 10 and 40) × threads 1, 2, 4 × cpu/gpu (a one-hot option), CPU mask f0."""
    rows = [{"model": model, "flops": flops, "threads": threads, "accelerator": accel, "gpu": int(accel == "gpu"),
             "cpu_mask": "f0"}
            for (model, flops), threads, accel in itertools.product([("m1.tflite", 10.0), ("m 2.tflite", 40.0)],
                                                                    [1, 2, 4], ["cpu", "gpu"])]
    frame = pd.DataFrame(rows)
    frame["latency_ms"] = frame.flops / frame.threads * (1 - 0.5 * frame.gpu) + 1
    return frame


def expand(command: str) -> set[tuple[str, str, str, str]]:
    words = shlex.split(command)
    assert words[:2] == ["edgebench", "push-and-run"]
    flags = dict(zip(words[3::2], words[4::2]))
    return {(words[2], t, a, flags["--cpu-mask"]) for t in flags["--threads"].split(",")
            for a in flags["--accel"].split(",")}


@pytest.mark.parametrize("budget", [3, 7, 12])
def test_push_and_run_lines_measure_exactly_the_chosen_configurations(budget):
    frame = device_table()
    source = table(frame, "phone-a.csv", options=("flops", "threads", "gpu"), measure="latency_ms")
    plan = suggest(source, source, budget, "variance", run_values=run_values_from_frame(frame), device="SERIAL9")
    measured = set().union(*(expand(line) for line in plan.push_and_run))
    wanted = {(c.run_values["model"], c.run_values["threads"], c.run_values["accelerator"], c.run_values["cpu_mask"])
              for c in plan.configurations}
    assert measured == wanted and len(wanted) == budget
    assert all(line.endswith("--target SERIAL9") for line in plan.push_and_run)
    assert sum(len(expand(line)) for line in plan.push_and_run) == budget  # no configuration twice


def test_no_lines_when_push_and_run_cannot_set_what_differs():
    frame = device_table().drop(columns="model")  # two models' FLOPs differ, but no column names the model
    source = table(frame, "phone-a.csv", options=("flops", "threads", "gpu"), measure="latency_ms")
    plan = suggest(source, source, 12, "variance", run_values=run_values_from_frame(frame))
    assert plan.push_and_run == ()
    assert any("differ in flops, which push-and-run cannot set" in note for note in plan.notes)


def test_store_one_hot_accelerator_features_give_the_accelerator():
    frame = device_table().drop(columns=["accelerator", "gpu"])
    frame["accel.cpu"] = [1.0, 0.0] * 6
    frame["accel.gpu"] = [0.0, 1.0] * 6
    values = run_values_from_frame(frame)
    assert [v["accelerator"] for v in values[:2]] == ["cpu", "gpu"] and values[0]["threads"] == "1"
