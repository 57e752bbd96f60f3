"""Training: `train_model(spec, hyperparameters, store=...)` -> `TrainedModel` (content-addressed).

Artifacts live under `<workspace>/artifacts/` (`ArtifactStore.for_workspace(Workspace.resolve())`).
TensorFlow is imported only when a model is built, trained or loaded.
"""
from __future__ import annotations

from edgebench.optimize.transforms import load_keras
from edgebench.store.artifacts import ArtifactStore, ConvertedModel, Record, TrainedModel, TransformedModel
from edgebench.train.trainer import check_dataset, train_model, trained_id

__all__ = ["ArtifactStore", "ConvertedModel", "Record", "TrainedModel", "TransformedModel", "check_dataset",
           "load_keras", "train_model", "trained_id"]
