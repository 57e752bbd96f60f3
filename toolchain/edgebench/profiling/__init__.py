"""Battery profiling runs (docs/measurement-methodology.md §4.1): device state, power path, sessions."""
