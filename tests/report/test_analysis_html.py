"""report/analysis_html.py (+ inputs, tables, terminal, study_html): the self-contained report on synthetic
variant tables."""
from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest

from edgebench.report.analysis_html import SECTIONS, build_inputs, render, write_report
from edgebench.analyze.variant_pareto import pareto_of_variants
from edgebench.report.inputs import headline
from edgebench.report.tables import property_provenance
from tests.report.synthetic import effects_tests, surfaces, variant_table


def _section(page: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">(.*?)</section>', page, re.S)
    assert match, f"section {name} missing"
    return match.group(1)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return variant_table(4, 2)


@pytest.fixture(scope="module")
def page(table: pd.DataFrame) -> str:
    table = table.copy()
    table.loc[3, "valid"] = False
    inputs = build_inputs(table, title="synthetic", surfaces=surfaces(table), effects={"tests": effects_tests(table)},
                          draws=200)
    return render(inputs)


def test_frontier_probability_is_the_pareto_commands_per_device(table):
    # The report and `edgebench pareto --study` use one analysis: the bootstrap of the latency median over
    # repeats and samples and the binomial accuracy, per device -- not single inferences taken as medians.
    inputs = build_inputs(table, title="t", draws=200)
    assert inputs.table["frontier_probability"].between(0, 1).all()
    assert len(inputs.pareto_notes) == 2 and all("200 draws" in n for n in inputs.pareto_notes)
    for model, group in table.groupby("device_model"):
        (device,) = pareto_of_variants(group, ["latency_ms:min", "accuracy:max"], draws=200, seed=0).analyses
        expected = device.analysis.rows.set_index("id")["frontier_probability"]
        shown = inputs.table[inputs.table["device_model"] == model].set_index("id")["frontier_probability"]
        assert shown.loc[expected.index].tolist() == pytest.approx(expected.tolist())
    assert inputs.surfaces is not None and set(inputs.surfaces["group"]) == {"SM-G991B cpu/1t",
                                                                            "edgebench-virtual cpu/1t"}


def test_headline_costs_are_against_the_same_models_fp32_on_the_same_device(table):
    inputs = build_inputs(table, title="t", draws=200)
    head = inputs.headline
    assert not head.empty and set(head["device_model"]) == {"SM-G991B", "edgebench-virtual"}
    row = head.iloc[0]
    variant = inputs.table[inputs.table["id"] == row["id"]].iloc[0]
    fp32 = inputs.table[(inputs.table["trained_id"] == variant["trained_id"]) & (inputs.table["variant"] == "fp32")
                        & (inputs.table["device_model"] == variant["device_model"])].iloc[0]
    assert row["speedup_vs_fp32"] == pytest.approx(fp32["latency_ms"] / variant["latency_ms"])
    assert row["size_reduction_vs_fp32"] == pytest.approx(fp32["size_bytes"] / variant["size_bytes"])
    assert row["accuracy_change_pp"] == pytest.approx(100 * (variant["accuracy"] - fp32["accuracy"]))


def test_headline_without_an_fp32_row_has_no_factors_rather_than_one(table):
    inputs = build_inputs(table[table["variant"] != "fp32"], title="t", draws=50)
    assert inputs.headline["speedup_vs_fp32"].isna().all()
    assert inputs.headline["accuracy_change_pp"].isna().all()
    assert headline(inputs.table.assign(on_frontier=None)).empty


def test_every_section_is_present_and_filled(page):
    for name in SECTIONS:
        assert re.sub(r"<[^>]+>", "", _section(page, name)).strip(), name
    for name in ("pareto", "latency", "energy", "effects", "ranks"):
        assert "data:image/png;base64," in _section(page, name), name
    assert "10/50/90 % empirical attainment surfaces" in _section(page, "pareto")


def test_the_page_is_self_contained(page):
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources and all(s.startswith(("data:", "#")) for s in sources), sources
    assert not re.search(r"https?://|@import|url\(", page)
    for data in re.findall(r'src="data:image/png;base64,([^"]+)"', page):
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_row_shows_provenance_and_validity(page, table):
    variants = _section(page, "variants")
    rows = re.findall(r"<tr class=\"[^\"]*\">(.*?)</tr>", variants, re.S)
    assert len(rows) == len(table)
    assert all('class="src-' in r and 'class="flag' in r for r in rows)
    assert "src-simulated" in variants and "invalid run(s)" in variants and '<tr class="invalid">' in variants
    effects = _section(page, "effects")
    effect_rows = re.findall(r"<tr class=\"\">(.*?)</tr>", effects, re.S)
    assert effect_rows and all("src-" in r and "flag" in r for r in effect_rows)


def test_lineage_names_training_variant_file_and_runs(page, table):
    lineage = _section(page, "lineage")
    for _, row in table.iterrows():
        assert row["trained_id"][:16] in lineage and row["tflite_sha256"][:16] in lineage and row["run_ids"][0] in lineage
    assert "filters=" in lineage and "prune:0.5" in lineage


def test_missing_parts_say_not_recorded_and_why(tmp_path):
    table = variant_table(2, 1)
    bare = table.assign(energy_mj=np.nan, energy_samples_mj=[[] for _ in range(len(table))], energy_source="none")
    path = write_report(build_inputs(bare, title="bare", draws=50), tmp_path / "deep" / "r.html")
    page = path.read_text()
    assert "Not recorded: no row has an energy per inference" in _section(page, "energy")
    assert "not recorded: no battery or thermal samples" in _section(page, "traces")
    assert "Not computed" in _section(page, "effects") and "Not computed" in _section(page, "sensitivity")
    assert "10/50/90 % empirical attainment surfaces" in _section(page, "pareto")
    fixed = bare.assign(latency_repeats_ms=[[] for _ in range(len(bare))], accuracy_n=np.nan)
    page = write_report(build_inputs(fixed, title="fixed", draws=50), tmp_path / "fixed.html").read_text()
    assert "Attainment bands: not computed" in _section(page, "pareto")


def test_traces_are_drawn_when_given(table):
    from edgebench.report.analysis_html import _traces

    traces = pd.DataFrame({"t_s": [0.0, 1.0, 2.0], "channel": ["battery temperature"] * 3, "value": [30.0, 31.0, 31.5],
                           "unit": ["°C"] * 3, "run_id": ["r1"] * 3})
    assert "data:image/png;base64," in _traces(build_inputs(table, title="t", traces=traces, draws=50))


def test_property_provenance_follows_the_column_that_records_it(table):
    assert property_provenance(table, "latency_ms") == "measured, simulated"
    assert property_provenance(table.assign(energy_source="none"), "energy_mj") == "none"
    assert property_provenance(table, "accuracy") == "measured (host)"


def test_terminal_prints_the_headline_and_the_efficient_rows(table):
    from rich.console import Console

    from edgebench.report.terminal import print_tables

    inputs = build_inputs(table, title="t", effects={"tests": effects_tests(table)}, draws=50)
    console = Console(record=True, width=200)
    print_tables(inputs, console)
    text = console.export_text()
    assert "efficient variants vs their fp32 baseline" in text and str(inputs.headline.iloc[0]["id"]) in text
    assert "strongest hyperparameter effects" in text


def test_the_study_report_is_the_analysis_report_of_its_stored_runs(tmp_path):
    # The page `study run` writes is drawn from the study's variant table: the stored runs' raw samples
    # (frontier probability, latency distributions), energy, device traces and lineage, per device.
    from tests.analyze.variant_store import build_workspace

    from edgebench.report.study_html import write_study_report

    study_json = build_workspace(tmp_path)
    page = write_study_report(study_json, tmp_path / "report.html").read_text()
    assert "<h1>Study cnn_image (smoke)</h1>" in page and all(s in page for s in (f'<section id="{n}">' for n in SECTIONS))
    assert "Pixel 7" in _section(page, "pareto") and "frontier probability over 1000 draws" in _section(page, "pareto")
    assert "data:image/png;base64," in _section(page, "latency")
    assert "default/prune:0.5+int8" in _section(page, "headline")
    assert "trial_failed" in _section(page, "variants") or "trial 4" in _section(page, "lineage")


def test_device_traces_convert_the_kernels_documented_units_and_skip_unreadable_samples():
    from edgebench.report.traces import device_traces, traces_note
    from edgebench.store import DeviceSample

    samples = [DeviceSample(5_000_000_000, "/sys/class/power_supply/battery/temp", "312"),
               DeviceSample(5_500_000_000, "/sys/class/power_supply/battery/temp", "315\n"),
               DeviceSample(5_500_000_000, "/sys/class/thermal/thermal_zone3/temp", "41500"),
               DeviceSample(6_000_000_000, "/sys/class/power_supply/battery/voltage_now", "3950000"),
               DeviceSample(6_000_000_000, "/sys/class/power_supply/battery/current_now", "-250000"),
               DeviceSample(6_000_000_000, "/sys/class/thermal/thermal_zone3/temp", ""),
               DeviceSample(6_000_000_000, "/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1800000")]
    traces = device_traces({"run1": samples, "run2": []})
    assert traces.to_dict("records") == [
        {"run_id": "run1", "t_s": 0.0, "channel": "battery temperature", "value": pytest.approx(31.2), "unit": "°C"},
        {"run_id": "run1", "t_s": 0.5, "channel": "battery temperature", "value": pytest.approx(31.5), "unit": "°C"},
        {"run_id": "run1", "t_s": 0.5, "channel": "thermal_zone3 temperature", "value": pytest.approx(41.5), "unit": "°C"},
        {"run_id": "run1", "t_s": 1.0, "channel": "battery voltage", "value": pytest.approx(3.95), "unit": "V"}]
    assert traces_note(2, traces) == "recorded"
    assert "none of the 2 stored runs" in traces_note(2, traces.iloc[0:0])


def test_analysis_records_of_dataframes_are_shown_table_by_table_with_provenance():
    from dataclasses import dataclass

    from edgebench.report.analysis_html import _analysis_tables
    from edgebench.report.inputs import frames_of

    @dataclass(frozen=True)
    class Sensitivity:  # the shape of analyze.sensitivity's record: DataFrames (and other fields, ignored)
        distances: pd.DataFrame
        influence_changes: pd.DataFrame
        seed: int = 0

    table = variant_table(2, 1)
    record = Sensitivity(pd.DataFrame({"hyperparameter": ["filters"], "sparsity": [0.5], "property": ["energy_mj"],
                                       "wasserstein": [0.12]}),
                         pd.DataFrame({"hyperparameter": ["filters"], "property": ["latency_ms"], "change": ["more"]}))
    frames = frames_of(record)
    assert list(frames) == ["distances", "influence_changes"]
    html_text = _analysis_tables(frames, build_inputs(table, title="t", draws=20), "sensitivity", "")
    assert "<h3>distances</h3>" in html_text and "<h3>influence changes</h3>" in html_text
    assert '<span class="src-measured">measured</span>' in html_text  # energy_mj's provenance in this table
    with pytest.raises(TypeError, match="record of DataFrames"):
        frames_of(42)


def test_analysis_tables_list_the_strongest_checked_rows_and_count_the_rest_by_reason():
    from edgebench.report.analysis_html import readable_rows

    frame = pd.DataFrame({"device_id": ["d"] * 50, "hyperparameter": [f"h{i}" for i in range(50)],
                          "cliffs_delta": [(-1) ** i * i / 50 for i in range(50)],
                          "status": ["checked"] * 45 + ["not_checked"] * 5,
                          "reason": [None] * 45 + ["too few rows"] * 4 + ["one level"]})
    shown, note = readable_rows(frame, limit=10)
    assert shown["hyperparameter"].tolist() == [f"h{i}" for i in range(44, 34, -1)]  # |delta| largest first
    assert "device_id" not in shown.columns and "status" not in shown.columns  # constant: said once, not per row
    assert note.startswith("the 10 strongest of 45 rows by |cliffs_delta|")
    assert "5 row(s) not checked: 4× too few rows; 1× one level" in note
