"""A dataset the user draws: Gaussian blobs around centres placed on the plane (the sidebar's editor, or
`data.centres`), every point of a blob of its centre's class, its latent cluster its centre's index.

TensorFlow Playground's users asked most for their own data; this is the smallest version that still
lets routing re-partition the plane as the centres move. Shapes: N points, K centres.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from moe_core.datasets.centres import CLASSES, parse_centres
from moe_core.datasets.dataset import Dataset, assemble
from moe_core.settings.table import DataConfig


def make_drawn(n_samples: int, *, centres: str, noise: float, seed: int):
    """(x_N2, y_N, cluster_N): each point from a centre drawn uniformly, plus N(0, noise^2 I)."""
    table_K3 = np.asarray(parse_centres(centres), dtype=np.float64)
    rng = np.random.default_rng(seed)
    cluster_N = rng.integers(0, len(table_K3), size=n_samples)
    x_N2 = table_K3[cluster_N, :2] + noise * rng.standard_normal((n_samples, 2))
    return x_N2.astype(np.float32), table_K3[cluster_N, 2].astype(np.int64), cluster_N.astype(np.int64)


def load_drawn(cfg: DataConfig) -> Dataset:
    """The drawn dataset, always with two classes: centres of one class only still train a two-class
    model, so a running model keeps its outputs when the centres change (a live change)."""
    x, y, cluster = make_drawn(cfg.n_train + cfg.n_test, centres=cfg.centres, noise=cfg.noise, seed=cfg.seed)
    names = tuple(str(c) for c in CLASSES)
    data = assemble(cfg, "classification", x, y, cluster, train=np.arange(cfg.n_train), class_names=names)
    return dataclasses.replace(data, n_classes=len(CLASSES))
