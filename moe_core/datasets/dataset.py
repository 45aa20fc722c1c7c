"""A dataset as the trainer sees it: train/test tensors, the task, latent clusters and a 2-D view.

Shapes: N points, D input dim, V = 2 view coordinates.
The same `DataConfig` (its seed included) gives the same data on every machine.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.decomposition import PCA

from moe_core.datasets import DATASETS, SHIFT_STEP, Task
from moe_core.datasets.shift import shifted, with_view_of
from moe_core.datasets.toy2d import embed
from moe_core.errors import ConfigError
from moe_core.settings.registry import Entry
from moe_core.settings.table import DataConfig


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
    patches: int = 1  # equal-length patches the input is made of (Chen et al. 2022's four), for patch experts
    # The generator's hidden directions by name ([K, D] or [D] unit vectors), where it has them (Kawata).
    directions: dict[str, np.ndarray] | None = None
    # Fresh training points from the generator, (x [B, D], y [B]) from a numpy Generator; None for a fixed set.
    draw: Callable[[int, np.random.Generator], tuple[torch.Tensor, torch.Tensor]] | None = None
    # The data from `shift_step` on (`moe_core.datasets.shift`), in this dataset's view; None without a shift.
    after_shift: Dataset | None = None
    shift_step: int | None = None

    @property
    def dim(self) -> int:
        return self.x_train.shape[1]

    @property
    def classification(self) -> bool:
        return self.task == "classification"

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.classification else 1

    @property
    def n_clusters(self) -> int:
        return 0 if self.cluster_train is None else int(self.cluster_train.max()) + 1

    @property
    def value_kind(self) -> str:
        return value_kind(self.classification, self.n_outputs)


def value_kind(classification: bool, n_outputs: int) -> str:
    """What one number per point means on a map (`probe.output_value`): "probability" of class 1 with
    two classes, the predicted "class" with more, or a regression's "value"."""
    if not classification:
        return "value"
    return "probability" if n_outputs == 2 else "class"


def make_dataset(cfg: DataConfig) -> Dataset:
    """Build the dataset a DataConfig describes; impossible combinations raise ConfigError."""
    spec = DATASETS[cfg.name]
    if spec.loader:
        return spec.implementation()(cfg)
    knobs = spec.knobs(cfg)
    if cfg.shift_step is not None and SHIFT_STEP in spec.uses:
        build = functools.partial(_assemble_all, cfg, spec)
        before, after = shifted(cfg, spec, build)
        return dataclasses.replace(before, after_shift=with_view_of(after, before), shift_step=cfg.shift_step)
    if spec.planar:
        x, y, cluster = spec.implementation()(cfg.n_train + cfg.n_test, seed=cfg.seed, **knobs)
        x = embed(x, cfg.dim, noise=cfg.noise, seed=cfg.seed)
    else:
        x, y, cluster = spec.implementation()(cfg.n_train + cfg.n_test, seed=cfg.seed, **knobs)
    data = assemble(cfg, spec.task, x, y, cluster, train=np.arange(cfg.n_train), patches=spec.patches)
    if not spec.directions:
        return data
    directions, _ = Entry("", "", impl=spec.directions).implementation()(cfg.n_clusters, cfg.dim, cfg.seed)
    draw = None
    if cfg.sampling == "online":
        draw = functools.partial(
            _draw_online,
            Entry("", "", impl=spec.draw).implementation(),
            directions,
            cfg.noise,
            cfg.separation,
            cfg.input_scale,
        )
    return dataclasses.replace(data, directions=directions, draw=draw)


def _assemble_all(cfg: DataConfig, spec, x, y, cluster) -> Dataset:
    return assemble(cfg, spec.task, x, y, cluster, train=np.arange(cfg.n_train), patches=spec.patches)


def _draw_online(draw, directions, noise: float, separation: float, scale: float, n: int, rng: np.random.Generator):
    x, y, _ = draw(n, rng, directions, noise=noise, separation=separation)
    return torch.from_numpy(x * np.float32(scale)), torch.from_numpy(y)


def assemble(
    cfg: DataConfig, task: Task, x, y, cluster, train, feature_names=None, class_names=None, patches: int = 1
) -> Dataset:
    """Tensors from numpy arrays, inputs times `data.input_scale`; the rows not in `train` are the test set."""
    test = np.setdiff1d(np.arange(len(x)), train)
    x = np.asarray(x, dtype=np.float32) * np.float32(cfg.input_scale)
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
        patches=patches,
    )


def _projection(x_train: np.ndarray) -> Projection:
    """Identity for 2-D inputs; the top two principal components of the training inputs above."""
    if x_train.shape[1] == 2:
        return Projection(torch.zeros(2), torch.eye(2))
    if len(x_train) < 2:
        raise ConfigError(
            f"Drawing {x_train.shape[1]}-dimensional inputs on the map needs at least 2 training points, got "
            f"{len(x_train)}; raise data.n_train."
        )
    pca = PCA(n_components=2, random_state=0).fit(x_train)
    return Projection(torch.from_numpy(pca.mean_).float(), torch.from_numpy(pca.components_).float())
