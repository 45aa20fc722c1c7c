"""What each kind of expert does and costs in a layer of mixed experts: the share of the routed points
each kind takes, beside the multiply-adds one point costs in it."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from moe_explorer_app.figures.style import base_layout, placeholder, set_axes, subplot_grid

TITLE = "Expert kinds: work and cost"
SHARE_COLOUR, COST_COLOUR = "#0072B2", "#D55E00"


def compute_by_kind(labels: Sequence[str], share_E: Sequence[float] | None, flops_E: Sequence[float]) -> go.Figure:
    """Two bar panels, one above the other, one bar per kind (in the order the kinds first appear): its
    experts' summed share of routed points, and its multiply-adds per point."""
    if share_E is None:
        return go.Figure({"data": [], "layout": placeholder(TITLE, 240, "Appears once the run has trained.")})
    kinds = list(dict.fromkeys(labels))
    share = [sum(s for s, label in zip(share_E, labels, strict=True) if label == kind) for kind in kinds]
    cost = [next(f for f, label in zip(flops_E, labels, strict=True) if label == kind) for kind in kinds]
    height = 170 + 70 * len(kinds)
    layout = {**base_layout(TITLE, height), **subplot_grid(2, 1, ["", ""], gap=(0, 0.32))}
    layout["annotations"], layout["showlegend"] = [], False  # the axis titles say what each panel is
    traces = [
        {"type": "bar", "orientation": "h", "y": kinds, "x": share, "marker": {"color": SHARE_COLOUR},
         "text": [f"{s:.0%}" for s in share], "textposition": "auto", "name": "share of points",
         "hovertemplate": "%{y}: %{x:.1%} of the routed points<extra></extra>"},
        {"type": "bar", "orientation": "h", "y": kinds, "x": cost, "marker": {"color": COST_COLOUR},
         "text": [f"{c:,.0f}" for c in cost], "textposition": "auto", "name": "multiply-adds", "xaxis": "x2",
         "yaxis": "y2", "hovertemplate": "%{y}: %{x:,.0f} multiply-adds per point<extra></extra>"},
    ]  # fmt: skip
    axes = {
        "xaxis": {"range": [0, 1], "tickformat": ".0%", "title": {"text": "share of points", "font": {"size": 13}}},
        "xaxis2": {"rangemode": "tozero", "title": {"text": "multiply-adds / point", "font": {"size": 13}}},
        "yaxis": {"autorange": "reversed", "title": {"text": "expert kind", "font": {"size": 13}}},
        "yaxis2": {"autorange": "reversed"},
    }
    layout["margin"] = {**layout["margin"], "l": 110, "b": 50}
    return go.Figure({"data": traces, "layout": set_axes(layout, axes)})
