"""`policy check`: are the files a policy names the files in a model folder (by content, sha256)?"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebench.errors import UsageError
from edgebench.policy.decide import READABLE_SCHEMA_VERSIONS

MODEL_SUFFIXES = (".tflite", ".lite")


@dataclass(frozen=True)
class FileCheck:
    name: str  # the variant's name in the policy
    file: str
    outcome: str  # ok | missing | changed | found_elsewhere
    detail: str


@dataclass(frozen=True)
class CheckResult:
    files: tuple[FileCheck, ...]
    extra: tuple[str, ...]  # model files in the folder the policy does not name

    @property
    def ok(self) -> bool:
        return all(f.outcome == "ok" for f in self.files)


def read_policy(path: str | os.PathLike[str]) -> dict[str, Any]:
    file = Path(path)
    try:
        policy = json.loads(file.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise UsageError(f"no policy file {file}: give the JSON `edgebench policy export` wrote") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{file} is not a policy: expected the JSON `edgebench policy export` writes; {exc}") from None
    if not isinstance(policy, dict) or policy.get("kind") != "edgebench-policy":
        raise UsageError(f"{file} is not a policy: expected a JSON object with \"kind\": \"edgebench-policy\"")
    if policy.get("schema_version") not in READABLE_SCHEMA_VERSIONS:
        raise UsageError(f"{file} has policy schema version {policy.get('schema_version')!r}; this edgebench reads"
                         f" versions {', '.join(map(str, READABLE_SCHEMA_VERSIONS))}: export the policy again")
    return policy


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_policy(policy: dict[str, Any], model_dir: str | os.PathLike[str]) -> CheckResult:
    """Each variant's file in `model_dir` by its name, compared by sha256; a file of the right content under
    another name is reported as found elsewhere (still a mismatch: the app loads by name)."""
    folder = Path(model_dir)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder: give the folder holding the policy's model files")
    present = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in MODEL_SUFFIXES)
    hashes = {p.name: sha256_of(p) for p in present}
    by_hash = {h: n for n, h in hashes.items()}
    checks = []
    named = set()
    for variant in policy["variants"]:
        file, sha = str(variant["file"]), str(variant["sha256"])
        named.add(file)
        if file in hashes and hashes[file] == sha:
            checks.append(FileCheck(variant["name"], file, "ok", "sha256 matches"))
        elif file in hashes:
            checks.append(FileCheck(variant["name"], file, "changed",
                                    f"sha256 {hashes[file][:12]}… differs from the policy's {sha[:12]}…"))
        elif sha in by_hash:
            checks.append(FileCheck(variant["name"], file, "found_elsewhere",
                                    f"missing under its name; the same content is {by_hash[sha]}"))
        else:
            checks.append(FileCheck(variant["name"], file, "missing", f"no {file} in {folder}"))
    return CheckResult(tuple(checks), tuple(n for n in hashes if n not in named))
