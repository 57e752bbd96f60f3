"""The `edgebench` command: one entry point, subcommands registered by name and imported lazily.

Each subcommand module defines `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`.
Heavy libraries (TensorFlow, pandas) are imported inside `run`, never at module import, so
`edgebench --help` and `edgebench devices` start fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

# name -> (module, one-line help). Help lives here so `--help` imports no subcommand module.
COMMANDS: dict[str, tuple[str, str]] = {
    "push-and-run": ("edgebench.cli.push_and_run", "Deploy models to targets, run the harness, store and print results."),
    "profile-battery": ("edgebench.cli.profile_battery_cmd",
                        "Energy per inference from a device's fuel gauge (battery protocol, 95%% CI)."),
    "train": ("edgebench.cli.train_cmd",
              "Train one model of a study spec (content-addressed; reused if already trained)."),
    "optimize": ("edgebench.cli.optimize_cmd",
                 "Prune, 2:4-prune, cluster or quantization-aware-train a trained model."),
    "convert": ("edgebench.cli.convert_cmd",
                "Convert trained/optimized models to .tflite and validate them on this host."),
    "tune": ("edgebench.cli.tune_cmd", "Tune a study spec's hyperparameters with Optuna (resumable)."),
    "study": ("edgebench.cli.study_cmd",
              "study run: train, tune, optimize, convert, measure and report a whole study spec."),
    "inspect": ("edgebench.cli.inspect_cmd", "Read a .tflite model, harness output or captured device/tool output."),
    "results": ("edgebench.cli.results_cmd", "List and export stored results; trace a run back to its training (lineage)."),
    "harness": ("edgebench.cli.harness_cmd", "Build the native on-device harness."),
    "devices": ("edgebench.cli.devices_cmd", "List attached targets (this host and adb devices)."),
    "virtual-device": ("edgebench.cli.virtual_device_cmd",
                       "Start, stop, list virtual adb devices (sandboxed phones on this host); inject faults; read energy truth."),
    "doctor": ("edgebench.cli.doctor_cmd", "Check a target up front: state, run folder, space, harness, runtime."),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgebench",
        description="Measure what a model costs on the device: latency and battery, with provenance.",
    )
    parser.add_argument("--workspace", metavar="DIR", default=None,
                        help="folder for results, builds and run folders (default: $EDGEBENCH_WORKSPACE or ./edgebench-work)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _command_parser(name: str) -> tuple[argparse.ArgumentParser, object]:
    module_name, help_text = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"edgebench {name}", description=help_text.replace("%%", "%"))  # help= is %-formatted, description is not
    module.add_arguments(parser)  # type: ignore[attr-defined]
    return parser, module


def main(argv: Sequence[str] | None = None) -> int:
    from edgebench.errors import EdgebenchError

    argv = list(sys.argv[1:] if argv is None else argv)
    top = build_parser()
    # Split global options from the subcommand and its own arguments.
    top_args, rest = top.parse_known_args(argv)
    if top_args.command is None:
        top.print_help()
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    index = rest.index(top_args.command) if top_args.command in rest else None
    sub_argv = rest[index + 1:] if index is not None else rest
    parser, module = _command_parser(top_args.command)
    args = parser.parse_args(sub_argv)
    args.workspace = top_args.workspace
    args.debug = top_args.debug
    try:
        return int(module.run(args))  # type: ignore[attr-defined]
    except EdgebenchError as exc:
        if top_args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `edgebench ... | head`: the reader left; not an error worth a traceback.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
