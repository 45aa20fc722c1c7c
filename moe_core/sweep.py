"""Sweeps: every combination of a grid of options times a number of seeds, one row per run with its
settings and final metrics, then a summary per combination (mean, standard deviation and a 95%
interval over the seeds, Student's t).

    from moe_core.sweep import sweep
    result = sweep(RunConfig(), {"model.top_k": [1, 2], "model.balance": ["none", "aux_loss"]}, seeds=3)
    result.summary  # one dict per combination

A seed is the run's `train.seed` (initial weights, batch order, gate noise); the data stay the same
for every run, so that the seeds measure the training's spread, not the dataset's. Every
combination is validated before the first run starts. A run that diverges is a row marked diverged
at its step, and the sweep goes on. Runs are deterministic per seed, whatever the number of workers.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

import numpy as np
from scipy import stats

from moe_core.config import ConfigError, RunConfig, check_value, parse_assignment, split_key

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
    "load_cv2",
    "max_vio",
    "router_z",
    "confidence",
    "margin",
    "purity",
    "cluster_nmi",
    "dispatch_entropy",
)


@dataclass(frozen=True)
class Trial:
    """One run of a sweep: its combination of grid values, its seed and the whole configuration."""

    index: int
    settings: dict[str, Any]
    seed: int
    cfg: RunConfig


@dataclass(frozen=True)
class Row:
    """What one run gave: its settings and seed, the step it reached, and its final metrics."""

    settings: dict[str, Any]
    seed: int
    steps: int
    diverged: str | None
    seconds: float
    metrics: dict[str, float | int | None]
    history: list[dict] | None = None  # every snapshot's metrics, when asked for
    diverged_at: int | None = None  # the step whose loss was not finite (the metrics are of the step before)
    map: dict | None = None  # the final routing map, when asked for: winner [R][R] and extent [x0, x1, y0, y1]

    def flat(self) -> dict[str, Any]:
        """One flat record: settings by key, seed, outcome and metrics (a table's row)."""
        return {
            **self.settings,
            "seed": self.seed,
            "steps": self.steps,
            "diverged": self.diverged is not None,
            "diverged_at": self.diverged_at,
            "seconds": round(self.seconds, 3),
            **self.metrics,
        }


@dataclass(frozen=True)
class SweepResult:
    grid: dict[str, list]
    rows: list[Row]
    summary: list[dict] = field(default_factory=list)


def parse_grid(texts: Iterable[str]) -> dict[str, list]:
    """{"model.top_k": [1, 2, 4]} from ["model.top_k=1,2,4"]: each value parsed as JSON where it
    parses (else a string); a key given twice is an error."""
    grid: dict[str, list] = {}
    for text in texts:
        if "=" not in text:
            raise ConfigError(f"The grid entry '{text}' needs the form section.key=a,b,c, e.g. model.top_k=1,2.")
        key, raw = (part.strip() for part in text.split("=", 1))
        split_key(key)
        if key in grid:
            raise ConfigError(f"The grid names {key} twice; give all its values at once, as {key}=a,b,c.")
        grid[key] = [parse_assignment(f"{key}={part}")[1] for part in raw.split(",") if part.strip()]
        if not grid[key]:
            raise ConfigError(f"The grid entry for {key} lists no values; give them as {key}=a,b,c.")
    return grid


def plan(base: RunConfig, grid: Mapping[str, Sequence], seeds: int | Sequence[int] = 1) -> list[Trial]:
    """Every combination of the grid's values times every seed, each a valid RunConfig (checked
    here, before anything trains). `seeds`: how many (base seed, base seed + 1, ...) or which."""
    for key, values in grid.items():
        split_key(key)
        if key == "train.seed":
            raise ConfigError("train.seed is what the seeds count; give their number (--seeds) instead.")
        if not values:
            raise ConfigError(f"The grid gives {key} no values.")
        for value in values:
            check_value(key, value)
    seed_list = list(range(base.train.seed, base.train.seed + seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise ConfigError("A sweep needs at least one seed.")
    trials = []
    for combination in itertools.product(*grid.values()):
        settings = dict(zip(grid, combination, strict=True))
        for seed in seed_list:
            try:
                cfg = base.replace(**settings, **{"train.seed": seed})
            except ConfigError as err:
                shown = ", ".join(f"{k}={v}" for k, v in settings.items())
                raise ConfigError(f"The combination {shown} is impossible: {err}") from None
            trials.append(Trial(len(trials), settings, seed, cfg))
    return trials


MAP_RESOLUTION = 40  # a small multiple's cells per side
HISTORY_POINTS = 25  # snapshots over a run, when its history is kept


def run_trial(trial: Trial, with_history: bool = False, with_map: bool = False) -> Row:
    """Train one trial to its `train.steps` and measure it (torch loads here); `with_map` keeps a
    small routing map of the final model."""
    from moe_core.train import Trainer

    trainer = Trainer(trial.cfg, probe_size=None)
    steps = trial.cfg.train.steps
    snapshot = trainer.fit(steps, snapshot_every=max(1, steps // HISTORY_POINTS) if with_history else None)
    final = snapshot.metrics
    metrics = {name: json_ready(getattr(final, name)) for name in METRICS}
    history = [json_ready(m.to_dict()) for m in trainer.history] if with_history else None
    return Row(
        trial.settings,
        trial.seed,
        trainer.step_count,
        trainer.diverged,
        trainer.seconds,
        metrics,
        history,
        trainer.diverged_at,
        _small_map(trainer) if with_map else None,
    )


def _small_map(trainer) -> dict | None:
    from moe_core.probe import probe_grid

    if not trainer.is_moe:
        return None
    grid = probe_grid(trainer.model, trainer.data, MAP_RESOLUTION, trainer.device)
    return {"winner": grid.winner_RR.astype(int).tolist(), "extent": grid.extent}


def _run_in_worker(trial: Trial, with_history: bool, with_map: bool) -> Row:
    from moe_core.fast import runtime

    runtime.configure(1)  # each worker one thread: the workers share the machine's cores
    return run_trial(trial, with_history, with_map)


BACKENDS = ("local", "ray")


def sweep(
    base: RunConfig,
    grid: Mapping[str, Sequence],
    seeds: int | Sequence[int] = 1,
    workers: int = 1,
    with_history: bool = False,
    progress: Callable[[int, int], None] | None = None,
    backend: str = "local",
    address: str | None = None,
    with_map: bool = False,
    stop: Callable[[], bool] | None = None,
) -> SweepResult:
    """Run every trial of `plan(base, grid, seeds)` and summarise; `progress(done, total)` is called
    after each run. Local: in this process (`workers` 1) or in `workers` processes. Ray: on the
    cluster at `address`, or on a local Ray with `workers` CPUs when none is given. When `stop()`
    turns true, the runs not yet started are left out (the result holds the finished ones)."""
    trials = plan(base, grid, seeds)
    if workers < 1:
        raise ConfigError(f"A sweep needs at least one worker, got {workers}.")
    if backend not in BACKENDS:
        raise ConfigError(f"The sweep backend '{backend}' is unknown; choose local or ray.")
    if address is not None and backend != "ray":
        raise ConfigError("A cluster address is for the Ray backend; add --backend ray.")
    rows: list[Row | None] = [None] * len(trials)
    stopped = stop or (lambda: False)
    if backend == "ray":
        for index, row in _on_ray(trials, (with_history, with_map), workers, address, stopped):
            rows[index] = row
            _tick(progress, rows)
    elif workers == 1:
        for trial in trials:
            if stopped():
                break
            rows[trial.index] = run_trial(trial, with_history, with_map)
            _tick(progress, rows)
    else:
        # spawn, not fork: the parent may hold torch's thread pools, which a fork does not survive
        with ProcessPoolExecutor(min(workers, len(trials)), mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_run_in_worker, trial, with_history, with_map): trial.index for trial in trials}
            for future in as_completed(futures):
                rows[futures[future]] = future.result()
                _tick(progress, rows)
                if stopped():
                    for waiting in futures:
                        waiting.cancel()
                    break
    done = [row for row in rows if row is not None]
    return SweepResult({k: list(v) for k, v in grid.items()}, done, summarise(done, list(grid)))


def _on_ray(trials: list[Trial], wanted: tuple[bool, bool], workers: int, address: str | None, stopped):
    """(trial index, row) as each run ends on Ray; a Ray started here is shut down at the end."""
    try:
        import ray
    except ImportError:
        raise ConfigError("The Ray backend needs Ray: pip install 'moe-explorer[ray]'.") from None
    started_here = not ray.is_initialized()
    if started_here:
        local = {"num_cpus": workers} if address is None else {}
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level="ERROR", **local)
    try:
        remote = ray.remote(num_cpus=1)(_run_in_worker)
        pending = {remote.remote(trial, *wanted): trial.index for trial in trials}
        while pending and not stopped():
            (ready,), _ = ray.wait(list(pending), num_returns=1)
            yield pending.pop(ready), ray.get(ready)
        for waiting in pending:
            ray.cancel(waiting)
    finally:
        if started_here:
            ray.shutdown()


def _tick(progress: Callable[[int, int], None] | None, rows: list) -> None:
    if progress is not None:
        progress(sum(row is not None for row in rows), len(rows))


def summarise(rows: Sequence[Row], keys: Sequence[str]) -> list[dict]:
    """Per combination of the grid's keys, in the order first seen: the number of runs, how many
    diverged, and for each metric its mean, standard deviation (n - 1) and 95% interval half-width
    over the runs that did not diverge (None where fewer than two values exist)."""
    groups: dict[tuple, list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(json.dumps(row.settings[k]) for k in keys), []).append(row)
    table = []
    for members in groups.values():
        entry: dict[str, Any] = {k: members[0].settings[k] for k in keys}
        entry.update(runs=len(members), diverged=sum(r.diverged is not None for r in members))
        for name in METRICS:
            values = np.array(
                [r.metrics[name] for r in members if r.diverged is None and r.metrics[name] is not None], dtype=float
            )
            entry.update(_spread(name, values[np.isfinite(values)]))
        table.append(entry)
    return table


def _spread(name: str, values: np.ndarray) -> dict[str, float | None]:
    if len(values) == 0:
        return {f"{name}_mean": None, f"{name}_std": None, f"{name}_ci95": None}
    mean = float(values.mean())
    if len(values) < 2:
        return {f"{name}_mean": mean, f"{name}_std": None, f"{name}_ci95": None}
    std = float(values.std(ddof=1))
    half = float(stats.t.ppf(0.975, len(values) - 1) * std / math.sqrt(len(values)))
    return {f"{name}_mean": mean, f"{name}_std": std, f"{name}_ci95": half}


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
