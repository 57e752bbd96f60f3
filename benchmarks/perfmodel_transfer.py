"""Transferring a performance model between environments edgebench measured itself (issue #15).

    PYTHONPATH=toolchain .venv/bin/python benchmarks/perfmodel_transfer.py [--workspace DIR] [--repeats 10]

Measuring half: the .tflite variants of the cnn_image smoke study (`edgebench study run models/cnn_image.toml
--budget smoke --variants-for all`: every trained trial × fp32, int8, prune:0.5, prune:0.8, prune:0.5+int8, qat;
run here first when the workspace holds no study) are pushed and run with the smoke protocol in 4 environments
where latency really differs:
  host-1t   this host's x86_64 runner (`--target local`), 1 thread
  host-2t   the same at 2 threads
  arm64-1t  a virtual device with the arm64-v8a ABI (the aarch64 harness and LiteRT under qemu-user), 1 thread
  arm64-2t  the same at 2 threads
each its own session in the workspace's results store. `<workspace>/perfmodel_transfer.json` records the sessions
(and the virtual device's port, so both arm64 environments and every rerun use the same device): a rerun resumes them and re-measures
nothing that is stored.

Analysis half: each environment's rows come from the store (`perfmodel.store_table`: model features of each
.tflite, median latency) over the model features that vary in every environment; for every ordered pair
source -> target, `perfmodel.transfer.transfer` gives MAPE (mean ± sd over --repeats random target samples) and
the share of predictions within ±10 % of scratch, dm, lms, ratio, nlms and gs at 2.5 % and 10 % budgets of the target's
configurations (at least 2 rows).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "toolchain"))
sys.path.insert(0, str(REPO / "benchmarks"))

from _lab import free_port, virtual_lab  # noqa: E402

SPEC = REPO / "models" / "cnn_image.toml"
BUDGETS = ("2.5%", "10%")
METHODS = ("scratch", "dm", "lms", "ratio", "nlms", "gs")


@dataclass(frozen=True)
class Environment:
    key: str
    label: str
    abi: str | None  # None: this host (--target local); else a virtual device of this ABI
    threads: int


ENVIRONMENTS = (
    Environment("host-1t", "host x86_64, 1 thread", None, 1),
    Environment("host-2t", "host x86_64, 2 threads", None, 2),
    Environment("arm64-1t", "arm64-v8a virtual device (qemu-user), 1 thread", "arm64-v8a", 1),
    Environment("arm64-2t", "arm64-v8a virtual device (qemu-user), 2 threads", "arm64-v8a", 2),
)


def study_models(workspace: Path) -> list[Path]:
    """The distinct .tflite files of the workspace's cnn_image smoke study (run first when there is none)."""
    from edgebench.cli.main import main

    studies = sorted((workspace / "studies").glob("cnn_image-smoke-*/study.json"))
    if not studies:
        print(f"no cnn_image smoke study in {workspace}: running it (minutes on 2 cores)", flush=True)
        if main(["--workspace", str(workspace), "study", "run", str(SPEC), "--budget", "smoke",
                 "--variants-for", "all"]) != 0:
            raise SystemExit("the smoke study failed; see its output above")
        studies = sorted((workspace / "studies").glob("cnn_image-smoke-*/study.json"))
    rows = json.loads(studies[-1].read_text())["rows"]
    paths: dict[str, Path] = {}
    for row in rows:
        sha = row.get("tflite_sha256")
        if sha and sha not in paths:
            folder = workspace / "artifacts" / "converted" / sha
            found = [Path(row["tflite_path"])] if row.get("tflite_path") else []
            found += sorted(folder.glob("*.tflite"))
            paths[sha] = next(p for p in found if p.is_file())
    return sorted(paths.values())


@contextlib.contextmanager
def virtual_device(workspace: Path, abi: str, port: int) -> Iterator[str]:
    """One virtual device of `abi` on `port` behind a private adb server (the same device again on a rerun: its
    folder and identity live in the workspace); both stopped afterwards. Yields the device's serial."""
    with virtual_lab(1, "--abi", abi, "--port", str(port), workspace=workspace) as (_ws, serials, _port):
        yield serials[0]


