"""Which hardware a benchmark_model run actually used, read from its delegate lines.

benchmark_model says what ran in two kinds of line:

* the interpreter's `Replacing D out of T node(s) with delegate (NAME) node, yielding P partitions`
  (older builds: `Replacing D node(s) ...`), one per delegate that took nodes, in the order applied,
  several in one log when e.g. the GPU delegate takes part of the graph and XNNPACK the rest;
* the tool's own verdict per explicitly requested delegate provider: `Explicitly applied GPU delegate,
  and the model graph will be completely|partially executed by the delegate` or `Though NNAPI
  delegate is explicitly applied, the model graph will not be executed by the delegate`.

Delegates are mapped to the hardware edgebench names (cpu | gpu | npu):
XNNPACK is the CPU; GPU/OpenCL/OpenGL/Metal delegates are the GPU; NNAPI, Hexagon, QNN, Neuron,
Core ML, Edge TPU and Ethos are accelerators edgebench files as npu, except NNAPI on its
`nnapi-reference` device, which is the CPU reference implementation. A delegate not in this table
(an EXTERNAL provider, a vendor plug-in such as "Vx Delegate") has no hardware (None): what it ran
on is not guessed, and the run's accelerator is then not_checked.

Only the requested accelerator's delegate counts toward "fully accelerated": nodes XNNPACK took in
a GPU run ran on the CPU.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_HARDWARE = [
    ("cpu", re.compile(r"xnn", re.IGNORECASE)),
    ("gpu", re.compile(r"gpu|opencl|opengl|metal", re.IGNORECASE)),
    ("npu", re.compile(r"nnapi|hexagon|qnn|neuron|core ?ml|edge ?tpu|ethos|npu", re.IGNORECASE)),
]
NNAPI_CPU_DEVICE = "nnapi-reference"  # NNAPI's own CPU implementation


def hardware_of(delegate: str, nnapi_accelerator: str | None = None) -> str | None:
    """cpu | gpu | npu for a delegate's or provider's name; None when edgebench does not know it."""
    for hardware, rx in _HARDWARE:
        if rx.search(delegate):
            if hardware == "npu" and "nnapi" in delegate.lower() and nnapi_accelerator == NNAPI_CPU_DEVICE:
                return "cpu"
            return hardware
    return None


@dataclass(frozen=True)
class Delegation:
    """`Replacing D out of T node(s) with delegate (NAME) node, yielding P partitions.`"""

    delegate: str
    hardware: str | None  # cpu | gpu | npu, None for a delegate edgebench does not know
    nodes_delegated: int
    nodes_total: int | None  # older builds print only "Replacing D node(s)"
    partitions: int | None


@dataclass(frozen=True)
class DelegateVerdict:
    """benchmark_model's own line about an explicitly applied delegate provider."""

    provider: str  # as printed: GPU, NNAPI, XNNPACK, Hexagon, CoreML, EXTERNAL, ...
    hardware: str | None
    executes: str  # "completely" | "partially" | "not"


@dataclass(frozen=True)
class AcceleratorFinding:
    """What the log says ran, judged against one requested accelerator."""

    requested: str
    used: str | None  # None: the log does not say (note says why)
    fully_accelerated: bool | None  # None for cpu runs and when the log does not say
    nodes_accelerated: int | None  # nodes the requested accelerator's delegate(s) took
    nodes_total: int | None  # the graph's node count before any delegate
    note: str | None  # why `used` differs from `requested`, or why something is unknown


def _describe(d: Delegation) -> str:
    total = f" of {d.nodes_total}" if d.nodes_total is not None else ""
    where = f" ({NNAPI_CPU_DEVICE}: NNAPI's CPU implementation)" if d.hardware == "cpu" and "nnapi" in \
        d.delegate.lower() else ""
    return f"{d.delegate} took {d.nodes_delegated}{total} nodes{where}"


