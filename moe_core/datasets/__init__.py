"""The datasets, registered by name: what each is, its task, the options it reads, what its noise means.

A dataset is either a generator, `make(n_samples, *, seed, <the options it uses>) -> (x, y, cluster)`
(numpy arrays; a `planar` one makes 2-D points that `data.dim` embeds in more dimensions), or a loader
that builds the whole `Dataset` from the DataConfig (digits, CSV files). `make_dataset` in
`moe_core.datasets.dataset` turns either into train/test tensors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from moe_core.settings.registry import Entry, Registry

Task = Literal["classification", "regression"]

NOISE, DIM, CLUSTERS, SEPARATION = "data.noise", "data.dim", "data.n_clusters", "data.separation"
SHIFT_STEP, SHIFT_KIND = "data.shift_step", "data.shift_kind"
SIZES = frozenset({"data.n_train", "data.n_test"})
_SHIFTS = frozenset({SHIFT_STEP, SHIFT_KIND})
_PLANAR_USES = frozenset({NOISE, DIM}) | SIZES
_CLUSTER_USES = frozenset({NOISE, CLUSTERS, DIM, SEPARATION}) | SIZES
_JITTER = "std of the jitter applied to coordinates before labelling (label noise near boundaries)"


@dataclass(frozen=True)
class DatasetSpec(Entry):
    """A dataset: its `label` a few words that fit the sidebar's selectbox, its `help` the sentence."""

    task: Task = "classification"
    noise: str = ""  # what data.noise means for this dataset ("" where it is unused)
    defaults: dict = field(default_factory=dict)  # DataConfig values that suit it; the UI and CLI start there
    planar: bool = False  # a 2-D generator; data.dim adds noise coordinates and a random rotation
    loader: bool = False  # impl builds the Dataset from the DataConfig itself
    task_label: str = ""  # the task in listings, where `task` alone would mislead ("either" for a CSV file)
    # What the DataConfig needs for this dataset: the problem as one sentence, None when fine.
    check: Callable[[Any], str | None] | None = None
    patches: int = 1  # equal-length patches its inputs are made of (for patch experts and gates)
    # A generator with hidden directions: `directions(n_clusters, dim, seed) -> (dict, rng)` and
    # `draw(n, rng, directions, noise=, separation=) -> (x, y, cluster)`, for alignment and online batches.
    directions: str = ""
    draw: str = ""

    def knobs(self, cfg) -> dict[str, Any]:
        """The generator's keyword arguments from a DataConfig: the options it uses, less the sizes and
        how batches are drawn (data.sampling), the shift (make_dataset's) and, for a planar one, the
        dimension that make_dataset embeds it in."""
        skip = {"data.sampling"} | SIZES | _SHIFTS | ({DIM} if self.planar else set())
        return {key.partition(".")[2]: getattr(cfg, key.partition(".")[2]) for key in self.uses - skip}


def _toy(name: str, label: str, help: str, noise_means: str, make: str) -> DatasetSpec:
    impl = f"moe_core.datasets.toy2d:{make}"
    return DatasetSpec(name, label, help, impl=impl, uses=_PLANAR_USES, noise=noise_means, planar=True)


def _clustered(
    name: str,
    label: str,
    help: str,
    task: Task,
    noise_means: str,
    make: str,
    extra=frozenset(),
    patches: int = 1,
    hidden: tuple[str, str] = ("", ""),
    **defaults,
) -> DatasetSpec:
    impl = f"moe_core.datasets.clusters:{make}"
    uses = _CLUSTER_USES | extra
    directions, draw = (f"moe_core.datasets.clusters:{name}" if name else "" for name in hidden)
    return DatasetSpec(
        name,
        label,
        help,
        impl=impl,
        uses=uses,
        task=task,
        noise=noise_means,
        defaults=defaults,
        patches=patches,
        directions=directions,
        draw=draw,
    )


_FILE_ROWS = "set by the file's rows"

