"""Quantities over training time.

The fixture history gives every metric its own values, different from every other metric's and from
step to step, so a trace that plots the wrong metric (or the right one at the wrong steps) fails.
"""

from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import pytest

from moe_core.measure.metrics import Metrics
from moe_explorer_app.figures import history as charts

STEPS = (0, 7, 19, 40, 100)  # uneven: x must be the steps themselves, not their positions
# The float metrics, numbered: metric f at snapshot i is (f + (i + 1) / (steps + 1)) / len(FLOATS), so
# every value lies in (0, 1) and no two metrics, or two snapshots of one metric, share a value.
FLOATS = (
    "train_loss",
    "test_loss",
    "test_accuracy",
    "load_entropy",
    "effective_experts",
    "load_cv2",
    "max_vio",
    "drop_rate",
    "unrouted_rate",
    "experts_per_point",
    "router_z",
    "confidence",
    "margin",
    "flip_rate",
    "balance_loss",
    "purity",
    "cluster_nmi",
    "dispatch_entropy",
    "expert_similarity",
)
ROUTING = set(FLOATS) - {"train_loss", "test_loss", "test_accuracy"}


def history(
    n_experts: int = 3,
    steps=STEPS,
    clusters: bool = True,
    offset: float = 0.0,
    dense: bool = False,
    classification: bool = True,
) -> list[Metrics]:
    """A run's metric history, oldest first. `offset` shifts every value (a second run that differs);
    `dense` leaves the routing metrics out, as for the dense MLP baseline."""
    out = []
    for i, step in enumerate(steps):
        values = {f: offset + (k + (i + 1) / (len(steps) + 1)) / len(FLOATS) for k, f in enumerate(FLOATS)}
        values["flip_rate"] = None if i == 0 else values["flip_rate"]  # no previous snapshot to flip from
        if not classification:
            values["test_accuracy"] = None
        if not clusters:
            values.update(purity=None, cluster_nmi=None, dispatch_entropy=None, expert_similarity=None)
        routing = {
            "load_share": tuple(np.full(n_experts, 1 / n_experts)),
            "dead_experts": len(steps) - 1 - i,  # an integer, falling: unlike every float metric
            "expert_loss": (0.3,) * n_experts,
            "contingency": ((5, 0), (0, 5), (0, 0)) if clusters else None,
        }
        if dense:
            values = {f: v for f, v in values.items() if f not in ROUTING}
            routing = {}
        out.append(Metrics(step=step, **values, **routing))
    return out


def series(hist: list[Metrics], field: str) -> np.ndarray:
    return np.array([np.nan if getattr(m, field) is None else getattr(m, field) for m in hist], dtype=float)


STEP = "training step"


def assert_labelled(fig: go.Figure, axes: dict[str, str], colour: str | None = None) -> None:
    """A title, each axis of `axes` titled with its text, and a key: a legend with named traces, or a
    colour bar titled `colour`."""
    assert isinstance(fig, go.Figure) and fig.layout.title.text and fig.layout.height > 0
    assert {axis: fig.layout[axis].title.text for axis in axes} == axes
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    if heatmaps:
        assert [t.colorbar.title.text for t in heatmaps if t.showscale is not False] == [colour] * len(heatmaps)
    else:
        assert fig.layout.showlegend is not False
        in_legend = [t for t in fig.data if t.showlegend is not False]
        assert len(in_legend) >= 2 and all(t.name for t in in_legend)


def assert_traces(fig: go.Figure, hist: list[Metrics], expected: dict[str, str]) -> dict:
    """Each trace named in `expected` plots that metric (y) against the steps (x); returns them by name."""
    traces = {t.name: t for t in fig.data}
    assert set(traces) == set(expected)
    for name, field in expected.items():
        np.testing.assert_array_equal(traces[name].x, [m.step for m in hist], err_msg=name)
        np.testing.assert_array_equal(traces[name].y, series(hist, field), err_msg=name)
    return traces


def test_the_fixture_gives_every_metric_its_own_values():
    # without this, a trace plotting the wrong metric could match by accident
    hist = history()
    columns = [series(hist, f) for f in (*FLOATS, "dead_experts")]
    values = np.concatenate(columns)
    values = values[~np.isnan(values)]
    assert len(np.unique(values)) == len(values)


