"""The dataset catalog: each dataset's name, task, knobs, the meaning of its noise, and suitable defaults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from moe_core import cluster_tasks, toy2d
from moe_core.config import DataConfig

Task = Literal["classification", "regression"]


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    task: Task
    description: str
    knobs: tuple[str, ...]  # DataConfig fields the generator reads, besides n_train, n_test and seed
    noise: str  # what `noise` means here
    defaults: dict  # DataConfig values that suit this dataset (the UI and CLI start from them)
    make: Callable | None = None


_TOY_KNOBS = ("noise", "dim")
_CLUSTER_KNOBS = ("noise", "n_clusters", "dim", "separation")
_JITTER = "std of the jitter applied to coordinates before labelling (label noise near boundaries)"

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "clusters",
            "classification",
            "K blobs, each with its own linear class boundary",
            _CLUSTER_KNOBS,
            _JITTER,
            {},
            cluster_tasks.make_clusters,
        ),
        DatasetSpec(
            "clusters_regression",
            "regression",
            "K blobs, each with its own linear function",
            _CLUSTER_KNOBS,
            "std of Gaussian noise on the target",
            {},
            cluster_tasks.make_clusters_regression,
        ),
        DatasetSpec(
            "circle",
            "classification",
            "a disc inside a ring",
            _TOY_KNOBS,
            "scikit-learn make_circles noise",
            {},
            toy2d.make_circle,
        ),
        DatasetSpec(
            "xor",
            "classification",
            "four quadrants, opposite quadrants share a class",
            _TOY_KNOBS,
            _JITTER,
            {},
            toy2d.make_xor,
        ),
        DatasetSpec(
            "gauss",
            "classification",
            "two Gaussian blobs",
            _TOY_KNOBS,
            "added to the blob std of 0.3",
            {},
            toy2d.make_gauss,
        ),
        DatasetSpec(
            "spiral",
            "classification",
            "two interleaved spiral arms",
            _TOY_KNOBS,
            "std of Gaussian noise on the coordinates",
            {},
            toy2d.make_spiral,
        ),
        DatasetSpec(
            "moons",
            "classification",
            "two interleaving half circles",
            _TOY_KNOBS,
            "scikit-learn make_moons noise",
            {},
            toy2d.make_moons_data,
        ),
        DatasetSpec(
            "checkerboard",
            "classification",
            "a 4 x 4 board of two colours",
            _TOY_KNOBS,
            _JITTER,
            {},
            toy2d.make_checkerboard,
        ),
        DatasetSpec(
            "cluster_signals",
            "classification",
            "Chen et al. 2022: label, centre, noise and feature-noise patches",
            _CLUSTER_KNOBS,
            "std of each coordinate of the noise patch",
            {"dim": 64, "noise": 0.14},
            cluster_tasks.make_cluster_signals,
        ),
        DatasetSpec(
            "cluster_single_index",
            "regression",
            "Kawata et al. 2025: one He_3 single-index task per cluster",
            _CLUSTER_KNOBS,
            "std of Gaussian noise on the target",
            {"dim": 32, "n_train": 8000},
            cluster_tasks.make_cluster_single_index,
        ),
        DatasetSpec(
            "digits",
            "classification",
            "scikit-learn's 8 x 8 handwritten digits, 1797 images",
            ("dim",),
            "unused",
            {"dim": 64, "n_train": 1200, "n_test": 500},
        ),
        DatasetSpec(
            "csv",
            "classification",
            "your own CSV file (classification or regression)",
            ("csv_path", "target"),
            "unused",
            {},
        ),
    )
}


def describe_datasets() -> list[str]:
    """One line per dataset for `python -m moe_core datasets`: name, task, what it is, knobs."""
    lines = []
    for spec in DATASETS.values():
        knobs = ", ".join(spec.knobs)
        defaults = ", ".join(f"{k}={v}" for k, v in spec.defaults.items())
        line = f"{spec.name:<21} {spec.task:<14} {spec.description}. Knobs: {knobs}."
        if spec.noise != "unused":
            line += f" noise = {spec.noise}."
        if defaults:
            line += f" Suggested: {defaults}."
        lines.append(line)
    return lines


def fill_dataset_defaults(data_doc: dict) -> dict:
    """Give the fields a user did not set the values that suit the chosen dataset (e.g. dim 64 for digits)."""
    spec = DATASETS.get(data_doc.get("name", DataConfig.name))
    if spec is None:
        return data_doc
    return {**spec.defaults, **data_doc}
