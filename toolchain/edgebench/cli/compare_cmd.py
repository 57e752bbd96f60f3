"""`edgebench compare A B`: is B faster or slower than A (or does it use more or less energy), with a CI
at a stated level, from the stored runs of one session. Refuses a verdict, with the reason, on smoke or
shortened runs, invalid runs, simulated against measured figures and different device models."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgebench.analyze.comparison import Comparison
    from edgebench.records import RunRecord
    from edgebench.store import ResultsStore

HELP = "Compare two variants, configs or devices of a session: ratio with a CI, verdict, repeats needed."
REFUSED_EXIT_CODE = 1
MIN_ID_PREFIX = 6  # shorter run-id / sha256 prefixes match too much to mean anything


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "A and B are each a run id (its whole measurement: every repeat of that model x config x device), "
        "a model file name, a .tflite sha256 prefix (6+ characters), a config label (cpu/1t) or a device "
        "(device id, serial or device model), within one session. What they leave open must be the same "
        "for both, so each names exactly one measurement. The verdict is for B relative to A.")
    parser.add_argument("a", metavar="A", help="the baseline")
    parser.add_argument("b", metavar="B", help="the candidate, compared with A")
    parser.add_argument("--session", default=None, metavar="S", help="session (default: the latest)")
    parser.add_argument("--metric", choices=("latency", "energy"), default="latency",
                        help="latency: median latency over repeats; energy: energy per inference over battery runs")
    parser.add_argument("--confidence", type=float, default=0.95, metavar="LEVEL",
                        help="level of the interval, in [0.5, 1) (default 0.95)")
    parser.add_argument("--draws", type=int, default=2000, metavar="B", help="bootstrap draws (default 2000)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the bootstrap (default 0)")
    parser.add_argument("--json", action="store_true", help="print JSON")


@dataclass(frozen=True)
class Side:
    """One measurement: the runs of one model x device x config x protocol x input shapes."""

    selector: str
    runs: tuple[RunRecord, ...]
    device_model: str | None

    def label(self) -> str:
        r = self.runs[0]
        return f"{r.model} {r.config.label()} on {self.device_model or r.device_id} ({r.protocol})"

    def to_json(self) -> dict[str, Any]:
        r = self.runs[0]
        return {"selector": self.selector, "model": r.model, "model_sha256": r.model_sha256,
                "config": r.config.label(), "device_id": r.device_id, "device_model": self.device_model,
                "protocol": r.protocol, "run_ids": [x.run_id for x in self.runs]}


def run(args: argparse.Namespace) -> int:
    from edgebench.api import open_store
    from edgebench.errors import UsageError
    from edgebench.protocols import check_number

    confidence = check_number("--confidence", args.confidence, low=0.5, high=0.999999)
    if args.draws < 100:
        raise UsageError(f"--draws {args.draws}: expected at least 100 bootstrap draws (default 2000)")
    if args.seed < 0:
        raise UsageError(f"--seed {args.seed}: expected a whole number >= 0")
    store = open_store(args.workspace)
    try:
        session = args.session or store.latest_session()
        if session is None:
            raise UsageError("the results store has no session yet: measure with push-and-run or profile-battery first")
        if not store.has_session(session):
            raise UsageError(f"no session {session!r} in the results store; `edgebench results list` shows them")
        runs = store.runs(session)
        models = _device_models(store)
        a, b = _resolve_pair(args.a, args.b, runs, models)
        refused, comparison = _judge(store, a, b, args.metric, confidence, args.draws, args.seed)
    finally:
        store.close()
    if args.json:
        out: dict[str, Any] = {"session": session, "metric": args.metric, "a": a.to_json(), "b": b.to_json(),
                               "refused": refused,
                               "comparison": comparison.to_json() if comparison is not None else None}
        print(json.dumps(out, indent=1))
    else:
        _print(session, a, b, refused, comparison)
    return REFUSED_EXIT_CODE if refused else 0


# -- resolving A and B ---------------------------------------------------------------------------

def _group_key(r: RunRecord) -> tuple[Any, ...]:
    return (r.model_sha256, r.model, r.device_id, r.config.label(), r.protocol,
            tuple(s.label() for s in r.input_shapes))


def _matches(selector: str, r: RunRecord, models: dict[str, str | None]) -> set[str]:
    """What `selector` names of run `r`: a subset of {run, model, config, device}."""
    text = selector.strip()
    low = text.lower()
    found = set()
    if len(text) >= MIN_ID_PREFIX and r.run_id.lower().startswith(low):
        found.add("run")
    if text == r.model or (len(text) >= MIN_ID_PREFIX and r.model_sha256.lower().startswith(low)):
        found.add("model")
    if text == r.config.label():
        found.add("config")
    if text in (r.device_id, r.target) or (models.get(r.device_id) or "").lower() == low:
        found.add("device")
    return found


def _select(selector: str, runs: list[RunRecord], models: dict[str, str | None]) -> tuple[str, list[RunRecord]]:
    from edgebench.errors import UsageError

    by_kind: dict[str, list[RunRecord]] = {}
    for r in runs:
        for kind in _matches(selector, r, models):
            by_kind.setdefault(kind, []).append(r)
    if not by_kind:
        raise UsageError(f"{selector!r} names no run id, model, sha256 prefix, config or device of this session; "
                         f"known: {_known(runs, models)}")
    if len(by_kind) > 1:
        raise UsageError(f"{selector!r} is ambiguous: it names a {' and a '.join(sorted(by_kind))} of this "
                         "session; give a longer id or another name")
    kind, chosen = next(iter(by_kind.items()))
    if kind == "run":  # a run id stands for its whole measurement (every repeat)
        if len({r.run_id for r in chosen}) > 1:
            raise UsageError(f"run id prefix {selector!r} is ambiguous; candidates: "
                             + ", ".join(sorted({r.run_id for r in chosen})))
        key = _group_key(chosen[0])
        chosen = [r for r in runs if _group_key(r) == key]
    return kind, chosen


def _groups(runs: list[RunRecord]) -> dict[tuple[Any, ...], list[RunRecord]]:
    out: dict[tuple[Any, ...], list[RunRecord]] = {}
    for r in runs:
        out.setdefault(_group_key(r), []).append(r)
    return out


def _resolve_pair(selector_a: str, selector_b: str, runs: list[RunRecord],
                  models: dict[str, str | None]) -> tuple[Side, Side]:
    """Each selector's runs split into measurements. When each selects one, they are the pair (what
    differs is then judged by the refusals); otherwise a pair must agree on every dimension that neither
    selector named (model, config, device, input shapes; a protocol difference is left to the refusals),
    and exactly one pair may remain."""
    from edgebench.errors import UsageError

    kind_a, runs_a = _select(selector_a, runs, models)
    kind_b, runs_b = _select(selector_b, runs, models)
    groups_a, groups_b = _groups(runs_a), _groups(runs_b)
    named = {kind_a, kind_b}
    if groups_a.keys() == groups_b.keys() and len(groups_a) == 1:
        raise UsageError(f"{selector_a!r} and {selector_b!r} name the same measurement "
                         f"({_describe(runs_a[0], models)}); name two different ones")
    if len(groups_a) == 1 and len(groups_b) == 1:  # each names one measurement: pair them as they are
        pairs = [(ka, kb) for ka in groups_a for kb in groups_b if ka != kb]
    else:
        pairs = [(ka, kb) for ka in groups_a for kb in groups_b
                 if ka != kb and _same_unnamed(groups_a[ka][0], groups_b[kb][0], named)]
    if len(pairs) != 1:
        what = "no pair of measurements matches" if not pairs else f"{len(pairs)} pairs of measurements match"
        candidates = "; ".join(f"A = {_describe(groups_a[ka][0], models)} vs B = {_describe(groups_b[kb][0], models)}"
                               for ka, kb in pairs[:10]) or (
            "A: " + "; ".join(_describe(g[0], models) for g in groups_a.values())
            + " | B: " + "; ".join(_describe(g[0], models) for g in groups_b.values()))
        raise UsageError(f"{selector_a!r} vs {selector_b!r}: {what} (A and B must differ only in what they "
                         f"name and agree on the rest); candidates: {candidates}. Name run ids, or add --session")
    ka, kb = pairs[0]
    return (Side(selector_a, tuple(groups_a[ka]), models.get(groups_a[ka][0].device_id)),
            Side(selector_b, tuple(groups_b[kb]), models.get(groups_b[kb][0].device_id)))


def _same_unnamed(ra: RunRecord, rb: RunRecord, named: set[str]) -> bool:
    if "run" in named:  # run ids name whole measurements: any two may be paired
        return True
    same_model = ra.model_sha256 == rb.model_sha256 and ra.model == rb.model
    same_config = ra.config.label() == rb.config.label()
    same_device = ra.device_id == rb.device_id
    return ((same_model or "model" in named) and (same_config or "config" in named)
            and (same_device or "device" in named) and ra.input_shapes == rb.input_shapes)


def _describe(r: RunRecord, models: dict[str, str | None]) -> str:
    return f"{r.model} [{r.model_sha256[:8]}] {r.config.label()} on {models.get(r.device_id) or r.device_id} ({r.protocol})"


def _known(runs: list[RunRecord], models: dict[str, str | None]) -> str:
    names = sorted({r.model for r in runs})
    configs = sorted({r.config.label() for r in runs})
    devices = sorted({f"{r.device_id} ({models.get(r.device_id) or r.target})" for r in runs})
    return f"models {names}, configs {configs}, devices {devices}"


def _device_models(store: ResultsStore) -> dict[str, str | None]:
    return {row["device_id"]: row["model"] for row in store.table_rows("devices")}


# -- refusals and the comparison -----------------------------------------------------------------

def _judge(store: ResultsStore, a: Side, b: Side, metric: str, confidence: float, draws: int,
           seed: int) -> tuple[str | None, Comparison | None]:
    """(every refusal reason joined, or None; the comparison, or None when refused)."""
    from edgebench.analyze.comparison import compare
    from edgebench.bench.summary import summarize

    reasons = []
    if a.device_model != b.device_model:
        reasons.append(f"different device models ({a.device_model or a.runs[0].device_id} vs "
                       f"{b.device_model or b.runs[0].device_id}): one model's timing says nothing about another's")
    for name, side in (("A", a), ("B", b)):
        invalid = [r for r in side.runs if r.status == "invalid"]
        if invalid:
            failed = sorted({c.reason or c.name for r in invalid for c in r.checks
                             if c.outcome == "fail" and not c.advisory})
            reasons.append(f"{name} has invalid runs ({', '.join(r.run_id for r in invalid)}: {'; '.join(failed)})")
        (summary,) = summarize(side.runs)
        if not summary.verdict_allowed:
            why = "shortened" if any(c.name == "shortened" and c.outcome == "fail" for r in side.runs
                                     for c in r.checks) else f"protocol {side.runs[0].protocol!r}"
            reasons.append(f"{name} is a {why} measurement: no verdicts on it (measure with --protocol standard)")
    if metric == "energy":
        values, refusal = _energy_values(store, a, b)
    else:
        values, refusal = _latency_values(store, a, b)
    if refusal:
        reasons.append(refusal)
    if reasons:
        return "; ".join(reasons), None
    unit = "mJ" if metric == "energy" else "ms"
    try:
        comparison = compare(values["a"], values["b"], confidence=confidence, draws=draws, seed=seed,
                             metric="energy" if metric == "energy" else "latency", unit=unit)
    except ValueError as exc:
        return str(exc), None
    return None, comparison


def _ok_runs(side: Side) -> list[RunRecord]:
    return [r for r in side.runs if r.status == "ok"]


def _latency_values(store: ResultsStore, a: Side, b: Side) -> tuple[dict[str, list[list[float]]], str | None]:
    sims = {name: any(r.provenance.latency_source != "measured" or r.provenance.device_kind in ("virtual", "emulator")
                      for r in side.runs) for name, side in (("A", a), ("B", b))}
    if sims["A"] != sims["B"]:
        return {}, "simulated against measured latency (" + ", ".join(
            f"{n}: {'simulated' if s else 'measured'}" for n, s in sims.items()) + ")"
    out: dict[str, list[list[float]]] = {}
    for name, side in (("a", a), ("b", b)):
        repeats = []
        for r in _ok_runs(side):
            samples = [s.latency_us / 1000.0 for s in store.latency_samples(r.run_id) if s.phase == "timed"]
            if samples:
                repeats.append(samples)
        if len(repeats) < 2:
            return {}, (f"{name.upper()} has {len(repeats)} ok repeat(s) with stored latency samples; a CI across "
                        "repeats needs at least 2 (measure with --repeats 3 or more)")
        out[name] = repeats
    return out, None


def _energy_values(store: ResultsStore, a: Side, b: Side) -> tuple[dict[str, list[list[float]]], str | None]:
    rows = store.energy_rows([r.run_id for side in (a, b) for r in _ok_runs(side)])
    out: dict[str, list[list[float]]] = {}
    sources = {}
    for name, side in (("a", a), ("b", b)):
        mine = [rows[r.run_id] for r in _ok_runs(side) if r.run_id in rows]
        if not mine:
            return {}, (f"{name.upper()} has no energy figures: energy per inference comes from "
                        "`edgebench profile-battery` runs")
        sources[name] = sorted({row["energy_source"] for row in mine})
        out[name] = [[float(row["energy_per_inference_mj"])] for row in mine
                     if row["energy_per_inference_mj"] is not None]
    if set(sources["a"]) != set(sources["b"]) or len(sources["a"]) > 1:
        return {}, (f"simulated against measured energy (A: {'/'.join(sources['a'])}, B: {'/'.join(sources['b'])}): "
                    "a virtual device's energy is a model, not a measurement")
    for name in ("a", "b"):
        if len(out[name]) < 2:
            return {}, (f"{name.upper()} has {len(out[name])} battery run(s) with an energy figure; a CI across "
                        "runs needs at least 2 (profile-battery --repeats 5)")
    return out, None


# -- printing ------------------------------------------------------------------------------------

def _print(session: str, a: Side, b: Side, refused: str | None, c: Comparison | None) -> None:
    from edgebench.stats import format_level

    print(f"session {session}")
    print(f"A: {a.label()}  [{len(a.runs)} runs]")
    print(f"B: {b.label()}  [{len(b.runs)} runs]")
    if refused is not None or c is None:
        print(f"no verdict: {refused}", file=sys.stderr)
        return
    level = format_level(c.confidence)
    print(f"median A {c.median_a:.6g} {c.unit} ({c.repeats_a} repeats), median B {c.median_b:.6g} {c.unit} "
          f"({c.repeats_b} repeats)")
    print(f"ratio B/A {c.ratio:.4f} (of the geometric means of the repeat medians), {level} CI [{c.ratio_ci[0]:.4f}, {c.ratio_ci[1]:.4f}]  "
          f"(B {c.relative_difference:+.2%} vs A)")
    print(f"difference B-A {c.difference:+.4g} {c.unit}, {level} CI [{c.difference_ci[0]:+.4g}, "
          f"{c.difference_ci[1]:+.4g}] {c.unit}")
    print(f"verdict: B is {c.verdict}" if c.verdict != "no detectable difference"
          else "verdict: no detectable difference")
    if c.repeats_needed is None:
        print("repeats needed to resolve the observed difference: more than practical (or no difference)")
    else:
        print(f"repeats needed per side to resolve a {abs(c.relative_difference):.2%} difference at {level} with "
              f"80 % power: {c.repeats_needed}")
    print(f"method: {c.method}; {c.draws} draws, seed {c.seed}")
