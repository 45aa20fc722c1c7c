"""The look every figure shares: title, fonts, margins, and a grid of subplots without make_subplots.

Each figure is made in one `go.Figure(dict)` call from a complete dict: incremental `update_*` and
`make_subplots` calls cost several times more, and the live figures are rebuilt every second or more.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

FONT = "'Source Sans Pro', 'Source Sans 3', sans-serif"  # the page's own font
INK, GRID = "#1B1F24", "#E6E9EF"


def base_layout(title: str, height: int) -> dict:
    """Shared look, complete in itself (the figures are drawn by plotly.js in a component, outside
    Streamlit's chart theme). No Plotly template: "plotly_white" costs tens of milliseconds of deep
    copies per figure. The legend sits at the figure's foot, under the axis titles."""
    return {
        "title": {"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 17, "weight": 600}},
        "template": "none",
        "font": {"family": FONT, "size": 14, "color": INK},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 64, "b": 84},
        "legend": {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0, "font": {"size": 13}},
        "xaxis": {"gridcolor": GRID, "zeroline": False},
        "yaxis": {"gridcolor": GRID, "zeroline": False},
        "paper_bgcolor": "#FFFFFF",
        "plot_bgcolor": "#FFFFFF",
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
        grid = {"gridcolor": GRID, "zeroline": False}
        layout[f"xaxis{suffix}"] = {"domain": [x0, min(1.0, x0 + width)], "anchor": f"y{suffix}", **grid}
        # rounding can put the bottom row a hair below 0, which Plotly rejects
        layout[f"yaxis{suffix}"] = {"domain": [max(0.0, y1 - height), y1], "anchor": f"x{suffix}", **grid}
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


def presentation_fonts(fig: go.Figure, smallest: int = 16) -> go.Figure:
    """The same figure with every text at least `smallest` pixels, for a projected page."""
    layout = fig.layout
    base = max(smallest, layout.font.size or smallest)
    fig = go.Figure(fig)
    fig.update_layout(font_size=base, title_font_size=base + 4, legend_font_size=base - 1)
    for note in fig.layout.annotations:
        note.font.size = max(smallest, note.font.size or smallest)
    return fig


def placeholder(title: str, height: int, text: str) -> dict:
    """A figure's layout before there is anything to plot: its title and one sentence, no empty axes."""
    layout = base_layout(title, height)
    layout.update(
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[
            {
                "text": text,
                "x": 0.5,
                "y": 0.5,
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
                "font": {"size": 15, "color": "#5A6270"},
            }
        ],
    )
    return layout


def event_marks(layout: dict, events: Sequence[tuple[int, str]], panels: int = 1) -> dict:
    """A dashed vertical line on every panel at each step where a setting changed live, labelled once."""
    shapes, notes = list(layout.get("shapes", [])), list(layout.get("annotations", []))
    for step, text in events:
        for panel in range(1, panels + 1):
            suffix = "" if panel == 1 else str(panel)
            shapes.append(
                {
                    "type": "line",
                    "xref": f"x{suffix}",
                    "yref": f"y{suffix} domain",
                    "x0": step,
                    "x1": step,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": "#5A6270", "width": 1, "dash": "dot"},
                }
            )
        notes.append(
            {
                "text": text,
                "x": step,
                "y": 1,
                "xref": "x",
                "yref": "y domain",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
                "textangle": 0,
                "font": {"size": 11, "color": "#5A6270"},
                "bgcolor": "rgba(255,255,255,0.75)",
            }
        )
    layout.update(shapes=shapes, annotations=notes)
    return layout
