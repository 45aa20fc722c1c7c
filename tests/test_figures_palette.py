from moe_explorer_app.figures.palette import (
    MAX_EXPERTS,
    OKABE_ITO,
    PALETTE,
    expert_colour,
    expert_name,
    rgb,
    shaded_colour,
)


def test_64_distinct_colours_starting_with_the_colour_blind_safe_set():
    assert len(PALETTE) == MAX_EXPERTS == 64
    assert len(set(PALETTE)) == 64
    assert list(PALETTE[:8]) == OKABE_ITO
    assert expert_colour(64) == expert_colour(0)  # beyond the palette, hover names tell experts apart
    assert expert_name(12) == "E12"


def test_each_expert_runs_from_a_tint_at_level_0_to_its_full_colour_at_the_last():
    r, g, b = (int(PALETTE[1][i : i + 2], 16) for i in (1, 3, 5))
    assert shaded_colour(1, 3, 4) == f"rgb({r},{g},{b})"  # expert 1, last level: its own colour
    tint = [int(v) for v in shaded_colour(1, 0, 4)[4:-1].split(",")]
    assert all(t >= c for t, c in zip(tint, (r, g, b), strict=True)) and tint != [r, g, b]  # lighter


def test_colours_read_as_red_green_blue_from_hex_and_rgb_text():
    assert rgb("#E69F00") == (230, 159, 0)
    assert rgb("rgb(12, 34, 255)") == (12, 34, 255)
    assert rgb(shaded_colour(0, 3, 4)) == rgb(expert_colour(0))
