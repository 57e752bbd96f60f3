"""report/plots.py: each plot draws what the table holds (checked on the Axes' artists) and returns the Axes."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from edgebench.report import plots  # noqa: E402
from edgebench.stats import median_interval  # noqa: E402
from tests.report.synthetic import effects_tests, surfaces, variant_table  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_pareto_scatter_colours_by_frontier_probability_and_marks_provenance():
    table = variant_table(3, 1).assign(frontier_probability=lambda t: np.linspace(0, 1, len(t)))
    table.loc[table.index[:4], "latency_source"] = "simulated"
    ax = plots.pareto_scatter(table, "latency_ms:min", "accuracy:max")
    assert isinstance(ax, Axes)
    colours = np.concatenate([c.get_array() for c in ax.collections if c.get_array() is not None])
    assert sorted(colours) == pytest.approx(sorted(table["frontier_probability"]))
    labels = ax.get_legend_handles_labels()[1]
    assert "latency measured" in labels and "latency simulated" in labels
    assert "higher is better" in ax.get_ylabel() and "(ms)" in ax.get_xlabel()


def test_pareto_scatter_draws_each_attainment_level_and_shades_the_band():
    table = variant_table(4, 1)
    ax = plots.pareto_scatter(table, "latency_ms:min", "accuracy:max", surfaces=surfaces(table))
    labels = ax.get_legend_handles_labels()[1]
    assert {"10% attainment surface", "50% attainment surface", "90% attainment surface", "10%–90% band"} <= set(labels)
    assert any(isinstance(c, PolyCollection) for c in ax.collections)


def test_staircase_value_is_the_last_surface_point_at_or_before_x():
    xs, ys = np.array([1.0, 2.0, 4.0]), np.array([0.5, 0.7, 0.9])  # x minimized, y maximized
    values = plots._step_values(xs, ys, np.array([0.5, 1.0, 3.0, 5.0]), x_maximized=False)
    assert np.isnan(values[0]) and list(values[1:]) == [0.5, 0.7, 0.9]
    values = plots._step_values(xs[::-1], ys[::-1], np.array([5.0, 3.0, 1.0]), x_maximized=True)  # best-first
    assert np.isnan(values[0]) and list(values[1:]) == [0.9, 0.5]


def test_latency_ecdf_pools_every_raw_sample_and_dashes_simulated_rows():
    table = variant_table(1, 2).head(7).reset_index(drop=True)
    table.loc[2, "latency_repeats_ms"] = []  # no samples: left out, and said so
    ax = plots.latency_ecdf(table)
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) > 2]
    assert len(lines) == 6
    first = sorted(v for repeat in table.loc[0, "latency_repeats_ms"] for v in repeat)
    assert np.nanmax(lines[0].get_xdata()[np.isfinite(lines[0].get_xdata())]) == pytest.approx(first[-1])
    assert np.nanmax(lines[0].get_ydata()) == pytest.approx(1.0)
    simulated = [line for line, (_, row) in zip(lines, table.drop(index=2).iterrows())
                 if row["latency_source"] == "simulated"]
    assert simulated and all(line.get_linestyle() == "--" for line in simulated)
    assert "1 without samples" in ax.get_title()


def test_energy_interval_is_the_order_statistic_interval_over_runs_and_none_below_two():
    row = pd.Series({"energy_mj": 2.0, "energy_samples_mj": [1.8, 2.0, 2.3, 2.1, 1.9, 2.2]})
    expected = median_interval([1.8, 2.0, 2.3, 2.1, 1.9, 2.2])
    assert plots.energy_interval(row) == (expected.low_us, expected.high_us, expected.level)
    assert plots.energy_interval(pd.Series({"energy_mj": 2.0, "energy_samples_mj": [2.0]})) is None
    given = pd.Series({"energy_mj": 2.0, "energy_ci_low_mj": 1.5, "energy_ci_high_mj": 2.5, "energy_ci_level": 0.9})
    assert plots.energy_interval(given) == (1.5, 2.5, 0.9)


def test_energy_intervals_draw_simulated_hollow_and_skip_rows_without_energy():
    table = variant_table(2, 2)
    ax = plots.energy_intervals(table)
    with_energy = table[table["energy_mj"].notna()]
    markers = [line for line in ax.get_lines() if line.get_marker() in ("o", "^", "s", "D")]  # not the caps
    assert len(markers) == len(with_energy)
    for line, (_, row) in zip(markers, with_energy.iterrows()):
        assert line.get_xdata()[0] == pytest.approx(row["energy_mj"])
        assert (line.get_markerfacecolor() == "white") == (row["energy_source"] != "measured")
    assert [t.get_text() for t in ax.get_yticklabels()] == list(with_energy["id"])


def test_trace_lines_plot_one_channel_per_run_with_its_unit():
    traces = pd.DataFrame({"t_s": [0, 1, 2, 0, 1, 2], "channel": ["battery temperature"] * 6,
                           "value": [30.0, 30.5, 31.0, 29.0, 29.2, 29.9], "unit": ["°C"] * 6,
                           "run_id": ["a", "a", "a", "b", "b", "b"]})
    ax = plots.trace_lines(traces, "battery temperature")
    assert len(ax.get_lines()) == 2 and ax.get_ylabel() == "battery temperature (°C)"
    assert list(ax.get_lines()[1].get_ydata()) == [29.0, 29.2, 29.9]


def test_effects_heatmap_shows_the_strongest_level_per_hyperparameter_and_property():
    tests = pd.DataFrame({"hyperparameter": ["filters", "filters", "filters"], "level": ["8", "64", "8"],
                          "property": ["latency_ms", "latency_ms", "accuracy"], "cliffs_delta": [-0.4, 0.9, 0.1]})
    grid = plots.strongest_effects(tests)
    assert grid.loc["filters", "latency_ms"] == 0.9 and grid.loc["filters", "accuracy"] == 0.1
    ax = plots.effects_heatmap(effects_tests(variant_table(4, 1)))
    assert ax.images and ax.images[0].get_clim() == (-1.0, 1.0)


def test_rank_agreement_ranks_configurations_under_fp32_and_the_variant():
    rows = []
    for i, (fp32, int8) in enumerate([(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)]):  # int8 reverses the order
        rows += [{"trained_id": f"t{i}", "device_model": "m", "config": "cpu/1t", "variant": "fp32", "latency_ms": fp32},
                 {"trained_id": f"t{i}", "device_model": "m", "config": "cpu/1t", "variant": "int8", "latency_ms": int8}]
    table = pd.DataFrame(rows)
    pairs = plots.rank_pairs(table, "latency_ms", "int8")
    assert list(pairs["baseline_rank"]) == [1, 2, 3] and list(pairs["variant_rank"]) == [3, 2, 1]
    ax = plots.rank_agreement(table, "latency_ms", "int8")
    assert "Kendall τ = -1.00 over 3 configurations" in ax.get_title()
