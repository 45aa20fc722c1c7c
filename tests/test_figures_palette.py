from moe_explorer_app.figures.palette import (
    MAX_EXPERTS,
    OKABE_ITO,
    PALETTE,
    expert_colour,
    expert_name,
    shaded_colorscale,
)


def test_64_distinct_colours_starting_with_the_colour_blind_safe_set():
    assert len(PALETTE) == MAX_EXPERTS == 64
    assert len(set(PALETTE)) == 64
    assert list(PALETTE[:8]) == OKABE_ITO
    assert expert_colour(64) == expert_colour(0)  # beyond the palette, hover names tell experts apart
    assert expert_name(12) == "E12"


def test_shaded_colorscale_runs_from_a_tint_to_the_full_colour_per_expert():
    scale = shaded_colorscale(3, 4)
    assert len(scale) == 2 * 3 * 4 and scale[0][0] == 0 and scale[-1][0] == 1
    positions = [p for p, _ in scale]
    assert positions == sorted(positions)
    r, g, b = (int(PALETTE[1][i : i + 2], 16) for i in (1, 3, 5))
    assert scale[2 * 4 + 2 * 3 + 1][1] == f"rgb({r},{g},{b})"  # expert 1, last level: its own colour
    assert scale[2 * 4][1] != scale[2 * 4 + 2 * 3][1]  # its faint level is lighter
