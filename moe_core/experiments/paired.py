"""Paired comparisons: every combination of a sweep against a baseline combination, seed by seed.

A sweep trains every combination on the same seeds (initial weights, batch order, noise), so the
question "does this setting change the metric?" is a paired one: the differences d_s = x_s - b_s
over the seeds s both have. Each comparison reports the mean difference with its 95% interval
(Student's t on the differences), the paired t-test's p-value and the Wilcoxon signed-rank test's
(for few seeds or skewed differences), both from scipy.stats, and each adjusted for the number of
comparisons of one metric by Holm's step-down method (Holm 1979, Scand. J. Statist. 6:65). Overlapping
per-setting intervals say nothing about a paired difference: the seeds' shared luck cancels in d_s.

With n seeds the exact two-sided Wilcoxon p-value cannot go below 2 / 2^n (0.0625 for 5 seeds).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from moe_core.experiments.sweep import SweepResult
from moe_core.experiments.trials import Row, setting_label
from moe_core.measure.glossary import GLOSSARY
from moe_core.settings.config import ConfigError, parse_assignment

ALPHA = 0.05


@dataclass(frozen=True)
class Comparison:
    """One combination against the baseline on one metric, over the seeds both finished."""

    settings: dict[str, Any]
    metric: str
    seeds: int
    mean: float | None  # mean of (combination - baseline) over the paired seeds
    low: float | None  # its 95% interval (Student's t, n - 1 degrees of freedom)
    high: float | None
    p_t: float | None  # paired t-test, two-sided
    p_wilcoxon: float | None  # Wilcoxon signed-rank, two-sided, exact for small samples
    p_holm_t: float | None = None  # adjusted over the metric's comparisons
    p_holm_wilcoxon: float | None = None

    def p_holm(self, test: str = "t") -> float | None:
        return self.p_holm_t if test == "t" else self.p_holm_wilcoxon

    def verdict(self, test: str = "t") -> str:
        """One line: "top_k=2, balance=aux_loss: NMI +0.200 [0.150, 0.250], p_holm 0.004 (better)"."""
        name = GLOSSARY[self.metric].name
        if self.mean is None:
            return f"{setting_label(self.settings)}: {name} not comparable ({self.seeds} paired seeds)"
        interval = "" if self.low is None else f" [{self.low:+.3f}, {self.high:+.3f}]"
        p = self.p_holm(test)
        said = "p_holm n/a" if p is None else f"p_holm {p:.3g}"
        return f"{setting_label(self.settings)}: {name} {self.mean:+.3f}{interval}, {said} ({self.reading(test)})"

    def reading(self, test: str = "t") -> str:
        """ "better", "worse", "higher", "lower" where the adjusted test is significant, else "no clear difference"."""
        p = self.p_holm(test)
        if p is None or p >= ALPHA or not self.mean:
            return "no clear difference"
        better = GLOSSARY[self.metric].better
        up = self.mean > 0
        if not better:
            return "higher" if up else "lower"
        return "better" if up == (better == "higher") else "worse"


def parse_baseline(texts: Sequence[str], grid: Mapping[str, Sequence]) -> dict[str, Any]:
    """{"model.top_k": 1, "model.balance": "none"} from ["model.top_k=1,model.balance=none"] (or one
    assignment per text): one value for each of the grid's keys, each among its values."""
    baseline: dict[str, Any] = {}
    for text in texts:
        for part in (p for p in text.split(",") if p.strip()):
            key, value = parse_assignment(part)
            baseline[key] = value
    for key, value in baseline.items():
        if key not in grid:
            raise ConfigError(f"The baseline sets {key}, which the grid does not sweep; name only {', '.join(grid)}.")
        if json.dumps(value) not in {json.dumps(v) for v in grid[key]}:
            shown = ", ".join(json.dumps(v) if not isinstance(v, str) else v for v in grid[key])
            raise ConfigError(f"The baseline's {key}={value} is not among the grid's values ({shown}).")
    missing = [key for key in grid if key not in baseline]
    if missing:
        raise ConfigError(
            f"The baseline needs a value for {', '.join(missing)} too, e.g. {missing[0]}={grid[missing[0]][0]}."
        )
    return baseline


