"""Child process for harness_fidelity.py: a tight Python loop over ai_edge_litert, one mode per process.

Prints one JSON line: the median per-inference time (µs) and this process's peak RSS (VmHWM, kB).
"""
from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np


def _vm_hwm_kb() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    mode, model, warmup, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    times: list[float] = []
    if mode == "compiled":
        from ai_edge_litert.compiled_model import CompiledModel
        from ai_edge_litert.cpu_options import CpuOptions
        from ai_edge_litert.hardware_accelerator import HardwareAccelerator
        from ai_edge_litert.options import Options

        cm = CompiledModel.from_file(model, options=Options(hardware_accelerators=HardwareAccelerator.CPU,
                                                           cpu_options=CpuOptions(num_threads=1)))
        inputs, outputs = cm.create_input_buffers(0), cm.create_output_buffers(0)
        run = lambda: cm.run_by_index(0, inputs, outputs)  # noqa: E731
    else:
        from ai_edge_litert.interpreter import Interpreter

        it = Interpreter(model_path=model, num_threads=1)
        it.allocate_tensors()
        for d in it.get_input_details():
            rng = np.random.default_rng(1)
            it.set_tensor(d["index"], rng.random(d["shape"]).astype(d["dtype"]))
        run = it.invoke
    for _ in range(warmup):
        run()
    clock = time.perf_counter_ns
    for _ in range(runs):
        t0 = clock()
        run()
        times.append((clock() - t0) / 1000.0)
    print(json.dumps({"median_us": statistics.median(times), "peak_rss_kb": _vm_hwm_kb()}))


if __name__ == "__main__":
    main()
