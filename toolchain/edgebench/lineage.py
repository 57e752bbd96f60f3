"""Lineage in the results store: hyperparameters -> trained model -> variant -> .tflite -> runs.

    record_lineage(results, artifacts, record)   # after train / optimize / convert
    trace(results, ref) -> Trace                 # a run id, a .tflite sha256, or any artifact id (prefix)

The artifacts themselves live in the workspace's ArtifactStore (files + record.json); the results
store keeps a row per artifact and a link per "made from", so every number measured on a .tflite
(runs.model_sha256 = the converted artifact's id) leads back to its training configuration. The
hyperparameters node is the point of the search space alone (architecture + values), so every
model trained from the same point, with any seed or data, hangs from the same node.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from edgebench.errors import UsageError
from edgebench.records import RunRecord
from edgebench.store import ResultsStore


def hyperparameters_id(architecture: str, hyperparameters: dict[str, Any]) -> str:
    from edgebench.store.artifacts import key

    return key({"kind": "hyperparameters", "architecture": architecture, "hyperparameters": hyperparameters})


def record_lineage(results: ResultsStore, artifacts: Any, record: Any, *, note: str = "") -> None:
    """Store `record` (Trained/Transformed/ConvertedModel) and every ancestor, with their links.

    `note` says where a trained model came from (e.g. "trial 3 of study X"); it lands on the link
    from the trained model to its hyperparameters.
    """
    from edgebench.store.artifacts import to_json

    rows: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []

    def row(artifact_id: str, kind: str, label: str, payload: dict[str, Any], created: str | None) -> None:
        rows.append(dict(artifact_id=artifact_id, kind=kind, architecture=payload.get("architecture"),
                         label=label, record_json=json.dumps(payload, sort_keys=True, default=str),
                         created_utc=created))

    def link(child: str, parent: str, relation: str, detail: str) -> None:
        links.append(dict(child_id=child, parent_id=parent, relation=relation, detail=detail))

    def add(r: Any) -> None:
        payload = to_json(r)
        if r.kind == "quantized":  # edgebench quantize of any .tflite: its parent is that file, by sha256
            row(r.artifact_id, "quantized", r.recipe, payload, r.created_utc)
            row(r.parent_sha256, "tflite", r.parent_file,
                {"file": r.parent_file, "size_bytes": r.parent_size_bytes}, None)  # kept if stored already
            calibration = f"; calibration {r.calibration_sha256[:16]}" if r.calibration_sha256 else ""
            link(r.artifact_id, r.parent_sha256, "quantized_from", f"{r.recipe} (litert-quantizer){calibration}")
        elif r.kind == "converted":
            row(r.artifact_id, "converted", r.variant, payload, r.created_utc)
            link(r.artifact_id, r.parent_id, "converted_from", r.variant)
            # lq: variants are made from the fp32 .tflite (a converted artifact), the others from a Keras model.
            parent_kind = ("converted" if r.variant.startswith("lq:") else
                           "trained" if r.parent_id == r.trained_id else "transformed")
            add(artifacts.load(parent_kind, r.parent_id))
        elif r.kind == "transformed":
            row(r.artifact_id, "transformed", r.transform, payload, r.created_utc)
            link(r.artifact_id, r.parent_id, "transformed_from", r.transform)
            add(artifacts.load("trained", r.parent_id))
        else:
            hp_id = hyperparameters_id(r.architecture, r.hyperparameters)
            row(r.artifact_id, "trained", r.architecture, payload, r.created_utc)
            row(hp_id, "hyperparameters", _hp_label(r.hyperparameters),
                {"architecture": r.architecture, "hyperparameters": r.hyperparameters}, None)
            facts = f"seed {r.seed}, dataset {r.dataset.loader} {r.dataset.data_hash[:12]}" + _sb_facts(
                getattr(r, "selective_backprop", None))
            # Without a note (reached from a variant) the link adds nothing when one is stored already.
            links.append(dict(child_id=r.artifact_id, parent_id=hp_id, relation="trained_with",
                              detail=f"{note}; {facts}" if note else facts, only_if_new=not note))

    add(record)
    # Ancestors before children: the links' foreign keys need the parent rows first.
    results.save_lineage(list(reversed(rows)), links)


def _sb_facts(sb: dict[str, Any] | None) -> str:
    """How Selective-Backprop trained a model (the record's `selective_backprop`), or "" for standard training."""
    if not sb:
        return ""
    s, fraction = sb["settings"], sb["totals"]["backprop_fraction"]
    stale = f", staleness {s['staleness']}" if s["staleness"] else ""
    done = "" if fraction is None else f", backpropagated {fraction:.3f} after priming"
    return f", Selective-Backprop beta {s['beta']:g}{stale}{done}"


def _hp_label(hyperparameters: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(hyperparameters.items())) or "(defaults)"


@dataclass(frozen=True)
class Node:
    artifact_id: str
    kind: str
    label: str
    record: dict[str, Any]
    via: str = ""  # the link detail from the child to this node
    parents: tuple[Node, ...] = ()


@dataclass(frozen=True)
class Trace:
    """What a reference leads back to: the run(s) measured on a .tflite, and the .tflite's ancestry."""

    runs: tuple[RunRecord, ...]
    root: Node | None  # the .tflite (or other artifact) node; None when no lineage is stored for it
    model_sha256: str | None = None
    missing: str = ""  # why no lineage, when root is None

    def to_json(self) -> dict[str, Any]:
        def node(n: Node) -> dict[str, Any]:
            return {"artifact_id": n.artifact_id, "kind": n.kind, "label": n.label, "via": n.via,
                    "record": n.record, "parents": [node(p) for p in n.parents]}

        return {"model_sha256": self.model_sha256, "runs": [r.to_json() for r in self.runs],
                "lineage": node(self.root) if self.root else None, "missing": self.missing or None}

    def chain(self) -> list[Node]:
        """The first path from the .tflite up to its hyperparameters."""
        out, n = [], self.root
        while n is not None:
            out.append(n)
            n = n.parents[0] if n.parents else None
        return out


def _node(results: ResultsStore, artifact_id: str, via: str = "", depth: int = 0) -> Node | None:
    row = results.artifact(artifact_id)
    if row is None or depth > 16:
        return None
    by_parent: dict[str, list[str]] = {}  # one parent reached by several recipes or notes is shown once
    for link in results.artifact_parents(artifact_id):
        by_parent.setdefault(link["parent_id"], []).append(link["detail"])
    parents = tuple(p for p in (_node(results, parent, "; ".join(details), depth + 1)
                                for parent, details in by_parent.items()) if p is not None)
    return Node(artifact_id, row["kind"], row["label"], json.loads(row["record_json"]), via, parents)


def trace(results: ResultsStore, ref: str) -> Trace:
    """Resolve `ref` (a run id, a .tflite sha256 or an artifact id, or an unambiguous prefix)."""
    ref = ref.strip().lower()
    if len(ref) < 6:
        raise UsageError(f"{ref!r} is too short: give at least 6 characters of a run id or an artifact sha256")
    matches = results.find_ids(ref)
    if not matches:
        raise UsageError(f"no run, .tflite or artifact id starts with {ref!r} in {results.url}; "
                         "list runs with `edgebench results list`")
    if len(matches) > 1:
        raise UsageError(f"{ref!r} is ambiguous: " + ", ".join(f"{w} {i[:16]}" for w, i in matches[:8]))
    what, found = matches[0]
    if what == "run":
        run = results.run(found)
        assert run is not None
        runs: tuple[RunRecord, ...] = (run,)
        artifact_id = run.model_sha256
    else:
        artifact_id = found
        runs = tuple(results.runs_of_model(artifact_id))
    root = _node(results, artifact_id)
    missing = "" if root else (f"no lineage stored for {artifact_id[:16]}: the .tflite was not made by "
                               "edgebench train/optimize/convert in this workspace")
    return Trace(runs=runs, root=root, model_sha256=artifact_id, missing=missing)


def render(t: Trace) -> str:
    from edgebench.bench.table import fmt_us

    lines = []
    for r in t.runs:
        median = fmt_us(r.latency.median_us if r.latency else None)
        lines.append(f"run {r.run_id}  {r.status}  {r.model} on {r.target} ({r.config.label()}, {r.protocol}, "
                     f"repeat {r.repeat})  median {median}  session {r.session}")
    if t.root is None:
        lines.append(t.missing)
        return "\n".join(lines)

    def walk(n: Node, indent: int) -> None:
        via = f"  [{n.via}]" if n.via else ""
        lines.append(f"{'   ' * indent}└─ {n.kind} {n.artifact_id[:16]}  {n.label}{_facts(n)}{via}")
        for p in n.parents:
            walk(p, indent + 1)

    walk(t.root, 0)
    return "\n".join(lines)


def _facts(n: Node) -> str:
    r = n.record
    if n.kind == "quantized":
        return f"  ({r.get('size_bytes')} B, {r.get('parent_file')} {r.get('parent_size_bytes')} B)"
    if n.kind == "converted":
        return f"  ({r.get('size_bytes')} B, LiteRT test accuracy {r.get('test_accuracy'):.4f})" \
            if r.get("test_accuracy") is not None else ""
    if n.kind == "transformed":
        return f"  (sparsity {r.get('weight_sparsity', 0):.2f}, fine-tuned {r.get('finetune_epochs')} epoch(s))"
    if n.kind == "trained":
        val = r.get("val_accuracy")
        sb = _sb_facts(r.get("selective_backprop"))
        return f"  (seed {r.get('seed')}, val accuracy {val:.4f}{sb})" if val is not None \
            else f"  (seed {r.get('seed')}{sb})"
    return ""


def record_in_workspace(workspace: Any, artifacts: Any, records: Any, *, note: str = "") -> None:
    """Open the workspace's results store and record each artifact's lineage (train/optimize/convert)."""
    from edgebench.workspace import Workspace

    results = ResultsStore(Workspace.resolve(workspace).results_store)
    try:
        for record in records:
            record_lineage(results, artifacts, record, note=note)
    finally:
        results.close()
