"""`edgebench lab`: a phone lab of several hosts on one PostgreSQL store (submit, worker, status, cancel, retry)."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any

from edgebench.protocols import PRESETS

STALL_S = 30.0
HEARTBEAT_S = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("Every host uses the same --store postgresql+psycopg://... (or $EDGEBENCH_STORE); "
                     "scripts/lab-db.sh setup creates one. See README: Running a phone lab.")
    sub = parser.add_subparsers(dest="lab_command", metavar="SUBCOMMAND", required=True)
    submit = sub.add_parser("submit", help="queue a measurement session: one job per model × config × repeat × device")
    submit.add_argument("models", nargs="+", metavar="MODEL", help=".tflite files to measure")
    submit.add_argument("--devices", action="append", default=None, metavar="KEY=VALUE[,KEY=VALUE]",
                        help="which live devices: serial=, model=, abi=, host=, device_id= (all of one value must "
                             "match; repeat the flag for alternatives; default: every live device)")
    submit.add_argument("--protocol", default="standard", choices=list(PRESETS), help="measurement preset (default: standard)")
    submit.add_argument("--threads", default="1", help="comma-separated thread counts (default: 1)")
    submit.add_argument("--accel", default="cpu", help="comma-separated accelerators: cpu,gpu,npu (default: cpu)")
    submit.add_argument("--cpu-mask", default=None, metavar="MASK", help="little, big, prime, all or hex")
    submit.add_argument("--runs", type=int, default=None, help="timed runs per repeat (lower bound)")
    submit.add_argument("--warmup", type=int, default=None, help="warm-up runs per repeat")
    submit.add_argument("--min-seconds", type=float, default=None, help="minimum timed seconds per repeat")
    submit.add_argument("--repeats", type=int, default=None, help="process-level repeats (one job each)")
    submit.add_argument("--run-delay-ms", type=float, default=None, metavar="MS", help="pause between timed runs")
    submit.add_argument("--cooldown", default=None, metavar="S|auto", help="pause between runs: seconds or auto")
    submit.add_argument("--input-shape", action="append", default=None, dest="input_shapes",
                        metavar="NAME=D0,D1,...|default", help="shape for a dynamic input (as push-and-run)")
    submit.add_argument("--stall-timeout", type=float, default=STALL_S, metavar="S",
                        help=f"devices whose worker was silent longer are not live (default {STALL_S:g})")
    worker = sub.add_parser("worker", help="serve this host's devices: take their jobs from the queue and run them")
    worker.add_argument("--adb", action="append", default=None, metavar="HOST:PORT",
                        help="adb server(s) whose devices to serve (repeatable; default: $ADB_SERVER_SOCKET, "
                             "else 127.0.0.1:5037)")
    worker.add_argument("--devices", default=None, metavar="SERIALS",
                        help="comma-separated serials to serve (default: every ready device of the servers)")
    worker.add_argument("--heartbeat", type=float, default=HEARTBEAT_S, metavar="S",
                        help=f"seconds between this worker's heartbeats (default {HEARTBEAT_S:g})")
    worker.add_argument("--stall-timeout", type=float, default=STALL_S, metavar="S",
                        help=f"a worker silent this long is dead and its jobs are re-queued (default {STALL_S:g}; "
                             "every host should agree)")
    worker.add_argument("--db-outage", type=float, default=120.0, metavar="S",
                        help="how long to wait for a lost database before stopping (default 120)")
    worker.add_argument("--reconnect-timeout", type=float, default=120.0, metavar="S",
                        help="how long to wait for a device that dropped (default 120)")
    worker.add_argument("--until-idle", action="store_true",
                        help="stop once no job waits for these devices (CI, batch runs); default: serve until Ctrl-C")
    status = sub.add_parser("status", help="devices (host, state, job, heartbeat) and sessions (job counts)")
    status.add_argument("--session", default=None, metavar="S", help="only this session")
    status.add_argument("--stall-timeout", type=float, default=STALL_S, metavar="S",
                        help=f"devices silent longer show as gone (default {STALL_S:g})")
    status.add_argument("--json", action="store_true", help="print JSON")
    cancel = sub.add_parser("cancel", help="cancel a session's waiting jobs and stop its running ones")
    cancel.add_argument("session", metavar="SESSION")
    retry = sub.add_parser("retry", help="put a session's failed jobs back into the queue")
    retry.add_argument("session", metavar="SESSION")
    retry.add_argument("--failed", action="store_true", required=True, help="the failed jobs (required)")


def run(args: argparse.Namespace) -> int:
    from edgebench.lab.queue import open_lab
    from edgebench.store import ResultsStore
    from edgebench.workspace import STORE_ENV

    url = os.environ.get(STORE_ENV)
    if url:
        ResultsStore(url).close()  # a store of another schema version is refused before the lab adds tables
    lab = open_lab(url)
    handler = {"submit": _submit, "worker": _worker, "status": _status, "cancel": _cancel, "retry": _retry}
    return handler[args.lab_command](lab, args)


def _submit(lab: Any, args: argparse.Namespace) -> int:
    from edgebench.bench.plan import parse_accelerators, parse_int_list
    from edgebench.lab.submit import submit
    from edgebench.store import ResultsStore
    from edgebench.workspace import Workspace

    overrides = {k: getattr(args, k) for k in ("runs", "warmup", "min_seconds", "repeats", "cooldown", "run_delay_ms")
                 if getattr(args, k) is not None}
    done = submit(lab, ResultsStore(Workspace.resolve(args.workspace).results_store), args.models,
                  protocol=args.protocol, overrides=overrides, threads=parse_int_list(args.threads, "--threads"),
                  accelerators=parse_accelerators(args.accel), cpu_mask=args.cpu_mask, input_shapes=args.input_shapes,
                  device_conditions=args.devices or [], stall_s=args.stall_timeout,
                  command="edgebench lab " + " ".join(sys.argv[2:]))
    print(f"session {done.session}: {done.jobs} job(s) on {len(done.serials)} device(s): {', '.join(done.serials)}",
          file=sys.stderr)
    print(done.session)
    return 0


def _worker(lab: Any, args: argparse.Namespace) -> int:
    from edgebench.bench.execute import deploy_harness_factory
    from edgebench.lab.discover import discover
    from edgebench.lab.jobs import JobRunner, TimedStore
    from edgebench.lab.worker import LabWorker, WorkerSettings, check_settings, worker_name
    from edgebench.protocols import MAX_SECONDS, check_number
    from edgebench.store import BufferedStore
    from edgebench.workspace import Workspace

    if not args.verbose:  # the worker says when the database goes and comes back; the libraries' lines are noise
        for name in ("procrastinate", "psycopg.pool", "asyncio"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    settings = check_settings(WorkerSettings(heartbeat_s=args.heartbeat, stall_s=args.stall_timeout,
                                             db_outage_s=args.db_outage, until_idle=args.until_idle))
    check_number("--reconnect-timeout", args.reconnect_timeout, low=0, high=MAX_SECONDS)
    serials = [s.strip() for s in args.devices.split(",") if s.strip()] if args.devices else None
    name = worker_name()
    served = discover(args.adb or [None], serials, name)
    ws = Workspace.resolve(args.workspace)

    def say(line: str) -> None:
        print(f"[{name}] {line}", file=sys.stderr, flush=True)

    def stage(run: Any, target: str, what: str) -> None:
        say(f"{target} · {run.model.name} · {run.config.label()} · repeat {run.repeat}: {what}")

    def stored(record: Any) -> None:
        say(f"{record.target} · {record.model} · {record.config.label()} · repeat {record.repeat}: stored {record.status}")

    results = TimedStore(ws.results_store)
    outbox = BufferedStore(results, ws, db_outage_s=settings.db_outage_s)
    kept = outbox.flush_outbox()  # what a killed or stopped worker of this workspace measured and kept
    if kept:
        say(f"stored {kept} run(s) an earlier worker kept in {ws.root / 'outbox'}")
    runner = JobRunner(lab=lab, results=results, outbox=outbox, workspace=ws,
                       targets={d.device_id: t for t, d in served}, deploy=deploy_harness_factory(ws),
                       reconnect_timeout_s=args.reconnect_timeout, on_stage=stage, on_record=stored)
    say(f"serving {', '.join(f'{d.serial} ({d.model or d.abi})' for _t, d in served)} on {lab.store.shown}")
    try:
        LabWorker(lab, runner, served, settings, say).run()
        outbox.drain()  # runs still waiting for the store: within the budget, or the error says where they are
    finally:
        outbox.close()
    say("stopped")
    return 0


def _status(lab: Any, args: argparse.Namespace) -> int:
    from edgebench.lab.status import lab_status

    status = lab_status(lab, session=args.session, stall_s=args.stall_timeout)
    if args.json:
        json.dump(status.to_json(), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    from rich.table import Table

    from edgebench.cli.console import wide_console

    console = wide_console(min_width=160)
    devices = Table(title=f"devices on {lab.store.shown}")
    for column in ("host", "device", "model", "state", "job", "session", "last heartbeat"):
        devices.add_column(column)
    for d in status.devices:
        state = d.announced.state if d.alive else f"gone ({d.announced.state})"
        devices.add_row(d.announced.host, d.announced.serial, d.announced.model or d.announced.abi, state,
                        str(d.announced.job_id or ""), d.announced.session or "", f"{d.heartbeat_age_s:.0f} s ago")
    console.print(devices)
    sessions = Table(title="sessions")
    for column in ("session", "submitted", "by", "done", "failed", "running", "waiting", "cancelled"):
        sessions.add_column(column)
    for s in status.sessions:
        j = s.jobs
        sessions.add_row(s.session, s.submitted_at_utc, s.submitted_by, str(j["succeeded"]), str(j["failed"]),
                         str(j["doing"]), str(j["todo"]), str(j["cancelled"] + j["aborted"]))
    console.print(sessions)
    for s in status.sessions:
        if args.session is None and s.finished:
            continue  # per device: the session asked for, and those still running
        per_device = Table(title=f"session {s.session} per device")
        for column in ("device", "done", "failed", "running", "waiting", "cancelled"):
            per_device.add_column(column)
        for serial, counts in sorted(s.per_device.items()):
            per_device.add_row(serial, *(str(counts.get(k, 0)) for k in ("succeeded", "failed", "doing", "todo")),
                               str(counts.get("cancelled", 0) + counts.get("aborted", 0)))
        console.print(per_device)
    return 0


def _cancel(lab: Any, args: argparse.Namespace) -> int:
    from edgebench.lab.status import cancel_session

    cancelled, stopping = cancel_session(lab, args.session)
    print(f"session {args.session}: {cancelled} waiting job(s) cancelled, {stopping} running job(s) asked to stop")
    return 0


def _retry(lab: Any, args: argparse.Namespace) -> int:
    from edgebench.lab.status import retry_session

    print(f"session {args.session}: {retry_session(lab, args.session)} failed job(s) back in the queue")
    return 0
