"""The runner's C sources stay split by job (issue #12).

main() in runner.c is the order of the stages and nothing else, no function of the runner is too
long to read, the units never call into runner.c, and the two build lists (build.py for gcc/zig,
CMakeLists.txt for the NDK) name the same sources. Behaviour (lines, messages, exit codes) is held
by the other runner tests; this file holds the shape.
"""
from __future__ import annotations

import re

from edgebench.harness import build as build_mod

SRC = build_mod.SRC_DIR
MAIN_MAX_LINES = 50   # a sequence of calls, readable on one screen
FUNCTION_MAX_LINES = 80


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def c_functions(text: str) -> list[tuple[str, int, int]]:
    """(name, first line, last line) of every function definition in C source text."""
    code = re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', _blank, text,
                  flags=re.S)
    code = re.sub(r"^[ \t]*#[^\n]*(?:\\\n[^\n]*)*", _blank, code, flags=re.M)
    found: list[tuple[str, int, int]] = []
    depth, start = 0, None
    for i, ch in enumerate(code):
        if ch == "{":
            if depth == 0:
                start = _definition_name(code[:i].rstrip())
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0 and start is not None:
                found.append((start[0], start[1], code.count("\n", 0, i) + 1))
                start = None
    return found


def _definition_name(head: str) -> tuple[str, int] | None:
    """The function whose body opens after `head` (text up to a top-level '{'), or None."""
    if not head.endswith(")"):
        return None  # struct, enum or initializer
    j, level = len(head) - 1, 0
    while j >= 0:
        level += {")": 1, "(": -1}.get(head[j], 0)
        if level == 0:
            break
        j -= 1
    m = re.search(r"([A-Za-z_]\w*)\s*$", head[:j])
    return (m.group(1), head.count("\n", 0, m.start(1)) + 1) if m else None


def test_the_scanner_finds_definitions_and_their_lengths():
    text = ('/* f() { */\n#define X(a) { a }\nstatic const int k[] = {1, 2};\n'
            'typedef struct { int a; } s;\nstatic int f(int a,\n             int b) {\n'
            '  const char *t = "}";\n  if (a) { return b; }\n  return 0;\n}\n'
            '__attribute__((noreturn)) int g(void);\nint main(void) { return f(1, 2); }\n')
    assert c_functions(text) == [("f", 5, 10), ("main", 12, 12)]


def test_runner_c_holds_only_a_short_main():
    functions = c_functions((SRC / "runner.c").read_text())
    assert [name for name, _, _ in functions] == ["main"], (
        f"runner.c defines {[name for name, _, _ in functions]}: put helpers in the unit of their job")
    _, first, last = functions[0]
    assert last - first + 1 <= MAIN_MAX_LINES, (
        f"main() is {last - first + 1} lines (at most {MAIN_MAX_LINES}): move the work into a unit")


def test_no_runner_function_is_too_long():
    long = [f"{source}:{first} {name}() {last - first + 1} lines"
            for source in build_mod.RUNNER_SOURCES
            for name, first, last in c_functions((SRC / source).read_text())
            if last - first + 1 > FUNCTION_MAX_LINES]
    assert long == [], f"split these (at most {FUNCTION_MAX_LINES} lines each): {long}"


def test_build_py_and_cmake_compile_the_same_sources():
    c_files = {p.name for p in SRC.glob("*.c")}
    assert set(build_mod.RUNNER_SOURCES) | set(build_mod.SAMPLER_SOURCES) == c_files
    cmake = (build_mod.HARNESS_ROOT / "CMakeLists.txt").read_text()
    for target, sources in (("edgebench_runner", build_mod.RUNNER_SOURCES),
                            ("edgebench_sampler", build_mod.SAMPLER_SOURCES)):
        listed = re.search(rf"add_executable\({target}\s+([^)]*)\)", cmake)
        assert listed is not None, f"CMakeLists.txt has no add_executable({target} ...)"
        assert set(re.findall(r"\$\{SRC\}/(\w+\.c)", listed.group(1))) == set(sources), target
