"""The look every figure shares: title, fonts, margins, and a grid of subplots without make_subplots.

Each figure is made in one `go.Figure(dict)` call from a complete dict: incremental `update_*` and
`make_subplots` calls cost several times more, and the live figures are rebuilt every second or more.
"""

from __future__ import annotations

from collections.abc import Sequence


def base_layout(title: str, height: int) -> dict:
    """Shared look. No Plotly template: "plotly_white" costs tens of milliseconds of deep copies per
    figure, and Streamlit's theme styles charts in the browser anyway."""
    return {
        "title": {"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 17}},
        "template": "none",
        "font": {"family": "Inter, Arial, sans-serif", "size": 14},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 70, "b": 50},
        "legend": {"orientation": "h", "y": -0.22, "x": 0, "font": {"size": 12}},
        "uirevision": "keep",  # keep zoom and legend clicks while the data refreshes
    }


def subplot_grid(rows: int, cols: int, titles: Sequence[str], gap: tuple[float, float] = (0.12, 0.2)) -> dict:
    """Axes for a rows x cols grid (what make_subplots builds), with subplot titles as annotations.

    Panels are numbered row by row from 1; panel i uses axes x{i}/y{i} ("x"/"y" for the first).
    """
    hgap, vgap = gap
    width, height = (1 - hgap * (cols - 1)) / cols, (1 - vgap * (rows - 1)) / rows
    layout: dict = {"annotations": []}
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        suffix = "" if i == 0 else str(i + 1)
        x0, y1 = c * (width + hgap), 1 - r * (height + vgap)
        layout[f"xaxis{suffix}"] = {"domain": [x0, min(1.0, x0 + width)], "anchor": f"y{suffix}"}
        # rounding can put the bottom row a hair below 0, which Plotly rejects
        layout[f"yaxis{suffix}"] = {"domain": [max(0.0, y1 - height), y1], "anchor": f"x{suffix}"}
        layout["annotations"].append(
            {
                "text": titles[i],
                "x": x0 + width / 2,
                "y": y1,
                "xref": "paper",
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 13},
            }
        )
    return layout


def set_axes(layout: dict, axes: dict[str, dict]) -> dict:
    """Merge axis properties into a layout, e.g. {"yaxis2": {"title": {"text": "loss"}}}."""
    for axis, props in axes.items():
        layout.setdefault(axis, {}).update(props)
    return layout
