"""scikit-learn's 8 x 8 handwritten digits: real data, its ten classes as the latent clusters."""

from __future__ import annotations

import numpy as np
import sklearn.datasets
from sklearn.decomposition import PCA

from moe_core.datasets.dataset import Dataset, assemble
from moe_core.errors import ConfigError
from moe_core.settings.table import DataConfig

PIXELS = 64


def load_digits(cfg: DataConfig) -> Dataset:
    """n_train + n_test of the 1797 images in a seeded order, pixels scaled to [0, 1]; with
    `dim` below 64 their leading principal components, fitted on the training images only."""
    digits = sklearn.datasets.load_digits()
    total = len(digits.target)
    if cfg.n_train + cfg.n_test > total:
        raise ConfigError(
            f"digits has {total} images but data.n_train + data.n_test is {cfg.n_train + cfg.n_test}; lower them."
        )
    if cfg.dim > PIXELS:
        raise ConfigError(f"digits images have {PIXELS} pixels; data.dim ({cfg.dim}) must be {PIXELS} or less.")
    if PIXELS > cfg.dim > cfg.n_train:
        raise ConfigError(
            f"data.dim ({cfg.dim}) principal components need at least as many training images; "
            f"raise data.n_train ({cfg.n_train}) or lower data.dim."
        )
    order = np.random.default_rng(cfg.seed).permutation(total)[: cfg.n_train + cfg.n_test]
    x = digits.data[order] / 16.0
    if cfg.dim < PIXELS:
        x = PCA(n_components=cfg.dim, random_state=0).fit(x[: cfg.n_train]).transform(x)
    y = digits.target[order].astype(np.int64)
    return assemble(cfg, "classification", x, y, y, train=np.arange(cfg.n_train))