def measure(workspace: Path, models: list[Path]) -> dict[str, Any]:
    """Every environment's session, measured or resumed; the manifest says which are complete."""
    from edgebench.api import push_and_run

    manifest_path = workspace / "perfmodel_transfer.json"
    manifest: dict[str, Any] = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    ports = manifest.setdefault("ports", {})  # one virtual device per ABI, the same one on every rerun
    for env in ENVIRONMENTS:
        entry = manifest.setdefault(env.key, {})
        if entry.get("complete") and entry.get("models") == len(models):
            print(f"{env.key}: cached session {entry['session']} ({entry['seconds']:.0f} s when measured)")
            continue
        started = time.monotonic()
        with contextlib.ExitStack() as stack:
            target = "local"
            if env.abi is not None:
                port = int(ports.setdefault(env.abi, free_port()))
                target = stack.enter_context(virtual_device(workspace, env.abi, port))
            result = push_and_run(models, target=target, protocol="smoke", threads=(env.threads,),
                                  resume=entry.get("session"), workspace=workspace)
        entry.update(session=result.session, models=len(models), complete=result.ok,
                     seconds=entry.get("seconds", 0.0) + time.monotonic() - started)
        manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
        ok = sum(r.status == "ok" for r in result.records)
        print(f"{env.key}: session {result.session}, {ok}/{len(result.records)} runs ok "
              f"({result.skipped_resumed} already stored), {time.monotonic() - started:.0f} s", flush=True)
    return manifest


def tables(workspace: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Each environment's PerfTable over the model features that vary in all of them."""
    from edgebench.perfmodel.store_table import store_table

    first = {e.key: store_table({"session": manifest[e.key]["session"]}, workspace=workspace) for e in ENVIRONMENTS}
    shared = [o for o in first[ENVIRONMENTS[0].key].options if all(o in t.options for t in first.values())]
    return {key: store_table({"session": manifest[key]["session"]}, options=shared, workspace=workspace)
            for key in first}


def report(by_env: dict[str, Any], manifest: dict[str, Any], *, repeats: int, learner: str) -> None:
    import numpy as np

    print("\nenvironment  rows  median latency (ms) min / median / max  measuring time (s)  session")
    for env in ENVIRONMENTS:
        y = by_env[env.key].y()
        print(f"{env.key:<11} {len(y):>5}  {y.min():>10.4f} / {np.median(y):.4f} / {y.max():.4f}"
              f"  {manifest[env.key]['seconds']:>16.0f}  {manifest[env.key]['session']}")
    options = next(iter(by_env.values())).options
    print(f"features ({len(options)}): {', '.join(options)}")
    for note in sorted({n for t in by_env.values() for n in t.notes}):
        print(f"note: {note}")
    try:
        from edgebench.perfmodel.budget import parse_budget
        from edgebench.perfmodel.transfer import transfer
    except ImportError as exc:
        print(f"\nthe transfer API (edgebench.perfmodel.transfer) is not in this tree yet ({exc}): measurements "
              "are stored; rerun this script once it is merged")
        return
    budgets = [parse_budget(b) for b in BUDGETS]
    print(f"\nMAPE % mean ± sd over {repeats} repeats [share within ±10 %], learner {learner}")
    for source in ENVIRONMENTS:
        for target in ENVIRONMENTS:
            if source is target:
                continue
            records = transfer(by_env[source.key], by_env[target.key], budgets, METHODS, repeats=repeats, seed=0,
                               learner=learner)
            cells = {(r.method, r.budget_asked): r for r in records}
            sizes = {r.budget_asked: r.budget for r in records}
            print(f"\n{source.key} -> {target.key}   " + "".join(
                f"{f'{b} ({sizes[b]} rows)':<30}" for b in BUDGETS))
            for method in METHODS:
                row = ""
                for b in BUDGETS:
                    r = cells[(method, b)]
                    sd = f"{r.mape_pct_sd:.1f}" if r.mape_pct_sd is not None else "-"
                    row += f"{f'{r.mape_pct_mean:.1f} ± {sd} [{r.within_10pct_share:.2f}]':<30}"
                print(f"  {method:<20}{row}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, default=REPO / "edgebench-work" / "bench-perfmodel-transfer",
                        help="where the study, the results store and the manifest are kept between runs")
    parser.add_argument("--repeats", type=int, default=10, help="random target samples per method and budget")
    parser.add_argument("--learner", default="forest", help="tree, forest, boosting or mlp")
    parser.add_argument("--measure-only", action="store_true", help="measure (or reuse) and stop")
    args = parser.parse_args()
    workspace = args.workspace.resolve()
    workspace.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    models = study_models(workspace)
    print(f"{len(models)} distinct .tflite variants from the cnn_image smoke study in {workspace}", flush=True)
    manifest = measure(workspace, models)
    print(f"measuring half: {time.monotonic() - started:.0f} s this run", flush=True)
    incomplete = [e.key for e in ENVIRONMENTS if not manifest[e.key].get("complete")]
    if incomplete:
        print(f"not every run succeeded in {', '.join(incomplete)}: analysing what was measured")
    if not args.measure_only:
        report(tables(workspace, manifest), manifest, repeats=args.repeats, learner=args.learner)


if __name__ == "__main__":
    main()
