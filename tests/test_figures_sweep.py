"""The sweep's figures: mean and interval per combination, runs in parallel coordinates, and small
maps whose colours are matched across runs."""

import numpy as np
import pytest

from moe_core.experiments.sweep import Row
from moe_explorer_app.figures.palette import expert_colour
from moe_explorer_app.figures.setting_words import option_words, setting_text, setting_words
from moe_explorer_app.figures.style import legend_rows
from moe_explorer_app.figures.sweep import (
    aligned_maps,
    map_multiples,
    metric_bars,
    metric_over_training,
    parallel_settings,
)

GRID = {"model.balance": ["none", "aux_loss"], "model.top_k": [1, 2]}


def entry(settings: dict, metric: str, mean, half, bounds=(0.0, float("inf"))) -> dict:
    """A summary entry as moe_core.experiments.summary gives it: mean, half-width, the clipped ends."""
    low, high = (None, None) if half is None else (max(bounds[0], mean - half), min(bounds[1], mean + half))
    return {**settings, "runs": 3, "diverged": 0, f"{metric}_mean": mean, f"{metric}_ci95": half,
            f"{metric}_low": low, f"{metric}_high": high}  # fmt: skip


SUMMARY = [
    entry({"model.balance": b, "model.top_k": k}, "test_loss", m, c)
    for (b, k), m, c in zip([(b, k) for b in ("none", "aux_loss") for k in (1, 2)], [0.30, 0.28, 0.25, 0.27],
                            [0.02, 0.01, None, 0.03], strict=True)
]  # fmt: skip


def row(balance, top_k, seed, loss, winner=None) -> Row:
    map_ = None if winner is None else {"winner": winner.tolist(), "extent": [-1.0, 1.0, -2.0, 2.0]}
    return Row({"model.balance": balance, "model.top_k": top_k}, seed, 10, None, 0.1, {"test_loss": loss}, map=map_)


def test_each_combination_is_a_dot_with_its_interval_grouped_by_the_second_setting():
    fig = metric_bars(GRID, SUMMARY, "test_loss", 3)
    assert fig.layout.title.text == "test loss, 3 seeds: mean and 95% interval"
    assert fig.layout.xaxis.title.text == "balance strategy" and fig.layout.yaxis.title.text == "test loss"
    assert [t.name for t in fig.data] == ["top-k 1", "top-k 2"]
    assert list(fig.data[0].x) == ["none", "auxiliary loss (Switch / GShard)"] and list(fig.data[0].y) == [0.30, 0.25]
    assert list(fig.data[0].error_y.array) == pytest.approx([0.02, 0])  # one seed's worth: no interval
    low, high = fig.layout.yaxis.range
    assert low < 0.25 and high > 0.30 and low > 0.1  # the whiskers fit; no axis from zero


def test_a_whisker_stops_where_its_metric_does():
    summary = [entry({"model.top_k": 1}, "cluster_nmi", 0.9, 0.3, (0, 1)), entry({"model.top_k": 2}, "cluster_nmi",
               0.5, 0.1, (0, 1))]  # fmt: skip
    (trace,) = metric_bars({"model.top_k": [1, 2]}, summary, "cluster_nmi", 2).data
    assert list(trace.error_y.array) == pytest.approx([0.1, 0.1]) and list(trace.error_y.arrayminus) == pytest.approx(
        [0.3, 0.1]
    )  # 0.9 + 0.3 would pass 1: the whisker ends at 1
    assert [list(c) for c in trace.customdata] == [pytest.approx([0.6, 1.0]), pytest.approx([0.4, 0.6])]


def test_each_run_is_a_line_across_settings_seed_and_metric():
    rows = [row("none", 1, 0, 0.3), row("aux_loss", 2, 1, 0.2), row("none", 2, 1, 0.25)]
    fig = parallel_settings(GRID, rows, "test_loss")
    (trace,) = fig.data
    labels = [d.label for d in trace.dimensions]
    assert labels == ["balance", "top_k", "seed", "test loss"]
    assert trace.labelfont.size == trace.tickfont.size == trace.rangefont.size == 14  # readable from the back
    balance = trace.dimensions[0]
    assert list(balance.ticktext) == ["aux_loss", "none"] and list(balance.values) == [1, 0, 1]
    assert list(trace.dimensions[3].values) == [0.3, 0.2, 0.25] and trace.line.colorbar.title.text == "test loss"


