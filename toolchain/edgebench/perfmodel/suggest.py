"""Which configurations to measure next on a new environment, so that a model transferred from the source
becomes good: guided sampling's choice (`gs`), or the candidates where the source forest's trees disagree
most (`variance`). The answer is a plan (JSON, `PLAN_SCHEMA`) with each configuration's option values,
id and why it was chosen, and the push-and-run command lines that measure exactly those configurations.

    suggest(source, candidates, budget, strategy, seed, run_values=...) -> SuggestPlan
    plan_to_dict(plan) / plan_from_dict(data), write_plan(plan, path) / read_plan(path)
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from edgebench.errors import UsageError
from edgebench.perfmodel.guided_sampling import guided_rows
from edgebench.perfmodel.learners import make_learner
from edgebench.perfmodel.plan_commands import push_and_run_commands
from edgebench.perfmodel.table import PerfTable
from edgebench.perfmodel.transfer import check_same_options, select_terms

if TYPE_CHECKING:
    import numpy as np

PLAN_SCHEMA = "edgebench.perfmodel.plan/1"
STRATEGIES = ("gs", "variance")
VARIANCE_TREES = 128


@dataclass(frozen=True)
class PlannedConfiguration:
    """One configuration to measure: the candidate's row id, its option values, push-and-run's own
    settings where the candidates name them (threads, accelerator, cpu_mask, model), and why."""
    id: str
    options: dict[str, float]
    reason: str
    run_values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SuggestPlan:
    schema: str
    strategy: str
    budget: int
    source: str
    candidates: str
    device: str | None
    measure: str | None
    selected_terms: tuple[str, ...]
    configurations: tuple[PlannedConfiguration, ...]
    push_and_run: tuple[str, ...]
    notes: tuple[str, ...]


def suggest(source: PerfTable, candidates: PerfTable, budget: int, strategy: str = "gs", seed: int = 0, *,
            run_values: Sequence[Mapping[str, str]] | None = None, device: str | None = None) -> SuggestPlan:
    """`budget` distinct configurations of `candidates` (each configuration once, its first row) chosen by
    `strategy`. `run_values[i]` holds push-and-run's settings of candidate row i when known."""
    import numpy as np

    if strategy not in STRATEGIES:
        raise UsageError(f"--strategy {strategy!r}: expected one of {', '.join(STRATEGIES)}")
    if seed < 0:
        raise UsageError(f"--seed {seed}: expected a seed of 0 or more")
    check_same_options(source, candidates, "candidates")
    if source.measure is None:
        raise UsageError(f"source {source.source}: no measure column; suggest learns from the source's measure")
    x = candidates.frame[list(source.options)].to_numpy(dtype=float)
    distinct = sorted({tuple(row): i for i, row in reversed(list(enumerate(x.tolist())))}.values())
    if budget < 1 or budget > len(distinct):
        raise UsageError(f"--budget {budget}: {candidates.source} has {len(distinct)} distinct configurations; "
                         f"ask for 1 to {len(distinct)}")
    space = candidates.subset(distinct)
    notes: list[str] = []
    terms: tuple[str, ...] = ()
    if strategy == "gs":
        model = select_terms(source)
        terms = model.term_names
        choice = guided_rows(space, model.terms, budget, np.random.default_rng(seed))
        chosen, reasons = list(choice.rows), list(choice.reasons)
        notes += choice.notes
    else:
        chosen, reasons = _largest_variance(source, space, budget, seed)
    configurations = []
    for position, reason in zip(chosen, reasons):
        row = distinct[position]
        values = {o: float(x[row, k]) for k, o in enumerate(source.options)}
        configurations.append(PlannedConfiguration(
            id=candidates.ids[row], options=values, reason=reason,
            run_values=dict(run_values[row]) if run_values is not None else {}))
    commands, command_notes = push_and_run_commands(configurations, source.options, device=device)
    return SuggestPlan(schema=PLAN_SCHEMA, strategy=strategy, budget=budget, source=source.source,
                       candidates=candidates.source, device=device, measure=source.measure,
                       selected_terms=terms, configurations=tuple(configurations), push_and_run=tuple(commands),
                       notes=tuple(notes + command_notes))


def tree_variance(source: PerfTable, x: np.ndarray, seed: int) -> np.ndarray:
    """The variance across the trees of a forest fitted on the source of each row's predicted
    log(measure) (the forest learns the logarithm, so this is a relative uncertainty)."""
    import numpy as np

    forest = make_learner("forest", seed, trees=VARIANCE_TREES).fit(source.x(), source.y())
    per_tree = np.stack([tree.predict(x) for tree in forest.regressor_.estimators_])
    return np.asarray(per_tree.var(axis=0), dtype=float)


def _largest_variance(source: PerfTable, space: PerfTable, budget: int, seed: int) -> tuple[list[int], list[str]]:
    import numpy as np

    variance = tree_variance(source, space.frame[list(source.options)].to_numpy(dtype=float), seed)
    order = np.argsort(-variance, kind="stable")[:budget]
    reasons = [f"predictive variance of log({source.measure}) across the source forest's {VARIANCE_TREES} "
               f"trees: {variance[i]:.3g} (rank {rank + 1} of {space.rows} candidates)"
               for rank, i in enumerate(order)]
    return [int(i) for i in order], reasons


def plan_to_dict(plan: SuggestPlan) -> dict[str, Any]:
    return {"schema": plan.schema, "strategy": plan.strategy, "budget": plan.budget, "source": plan.source,
            "candidates": plan.candidates, "device": plan.device, "measure": plan.measure,
            "selected_terms": list(plan.selected_terms),
            "configurations": [{"id": c.id, "options": c.options, "run_values": c.run_values, "reason": c.reason}
                               for c in plan.configurations],
            "push_and_run": list(plan.push_and_run), "notes": list(plan.notes)}


def plan_from_dict(data: Mapping[str, Any], where: str = "plan") -> SuggestPlan:
    if data.get("schema") != PLAN_SCHEMA:
        raise UsageError(f"{where}: schema {data.get('schema')!r}; expected {PLAN_SCHEMA!r} (written by "
                         "edgebench perfmodel suggest -o)")
    try:
        configurations = tuple(PlannedConfiguration(id=str(c["id"]), options={k: float(v) for k, v in c["options"].items()},
                                                    reason=str(c["reason"]),
                                                    run_values={k: str(v) for k, v in c.get("run_values", {}).items()})
                               for c in data["configurations"])
        return SuggestPlan(schema=PLAN_SCHEMA, strategy=str(data["strategy"]), budget=int(data["budget"]),
                           source=str(data["source"]), candidates=str(data["candidates"]), device=data.get("device"),
                           measure=data.get("measure"), selected_terms=tuple(data.get("selected_terms", ())),
                           configurations=configurations, push_and_run=tuple(data.get("push_and_run", ())),
                           notes=tuple(data.get("notes", ())))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"{where}: not a complete plan ({type(exc).__name__}: {exc})") from None


def write_plan(plan: SuggestPlan, path: str | Path) -> None:
    Path(path).write_text(json.dumps(plan_to_dict(plan), indent=2) + "\n", encoding="utf-8")


def read_plan(path: str | Path) -> SuggestPlan:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: could not read a plan ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object (a plan), found {type(data).__name__}")
    return plan_from_dict(data, str(path))
