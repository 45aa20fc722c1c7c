"""The input plane: the routing map in every mode and the expert thumbnails.

The routing map's fixture gives every GridProbe field its own content (the second choice is never the
winner, entropy and output are unrelated random arrays), so a mode that draws the wrong field fails.
"""

import numpy as np
import plotly.graph_objects as go
import pytest

from moe_core.probe import GridProbe
from moe_explorer_app.figures import maps
from moe_explorer_app.figures.maps import LEVELS, MAP_MODES, MapPoints

R = 8  # cells per side: 64 cells, enough for every expert and every confidence level to appear
E = 4
VALUE_KINDS = {"probability": 2, "class": 3, "value": 0}  # value kind -> classes (0: a regression)


# The confidence level each cell of the fixture should be drawn at: every level appears, and the two
# corners pin the ends of the scale (grid gives them a uniform gate and a certain one).
LEVEL_RR = np.random.default_rng(2).permutation(np.arange(R * R) % LEVELS).reshape(R, R)
LEVEL_RR[0, 0], LEVEL_RR[0, 1] = 0, LEVELS - 1


def grid(n_experts: int = E, value_kind: str = "probability", seed: int = 0) -> GridProbe:
    """A probe whose fields all differ. Seeded, so the test is deterministic."""
    rng = np.random.default_rng(seed)
    winner = rng.permutation(np.arange(R * R) % n_experts).reshape(R, R).astype(np.uint8)
    # shifted by 1..E-1 experts: the second choice is never the winner, as with a real router
    second = ((winner + rng.integers(1, max(n_experts, 2), (R, R))) % n_experts).astype(np.uint8)
    # each cell's probability sits in the middle of its level's band, so the expected level is unambiguous;
    # the two corners pin the ends: a uniform gate (1/E) is the faintest shade, a certain one the fullest
    prob = 1 / n_experts + (1 - 1 / n_experts) * (LEVEL_RR + 0.5) / LEVELS
    prob[0, 0], prob[0, 1] = 1 / n_experts, 1.0
    if value_kind == "class":
        output = rng.integers(0, VALUE_KINDS["class"], (R, R)).astype(np.float32)  # the argmax class
    elif value_kind == "value":
        output = rng.normal(0, 3, (R, R)).astype(np.float32)
    else:
        output = rng.random((R, R)).astype(np.float32)  # P(class 1)
    routed = np.zeros((n_experts, R, R), bool)
    routed[winner, np.arange(R)[:, None], np.arange(R)[None, :]] = True
    return GridProbe(
        xs_R=np.linspace(-1, 1, R),
        ys_R=np.linspace(-2, 3, R),  # not the x range: a swapped axis shows
        output_RR=output,
        winner_RR=winner,
        winner_prob_RR=prob,
        second_RR=second,
        entropy_RR=(rng.integers(0, 101, (R, R)) / 100).astype(np.float32),
        routed_ERR=routed,
        expert_value_ERR=rng.random((n_experts, R, R)).astype(np.float32),
    )


def expected_z(g: GridProbe, mode: str, value_kind: str) -> np.ndarray:
    """What each mode should draw, decoded from the probe's fields independently of the builder."""
    if mode == "expert":
        return g.winner_RR.astype(int) * LEVELS + LEVEL_RR
    if mode == "second":
        return g.second_RR.astype(int) * LEVELS + (LEVELS - 1)  # no confidence: always the full colour
    if mode == "entropy":
        return np.rint(g.entropy_RR.astype(float) * 100).astype(int)  # percent of log E
    return g.output_RR * 100 if value_kind == "probability" else g.output_RR


def points(class_names=("a", "b", "c"), dropped=(1, 4, 6)) -> MapPoints:
    """Nine points, every class among them; the probe indices are not 0..N-1, so customdata must be index_N."""
    rng = np.random.default_rng(1)
    n = 9
    dropped_N = np.zeros(n, bool)
    dropped_N[list(dropped)] = True
    return MapPoints(
        xy_N2=rng.uniform(-1, 1, (n, 2)),
        target_N=np.array([0, 1, 2, 2, 1, 0, 1, 2, 0]) % len(class_names) if class_names else rng.normal(size=n),
        dropped_N=dropped_N,
        index_N=np.array([40, 7, 13, 99, 2, 58, 31, 5, 76]),
        class_names=class_names,
    )