def test_maps_are_recoloured_to_match_the_first_and_say_how_well_they_agree():
    rng = np.random.default_rng(0)
    first = rng.integers(0, 4, (6, 6))
    renumber = np.array([2, 0, 3, 1])  # the second run's expert e is the first run's renumber^-1
    second = np.argsort(renumber)[first]
    rows = [row("none", 1, 0, 0.3, first), row("none", 2, 0, 0.3, second)]
    maps, agreement = aligned_maps(rows, 4)
    np.testing.assert_array_equal(maps[1], first)
    assert agreement == [1.0, 1.0]
    fig = map_multiples(rows, 4, seed=0)
    assert fig.layout.title.text == "Final routing maps, seed 0: colours matched to the first"
    titles = [a.text for a in fig.layout.annotations]
    assert titles == [
        "balance strategy: none<br>top-k 1<br>100% agree",
        "balance strategy: none<br>top-k 2<br>100% agree",
    ]
    assert np.array_equal(np.array(fig.data[1].z), first)
    assert fig.layout.xaxis.title.text == "x1" and fig.layout.yaxis.title.text == "x2"
    assert [t.name for t in fig.data if t.showlegend] == ["E0", "E1", "E2", "E3"]  # no points kept: no markers


@pytest.mark.parametrize("count", [1, 5])
def test_many_or_one_map_fill_a_grid_of_at_most_four_columns(count):
    rows = [row("none", 1, 0, 0.3, np.zeros((4, 4), int)) for _ in range(count)]
    fig = map_multiples(rows, 2, seed=0)
    maps = [t for t in fig.data if t.type == "heatmap"]
    assert len(maps) == count and not any(t.showscale for t in maps)  # the legend names the experts
    assert [t.name for t in fig.data if t.showlegend] == ["E0"]


def test_settings_that_mix_none_and_numbers_sort_and_label_without_error():
    grid = {"model.capacity_factor": [None, 1.25], "model.top_k": [1]}
    rows = [
        Row({"model.capacity_factor": c, "model.top_k": 1}, 0, 10, None, 0.1, {"test_loss": 0.3}) for c in (1.25, None)
    ]
    (trace,) = parallel_settings(grid, rows, "test_loss").data
    assert list(trace.dimensions[0].ticktext) == ["1.25", "None"]
    summary = [entry({"model.capacity_factor": c, "model.top_k": 1}, "test_loss", 0.3, None)
               for c in (None, 1.25)]  # fmt: skip
    flipped = metric_bars({"model.top_k": [1], "model.capacity_factor": [None, 1.25]}, summary, "test_loss", 1)
    assert [t.name for t in flipped.data] == ["capacity factor: no limit", "capacity factor 1.25"]


def test_maps_of_another_plane_are_left_unmatched_and_say_so():
    rows = [row("none", 1, 0, 0.3, np.zeros((4, 4), int)), row("none", 2, 0, 0.3, np.ones((4, 4), int))]
    rows[1].map["extent"] = [-3.0, 3.0, -3.0, 3.0]  # a sweep over the data: another plane
    maps, agreement = aligned_maps(rows, 2)
    assert np.array_equal(maps[1], np.ones((4, 4))) and np.isnan(agreement[1])
    title = map_multiples(rows, 2, 0).layout.annotations[1].text
    assert title == "balance strategy: none<br>top-k 2<br>another plane: not matched"


def test_each_combination_over_training_is_a_mean_line_with_a_band_of_one_std():
    def run(top_k, seed, losses):
        history = [{"step": s, "test_loss": v} for s, v in zip((0, 10, 20), losses, strict=True)]
        return Row({"model.balance": "none", "model.top_k": top_k}, seed, 20, None, 0.1, {}, history=history)

    rows = [run(1, 0, [0.7, 0.5, 0.4]), run(1, 1, [0.7, 0.3, 0.2]), run(2, 0, [0.6, 0.4, 0.3])]
    fig = metric_over_training(GRID, rows, "test_loss")
    assert fig.layout.title.text == "test loss over training: mean ± 1 std over 2 seeds"
    band, mean = fig.data[0], fig.data[1]
    assert mean.name == "balance strategy: none, top-k 1" and list(mean.y) == pytest.approx([0.7, 0.4, 0.3])
    spread = np.std([0.5, 0.3], ddof=1)
    assert list(band.x) == [0, 10, 20, 20, 10, 0] and band.y[1] == pytest.approx(0.4 + spread)
    assert band.y[4] == pytest.approx(0.4 - spread) and band.fill == "toself"
    assert list(fig.data[3].y) == [0.6, 0.4, 0.3] and fig.layout.xaxis.title.text == "step"


