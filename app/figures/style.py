"""The look every figure shares: title, fonts, margins, and a grid of subplots without make_subplots.

Each figure is made in one `go.Figure(dict)` call from a complete dict: incremental `update_*` and
`make_subplots` calls cost several times more, and the live figures are rebuilt every second or more.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

FONT = "'Source Sans Pro', 'Source Sans 3', sans-serif"  # the page's own font
INK, GRID = "#1B1F24", "#E6E9EF"
SMALLEST = 14  # px: the least a chart's text may be and still read from the back of a room
# Axes make room for their own ticks and titles, and x ticks never turn sideways into the axis title.
AXIS = {"gridcolor": GRID, "zeroline": False, "automargin": True}
# The narrowest a chart is drawn (a column of the live panel before it stacks), and about how wide a
# character of 14 px text is there: what a legend's rows and a title's length are planned for.
NARROWEST, CHAR_PX = 340, 7.5


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
        "legend": {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0, "font": {"size": 14}},
        "xaxis": {**AXIS, "tickangle": 0},
        "yaxis": dict(AXIS),
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
        grid = {**AXIS, "tickangle": 0}
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
                "yshift": 8,  # clear of a top tick label, which stands half its height above the panel
                "showarrow": False,
                "font": {"size": SMALLEST},
            }
        )
    return layout


def legend_rows(labels: Sequence[str], width: int = NARROWEST) -> int:
    """How many rows a horizontal legend of these entries takes in a chart `width` pixels wide."""
    rows, used = 1, 0.0
    for label in labels:
        entry = 46 + CHAR_PX * len(label)  # Plotly's swatch and gaps, then the text
        if used and used + entry > width:
            rows, used = rows + 1, 0.0
        used += entry
    return rows


def room_for_legend(layout: dict, labels: Sequence[str], axis_title: bool = True) -> dict:
    """A bottom margin that holds the legend's rows under the x axis's ticks and title, as wrapped in
    the narrowest column: a legend laid over the ticks is the clipping a projector shows first."""
    below_axis = 62 if axis_title else 36
    layout["margin"] = {**layout["margin"], "b": below_axis + 24 * legend_rows(labels)}
    return layout


def set_axes(layout: dict, axes: dict[str, dict]) -> dict:
    """Merge axis properties into a layout, e.g. {"yaxis2": {"title": {"text": "loss"}}}."""
    for axis, props in axes.items():
        layout.setdefault(axis, {}).update(props)
    return layout


def presentation_fonts(fig: go.Figure, smallest: int = 17) -> go.Figure:
    """The same figure for a projected page: every text at least `smallest` pixels, taller by as much,
    and the margins that hold ticks and legends grown with the text."""
    layout = fig.layout
    grow = smallest / max(layout.font.size or SMALLEST, SMALLEST)
    fig = go.Figure(fig)
    margin = layout.margin
    fig.update_layout(
        font_size=smallest,
        title_font_size=smallest + 4,
        legend_font_size=smallest,
        height=round((layout.height or 400) * grow),
        margin={"t": round((margin.t or 64) * grow), "b": round((margin.b or 84) * grow)},
    )
    for note in fig.layout.annotations:
        note.font.size = max(smallest, note.font.size or smallest)
    fig.for_each_xaxis(lambda axis: axis.update(tickfont_size=None))
    fig.for_each_yaxis(lambda axis: axis.update(tickfont_size=None))
    return fig


def step_lines(step: int, panels: int, line: dict) -> list[dict]:
    """One vertical line at `step` across the full height of each of the first `panels` subplots."""
    return [
        {
            "type": "line",
            "xref": f"x{'' if panel == 1 else panel}",
            "yref": f"y{'' if panel == 1 else panel} domain",
            "x0": step,
            "x1": step,
            "y0": 0,
            "y1": 1,
            "line": line,
        }
        for panel in range(1, panels + 1)
    ]


def cursor_mark(layout: dict, step: int | None, panels: int = 1) -> dict:
    """A solid line on every panel at the step the replay shows, over the whole run's curves."""
    if step is None:
        return layout
    shapes = [*layout.get("shapes", []), *step_lines(step, panels, {"color": INK, "width": 2})]
    note = {
        "text": f"replay: step {step:,}",
        "x": step,
        "y": 0,
        "xref": "x",
        "yref": "y domain",
        "showarrow": False,
        "xanchor": "left",
        "yanchor": "bottom",
        "font": {"size": SMALLEST, "color": INK},
        "bgcolor": "rgba(255,255,255,0.85)",
    }
    layout.update(shapes=shapes, annotations=[*layout.get("annotations", []), note])
    return layout


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
        shapes += step_lines(step, panels, {"color": "#5A6270", "width": 1, "dash": "dot"})
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
                "font": {"size": SMALLEST, "color": "#5A6270"},
                "bgcolor": "rgba(255,255,255,0.75)",
            }
        )
    layout.update(shapes=shapes, annotations=notes)
    return layout
