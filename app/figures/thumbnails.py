"""The expert thumbnails: each expert's own prediction over the plane, in the routing map's value
colours.

Grid arrays follow moe_core.measure.probe: [R, R] with row = view y and column = view x, as Heatmap z wants.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from moe_core.measure.probe import GridProbe
from moe_explorer_app.figures.palette import PROBABILITY_SCALE, VALUE_SCALE, class_colour, expert_colour, expert_name
from moe_explorer_app.figures.style import SMALLEST, base_layout


def value_style(value_kind: str, n_classes: int) -> dict:
    """Colour scale and hover label for a model's value: P(class 1) in percent, a class id, or a value."""
    if value_kind == "probability":
        return {
            "colorscale": PROBABILITY_SCALE,
            "zmin": 0,
            "zmax": 100,
            "colorbar": {"title": {"text": "P(class 1) %"}},
            "hovertemplate": "P(class 1) %{z:.0f}%<extra></extra>",
        }
    if value_kind == "class":
        scale = [[c / n_classes, class_colour(i)] for i in range(n_classes) for c in (i, i + 1)]
        return {
            "colorscale": scale,
            "zmin": -0.5,
            "zmax": n_classes - 0.5,
            "colorbar": {"title": {"text": "class"}},
            "hovertemplate": "class %{z}<extra></extra>",
        }
    return {
        "colorscale": VALUE_SCALE,
        "colorbar": {"title": {"text": "prediction"}},
        "hovertemplate": "prediction %{z:.2f}<extra></extra>",
    }


def _value_z(values: np.ndarray, value_kind: str) -> np.ndarray:
    return (values * 100 if value_kind == "probability" else values).astype(np.float32)


def thumbnail_side(n_experts: int) -> int:
    """Cells per thumbnail side: 48 at most per tile, and about 130 across the mosaic for many experts."""
    columns = int(np.ceil(np.sqrt(n_experts)))
    return max(12, min(48, 130 // columns))


def _tile_annotation(e: int, x: float, y: float, share: float | None, many: bool) -> dict:
    """A tile's label at 14 px: its expert and load share, or with many experts (tiles too narrow for
    both) its expert alone, the share in the hover."""
    share_text = "" if share is None or many else f" · {share:.0%}"
    return {
        "x": x,
        "y": y,
        "yanchor": "bottom",
        "showarrow": False,
        "text": f"<span style='color:{expert_colour(e)}'>■</span> {expert_name(e)}{share_text}",
        "font": {"size": SMALLEST},
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
        annotations.append(_tile_annotation(e, c * pitch + side / 2, r * pitch + side, share, columns > 3))
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
    # the colour bar lies under the tiles: beside them it takes a narrow column's width from the tiles
    bar = value["colorbar"]
    value["colorbar"] = {**bar, "orientation": "h", "y": -0.02, "yanchor": "top", "len": 0.9, "thickness": 14}
    value["colorbar"]["title"] = {**bar["title"], "side": "top"}
    layout = base_layout("Each expert's own prediction", 500)
    layout.update(
        annotations=annotations,
        plot_bgcolor="#FFFFFF",
        margin={"l": 20, "r": 20, "t": 60, "b": 96},
        xaxis={"visible": False, "constrain": "domain"},
        yaxis={"visible": False, "scaleanchor": "x", "scaleratio": 1, "range": [-1, rows * pitch + side * 0.35]},
    )
    return go.Figure({"data": [grey, value], "layout": layout})
