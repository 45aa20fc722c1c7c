"""The shared look: base_layout, and subplot_grid's panels (what make_subplots would build)."""

import plotly.graph_objects as go
import pytest

from moe_explorer_app.figures.style import base_layout, legend_rows, presentation_fonts, set_axes, subplot_grid


def test_base_layout_titles_the_figure_without_a_template():
    layout = base_layout("A title", 300)
    assert layout["title"]["text"] == "A title" and layout["height"] == 300
    assert layout["template"] == "none"  # a named template costs deep copies on every figure
    assert go.Figure({"layout": layout}).layout.title.text == "A title"  # every key is a valid property


DEFAULT_GAP = (0.12, 0.2)


@pytest.mark.parametrize(
    ("rows", "cols", "gap"),
    [
        (1, 1, DEFAULT_GAP),
        (1, 2, (0.14, 0)),  # training_curves
        (2, 2, (0.2, 0.26)),  # collapse_panel
        (2, 3, (0.2, 0.3)),
        # float error once put the bottom row's domain at -1e-16 here, which Plotly rejects
        (2, 2, DEFAULT_GAP),
        (3, 2, DEFAULT_GAP),
    ],
)
def test_subplot_grid_numbers_panels_row_by_row_without_overlap(rows, cols, gap):
    titles = [f"panel {i + 1}" for i in range(rows * cols)]
    layout = subplot_grid(rows, cols, titles, gap=gap)
    go.Figure({"layout": layout})  # every key is a valid layout property
    boxes = []
    for i in range(rows * cols):
        suffix = "" if i == 0 else str(i + 1)
        x, y = layout[f"xaxis{suffix}"], layout[f"yaxis{suffix}"]
        assert (x["anchor"], y["anchor"]) == (f"y{suffix}", f"x{suffix}")  # each panel's axes pair up
        assert 0 <= x["domain"][0] < x["domain"][1] <= 1 and 0 <= y["domain"][0] < y["domain"][1] <= 1
        r, c = divmod(i, cols)
        if c > 0:  # right of the panel before it in its row
            assert x["domain"][0] > boxes[i - 1][0][1]
        if r > 0:  # below the panel above it
            assert y["domain"][1] < boxes[i - cols][1][0]
        boxes.append((x["domain"], y["domain"]))
        # the panel's title sits centred on its top edge
        note = layout["annotations"][i]
        assert note["text"] == titles[i]
        assert note["x"] == pytest.approx(sum(x["domain"]) / 2) and note["y"] == pytest.approx(y["domain"][1])
    assert len(layout["annotations"]) == rows * cols


def test_set_axes_merges_into_what_the_grid_built():
    layout = set_axes(subplot_grid(1, 2, ["a", "b"]), {"yaxis2": {"title": {"text": "loss"}}, "xaxis9": {"a": 1}})
    assert layout["yaxis2"]["title"]["text"] == "loss" and layout["yaxis2"]["anchor"] == "x2"  # kept
    assert layout["xaxis9"] == {"a": 1}  # a new axis is added


def test_legend_rows_wrap_at_the_width_like_a_horizontal_legend():
    assert legend_rows(["E0", "E1"]) == 1
    assert legend_rows(["dispatch entropy (nats)"] * 4, width=340) == 4
    assert legend_rows([f"E{e}" for e in range(16)], width=340) == 4  # about five short entries a row


def test_presentation_fonts_enlarge_every_text_and_grow_the_figure_to_hold_it():
    layout = base_layout("t", 300)
    layout["annotations"] = [{"text": "a", "font": {"size": 14}}]
    layout["yaxis"]["tickfont"] = {"size": 14}
    fig = presentation_fonts(go.Figure({"data": [], "layout": layout}))
    assert fig.layout.font.size == 17 and fig.layout.legend.font.size == 17 and fig.layout.title.font.size == 21
    assert fig.layout.annotations[0].font.size == 17 and fig.layout.yaxis.tickfont.size is None
    assert fig.layout.height > 300 and fig.layout.margin.b > 84
