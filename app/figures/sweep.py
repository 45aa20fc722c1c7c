"""A sweep's figures: each metric as mean and 95% interval per combination, the settings against a
metric in parallel coordinates, and the final routing maps as small multiples with aligned colours.

Inputs are a `moe_core.sweep.SweepResult`'s grid, rows and summary.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from moe_core.align import align_assignments
from moe_core.options import OPTIONS
from moe_core.sweep import Row
from moe_explorer_app.figures.compare import map_grid
from moe_explorer_app.figures.flipbook import DROPPED_COLOUR
from moe_explorer_app.figures.palette import expert_colour, expert_name
from moe_explorer_app.figures.routing_map import SYMBOLS
from moe_explorer_app.figures.style import base_layout, legend_rows

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


def option_words(key: str) -> str:
    """An option's label as a phrase: 'capacity factor' for model.capacity_factor (the table's label
    without its parenthesis, a capital kept where the word is a name such as 'MoE')."""
    option = OPTIONS.get(key)
    label = option.label.split(" (")[0] if option else key.split(".")[-1]
    first = label.split(" ")[0]
    return label[:1].lower() + label[1:] if first[1:] == first[1:].lower() else label


def value_words(key: str, value) -> str:
    """A setting's value in words: a choice's label up to its colon ('top-p (Huang 2024)'), what None
    means for the option ('no limit'), a number as written."""
    option = OPTIONS.get(key)
    if option is not None and value is None and option.null_means:
        return option.null_means.split(";")[0]
    if option is not None and option.choices is not None and value in option.choices:
        return option.choices[value].label.split(":")[0]
    return f"{value:g}" if isinstance(value, float) else str(value)


def setting_words(key: str, value) -> str:
    """'capacity factor 0.5' for a number, '4 experts' for a count, 'balance strategy: none' for a choice
    or a null."""
    option, words, name = OPTIONS.get(key), value_words(key, value), option_words(key)
    if isinstance(value, int) and not isinstance(value, bool) and name.endswith("s"):  # a count of things
        return f"{value} {name[:-1] if value == 1 else name}"
    named = value is None or (option is not None and option.choices is not None)
    return f"{name}{':' if named else ''} {words}"


def setting_text(settings: dict) -> str:
    """'top-k 2, balance strategy: none' from {"model.top_k": 2, "model.balance": "none"}."""
    return ", ".join(setting_words(key, value) for key, value in settings.items()) or "base"


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
                "name": setting_words(keys[1], group) if second else "all runs",
                "x": [value_words(keys[0], e[keys[0]]) if keys else "base" for e in entries],
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
    layout["xaxis"].update(title={"text": option_words(keys[0]) if keys else ""}, type="category")
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
    rows = legend_rows(list(groups), LEGEND_WIDTH)  # settings in words make long names: a row each, often
    layout = base_layout(f"{label} over training: {over}", 400 - 84 + 62 + 24 * rows)  # the plot as tall as before
    layout["margin"]["b"] = 62 + 24 * rows  # the legend under the axis title, never over it
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
    """The final routing map of each combination (one seed), colours aligned to the first, so that the
    same colour means the same division of the plane across panels; on each, the test points by class
    and a red x where no expert served one. Rows without a map (a dense network has no router) are left
    out; there must be one with a map."""
    rows = [r for r in rows if r.map]
    maps, agreements = aligned_maps(rows, n_experts)
    several = len(rows) > 1
    lines = [
        [line for key, value in r.settings.items() for line in textwrap.wrap(setting_words(key, value), TITLE_CHARS)]
        + (["another plane: not matched" if np.isnan(a) else f"{a:.0%} agree"] if several else [])
        for r, a in zip(rows, agreements, strict=True)
    ]
    title = (
        f"Final routing maps, seed {seed}: colours matched to the first"
        if several
        else f"Final routing map, seed {seed}"
    )
    fig = map_grid(title, ["<br>".join(t) for t in lines], maps, [r.map["extent"] for r in rows], n_experts, axes)
    shown = sorted({int(e) for m in maps for e in np.unique(m)})
    traces = [_swatch(e) for e in shown] + _first_in_legend([t for i, r in enumerate(rows) for t in _points(r.map, i)])
    labels = [t["name"] for t in traces if t["showlegend"]]
    grow = 24 * legend_rows(labels, LEGEND_WIDTH)
    top = 70 + 18 * max(1, *map(len, lines))  # the figure's title, then each panel's lines of title
    layout = fig.layout.to_plotly_json()  # the legend in one flow: "grouped" would stack each group in a column
    layout.update(height=layout["height"] + grow + top - 110, showlegend=True,
                  margin={**layout["margin"], "t": top, "b": 50 + grow},
                  legend={**layout["legend"], "traceorder": "normal"})  # fmt: skip
    data = [{**t.to_plotly_json(), "showscale": False} for t in fig.data]  # the legend names the experts
    return go.Figure({"data": data + traces, "layout": layout})


def _first_in_legend(traces: list[dict]) -> list[dict]:
    """Each kind of marker named once in the legend, by the first panel that draws one."""
    named = set()
    for trace in traces:
        trace["showlegend"] = bool(trace["x"]) and trace["name"] not in named
        named |= {trace["name"]} if trace["showlegend"] else set()
    return traces


TITLE_CHARS = 20  # a panel title's line: four panels side by side at 1024 px wide leave about 150 px each
LEGEND_WIDTH = 600  # px: the maps' width on the narrowest page they are read on (1024, sidebar open)


def _swatch(e: int) -> dict:
    """A legend entry for an expert's colour on the maps (the maps themselves are heatmaps)."""
    marker = {"symbol": "square", "size": 14, "color": expert_colour(e)}
    return {"type": "scatter", "mode": "markers", "x": [None], "y": [None], "name": expert_name(e), "marker": marker,
            "hoverinfo": "skip", "legendgroup": "experts", "showlegend": True}  # fmt: skip


