"""The `edgebench` command: one entry point, subcommands registered by name and imported lazily.

Each subcommand module defines `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`.
Heavy libraries (TensorFlow, pandas) are imported inside `run`, never at module import, so
`edgebench --help` and `edgebench devices` start fast.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any, Sequence

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
    "quantize": ("edgebench.cli.quantize_cmd",
                 "Quantize any float .tflite with litert-quantizer recipes (int8/int4/int16x8/fp16); validate, store."),
    "tune": ("edgebench.cli.tune_cmd", "Tune a study spec's hyperparameters with Optuna (resumable)."),
    "study": ("edgebench.cli.study_cmd",
              "study run: train, tune, optimize, convert, measure and report a whole study spec."),
    "inspect": ("edgebench.cli.inspect_cmd", "Read a .tflite model, harness output or captured device/tool output."),
    "results": ("edgebench.cli.results_cmd", "List and export stored results; trace a run back to its training (lineage)."),
    "pareto": ("edgebench.cli.pareto_cmd",
               "Pareto fronts, hypervolume, frontier probability and attainment of a table, study or session."),
    "compare": ("edgebench.cli.compare_cmd", "Compare two variants, configs or devices of a session: ratio with a CI, verdict, repeats needed."),
    "report": ("edgebench.cli.report_cmd",
               "One self-contained HTML report of a study or session (Pareto, latency, energy, effects, lineage)."),
    "effects": ("edgebench.cli.effects_cmd", "Hyperparameter effects, top-k spread and rank changes under optimization."),
    "sensitivity": ("edgebench.cli.sensitivity_cmd", "Hyperparameter sensitivity under pruning (Wasserstein, Jensen-Shannon, CIs)."),
    "perfmodel": ("edgebench.cli.perfmodel_cmd",
                  "Performance models: predict latency and energy, evaluate them, transfer them to new devices."),
    "policy": ("edgebench.cli.policy_cmd",
               "A runtime variant policy: export it from measurements, check its files, simulate it over a trace."),
    "harness": ("edgebench.cli.harness_cmd", "Build the native on-device harness."),
    "devices": ("edgebench.cli.devices_cmd", "List attached targets (this host and adb devices)."),
    "virtual-device": ("edgebench.cli.virtual_device_cmd",
                       "Start, stop, list virtual adb devices (sandboxed phones on this host); inject faults; read energy truth."),
    "lab": ("edgebench.cli.lab_cmd",
            "A phone lab of several hosts on one PostgreSQL store: submit sessions, run workers, watch, cancel, retry."),
    "doctor": ("edgebench.cli.doctor_cmd", "Check a target up front: state, run folder, space, harness, runtime."),
}


# Commands that load TensorFlow, LiteRT's Python bindings or the converter, whose C++ chatter
# (oneDNN, CUDA, absl, `fully_quantize: ...`) is held back unless --verbose (edgebench/cli/quiet.py).
CHATTY_COMMANDS = frozenset({"train", "optimize", "convert", "tune", "study"})


def _add_global_options(parser: argparse._ActionsContainer, *, suppress: bool = False) -> None:
    # On a command's own parser the defaults are SUPPRESS, so options given before the command stay.
    default: dict[str, Any] = {"default": argparse.SUPPRESS} if suppress else {}
    parser.add_argument("--workspace", metavar="DIR", **(default or {"default": None}),
                        help="folder for results, builds and run folders (default: $EDGEBENCH_WORKSPACE or ./edgebench-work)")
    parser.add_argument("--store", metavar="URL", **(default or {"default": None}),
                        help="results store: sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB "
                        "(default: $EDGEBENCH_STORE, else results.sqlite in the workspace)")
    parser.add_argument("--debug", action="store_true", **default, help="show tracebacks for errors")
    parser.add_argument("--verbose", action="store_true", **default,
                        help="also show TensorFlow's, LiteRT's and the converter's own log lines (hidden by default)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgebench",
        description="Measure what a model costs on the device: latency and battery, with provenance.",
    )
    _add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_module_name, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _command_parser(name: str) -> tuple[argparse.ArgumentParser, object]:
    module_name, help_text = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"edgebench {name}", description=help_text.replace("%%", "%"))  # help= is %-formatted, description is not
    module.add_arguments(parser)
    for each in _with_nested(parser):  # `results list ... --workspace W` as well as `convert ... --verbose`
        _add_global_options(each.add_argument_group("global options (also accepted before the command)"),
                            suppress=True)
    return parser, module


def _with_nested(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parser and every sub-command parser below it (e.g. `results list`, `virtual-device start`)."""
    nested = [p for action in parser._actions if isinstance(action, argparse._SubParsersAction)
              for p in dict.fromkeys(action.choices.values())]
    return [parser] + [q for p in nested for q in _with_nested(p)]


def main(argv: Sequence[str] | None = None) -> int:
    from edgebench.errors import EdgebenchError, UsageError
    from edgebench.workspace import STORE_ENV

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
    for name in ("workspace", "store", "debug", "verbose"):
        if not hasattr(args, name):
            setattr(args, name, getattr(top_args, name))
    if args.verbose:
        # Read by edgebench.zoo._tf before TensorFlow's first import: keep its own INFO lines too.
        os.environ["EDGEBENCH_VERBOSE"] = "1"
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
    noise = None
    saved_store = os.environ.get(STORE_ENV)
    if args.store is not None:
        # Every command reads the store through the workspace (Workspace.results_store), and so do the
        # processes it starts; restored afterwards for callers of main() in one process (tests).
        os.environ[STORE_ENV] = args.store
    try:
        if top_args.command in CHATTY_COMMANDS and not args.verbose:
            from edgebench.cli.quiet import LibraryNoiseFilter

            with LibraryNoiseFilter() as noise:
                code = int(module.run(args))  # type: ignore[attr-defined]
        else:
            code = int(module.run(args))  # type: ignore[attr-defined]
        if code != 0 and noise is not None:
            noise.replay(sys.stderr)
        return code
    except EdgebenchError as exc:
        if noise is not None and not isinstance(exc, UsageError):  # a bad flag is not explained by library lines
            noise.replay(sys.stderr)
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `edgebench ... | head`: the reader left; not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:
        if noise is not None:
            noise.replay(sys.stderr)  # the library's lines may explain the traceback that follows
        raise
    finally:
        if saved_store is None:
            os.environ.pop(STORE_ENV, None)
        else:
            os.environ[STORE_ENV] = saved_store


if __name__ == "__main__":
    sys.exit(main())
