#!/usr/bin/env bash
# Static checks: ruff (lint) on the whole tree and mypy --strict on toolchain/edgebench, both configured in
# pyproject.toml, from the project venv (scripts/setup.sh installs them with the `test` extra).
# Exits non-zero when either finds a problem; both run, so one CI log shows every finding.
set -uo pipefail
cd "$(dirname "$0")/.."
venv="${EDGEBENCH_VENV:-.venv}"
status=0
"$venv/bin/ruff" check toolchain tests benchmarks || status=1
"$venv/bin/mypy" || status=1
exit "$status"
