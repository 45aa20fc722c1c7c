"""A sweep's figures: each metric as mean and 95% interval per combination, the settings against a
metric in parallel coordinates, and the final routing maps as small multiples with aligned colours.

Inputs are a `moe_core.experiments.sweep.SweepResult`'s grid, rows and summary.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from moe_core.experiments.sweep import Row
from moe_core.measure.align import Alignment, align_assignments
from moe_core.measure.glossary import GLOSSARY
from moe_explorer_app.figures.map_points import LEGEND_WIDTH, maps_with_points
from moe_explorer_app.figures.palette import expert_colour
from moe_explorer_app.figures.setting_words import option_words, setting_text, setting_words, value_words
from moe_explorer_app.figures.style import SMALLEST, base_layout, legend_rows

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


def metric_bars(grid: dict[str, list], summary: Sequence[dict], metric: str, seeds: int) -> go.Figure:
    """Per combination, the metric's mean over seeds as a dot and its 95% interval (Student's t,
    clipped to the metric's range) as a whisker; the first option along the x axis, the second (if
    any) as coloured groups side by side. No bars: a bar from zero would hide the differences a sweep
    is run to see."""
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
                "name": setting_words(keys[1], group) if second else "all runs",
                "x": [value_words(keys[0], e[keys[0]]) if keys else "base" for e in entries],
                "y": [e[f"{metric}_mean"] for e in entries],
                "error_y": {"type": "data", "symmetric": False, "width": 8,
                            "array": [_reach(e, metric, "high") for e in entries],
                            "arrayminus": [_reach(e, metric, "low") for e in entries]},
                "customdata": [[e[f"{metric}_low"], e[f"{metric}_high"]] for e in entries],
                "marker": {"color": expert_colour(g), "size": 11},
                "offsetgroup": str(g),
                "hovertemplate": f"{label} %{{y:.3f}}, 95% interval [%{{customdata[0]:.3f}}, %{{customdata[1]:.3f}}]"
                "<extra>%{fullData.name}</extra>",
            }
        )  # fmt: skip
    title = f"{label}, {seeds} seed{'s' * (seeds > 1)}: mean and 95% interval"
    if len(title) * TITLE_CHAR_PX > HALF_WIDTH:  # two lines rather than a title cut at the chart's edge
        title = title.replace(": ", ":<br>", 1)
    layout = base_layout(title, 380)
    layout["scattermode"] = "group"
    layout["showlegend"] = True
    layout["xaxis"].update(title={"text": option_words(keys[0]) if keys else ""}, type="category")
    layout["yaxis"].update(title={"text": label}, range=_span(summary, metric))
    return go.Figure({"data": traces, "layout": layout})


def _reach(entry: dict, metric: str, end: str) -> float:
    """How far the whisker reaches from the mean towards its clipped end (0 where there is none)."""
    mean, bound = entry[f"{metric}_mean"], entry[f"{metric}_{end}"]
    return 0.0 if mean is None or bound is None else abs(bound - mean)


def _span(summary: Sequence[dict], metric: str) -> list[float] | None:
    """The y range that holds every whisker, with a margin (the axis would otherwise start at zero)."""
    ends = [
        end
        for e in summary
        if e[f"{metric}_mean"] is not None
        for end in (e[f"{metric}_low"], e[f"{metric}_high"], e[f"{metric}_mean"])
        if end is not None
    ]
    if not ends:
        return None
    low, high = min(ends), max(ends)
    pad = max((high - low) * 0.15, abs(high) * 0.01, 1e-3)
    return [low - pad, high + pad]


def metric_over_training(
    grid: dict[str, list], rows: Sequence[Row], metric: str, n_experts: int | None = None
) -> go.Figure:
    """Per combination, the metric's mean over seeds along training with a shaded band of one
    standard deviation (Weights & Biases' grouped runs), the band kept within the metric's range (an
    NMI band stops at 1); where runs diverged, the seeds still going."""
    label = METRIC_LABELS.get(metric, metric)
    low, high = GLOSSARY[metric].bounds(n_experts) if metric in GLOSSARY else (-np.inf, np.inf)
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
                       "y": [*np.minimum(mean + spread, high), *np.maximum(mean - spread, low)[::-1]],
                       "fill": "toself", "fillcolor": colour,
                       "opacity": 0.2, "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False,
                       "legendgroup": name})  # fmt: skip
        traces.append({"type": "scatter", "mode": "lines", "x": steps, "y": mean.tolist(), "name": name,
                       "legendgroup": name, "line": {"color": colour, "width": 2},
                       "hovertemplate": f"{name}<br>{label} %{{y:.3f}} at step %{{x}}<extra></extra>"})  # fmt: skip
    seeds = sorted({row.seed for row in rows})
    over = f"mean ± 1 std over {len(seeds)} seeds" if len(seeds) > 1 else f"seed {seeds[0]}" if seeds else "no runs"
    # settings in words make long names, often a row each; one run alone needs no legend ("base")
    rows = legend_rows(list(groups), LEGEND_WIDTH) if len(groups) > 1 else 0
    layout = base_layout(f"{label} over training: {over}", 400 - 84 + 62 + 24 * rows)  # the plot as tall as before
    layout["margin"]["b"] = 62 + 24 * rows  # the legend under the axis title, never over it
    layout["showlegend"] = rows > 0
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
        # plotly.js draws a parcoords' labels, ticks and ranges at the layout's size / 1.2 (12 px) unless told
        **{key: {"size": SMALLEST} for key in ("labelfont", "tickfont", "rangefont")},
        # angled labels: four axes in half a 1280 page put level ones on top of each other
        "labelangle": -20,
        "line": {"color": values, "colorscale": "Viridis", "showscale": True,
                 "colorbar": {"title": {"text": label, "side": "right"}}},
    }  # fmt: skip
    layout = base_layout(f"Every run: settings → {label}", 400)
    layout["margin"] = {"l": 70, "r": 40, "t": 150, "b": 40}  # room for the angled labels under the title
    return go.Figure({"data": [trace], "layout": layout})


def aligned_maps(rows: Sequence[Row], n_experts: int) -> tuple[list[np.ndarray], list[float]]:
    """Each row's small map with its experts renumbered to match the first row's, and the share of
    cells that agree with it. Only maps of the same plane (the same extent and size) are matched: a
    sweep over the data draws other planes, left as they are (agreement NaN)."""
    return _matched(rows, _alignments(rows, n_experts))


def _matched(rows: Sequence[Row], alignments: Sequence[Alignment | None]) -> tuple[list[np.ndarray], list[float]]:
    maps = [np.array(r.map["winner"]) if a is None else a.relabel(r.map["winner"])
            for r, a in zip(rows, alignments, strict=True)]  # fmt: skip
    return maps, [float("nan") if a is None else a.agreement for a in alignments]


def _alignments(rows: Sequence[Row], n_experts: int) -> list[Alignment | None]:
    """How each row's experts map onto the first row's (None for a map of another plane)."""
    reference = np.array(rows[0].map["winner"])
    found = []
    for row in rows:
        winner = np.array(row.map["winner"])
        same = row.map["extent"] == rows[0].map["extent"] and winner.shape == reference.shape
        found.append(align_assignments(reference.ravel(), winner.ravel(), n_experts) if same else None)
    return found


def map_multiples(rows: Sequence[Row], n_experts: int, seed: int, axes: tuple[str, str] = ("x1", "x2")) -> go.Figure:
    """The final routing map of each combination (one seed), colours aligned to the first, so that the
    same colour means the same division of the plane across panels; on each, the test points by class
    and a red x where no expert served one. Rows without a map (a dense network has no router) are left
    out; there must be one with a map."""
    rows = [r for r in rows if r.map]
    alignments = _alignments(rows, n_experts)
    maps, agreements = _matched(rows, alignments)
    title, lines = _titles(rows, agreements, seed)
    return maps_with_points(title, lines, maps, [r.map for r in rows], alignments, n_experts, axes)


TITLE_WIDTH = 500  # px: the maps' plot width at 1024 x 768 with the sidebar open, which panel titles share
HALF_WIDTH = 360  # px: a chart's plot width in half a 1280 x 720 page, where 48 title characters were cut
TITLE_CHAR_PX = 8  # how wide a character of the figure's 17 px bold title is: 77 of them took 607 px
PANEL_CHAR_PX = 8.5  # and of a panel's 14 px title in Chromium: 'bias, loss-free' beside '(Shazeer)' overlapped at 7.5
MAP_COLUMNS = 4  # as compare.map_grid lays them out


def _titles(rows: Sequence[Row], agreements: Sequence[float], seed: int) -> tuple[str, list[list[str]]]:
    """The figure's title and each panel's lines: each panel names its settings ('capacity factor 0.5'), but
    where one setting varies and its words do not fit a panel's line, the title names it and each panel
    its value ('Final routing maps by balance strategy', 'auxiliary loss (Switch / GShard)'). Lines wrap
    to a panel's width."""
    keys = list(dict.fromkeys(key for r in rows for key in r.settings))
    chars = int(TITLE_WIDTH / min(MAP_COLUMNS, len(rows)) / PANEL_CHAR_PX)
    fits = all(len(setting_words(k, v)) <= chars for r in rows for k, v in r.settings.items())
    by = f" by {option_words(keys[0])}" if len(keys) == 1 and len(rows) > 1 and not fits else ""
    words = [[value_words(k, v) for k, v in r.settings.items()] if by else
             [setting_words(k, v) for k, v in r.settings.items()] for r in rows]  # fmt: skip
    lines = [[line for text in texts for line in textwrap.wrap(text, chars, break_on_hyphens=False)] for texts in words]
    if len(rows) == 1:
        return f"Final routing map{by}, seed {seed}", lines
    agree = ["another plane: not matched" if np.isnan(a) else f"{a:.0%} agree" for a in agreements]
    title = f"Final routing maps{by}, seed {seed}: colours matched to the first"
    if len(title) * TITLE_CHAR_PX > TITLE_WIDTH:  # two lines rather than a title cut at the chart's edge
        title = title.replace(": ", "<br>", 1)
    return title, [[*t, a] for t, a in zip(lines, agree, strict=True)]
