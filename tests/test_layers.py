"""Layers import downwards only: every import in toolchain/edgebench, at module level or inside a
function, goes to the importer's own layer or a lower one, and no two folders import each other
in a circle. ARCHITECTURE.md shows the same table; the allowed exceptions are listed below, each
with its reason.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "toolchain" / "edgebench"

# Lowest first (layer 1, as in ARCHITECTURE.md). A unit is a subpackage (folder) or a module at the
# package root; "edgebench" is the package's own __init__.py (its __version__). A unit may import units
# of its own layer or lower.
LAYERS: list[tuple[str, frozenset[str]]] = [
    ("core: errors, records and small shared helpers",
     frozenset({"edgebench", "errors", "records", "options", "package_files", "version", "workspace", "user_files", "stats",
                "protocols"})),
    ("pure data: device-output parsers, datasets, the stores",
     frozenset({"parsers", "datasets", "store"})),
    ("analysis: pure functions over tables (reads records, the store and stats only)", frozenset({"analyze"})),
    ("readers of files: harness output, inspect, model zoo, battery maths, the C harness' tools; performance models",
     frozenset({"harness", "inspect", "zoo", "battery", "android_harness", "perfmodel"})),
    ("adb transport and the virtual device", frozenset({"devices", "virtual"})),
    ("targets: where a run happens", frozenset({"targets"})),
    ("bench: deploy, run, collect, validate, record", frozenset({"bench"})),
    ("on top of bench: battery profiling, reports, the public API, lineage",
     frozenset({"profiling", "report", "api", "lineage", "lab", "policy"})),
    ("optimize: recipes, transforms, conversion of a trained model", frozenset({"optimize"})),
    ("study spec (its optimize recipes are checked against optimize's catalog)", frozenset({"spec"})),
    ("train", frozenset({"train"})),
    ("tune", frozenset({"tune"})),
    ("study: the orchestrator", frozenset({"study"})),
    ("cli", frozenset({"cli"})),
]

IN_PROGRESS = "moved by issue #12's Android layer / run pipeline, in progress"


@dataclass(frozen=True)
class Allowed:
    """An upward import that is allowed: `source` (path under edgebench/) may import `target`."""
    source: str
    target: str
    lazy: bool  # True: the import must stay inside a function
    reason: str
    temporary: bool = False


ALLOWED: list[Allowed] = [
    Allowed("__init__.py", "edgebench.api", True,
            "the package's face hands out push_and_run/inspect_file/open_store on first use (PEP 562)"),
]


@dataclass(frozen=True)
class Import:
    source: str  # path under the package root, e.g. "bench/execute.py"
    target: str  # dotted module, e.g. "edgebench.store.db"
    line: int
    lazy: bool  # inside a function or an `if TYPE_CHECKING:` block: not run at import


def module_names(root: Path, package: str) -> set[str]:
    names = set()
    for path in root.rglob("*.py"):
        parts = (package, *path.relative_to(root).with_suffix("").parts)
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def imports_of(root: Path, package: str) -> list[Import]:
    """Every import of `package` by a module under `root`, with whether it sits inside a function."""
    known = module_names(root, package)
    found: list[Import] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        parts = [package, *rel.with_suffix("").parts]
        own_package = ".".join(parts[:-1])  # an __init__'s own package is its folder
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        lazy_nodes = {id(inner) for node in ast.walk(tree) if _runs_later(node) for inner in ast.walk(node)}
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = own_package.split(".")[:len(own_package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                # `from edgebench import inspect` imports the submodule edgebench.inspect
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            for target in dict.fromkeys(targets):
                if target == package or target.startswith(package + "."):
                    found.append(Import(str(rel.as_posix()), target, node.lineno, id(node) in lazy_nodes))
    return found


def _runs_later(node: ast.AST) -> bool:
    """A function body runs when called; an `if TYPE_CHECKING:` block never runs."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return True
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def unit_of_path(source: str) -> str:
    first = source.split("/")[0]
    return "edgebench" if first == "__init__.py" else first.removesuffix(".py")


