"""The flip-book: the routing map at a run's recorded steps as one Plotly figure with a frame per step,
a slider labelled with the steps and Play / Pause, and as a single HTML file that carries plotly.js, so
it opens offline on a classroom projector (README, Replay).

Maps are moe_core.measure.probe GridProbes ([R, R], row = view y upwards), coloured as the live map colours
them (`routing_map.winner_codes`: the winning expert, faint where the gate is unsure). Where routing
has a capacity, each frame also marks the test points that no expert served at that step, with the
live map's red cross.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from moe_core.measure.probe import GridProbe
from moe_explorer_app.figures.palette import expert_colour, expert_name, shaded_colour
from moe_explorer_app.figures.routing_map import SYMBOLS, MapPoints, shade_levels, winner_codes
from moe_explorer_app.figures.style import base_layout

HOW_TO_READ = (
    "Each colour is the expert the gate sends that part of the plane to; faint where the gate is unsure. "
    "Press Play, or drag the slider, to watch the routing form over training."
)
FRAME_MS = 350  # Play's pace: about three frames a second, slow enough to talk over
STEP_SEPARATOR = " · step "
DROPPED_COLOUR = "#C00000"  # the live map's red cross


@dataclass(frozen=True)
class MapFrame:
    """The routing map at one step, and which of the drawn test points no expert served then (None where
    routing never leaves a point out)."""

    step: int
    grid: GridProbe
    dropped_N: np.ndarray | None = None


def _colorscale(n_experts: int) -> list[list]:
    """A band per code (expert * levels + level), in the live map's shaded expert colours."""
    levels = shade_levels(n_experts)
    count = n_experts * levels
    scale = []
    for code in range(count):
        colour = shaded_colour(*divmod(code, levels), levels)
        scale += [[code / count, colour], [(code + 1) / count, colour]]
    return scale


def _map_data(grid: GridProbe, n_experts: int) -> dict:
    return {"type": "heatmap", "z": winner_codes(grid, n_experts), "customdata": grid.winner_RR}


def _legend(n_experts: int) -> list[dict]:
    """One legend entry per expert (the heatmap itself has no legend)."""
    return [
        {
            "type": "scatter",
            "x": [None],
            "y": [None],
            "mode": "markers",
            "marker": {"symbol": "square", "size": 14, "color": expert_colour(e)},
            "name": expert_name(e),
            "legendgroup": "experts",
            "legendgrouptitle": {"text": "Expert"} if e == 0 else None,
        }
        for e in range(n_experts)
    ]


def _points(points: MapPoints) -> list[dict]:
    """The test points as the live map draws them: a marker per class, black and white in turn."""
    names = points.class_names or ("test point",)
    classes = points.target_N.astype(int) if points.class_names else np.zeros(len(points.target_N), int)
    traces = []
    for c, name in enumerate(names):
        xy = points.xy_N2[classes == c]
        dark = bool(c % 2) or not points.class_names
        traces.append(
            {
                "type": "scatter",
                "x": xy[:, 0],
                "y": xy[:, 1],
                "mode": "markers",
                "name": f"class {name}" if points.class_names else name,
                "legendgroup": "points",
                "legendgrouptitle": {"text": "Test points"} if c == 0 else None,
                "marker": {
                    "symbol": SYMBOLS[c % len(SYMBOLS)],
                    "size": 7,
                    "color": "#111111" if dark else "#FFFFFF",
                    "line": {"color": "#FFFFFF" if dark else "#111111", "width": 1},
                },
                "hoverinfo": "skip",
            }
        )
    return traces


def _dropped(points: MapPoints, dropped_N: np.ndarray) -> dict:
    """The points no expert served, as red crosses over their markers (one trace, redrawn per frame)."""
    xy = points.xy_N2[dropped_N.astype(bool)]
    return {
        "type": "scatter",
        "x": xy[:, 0],
        "y": xy[:, 1],
        "mode": "markers",
        "name": "got no expert (dropped)",
        "legendgroup": "dropped",
        "marker": {"symbol": "x-thin", "size": 12, "line": {"color": DROPPED_COLOUR, "width": 2.5}},
        "hoverinfo": "skip",
    }


def _title(title: str, step: int) -> dict:
    """The title with the frame's step, and under it how to read the map."""
    return {"text": f"{title}{STEP_SEPARATOR}{step:,}", "subtitle": {"text": HOW_TO_READ, "font": {"size": 13}}}


