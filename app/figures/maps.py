"""The input plane: the routing map and the expert thumbnails.

Grid arrays follow moe_core.probe: [R, R] with row = view y and column = view x, as Heatmap z wants.
Large arrays go out as uint8 where they can: Plotly sends numpy arrays base64-encoded, so a map of
expert codes costs a byte a cell instead of eight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from moe_core.probe import GridProbe
from moe_explorer_app.figures.palette import expert_colour, expert_name, shaded_colorscale
from moe_explorer_app.figures.style import base_layout

LEVELS = 4  # confidence shades per expert on the routing map
MAP_MODES = {
    "expert": "Winning expert",
    "second": "2nd choice",
    "entropy": "Gate entropy",
    "output": "Model output",
}
MAP_TITLES = {
    "expert": "Routing map: the expert the gate picks (faint = unsure)",
    "second": "Routing map: the gate's second choice",
    "entropy": "Routing map: how undecided the gate is",
    "output": "Routing map: the model's prediction",
}
CLASS_SYMBOLS = [
    "circle",
    "square",
    "diamond",
    "triangle-up",
    "cross",
    "x",
    "star",
    "hexagon",
    "pentagon",
    "triangle-down",
]


@dataclass(frozen=True)
class MapPoints:
    """Data points drawn on the map: view coordinates, their target, and whether capacity dropped them."""

    xy_N2: np.ndarray
    target_N: np.ndarray  # class ids, or values for a regression
    dropped_N: np.ndarray  # bool
    index_N: np.ndarray  # the point's index in the probe set, for the inspector
    class_names: tuple[str, ...]  # empty for a regression


def _percent(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values * 100), 0, 100).astype(np.uint8)


def value_style(value_kind: str, n_classes: int) -> dict:
    """Colour scale and hover label for a model's value: P(class 1) in percent, a class id, or a value."""
    if value_kind == "probability":
        return {
            "colorscale": "RdBu_r",
            "zmin": 0,
            "zmax": 100,
            "colorbar": {"title": {"text": "P(class 1) %"}},
            "hovertemplate": "x %{x:.2f}, y %{y:.2f}<br>P(class 1) %{z:.0f}%<extra></extra>",
        }
    if value_kind == "class":
        colours = qualitative.Safe
        scale = [[c / n_classes, colours[i % len(colours)]] for i in range(n_classes) for c in (i, i + 1)]
        return {
            "colorscale": scale,
            "zmin": -0.5,
            "zmax": n_classes - 0.5,
            "colorbar": {"title": {"text": "class"}},
            "hovertemplate": "x %{x:.2f}, y %{y:.2f}<br>class %{z}<extra></extra>",
        }
    return {
        "colorscale": "Viridis",
        "colorbar": {"title": {"text": "prediction"}},
        "hovertemplate": "x %{x:.2f}, y %{y:.2f}<br>prediction %{z:.2f}<extra></extra>",
    }


def _value_z(values: np.ndarray, value_kind: str) -> np.ndarray:
    return (values * 100 if value_kind == "probability" else values).astype(np.float32)


def _expert_heatmap(experts_RR: np.ndarray, sureness_RR: np.ndarray | None, n_experts: int) -> dict:
    """One heatmap, no overlay: each expert has LEVELS shades from faint (unsure) to full colour, coded
    expert * LEVELS + level in uint8 (64 experts x 4 levels = 256 codes)."""
    if sureness_RR is None:
        level = np.full(experts_RR.shape, LEVELS - 1)
    else:
        level = np.clip((sureness_RR * LEVELS).astype(int), 0, LEVELS - 1)
    step = int(np.ceil(n_experts / 8))  # each tick label costs the browser time on every redraw
    return {
        "type": "heatmap",
        "z": (experts_RR.astype(np.int32) * LEVELS + level).astype(np.uint8),
        "customdata": experts_RR,
        "colorscale": shaded_colorscale(n_experts, LEVELS),
        "zmin": -0.5,
        "zmax": n_experts * LEVELS - 0.5,
        "name": "expert",
        "hovertemplate": "x %{x:.2f}, y %{y:.2f}<br>expert E%{customdata}<extra></extra>",
        "colorbar": {
            "title": {"text": "expert<br>(faint =<br>unsure)"},
            "len": 0.9,
            "tickvals": [e * LEVELS + (LEVELS - 1) / 2 for e in range(0, n_experts, step)],
            "ticktext": [expert_name(e) for e in range(0, n_experts, step)],
        },
    }