def judge(requested: str, delegations: tuple[Delegation, ...], verdicts: tuple[DelegateVerdict, ...]
          ) -> AcceleratorFinding:
    """The accelerator that ran and whether it ran the whole graph, for `requested` (cpu|gpu|npu)."""
    total = delegations[0].nodes_total if delegations else None  # the first sees the whole graph
    took = [d for d in delegations if d.nodes_delegated > 0]
    unknown = [d for d in took if d.hardware is None]
    if requested == "cpu":
        foreign = [d for d in took if d.hardware not in ("cpu", None)]
        if foreign:
            return AcceleratorFinding(requested, foreign[0].hardware, None, None, total,
                                      f"cpu requested, but {_describe(foreign[0])}")
        if unknown:
            return AcceleratorFinding(requested, None, None, None, total,
                                      f"{_describe(unknown[0])}; edgebench does not know which hardware "
                                      "that delegate drives")
        # No accelerator delegate in the log: the graph ran on CPU kernels (XNNPACK or built-in).
        return AcceleratorFinding(requested, "cpu", None, None, total, None)

    mine = [d for d in took if d.hardware == requested]
    my_verdicts = [v for v in verdicts if v.hardware == requested]
    nodes = sum(d.nodes_delegated for d in mine) if mine else None
    ran_here = bool(mine) or any(v.executes != "not" for v in my_verdicts)
    if not ran_here:
        said = ([f"the log says: {v.provider} delegate explicitly applied, but the model graph will not "
                 "be executed by it" for v in my_verdicts]
                + [_describe(d) for d in took])
        if unknown and not my_verdicts:
            return AcceleratorFinding(requested, None, None, None, total,
                                      f"{_describe(unknown[0])}; edgebench does not know which hardware "
                                      "that delegate drives")
        if not said:
            return AcceleratorFinding(requested, None, None, None, total,
                                      f"the log names no delegate (no 'Replacing ... with delegate' or "
                                      f"'Explicitly applied ... delegate' line), so it does not say whether "
                                      f"the {requested} ran anything; run benchmark_model with --verbose=true")
        other = next((d.hardware for d in took if d.hardware not in ("cpu", None)), "cpu")
        return AcceleratorFinding(requested, other, False, 0, total,
                                  f"no node ran on a {requested} delegate: " + "; ".join(said))

    partial = [d for d in took if d.hardware != requested]
    if any(v.executes == "partially" for v in my_verdicts) or partial:
        why = [_describe(d) for d in mine + partial]
        return AcceleratorFinding(requested, requested, False, nodes, total,
                                  "partly accelerated: " + ("; ".join(why) or "the log says the graph is "
                                                            "partially executed by the delegate"))
    if any(v.executes == "completely" for v in my_verdicts):
        return AcceleratorFinding(requested, requested, True, nodes, total, None)
    if mine and all(d.nodes_total is not None for d in mine):
        fully = all(d.nodes_delegated == d.nodes_total for d in mine)
        return AcceleratorFinding(requested, requested, fully, nodes, total,
                                  None if fully else "partly accelerated: " + "; ".join(map(_describe, mine)))
    return AcceleratorFinding(requested, requested, None, nodes, total,
                              "this benchmark_model build prints no node total and no 'Explicitly applied' "
                              "verdict, so whether the whole graph was delegated is not known")


def requested_hardware(params: dict[str, str], verdicts: tuple[DelegateVerdict, ...],
                       nnapi_accelerator: str | None) -> tuple[str | None, str | None]:
    """(cpu|gpu|npu, None) as the log's parameters and verdicts ask for, or (None, why not)."""
    asked = [v.hardware for v in verdicts]
    for key, value in params.items():
        m = re.fullmatch(r"Use (\w+)\s*", key, re.IGNORECASE)
        if m and value.strip().lower() in ("1", "true"):
            asked.append(hardware_of(m.group(1), nnapi_accelerator))
    accelerators = {h for h in asked if h not in ("cpu",)}
    if None in accelerators:
        return None, "a delegate edgebench does not know was requested"
    if len(accelerators) > 1:
        return None, f"several accelerators were requested ({', '.join(sorted(str(a) for a in accelerators))})"
    if accelerators:
        return accelerators.pop(), None
    if params or verdicts:
        return "cpu", None
    return None, "the text holds none of the tool's parameter lines, so what was requested is not known"
