"""The expert thumbnails: each expert's own prediction, grey where the gate sends it nothing."""

import numpy as np

from moe_core.measure.probe import GridProbe
from moe_explorer_app.figures import thumbnails


def grid(n_experts: int = 3, side: int = 6) -> GridProbe:
    rng = np.random.default_rng(0)
    winner = rng.integers(0, n_experts, (side, side))
    routed = np.zeros((n_experts, side, side), bool)
    routed[winner, np.arange(side)[:, None], np.arange(side)[None, :]] = True
    return GridProbe(
        np.linspace(-1, 1, side),
        np.linspace(-1, 1, side),
        rng.random((side, side)),
        routed_ERR=routed,
        expert_value_ERR=rng.random((n_experts, side, side)),
    )


def test_thumbnails_mask_where_an_expert_gets_no_points_and_name_every_expert():
    g = grid()
    fig = thumbnails.expert_thumbnails(g, (0.5, 0.3, 0.2), "probability", 2)
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
    assert thumbnails.thumbnail_side(1) == 48
    across = {n: thumbnails.thumbnail_side(n) * int(np.ceil(np.sqrt(n))) for n in (4, 16, 64)}
    assert all(90 <= side <= 130 for side in across.values())
