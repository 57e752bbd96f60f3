"""`edgebench sensitivity (--study S | --table FILE)`: how pruning changes each hyperparameter's profile and
influence (Wasserstein and Jensen-Shannon with one-sided upper bounds, influence change with bootstrap CIs).
pandas/scipy load in `run`."""
from __future__ import annotations

import argparse
import json

HELP = "Hyperparameter sensitivity under pruning: profile distances and influence changes with CIs."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from edgebench.cli.effects_cmd import add_source_arguments

    add_source_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from edgebench.analyze.pruning_sensitivity import DEFAULT_DRAWS, sensitivity
    from edgebench.cli.console import wide_console
    from edgebench.cli.effects_cmd import load_table, print_not_checked, print_table, with_ci

    result = sensitivity(load_table(args), args.properties, seed=args.seed, confidence=args.confidence,
                         draws=args.draws if args.draws is not None else DEFAULT_DRAWS)
    if args.json:
        print(json.dumps(result.to_json(), indent=1))
        return 0
    console = wide_console()
    distances = result.distances
    shown = distances[distances["status"] == "checked"]
    shown = with_ci(with_ci(shown, "wasserstein", "wasserstein_ci_low", "wasserstein_ci_high"),
                    "jensen_shannon", "jensen_shannon_ci_low", "jensen_shannon_ci_high")
    print_table(console, f"profile distance pruned vs unpruned [0, {result.confidence:.0%} upper bound] from"
                f" {result.draws} bootstrap resamples over configurations", shown,
                ["variant", "base_variant", "hyperparameter", "property", "n_configurations", "wasserstein",
                 "jensen_shannon"])
    influence = result.influence_changes[result.influence_changes["status"] == "checked"]
    influence = with_ci(with_ci(with_ci(influence, "change", "change_ci_low", "change_ci_high"),
                                "trend_base", "trend_base_ci_low", "trend_base_ci_high"),
                        "trend_pruned", "trend_pruned_ci_low", "trend_pruned_ci_high")
    print_table(console, "influence (Kruskal-Wallis epsilon squared over the levels) before and after pruning;"
                " trend = Spearman rho", influence,
                ["variant", "hyperparameter", "property", "influence_base", "influence_pruned", "change",
                 "rank_base", "rank_pruned", "trend_base", "trend_pruned", "verdict"])
    print_not_checked(console, [distances])
    return 0
