import numpy as np

from app import charts
from moe_core.snapshot import Metrics


def history(n_experts=3, steps=5, clusters=True) -> list[Metrics]:
    out = []
    for i in range(steps):
        share = np.full(n_experts, 1 / n_experts)
        out.append(
            Metrics(
                step=i * 10,
                train_loss=1.0 / (i + 1),
                test_loss=1.2 / (i + 1),
                test_accuracy=0.5 + 0.1 * i,
                load_share=tuple(share),
                load_entropy=1.0,
                effective_experts=float(n_experts),
                load_cv2=0.0,
                max_vio=0.0,
                dead_experts=0,
                drop_rate=0.0,
                unrouted_rate=0.0,
                router_z=2.0,
                confidence=0.8,
                margin=0.5,
                flip_rate=None if i == 0 else 0.1,
                balance_loss=1.0,
                expert_loss=(0.3,) * n_experts,
                contingency=((5, 0), (0, 5), (0, 0)) if clusters else None,
                purity=1.0 if clusters else None,
                cluster_nmi=0.9 if clusters else None,
                dispatch_entropy=0.0 if clusters else None,
            )
        )
    return out


def test_thin_keeps_the_newest_and_at_most_max_points():
    long = history(steps=1000)
    thinned = charts.thin(long)
    assert len(thinned) <= charts.MAX_POINTS and thinned[-1] is long[-1] and thinned[0] is long[0]


def test_load_share_stacks_one_band_per_expert_to_one():
    fig = charts.load_share_area(history(3))
    assert fig.layout.title.text and fig.layout.xaxis.title.text == "training step"
    assert [t.name for t in fig.data] == ["E0", "E1", "E2"]
    assert all(t.stackgroup == "load" for t in fig.data)
    np.testing.assert_allclose(sum(np.asarray(t.y) for t in fig.data), 1.0)


def test_load_share_with_many_experts_is_a_heatmap_with_a_colour_bar():
    fig = charts.load_share_area(history(32))
    assert len(fig.data) == 1 and fig.data[0].type == "heatmap"
    assert fig.data[0].colorbar.title.text and len(fig.data[0].y) == 32
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), 100)  # every expert at its fair share


def test_collapse_panel_has_four_titled_panels_and_every_metric():
    fig = charts.collapse_panel(history(), n_experts=3)
    assert len(fig.layout.annotations) == 4
    names = {t.name for t in fig.data}
    for expected in (
        "load entropy / log E",
        "effective experts",
        "dead experts",
        "CV² of load",
        "MaxVio",
        "balance loss",
        "router z",
        "routing flip rate",
        "drop rate (capacity)",
    ):
        assert expected in names
    assert fig.layout.yaxis2.range == (0, 3.5)


def test_training_curves_show_the_dense_baseline_beside_the_moe():
    fig = charts.training_curves(history(), history(), classification=True)
    names = [t.name for t in fig.data]
    assert "MoE test" in names and "dense MLP test" in names and "dense MLP accuracy" in names
    regression = charts.training_curves(history(), None, classification=False)
    assert all("accuracy" not in t.name for t in regression.data) and len(regression.layout.annotations) == 1


def test_specialisation_heatmap_shows_where_each_cluster_goes():
    fig = charts.specialisation_heatmap(((8, 2), (0, 6), (2, 2)), ["0", "1"])
    z = np.asarray(fig.data[0].z, dtype=float)
    np.testing.assert_allclose(z.sum(axis=0), 100, atol=1)  # each column is one cluster, in percent
    assert list(fig.data[0].y) == ["E0", "E1", "E2"] and fig.data[0].colorbar.title.text


def test_specialisation_curves_have_two_axes():
    fig = charts.specialisation_curves(history())
    assert {t.yaxis for t in fig.data} == {"y", "y2"}
    assert fig.layout.yaxis.title.text and fig.layout.yaxis2.title.text