def _controls(steps: Sequence[int]) -> dict:
    """The slider (one stop per frame labelled with its step; plotly.js skips labels that would overlap,
    and the title names the frame's step) and the Play / Pause buttons."""
    still = {"mode": "immediate", "frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}}
    play = {"frame": {"duration": FRAME_MS, "redraw": True}, "fromcurrent": True, "transition": {"duration": 0}}
    stops = [{"label": f"{step:,}", "method": "animate", "args": [[str(step)], still]} for step in steps]
    return {
        "sliders": [
            {
                "active": 0,
                "steps": stops,
                "currentvalue": {"visible": False},
                "x": 0.12,
                "len": 0.88,
                "y": 0,
                "yanchor": "top",
                "pad": {"t": 64, "b": 10},
                "font": {"size": 12},
            }
        ],
        "updatemenus": [
            {
                "type": "buttons",
                "direction": "left",
                "x": 0.11,
                "xanchor": "right",
                "y": 0,
                "yanchor": "top",
                "pad": {"t": 58, "r": 10},
                "showactive": False,
                "buttons": [
                    {"label": "▶ Play", "method": "animate", "args": [None, play]},
                    {"label": "❚❚ Pause", "method": "animate", "args": [[None], still]},
                ],
            }
        ],
    }


def flipbook(
    frames: Sequence[MapFrame],
    n_experts: int,
    axis_names: tuple[str, str] = ("x1", "x2"),
    points: MapPoints | None = None,
    title: str = "Routing map over training",
) -> go.Figure:
    """One frame per map, oldest first; the figure opens on the first. Frames change only the map and,
    where points can go unserved, their crosses: the legend, the points and the axes stay put."""
    if not frames:
        raise ValueError("a flip-book needs at least one map")
    first = frames[0].grid
    heatmap = {
        "type": "heatmap",
        "x": first.xs_R,
        "y": first.ys_R,
        **_map_data(first, n_experts),
        "zmin": -0.5,
        "zmax": n_experts * shade_levels(n_experts) - 0.5,
        "colorscale": _colorscale(n_experts),
        "showscale": False,
        "hovertemplate": f"{axis_names[0]} %{{x:.2f}}, {axis_names[1]} %{{y:.2f}}: E%{{customdata}}<extra></extra>",
    }
    layout = base_layout("", 820)
    layout["title"].update(_title(title, frames[0].step))
    layout.update(_controls([frame.step for frame in frames]))
    layout["margin"] = {"l": 70, "r": 30, "t": 96, "b": 140}
    layout["legend"] = {"x": 1.02, "y": 1, "xanchor": "left", "yanchor": "top", "font": {"size": 13}}
    layout["xaxis"].update(title={"text": axis_names[0]}, constrain="domain", showgrid=False)
    layout["yaxis"].update(title={"text": axis_names[1]}, scaleanchor="x", constrain="domain", showgrid=False)
    traces = [heatmap, *_legend(n_experts), *(_points(points) if points is not None else [])]
    crosses = points is not None and any(frame.dropped_N is not None for frame in frames)
    if crosses:
        traces.append(_dropped(points, _or_none(frames[0].dropped_N, points)))
    animated = [
        {
            "name": str(frame.step),
            "data": [_map_data(frame.grid, n_experts)]
            + ([_dropped(points, _or_none(frame.dropped_N, points))] if crosses else []),
            "traces": [0, len(traces) - 1] if crosses else [0],
            "layout": {"title": _title(title, frame.step)},
        }
        for frame in frames
    ]
    return go.Figure({"data": traces, "layout": layout, "frames": animated})


def _or_none(dropped_N: np.ndarray | None, points: MapPoints) -> np.ndarray:
    return np.zeros(len(points.xy_N2), bool) if dropped_N is None else dropped_N


def flipbook_html(fig: go.Figure) -> str:
    """The figure as one self-contained HTML page (plotly.js inside, nothing fetched) that fills the
    window, so the whole map, slider and buttons fit a projector; titled as the figure, without a step."""
    fig = go.Figure(fig)
    fig.layout.height = None  # the page's height instead: 96% of the window
    page = fig.to_html(
        include_plotlyjs=True,
        full_html=True,
        auto_play=False,
        default_height="96vh",
        config={"displaylogo": False, "responsive": True},
    )
    title = html.escape(fig.layout.title.text.rsplit(STEP_SEPARATOR, 1)[0])
    return page.replace("<head>", f"<head><title>{title}</title>", 1)
