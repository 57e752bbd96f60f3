"""The learners a performance model is fitted with (scikit-learn), and the error measures it is judged by.

Each learner fits the logarithm of the measure and predicts its exponential: latencies and energies span
orders of magnitude and the errors that matter are relative (MAPE), so a fit in log space weighs a 20 µs
model's error like a 20 ms model's."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edgebench.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

LEARNERS = ("tree", "forest", "boosting", "mlp")
DEFAULT_LEARNER = "forest"
FOREST_TREES = 256


def make_learner(name: str, seed: int = 0, *, trees: int = FOREST_TREES) -> Any:
    """An unfitted scikit-learn regressor by name: tree (a regression tree), forest (random forest),
    boosting (gradient-boosted trees), mlp (a small neural network on standardized inputs)."""
    import numpy as np
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeRegressor

    regressor: Any
    if name == "tree":
        regressor = DecisionTreeRegressor(random_state=seed)
    elif name == "forest":
        regressor = RandomForestRegressor(n_estimators=trees, max_features=None, random_state=seed, n_jobs=1)
    elif name == "boosting":
        regressor = GradientBoostingRegressor(random_state=seed)
    elif name == "mlp":
        # Inputs and the (log) target standardized: lbfgs on a small net converges on tables of tens of rows.
        regressor = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(32,), activation="tanh",
                                                                 solver="lbfgs", max_iter=5000, random_state=seed))
        regressor = TransformedTargetRegressor(regressor=regressor, transformer=StandardScaler())
    else:
        raise UsageError(f"learner {name!r}: expected one of {', '.join(LEARNERS)}")
    return TransformedTargetRegressor(regressor=regressor, func=np.log, inverse_func=np.exp, check_inverse=False)


def mape_pct(y: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute percentage error: 100/N · Σ |y − ŷ| / y (y > 0)."""
    import numpy as np

    return float(100.0 * np.mean(np.abs(y - predicted) / y))


def nmse(y: np.ndarray, predicted: np.ndarray) -> float:
    """Normalized mean squared error as seed 5 defines it: Σ (y − ŷ)² / (N · mean(ŷ) · mean(y))."""
    import numpy as np

    scale = float(np.mean(y))  # computed on y / mean(y): the same value, without overflow for huge measures
    y, predicted = y / scale, predicted / scale
    return float(np.mean((y - predicted) ** 2) / (np.mean(predicted) * np.mean(y)))


def within_share(y: np.ndarray, predicted: np.ndarray, tolerance: float = 0.10) -> float:
    """The share of predictions within ±tolerance of the measured value (nn-Meter reports ±10 %)."""
    import numpy as np

    return float(np.mean(np.abs(predicted - y) <= tolerance * y))
