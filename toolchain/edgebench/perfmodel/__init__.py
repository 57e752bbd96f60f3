"""Performance models: learn a measure (latency, p90, energy per inference) from configurations that were
measured, check them by repeated cross-validation, transfer them to a new environment (device, input
size, threads, runtime) from a small target sample, and suggest what to measure next (seed 5 of the
research: Iqbal, Kotthoff, Jamshidi, OpML 2019).

Pure functions over tables (`PerfTable`); scikit-learn does the learning. Never imports devices, targets,
bench or TensorFlow.
"""
