"""edgebench_runner --hash-cache: the library's and model's sha256 are remembered per file and taken
from the cache only while the file's stat (device, inode, size, mtime, ctime) is unchanged."""
from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

from .conftest import QUICK, REAL_MODELS

ADD = REAL_MODELS / "tflm_simple_add_model.tflite"
SETTLE_S = 2  # FILE_HASH_SETTLE_S in file_hash.h


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _entry_of(cache: Path, path: Path) -> Path:
    found = [e for e in cache.iterdir() if e.read_text().rstrip("\n").endswith(" " + str(path))]
    assert len(found) == 1, f"expected one cache entry for {path}, got {found}"
    return found[0]


def _hashes(run_runner, model: Path, lib: Path, cache: Path, *, cached: bool | None = None) -> tuple[str, str]:
    """(library sha256, model sha256) as the runner reports them; `cached`: both must (not) say they came
    from the cache."""
    result = run_runner(model, *QUICK, "--hash-cache", str(cache), lib=lib)
    assert result.returncode == 0, result.stderr
    runtime, setup = result.one("runtime"), result.one("setup")
    if cached is not None:
        assert (runtime["library_sha256_cached"], setup["model_sha256_cached"]) == (cached, cached)
    return runtime["library_sha256"], setup["model_sha256"]


def test_a_hash_is_remembered_once_the_file_settled_and_dropped_when_its_stat_moves(run_runner, litert_lib,
                                                                                   tmp_path):
    lib, model, cache = tmp_path / "libLiteRt.so", tmp_path / "add.tflite", tmp_path / "cache"
    shutil.copyfile(litert_lib, lib)
    shutil.copyfile(ADD, model)

    # Just written: hashed, not remembered (a change in the same clock tick would keep the same ctime).
    assert _hashes(run_runner, model, lib, cache, cached=False) == (_sha(lib), _sha(model))
    assert not cache.exists() or not any(cache.iterdir())

    time.sleep(SETTLE_S + 0.2)
    assert _hashes(run_runner, model, lib, cache, cached=False) == (_sha(lib), _sha(model))
    assert _hashes(run_runner, model, lib, cache, cached=True) == (_sha(lib), _sha(model))
    lib_entry, model_entry = _entry_of(cache, lib), _entry_of(cache, model)

    # Taken from the cache while the stat is unchanged: a planted hash shows that it was read ...
    planted = "0" * 64
    text = model_entry.read_text()
    model_entry.write_text(text.replace(_sha(model), planted))
    assert _hashes(run_runner, model, lib, cache, cached=True)[1] == planted

    # ... and ignored once anything moved the file's ctime, though content, size and mtime are the same.
    os.chmod(model, 0o600)
    assert _hashes(run_runner, model, lib, cache)[1] == _sha(model)

    # A changed library (same path) is hashed again, never reported with the old hash.
    old = _sha(lib)
    with lib.open("ab") as f:
        f.write(b"\0" * 16)  # trailing bytes: dlopen ignores them
    assert _hashes(run_runner, model, lib, cache)[0] == _sha(lib) != old
    assert lib_entry.exists()


def test_an_unusable_cache_only_costs_the_hashing(run_runner, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder should be")
    result = run_runner(ADD, *QUICK, "--hash-cache", str(blocker))
    assert result.returncode == 0, result.stderr
    assert result.one("setup")["model_sha256"] == _sha(ADD)


def test_a_damaged_entry_is_not_believed(run_runner, litert_lib, tmp_path):
    cache = tmp_path / "cache"
    _hashes(run_runner, ADD, litert_lib, cache)  # the repository's files settled long ago
    entry = _entry_of(cache, ADD)
    text = entry.read_text()
    for damaged in (text[:40], text.replace(_sha(ADD), "z" * 64), text + "extra\n", ""):
        entry.write_text(damaged)
        assert _hashes(run_runner, ADD, litert_lib, cache)[1] == _sha(ADD)
