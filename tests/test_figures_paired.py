"""The paired comparison's forest plot: one row per setting, its mean difference and interval, a line
at zero, and the verdict as colour and legend."""

import pytest

from moe_core.experiments.paired import Comparison
from moe_explorer_app.figures.paired import READINGS, paired_forest


def comparison(k: int, mean: float, low: float, high: float, p: float) -> Comparison:
    return Comparison({"model.top_k": k}, "cluster_nmi", 5, mean, low, high, p, p, p, p)


def test_each_setting_is_a_dot_on_its_interval_coloured_by_the_verdict():
    found = [comparison(2, 0.2, 0.15, 0.25, 0.004), comparison(4, -0.05, -0.2, 0.1, 0.5)]
    fig = paired_forest(found, "NMI (expert; cluster)", {"model.top_k": 1})
    assert fig.layout.title.text == "NMI (expert; cluster): each setting minus top_k=1, seed by seed (t-test, Holm)"
    better, unclear = fig.data
    assert (better.name, unclear.name) == ("better", "no clear difference")
    assert better.marker.color == READINGS["better"] and unclear.marker.color == READINGS["no clear difference"]
    assert list(better.y) == ["top_k=2"] and list(better.x) == [0.2]  # as the verdict lines name it
    assert list(better.error_x.array) == pytest.approx([0.05]) and list(better.error_x.arrayminus) == pytest.approx(
        [0.05]
    )
    (zero,) = fig.layout.shapes
    assert (
        zero.x0 == zero.x1 == 0 and fig.layout.xaxis.title.text == "difference in NMI (expert; cluster) (95% interval)"
    )
    assert fig.layout.yaxis.title.text == "setting" and fig.layout.showlegend


def test_a_setting_with_no_paired_seeds_is_left_out():
    empty = Comparison({"model.top_k": 2}, "cluster_nmi", 0, None, None, None, None, None)
    assert paired_forest([empty], "NMI", {"model.top_k": 1}, "wilcoxon").data == ()
