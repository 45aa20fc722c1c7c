"""Runs side by side: routing maps as small multiples with aligned colours, metrics over training with
one colour per run, and where each run routes differently from a reference run.

Maps are [R, R] winner arrays (row = view y upwards) already renumbered to the reference run's experts
(`moe_core.measure.align`), with their extent [x0, x1, y0, y1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from moe_core.measure.metrics import Metrics
from moe_explorer_app.figures.history import NOT_YET, thin, trained
from moe_explorer_app.figures.palette import OKABE_ITO, expert_colour, expert_name
from moe_explorer_app.figures.style import base_layout, event_marks, placeholder, set_axes, subplot_grid

# (metric, panel title, classification only)
CURVES = (
    ("test_loss", "Test loss", False),
    ("test_accuracy", "Test accuracy", True),
    ("load_entropy", "Load entropy / log E", False),
    ("dead_experts", "Dead experts", False),
    ("cluster_nmi", "NMI (expert; cluster)", False),
)


@dataclass(frozen=True)
class RunCurves:
    name: str
    history: Sequence[Metrics]
    events: Sequence[tuple[int, str]] = ()


def run_colour(i: int) -> str:
    """The i-th compared run's colour (not an expert's: the maps use those)."""
    return ["#1B1F24", *OKABE_ITO[4:], *OKABE_ITO[:4]][i % 8]


def map_grid(
    title: str, titles: Sequence[str], maps: Sequence[np.ndarray], extents: Sequence[Sequence[float]],
    n_experts: int, axes: tuple[str, str] = ("x1", "x2"),
) -> go.Figure:  # fmt: skip
    """Small multiples of routing maps in at most four columns, one colour scale for all."""
    cols = min(4, len(maps))
    n_rows = math.ceil(len(maps) / cols)
    layout = {**base_layout(title, 110 + 250 * n_rows)}
    layout.update(subplot_grid(n_rows, cols, [*titles, *[""] * (n_rows * cols - len(maps))], (0.05, 0.22)))
    layout["margin"] = {"l": 60, "r": 20, "t": 110, "b": 50}
    scale = [[c / n_experts, expert_colour(i)] for i in range(n_experts) for c in (i, i + 1)]
    names = [expert_name(e) for e in range(n_experts)]
    bar = {"title": {"text": "expert"}, "tickvals": list(range(n_experts)), "ticktext": names}
    traces = []
    for i, (winner, (x0, x1, y0, y1)) in enumerate(zip(maps, extents, strict=True)):
        suffix = "" if i == 0 else str(i + 1)
        traces.append(
            {
                "type": "heatmap",
                "z": np.asarray(winner).tolist(),
                "x": np.linspace(x0, x1, np.shape(winner)[1]).tolist(),
                "y": np.linspace(y0, y1, np.shape(winner)[0]).tolist(),
                "zmin": -0.5,
                "zmax": n_experts - 0.5,
                "colorscale": scale,
                "showscale": i == 0,
                "colorbar": bar,
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "hovertemplate": "x %{x:.2f}, y %{y:.2f}: E%{z}<extra></extra>",
            }
        )
        layout[f"xaxis{suffix}"].update(nticks=5, title={"text": axes[0] if i == 0 else ""})
        layout[f"yaxis{suffix}"].update(nticks=5, scaleanchor=f"x{suffix}", title={"text": ""})
    layout["yaxis"]["title"] = {"text": axes[1]}
    return go.Figure({"data": traces, "layout": layout})


def overlaid_curves(runs: Sequence[RunCurves], classification: bool) -> go.Figure:
    """Each metric over training in its own panel, one colour per run; dotted lines where a run's
    setting changed live."""
    panels = [(m, t) for m, t, only_classes in CURVES if classification or not only_classes]
    title = "Runs over training"
    if not any(trained(r.history) for r in runs):
        return go.Figure({"data": [], "layout": placeholder(title, 520, NOT_YET)})
    cols = 3
    rows = math.ceil(len(panels) / cols)
    layout = {**base_layout(title, 150 + 230 * rows)}
    titles = [t for _, t in panels] + [""] * (rows * cols - len(panels))
    layout.update(subplot_grid(rows, cols, titles, (0.08, 0.3)))
    traces = []
    for r, run in enumerate(runs):
        history = thin(run.history)
        steps = [m.step for m in history]
        for p, (metric, label) in enumerate(panels):
            suffix = "" if p == 0 else str(p + 1)
            values = [getattr(m, metric) for m in history]
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": steps,
                    "y": [np.nan if v is None else v for v in values],
                    "name": run.name,
                    "legendgroup": run.name,
                    "showlegend": p == 0,
                    "line": {"color": run_colour(r), "width": 2},
                    "xaxis": f"x{suffix}",
                    "yaxis": f"y{suffix}",
                    "hovertemplate": f"{run.name}<br>{label}: %{{y:.3f}} at step %{{x}}<extra></extra>",
                }
            )
    axes = {f"xaxis{'' if p == 0 else p + 1}": {"title": {"text": "step"}} for p in range(len(panels))}
    layout = set_axes(layout, axes)
    for run in runs:
        layout = event_marks(layout, [(step, f"{run.name.split(':')[0]}: {text}") for step, text in run.events],
                             len(panels))  # fmt: skip
    return go.Figure({"data": traces, "layout": layout})


def difference_maps(
    reference: np.ndarray, maps: Sequence[np.ndarray], extent: Sequence[float], names: Sequence[str],
    reference_name: str, axes: tuple[str, str] = ("x1", "x2"),
) -> go.Figure:  # fmt: skip
    """For each run, where its (aligned) winning experts differ from the reference run's: dark where
    they do, white where they agree; each panel titled with the share of the plane routed apart (the
    plane's cells, not test points: the maps' own measure)."""
    cols = min(3, len(maps))
    n_rows = math.ceil(len(maps) / cols)
    differ = [(np.asarray(m) != np.asarray(reference)).astype(int) for m in maps]
    titles = [f"{name}<br>{d.mean():.0%} of the plane apart" for name, d in zip(names, differ, strict=True)]
    layout = base_layout(f"Where each run routes apart from {reference_name}", 130 + 300 * n_rows)
    layout.update(subplot_grid(n_rows, cols, [*titles, *[""] * (n_rows * cols - len(maps))], (0.08, 0.22)))
    layout["margin"] = {"l": 60, "r": 20, "t": 110, "b": 50}
    x0, x1, y0, y1 = extent
    scale = [[0, "#FFFFFF"], [0.5, "#FFFFFF"], [0.5, "#3A3F47"], [1, "#3A3F47"]]
    bar = {"title": {"text": "experts"}, "tickvals": [0.25, 0.75], "ticktext": ["same", "different"]}
    traces = []
    for i, grid in enumerate(differ):
        suffix = "" if i == 0 else str(i + 1)
        traces.append({"type": "heatmap", "z": grid.tolist(), "x": np.linspace(x0, x1, grid.shape[1]).tolist(),
                       "y": np.linspace(y0, y1, grid.shape[0]).tolist(), "zmin": 0, "zmax": 1, "colorscale": scale,
                       "showscale": i == 0, "colorbar": bar, "xaxis": f"x{suffix}", "yaxis": f"y{suffix}",
                       "hovertemplate": "x %{x:.2f}, y %{y:.2f}<extra></extra>"})  # fmt: skip
        frame = {"showline": True, "mirror": True, "linecolor": "#8A919C"}  # white cells agree: the plane's edge
        layout[f"xaxis{suffix}"].update(nticks=5, title={"text": axes[0]}, **frame)
        layout[f"yaxis{suffix}"].update(
            nticks=5, scaleanchor=f"x{suffix}", title={"text": axes[1] if i % cols == 0 else ""}
        )
    return go.Figure({"data": traces, "layout": layout})