PLOTLY_SYMBOLS = {"triangle": "triangle-up"}  # the live map's symbol names that Plotly spells otherwise


def _points(map_: dict, panel: int) -> list[dict]:
    """A panel's test points, one trace per class in the Train page's markers (class c: SYMBOLS[c],
    black and white alternating), and a red x over each point no expert served (as the live map marks it)."""
    points = map_.get("points")
    if not points:
        return []
    axes = {"xaxis": f"x{panel + 1 if panel else ''}", "yaxis": f"y{panel + 1 if panel else ''}"}
    classes = map_.get("classes") or []
    x, y, dropped = np.array(points["x"]), np.array(points["y"]), np.array(points["dropped"], bool)
    target = np.array(points["target"]).astype(int) if classes else np.zeros(len(x), int)
    traces = []
    for c, name in enumerate(classes or ["data point"]):
        dark = c % 2 or not classes
        symbol = SYMBOLS[c % len(SYMBOLS)]
        marker = {"symbol": PLOTLY_SYMBOLS.get(symbol, symbol), "size": 6, "color": "#111111" if dark else "#FFFFFF",
                  "line": {"width": 1, "color": "#FFFFFF" if dark else "#111111"}}  # fmt: skip
        where = target == c
        traces.append({"type": "scatter", "mode": "markers", "x": x[where].tolist(), "y": y[where].tolist(),
                       "name": f"class {name}" if classes else name, "marker": marker, "legendgroup": f"class {c}",
                       "hoverinfo": "skip", **axes})  # fmt: skip
    cross = {"symbol": "x-thin", "size": 10, "line": {"width": 2.5, "color": DROPPED_COLOUR}}
    traces.append({"type": "scatter", "mode": "markers", "x": x[dropped].tolist(), "y": y[dropped].tolist(),
                   "name": "no expert (dropped)", "marker": cross, "legendgroup": "dropped", "hoverinfo": "skip",
                   **axes})  # fmt: skip
    return traces