def compare(result: SweepResult, baseline: Mapping[str, Any], metrics: Sequence[str]) -> list[Comparison]:
    """Every other combination against `baseline`, for each metric: paired by seed, Holm-adjusted per
    metric; in the order of the metrics, then of the combinations."""
    groups = _by_combination(result.rows, list(result.grid))
    key = json.dumps([baseline[k] for k in result.grid])
    if key not in groups:
        raise ConfigError(f"The sweep has no finished runs of the baseline {setting_label(baseline)}.")
    base_rows = groups.pop(key)
    out = []
    for metric in metrics:
        found = [_compare(rows[0].settings, metric, rows, base_rows) for rows in groups.values()]
        adjusted_t = holm([c.p_t for c in found])
        adjusted_w = holm([c.p_wilcoxon for c in found])
        out += [
            Comparison(**{**c.__dict__, "p_holm_t": t, "p_holm_wilcoxon": w})
            for c, t, w in zip(found, adjusted_t, adjusted_w, strict=True)
        ]
    return out


def _by_combination(rows: Sequence[Row], keys: list[str]) -> dict[str, list[Row]]:
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(json.dumps([row.settings[k] for k in keys]), []).append(row)
    return groups


def _value(row: Row, metric: str) -> float | None:
    value = row.metrics.get(metric)
    if row.diverged is not None or value is None or not math.isfinite(value):
        return None
    return float(value)


def _compare(settings: dict, metric: str, rows: Sequence[Row], base_rows: Sequence[Row]) -> Comparison:
    base = {row.seed: _value(row, metric) for row in base_rows}
    pairs = [
        (v, base[row.seed]) for row in rows if (v := _value(row, metric)) is not None and base.get(row.seed) is not None
    ]
    d = np.array([x - b for x, b in pairs])
    if len(d) == 0:
        return Comparison(dict(settings), metric, 0, None, None, None, None, None)
    mean = float(d.mean())
    if len(d) < 2:
        return Comparison(dict(settings), metric, 1, mean, None, None, None, None)
    if not np.any(d):  # identical runs: scipy's tests are undefined (0 / 0), and nothing differs
        return Comparison(dict(settings), metric, len(d), 0.0, 0.0, 0.0, 1.0, 1.0)
    p_w = float(stats.wilcoxon(d).pvalue)
    if np.ptp(d) == 0:  # every seed moved by the same amount: t is infinite, p 0 (scipy's answer, without its
        return Comparison(dict(settings), metric, len(d), mean, mean, mean, 0.0, p_w)  # cancellation warning)
    test = stats.ttest_rel([x for x, _ in pairs], [b for _, b in pairs])
    interval = test.confidence_interval(0.95)
    return Comparison(dict(settings), metric, len(d), mean, float(interval.low), float(interval.high),
                      float(test.pvalue), p_w)  # fmt: skip


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of a family of p-values (None stays None and is not counted):
    the i-th smallest of m becomes max over j <= i of min(1, (m - j + 1) p_(j))."""
    known = [(p, i) for i, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    running, m = 0.0, len(known)
    for rank, (p, i) in enumerate(sorted(known)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def table(comparisons: Sequence[Comparison], test: str = "t") -> str:
    """The verdict lines, per metric, the clearest first (smallest adjusted p-value, then largest effect)."""
    lines = []
    for metric in dict.fromkeys(c.metric for c in comparisons):
        ours = [c for c in comparisons if c.metric == metric]
        ours.sort(key=lambda c: (c.p_holm(test) if c.p_holm(test) is not None else 2.0, -abs(c.mean or 0.0)))
        lines += [f"  {c.verdict(test)}" for c in ours]
    return "\n".join(lines)
