"""Sweeps: every combination of a grid of options times a number of seeds, one row per run with its
settings and final metrics, then a summary per combination (mean, standard deviation and a 95%
interval over the seeds, Student's t, clipped to the metric's range).

    from moe_core.experiments.sweep import sweep
    result = sweep(RunConfig(), {"model.top_k": [1, 2], "model.balance": ["none", "aux_loss"]}, seeds=3)
    result.summary  # one dict per combination
    result.to_pandas()  # one row per run, the settings as columns; result.provenance says what was swept

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

import dataclasses
import itertools
import json
import math
import signal
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from moe_core.experiments.provenance import base_of, record
from moe_core.experiments.summary import summarise
from moe_core.experiments.trials import Row, Trial, run_batch, run_in_worker, run_name, setting_label
from moe_core.settings.config import ConfigError, RunConfig, check_value, parse_assignment, split_key
from moe_core.settings.table import why_not_applied

# Seeds per stacked model: beyond this, a combination's seeds train in several batches. Sixteen
# seeds of the default model are about 2,000 points a step, still cheap; the cap bounds memory.
BATCH_LIMIT = 16


@dataclass(frozen=True)
class SweepResult:
    """A sweep's rows (one per run, in plan order), their summary per combination, and the provenance
    (`moe_core.experiments.provenance.record`) every file written from it carries."""

    grid: dict[str, list]
    rows: list[Row]
    summary: list[dict] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> RunConfig | None:
        """The configuration every run started from, before the grid's settings and the seed."""
        return base_of(self.provenance)

    def to_pandas(self):
        """A pandas DataFrame, one row per run (settings, seed, name, tags, outcome, final metrics);
        the provenance in its `attrs`."""
        from moe_core.experiments.frames import rows_frame

        return rows_frame(self)

    def history_frame(self):
        """The recorded histories in long format: one row per run and snapshot (settings, seed, step and
        every metric, per-expert values as columns); empty where the sweep kept no history."""
        from moe_core.experiments.frames import history_frame

        return history_frame(self)


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
    seed_list = seed_values(base, seeds)
    trials = []
    for combination in itertools.product(*grid.values()):
        settings = dict(zip(grid, combination, strict=True))
        for seed in seed_list:
            try:
                cfg = base.replace(**settings, **{"train.seed": seed})
            except ConfigError as err:
                raise ConfigError(f"The combination {setting_label(settings)} is impossible: {err}") from None
            trials.append(Trial(len(trials), settings, seed, cfg, run_name(settings, seed)))
    _refuse_unused(grid, trials)
    return trials


