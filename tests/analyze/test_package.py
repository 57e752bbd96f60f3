"""`edgebench.analyze`'s face: every public name resolves to the function or record (not a submodule of the
same name), and importing one analysis does not load the others (`edgebench pareto FILE` stays quick)."""
from __future__ import annotations

import subprocess
import sys


def test_public_names_are_the_functions_even_after_their_modules_are_imported():
    import edgebench.analyze as analyze
    import edgebench.analyze.comparison  # noqa: F401
    import edgebench.analyze.hyperparameter_effects  # noqa: F401
    import edgebench.analyze.pruning_sensitivity  # noqa: F401

    for name in analyze.__all__:
        value = getattr(analyze, name)
        assert not isinstance(value, type(sys)), name
    assert callable(analyze.effects) and callable(analyze.sensitivity) and callable(analyze.compare)


def test_fronts_alone_does_not_load_scipy_stats_or_the_store():
    code = ("import sys, edgebench.analyze.fronts; "
            "print(sorted(m for m in ('scipy.stats', 'sqlalchemy', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
