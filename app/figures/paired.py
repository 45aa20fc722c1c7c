"""Paired comparisons as a forest plot: for one metric, each combination's mean difference from the
baseline, seed by seed, with its 95% interval, coloured by what the Holm-adjusted test says.

Inputs are `moe_core.experiments.paired.Comparison`s of one metric.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from moe_core.experiments.paired import Comparison
from moe_core.experiments.trials import setting_label
from moe_explorer_app.figures.style import INK, base_layout

READINGS = {  # the verdict's word -> its colour: good news blue, bad news red, neither grey
    "better": "#1F6FB2",
    "worse": "#C23B22",
    "higher": "#1F6FB2",
    "lower": "#C23B22",
    "no clear difference": "#8A919C",
}
ROW_PX = 34


def paired_forest(comparisons: Sequence[Comparison], label: str, baseline: dict, test: str = "t") -> go.Figure:
    """One row per combination: a dot at the mean paired difference from `baseline`, a whisker over
    its 95% interval, a line at zero; colour and legend say better, worse or no clear difference."""
    rows = [c for c in comparisons if c.mean is not None]
    traces = []
    for reading, colour in READINGS.items():
        ours = [c for c in rows if c.reading(test) == reading]
        if not ours:
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": reading,
                "y": [setting_label(c.settings) for c in ours],
                "x": [c.mean for c in ours],
                "error_x": {"type": "data", "symmetric": False, "width": 6, "color": colour,
                            "array": [(c.high if c.high is not None else c.mean) - c.mean for c in ours],
                            "arrayminus": [c.mean - (c.low if c.low is not None else c.mean) for c in ours]},
                "marker": {"color": colour, "size": 11},
                "customdata": [[c.p_holm(test), c.seeds] for c in ours],
                "hovertemplate": "%{y}<br>difference %{x:+.3f}<br>p (Holm) %{customdata[0]:.3g}, "
                "%{customdata[1]} paired seeds<extra></extra>",
            }
        )  # fmt: skip
    named = "t-test" if test == "t" else "Wilcoxon test"
    title = f"{label}: each setting minus {setting_label(baseline)}, seed by seed ({named}, Holm)"
    layout = base_layout(title, 150 + ROW_PX * max(len(rows), 1))
    layout["showlegend"] = True
    layout["shapes"] = [{"type": "line", "xref": "x", "yref": "paper", "x0": 0, "x1": 0, "y0": 0, "y1": 1,
                         "line": {"color": INK, "width": 1, "dash": "dot"}}]  # fmt: skip
    layout["xaxis"].update(title={"text": f"difference in {label} (95% interval)"}, zeroline=False)
    layout["yaxis"].update(title={"text": "setting", "standoff": 18}, type="category", autorange="reversed")
    return go.Figure({"data": traces, "layout": layout})
