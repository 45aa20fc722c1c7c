"""The expert kinds chart: each kind's share of the routed points beside its cost per point."""

import pytest

from moe_explorer_app.figures.compute import TITLE, compute_by_kind

LABELS = ["linear", "MLP 16 relu", "linear", "MLP 16 relu", "MLP 64 tanh", "MLP 64 tanh"]
SHARE = [0.3, 0.1, 0.2, 0.05, 0.25, 0.1]
FLOPS = [4, 64, 4, 64, 256, 256]


def test_one_bar_per_kind_with_its_experts_summed_share_and_its_cost():
    fig = compute_by_kind(LABELS, SHARE, FLOPS)
    share, cost = fig.data
    assert list(share.y) == ["linear", "MLP 16 relu", "MLP 64 tanh"] == list(cost.y)
    assert list(share.x) == pytest.approx([0.5, 0.15, 0.35])
    assert list(cost.x) == [4, 64, 256]
    assert fig.layout.title.text == TITLE and fig.layout.yaxis.title.text == "expert kind"
    axes = (fig.layout.xaxis.title.text, fig.layout.xaxis2.title.text)
    assert axes == ("share of points", "multiply-adds / point")


def test_before_training_it_says_when_it_will_appear():
    fig = compute_by_kind(LABELS, None, FLOPS)
    assert not fig.data and "once the run has trained" in fig.layout.annotations[0].text
