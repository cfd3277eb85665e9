"""The train/test split every data set and loader returns (its own module, so the generators and the
file loaders both use it without importing each other)."""

from dataclasses import dataclass, field

import numpy as np

KINDS = ("binary", "multiclass", "regression")


@dataclass
class Split:
    """A train/test split with what the lab needs to show and train on it."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    kind: str
    name: str = ""
    n_classes: int = 0
    feature_names: list = field(default_factory=list)
    symmetry_mask: int = 0
    image_side: int = 0
    window: tuple = ((-6.0, 6.0), (-6.0, 6.0))

    @property
    def n_features(self):
        return self.X_train.shape[1]

    @property
    def is_2d(self):
        return self.n_features == 2 and self.image_side == 0


def to_indicator(y, k):
    """One-hot (n, k) float matrix from integer labels 0..k-1 (the primer's y2indicator)."""
    y = np.asarray(y)
    if y.ndim != 1 or np.any(y < 0) or np.any(y >= k) or np.any(y != np.round(y)):
        raise ValueError(f"to_indicator needs a 1-D array of integer labels in 0..{k - 1}")
    T = np.zeros((y.size, k))
    T[np.arange(y.size), y.astype(np.int64)] = 1.0
    return T


def to_pm1(y):
    """Binary labels 0/1 as -1/+1 (for hinge loss)."""
    y = np.asarray(y)
    if not set(np.unique(y).tolist()) <= {0, 1}:
        raise ValueError("to_pm1 needs binary labels 0/1")
    return 2 * y.astype(np.int64) - 1
