#!/usr/bin/env bash
# Installs everything edgebench needs on a fresh Debian machine: the Debian packages listed in
# .ci/apt-packages.txt and a virtualenv (.venv) with edgebench and every extra. Idempotent and quick
# when nothing changed (a stamp holds the hash of what it installed and of the interpreter).
# EDGEBENCH_PYTHON picks the interpreter the venv is made from (default: python3 on PATH), e.g.
# EDGEBENCH_PYTHON=/usr/bin/python3 for Debian's or Ubuntu's own; a venv made from another one is remade.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${EDGEBENCH_VENV:-.venv}"
PYTHON="${EDGEBENCH_PYTHON:-python3}"
stamp="$VENV/.edgebench-setup"
# Which interpreter a python is made from (a venv's python reports its base's prefix).
identify='import platform, sys; print(sys.base_prefix, platform.python_version())'
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "setup: EDGEBENCH_PYTHON=$PYTHON is not an interpreter on this machine; expected python3 3.10+ (e.g. /usr/bin/python3)" >&2
  exit 1
fi
interpreter=$("$PYTHON" -c "$identify")
want=$( (cat pyproject.toml .ci/apt-packages.txt 2>/dev/null; echo "$interpreter") | sha256sum | cut -d' ' -f1)
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

if [ -x "$VENV/bin/python" ] && [ "$("$VENV/bin/python" -c "$identify" 2>/dev/null)" != "$interpreter" ]; then
  echo "setup: $VENV was made from another Python than $PYTHON ($interpreter); making it again"
  rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV from $PYTHON ($interpreter)"
  "$PYTHON" -m venv "$VENV"
fi
echo "setup: installing edgebench with every extra into $VENV (first time: a few minutes)"
"$VENV/bin/python" -m pip install -q --upgrade pip
# Not the `torch` extra (litert-torch, about 2.1 GB): README "Models from PyTorch" says how to add it.
"$VENV/bin/python" -m pip install -q -e ".[train,test,cross,parquet,bench,lab,quantize]"
# The aarch64 LiteRT runtime, for boards and arm64 virtual devices (downloaded here, never during a run).
"$VENV/bin/edgebench" harness fetch-runtime --abi aarch64-linux
echo "$want" > "$stamp"
echo "$interpreter" > "$VENV/.edgebench-python"  # for people: which Python made this venv
echo "setup: done"
