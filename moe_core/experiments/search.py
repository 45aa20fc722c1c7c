"""Searches beyond grids: settings drawn at random from ranges and lists (Bergstra & Bengio 2012, JMLR
13:281, random search), each sample trained over the seeds like a grid's combination; and the same
samples with early stopping by asynchronous successive halving on Ray Tune (ASHA: Li et al. 2020,
MLSys, arXiv 1810.05934), which stops the runs that trail at each rung of steps.

    result = random_search(base, {"train.lr": "0.001:0.1:log"}, {"model.balance": ["none", "aux_loss"]}, samples=8)

The samples come from the base seed (the same samples every time); a random search's rows are a
sweep's, with the search in their provenance. With ASHA, which runs stop depends on the order in
which runs reach a rung, so it can differ between runs of the search; each run's numbers do not.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from moe_core.experiments.provenance import record
from moe_core.experiments.summary import summarise
from moe_core.experiments.sweep import SweepResult, run_trials, seed_values, unused_settings
from moe_core.experiments.trials import Trial, run_name, setting_label
from moe_core.settings.config import ConfigError, RunConfig, check_value, split_key
from moe_core.settings.table import OPTIONS

SEARCHES = ("random",)
RUNGS = 4  # ASHA's chances to stop a run: after a quarter of its steps, a half, three quarters


@dataclass(frozen=True)
class Range:
    """Values from `low` to `high`, uniform or (`log`) uniform in the logarithm; whole numbers for an
    integer option."""

    key: str
    low: float
    high: float
    log: bool = False

    def draw(self, rng: np.random.Generator):
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        if OPTIONS[self.key].kind is int:
            return int(min(self.high, max(self.low, round(value))))
        return float(f"{value:.4g}")  # four figures: readable in a table, as exact as a setting needs


def parse_range(key: str, text: str) -> Range:
    """A range from "LOW:HIGH" or "LOW:HIGH:log", for a numeric option, both ends valid values."""
    split_key(key)
    parts = text.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "log"):
        raise ConfigError(f"The range for {key} needs the form LOW:HIGH or LOW:HIGH:log, got '{text}'.")
    if OPTIONS[key].kind not in (int, float):
        raise ConfigError(f"{key} is not a number; list its values instead (--grid {key}=a,b).")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise ConfigError(f"The range for {key} needs numbers at both ends, got '{text}'.") from None
    kind = OPTIONS[key].kind
    for end in (low, high):
        check_value(key, kind(end) if kind is int and end.is_integer() else end)
    if not low < high:
        raise ConfigError(f"The range for {key} must run from low to high, got {low} to {high}.")
    if len(parts) == 3 and low <= 0:
        raise ConfigError(f"A log range for {key} must start above 0, got {low}.")
    return Range(key, low, high, len(parts) == 3)


def sample(
    base: RunConfig,
    ranges: Mapping[str, str],
    choices: Mapping[str, Sequence],
    samples: int,
    seeds: int | Sequence[int] = 1,
) -> list[Trial]:
    """`samples` settings, each drawn from the ranges and the lists of choices, times every seed;
    every one a valid RunConfig (a sample that is impossible is one sentence naming it)."""
    if samples < 1:
        raise ConfigError(f"A random search needs at least one sample, got {samples}.")
    drawn = [parse_range(key, text) for key, text in ranges.items()]
    if not drawn and not choices:
        raise ConfigError("A random search needs ranges (--range key=low:high) or lists (--grid key=a,b) to draw from.")
    rng = np.random.default_rng([base.train.seed, 7])
    trials = []
    for _ in range(samples):
        settings = {r.key: r.draw(rng) for r in drawn}
        settings.update({key: values[int(rng.integers(len(values)))] for key, values in choices.items()})
        for seed in seed_values(base, seeds):
            try:
                cfg = base.replace(**settings, **{"train.seed": seed})
            except ConfigError as err:
                raise ConfigError(f"The sample {setting_label(settings)} is impossible: {err}") from None
            trials.append(Trial(len(trials), settings, seed, cfg, run_name(settings, seed)))
    return trials


def random_search(
    base: RunConfig,
    ranges: Mapping[str, str],
    choices: Mapping[str, Sequence] | None = None,
    samples: int = 8,
    seeds: int | Sequence[int] = 1,
    asha: str | None = None,
    name: str = "",
    **running,
) -> SweepResult:
    """Train every sample over the seeds (`running` as for `sweep`: workers, backend, with_history, ...);
    with `asha` a metric ("test_loss", or "-cluster_nmi" where higher is better) ASHA on Ray Tune stops
    the trailing runs early instead. The result's grid lists each setting's drawn values."""
    choices = dict(choices or {})
    trials = sample(base, ranges, choices, samples, seeds)
    if asha:
        from moe_core.experiments.early_stopping import asha_rows

        rows = asha_rows(trials, asha, RUNGS, running.get("workers", 1), running.get("address"))
        rows = [dataclasses.replace(row, tags=tuple(running.get("tags", ()))) for row in rows]
    else:
        rows = run_trials(trials, **running)
    keys = list(trials[0].settings)
    grid = {key: list(dict.fromkeys(trial.settings[key] for trial in trials)) for key in keys}
    search = {"kind": "random", "samples": samples, "ranges": dict(ranges), "choices": choices,
              "sample_seed": base.train.seed, "asha": asha, "rungs": RUNGS if asha else None}  # fmt: skip
    how = {key: running[key] for key in ("backend", "workers", "batch_seeds") if key in running}
    how.update(name=name, tags=list(running.get("tags", ())), planned_runs=len(trials), search=search,
               notes=list(unused_settings(grid, trials).values()))  # fmt: skip
    provenance = record(base, grid, seed_values(base, seeds), **how)
    return SweepResult(grid, rows, summarise(rows, keys, base), provenance)