def test_a_band_over_training_stays_within_its_metrics_range():
    history = [[{"step": 0, "cluster_nmi": 0.98}], [{"step": 0, "cluster_nmi": 0.70}]]
    rows = [Row({"model.top_k": 1}, s, 20, None, 0.1, {}, history=h) for s, h in enumerate(history)]
    band = metric_over_training({"model.top_k": [1]}, rows, "cluster_nmi", 4).data[0]
    assert list(band.y) == pytest.approx([1.0, 0.84 - np.std([0.98, 0.70], ddof=1)])  # the top clipped at NMI 1


def capacity_row(cf, dropped, winner=None, classes=("a", "b")) -> Row:
    points = {"x": [-0.5, 0.0, 0.5, 0.8], "y": [1.0, 0.0, -1.0, 1.5], "target": [0, 1, 0, 1], "dropped": dropped}
    map_ = {"winner": (np.zeros((4, 4), int) if winner is None else winner).tolist(),
            "extent": [-1.0, 1.0, -2.0, 2.0], "points": points, "classes": list(classes)}  # fmt: skip
    return Row({"model.capacity_factor": cf}, 0, 10, None, 0.1, {"test_loss": 0.3}, map=map_)


def test_each_map_draws_its_test_points_by_class_and_a_red_x_where_no_expert_took_one():
    rows = [capacity_row(0.5, [True, True, False, False]), capacity_row(1.0, [False, False, False, True]),
            capacity_row(2.0, [False] * 4)]  # fmt: skip
    fig = map_multiples(rows, 2, seed=0)
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["capacity factor 0.5<br>100% agree", "capacity factor 1<br>100% agree",
                      "capacity factor 2<br>100% agree"]  # fmt: skip
    crosses = [t for t in fig.data if t.name == "no expert (dropped)" and not t.showlegend]  # the legend's has none
    assert [(list(t.x), list(t.y)) for t in crosses] == [([-0.5, 0.0], [1.0, 0.0]), ([0.8], [1.5]), ([], [])]
    assert [t.xaxis for t in crosses] == ["x", "x2", "x3"] and crosses[0].marker.line.color == "#C00000"
    class_b = [t for t in fig.data if t.name == "class b" and not t.showlegend]
    assert [list(t.x) for t in class_b] == [[0.0, 0.8]] * 3 and class_b[0].marker.color == "#111111"
    legend = [t.name for t in fig.data if t.showlegend]
    assert legend == ["E0", "class a", "class b", "no expert (dropped)"]  # each named once


def test_a_network_without_a_router_has_no_map_and_the_others_are_drawn():
    moe = Row({"model.arch": "moe"}, 0, 10, None, 0.1, {}, map={"winner": [[0, 1], [1, 0]], "extent": [0, 1, 0, 1]})
    dense = Row({"model.arch": "dense"}, 0, 10, None, 0.1, {})  # a dense network: no map
    fig = map_multiples([moe, dense], 2, seed=1)
    assert [t.type for t in fig.data].count("heatmap") == 1 and fig.layout.title.text == "Final routing map, seed 1"
    assert [a.text for a in fig.layout.annotations] == ["architecture: mixture of experts"]


def test_settings_read_as_words_with_names_kept():
    assert setting_text({"model.capacity_factor": 0.5, "model.top_k": 2}) == "capacity factor 0.5, top-k 2"
    assert setting_words("model.balance", "none") == "balance strategy: none"
    assert setting_words("model.router", "top_p") == "router: top-p (Huang 2024)"
    assert setting_words("train.split_above", None) == "split above: never split"
    assert setting_words("model.n_experts", 4) == "4 experts" and setting_words("model.n_experts", 1) == "1 expert"
    assert option_words("model.arch") == "architecture" and option_words("model.n_groups")[0].islower()