def _background(grid: GridProbe, mode: str, n_experts: int, value_kind: str, n_classes: int) -> dict:
    if mode == "expert" and grid.winner_RR is not None:
        sureness = None
        if n_experts > 1:
            sureness = (grid.winner_prob_RR - 1 / n_experts) / (1 - 1 / n_experts)
        trace = _expert_heatmap(grid.winner_RR, sureness, n_experts)
    elif mode == "second" and grid.second_RR is not None:
        trace = _expert_heatmap(grid.second_RR, None, n_experts)
    elif mode == "entropy" and grid.entropy_RR is not None:
        trace = {
            "type": "heatmap",
            "z": _percent(grid.entropy_RR),
            "zmin": 0,
            "zmax": 100,
            "colorscale": "Greys",
            "colorbar": {"title": {"text": "entropy<br>% of log E"}},
            "hovertemplate": "x %{x:.2f}, y %{y:.2f}<br>gate entropy %{z}% of log E<extra></extra>",
        }
    else:
        trace = {"type": "heatmap", "z": _value_z(grid.output_RR, value_kind), **value_style(value_kind, n_classes)}
    # zsmooth "fast" paints one pixel per cell and scales it up: far cheaper in the browser than False.
    return {**trace, "x": grid.xs_R, "y": grid.ys_R, "zsmooth": "fast"}


def _class_trace(points: MapPoints, c: int | None) -> dict:
    """The points of class c (all points for a regression): dark and light markers by class."""
    mask = np.ones(len(points.xy_N2), bool) if c is None else points.target_N == c
    name = "data points" if c is None else f"class {points.class_names[c]}"
    dark = c is None or c % 2 == 1
    return {
        "type": "scatter",
        "mode": "markers",
        "x": points.xy_N2[mask, 0],
        "y": points.xy_N2[mask, 1],
        "name": name,
        "customdata": points.index_N[mask],
        "marker": {
            "size": 7,
            "color": "#111111" if dark else "#FFFFFF",
            "symbol": CLASS_SYMBOLS[(c or 0) % len(CLASS_SYMBOLS)],
            "line": {"width": 1, "color": "#FFFFFF" if dark else "#111111"},
        },
        "hovertemplate": "point #%{customdata}<extra>" + name + "</extra>",
        # a click selects a point for the inspector; Plotly would fade all the others
        "unselected": {"marker": {"opacity": 1}},
    }


def _marks(points: MapPoints, where_N: np.ndarray, name: str, marker: dict, **extra) -> dict:
    return {
        "type": "scatter",
        "mode": "markers",
        "x": points.xy_N2[where_N, 0],
        "y": points.xy_N2[where_N, 1],
        "name": name,
        "marker": marker,
        **extra,
    }


def _point_traces(points: MapPoints, selected: int | None) -> list[dict]:
    """Points by class, a red x on points capacity left without an expert, a ring on the inspected one."""
    groups = range(len(points.class_names)) if points.class_names else [None]
    traces = [_class_trace(points, c) for c in groups]
    if points.dropped_N.any():
        cross = {"size": 11, "symbol": "x-thin", "line": {"width": 2.5, "color": "#C00000"}}
        traces.append(
            _marks(points, points.dropped_N, "dropped (no expert)", cross, customdata=points.index_N[points.dropped_N],
                   hovertemplate="point #%{customdata}: over capacity, no expert<extra></extra>")
        )  # fmt: skip
    if selected is not None and selected in points.index_N:
        # an open symbol is drawn in the marker's colour, not its line's
        ring = {"size": 20, "symbol": "circle-open", "color": "#000000", "line": {"width": 3}}
        traces.append(_marks(points, points.index_N == selected, "inspected point", ring, hoverinfo="skip"))
    return traces