DATASETS: Registry[DatasetSpec] = Registry(
    "data.name",
    [
        _clustered(
            "clusters",
            "Clusters, classes",
            "K Gaussian blobs, each with its own linear class boundary.",
            "classification",
            _JITTER,
            "make_clusters",
            _SHIFTS,
        ),
        _clustered(
            "clusters_regression",
            "Clusters, regression",
            "K Gaussian blobs, each with its own linear function.",
            "regression",
            "std of Gaussian noise on the target",
            "make_clusters_regression",
            _SHIFTS,
        ),
        _toy("circle", "Circle", "A disc inside a ring.", "scikit-learn make_circles noise", "make_circle"),
        _toy("xor", "XOR", "Four quadrants, opposite quadrants share a class.", _JITTER, "make_xor"),
        _toy(
            "gauss", "Two Gaussians", "Two Gaussian blobs, one per class.", "added to the blob std of 0.3", "make_gauss"
        ),
        _toy(
            "spiral",
            "Spiral",
            "Two interleaved spiral arms.",
            "std of Gaussian noise on the coordinates",
            "make_spiral",
        ),
        _toy("moons", "Moons", "Two interleaving half circles.", "scikit-learn make_moons noise", "make_moons"),
        _toy("checkerboard", "Checkerboard", "A 4 x 4 board of two colours.", _JITTER, "make_checkerboard"),
        _clustered(
            "cluster_signals",
            "Chen et al. 2022",
            "Chen et al. 2022's clusters: label, centre, noise and feature-noise patches.",
            "classification",
            "std of each coordinate of the noise patch",
            "make_cluster_signals",
            frozenset({"data.gamma_max"}),
            4,
            dim=64,
            noise=0.14,
        ),
        _clustered(
            "cluster_single_index",
            "Kawata et al. 2025",
            "Kawata et al. 2025's clusters: one He_3 single-index task per cluster.",
            "regression",
            "std of Gaussian noise on the target",
            "make_cluster_single_index",
            frozenset({"data.sampling"}),
            hidden=("single_index_directions", "draw_single_index"),
            dim=32,
            n_train=8000,
        ),
        DatasetSpec(
            "digits",
            "Handwritten digits",
            "scikit-learn's 8 x 8 handwritten digits, 1797 images.",
            impl="moe_core.datasets.digits:load_digits",
            uses=frozenset({DIM}) | SIZES,
            defaults={"dim": 64, "n_train": 1200, "n_test": 500},
            loader=True,
        ),
        DatasetSpec(
            "drawn",
            "Your own drawing",
            "Gaussian blobs around centres you place, drag and delete on the plane, each of its own class.",
            impl="moe_core.datasets.drawn:load_drawn",
            uses=frozenset({"data.centres", NOISE}) | SIZES,
            noise="std of each blob around its centre",
            defaults={"noise": 0.35},
            loader=True,
        ),
        DatasetSpec(
            "csv",
            "Your own CSV file",
            "Your own CSV file, for classification or regression.",
            impl="moe_core.datasets.csv_file:load_csv",
            uses=frozenset({"data.csv_path", "data.target"}),
            why_unused=tuple((key, _FILE_ROWS) for key in sorted(SIZES)),
            loader=True,
            task_label="either",
            check=lambda d: None if d.csv_path else "data.csv_path must name a CSV file when data.name is 'csv'.",
        ),
    ],
)


def describe_datasets() -> list[str]:
    """One line per dataset for `python -m moe_core datasets`: name, task, what it is, its options."""
    lines = []
    for spec in DATASETS.entries():
        task = spec.task_label or spec.task
        knobs = ", ".join(sorted(spec.uses))
        line = f"{spec.name:<21} {task:<14} {spec.help} Options: {knobs}."
        if spec.noise:
            line += f" noise = {spec.noise}."
        if spec.defaults:
            line += " Suggested: " + ", ".join(f"{k}={v}" for k, v in spec.defaults.items()) + "."
        lines.append(line)
    return lines


def with_dataset_defaults(data_doc: dict) -> dict:
    """The data part of a config with the fields a user did not set given the values that suit the
    chosen dataset (e.g. dim 64 for digits)."""
    name = data_doc.get("name")
    if not isinstance(name, str) or name not in DATASETS:
        return data_doc
    return {**DATASETS[name].defaults, **data_doc}