def test_sixteen_experts_and_ten_classes_get_legend_rows_of_their_own_under_the_maps():
    winner = np.arange(16).repeat(16).reshape(16, 16)
    few, many = capacity_row(0.5, [False] * 4), capacity_row(0.5, [False] * 4, winner, [str(c) for c in range(10)])
    small, big = map_multiples([few], 2, 0), map_multiples([many], 16, 0)
    labels = [t.name for t in big.data if t.showlegend]
    assert labels == [f"E{e}" for e in range(16)] + ["class 0", "class 1"]  # the points hold two classes
    rows = legend_rows(labels, 600)
    assert rows >= 2 and big.layout.margin.b >= 50 + 24 * rows and big.layout.margin.b > small.layout.margin.b
    assert big.layout.height - small.layout.height == big.layout.margin.b - small.layout.margin.b
    assert big.layout.legend.traceorder == "normal"  # in rows: "grouped" stacks the experts in one tall column


def test_long_setting_names_under_the_curves_get_rows_of_their_own_below_the_axis_title():
    names = ["none", "aux_loss", "importance", "bias"]
    rows = [Row({"model.balance": b}, 0, 20, None, 0.1, {}, history=[{"step": 0, "load_entropy": 0.5}]) for b in names]
    fig = metric_over_training({"model.balance": names}, rows, "load_entropy")
    labels = [t.name for t in fig.data if t.showlegend is not False]
    assert labels[1] == "balance strategy: auxiliary loss (Switch / GShard)"
    assert legend_rows(labels, 600) >= 2 and fig.layout.margin.b >= 62 + 24 * legend_rows(labels, 600)
    assert fig.layout.height - fig.layout.margin.b == 400 - 84  # the plot keeps its height


def test_one_setting_too_long_for_four_panels_is_named_in_the_title_and_each_panel_gives_its_value():
    rows = [Row({"model.balance": b}, 0, 10, None, 0.1, {}, map={"winner": [[0, 1], [1, 0]], "extent": [0, 1, 0, 1]})
            for b in ("none", "aux_loss", "importance", "bias")]  # fmt: skip
    fig = map_multiples(rows, 2, seed=0)
    assert fig.layout.title.text == "Final routing maps by balance strategy, seed 0<br>colours matched to the first"
    assert fig.layout.title.yanchor == "top" and fig.layout.title.yref == "container"  # above the panels' titles
    titles = [a.text.split("<br>") for a in fig.layout.annotations]
    assert titles[1] == ["auxiliary loss", "(Switch /", "GShard)", "100% agree"]
    assert all(len(line) * 8.5 <= 500 / 4 for t in titles for line in t)  # each line fits its panel at 1024
    assert fig.layout.margin.t >= 52 + 22 + 20 * 4  # four lines under the title's two
    assert {a.xanchor for a in fig.layout.annotations} == {"center"}  # "auto" anchors the outer ones by an edge


def test_on_a_map_of_many_inputs_each_point_is_filled_with_its_own_experts_colour_matched_across_maps():
    first = np.array([[0, 0], [1, 1]])
    rows = [capacity_row(0.5, [False] * 4, first), capacity_row(1.0, [False] * 4, 1 - first)]  # experts swapped
    rows[0].map["points"]["expert"] = [0, 0, 1, 1]  # the gate's first choice for each point
    rows[1].map["points"]["expert"] = [1, 1, 0, 0]  # the same routing, the experts numbered the other way
    fig = map_multiples(rows, 2, seed=0)
    class_a = [t for t in fig.data if t.name == "class a" and not t.showlegend]
    assert [list(t.marker.color) for t in class_a] == [[expert_colour(0), expert_colour(1)]] * 2  # x -0.5 and 0.5
    rows[0].map["points"]["expert"] = [0, 0, 1, 3]  # an expert that wins no region, yet serves a point
    assert "E3" in [t.name for t in map_multiples(rows, 4, seed=0).data if t.showlegend]  # its colour is named
    (key,) = [t for t in fig.data if t.name == "class a" and t.showlegend]
    assert key.marker.color == "#FFFFFF" and key.marker.symbol == "circle"  # the legend shows the class alone


def test_one_run_alone_has_no_legend_to_name_it():
    rows = [Row({}, 0, 20, None, 0.1, {}, history=[{"step": 0, "cluster_nmi": 0.4}, {"step": 10, "cluster_nmi": 0.7}])]
    fig = metric_over_training({}, rows, "cluster_nmi")
    assert fig.layout.showlegend is False and fig.layout.margin.b == 62 and list(fig.data[1].y) == [0.4, 0.7]
