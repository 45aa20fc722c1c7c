"""The routing map in every mode, as the live map component draws it: codes, colours, legend, points.

The fixture gives every GridProbe field its own content (the second choice is never the winner,
entropy and output are unrelated random arrays), so a mode that draws the wrong field fails.
"""

import base64
import dataclasses

import numpy as np
import pytest

from moe_core.measure.probe import GridProbe
from moe_explorer_app.figures.routing_map import (
    LEVELS,
    MAP_MODES,
    MAP_TITLES,
    VALUE_LEVELS,
    MapPoints,
    routing_map,
    shade_levels,
)

R = 8  # cells per side: 64 cells, enough for every expert and every confidence level to appear
E = 4
GROUPS = 2
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
    routed = rng.random((n_experts, R, R)) < 0.5  # top-p: some cells reach several experts
    routed[winner, np.arange(R)[:, None], np.arange(R)[None, :]] = True
    group = rng.integers(0, GROUPS, (R, R)).astype(np.uint8)  # hierarchical: its own picture
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
        group_RR=group,
        group_prob_RR=1 / GROUPS + (1 - 1 / GROUPS) * (LEVEL_RR[::-1] + 0.5) / LEVELS,
    )


def expected_z(g: GridProbe, mode: str, value_kind: str) -> np.ndarray:
    """What each mode should draw, decoded from the probe's fields independently of the builder."""
    if mode == "expert":
        return g.winner_RR.astype(int) * LEVELS + LEVEL_RR
    if mode == "second":
        return g.second_RR.astype(int) * LEVELS + (LEVELS - 1)  # no confidence: always the full colour
    if mode == "entropy":
        return np.rint(g.entropy_RR.astype(float) * 100).astype(int)  # percent of log E
    if mode == "experts_per_point":
        return g.routed_ERR.sum(axis=0)
    if mode == "group":
        return g.group_RR.astype(int) * LEVELS + LEVEL_RR[::-1]
    if value_kind == "probability":
        return np.rint(g.output_RR * 100).astype(int)
    if value_kind == "class":
        return g.output_RR.astype(int)
    lo, hi = g.output_RR.min(), g.output_RR.max()  # a value, quantised over its range
    return np.rint((g.output_RR - lo) / (hi - lo) * (VALUE_LEVELS - 1)).astype(int)


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


def codes(spec: dict) -> np.ndarray:
    """The spec's codes as the component decodes them: R x R bytes, row 0 at the bottom (view y up)."""
    raw = np.frombuffer(base64.b64decode(spec["codes"]), dtype=np.uint8)
    side = int(np.sqrt(len(raw)))
    return raw.reshape(side, side)


def assert_labelled(spec: dict, axis_names: tuple[str, str]) -> None:
    """A title, both axis titles, a colour for every code with words for its hover, and a legend or
    a colour bar with a title."""
    assert spec["title"] and spec["axes"] == list(axis_names)
    assert codes(spec).max() < len(spec["lut"]) == len(spec["code_labels"])
    assert all(len(c) == 3 and all(0 <= v <= 255 for v in c) for c in spec["lut"])
    assert spec.get("legend") or spec["colorbar"]["title"]


def test_the_fixture_gives_every_mode_a_different_picture():
    # without this, a mode drawing another mode's field could still match by accident
    g = grid()
    pictures = {mode: expected_z(g, mode, "probability") for mode in MAP_MODES}
    for a in MAP_MODES:
        for b in MAP_MODES:
            if a < b:
                assert (pictures[a] != pictures[b]).mean() > 0.85, (a, b)
    assert set(LEVEL_RR.ravel()) == set(range(LEVELS)) and set(g.winner_RR.ravel()) == set(range(E))


@pytest.mark.parametrize("mode", list(MAP_MODES))
def test_routing_map_draws_the_field_of_its_mode(mode):
    g = grid()
    spec = routing_map(g, points(("0", "1")), mode, E, "probability", ("x1", "x2"), 58, 12, n_groups=GROUPS)
    assert_labelled(spec, ("x1", "x2"))
    assert spec["title"] == MAP_TITLES[mode] and spec["step"] == 12 and spec["selected"] == 58
    np.testing.assert_array_equal(codes(spec), expected_z(g, mode, "probability"))
    # the picture spans the probe's grid, so the points drawn over it line up
    assert spec["extent"] == [g.xs_R[0], g.xs_R[-1], g.ys_R[0], g.ys_R[-1]]
    if mode in ("expert", "second"):
        # one colour and one hover text per code; the legend names every expert in its full colour
        assert len(spec["lut"]) == E * LEVELS
        assert [row["label"] for row in spec["legend"]] == [f"E{e}" for e in range(E)]
        drawn = g.winner_RR if mode == "expert" else g.second_RR
        labels = np.array(spec["code_labels"])[codes(spec)]
        assert all(label.startswith(f"expert E{e},") for label, e in zip(labels.ravel(), drawn.ravel(), strict=True))
    elif mode == "experts_per_point":  # a legend from 1 expert to E, darker with more
        assert [row["label"] for row in spec["legend"]] == ["1 expert", "2 experts", "3 experts", "4 experts"]
        assert spec["legend_title"] == "experts used" and len(spec["lut"]) == E + 1
    elif mode == "group":
        assert [row["label"] for row in spec["legend"]] == ["G0: E0-E1", "G1: E2-E3"]  # each group's experts
        labels = np.array(spec["code_labels"])[codes(spec)]
        groups = g.group_RR.ravel()
        assert all(label.startswith(f"group G{n},") for label, n in zip(labels.ravel(), groups, strict=True))
    else:
        assert spec["colorbar"]["title"] in ("entropy", "P(class 1)")


