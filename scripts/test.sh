#!/usr/bin/env bash
# Runs the whole test suite, setting the machine up first. Extra arguments go to pytest.
# Two workers, one test file each at a time (module fixtures such as a virtual phone stay in one
# worker): the battery-profiling tests mostly wait on real-time windows while the training tests
# compute, so the suite takes about half its serial time. Files run in collection order, the longest first
# (tests/conftest.py: LONGEST_FIRST). EDGEBENCH_TEST_WORKERS=0 runs it serially.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
workers="${EDGEBENCH_TEST_WORKERS:-2}"
venv="${EDGEBENCH_VENV:-.venv}"  # the one setup.sh made
if [ "$workers" = 0 ]; then
  exec "$venv/bin/python" -m pytest "$@"
fi
exec "$venv/bin/python" -m pytest -n "$workers" --dist loadfile --no-loadscope-reorder "$@"
