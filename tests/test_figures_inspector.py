"""One point's gate: the router's probability per expert, the chosen experts apart with their weights."""

import numpy as np

from moe_explorer_app.figures.inspector import gate_bars


def test_gate_bars_separate_chosen_experts_and_show_their_weights():
    probs = np.array([0.1, 0.5, 0.15, 0.25])  # all different, so a bar showing another expert's fails
    fig = gate_bars(probs, {1: 0.67, 3: 0.33}, "#4")
    chosen, other = fig.data
    assert (chosen.name, other.name) == ("chosen", "not chosen")
    assert list(chosen.x) == ["E1", "E3"] and list(chosen.text) == ["w=0.67", "w=0.33"]
    np.testing.assert_array_equal(chosen.y, [0.5, 0.25])
    assert list(other.x) == ["E0", "E2"] and list(other.text) == ["", ""]
    np.testing.assert_array_equal(other.y, [0.1, 0.15])
    # the experts stay in their own order on the axis, whichever trace holds them
    assert list(fig.layout.xaxis.categoryarray) == ["E0", "E1", "E2", "E3"]


def test_gate_bars_have_a_title_axis_titles_and_a_legend():
    fig = gate_bars(np.array([0.1, 0.6, 0.3]), {1: 1.0}, "#4")
    assert fig.layout.title.text == "Gate scores for point #4"
    assert fig.layout.xaxis.title.text == "expert" and fig.layout.yaxis.title.text == "router probability"
    assert fig.layout.showlegend is not False and all(t.showlegend is not False and t.name for t in fig.data)


def test_the_weights_above_the_bars_stay_at_the_pages_14_px_however_narrow_the_bars():
    fig = gate_bars(np.full(8, 0.125), {1: 0.95}, "#4")
    assert fig.layout.uniformtext.minsize >= 14 and fig.layout.uniformtext.mode == "show"
    assert all(trace.textfont.size >= 14 for trace in fig.data)
