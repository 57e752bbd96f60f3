"""Battery profiling runs (research/measurement-methodology.md §4.1): device state, power path, sessions."""
