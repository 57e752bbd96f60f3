"""`edgebench perfmodel fit | evaluate | predict | transfer | suggest`: performance models of on-device
latency and energy, learned from measured configurations and transferred to new devices.

Each subcommand lives in its own module (cli/perfmodel_fit.py: fit, evaluate, predict;
cli/perfmodel_transfer.py: transfer, suggest) with `add_<name>_arguments(parser)` and `run_<name>(args)`.
"""
from __future__ import annotations

import argparse
import importlib

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "fit": ("edgebench.cli.perfmodel_fit", "fit a model of one measure and save it under the workspace"),
    "evaluate": ("edgebench.cli.perfmodel_fit",
                 "repeated cross-validation of each learner: MAPE, NMSE and the share within ±10 %"),
    "predict": ("edgebench.cli.perfmodel_fit",
                "predict a measure for configurations with a saved model (flags those outside its feature space)"),
    "transfer": ("edgebench.cli.perfmodel_transfer",
                 "transfer a model from a source to a target environment: dm, lms, nlms, gs beside scratch"),
    "suggest": ("edgebench.cli.perfmodel_transfer",
                "which configurations to measure next on a new device, as a plan push-and-run can take"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("SOURCE is a table file (CSV, Parquet or whitespace-separated text; name --options and "
                     "--measure) or a store selector: session=S, device=D, study=S, joined by commas. "
                     "See README: Performance models.")
    sub = parser.add_subparsers(dest="perfmodel_command", metavar="SUBCOMMAND", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        getattr(module, f"add_{name}_arguments")(sub.add_parser(name, help=help_text.replace("%", "%%"), description=help_text))


def run(args: argparse.Namespace) -> int:
    module_name, _ = SUBCOMMANDS[args.perfmodel_command]
    return int(getattr(importlib.import_module(module_name), f"run_{args.perfmodel_command}")(args))
