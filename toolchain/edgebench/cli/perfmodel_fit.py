"""`edgebench perfmodel fit | evaluate | predict`: fit a performance model of one measure and save it under
the workspace, cross-validate the learners, and predict with a saved model (flagging configurations
outside its feature space). scikit-learn and pandas load inside `run_*`, never for `--help`."""
from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from edgebench.errors import UsageError
from edgebench.perfmodel.learners import DEFAULT_LEARNER, LEARNERS  # scikit-learn loads only when fitting

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from edgebench.perfmodel.evaluation import LearnerScore, Progress
    from edgebench.perfmodel.prediction import Prediction
    from edgebench.perfmodel.saved import SavedPerfModel
    from edgebench.perfmodel.table import PerfTable

SHOWN_ROWS = 40  # predictions printed in the table; -o FILE.csv or --json has every row
SHOWN_REASONS = 5


def _add_store_flags(parser: argparse.ArgumentParser) -> None:
    """--session/--device/--study: the store's rows, as the selector session=S,device=D,study=S spells them."""
    for key, example in (("session", "a push-and-run or lab session"), ("device", "a device id, id prefix or model name"),
                         ("study", "a study folder or name")):
        parser.add_argument(f"--{key}", metavar=key[0].upper(), default=None,
                            help=f"rows from the results store: {example} (combine to narrow; instead of SOURCE)")


def _add_source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SOURCE", nargs="?", default=None,
                        help="a table file (CSV, Parquet or whitespace-separated text) or a store selector "
                             "session=S,device=D,study=S (or give --session/--device/--study)")
    _add_store_flags(parser)
    parser.add_argument("--measure", metavar="COL", help="the measured column to learn (store default: "
                        "latency_median_ms)")
    parser.add_argument("--options", metavar="A,B,...", type=option_names,
                        help="the option (feature) columns, comma-separated (store: default the model features "
                             "and run options)")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="seed of the learners and the folds (default 0)")
    parser.add_argument("--json", action="store_true", help="print the records as JSON only")


def add_fit_arguments(parser: argparse.ArgumentParser) -> None:
    _add_source_arguments(parser)
    parser.add_argument("--learner", choices=LEARNERS, default=DEFAULT_LEARNER,
                        help=f"the learner (default {DEFAULT_LEARNER})")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--name", metavar="N", help="save under <workspace>/perfmodels/N/ (default: from the "
                       "source, measure and learner)")
    where.add_argument("-o", "--output", metavar="DIR", help="save into this folder instead")


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    _add_source_arguments(parser)
    parser.add_argument("--learners", metavar="L,L,...", type=option_names, default=list(LEARNERS),
                        help=f"learners to compare (default {','.join(LEARNERS)})")
    parser.add_argument("--folds", type=int, default=5, metavar="K", help="folds per repeat (default 5; "
                        "fewer when the table is small, said in the output)")
    parser.add_argument("--repeats", type=int, default=3, metavar="R",
                        help="repeats of the K-fold split, each shuffled differently (default 3)")


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL_DIR",
                        help="a model folder made by `perfmodel fit` (or its name under <workspace>/perfmodels/)")
    parser.add_argument("source", metavar="SOURCE", nargs="?", default=None,
                        help="configurations with the model's option columns (a table file or a store "
                             "selector); when the measure column is there too, the model is scored against it")
    _add_store_flags(parser)
    parser.add_argument("--json", action="store_true", help="print the prediction records as JSON only")
    parser.add_argument("-o", "--output", metavar="FILE.csv", help="also write every prediction to a CSV file")


