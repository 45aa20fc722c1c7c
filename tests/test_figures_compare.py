"""Runs side by side: the maps' grid, the metrics of each run in one colour, and where two runs differ."""

import numpy as np

from moe_core.measure.metrics import Metrics
from moe_explorer_app.figures.compare import RunCurves, difference_maps, map_grid, overlaid_curves, run_colour


def history(offset: float) -> list[Metrics]:
    return [
        Metrics(step, 0.5 - offset, 0.6 - offset, 0.8 + offset, load_entropy=0.9, dead_experts=0, cluster_nmi=0.7)
        for step in (0, 100, 200)
    ]


def test_each_run_is_one_colour_in_every_panel_with_its_live_changes_marked():
    runs = [RunCurves("Run 1", history(0.0)), RunCurves("Run 2 (top_k=2)", history(0.1), [(100, "lr 0.01 → 0.1")])]
    fig = overlaid_curves(runs, classification=True)
    titles = [a.text for a in fig.layout.annotations if a.xref == "paper"]
    assert titles[:5] == ["Test loss", "Test accuracy", "Load entropy / log E", "Dead experts", "NMI (expert; cluster)"]
    assert len(fig.data) == 10 and {t.line.color for t in fig.data[:5]} == {run_colour(0)}
    assert [t.name for t in fig.data if t.showlegend] == ["Run 1", "Run 2 (top_k=2)"]
    assert list(fig.data[5].y) == [0.5, 0.5, 0.5]  # run 2's test loss
    assert any(a.text == "Run 2 (top_k=2): lr 0.01 → 0.1" for a in fig.layout.annotations)
    assert len([s for s in fig.layout.shapes if s.x0 == 100]) == 5
    regression = overlaid_curves(runs, classification=False)
    assert "Test accuracy" not in [a.text for a in regression.layout.annotations]


def test_before_training_the_curves_say_so():
    fig = overlaid_curves([RunCurves("Run 1", history(0.0)[:1])], classification=True)
    assert fig.layout.title.text == "Runs over training" and not fig.data


def test_the_maps_share_one_colour_scale_and_name_their_axes():
    maps = [np.array([[0, 1], [2, 3]]), np.array([[1, 1], [2, 3]])]
    fig = map_grid("Maps", ["a", "b"], maps, [[-1, 1, -1, 1]] * 2, 4, ("PC1", "PC2"))
    assert [t.showscale for t in fig.data] == [True, False]
    assert list(fig.data[0].colorbar.ticktext) == ["E0", "E1", "E2", "E3"]
    assert fig.layout.xaxis.title.text == "PC1" and fig.layout.yaxis.title.text == "PC2"
    assert [a.text for a in fig.layout.annotations] == ["a", "b"]
    assert fig.layout.xaxis.showticklabels is not False and fig.layout.xaxis2.nticks == 5  # ticks to read places by


def test_each_runs_difference_from_the_reference_is_a_panel_that_says_how_much_of_the_plane():
    reference = np.array([[0, 1], [2, 3]])
    others = [np.array([[0, 1], [3, 3]]), np.array([[1, 0], [3, 2]]), reference.copy()]
    fig = difference_maps(reference, others, [-1, 1, -2, 2], ["run 2", "run 3", "run 4"], "run 1")
    assert fig.layout.title.text == "Where each run routes apart from run 1"
    assert [a.text for a in fig.layout.annotations] == [
        "run 2<br>25% of the plane apart", "run 3<br>100% of the plane apart", "run 4<br>0% of the plane apart"
    ]  # fmt: skip
    assert np.array_equal(np.array(fig.data[0].z), [[0, 0], [1, 0]]) and [t.showscale for t in fig.data] == [
        True, False, False
    ]  # fmt: skip
    assert list(fig.data[0].colorbar.ticktext) == ["same", "different"]
    assert fig.layout.yaxis.title.text == "x2" and fig.layout.yaxis2.title.text == ""
