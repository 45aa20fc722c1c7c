"""A sweep's summary per combination of its settings: for each metric over the seeds, the mean, the
standard deviation (n - 1) and the 95% interval (Student's t), that interval clipped to the range the
metric can take (`moe_core.measure.glossary`): NMI stays within [0, 1] with two seeds as with twenty.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from moe_core.experiments.trials import METRICS, Row
from moe_core.measure.glossary import GLOSSARY
from moe_core.settings.config import RunConfig


def summarise(rows: Sequence[Row], keys: Sequence[str], base: RunConfig | None = None) -> list[dict]:
    """Per combination of the grid's keys, in the order first seen: the number of runs, how many
    diverged, and for each metric its mean, standard deviation (n - 1), 95% interval half-width
    (Student's t) and that interval clipped to the metric's range (`_low`, `_high`; a count of experts
    ends at the combination's expert count, from `base` where the grid does not set it), over the runs
    that did not diverge (None where fewer than two values exist)."""
    groups: dict[tuple, list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(json.dumps(row.settings[k]) for k in keys), []).append(row)
    table = []
    for members in groups.values():
        entry: dict[str, Any] = {k: members[0].settings[k] for k in keys}
        entry.update(runs=len(members), diverged=sum(r.diverged is not None for r in members))
        experts = members[0].settings.get("model.n_experts", base.model.n_experts if base is not None else None)
        for name in METRICS:
            values = np.array(
                [r.metrics[name] for r in members if r.diverged is None and r.metrics[name] is not None], dtype=float
            )
            entry.update(_spread(name, values[np.isfinite(values)], GLOSSARY[name].bounds(experts)))
        table.append(entry)
    return table


def _spread(name: str, values: np.ndarray, bounds: tuple[float, float]) -> dict[str, float | None]:
    out: dict[str, float | None] = dict.fromkeys(f"{name}_{part}" for part in ("mean", "std", "ci95", "low", "high"))
    if len(values) == 0:
        return out
    mean = float(values.mean())
    out[f"{name}_mean"] = mean
    if len(values) < 2:
        return out
    std = float(values.std(ddof=1))
    half = float(stats.t.ppf(0.975, len(values) - 1) * std / math.sqrt(len(values)))
    low, high = bounds
    out.update({f"{name}_std": std, f"{name}_ci95": half, f"{name}_low": max(low, mean - half),
                f"{name}_high": min(high, mean + half)})  # fmt: skip
    return out
