#!/usr/bin/env bash
# Installs everything edgebench needs on a fresh Debian machine: the Debian packages listed in
# .ci/apt-packages.txt and a virtualenv (.venv) with edgebench and every extra. Idempotent and quick
# when nothing changed (a stamp holds the hash of what it installed).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${EDGEBENCH_VENV:-.venv}"
stamp="$VENV/.edgebench-setup"
want=$(cat pyproject.toml .ci/apt-packages.txt 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

missing=""
for pkg in $(grep -v '^[[:space:]]*#' .ci/apt-packages.txt 2>/dev/null | sort -u); do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "setup: these Debian packages are missing:$missing" >&2
    echo "setup: install them as root (apt-get install$missing) and run this again." >&2
    exit 1
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  python3 -m venv "$VENV"
fi
echo "setup: installing edgebench with every extra into $VENV (first time: a few minutes)"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[train,test,cross,parquet,bench]"
# The aarch64 LiteRT runtime, for boards and arm64 virtual devices (downloaded here, never during a run).
"$VENV/bin/edgebench" harness fetch-runtime --abi aarch64-linux
echo "$want" > "$stamp"
echo "setup: done"
