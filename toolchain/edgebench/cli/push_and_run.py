"""`edgebench push-and-run`: models in, measured numbers out."""
from __future__ import annotations

import argparse
import json
import sys

from edgebench.protocols import PRESETS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs="+", metavar="MODEL", help=".tflite files to measure")
    parser.add_argument("--target", default=None,
                        help="local, an adb serial, a comma-separated list, or all "
                             "(default: $ANDROID_SERIAL, else local)")
    parser.add_argument("--adb", default=None, metavar="HOST:PORT",
                        help="adb server to use (default: $ADB_SERVER_SOCKET, else 127.0.0.1:5037)")
    parser.add_argument("--protocol", default="standard", choices=list(PRESETS),
                        help="measurement preset (default: standard); flags below override its values")
    parser.add_argument("--threads", default="1", help="comma-separated thread counts, e.g. 1,2,4 (default: 1)")
    parser.add_argument("--accel", default="cpu", help="comma-separated accelerators: cpu,gpu,npu (default: cpu)")
    parser.add_argument("--cpu-mask", default=None, metavar="MASK",
                        help="pin the runner: little, big, prime, all (from each device's clusters) or hex, e.g. f0")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per repeat (lower bound)")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up runs per repeat")
    parser.add_argument("--min-seconds", type=float, default=None, help="minimum timed seconds per repeat")
    parser.add_argument("--repeats", type=int, default=None, help="process-level repeats per model and config")
    parser.add_argument("--run-delay-ms", type=float, default=None, metavar="MS",
                        help="pause between timed runs, for a rate-limited workload (default 0: back to back)")
    parser.add_argument("--cooldown", default=None, metavar="S|auto", help="pause between runs: seconds or auto")
    parser.add_argument("--resume", nargs="?", const="latest", default=None, metavar="SESSION",
                        help="continue a session (default: the latest), skipping runs already stored")
    parser.add_argument("--runtime", default=None, metavar="DIR",
                        help="folder with the device's libLiteRt.so and accelerator libraries (default: the "
                             "runtime edgebench knows for the device's ABI)")
    parser.add_argument("--engine", choices=("runner", "benchmark_model"), default="runner",
                        help="runner: edgebench's harness (default); benchmark_model: the official binary")
    parser.add_argument("--engine-binary", default=None, metavar="PATH",
                        help="the benchmark_model binary built for the device (with --engine benchmark_model)")
    parser.add_argument("--verify", action="store_true",
                        help="re-hash files already on the device instead of trusting what edgebench pushed")
    parser.add_argument("--keep", action="store_true", help="keep run folders on the target")
    parser.add_argument("--batch", action=argparse.BooleanOptionalAction, default=True,
                        help="run each device's runs in slices, many per device call, each stored as it arrives "
                             "(default); --no-batch: one device call per run")
    parser.add_argument("--profile-ops", action="store_true",
                        help="also time every op after the timed loop (kept with the pulled run folder)")
    parser.add_argument("--report", default=None, metavar="FILE.html", help="also write an HTML report")
    parser.add_argument("--reconnect-timeout", type=float, default=120.0, metavar="S",
                        help="how long to wait for a device that dropped before giving up on it (default 120)")
    parser.add_argument("--db-outage", type=float, default=120.0, metavar="S",
                        help="how long the results store may stay unreachable mid-session (default 120): the "
                             "devices go on measuring, runs wait in the workspace's outbox; then it stops")
    parser.add_argument("--json", action="store_true", help="print one JSON array of run records")
    parser.add_argument("--check-outputs", action=argparse.BooleanOptionalAction, default=None,
                        help="after each run, compare the model's outputs on the device with a reference run on "
                             "CPU on the same seeded inputs (cosine, max abs diff, NaN/Inf, collapse); "
                             "default: on for the standard and mlperf protocols, off for smoke")
    parser.add_argument("--reference", default=None, metavar="MODEL",
                        help="the .tflite to compare outputs with (default: the float parent edgebench made the "
                             "model from, else the model itself on CPU)")
    add_input_shape_argument(parser)


def add_input_shape_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input-shape", action="append", default=None, metavar="NAME=D0,D1,...|default",
                        dest="input_shapes",
                        help="shape to run an input at (repeat per input; NAME as `edgebench inspect` lists "
                             "it); `default` accepts the file's placeholder shapes. Needed for inputs with "
                             "dynamic (-1) dimensions other than a leading batch")


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    import signal

    from edgebench.cli.console import wide_console

    from edgebench.api import push_and_run
    from edgebench.bench.plan import parse_accelerators, parse_int_list
    from edgebench.bench.table import comparison_table
    from edgebench.cli.progress import SessionProgress

    threads = parse_int_list(args.threads, "--threads")
    accelerators = parse_accelerators(args.accel)
    # With --json, stdout carries only the JSON; progress and the table go to stderr.
    console = wide_console(stderr=args.json, min_width=180)  # logs and CI: no folding of model names
    # SIGTERM (a CI timeout, `kill`) stops as cleanly as Ctrl-C: harnesses killed, session resumable.
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with SessionProgress(console) as progress:
            result = push_and_run(
                args.models, target=args.target, protocol=args.protocol, threads=threads,
                accelerators=accelerators, cpu_mask=args.cpu_mask, runs=args.runs, warmup=args.warmup,
                min_seconds=args.min_seconds, repeats=args.repeats, cooldown=args.cooldown,
                run_delay_ms=args.run_delay_ms, resume=args.resume,
                keep=args.keep, workspace=args.workspace, on_stage=progress.stage, on_record=progress.finished,
                on_plan=progress.plan, profile_ops=args.profile_ops, adb=args.adb, runtime=args.runtime,
                reconnect_timeout_s=args.reconnect_timeout, db_outage_s=args.db_outage, verify=args.verify,
                engine=args.engine,
                engine_binary=args.engine_binary, input_shapes=args.input_shapes,
                check_outputs=args.check_outputs, reference=args.reference, batch=args.batch)
    finally:
        signal.signal(signal.SIGTERM, previous)
    for problem in result.model_problems:
        console.print(f"[red]error:[/] {problem.message}")
    for target, why in result.device_problems:
        console.print(f"[red]device {target}:[/] {why}")
    if result.not_run:
        console.print(f"{result.not_run} run(s) were not done or not stored (the device problems above say "
                      f"why); do them later with --resume {result.session}")
    if args.json:
        json.dump([r.to_json() for r in result.records], sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        console.print(comparison_table(result.summaries, title=f"session {result.session}"))
    if args.report:
        from pathlib import Path

        from edgebench.report.html import write_session_report

        console.print(f"report written to {write_session_report(result, Path(args.report))}")
    for r in result.records:
        if r.status == "failed":
            console.print(f"[red]failed[/] {r.model} · {r.config.label()} · {r.target} · repeat {r.repeat}: {r.error}")
    if result.skipped_resumed:
        console.print(f"resumed session {result.session}: {result.skipped_resumed} runs already stored were skipped")
    if not result.ok:
        console.print(f"some runs failed or were not done; re-run them with: edgebench push-and-run ... "
                      f"--resume {result.session}")
    return 0 if result.ok else 1
