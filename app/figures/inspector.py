"""One point's gate: the router's probability for each expert, the chosen ones solid with their weights."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from moe_explorer_app.figures.palette import expert_colour, expert_name
from moe_explorer_app.figures.style import base_layout


def gate_bars(probs_E: np.ndarray, chosen: dict[int, float], point: str) -> go.Figure:
    """One point's router probabilities; the chosen experts solid, with their combine weights."""
    experts = np.arange(len(probs_E))
    is_chosen = np.isin(experts, list(chosen))
    data = []
    for flag, name, opacity in ((True, "chosen", 1.0), (False, "not chosen", 0.35)):
        subset = experts[is_chosen == flag]
        data.append(
            {
                "type": "bar",
                "x": [expert_name(e) for e in subset],
                "y": probs_E[subset],
                "name": name,
                "opacity": opacity,
                "textposition": "outside",
                "textfont": {"size": 14},
                "cliponaxis": False,
                "marker": {
                    "color": [expert_colour(e) for e in subset],
                    "line": {"width": 1.5 if flag else 0, "color": "#111111"},
                },
                "text": [f"w={chosen[e]:.2f}" if flag else "" for e in subset],
                "hovertemplate": "%{x}: probability %{y:.3f}<extra></extra>",
            }
        )
    layout = base_layout(f"Gate scores for point {point}", 330)
    layout.update(
        bargap=0.25,
        # Plotly shrinks a bar's outside text to the bar's width (to 6 px beside eight experts): keep it at
        # the page's 14 px, above the bar
        uniformtext={"minsize": 14, "mode": "show"},
        xaxis={
            "title": {"text": "expert"},
            "categoryorder": "array",
            "categoryarray": [expert_name(e) for e in experts],
        },
        # with many experts every probability is small: the axis follows the largest (with room for its label)
        yaxis={"title": {"text": "router probability"}, "range": [0, min(1.15, max(0.05, float(probs_E.max()) * 1.3))]},
    )
    layout["legend"].update(yref="paper", y=1.02, yanchor="bottom", x=1, xanchor="right")
    return go.Figure({"data": data, "layout": layout})
