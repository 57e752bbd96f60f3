"""Input shapes of a run: what the user asked for (--input-shape), what each model allows, and what ran.

A model whose signature has a dynamic dimension (-1) has no shape of its own: the file carries a
placeholder (a segmentation model's [-1,-1,-1,3] reads [1,1,1,3]) and running at it measures a
workload nobody deploys. So such a model is refused unless the shape is given
(`--input-shape NAME=D0,D1,...`) or the placeholder is accepted (`--input-shape default`). The one
exception is a signature whose only dynamic dimension is the leading batch: it runs at batch 1, as
every TFLite tool does, and the record says so (source "batch").

The shapes recorded are the ones the runner reports from the compiled model, never the requested ones.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from edgebench.errors import EdgebenchError, ModelError, UsageError
from edgebench.records import InputShape

DEFAULT = "default"
FLAG = "--input-shape"

# What push_and_run(input_shapes=...) takes: flag values ("NAME=D0,D1,...", "default"), or a
# mapping NAME -> dims, or the single word "default".
ShapesArgument = str | Sequence[str] | Mapping[str, Sequence[int]] | None


class ShapeRefused(EdgebenchError):
    """This model cannot run with the shapes given (or without any): recorded as its failed runs."""


@dataclass(frozen=True)
class ShapeRequest:
    """The session's --input-shape values: shapes by input name, and whether placeholders are accepted."""

    shapes: tuple[tuple[str, tuple[int, ...]], ...] = ()
    accept_default: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.shapes)

    def shape_of(self, name: str) -> tuple[int, ...] | None:
        return next((dims for n, dims in self.shapes if n == name), None)


@dataclass(frozen=True)
class ModelInput:
    """One input as the file declares it: the name the runner knows it by, and its tensor's name."""

    name: str  # signature input name (tensor name when the model has no signature)
    tensor_name: str
    signature: tuple[int, ...]  # -1 = dynamic
    placeholder: tuple[int, ...]  # the file's `shape`


@dataclass(frozen=True)
class ShapePlan:
    """The shapes one model is asked to run at: one entry per input, in model order."""

    inputs: tuple[InputShape, ...]

    @property
    def passed(self) -> tuple[InputShape, ...]:
        """Inputs whose shape is passed to the runner (the others run as the model declares them)."""
        return tuple(s for s in self.inputs if s.source != "model")

    def runner_args(self) -> list[str]:
        args: list[str] = []
        for s in self.passed:
            args += [FLAG, f"{s.name}={','.join(str(d) for d in s.dims)}"]
        return args

    def key(self) -> list[list[Any]]:
        """For the run key: a run at another shape is another run."""
        return [[s.name, list(s.dims)] for s in self.passed]

    def source_of(self, name: str) -> InputShape | None:
        return next((s for s in self.inputs if s.name == name), None)


def parse_request(value: ShapesArgument) -> ShapeRequest:
    """--input-shape values (or the API's mapping) as a ShapeRequest; bad syntax is a UsageError."""
    if value is None:
        return ShapeRequest()
    if isinstance(value, str):
        value = [value]
    if isinstance(value, Mapping):
        named: list[tuple[str, tuple[int, ...]]] = [(str(k), _dims_from_list(k, v)) for k, v in value.items()]
        return _checked(named, accept_default=False)
    items: list[tuple[str, tuple[int, ...]]] = []
    accept = False
    for text in value:
        if text.strip() == DEFAULT:
            accept = True
            continue
        name, sep, dims = text.rpartition("=")  # names may contain '=' or ':'; dims never do
        if not sep or not name:
            raise UsageError(f"{FLAG} takes NAME=D0,D1,... (e.g. {FLAG} image=1,224,224,3) or the word "
                             f"'default'. Received: {text!r}.")
        items.append((name, _dims_from_text(name, dims, text)))
    return _checked(items, accept_default=accept)


def _dims_from_text(name: str, dims: str, text: str) -> tuple[int, ...]:
    parts = [p.strip() for p in dims.split(",")]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise UsageError(f"{FLAG} {text!r}: the dimensions of {name!r} must be whole numbers separated by "
                         f"commas, e.g. {name}=1,224,224,3.") from None
    return _positive(name, values, f"{FLAG} {text!r}")


