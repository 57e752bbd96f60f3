"""Every document that the code, the README or the fixtures' notes name is a file of this repository:
a reader must be able to open what a comment cites. Design notes kept outside the repository
(a DESIGN.md, research/*.md, "methodology §N") are restated where they are used instead.
"""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

TEXT_SUFFIXES = {".py", ".md", ".toml", ".c", ".h", ".sh", ".txt", ".cfg", ".ini", ".yml", ".yaml", ".json"}
SKIPPED_FOLDERS = {".git", ".venv", "node_modules", "__pycache__", "real-device", "build", "dist"}

DOCUMENT = re.compile(r"[\w./-]*\w\.md\b")
OUTSIDE_NOTES = re.compile(r"\bresearch/\w|methodology\W{0,3}§")
# A numbered source in docs/measurement-methodology.md names another project's file, not ours.
EXTERNAL_SOURCE = re.compile(r"^\s*-\s*\[S\d+\w*\]")

# Files whose citations are still to be restated (none today: add one only with a reason).
IN_PROGRESS: set[str] = set()


def text_files(root: Path) -> list[Path]:
    files = []
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if any(p in SKIPPED_FOLDERS or (p.startswith(".") and p != ".ci") for p in parts[:-1]):
            continue
        if path.is_file() and (path.suffix in TEXT_SUFFIXES or path.parent.name == ".ci"):
            files.append(path)
    return files


def dangling_references(root: Path, skip: set[str] = frozenset()) -> list[str]:
    """`file:line: reference` for every cited document that is not a file under `root`."""
    files = text_files(root)
    documents = {p.relative_to(root).as_posix() for p in root.rglob("*.md")
                 if not {".git", ".venv", ".pytest_cache"} & set(p.relative_to(root).parts)}
    problems = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        if rel in skip or rel == "tests/test_doc_references.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if EXTERNAL_SOURCE.match(line):
                continue
            for match in DOCUMENT.finditer(line):
                ref = match.group(0)
                if line[max(0, match.start() - 3):match.start()].endswith(":/") or ref.startswith("//"):
                    continue  # a URL
                name = ref.lstrip("./")
                if not any(doc == name or doc.endswith("/" + name) for doc in documents):
                    problems.append(f"{rel}:{number}: {ref}")
            for match in OUTSIDE_NOTES.finditer(line):
                problems.append(f"{rel}:{number}: {match.group(0)}")
    return problems


def test_every_cited_document_is_in_the_repository() -> None:
    assert dangling_references(REPO, IN_PROGRESS) == []


def test_in_progress_entries_are_still_needed() -> None:
    for rel in IN_PROGRESS:
        assert (REPO / rel).exists(), f"{rel} is gone: delete it from IN_PROGRESS"


def test_checker_finds_a_missing_document(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "PROTOCOL.md").write_text("# protocol\n")
    (tmp_path / "a.py").write_text('"""See docs/PROTOCOL.md and PROTOCOL.md, https://x.org/y.md."""\n'
                                   "# DESIGN.md says so\n"
                                   "# see research/notes.md\n"
                                   "# (methodology §1.4)\n"
                                   "- [S13] Perfetto (google/perfetto `docs/other.md`)\n")
    assert dangling_references(tmp_path) == ["a.py:2: DESIGN.md", "a.py:3: research/notes.md",
                                             "a.py:3: research/n", "a.py:4: methodology §"]
