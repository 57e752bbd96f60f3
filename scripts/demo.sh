#!/usr/bin/env bash
# The main job on the embedded default (this host, no phone needed): set up, then the cnn_image
# smoke study: train the digits CNN, tune it, make pruned / dynamic-range / float16 / int8 variants,
# convert and validate them with LiteRT, measure every .tflite on this host with the native harness,
# and write the comparison report (the last line printed is its path).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export EDGEBENCH_WORKSPACE="${EDGEBENCH_WORKSPACE:-$PWD/edgebench-work}"
"${EDGEBENCH_VENV:-.venv}/bin/edgebench" study run models/cnn_image.toml --budget smoke --target local
