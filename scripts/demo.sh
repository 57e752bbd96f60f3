#!/usr/bin/env bash
# The main job on the embedded default (this host, no phone needed): set up, build the harness,
# measure three small models (two real, one project-made LSTM) at 1 and 2 threads, print the comparison table, write a report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export EDGEBENCH_WORKSPACE="${EDGEBENCH_WORKSPACE:-$PWD/edgebench-work}"
.venv/bin/edgebench harness build
models=fixtures/real-device/g_tflite_models
.venv/bin/edgebench push-and-run \
  "$models/tfls_mobilenet_v1_0.25_224_float.tflite" \
  "$models/tflm_hello_world_int8.tflite" \
  fixtures/models/eb_lstm_unrolled.tflite \
  --target local --protocol smoke --threads 1,2 \
  --report "$EDGEBENCH_WORKSPACE/reports/demo.html"
