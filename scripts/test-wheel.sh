#!/usr/bin/env bash
# What a user of the wheel gets: builds edgebench's wheel, installs it (with the `test` extra, no
# TensorFlow) into a fresh venv OUTSIDE the checkout made from the system Python (Debian 12: 3.11.2,
# no tarfile data filter), and from a folder outside the checkout measures a model on the local target
# and on a virtual device through a private adb server; then runs the adb-target tests against the
# installed package. Called by .ci/run after the main suite. Arguments replace those tests
# (pytest arguments, e.g. tests/targets/test_virtual_lab.py).
# EDGEBENCH_WHEEL_PYTHON picks the interpreter (default /usr/bin/python3, else python3).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
python="${EDGEBENCH_WHEEL_PYTHON:-/usr/bin/python3}"
[ -x "$python" ] || python=$(command -v python3)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/edgebench-wheel.XXXXXX")
adb_env=()
cleanup() {
  if [ ${#adb_env[@]} -gt 0 ]; then
    env "${adb_env[@]}" "$tmp/venv/bin/edgebench" --workspace "$tmp/work" virtual-device stop --all >/dev/null 2>&1 || true
    env "${adb_env[@]}" "$adb" kill-server >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
say() { echo "test-wheel: $*"; }

say "making a fresh venv from $python ($("$python" --version 2>&1))"
"$python" -m venv "$tmp/venv"
venv_python="$tmp/venv/bin/python"
"$venv_python" -m pip install -q --upgrade pip

say "building the wheel"
# From a copy of the checkout's files (tracked and new, not ignored): no stale build/ folder can
# slip a file into the wheel that the package data no longer lists.
mkdir "$tmp/src"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar cf - --no-recursion) | tar xf - -C "$tmp/src"
"$venv_python" -m pip wheel -q --no-deps -w "$tmp/dist" "$tmp/src"
wheel=$(ls "$tmp"/dist/edgebench-*.whl)
say "installing $(basename "$wheel") with the test extra"
"$venv_python" -m pip install -q "${wheel}[test]"

mkdir -p "$tmp/work" "$tmp/elsewhere"
cd "$tmp/elsewhere"  # no checkout on the path: everything must come from the installed package
installed=$("$venv_python" -c 'import edgebench; print(edgebench.__file__)')
case "$installed" in
  "$tmp/venv/"*) say "edgebench imported from $installed" ;;
  *) echo "test-wheel: edgebench was imported from $installed, not from the installed wheel" >&2; exit 1 ;;
esac
model="$repo/fixtures/real-device/g_tflite_models/tflm_simple_add_model.tflite"
edgebench=("$tmp/venv/bin/edgebench" --workspace "$tmp/work")

say "push-and-run on the local target"
"${edgebench[@]}" push-and-run "$model" --target local --protocol smoke

say "push-and-run on a virtual device (private adb server)"
adb=$("$venv_python" -c 'import adbutils, pathlib; print(pathlib.Path(adbutils.__file__).parent / "binaries" / "adb")')
port=$("$venv_python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# tcp:localhost for the adb binary itself: adb starts a server only for a local host name.
env ADB_SERVER_SOCKET="tcp:localhost:$port" "$adb" start-server
adb_env=(ADB_SERVER_SOCKET="tcp:localhost:$port")
env "${adb_env[@]}" "${edgebench[@]}" virtual-device start --profile pixel-8-like
serial=$(env "${adb_env[@]}" "$adb" devices | awk 'NR > 1 && $2 == "device" { print $1; exit }')
[ -n "$serial" ] || { echo "test-wheel: the virtual device did not appear in adb devices" >&2; exit 1; }
env "${adb_env[@]}" "${edgebench[@]}" push-and-run "$model" --target "$serial" --protocol smoke
env "${adb_env[@]}" "${edgebench[@]}" virtual-device stop --all
env "${adb_env[@]}" "$adb" kill-server
adb_env=()

say "adb-target tests against the installed package"
# A plugin that fails the session if the tests would import edgebench from anywhere but the wheel.
cat > "$tmp/wheel_check.py" <<EOF
def pytest_sessionstart(session):
    import edgebench
    assert edgebench.__file__.startswith("$tmp/venv/"), f"edgebench imported from {edgebench.__file__}"
EOF
cd "$repo"
tests=("$@")
# The device contract, locks, Android services, safe tar (Debian 3.11.2 has no tar data filter), the
# virtual lab and the virtual device itself. The fault-injection sessions (test_lab_faults.py,
# test_hung_harness.py: minutes of real-time waits) test session logic the main suite already ran.
[ ${#tests[@]} -gt 0 ] || tests=(tests/targets --ignore=tests/targets/test_lab_faults.py
                                 --ignore=tests/targets/test_hung_harness.py tests/virtual/test_device.py)
# One worker: two workers' virtual devices can pick the same free port at the same moment.
PYTHONPATH="$tmp" EDGEBENCH_TEST_BUILD_CACHE="$tmp/harness-builds" \
  "$venv_python" -m pytest -p wheel_check -p no:cacheprovider -q -p no:xdist "${tests[@]}"
say "done"
