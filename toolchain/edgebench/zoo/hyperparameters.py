"""Hyperparameter domains of the zoo: what each builder accepts, and the study's defaults.

A domain is the set of values a builder can take (`choices`, or inclusive `low`..`high` bounds).
A study spec's search space must lie inside it. Defaults are the seed study's (Liao, Li, Shang,
Ma, ACM TOSEM 2022; its replication package's hyperparameter table), so a spec that omits a hyperparameter trains the study's default.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from edgebench.errors import UsageError

Value = int | float | str


@dataclass(frozen=True)
class HyperparameterDef:
    name: str
    value_type: type  # int, float or str
    default: Value
    description: str
    choices: tuple[Value, ...] | None = None  # None: a range
    low: float | None = None
    high: float | None = None
    stage: str = "model"  # model (builder) | compile (builder: loss/optimizer) | fit (train_model)

    def describe_domain(self) -> str:
        if self.choices is not None:
            return ", ".join(repr(c) for c in self.choices)
        return f"{self.value_type.__name__} in [{self.low:g}, {self.high:g}]"

    def coerce(self, value: Any) -> Value:
        """`value` as this hyperparameter's type, or ValueError saying what was wrong."""
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"expected {self.value_type.__name__}, got {type(value).__name__} {value!r}")
        if self.value_type is str:
            if not isinstance(value, str):
                raise ValueError(f"expected a string, got {type(value).__name__} {value!r}")
            return value
        if isinstance(value, str):
            raise ValueError(f"expected {self.value_type.__name__}, got string {value!r}")
        if self.value_type is int:
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError(f"expected an integer, got {value!r}")
                value = int(value)
            return int(value)
        return float(value)

    def check(self, value: Any) -> Value:
        """Coerce and check that `value` lies in the domain; ValueError names the allowed values."""
        v = self.coerce(value)
        if self.choices is not None:
            if v not in self.choices:
                raise ValueError(f"{v!r} is not allowed; allowed: {self.describe_domain()}")
        elif not (self.low <= v <= self.high):  # type: ignore[operator]
            raise ValueError(f"{v!r} is out of range; allowed: {self.describe_domain()}")
        return v


OPTIMIZERS = ("sgd", "rmsprop", "adam", "adadelta", "adagrad", "adamax", "nadam", "ftrl")
ACTIVATIONS = ("tanh", "relu", "sigmoid")
IMAGE_LOSSES = ("categorical_crossentropy", "poisson", "kl_divergence")
TEXT_LOSSES = ("binary_crossentropy", "poisson", "kl_divergence")
_SIZE = dict(value_type=int, low=1, high=4096)


def dropout(default: float = 0.5) -> HyperparameterDef:
    return HyperparameterDef("dropout", float, default, "dropout rate before the classifier",
                             low=0.0, high=0.99)


def activation(default: str = "relu") -> HyperparameterDef:
    return HyperparameterDef("activation", str, default, "activation of the tuned layers",
                             choices=ACTIVATIONS)


def training(*, losses: tuple[str, ...], loss: str, learning_rate: float, batch_size: int,
             epochs: int) -> tuple[HyperparameterDef, ...]:
    """The study's D3 dimension: loss, optimizer, learning rate, batch size, epochs."""
    return (
        HyperparameterDef("loss", str, loss, "training loss (on one-hot labels)", choices=losses,
                          stage="compile"),
        HyperparameterDef("optimizer", str, "adam", "Keras optimizer", choices=OPTIMIZERS, stage="compile"),
        HyperparameterDef("learning_rate", float, learning_rate, "optimizer learning rate",
                          low=1e-6, high=1.0, stage="compile"),
        HyperparameterDef("batch_size", int, batch_size, "training batch size", low=1, high=65536,
                          stage="fit"),
        HyperparameterDef("epochs", int, epochs, "training epochs", low=1, high=1000, stage="fit"),
    )


def size(name: str, default: int, description: str) -> HyperparameterDef:
    return HyperparameterDef(name, default=default, description=description, **_SIZE)  # type: ignore[arg-type]


def kernel_size(default: int) -> HyperparameterDef:
    return HyperparameterDef("kernel_size", int, default, "convolution kernel size", low=1, high=15)


def resolve(defs: tuple[HyperparameterDef, ...], values: Mapping[str, Any], *,
            where: str) -> dict[str, Value]:
    """Every hyperparameter of `defs`: `values` where given (checked), the default otherwise."""
    by_name = {d.name: d for d in defs}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        raise UsageError(f"{where}: unknown hyperparameter(s) {', '.join(unknown)}; "
                         f"allowed: {', '.join(by_name)}")
    out: dict[str, Value] = {}
    for d in defs:
        if d.name in values:
            try:
                out[d.name] = d.check(values[d.name])
            except ValueError as exc:
                raise UsageError(f"{where}: hyperparameter {d.name}: {exc}") from None
        else:
            out[d.name] = d.default
    return out
