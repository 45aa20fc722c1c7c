"""One unit of a sweep's work, trained and measured: a run alone, or the seeds of one setting batched
(`moe_core.training.seed_batch`); each run gives a `Row`. Worker processes and Ray tasks run `run_in_worker`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from moe_core.settings.config import RunConfig

# The final metrics a row keeps (scalars; per-expert tuples stay in the run's history).
METRICS = (
    "train_loss",
    "test_loss",
    "test_accuracy",
    "load_entropy",
    "effective_experts",
    "dead_experts",
    "drop_rate",
    "unrouted_rate",
    "experts_per_point",
    "expert_flops",
    "load_cv2",
    "max_vio",
    "router_z",
    "confidence",
    "margin",
    "purity",
    "cluster_nmi",
    "dispatch_entropy",
    "expert_similarity",
    "local_alignment",
    "global_alignment",
    "router_alignment",
)


@dataclass(frozen=True)
class Trial:
    """One run of a sweep: its combination of grid values, its seed and the whole configuration."""

    index: int
    settings: dict[str, Any]
    seed: int
    cfg: RunConfig
    name: str = ""  # the run's name in the rows: its combination and seed


@dataclass(frozen=True)
class Row:
    """What one run gave: its settings and seed, the step it reached, and its final metrics."""

    settings: dict[str, Any]
    seed: int
    steps: int
    diverged: str | None
    seconds: float  # training time; batched seeds report an even share of their batch's
    metrics: dict[str, float | int | None]
    history: list[dict] | None = None  # every snapshot's metrics, when asked for
    diverged_at: int | None = None  # the step whose loss was not finite (the metrics are of the step before)
    map: dict | None = None  # the final routing map, when asked for: winner [R][R], extent [x0, x1, y0, y1],
    # and test points on it (points: x, y, target, dropped, expert where the map is a projection; classes:
    # their names, none for a regression)
    name: str = ""
    tags: tuple[str, ...] = ()  # the sweep's tags, the same in each of its rows

    def flat(self) -> dict[str, Any]:
        """One flat record: settings by key, seed, name, tags, outcome and metrics (a table's row)."""
        return {
            **self.settings,
            "seed": self.seed,
            "run": self.name,
            "tags": list(self.tags),
            "steps": self.steps,
            "diverged": self.diverged is not None,
            "diverged_at": self.diverged_at,
            "seconds": round(self.seconds, 3),
            **self.metrics,
        }


def setting_label(settings: Mapping[str, Any]) -> str:
    """A combination in words, "top_k=2, balance=aux_loss": options by their short names where those
    are unique, else by their keys."""
    short = [key.split(".", 1)[1] for key in settings]
    names = short if len(set(short)) == len(short) else list(settings)
    return ", ".join(f"{name}={json.dumps(value) if not isinstance(value, str) else value}"
                     for name, value in zip(names, settings.values(), strict=True)) or "base"  # fmt: skip


def run_name(settings: Mapping[str, Any], seed: int) -> str:
    """A run's name in a sweep's rows: its combination and seed."""
    return f"{setting_label(settings)}, seed {seed}"


MAP_RESOLUTION = 40  # a small multiple's cells per side
MAP_POINTS = 250  # test points drawn on a small map: the Train page's map draws as many
HISTORY_POINTS = 25  # snapshots over a run, when its history is kept


def run_trial(trial: Trial, with_history: bool = False, with_map: bool = False) -> Row:
    """Train one trial alone to its `train.steps` and measure it (torch loads here); `with_map` keeps a
    small routing map of the final model."""
    from moe_core.training.trainer import Trainer

    trainer = Trainer(trial.cfg, probe_size=None)
    trainer.fit(trial.cfg.train.steps, _snapshot_every(trial.cfg, with_history))
    return _row(trial, trainer, with_history, with_map)


def run_batch(trials: Sequence[Trial], with_history: bool = False, with_map: bool = False) -> list[Row]:
    """Train trials that differ only in their seed together, as one stacked model; a row each, as
    `run_trial` would give it (to float tolerance)."""
    from moe_core.training.seed_batch import SeedBatch

    if len(trials) == 1:
        return [run_trial(trials[0], with_history, with_map)]
    batch = SeedBatch([trial.cfg for trial in trials], probe_size=None)
    cfg = trials[0].cfg
    batch.fit(cfg.train.steps, _snapshot_every(cfg, with_history))
    return [_row(trial, run, with_history, with_map) for trial, run in zip(trials, batch.runs, strict=True)]


def run_in_worker(trials: Sequence[Trial], with_history: bool, with_map: bool) -> list[Row]:
    """A unit of work in a worker process or a Ray task, on one CPU thread."""
    from moe_core import runtime

    runtime.configure(1)  # each worker one thread: the workers share the machine's cores
    return run_batch(trials, with_history, with_map)


def _snapshot_every(cfg: RunConfig, with_history: bool) -> int | None:
    return max(1, cfg.train.steps // HISTORY_POINTS) if with_history else None


def _row(trial: Trial, trainer, with_history: bool, with_map: bool) -> Row:
    final = trainer.history[-1]
    return Row(
        trial.settings,
        trial.seed,
        trainer.step_count,
        trainer.diverged,
        trainer.seconds,
        {name: json_ready(getattr(final, name)) for name in METRICS},
        [json_ready(m.to_dict()) for m in trainer.history] if with_history else None,
        trainer.diverged_at,
        small_map(trainer) if with_map else None,
        trial.name,
    )


def small_map(trainer, resolution: int = MAP_RESOLUTION) -> dict | None:
    """The routing map now (`resolution` cells a side), and the first MAP_POINTS test points on it: view
    x and y, target, whether no expert served the point (capacity was full, or no expert chose it), with
    the points routed as one batch as in training, and for inputs of more than two dimensions the gate's
    first choice for each; None for a network without a router."""
    from moe_core.measure.probe import probe_grid, probe_points

    if not trainer.is_moe:
        return None
    data, model = trainer.data, trainer.model
    grid = probe_grid(model, data, resolution, trainer.device)
    x_ND, y_N = data.x_test[:MAP_POINTS], data.y_test[:MAP_POINTS]
    probe = probe_points(model, x_ND.to(trainer.device), y_N.to(trainer.device), data.classification)
    # a routing that never leaves a point out reports none, as the live map does
    dropped_N = ~probe.kept_NK.any(axis=1) if model.router.may_drop else np.zeros(len(x_ND), bool)
    view_N2 = np.round(data.projection.to_view(x_ND).numpy().astype(float), 3)
    points = {"x": view_N2[:, 0].tolist(), "y": view_N2[:, 1].tolist(), "target": json_ready(y_N.tolist()),
              "dropped": dropped_N.tolist()}  # fmt: skip
    if data.dim > 2:  # on a projection a point's own first expert can differ from the region's under it
        points["expert"] = probe.first_N.astype(int).tolist()
    classes = list(data.class_names) if data.classification else []
    return {"winner": grid.winner_RR.astype(int).tolist(), "extent": grid.extent, "points": points, "classes": classes}


def json_ready(value):
    """JSON's own types: numpy scalars unwrapped, tuples as lists, None for NaN and infinities."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    return value
