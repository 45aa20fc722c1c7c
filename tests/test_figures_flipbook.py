"""The flip-book: one frame per recorded map, a slider labelled with the steps and Play / Pause, the live
map's colours and legend, and a standalone HTML file that carries the frames and plotly.js."""

import json
import re

import numpy as np
import pytest

from moe_core.measure.probe import GridProbe
from moe_explorer_app.figures.flipbook import DROPPED_COLOUR, HOW_TO_READ, MapFrame, flipbook, flipbook_html
from moe_explorer_app.figures.palette import expert_colour
from moe_explorer_app.figures.routing_map import MapPoints, winner_codes

STEPS = [0, 150, 300, 1_200, 4_800]


def grid(step: int) -> GridProbe:
    """A 3 x 3 map whose winner moves with the step, the gate surer as training goes on."""
    winner = (np.arange(9).reshape(3, 3) + step // 150) % 3
    prob = np.full((3, 3), min(0.34 + step / 5_000, 1.0))
    return GridProbe(np.linspace(-1, 1, 3), np.linspace(-1, 1, 3), np.zeros((3, 3)), winner.astype(np.uint8), prob)


POINTS = MapPoints(
    np.array([[0.0, 0.0], [0.5, -0.5], [-0.5, 0.5]]), np.array([0, 1, 1]), np.zeros(3, bool), np.arange(3), ("a", "b")
)


@pytest.fixture
def fig():
    return flipbook([MapFrame(step, grid(step)) for step in STEPS], 3, ("x1", "x2"), POINTS)


def test_one_frame_per_snapshot_each_with_its_map_and_step(fig):
    assert [frame.name for frame in fig.frames] == [str(s) for s in STEPS]
    for frame, step in zip(fig.frames, STEPS, strict=True):
        (data,) = frame.data
        assert np.array_equal(np.asarray(data.z), winner_codes(grid(step), 3))
        assert np.array_equal(np.asarray(data.customdata), grid(step).winner_RR)  # the expert, for hover
        assert frame.layout.title.text.endswith(f"step {step:,}") and list(frame.traces) == [0]
    assert np.array_equal(np.asarray(fig.data[0].z), winner_codes(grid(0), 3))  # it opens on the first


def test_a_slider_with_the_steps_and_play_and_pause_buttons(fig):
    (slider,) = fig.layout.sliders
    assert [list(s.args[0]) for s in slider.steps] == [[str(step)] for step in STEPS]
    assert [s.label for s in slider.steps] == ["0", "150", "300", "1,200", "4,800"]
    (menu,) = fig.layout.updatemenus
    assert [b.label for b in menu.buttons] == ["▶ Play", "❚❚ Pause"]
    assert menu.buttons[0].args[1]["fromcurrent"] and menu.buttons[0].args[1]["frame"]["redraw"]


def test_titled_labelled_with_a_legend_naming_the_experts_in_their_colours_and_how_to_read_it(fig):
    assert fig.layout.title.text == "Routing map over training · step 0"
    assert fig.layout.title.subtitle.text == HOW_TO_READ
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("x1", "x2")
    experts = [t for t in fig.data if t.legendgroup == "experts"]
    assert [(t.name, t.marker.color) for t in experts] == [(f"E{e}", expert_colour(e)) for e in range(3)]
    assert [t.name for t in fig.data if t.legendgroup == "points"] == ["class a", "class b"]
    assert fig.data[0].colorscale[0][1] != fig.data[0].colorscale[-1][1]  # faint (unsure) to full colour


def test_the_html_is_one_offline_page_holding_every_frame(fig):
    page = flipbook_html(fig)
    assert page.startswith("<!doctype html>") and "<title>Routing map over training</title>" in page
    assert not re.search(r"<script[^>]+src=", page)  # plotly.js inside, nothing fetched
    added = re.search(r"Plotly\.addFrames\('[^']+', (\[.*?\])\);", page, re.S)
    frames = json.loads(added.group(1))
    assert [f["name"] for f in frames] == [str(s) for s in STEPS]


def test_where_capacity_drops_points_each_frame_crosses_out_the_points_no_expert_served_then():
    dropped = {0: [True, True, False], 150: [False, True, False], 300: [False, False, False]}
    frames = [MapFrame(step, grid(step), np.array(d)) for step, d in dropped.items()]
    fig = flipbook(frames, 3, ("x1", "x2"), POINTS)
    crosses = fig.data[-1]
    assert crosses.name == "got no expert (dropped)" and crosses.marker.line.color == DROPPED_COLOUR
    assert list(zip(crosses.x, crosses.y, strict=True)) == [(0.0, 0.0), (0.5, -0.5)]  # it opens on the first
    for frame, marks in zip(fig.frames, dropped.values(), strict=True):
        assert list(frame.traces) == [0, len(fig.data) - 1]
        expected = POINTS.xy_N2[np.array(marks)]
        assert np.array_equal(np.c_[frame.data[1].x, frame.data[1].y].reshape(-1, 2), expected)


def test_without_a_capacity_there_is_nothing_to_cross_out(fig):
    assert all(t.legendgroup != "dropped" for t in fig.data)


def test_no_maps_is_a_mistake():
    with pytest.raises(ValueError):
        flipbook([], 3)
