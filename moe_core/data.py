"""Dataset registry: every dataset as train/test tensors, its task, latent clusters and a 2-D view.

Shapes: N points, D input dim, V = 2 view coordinates.
The same `DataConfig` (including its seed) gives the same data on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from moe_core import toy2d
from moe_core.catalog import DATASETS, Task
from moe_core.config import ConfigError, DataConfig
from moe_core.csvdata import read_csv


@dataclass(frozen=True)
class Projection:
    """An affine map between input space and the 2-D view: view = (x - mean) @ basis.T."""

    mean_D: torch.Tensor
    basis_VD: torch.Tensor

    def to_view(self, x_ND: torch.Tensor) -> torch.Tensor:
        return (x_ND - self.mean_D) @ self.basis_VD.T

    def from_view(self, v_NV: torch.Tensor) -> torch.Tensor:
        return self.mean_D + v_NV @ self.basis_VD


@dataclass(frozen=True)
class Dataset:
    name: str
    task: Task
    n_classes: int  # 0 for a regression
    x_train: torch.Tensor  # [N, D] float32
    y_train: torch.Tensor  # [N] int64 classes or float32 values
    x_test: torch.Tensor
    y_test: torch.Tensor
    cluster_train: torch.Tensor | None  # [N] int64 latent cluster ids, where the generator knows them
    cluster_test: torch.Tensor | None
    projection: Projection
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]

    @property
    def dim(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.task == "classification" else 1

    @property
    def n_clusters(self) -> int:
        return 0 if self.cluster_train is None else int(self.cluster_train.max()) + 1


def make_dataset(cfg: DataConfig) -> Dataset:
    """Build the dataset a DataConfig describes; impossible combinations raise ConfigError."""
    if cfg.name == "csv":
        return _from_csv(cfg)
    if cfg.name == "digits":
        return _digits(cfg)
    spec = DATASETS[cfg.name]
    n = cfg.n_train + cfg.n_test
    if "n_clusters" in spec.knobs:
        x, y, cluster = spec.make(
            n, n_clusters=cfg.n_clusters, dim=cfg.dim, noise=cfg.noise, separation=cfg.separation, seed=cfg.seed
        )
    else:
        x, y, cluster = spec.make(n, noise=cfg.noise, seed=cfg.seed)
        x = toy2d.embed(x, cfg.dim, noise=cfg.noise, seed=cfg.seed)
    return _assemble(cfg, spec.task, x, y, cluster, train=np.arange(cfg.n_train))


def _assemble(cfg, task, x, y, cluster, train, feature_names=None, class_names=None) -> Dataset:
    test = np.setdiff1d(np.arange(len(x)), train)
    x_t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    y_t = torch.from_numpy(np.ascontiguousarray(y))
    c_t = None if cluster is None else torch.from_numpy(np.ascontiguousarray(cluster, dtype=np.int64))
    train_t, test_t = torch.from_numpy(train), torch.from_numpy(test)
    n_classes = int(y.max()) + 1 if task == "classification" else 0
    if class_names is None:
        class_names = tuple(str(i) for i in range(n_classes))
    return Dataset(
        name=cfg.name,
        task=task,
        n_classes=n_classes,
        x_train=x_t[train_t],
        y_train=y_t[train_t],
        x_test=x_t[test_t],
        y_test=y_t[test_t],
        cluster_train=None if c_t is None else c_t[train_t],
        cluster_test=None if c_t is None else c_t[test_t],
        projection=_projection(x[train]),
        feature_names=feature_names or tuple(f"x{i + 1}" for i in range(x.shape[1])),
        class_names=class_names,
    )


def _projection(x_train: np.ndarray) -> Projection:
    """Identity for 2-D inputs; the top two principal components of the training inputs above."""
    dim = x_train.shape[1]
    if dim == 2:
        return Projection(torch.zeros(2), torch.eye(2))
    pca = PCA(n_components=2, random_state=0).fit(x_train)
    return Projection(torch.from_numpy(pca.mean_).float(), torch.from_numpy(pca.components_).float())


def _split(n: int, n_test_share: float, seed: int) -> np.ndarray:
    order = np.random.default_rng(seed).permutation(n)
    n_test = min(n - 1, max(1, round(n * n_test_share)))
    return np.sort(order[n_test:])


def _digits(cfg: DataConfig) -> Dataset:
    digits = load_digits()
    total = len(digits.target)
    if cfg.n_train + cfg.n_test > total:
        raise ConfigError(
            f"digits has {total} images but data.n_train + data.n_test is {cfg.n_train + cfg.n_test}; lower them."
        )
    if cfg.dim > 64:
        raise ConfigError(f"digits images have 64 pixels; data.dim ({cfg.dim}) must be 64 or less.")
    order = np.random.default_rng(cfg.seed).permutation(total)[: cfg.n_train + cfg.n_test]
    x = digits.data[order] / 16.0
    if cfg.dim < 64:
        # Fewer dimensions keep the leading principal components, fitted on the training images only.
        x = PCA(n_components=cfg.dim, random_state=0).fit(x[: cfg.n_train]).transform(x)
    y = digits.target[order].astype(np.int64)
    return _assemble(cfg, "classification", x, y, y, train=np.arange(cfg.n_train))


def _from_csv(cfg: DataConfig) -> Dataset:
    table = read_csv(cfg.csv_path, cfg.target)
    x = table.x_ND
    # Standardised features keep one learning rate sensible for every file.
    x = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
    task: Task = "classification" if table.class_names else "regression"
    y = table.y_N
    if task == "regression":
        y = ((y - y.mean()) / (y.std() if y.std() > 0 else 1.0)).astype(np.float32)
    train = _split(len(x), cfg.n_test / (cfg.n_train + cfg.n_test), cfg.seed)
    return _assemble(cfg, task, x, y, table.cluster_N, train, table.feature_names, table.class_names or None)