def routing_map(
    grid: GridProbe,
    points: MapPoints,
    mode: str,
    n_experts: int,
    value_kind: str,
    axis_names: tuple[str, str],
    selected: int | None = None,
) -> go.Figure:
    """The input plane coloured by the gate's choice (or entropy, or the model's output), points on top."""
    data = [_background(grid, mode, n_experts, value_kind, len(points.class_names)), *_point_traces(points, selected)]
    layout = base_layout(MAP_TITLES[mode], 620)
    layout.update(
        xaxis={"title": {"text": axis_names[0]}, "range": [grid.xs_R[0], grid.xs_R[-1]], "constrain": "domain"},
        yaxis={
            "title": {"text": axis_names[1]},
            "range": [grid.ys_R[0], grid.ys_R[-1]],
            "scaleanchor": "x",
            "scaleratio": 1,
            "constrain": "domain",
        },
        clickmode="event+select",
    )
    layout["legend"].update(y=-0.12)
    return go.Figure({"data": data, "layout": layout})


def thumbnail_side(n_experts: int) -> int:
    """Cells per thumbnail side: 48 at most per tile, and about 130 across the mosaic for many experts."""
    columns = int(np.ceil(np.sqrt(n_experts)))
    return max(12, min(48, 130 // columns))


def _tile_annotation(e: int, x: float, y: float, share: float | None, small: bool) -> dict:
    share_text = "" if share is None else f" · {share:.0%}"
    return {
        "x": x,
        "y": y,
        "yanchor": "bottom",
        "showarrow": False,
        "text": f"<span style='color:{expert_colour(e)}'>■</span> {expert_name(e)}{share_text}",
        "font": {"size": 9 if small else 12},
    }


def _mosaic(grid: GridProbe, load_share, value_kind: str):
    """Every expert's tile in one array (NaN where the gate sends it nothing), the grey mask of those
    cells, each tile's label, and the number of tile rows and the pitch between tiles."""
    values_ERR, routed_ERR = grid.expert_value_ERR, grid.routed_ERR
    n_experts, side = values_ERR.shape[0], values_ERR.shape[1]
    columns = int(np.ceil(np.sqrt(n_experts)))
    rows = int(np.ceil(n_experts / columns))
    pitch = side + max(2, side // 8)
    shown = np.full((rows * pitch, columns * pitch), np.nan, dtype=np.float32)
    masked = np.zeros(shown.shape, dtype=np.uint8)  # 1 = the gate sends this expert nothing here
    annotations = []
    for e in range(n_experts):
        r, c = divmod(e, columns)
        r = rows - 1 - r  # first expert at the top left
        tile = (slice(r * pitch, r * pitch + side), slice(c * pitch, c * pitch + side))
        shown[tile] = np.where(routed_ERR[e], _value_z(values_ERR[e], value_kind), np.nan)
        masked[tile] = ~routed_ERR[e]
        share = None if load_share is None else load_share[e]
        annotations.append(_tile_annotation(e, c * pitch + side / 2, r * pitch + side, share, n_experts > 16))
    return shown, masked, annotations, rows, pitch


def expert_thumbnails(
    grid: GridProbe, load_share: tuple[float, ...] | None, value_kind: str, n_classes: int
) -> go.Figure:
    """One small map per expert, tiled into one heatmap: its own prediction, grey where it gets no points."""
    shown, masked, annotations, rows, pitch = _mosaic(grid, load_share, value_kind)
    side = grid.expert_value_ERR.shape[1]
    grey = {
        "type": "heatmap",
        "z": masked,
        "zmin": 0,
        "zmax": 1,
        "showscale": False,
        "hoverinfo": "skip",
        "colorscale": [[0, "rgba(0,0,0,0)"], [1, "#E4E4E4"]],
        "zsmooth": "fast",
    }
    value = {"type": "heatmap", "z": shown, "zsmooth": "fast", **value_style(value_kind, n_classes)}
    value["hovertemplate"] = value["hovertemplate"].replace("x %{x:.2f}, y %{y:.2f}<br>", "")
    layout = base_layout("Experts: each one's own prediction (grey: the gate sends it nothing there)", 460)
    layout.update(
        annotations=annotations,
        plot_bgcolor="#FFFFFF",
        margin={"l": 20, "r": 20, "t": 60, "b": 20},
        xaxis={"visible": False, "constrain": "domain"},
        yaxis={"visible": False, "scaleanchor": "x", "scaleratio": 1, "range": [-1, rows * pitch + side * 0.35]},
    )
    return go.Figure({"data": [grey, value], "layout": layout})