def assert_labelled(fig: go.Figure, axis_names: tuple[str, str]) -> None:
    """A title, both axis titles, and a colour bar with a title."""
    assert isinstance(fig, go.Figure) and fig.layout.title.text and fig.layout.height > 0
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == axis_names
    heatmap = fig.data[0]
    assert heatmap.type == "heatmap" and heatmap.showscale is not False and heatmap.colorbar.title.text


def test_the_fixture_gives_every_mode_a_different_picture():
    # without this, a mode drawing another mode's field could still match by accident
    g = grid()
    pictures = {mode: expected_z(g, mode, "probability") for mode in MAP_MODES}
    for a in MAP_MODES:
        for b in MAP_MODES:
            if a < b:
                assert (pictures[a] != pictures[b]).mean() > 0.9, (a, b)
    assert set(LEVEL_RR.ravel()) == set(range(LEVELS)) and set(g.winner_RR.ravel()) == set(range(E))


@pytest.mark.parametrize("mode", list(MAP_MODES))
def test_routing_map_draws_the_field_of_its_mode(mode):
    g = grid()
    fig = maps.routing_map(g, points(("0", "1")), mode, E, "probability", ("x1", "x2"), selected=58)
    assert_labelled(fig, ("x1", "x2"))
    assert fig.layout.title.text == maps.MAP_TITLES[mode]
    heatmap = fig.data[0]
    z = np.asarray(heatmap.z)
    np.testing.assert_allclose(z.astype(float), expected_z(g, mode, "probability"), rtol=1e-6)
    # the heatmap lies on the probe's grid, so the points drawn over it line up
    np.testing.assert_array_equal(heatmap.x, g.xs_R)
    np.testing.assert_array_equal(heatmap.y, g.ys_R)
    assert list(fig.layout.xaxis.range) == [g.xs_R[0], g.xs_R[-1]]
    assert list(fig.layout.yaxis.range) == [g.ys_R[0], g.ys_R[-1]]
    if mode in ("expert", "second"):
        assert z.dtype == np.uint8  # sent as a byte per cell
        # hover names the expert drawn, and the colour scale has one step per code
        drawn = g.winner_RR if mode == "expert" else g.second_RR
        np.testing.assert_array_equal(heatmap.customdata, drawn)
        assert (heatmap.zmin, heatmap.zmax) == (-0.5, E * LEVELS - 0.5)
        assert len(heatmap.colorscale) == 2 * E * LEVELS
    elif mode == "entropy":
        assert z.dtype == np.uint8 and (heatmap.zmin, heatmap.zmax) == (0, 100)
    else:
        assert (heatmap.zmin, heatmap.zmax) == (0, 100)  # P(class 1) in percent