def test_the_winning_expert_is_drawn_at_the_gates_confidence_level():
    g = grid()
    drawn = codes(routing_map(g, points(), "expert", E, "probability", ("x1", "x2")))
    np.testing.assert_array_equal(drawn // LEVELS, g.winner_RR)
    np.testing.assert_array_equal(drawn % LEVELS, LEVEL_RR)
    assert drawn[0, 0] % LEVELS == 0 and drawn[0, 1] % LEVELS == LEVELS - 1  # uniform gate, certain gate


def test_fainter_shades_are_lighter():
    spec = routing_map(grid(), points(), "expert", E, "probability", ("x1", "x2"))
    for e in range(E):
        shades = [sum(spec["lut"][e * LEVELS + level]) for level in range(LEVELS)]
        assert shades == sorted(shades, reverse=True)  # level 0 (unsure) the palest


def test_with_a_single_expert_the_winner_is_always_fully_sure():
    drawn = codes(routing_map(grid(n_experts=1), points(), "expert", 1, "probability", ("x1", "x2")))
    np.testing.assert_array_equal(drawn, LEVELS - 1)


@pytest.mark.parametrize("value_kind", list(VALUE_KINDS))
def test_the_output_map_draws_the_models_value_in_its_own_scale(value_kind):
    n_classes = VALUE_KINDS[value_kind]
    names = tuple(str(c) for c in range(n_classes))
    g = grid(value_kind=value_kind)
    spec = routing_map(g, points(names), "output", E, value_kind, ("PC1", "PC2"))
    assert_labelled(spec, ("PC1", "PC2"))
    np.testing.assert_array_equal(codes(spec), expected_z(g, "output", value_kind))
    if value_kind == "class":  # one colour and one legend entry per class
        assert len(spec["lut"]) == n_classes and [r["label"] for r in spec["legend"]] == [f"class {n}" for n in names]
    else:
        assert spec["colorbar"]["title"] == {"probability": "P(class 1)", "value": "prediction"}[value_kind]


def test_points_carry_their_class_drop_and_index():
    pts = points()
    spec = routing_map(grid(), pts, "expert", E, "class", ("x1", "x2"), selected=13)
    p = spec["points"]
    np.testing.assert_allclose(p["x"], pts.xy_N2[:, 0], atol=1e-4)
    np.testing.assert_allclose(p["y"], pts.xy_N2[:, 1], atol=1e-4)
    assert p["cls"] == pts.target_N.tolist() and p["index"] == pts.index_N.tolist()
    assert p["dropped"] == pts.dropped_N.tolist()
    assert [c["name"] for c in spec["classes"]] == ["class a", "class b", "class c"]
    assert len({c["symbol"] for c in spec["classes"]}) == 3  # told apart without colour


def test_a_regressions_points_are_one_kind():
    pts = points(class_names=(), dropped=(0,))
    spec = routing_map(grid(value_kind="value"), pts, "expert", E, "value", ("x1", "x2"))
    assert set(spec["points"]["cls"]) == {0} and [c["name"] for c in spec["classes"]] == ["data point"]


def test_the_legend_names_every_expert_even_with_many():
    spec = routing_map(grid(64), points(), "expert", 64, "probability", ("x1", "x2"))
    assert len(spec["legend"]) == 64 and len(spec["lut"]) == 256  # 64 experts x 4 shades in a byte


@pytest.mark.parametrize(("n_experts", "levels"), [(65, 3), (100, 2), (256, 1)])
def test_past_64_experts_fewer_shades_keep_every_expert_apart_in_a_byte(n_experts, levels):
    winner = np.linspace(0, n_experts - 1, R * R).round().astype(np.uint8).reshape(R, R)  # both ends used
    g = dataclasses.replace(grid(n_experts), winner_RR=winner)
    spec = routing_map(g, points(), "expert", n_experts, "probability", ("x1", "x2"))
    assert shade_levels(n_experts) == levels and len(spec["lut"]) == n_experts * levels <= 256
    np.testing.assert_array_equal(codes(spec) // levels, winner)
    labels = np.array(spec["code_labels"])[codes(spec)]
    assert all(label.startswith(f"expert E{e},") for label, e in zip(labels.ravel(), winner.ravel(), strict=True))
    assert_labelled(spec, ("x1", "x2"))


def test_mixed_experts_are_named_with_their_kind_in_the_legend():
    kinds = ["linear", "MLP 16 relu", "linear", "MLP 16 relu"]
    spec = routing_map(grid(), points(("0", "1")), "expert", E, "probability", ("x1", "x2"), kinds=kinds)
    assert [row["label"] for row in spec["legend"]] == ["E0 linear", "E1 MLP 16 relu", "E2 linear", "E3 MLP 16 relu"]