def run_fit(args: argparse.Namespace) -> int:
    from edgebench.perfmodel.saved import default_model_dir, default_model_name, fit_model, save_model
    from edgebench.workspace import Workspace

    table = _table(args)
    with _progress(f"fit {args.learner}: 5-fold cross-validation") as progress:
        model = fit_model(table, args.learner, args.seed, progress=progress)
    directory = (Path(args.output) if args.output else
                 default_model_dir(Workspace.resolve(args.workspace).root,
                                   args.name or default_model_name(table, args.learner)))
    model = save_model(model, directory)
    if args.json:
        print(json.dumps(model.metadata() | {"path": str(model.path)}, indent=1))
        return 0
    _print_model(model)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from edgebench.perfmodel.evaluation import evaluate

    table = _table(args)
    with _progress(f"evaluate {table.rows} rows") as progress:
        scores = evaluate(table, args.learners, folds=args.folds, repeats=args.repeats, seed=args.seed,
                          progress=progress)
    if args.json:
        print(json.dumps([s.to_json() for s in scores], indent=1))
        return 0
    _print_scores(table, scores)
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from edgebench.perfmodel.prediction import measured_mape_pct, outside_count, predict
    from edgebench.perfmodel.saved import load_model

    if args.output and Path(args.output).suffix.lower() != ".csv":
        raise UsageError(f"-o {args.output}: expected a .csv file name for the predictions")
    model = load_model(_model_dir(args.model, args.workspace))
    source = source_text(args)
    rows = _prediction_rows(source, model, args.workspace)
    predictions = predict(model, rows, source=source)
    _warn_outside(predictions)  # on stderr, with --json too: never silent
    devices = getattr(rows, "device_ids", ())  # store rows name their devices; a file's do not
    if model.device_ids and devices and set(devices) != set(model.device_ids):
        _stderr().print(f"[yellow]note:[/] the model was fitted on device(s) {', '.join(model.device_ids)}; "
                        f"these rows are from {', '.join(devices)}")
    if args.output:
        _write_csv(Path(args.output), predictions)
    if args.json:
        print(json.dumps([p.to_json() for p in predictions], indent=1))
        return 0
    from edgebench.cli.console import wide_console

    console = wide_console()
    _print_predictions(console, model, predictions)
    mape = measured_mape_pct(predictions)
    if mape is not None:
        measured = [p for p in predictions if p.measured_value is not None]
        inside = measured_mape_pct(measured, inside_only=True)
        outside = outside_count(measured)
        console.print(f"MAPE against the measured {model.measure}: {mape:.1f} % over {len(measured)} measured rows"
                      + (f" ({inside:.1f} % over the {len(measured) - outside} inside the feature space)"
                         if outside and inside is not None else ""))
    if args.output:
        console.print(f"wrote {len(predictions)} predictions to {args.output}")
    return 0