def test_the_winning_expert_is_drawn_at_the_gates_confidence_level():
    g = grid()
    codes = np.asarray(maps.routing_map(g, points(), "expert", E, "probability", ("x1", "x2")).data[0].z)
    np.testing.assert_array_equal(codes // LEVELS, g.winner_RR)
    np.testing.assert_array_equal(codes % LEVELS, LEVEL_RR)
    assert codes[0, 0] % LEVELS == 0 and codes[0, 1] % LEVELS == LEVELS - 1  # uniform gate, certain gate


def test_with_a_single_expert_the_winner_is_always_fully_sure():
    g = grid(n_experts=1)
    codes = np.asarray(maps.routing_map(g, points(), "expert", 1, "probability", ("x1", "x2")).data[0].z)
    np.testing.assert_array_equal(codes, LEVELS - 1)


@pytest.mark.parametrize("value_kind", list(VALUE_KINDS))
def test_the_output_map_draws_the_models_value_in_its_own_scale(value_kind):
    n_classes = VALUE_KINDS[value_kind]
    names = tuple(str(c) for c in range(n_classes))
    g = grid(value_kind=value_kind)
    fig = maps.routing_map(g, points(names), "output", E, value_kind, ("PC1", "PC2"))
    assert_labelled(fig, ("PC1", "PC2"))
    heatmap = fig.data[0]
    np.testing.assert_allclose(np.asarray(heatmap.z), expected_z(g, "output", value_kind), rtol=1e-6)
    title = {"probability": "P(class 1) %", "class": "class", "value": "prediction"}[value_kind]
    assert heatmap.colorbar.title.text == title
    if value_kind == "class":
        # one colour band per class id, centred on it
        assert (heatmap.zmin, heatmap.zmax) == (-0.5, n_classes - 0.5)
        assert len(heatmap.colorscale) == 2 * n_classes


def assert_points(traces, pts: MapPoints, selected: int | None) -> None:
    """Each class's trace holds exactly that class's points, the dropped trace exactly the dropped ones."""
    groups = [pts.target_N == c for c in range(len(pts.class_names))] or [np.ones(len(pts.xy_N2), bool)]
    names = [f"class {n}" for n in pts.class_names] or ["data points"]
    for trace, name, mask in zip(traces[: len(groups)], names, groups, strict=True):
        assert trace.name == name
        np.testing.assert_array_equal(trace.x, pts.xy_N2[mask, 0])
        np.testing.assert_array_equal(trace.y, pts.xy_N2[mask, 1])
        np.testing.assert_array_equal(trace.customdata, pts.index_N[mask])  # a click selects this point
    rest = list(traces[len(groups) :])
    if pts.dropped_N.any():
        dropped = rest.pop(0)
        assert dropped.name == "dropped (no expert)"
        np.testing.assert_array_equal(dropped.x, pts.xy_N2[pts.dropped_N, 0])
        np.testing.assert_array_equal(dropped.y, pts.xy_N2[pts.dropped_N, 1])
        np.testing.assert_array_equal(dropped.customdata, pts.index_N[pts.dropped_N])
    if selected is not None and selected in pts.index_N:
        inspected = rest.pop(0)
        i = int(np.flatnonzero(pts.index_N == selected)[0])
        assert inspected.name == "inspected point"
        assert (list(inspected.x), list(inspected.y)) == ([pts.xy_N2[i, 0]], [pts.xy_N2[i, 1]])
    assert rest == []


@pytest.mark.parametrize("mode", list(MAP_MODES))
def test_points_are_drawn_by_class_with_the_dropped_ones_marked(mode):
    pts = points()
    fig = maps.routing_map(grid(), pts, mode, E, "class", ("x1", "x2"), selected=13)
    assert_points(fig.data[1:], pts, selected=13)
    assert [t.name for t in fig.data[1:]] == ["class a", "class b", "class c", "dropped (no expert)", "inspected point"]


def test_a_regressions_points_are_one_trace_and_an_unknown_selection_draws_no_ring():
    pts = points(class_names=(), dropped=(0,))
    fig = maps.routing_map(grid(value_kind="value"), pts, "expert", E, "value", ("x1", "x2"), selected=1234)
    assert_points(fig.data[1:], pts, selected=None)
    assert [t.name for t in fig.data[1:]] == ["data points", "dropped (no expert)"]


def test_no_dropped_marker_trace_when_nothing_is_dropped():
    fig = maps.routing_map(grid(), points(dropped=()), "expert", E, "probability", ("x1", "x2"))
    assert "dropped (no expert)" not in [t.name for t in fig.data]


def test_expert_colour_bar_names_every_expert_and_stays_short_with_many():
    few = maps.routing_map(grid(3), points(), "expert", 3, "probability", ("x1", "x2")).data[0].colorbar
    assert list(few.ticktext) == ["E0", "E1", "E2"]
    # each tick sits in the middle of its expert's band of codes
    assert list(few.tickvals) == [e * LEVELS + (LEVELS - 1) / 2 for e in range(3)]
    many = maps.routing_map(grid(64), points(), "expert", 64, "probability", ("x1", "x2")).data[0].colorbar
    assert len(many.tickvals) <= 8


def test_thumbnails_mask_where_an_expert_gets_no_points_and_name_every_expert():
    g = grid(3)
    fig = maps.expert_thumbnails(g, (0.5, 0.3, 0.2), "probability", 2)
    # a title and a colour bar; a mosaic of tiles has no x or y to name, so its axes are hidden instead
    assert fig.layout.title.text and fig.layout.height > 0
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert fig.data[0].showscale is False and fig.data[1].colorbar.title.text == "P(class 1) %"
    mask, values = np.asarray(fig.data[0].z), np.asarray(fig.data[1].z, dtype=float)
    assert mask.sum() == (~g.routed_ERR).sum()
    assert np.isnan(values).sum() >= (~g.routed_ERR).sum()  # masked cells and the gaps between tiles
    assert [a.text.split("</span> ")[1] for a in fig.layout.annotations] == ["E0 · 50%", "E1 · 30%", "E2 · 20%"]
    assert values[~np.isnan(values)].max() <= 100  # P(class 1) in percent


def test_thumbnail_tiles_shrink_so_the_mosaic_stays_small():
    assert maps.thumbnail_side(1) == 48
    across = {n: maps.thumbnail_side(n) * int(np.ceil(np.sqrt(n))) for n in (4, 16, 64)}
    assert all(90 <= side <= 130 for side in across.values())
