import numpy as np
import plotly.graph_objects as go
import pytest

from app import figures
from moe_core.probe import GridProbe

R = 6


def grid(n_experts: int = 3) -> GridProbe:
    rng = np.random.default_rng(0)
    winner = rng.integers(0, n_experts, (R, R)).astype(np.uint8)
    routed = np.zeros((n_experts, R, R), bool)
    routed[winner, np.arange(R)[:, None], np.arange(R)[None, :]] = True
    return GridProbe(
        xs_R=np.linspace(-1, 1, R),
        ys_R=np.linspace(-2, 2, R),
        output_RR=rng.random((R, R)),
        winner_RR=winner,
        winner_prob_RR=rng.uniform(1 / n_experts, 1, (R, R)),
        second_RR=((winner + 1) % n_experts).astype(np.uint8),
        entropy_RR=rng.random((R, R)),
        routed_ERR=routed,
        expert_value_ERR=rng.random((n_experts, R, R)),
    )


def points(dropped=(False, True, False, False)) -> figures.MapPoints:
    return figures.MapPoints(
        xy_N2=np.array([[0.1, 0.2], [0.5, -0.3], [-0.4, 0.9], [0.0, 0.0]]),
        target_N=np.array([0, 1, 1, 0]),
        dropped_N=np.array(dropped),
        index_N=np.arange(4),
        class_names=("0", "1"),
    )


def assert_labelled(fig: go.Figure) -> None:
    assert isinstance(fig, go.Figure) and fig.layout.title.text
    assert fig.layout.height > 0


@pytest.mark.parametrize("mode", list(figures.MAP_MODES))
def test_routing_map_in_every_mode_has_a_title_axes_and_a_colour_bar(mode):
    fig = figures.routing_map(grid(), points(), mode, 3, "probability", ("x1", "x2"), selected=2)
    assert_labelled(fig)
    assert fig.layout.xaxis.title.text == "x1" and fig.layout.yaxis.title.text == "x2"
    heatmap = fig.data[0]
    assert heatmap.type == "heatmap" and heatmap.colorbar.title.text
    names = [t.name for t in fig.data[1:]]
    assert names == ["class 0", "class 1", "dropped (no expert)", "inspected point"]


def test_the_winning_expert_map_codes_expert_and_confidence_in_uint8():
    g = grid(3)
    fig = figures.routing_map(g, points(), "expert", 3, "probability", ("x1", "x2"))
    codes = np.asarray(fig.data[0].z)
    assert codes.dtype == np.uint8
    np.testing.assert_array_equal(codes // figures.LEVELS, g.winner_RR)
    sure = g.winner_prob_RR > 0.99
    assert (codes[sure] % figures.LEVELS == figures.LEVELS - 1).all()
    assert len(fig.data[0].colorbar.tickvals) == 3


def test_colour_bar_ticks_stay_few_with_many_experts():
    fig = figures.routing_map(grid(64), points(), "expert", 64, "probability", ("x1", "x2"))
    assert len(fig.data[0].colorbar.tickvals) <= 8


def test_no_dropped_marker_trace_when_nothing_is_dropped():
    fig = figures.routing_map(grid(), points((False,) * 4), "expert", 3, "probability", ("x1", "x2"))
    assert "dropped (no expert)" not in [t.name for t in fig.data]


def test_model_output_map_for_a_regression_uses_the_values():
    fig = figures.routing_map(grid(), points(), "output", 3, "value", ("PC1", "PC2"))
    np.testing.assert_allclose(np.asarray(fig.data[0].z), grid().output_RR.astype(np.float32))
    assert fig.data[0].colorbar.title.text == "prediction"


def test_thumbnails_mask_where_an_expert_gets_no_points_and_name_every_expert():
    g = grid(3)
    fig = figures.expert_thumbnails(g, (0.5, 0.3, 0.2), "probability", 2)
    assert_labelled(fig)
    mask, values = np.asarray(fig.data[0].z), np.asarray(fig.data[1].z, dtype=float)
    assert mask.sum() == (~g.routed_ERR).sum()
    assert np.isnan(values).sum() >= (~g.routed_ERR).sum()  # masked cells and the gaps between tiles
    assert [a.text.split("</span> ")[1] for a in fig.layout.annotations] == ["E0 · 50%", "E1 · 30%", "E2 · 20%"]
    assert values[~np.isnan(values)].max() <= 100  # P(class 1) in percent


def test_thumbnail_tiles_shrink_so_the_mosaic_stays_small():
    assert figures.thumbnail_side(1) == 48
    across = {n: figures.thumbnail_side(n) * int(np.ceil(np.sqrt(n))) for n in (4, 16, 64)}
    assert all(90 <= side <= 130 for side in across.values())


def test_gate_bars_separate_chosen_experts_and_show_their_weights():
    fig = figures.gate_bars(np.array([0.1, 0.6, 0.3]), {1: 0.67, 2: 0.33}, "#4")
    assert fig.layout.title.text == "Gate scores for point #4"
    chosen, other = fig.data
    assert list(chosen.x) == ["E1", "E2"] and list(chosen.text) == ["w=0.67", "w=0.33"]
    assert list(other.x) == ["E0"]
    assert fig.layout.yaxis.title.text == "router probability"
