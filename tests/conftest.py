from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
REAL_MODELS = FIXTURES / "real-device" / "g_tflite_models"


@pytest.fixture(scope="session", autouse=True)
def private_lock_dir(tmp_path_factory: pytest.TempPathFactory):
    """Device locks of the tests never meet those of a real session on this host (or of other test runs)."""
    saved = os.environ.get("EDGEBENCH_LOCK_DIR")
    os.environ["EDGEBENCH_LOCK_DIR"] = str(tmp_path_factory.mktemp("locks"))
    yield
    if saved is None:
        os.environ.pop("EDGEBENCH_LOCK_DIR", None)
    else:
        os.environ["EDGEBENCH_LOCK_DIR"] = saved


@pytest.fixture(scope="session")
def harness_cache() -> Path:
    """Harness builds shared by the tests (keyed by source hash, so always current)."""
    path = Path(os.environ.get("EDGEBENCH_TEST_BUILD_CACHE", REPO / ".pytest_cache" / "harness-builds"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, harness_cache: Path) -> Path:
    """A private workspace so tests never touch ./edgebench-work; harness builds come from the shared cache."""
    ws = tmp_path / "ws"
    monkeypatch.setenv("EDGEBENCH_WORKSPACE", str(ws))
    monkeypatch.delenv("EDGEBENCH_STORE", raising=False)  # results go to the workspace's own SQLite file
    monkeypatch.setenv("EDGEBENCH_HARNESS_CACHE", str(harness_cache))
    return ws


# The longest test files (minutes each on 2 cores: studies, the optimization matrix, lab and battery
# sessions), longest first. scripts/test.sh hands whole files to two workers in collection order
# (--dist loadfile --no-loadscope-reorder); starting with these keeps the run from ending with one
# worker alone on a long file while the other idles.
LONGEST_FIRST = (
    "tests/study/test_shipped_smoke_studies.py",
    "tests/profiling/test_profile_battery.py",
    "tests/optimize/test_matrix.py",
    "tests/cli/test_analysis_of_a_study.py",
    "tests/study/test_run.py",
    "tests/targets/test_lab_faults.py",
    "tests/optimize/test_pipeline.py",
    "tests/profiling/test_profile_battery_rails.py",
    "tests/policy/test_policy_run.py",
    "tests/tune/test_study.py",
    "tests/train/test_sb_training.py",
    "tests/tune/test_screening.py",
    "tests/lab/test_db_outage.py",
    "tests/tune/test_shared_study.py",
    "tests/targets/test_hung_harness.py",
    "tests/lab/test_worker_kill.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    root = Path(str(config.rootpath))
    items.sort(key=lambda item: rank.get(item.path.relative_to(root).as_posix(), len(rank)))  # stable otherwise