def unit_of_module(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def layer_index(layers: list[tuple[str, frozenset[str]]]) -> dict[str, int]:
    return {unit: i for i, (_, units) in enumerate(layers) for unit in units}


def is_allowed(imp: Import, allowed: list[Allowed]) -> bool:
    return any(a.source == imp.source and a.target == imp.target and (imp.lazy or not a.lazy) for a in allowed)


def upward_imports(imports: list[Import], layers: list[tuple[str, frozenset[str]]],
                   allowed: list[Allowed]) -> list[str]:
    index = layer_index(layers)
    problems = []
    for imp in imports:
        src, dst = unit_of_path(imp.source), unit_of_module(imp.target)
        if index[dst] > index[src] and not is_allowed(imp, allowed):
            problems.append(f"{imp.source}:{imp.line} imports {imp.target}{' (inside a function)' if imp.lazy else ''}:"
                            f" layer {index[src] + 1} '{src}' may not import layer {index[dst] + 1} '{dst}'")
    return problems


def folder_cycles(imports: list[Import], allowed: list[Allowed]) -> list[list[str]]:
    """Circles of units (folders) importing each other, allowed imports left out."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        src, dst = unit_of_path(imp.source), unit_of_module(imp.target)
        if src != dst and not is_allowed(imp, allowed):
            graph.setdefault(src, set()).add(dst)
    # Tarjan's strongly connected components
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in order:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], order[nxt])
        if low[node] == order[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in order:
            visit(node)
    return circles


# -- the package ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def package_imports() -> list[Import]:
    return imports_of(PACKAGE_ROOT, "edgebench")


def test_every_folder_and_root_module_has_a_layer() -> None:
    units = {p.name for p in PACKAGE_ROOT.iterdir() if p.is_dir() and any(p.rglob("*.py"))}
    units |= {p.stem for p in PACKAGE_ROOT.glob("*.py") if p.name != "__init__.py"} | {"edgebench"}
    placed = layer_index(LAYERS)
    assert units - placed.keys() == set(), "place every new folder or root module in LAYERS (and ARCHITECTURE.md)"
    assert placed.keys() - units == set(), "LAYERS names a folder or module that no longer exists"


def test_no_import_runs_up_a_layer(package_imports: list[Import]) -> None:
    assert upward_imports(package_imports, LAYERS, ALLOWED) == []


def test_no_circle_between_folders(package_imports: list[Import]) -> None:
    assert folder_cycles(package_imports, ALLOWED) == []


def test_every_allowed_exception_is_still_needed(package_imports: list[Import]) -> None:
    """A stale entry would silently allow the import back; delete it when its import is gone."""
    index = layer_index(LAYERS)
    for entry in ALLOWED:
        hits = [i for i in package_imports if i.source == entry.source and i.target == entry.target]
        assert hits, f"{entry.source} no longer imports {entry.target}: delete its ALLOWED entry"
        assert index[unit_of_module(entry.target)] > index[unit_of_path(entry.source)], \
            f"{entry.source} -> {entry.target} does not run up a layer: delete its ALLOWED entry"
        assert all(i.lazy for i in hits) or not entry.lazy, f"{entry.source} now imports {entry.target} eagerly"


# -- the checker itself, on a made-up package ---------------------------------------------------------

def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


TOY_LAYERS = [("low", frozenset({"pkg", "low", "side"})), ("high", frozenset({"high"}))]


def test_checker_finds_an_upward_import_inside_a_function(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "__init__.py": "", "low/__init__.py": "", "high/__init__.py": "", "side/__init__.py": "",
        "high/b.py": "from pkg.low import a\n",
        "low/a.py": "def f():\n    from pkg.high import b\n    return b\n",
    })
    problems = upward_imports(imports_of(root, "pkg"), TOY_LAYERS, [])
    assert problems == ["low/a.py:2 imports pkg.high.b (inside a function): "
                        "layer 1 'low' may not import layer 2 'high'"]
    allowed = [Allowed("low/a.py", "pkg.high.b", True, "test")]
    assert upward_imports(imports_of(root, "pkg"), TOY_LAYERS, allowed) == []


def test_checker_resolves_relative_and_from_package_imports(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "__init__.py": "", "low/__init__.py": "from ..high import b\n", "high/__init__.py": "",
        "high/b.py": "", "side/__init__.py": "", "low/c.py": "from pkg import high\n",
    })
    problems = upward_imports(imports_of(root, "pkg"), TOY_LAYERS, [])
    assert [p.split(" imports ")[0] for p in problems] == ["low/__init__.py:1", "low/c.py:1"]
    # an eager import is not covered by an exception granted for a lazy one
    assert len(upward_imports(imports_of(root, "pkg"), TOY_LAYERS, [Allowed("low/c.py", "pkg.high", True, "t")])) == 2


def test_checker_finds_a_circle_inside_one_layer(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "__init__.py": "", "low/__init__.py": "", "high/__init__.py": "", "side/__init__.py": "",
        "low/a.py": "import pkg.side.s\n", "side/s.py": "def g():\n    import pkg.low.a\n",
    })
    imports = imports_of(root, "pkg")
    assert upward_imports(imports, TOY_LAYERS, []) == []
    assert folder_cycles(imports, []) == [["low", "side"]]
