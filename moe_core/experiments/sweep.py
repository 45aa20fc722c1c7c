"""Sweeps: every combination of a grid of options times a number of seeds, one row per run with its
settings and final metrics, then a summary per combination (mean, standard deviation and a 95%
interval over the seeds, Student's t).

    from moe_core.experiments.sweep import sweep
    result = sweep(RunConfig(), {"model.top_k": [1, 2], "model.balance": ["none", "aux_loss"]}, seeds=3)
    result.summary  # one dict per combination

A seed is the run's `train.seed` (initial weights, batch order, gate noise); the data stay the same
for every run, so that the seeds measure the training's spread, not the dataset's. Every
combination is validated before the first run starts. A run that diverges is a row marked diverged
at its step, and the sweep goes on.

The seeds of one combination train together as one stacked model (`moe_core.training.seed_batch`, up to
BATCH_LIMIT at a time), each as it would alone to float tolerance; `batch_seeds=False` trains every
run on its own. These units of work run one after another, in worker processes or on Ray. A row's
numbers depend on its seed and on its batch (the batches depend on the number of workers, to keep
them all busy), never on the backend.
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

from moe_core.experiments.trials import METRICS, Row, Trial, run_batch, run_in_worker
from moe_core.settings.config import ConfigError, RunConfig, check_value, parse_assignment, split_key

# Seeds per stacked model: beyond this, a combination's seeds train in several batches. Sixteen
# seeds of the default model are about 2,000 points a step, still cheap; the cap bounds memory.
BATCH_LIMIT = 16


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
        if len({json.dumps(value) for value in values}) < len(values):
            raise ConfigError(f"The grid gives {key} the same value twice; list each value once.")
    seed_list = list(range(base.train.seed, base.train.seed + seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise ConfigError("A sweep needs at least one seed.")
    if len(set(seed_list)) < len(seed_list):
        raise ConfigError(f"The seeds {seed_list} repeat one; list each seed once.")
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


BACKENDS = ("local", "ray")


def units(trials: Sequence[Trial], batch_seeds: bool = True, workers: int = 1) -> list[list[Trial]]:
    """The sweep's units of work: each combination's seeds batched (in plan order), or every trial on
    its own. A combination's seeds split into batches of nearly equal size, as few as keep each within
    BATCH_LIMIT and give every worker a unit where there are fewer combinations than workers. A run
    whose experts split or go trains alone."""
    if not batch_seeds:
        return [[trial] for trial in trials]
    groups: dict[str, list[Trial]] = {}
    work = []
    for trial in trials:
        if trial.cfg.train.resizes_experts:
            work.append([trial])  # its experts change shape as it trains: it cannot stack with other seeds
            continue
        groups.setdefault(json.dumps(trial.settings, sort_keys=True), []).append(trial)
    for group in groups.values():
        parts = min(len(group), max(math.ceil(len(group) / BATCH_LIMIT), math.ceil(workers / len(groups))))
        size, extra = divmod(len(group), parts)
        starts = [i * size + min(i, extra) for i in range(parts + 1)]
        work += [group[a:b] for a, b in itertools.pairwise(starts)]
    return work


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
    batch_seeds: bool = True,
) -> SweepResult:
    """Run every trial of `plan(base, grid, seeds)` and summarise; `progress(done, total)` is called
    after each unit of work (a batch of seeds, or a run). Local: in this process (`workers` 1) or in
    `workers` processes. Ray: on the cluster at `address`, or on a local Ray with `workers` CPUs when
    none is given. When `stop()` turns true, the units not yet started are left out (the result holds
    the finished ones)."""
    trials = plan(base, grid, seeds)
    if workers < 1:
        raise ConfigError(f"A sweep needs at least one worker, got {workers}.")
    if backend not in BACKENDS:
        raise ConfigError(f"The sweep backend '{backend}' is unknown; choose local or ray.")
    if address is not None and backend != "ray":
        raise ConfigError("A cluster address is for the Ray backend; add --backend ray.")
    work = units(trials, batch_seeds, workers)
    rows: list[Row | None] = [None] * len(trials)
    stopped = stop or (lambda: False)
    wanted = (with_history, with_map)
    if backend == "ray":
        finished = _on_ray(work, wanted, workers, address, stopped)
    elif workers == 1:
        finished = ((unit, run_batch(unit, *wanted)) for unit in work if not stopped())
    else:
        finished = _in_processes(work, wanted, workers, stopped)
    for unit, unit_rows in finished:
        for trial, row in zip(unit, unit_rows, strict=True):
            rows[trial.index] = row
        _tick(progress, rows)
    done = [row for row in rows if row is not None]
    return SweepResult({k: list(v) for k, v in grid.items()}, done, summarise(done, list(grid)))


def _in_processes(work: list[list[Trial]], wanted: tuple[bool, bool], workers: int, stopped):
    """(unit, rows) as each unit ends in one of `workers` processes."""
    # spawn, not fork: the parent may hold torch's thread pools, which a fork does not survive
    with ProcessPoolExecutor(min(workers, len(work)), mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(run_in_worker, unit, *wanted): unit for unit in work}
        for future in as_completed(futures):
            yield futures[future], future.result()
            if stopped():
                for waiting in futures:
                    waiting.cancel()
                return


def _on_ray(work: list[list[Trial]], wanted: tuple[bool, bool], workers: int, address: str | None, stopped):
    """(unit, rows) as each unit ends on Ray; a Ray started here is shut down at the end."""
    try:
        import ray
    except ImportError:
        raise ConfigError("The Ray backend needs Ray: pip install 'moe-explorer[ray]'.") from None
    started_here = not ray.is_initialized()
    if started_here:
        local = {"num_cpus": workers} if address is None else {}
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level="ERROR", **local)
    try:
        remote = ray.remote(num_cpus=1)(run_in_worker)
        pending = {remote.remote(unit, *wanted): unit for unit in work}
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