def _dims_from_list(name: Any, dims: Any) -> tuple[int, ...]:
    if isinstance(dims, (str, bytes)) or not isinstance(dims, Sequence) or \
            not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        raise UsageError(f"input shape of {name!r} must be a list of whole numbers, e.g. [1, 224, 224, 3]. "
                         f"Received: {dims!r}.")
    return _positive(str(name), tuple(dims), f"input shape {name} = {list(dims)}")


def _positive(name: str, dims: tuple[int, ...], where: str) -> tuple[int, ...]:
    if not dims:
        raise UsageError(f"{where}: no dimensions for {name!r}. Expected NAME=D0,D1,...")
    if len(dims) > 8:
        raise UsageError(f"{where}: {len(dims)} dimensions for {name!r}; the runner takes at most 8.")
    bad = [d for d in dims if d < 1]
    if bad:
        raise UsageError(f"{where}: every dimension of {name!r} must be at least 1, got {bad[0]}. "
                         "A shape to run at has no dynamic (-1) or empty (0) dimension.")
    return dims


def _checked(items: list[tuple[str, tuple[int, ...]]], *, accept_default: bool) -> ShapeRequest:
    seen: set[str] = set()
    for name, _ in items:
        if name in seen:
            raise UsageError(f"{FLAG} gives input {name!r} twice. Give one shape per input.")
        seen.add(name)
    return ShapeRequest(tuple(items), accept_default)


def model_inputs(path: Path) -> tuple[ModelInput, ...]:
    """The inputs of the signature the runner runs (the first; subgraph 0 when the model has none)."""
    from edgebench.inspect.tflite_model import read_tflite_inputs

    model = read_tflite_inputs(path)
    if not model.signatures:
        return tuple(ModelInput(t.name, t.name, t.shape_signature, t.shape) for t in model.subgraph_inputs[0])
    sig = model.signatures[0]
    count = len(model.subgraph_inputs)
    sub_inputs = model.subgraph_inputs[sig.subgraph_index if sig.subgraph_index < count else 0]
    by_index = {t.index: t for t in sub_inputs}
    out = []
    for name, tensor_index in zip(sig.inputs, sig.input_tensors):
        t = by_index.get(tensor_index)
        if t is not None:
            out.append(ModelInput(name, t.name, t.shape_signature, t.shape))
    if len(out) != len(sig.inputs):  # a signature that maps to no subgraph input: fall back to tensors
        return tuple(ModelInput(t.name, t.name, t.shape_signature, t.shape) for t in sub_inputs)
    return tuple(out)


def unknown_names(request: ShapeRequest, models: Iterable[Sequence[ModelInput]]) -> list[str]:
    """Names in the request that no model of the session has (by input or tensor name)."""
    known = {n for inputs in models for i in inputs for n in (i.name, i.tensor_name)}
    return [n for n in request.names if n not in known]


def plan_shapes(inputs: Sequence[ModelInput], request: ShapeRequest, model_name: str) -> ShapePlan:
    """The shape each input runs at, or ShapeRefused naming every input that lacks one."""
    planned: list[InputShape] = []
    missing: list[ModelInput] = []
    for i in inputs:
        given = request.shape_of(i.name)
        if given is None and i.tensor_name != i.name:
            given = request.shape_of(i.tensor_name)
        dynamic = [d for d, v in enumerate(i.signature) if v < 0]
        if given is not None:
            planned.append(InputShape(i.name, i.signature, _fit(i, given, model_name), "given"))
        elif not dynamic:
            planned.append(InputShape(i.name, i.signature, i.signature, "model"))
        elif request.accept_default:
            planned.append(InputShape(i.name, i.signature, _placeholder(i), "default"))
        elif dynamic == [0] and len(i.signature) >= 2:
            planned.append(InputShape(i.name, i.signature, (1, *i.signature[1:]), "batch"))
        else:
            missing.append(i)
    if missing:
        raise ShapeRefused(_refusal(model_name, missing))
    return ShapePlan(tuple(planned))


def _fit(i: ModelInput, dims: tuple[int, ...], model_name: str) -> tuple[int, ...]:
    flag = f"{FLAG} {shlex.quote(i.name + '=' + ','.join(map(str, dims)))}"
    if len(dims) != len(i.signature):
        raise ShapeRefused(f"{model_name}: {flag} gives {len(dims)} dimension(s), but input {i.name!r} has "
                           f"rank {len(i.signature)} (signature {_sig(i.signature)}). Give "
                           f"{len(i.signature)} dimensions: {_example(i)}.")
    wrong = [(d, want, got) for d, (want, got) in enumerate(zip(i.signature, dims)) if want >= 0 and want != got]
    if wrong:
        d, want, got = wrong[0]
        raise ShapeRefused(f"{model_name}: {flag} sets dimension {d} of input {i.name!r} to {got}, but the "
                           f"signature {_sig(i.signature)} fixes it at {want}; only the -1 dimensions can be "
                           f"chosen: {_example(i)}.")
    return dims