def test_thin_keeps_the_newest_and_at_most_max_points():
    long = history(steps=range(1000))
    thinned = charts.thin(long)
    assert len(thinned) <= charts.MAX_POINTS and thinned[-1] is long[-1] and thinned[0] is long[0]
    assert [m.step for m in thinned] == sorted({m.step for m in thinned})  # in order, none twice


def shares(n_experts: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per step, each expert's load share and the same share in integer percent of the fair share (1/E).

    Experts pair up around the fair share (100 + d and 100 - d, with distinct d) so shares sum to one,
    and each step permutes them so every expert's share changes over time."""
    rng = np.random.default_rng(seed)
    d = rng.choice(np.arange(1, 100), n_experts // 2, replace=False)
    fair = np.concatenate([100 + d, 100 - d, [100] * (n_experts % 2)])
    percent = np.stack([rng.permutation(fair) for _ in STEPS])  # [T, E]
    return percent / (100 * n_experts), percent


def with_shares(shares_TE: np.ndarray) -> list[Metrics]:
    hist = history(n_experts=shares_TE.shape[1])
    return [replace(m, load_share=tuple(s)) for m, s in zip(hist, shares_TE, strict=True)]


def test_load_share_up_to_16_experts_stacks_each_experts_share():
    share_TE, _ = shares(16)
    fig = charts.load_share_area(with_shares(share_TE))
    assert_labelled(fig, {"xaxis": STEP, "yaxis": "share of routed slots"})
    assert [t.name for t in fig.data] == [f"E{e}" for e in range(16)]
    for e, trace in enumerate(fig.data):
        assert trace.type == "scatter" and trace.stackgroup == "load"
        np.testing.assert_array_equal(trace.x, STEPS)
        np.testing.assert_array_equal(trace.y, share_TE[:, e])
    np.testing.assert_allclose(sum(np.asarray(t.y) for t in fig.data), 1.0)


def test_load_share_above_16_experts_is_a_heatmap_of_percent_of_the_fair_share():
    share_TE, percent_TE = shares(17)
    fig = charts.load_share_area(with_shares(share_TE))
    assert_labelled(fig, {"xaxis": STEP, "yaxis": "expert"}, "% of fair<br>share")
    (heatmap,) = fig.data
    assert heatmap.type == "heatmap"
    assert list(heatmap.y) == [f"E{e}" for e in range(17)]
    np.testing.assert_array_equal(heatmap.x, STEPS)
    np.testing.assert_array_equal(np.asarray(heatmap.z), percent_TE.T)  # a row per expert, a column per step


def test_load_share_leaves_out_snapshots_without_routing():
    # a dense snapshot has no load share: nothing to stack for it
    hist = history()
    hist[2] = Metrics(step=hist[2].step, train_loss=1.0, test_loss=1.0, test_accuracy=0.5)
    fig = charts.load_share_area(hist)
    np.testing.assert_array_equal(fig.data[0].x, [s for i, s in enumerate(STEPS) if i != 2])


COLLAPSE = {  # trace name -> (metric, the question of the panel it belongs in)
    "load entropy / log E": ("load_entropy", "Is the load even?"),
    "effective experts": ("effective_experts", "How many experts work?"),
    "dead": ("dead_experts", "How many experts work?"),
    "per point": ("experts_per_point", "How many experts work?"),
    "CV² of load": ("load_cv2", "How uneven?"),
    "MaxVio": ("max_vio", "How uneven?"),
    "flips": ("flip_rate", "Does routing move or drop points?"),
    "drops": ("drop_rate", "Does routing move or drop points?"),
    "balance loss": ("balance_loss", "Router losses"),
    "router z": ("router_z", "Router losses"),
}


def test_collapse_panel_plots_each_metric_under_its_name_in_its_panel():
    hist = history()
    fig = charts.collapse_panel(hist, n_experts=3)
    # one question per panel, whose title names each series in its own colour; the shared x axis titled
    assert fig.layout.title.text and fig.layout.xaxis5.title.text == "training step"
    traces = assert_traces(fig, hist, {name: field for name, (field, _) in COLLAPSE.items()})
    panels = [a.text for a in fig.layout.annotations]  # panel i's title, panel i on axes x{i}/y{i}
    assert len(panels) == 5
    for name, (_, question) in COLLAPSE.items():
        index = next(i for i, title in enumerate(panels) if title.startswith(f"<b>{question}</b>"))
        suffix = "" if index == 0 else str(index + 1)
        assert (traces[name].xaxis, traces[name].yaxis) == (f"x{suffix}", f"y{suffix}"), name
        assert f"color:{traces[name].line.color}'>━ {name}</span>" in panels[index]  # its key, in its colour
    assert fig.layout.yaxis2.range == (0, 3.5)  # expert counts, up to every expert


def test_every_time_chart_marks_each_live_change_and_waits_for_training_to_begin():
    hist, events = history(), [(7, "balance aux_loss → none"), (40, "lr 0.01 → 0.003")]
    figures = [
        charts.load_share_area(hist, events),
        charts.collapse_panel(hist, 3, events),
        charts.training_curves(hist, None, True, events),
        charts.specialisation_curves(hist, events),
    ]
    for fig in figures:
        lines = [(shape.x0, shape.x1) for shape in fig.layout.shapes]
        assert {7, 40} == {x0 for x0, x1 in lines} and all(x0 == x1 for x0, x1 in lines)
        assert {"balance aux_loss → none", "lr 0.01 → 0.003"} <= {a.text for a in fig.layout.annotations}
    untrained = [replace(m, step=0) for m in hist[:1]]
    for fig in (
        charts.load_share_area(untrained),
        charts.collapse_panel(untrained, 3),
        charts.training_curves(untrained, None, True),
        charts.specialisation_curves(untrained),
    ):
        assert fig.data == () and "Press Play" in fig.layout.annotations[0].text and fig.layout.title.text


@pytest.mark.parametrize("classification", [True, False])
def test_training_curves_plot_moe_and_dense_losses_and_accuracy(classification):
    moe = history(classification=classification)
    dense = history(offset=1.0, dense=True, classification=classification)  # values unlike the MoE's
    fig = charts.training_curves(moe, dense, classification=classification)
    expected = {"MoE train": "train_loss", "MoE test": "test_loss"}
    expected_dense = {"dense MLP train": "train_loss", "dense MLP test": "test_loss"}
    if classification:
        expected["MoE accuracy"] = expected_dense["dense MLP accuracy"] = "test_accuracy"
    assert [t.name for t in fig.data] == [*expected, *expected_dense]
    traces = {t.name: t for t in fig.data}
    assert_traces(go.Figure([traces[n] for n in expected]), moe, expected)
    assert_traces(go.Figure([traces[n] for n in expected_dense]), dense, expected_dense)
    for name, trace in traces.items():  # losses in the first panel, accuracy in the second
        assert (trace.xaxis, trace.yaxis) == (("x2", "y2") if "accuracy" in name else ("x", "y")), name
    if classification:
        assert_labelled(fig, {"xaxis": STEP, "yaxis": "loss", "xaxis2": STEP, "yaxis2": "accuracy"})
        assert [a.text for a in fig.layout.annotations] == ["Loss", "Test accuracy"]
    else:
        assert_labelled(fig, {"xaxis": STEP, "yaxis": "loss"})
        assert [a.text for a in fig.layout.annotations] == ["Loss"]


def test_training_curves_without_a_baseline_show_the_moe_alone():
    hist = history()
    fig = charts.training_curves(hist, None, classification=True)
    assert_traces(fig, hist, {"MoE train": "train_loss", "MoE test": "test_loss", "MoE accuracy": "test_accuracy"})


def test_specialisation_curves_plot_nmi_and_purity_and_dispatch_entropy_on_its_own_axis():
    hist = history()
    hist.insert(0, history(steps=(-5,), clusters=False)[0])  # no clusters measured: left out
    fig = charts.specialisation_curves(hist)
    assert_labelled(fig, {"xaxis": STEP, "yaxis": "NMI, purity, likeness", "yaxis2": "dispatch entropy"})
    expected = {
        "NMI(expert; cluster)": "cluster_nmi",
        "purity": "purity",
        "experts' likeness": "expert_similarity",
        "dispatch entropy (nats)": "dispatch_entropy",
    }
    traces = assert_traces(fig, hist[1:], expected)
    assert [traces[n].yaxis for n in expected] == ["y", "y", "y", "y2"]  # entropy in nats, not 0..1


def test_specialisation_heatmap_shows_where_each_cluster_goes():
    fig = charts.specialisation_heatmap(((8, 2), (0, 6), (2, 2)), ["0", "1"])
    assert_labelled(fig, {"xaxis": "latent cluster", "yaxis": "expert (first choice)"}, "% of cluster")
    z = np.asarray(fig.data[0].z, dtype=float)
    np.testing.assert_array_equal(z, [[80, 20], [0, 60], [20, 20]])  # each column is one cluster, in percent
    assert list(fig.data[0].y) == ["E0", "E1", "E2"] and list(fig.data[0].x) == ["0", "1"]


def test_the_collapse_watch_shows_what_the_schedule_set_where_it_changed():
    hist = [replace(m, gate_noise=1.0 - i / 10, balance_weight=0.1) for i, m in enumerate(history())]
    fig = charts.collapse_panel(hist, n_experts=3)
    assert len(fig.layout.annotations) == 6 and fig.layout.annotations[-1].text.startswith("<b>What the schedule sets")
    noise = next(t for t in fig.data if t.name == "gate noise")
    assert list(noise.y) == pytest.approx([1.0 - i / 10 for i in range(len(hist))]) and noise.yaxis == "y6"
    steady = [replace(m, gate_noise=0.0, balance_weight=0.1) for m in history()]
    assert len(charts.collapse_panel(steady, n_experts=3).layout.annotations) == 5  # nothing moved: no panel


def time_charts(hist: list[Metrics], n_experts: int = 3, cursor: int | None = None) -> list[go.Figure]:
    return [
        charts.load_share_area(hist, (), cursor),
        charts.collapse_panel(hist, n_experts, (), cursor),
        charts.training_curves(hist, history(offset=0.1, dense=True), True, (), cursor),
        charts.specialisation_curves(hist, (), cursor),
        charts.specialisation_heatmap(hist[-1].contingency, ["0", "1"]),
    ]


def text_sizes(fig: go.Figure) -> list[float]:
    """Every font size the figure sets, where it sets one (unset sizes inherit the layout's)."""
    layout = fig.layout
    sizes = [layout.font.size, layout.title.font.size, layout.legend.font.size]
    sizes += [note.font.size for note in layout.annotations]
    axes = [getattr(layout, name) for name in dir(layout) if name.startswith(("xaxis", "yaxis"))]
    sizes += [axis.tickfont.size for axis in axes if axis is not None]
    return [size for size in sizes if size is not None]


@pytest.mark.parametrize("n_experts", [3, 16, 64])
def test_every_chart_text_is_at_least_14_px_also_with_many_experts(n_experts):
    for fig in time_charts(history(n_experts), n_experts):
        assert min(text_sizes(fig)) >= 14, fig.layout.title.text


def test_the_heatmaps_of_many_experts_label_every_few_rows_so_14_px_labels_never_overlap():
    hist = history(64)
    fig = charts.load_share_area(hist)
    assert len(fig.layout.yaxis.tickvals) <= 16 and fig.layout.yaxis.tickvals[0] == "E0"
    assert len(fig.layout.yaxis.tickvals) >= 8


def test_the_replay_cursor_is_drawn_on_every_panel_of_every_time_chart_over_the_whole_curves():
    hist = history()
    for fig in time_charts(hist, cursor=19)[:4]:
        solid = [shape for shape in fig.layout.shapes if shape.line.dash is None]
        panels = {shape.xref for shape in solid}
        assert {shape.x0 for shape in solid} == {19} and len(panels) >= 1
        assert any(note.text == "replay: step 19" for note in fig.layout.annotations)
        assert max(max(trace.x) for trace in fig.data) == STEPS[-1]  # the curves go on past the cursor
    collapse = charts.collapse_panel(hist, 3, (), 19)
    assert len({shape.xref for shape in collapse.layout.shapes}) == 5  # one line per panel
    assert all(not fig.layout.shapes for fig in time_charts(hist)[:4])  # no cursor while live


def test_legends_get_a_bottom_margin_for_their_rows_in_the_narrowest_column():
    few = charts.load_share_area(history(2))
    many = charts.load_share_area(history(16))
    assert many.layout.margin.b > few.layout.margin.b
    curves = charts.specialisation_curves(history())
    assert curves.layout.margin.b >= 62 + 24 * 2  # four long entries take at least two rows


def test_titles_fit_the_narrowest_column_at_their_size():
    for fig in time_charts(history()):
        assert len(fig.layout.title.text) * 9 <= 340, fig.layout.title.text