def seed_values(base: RunConfig, seeds: int | Sequence[int]) -> list[int]:
    """The seeds a count (base seed, base seed + 1, ...) or a list stands for, checked."""
    seed_list = list(range(base.train.seed, base.train.seed + seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise ConfigError("A sweep needs at least one seed.")
    if len(set(seed_list)) < len(seed_list):
        raise ConfigError(f"The seeds {seed_list} repeat one; list each seed once.")
    return seed_list


def unused_settings(grid: Mapping[str, Sequence], trials: Sequence[Trial]) -> dict[str, str]:
    """The grid's options that some combinations ignore: key -> why, from the first such combination
    (its values give those combinations identical runs)."""
    unused: dict[str, str] = {}
    for trial in trials:
        for key in grid:
            reason = why_not_applied(key, trial.cfg.flat())
            if reason and key not in unused:
                unused[key] = f"{reason} (in {setting_label(trial.settings)})"
    return unused


def _refuse_unused(grid: Mapping[str, Sequence], trials: Sequence[Trial]) -> None:
    """A grid option no combination uses would sweep nothing: its runs would repeat each other."""
    for key in grid:
        reasons = {why_not_applied(key, trial.cfg.flat()) for trial in trials}
        if None not in reasons and len(grid[key]) > 1:
            raise ConfigError(
                f"The grid sweeps {key}, which is {sorted(reasons)[0]}: every value would train the same run; "
                "drop it from the grid or choose a setting that uses it."
            )


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
    done: Sequence[Row] = (),
    name: str = "",
    tags: Sequence[str] = (),
) -> SweepResult:
    """Run every trial of `plan(base, grid, seeds)` and summarise; `progress(done, total)` is called
    after each unit of work (a batch of seeds, or a run). Local: in this process (`workers` 1) or in
    `workers` processes. Ray: on the cluster at `address`, or on a local Ray with `workers` CPUs when
    none is given. When `stop()` turns true, the units not yet started are left out (the result holds
    the finished ones). Runs in `done` (an earlier result's rows of the same base) are kept, not trained
    again: a stopped sweep resumes, a finished one extends to more values or seeds."""
    trials = plan(base, grid, seeds)
    how = {"backend": backend, "workers": workers, "batch_seeds": batch_seeds}
    kept = run_trials(trials, with_history, with_map, progress, address, stop, done, tags, **how)
    how.update(name=name, tags=list(tags), planned_runs=len(trials), notes=list(unused_settings(grid, trials).values()))
    provenance = record(base, grid, seed_values(base, seeds), **how)
    return SweepResult({k: list(v) for k, v in grid.items()}, kept, summarise(kept, list(grid), base), provenance)


def run_trials(
    trials: Sequence[Trial],
    with_history: bool = False,
    with_map: bool = False,
    progress: Callable[[int, int], None] | None = None,
    address: str | None = None,
    stop: Callable[[], bool] | None = None,
    done: Sequence[Row] = (),
    tags: Sequence[str] = (),
    backend: str = "local",
    workers: int = 1,
    batch_seeds: bool = True,
) -> list[Row]:
    """The rows of the trials (in their order) that `done` does not already hold, trained as `sweep`
    says, and those of `done`; the trials left out once `stop()` turned true have none."""
    if workers < 1:
        raise ConfigError(f"A sweep needs at least one worker, got {workers}.")
    if backend not in BACKENDS:
        raise ConfigError(f"The sweep backend '{backend}' is unknown; choose local or ray.")
    if address is not None and backend != "ray":
        raise ConfigError("A cluster address is for the Ray backend; add --backend ray.")
    rows: list[Row | None] = [_kept(trial, done) for trial in trials]
    missing = [trial for trial, row in zip(trials, rows, strict=True) if row is None]
    work = units(missing, batch_seeds, workers)
    stopped = stop or (lambda: False)
    wanted = (with_history, with_map)
    if not work:
        finished = iter(())
    elif backend == "ray":
        finished = _on_ray(work, wanted, workers, address, stopped)
    elif workers == 1:
        finished = ((unit, run_batch(unit, *wanted)) for unit in work if not stopped())
    else:
        finished = _in_processes(work, wanted, workers, stopped)
    for unit, unit_rows in finished:
        for trial, row in zip(unit, unit_rows, strict=True):
            rows[trial.index] = dataclasses.replace(row, tags=tuple(tags))
        _tick(progress, rows)
    return [row for row in rows if row is not None]


def _kept(trial: Trial, done: Sequence[Row]) -> Row | None:
    """The row of an earlier result that already ran this trial (its settings and seed), if any."""
    wanted = (json.dumps(trial.settings, sort_keys=True), trial.seed)
    return next((row for row in done if (json.dumps(row.settings, sort_keys=True), row.seed) == wanted), None)


def _in_processes(work: list[list[Trial]], wanted: tuple[bool, bool], workers: int, stopped):
    """(unit, rows) as each unit ends in one of `workers` processes."""
    # spawn, not fork: the parent may hold torch's thread pools, which a fork does not survive
    context = get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(work)), mp_context=context, initializer=ignore_interrupt) as pool:
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


def ignore_interrupt() -> None:
    """In a worker: Ctrl-C is for the parent, which stops after the units in training and keeps their rows."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _tick(progress: Callable[[int, int], None] | None, rows: list) -> None:
    if progress is not None:
        progress(sum(row is not None for row in rows), len(rows))
