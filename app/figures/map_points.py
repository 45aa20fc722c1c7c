"""What a small routing map draws over its regions: the test points by class, a red x where no expert
served one, and the legend entries for the experts' colours and the markers. Shared by the Sweep
page's maps and the Compare page's.

A map's points come as `moe_core.experiments.trials.small_map` gives them: x, y, target, dropped and,
on a projection of more than two inputs, each point's own first expert.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from moe_core.measure.align import Alignment
from moe_explorer_app.figures.compare import map_grid
from moe_explorer_app.figures.flipbook import DROPPED_COLOUR
from moe_explorer_app.figures.palette import expert_colour, expert_name
from moe_explorer_app.figures.routing_map import SYMBOLS
from moe_explorer_app.figures.style import legend_rows


def swatch(e: int) -> dict:
    """A legend entry for an expert's colour on the maps (the maps themselves are heatmaps)."""
    marker = {"symbol": "square", "size": 14, "color": expert_colour(e)}
    return {"type": "scatter", "mode": "markers", "x": [None], "y": [None], "name": expert_name(e), "marker": marker,
            "hoverinfo": "skip", "legendgroup": "experts", "showlegend": True}  # fmt: skip


PLOTLY_SYMBOLS = {"triangle": "triangle-up"}  # the live map's symbol names that Plotly spells otherwise
# Past the live map's four symbols (ten digit classes would repeat them): more shapes, never an x (dropped).
MORE_SYMBOLS = ("triangle-down", "star", "hexagon", "pentagon", "cross", "hourglass", "bowtie", "star-square")


def class_marker(c: int, classes: Sequence[str]) -> dict:
    """Class c's marker: the live map's symbols and fills (black and white alternating), then more shapes."""
    dark = c % 2 or not classes
    symbol = SYMBOLS[c] if c < len(SYMBOLS) else MORE_SYMBOLS[(c - len(SYMBOLS)) % len(MORE_SYMBOLS)]
    return {"symbol": PLOTLY_SYMBOLS.get(symbol, symbol), "size": 7, "color": "#111111" if dark else "#FFFFFF",
            "line": {"width": 1, "color": "#FFFFFF" if dark else "#111111"}}  # fmt: skip


def marker_keys(classes: Sequence[str], points: Sequence[dict]) -> list[dict]:
    """Legend entries for the markers: each class drawn, then the red x where a point was dropped."""
    drawn = {t["name"] for t in points if t["x"]}
    keys = [(f"class {n}" if classes else n, class_marker(c, classes)) for c, n in enumerate(classes or ["data point"])]
    keys.append(("no expert (dropped)", CROSS))
    return [{"type": "scatter", "mode": "markers", "x": [None], "y": [None], "name": name, "marker": marker,
             "hoverinfo": "skip", "showlegend": True} for name, marker in keys if name in drawn]  # fmt: skip


CROSS = {"symbol": "x-thin", "size": 10, "line": {"width": 2.5, "color": DROPPED_COLOUR}}


def own_experts(map_: dict, alignment: Alignment | None) -> np.ndarray:
    """Each drawn point's first expert, renumbered as its map (none where the map does not keep them)."""
    own = np.array((map_.get("points") or {}).get("expert", []), int)
    return own if alignment is None else alignment.relabel(own)


def point_traces(map_: dict, panel: int, alignment: Alignment | None) -> list[dict]:
    """A panel's test points, one trace per class (`_class_marker`), and a red x over each point no expert
    served (as the live map marks it). On a map of many inputs, where a point's own expert can differ from
    the region's under it, each marker is filled with its expert's colour (matched as the map's)."""
    points = map_.get("points")
    if not points:
        return []
    axes = {"xaxis": f"x{panel + 1 if panel else ''}", "yaxis": f"y{panel + 1 if panel else ''}"}
    classes = map_.get("classes") or []
    x, y, dropped = np.array(points["x"]), np.array(points["y"]), np.array(points["dropped"], bool)
    target = np.array(points["target"]).astype(int) if classes else np.zeros(len(x), int)
    own = own_experts(map_, alignment) if "expert" in points else None
    traces = []
    for c, name in enumerate(classes or ["data point"]):
        where, marker = target == c, class_marker(c, classes)
        if own is not None:
            marker |= {"color": [expert_colour(e) for e in own[where]], "line": {"width": 1, "color": "#111111"}}
        traces.append({"type": "scatter", "mode": "markers", "x": x[where].tolist(), "y": y[where].tolist(),
                       "name": f"class {name}" if classes else name, "marker": marker, "legendgroup": f"class {c}",
                       "showlegend": False, "hoverinfo": "skip", **axes})  # fmt: skip
    traces.append({"type": "scatter", "mode": "markers", "x": x[dropped].tolist(), "y": y[dropped].tolist(),
                   "name": "no expert (dropped)", "marker": CROSS, "legendgroup": "dropped", "showlegend": False,
                   "hoverinfo": "skip", **axes})  # fmt: skip
    return traces


# Plotly sets a title's baseline mid-way down the top margin, among the panels' titles: at the top instead.
TITLE_AT_TOP = {"yref": "container", "y": 1, "yanchor": "top", "pad": {"t": 20}}
LEGEND_WIDTH = 540  # px: the maps' width on the narrowest page they are read on (1024, sidebar open)


def maps_with_points(
    title: str, lines: Sequence[Sequence[str]], maps: Sequence[np.ndarray], small_maps: Sequence[dict],
    alignments: Sequence[Alignment | None], n_experts: int, axes: tuple[str, str],
) -> go.Figure:  # fmt: skip
    """Small multiples of routing maps (`maps`, renumbered to the reference's experts) with each panel's
    title lines, its test points and dropped points from `small_maps`, and one legend under them for
    the experts' colours and the markers."""
    fig = map_grid(title, ["<br>".join(t) for t in lines], maps, [m["extent"] for m in small_maps], n_experts, axes)
    points = [t for i, (m, a) in enumerate(zip(small_maps, alignments, strict=True)) for t in point_traces(m, i, a)]
    own = [own_experts(m, a) for m, a in zip(small_maps, alignments, strict=True)]  # the markers' fills, if any
    shown = sorted({int(e) for m in [*maps, *own] for e in np.unique(m)})
    traces = [*map(swatch, shown), *marker_keys(small_maps[0].get("classes") or [], points), *points]
    labels = [t["name"] for t in traces if t["showlegend"]]
    grow = 24 * legend_rows(labels, LEGEND_WIDTH)
    top = 60 + 22 * title.count("<br>") + 20 * max(1, *map(len, lines))  # the figure's title, then the panels'
    layout = fig.layout.to_plotly_json()  # the legend in one flow: "grouped" would stack each group in a column
    for note in layout["annotations"]:  # over its panel's middle: Plotly's "auto" pushes the outer ones outwards
        note["xanchor"] = "center"
    layout.update(height=layout["height"] + grow + top - 110, showlegend=True,
                  margin={**layout["margin"], "t": top, "b": 50 + grow},
                  legend={**layout["legend"], "traceorder": "normal"},
                  title={**layout["title"], **TITLE_AT_TOP})  # fmt: skip
    data = [{**t.to_plotly_json(), "showscale": False} for t in fig.data]  # the legend names the experts
    return go.Figure({"data": data + traces, "layout": layout})