def _placeholder(i: ModelInput) -> tuple[int, ...]:
    """The file's placeholder shape, with any dimension it leaves unset (<= 0) at 1, as the runner does."""
    base = i.placeholder if len(i.placeholder) == len(i.signature) else i.signature
    return tuple(d if d > 0 else 1 for d in base)


def _sig(dims: Sequence[int]) -> str:
    return "[" + ",".join(str(d) for d in dims) + "]"


def _example(i: ModelInput) -> str:
    dims = ",".join(str(d) if d >= 0 else f"<d{k}>" for k, d in enumerate(i.signature))
    return f"{FLAG} {shlex.quote(f'{i.name}={dims}')}"


def _refusal(model_name: str, missing: Sequence[ModelInput]) -> str:
    which = "; ".join(f"input {i.name!r} has signature {_sig(i.signature)} (file placeholder {_sig(i.placeholder)})"
                      for i in missing)
    flags = " ".join(_example(i) for i in missing)
    return (f"{model_name} has dynamic (-1) input dimensions and no shape was given: {which}. The placeholder "
            f"is not a workload to measure. Give the shape, replacing each <d…>: {flags}; or accept the "
            f"file's placeholder with {FLAG} default.")


def shapes_ran(setup: Mapping[str, Any] | None, plan: ShapePlan | None) -> tuple[InputShape, ...]:
    """The shapes the runner reports it ran (setup line), with the file's signature and the plan's source."""
    if not setup:
        return ()
    out = []
    for inp in setup.get("inputs") or ():
        if not isinstance(inp, Mapping) or not isinstance(inp.get("shape"), list):
            continue
        name = str(inp.get("name") or inp.get("tensor_name") or f"#{inp.get('index')}")
        planned = plan.source_of(name) if plan is not None else None
        signature = planned.signature if planned is not None else tuple(inp.get("shape_signature") or inp["shape"])
        if planned is not None:
            source = planned.source
        else:
            source = "default" if inp.get("shape_source") == "placeholder" else "model"
        out.append(InputShape(name, tuple(int(d) for d in signature), tuple(int(d) for d in inp["shape"]),
                              source))
    return tuple(out)


def plan_session_shapes(models: Sequence[Any], value: ShapesArgument, *, engine: str = "runner"
                        ) -> dict[str, ShapePlan | str]:
    """model sha256 -> its ShapePlan, or the reason it is refused (recorded as its failed runs).

    `models`: ModelFile-like (path, name, sha256). Syntax errors and names no model has are a
    UsageError before anything runs; a file that is not a readable .tflite gets no entry (the
    runner reports what is wrong with it)."""
    request = parse_request(value)
    inputs: dict[str, tuple[ModelInput, ...]] = {}
    for m in models:
        try:
            inputs[m.sha256] = model_inputs(Path(m.path))
        except (ModelError, OSError):
            continue
    unknown = unknown_names(request, inputs.values())
    if unknown and inputs:
        known = "; ".join(f"{m.name}: " + (", ".join(repr(i.name) for i in inputs[m.sha256]) or "no inputs")
                          for m in models if m.sha256 in inputs)
        raise UsageError(f"{FLAG} names input(s) {', '.join(map(repr, unknown))} that no model has. "
                         f"The inputs are: {known}.")
    plans: dict[str, ShapePlan | str] = {}
    for m in models:
        if m.sha256 not in inputs:
            continue
        try:
            plan = plan_shapes(inputs[m.sha256], request, m.name)
        except ShapeRefused as exc:
            plans[m.sha256] = str(exc)
            continue
        chosen = [s for s in plan.inputs if s.source in ("given", "default")]
        if engine != "runner" and chosen:
            plans[m.sha256] = (f"{m.name}: {FLAG} is passed to edgebench's runner only, not to the {engine} "
                               f"engine, which would run the file's placeholder shape; measure it with "
                               "--engine runner")
            continue
        plans[m.sha256] = plan
    return plans
