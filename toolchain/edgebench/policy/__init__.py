"""The runtime variant policy (issue #16): which measured variant an app runs in a device state.

- `decide.py`: the rule and `choose(policy, state)` (pure, stdlib only: importable by a virtual device);
- `measured.py`: one device model's variants from the variant table and their runs (latency per thermal status);
- `source.py`: read a study's or session's table and stored runs; `export.py`: the policy JSON;
- `check.py`: the policy's files against a model folder; `trace.py`, `simulate.py`, `plot.py`: replay a
  battery/thermal trace under the policy and two baselines;
- `device_table.py`: the flat table the harness driver evaluates on a device, and its record of choices;
  `run.py`: a device follows the policy (`edgebench policy run`), each segment stored as a battery run.
"""
