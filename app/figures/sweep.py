"""A sweep's figures: each metric as mean and 95% interval per combination, the settings against a
metric in parallel coordinates, and the final routing maps as small multiples with aligned colours.

Inputs are a `moe_core.sweep.SweepResult`'s grid, rows and summary.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from moe_core.align import align_assignments
from moe_core.sweep import Row
from moe_explorer_app.figures.compare import map_grid
from moe_explorer_app.figures.palette import expert_colour
from moe_explorer_app.figures.style import base_layout

METRIC_LABELS = {
    "test_accuracy": "test accuracy",
    "test_loss": "test loss",
    "train_loss": "train loss",
    "load_entropy": "load entropy / log E",
    "effective_experts": "effective experts",
    "dead_experts": "dead experts",
    "cluster_nmi": "NMI (expert; cluster)",
    "purity": "purity",
    "dispatch_entropy": "dispatch entropy",
    "drop_rate": "drop rate",
    "max_vio": "MaxVio",
    "load_cv2": "CV² of load",
    "unrouted_rate": "share of points no expert took",
    "experts_per_point": "experts per point",
    "expert_flops": "expert multiply-adds per point",
    "global_alignment": "alignment with the global direction",
    "local_alignment": "alignment with the clusters' directions",
}


def setting_text(settings: dict) -> str:
    """'top_k=2, balance=none' from {"model.top_k": 2, "model.balance": "none"}."""
    return ", ".join(f"{key.split('.')[1]}={value}" for key, value in settings.items()) or "base"


def metric_bars(grid: dict[str, list], summary: Sequence[dict], metric: str, seeds: int) -> go.Figure:
    """Per combination, the metric's mean over seeds as a dot and its 95% interval as a whisker; the
    first option along the x axis, the second (if any) as coloured groups side by side. No bars: a
    bar from zero would hide the differences a sweep is run to see."""
    keys = list(grid)
    label = METRIC_LABELS.get(metric, metric)
    traces = []
    second = len(keys) > 1
    for g, group in enumerate(grid[keys[1]] if second else [None]):
        entries = [e for e in summary if not second or e[keys[1]] == group]
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": f"{keys[1].split('.')[1]}={group}" if second else "all runs",
                "x": [str(e[keys[0]]) if keys else "base" for e in entries],
                "y": [e[f"{metric}_mean"] for e in entries],
                "error_y": {"type": "data", "array": [e[f"{metric}_ci95"] or 0 for e in entries], "width": 8},
                "marker": {"color": expert_colour(g), "size": 11},
                "offsetgroup": str(g),
                "hovertemplate": f"{label} %{{y:.3f}} ± %{{error_y.array:.3f}}<extra>%{{fullData.name}}</extra>",
            }
        )
    layout = base_layout(f"{label}, {seeds} seed{'s' * (seeds > 1)}: mean ± 95% CI", 380)
    layout["scattermode"] = "group"
    layout["showlegend"] = True
    layout["xaxis"].update(title={"text": keys[0].split(".")[1] if keys else ""}, type="category")
    layout["yaxis"].update(title={"text": label}, range=_span(summary, metric))
    return go.Figure({"data": traces, "layout": layout})


def _span(summary: Sequence[dict], metric: str) -> list[float] | None:
    """The y range that holds every whisker, with a margin (the axis would otherwise start at zero)."""
    ends = [
        end
        for e in summary
        if e[f"{metric}_mean"] is not None
        for end in (e[f"{metric}_mean"] - (e[f"{metric}_ci95"] or 0), e[f"{metric}_mean"] + (e[f"{metric}_ci95"] or 0))
    ]
    if not ends:
        return None
    low, high = min(ends), max(ends)
    pad = max((high - low) * 0.15, abs(high) * 0.01, 1e-3)
    return [low - pad, high + pad]


def metric_over_training(grid: dict[str, list], rows: Sequence[Row], metric: str) -> go.Figure:
    """Per combination, the metric's mean over seeds along training with a shaded band of one
    standard deviation (Weights & Biases' grouped runs); where runs diverged, the seeds still going."""
    label = METRIC_LABELS.get(metric, metric)
    groups: dict[str, list[Row]] = {}
    for row in rows:
        if row.history:
            groups.setdefault(setting_text({k: row.settings[k] for k in grid}), []).append(row)
    traces = []
    for g, (name, members) in enumerate(groups.items()):
        by_step: dict[int, list[float]] = {}
        for row in members:
            for point in row.history:
                if point.get(metric) is not None:
                    by_step.setdefault(point["step"], []).append(point[metric])
        steps = sorted(by_step)
        mean = np.array([np.mean(by_step[s]) for s in steps])
        spread = np.array([np.std(by_step[s], ddof=1) if len(by_step[s]) > 1 else 0.0 for s in steps])
        colour = expert_colour(g)
        traces.append({"type": "scatter", "mode": "lines", "x": steps + steps[::-1],
                       "y": [*(mean + spread), *(mean - spread)[::-1]], "fill": "toself", "fillcolor": colour,
                       "opacity": 0.2, "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False,
                       "legendgroup": name})  # fmt: skip
        traces.append({"type": "scatter", "mode": "lines", "x": steps, "y": mean.tolist(), "name": name,
                       "legendgroup": name, "line": {"color": colour, "width": 2},
                       "hovertemplate": f"{name}<br>{label} %{{y:.3f}} at step %{{x}}<extra></extra>"})  # fmt: skip
    seeds = sorted({row.seed for row in rows})
    over = f"mean ± 1 std over {len(seeds)} seeds" if len(seeds) > 1 else f"seed {seeds[0]}" if seeds else "no runs"
    layout = base_layout(f"{label} over training: {over}", 400)
    layout["xaxis"].update(title={"text": "step"})
    layout["yaxis"].update(title={"text": label})
    return go.Figure({"data": traces, "layout": layout})


def _order(value) -> tuple:
    """Numbers in order first, then everything else (names, None) by its text."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return (0, value, "") if number else (1, 0, str(value))


def _dimension(label: str, values: list) -> dict:
    """A parallel-coordinates axis with one tick per distinct value, in order (settings are few)."""
    distinct = sorted(set(values), key=_order)
    return {
        "label": label,
        "values": [distinct.index(v) for v in values],
        "tickvals": list(range(len(distinct))),
        "ticktext": [str(v) for v in distinct],
    }


def parallel_settings(grid: dict[str, list], rows: Sequence[Row], metric: str) -> go.Figure:
    """One line per run across its settings, its seed and the metric, coloured by the metric."""
    label = METRIC_LABELS.get(metric, metric)
    kept = [r for r in rows if r.metrics.get(metric) is not None]
    dimensions = [_dimension(key.split(".")[1], [r.settings[key] for r in kept]) for key in grid]
    dimensions.append(_dimension("seed", [r.seed for r in kept]))
    values = [r.metrics[metric] for r in kept]
    dimensions.append({"label": label, "values": values})
    trace = {
        "type": "parcoords",
        "dimensions": dimensions,
        "line": {"color": values, "colorscale": "Viridis", "showscale": True, "colorbar": {"title": {"text": label}}},
    }
    layout = base_layout(f"Every run: settings → {label}", 400)
    layout["margin"] = {"l": 70, "r": 40, "t": 90, "b": 40}
    return go.Figure({"data": [trace], "layout": layout})


def aligned_maps(rows: Sequence[Row], n_experts: int) -> tuple[list[np.ndarray], list[float]]:
    """Each row's small map with its experts renumbered to match the first row's, and the share of
    cells that agree with it. Only maps of the same plane (the same extent and size) are matched: a
    sweep over the data draws other planes, left as they are (agreement NaN)."""
    reference = np.array(rows[0].map["winner"])
    maps, agreements = [], []
    for row in rows:
        winner = np.array(row.map["winner"])
        if row.map["extent"] != rows[0].map["extent"] or winner.shape != reference.shape:
            maps.append(winner)
            agreements.append(float("nan"))
            continue
        alignment = align_assignments(reference.ravel(), winner.ravel(), n_experts)
        maps.append(alignment.relabel(winner))
        agreements.append(alignment.agreement)
    return maps, agreements


def map_multiples(rows: Sequence[Row], n_experts: int, seed: int, axes: tuple[str, str] = ("x1", "x2")) -> go.Figure:
    """The final routing map of each combination (one seed), colours aligned to the first map, so
    that the same colour means the same division of the plane across panels."""
    maps, agreements = aligned_maps(rows, n_experts)
    titles = [  # a line per setting: two settings side by side would run into the next panel's title
        setting_text(r.settings).replace(", ", "<br>")
        + "<br>"
        + ("another plane: not matched" if np.isnan(a) else f"{a:.0%} agree")
        for r, a in zip(rows, agreements, strict=True)
    ]
    title = f"Final routing maps, seed {seed}: colours matched to the first"
    return map_grid(title, titles, maps, [r.map["extent"] for r in rows], n_experts, axes)