def option_names(text: str) -> list[str]:
    """--options A,B,C (and --learners): the names, stripped; none at all is an error."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return names


def _table(args: argparse.Namespace) -> PerfTable:
    from edgebench.perfmodel.sources import resolve_source

    return resolve_source(source_text(args), options=args.options, measure=args.measure, workspace=args.workspace)


def source_text(args: argparse.Namespace) -> str:
    """SOURCE, or the selector the --session/--device/--study flags spell; exactly one of the two."""
    flags = {key: getattr(args, key) for key in ("session", "device", "study") if getattr(args, key, None)}
    if args.source and flags:
        raise UsageError(f"give SOURCE ({args.source}) or --{'/--'.join(flags)}, not both")
    if not args.source and not flags:
        raise UsageError("expected SOURCE (a table file, or a store selector such as session=S) or "
                         "--session S / --device D / --study S")
    if flags and any("," in v for v in flags.values()):
        raise UsageError(f"--{'/--'.join(flags)}: one value each, without commas; got {flags}")
    return str(args.source) if args.source else ",".join(f"{k}={v}" for k, v in flags.items())


def _model_dir(text: str, workspace: str | None) -> Path:
    """MODEL_DIR as given, else a model name under <workspace>/perfmodels/ (an error lists the names)."""
    from edgebench.perfmodel.saved import META_FILE, MODELS_FOLDER
    from edgebench.workspace import Workspace

    path = Path(text)
    if path.exists() or "/" in text or "\\" in text:
        return path
    models = Workspace.resolve(workspace).root / MODELS_FOLDER
    if (models / text).exists():
        return models / text
    names = sorted(p.parent.name for p in models.glob(f"*/{META_FILE}")) if models.is_dir() else []
    raise UsageError(f"{text}: expected a model folder or the name of a model under {models}; "
                     + (f"the models there are: {', '.join(names)}" if names else "there are none yet "
                        "(edgebench perfmodel fit ... --name N saves one)"))


def _prediction_rows(source: str, model: SavedPerfModel, workspace: str | None) -> PerfTable | pd.DataFrame:
    """SOURCE's rows: a store selector's table (with the model's options and measure), or a file's frame
    (`predict` checks its option columns and reads the measure where there is one)."""
    from edgebench.perfmodel.sources import parse_selector, resolve_source
    from edgebench.perfmodel.table import read_config_file

    if parse_selector(source) is not None:
        return resolve_source(source, options=model.options, measure=model.measure, workspace=workspace)
    return read_config_file(source)


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Progress]:
    """A bar on stderr while the learners are fitted (transient: gone when done, absent off a terminal)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=_stderr(), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(learner: str, done: int, total: int) -> None:
            bar.update(task, description=f"{label} · {learner}", completed=done, total=total)

        yield update


def _stderr() -> Console:
    from edgebench.cli.console import wide_console

    return wide_console(stderr=True)


def _warn_outside(predictions: Sequence[Prediction]) -> None:
    outside = [p for p in predictions if p.outside_space]
    if not outside:
        return
    console = _stderr()
    console.print(f"[bold red]WARNING:[/] {len(outside)} of {len(predictions)} configurations lie OUTSIDE the "
                  "model's feature space: their predictions are given, but the fitted rows do not support them "
                  "(marked in the table and in --json outside_space). First reasons:", soft_wrap=True)
    for p in outside[:SHOWN_REASONS]:
        console.print(f"  row {p.row_id}: {'; '.join(p.outside_space)}", markup=False, highlight=False)


def _print_model(model: SavedPerfModel) -> None:
    from rich.table import Table

    from edgebench.cli.console import wide_console

    console = wide_console()
    console.print(f"saved {model.learner} model of {model.measure} to {model.path}")
    console.print(f"fitted on {model.rows} rows of {model.source}"
                  + (f" (devices {', '.join(model.device_ids)})" if model.device_ids else "")
                  + f"; rows {model.provenance}")
    console.print(f"MAPE: {model.cv_mape_pct:.1f} % cross-validated ({model.cv_folds}-fold, held-out rows); "
                  f"{model.training_mape_pct:.1f} % on the training rows (optimistic)")
    space = Table(title="feature space (predictions outside it are flagged)")
    for column in ("feature", "min", "max", "levels"):
        space.add_column(column)
    for feature in model.feature_space.features:
        levels = ", ".join(f"{v:g}" for v in feature.levels) if feature.levels is not None else "continuous"
        space.add_row(feature.name, f"{feature.min_value:g}", f"{feature.max_value:g}", levels)
    console.print(space)
    for note in model.notes:
        console.print(f"note: {note}", markup=False)


def _print_scores(table: PerfTable, scores: Sequence[LearnerScore]) -> None:
    from rich.table import Table

    from edgebench.cli.console import wide_console
    from edgebench.perfmodel.evaluation import best

    console = wide_console()
    first = scores[0]
    chosen = best(scores)
    out = Table(title=f"{first.measure}: {first.repeats} × {first.folds}-fold cross-validation over {table.rows} "
                      f"rows of {table.source} (seed {first.seed})")
    for column in ("learner", "MAPE % mean ± sd", "NMSE mean ± sd", "within ±10 % mean ± sd", ""):
        out.add_column(column, justify="left" if column in ("learner", "") else "right")
    for s in scores:
        out.add_row(s.learner, _mean_sd(s.mape_pct_mean, s.mape_pct_sd, "{:.1f}"),
                    _mean_sd(s.nmse_mean, s.nmse_sd, "{:.3g}"),
                    _mean_sd(100 * s.within_10pct_share_mean,
                             None if s.within_10pct_share_sd is None else 100 * s.within_10pct_share_sd, "{:.0f} %"),
                    "[bold green]best[/] (lowest MAPE)" if s is chosen else "")
    console.print(out)
    for note in dict.fromkeys(n for s in scores for n in s.notes):
        console.print(f"note: {note}", markup=False)


def _mean_sd(mean: float, sd: float | None, fmt: str) -> str:
    return fmt.format(mean) + (" ± " + fmt.format(sd) if sd is not None else " (1 repeat: no sd)")


def _print_predictions(console: Console, model: SavedPerfModel, predictions: Sequence[Prediction]) -> None:
    from rich.table import Table

    out = Table(title=f"predicted {model.measure} ({model.learner} model {model.path}; provenance: predicted)")
    for column in ("row", *model.options, f"predicted {model.measure}", "measured", "feature space"):
        out.add_column(column)
    for p in predictions[:SHOWN_ROWS]:
        out.add_row(p.row_id, *(f"{v:g}" for _, v in p.features), f"{p.predicted_value:.4g}",
                    "" if p.measured_value is None else f"{p.measured_value:.4g}",
                    "[red]OUTSIDE[/]" if p.outside_space else "inside")
    console.print(out)
    if len(predictions) > SHOWN_ROWS:
        console.print(f"... {len(predictions) - SHOWN_ROWS} more rows (-o FILE.csv or --json has every row)")


def _write_csv(path: Path, predictions: Sequence[Prediction]) -> None:
    import pandas as pd

    if path.suffix.lower() != ".csv":
        raise UsageError(f"-o {path}: expected a .csv file name for the predictions")
    rows: list[dict[str, Any]] = []
    for p in predictions:
        rows.append({"row_id": p.row_id, **dict(p.features), f"predicted_{p.measure}": p.predicted_value,
                     f"measured_{p.measure}": p.measured_value, "provenance": p.provenance,
                     "outside_space": "; ".join(p.outside_space)})
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
