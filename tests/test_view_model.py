"""What the live panel shows, checked without a server: the map's data, the readout, the diagnosis
line and the inspector's values."""

import dataclasses

import numpy as np
import pytest
import torch

from moe_core.config import RunConfig
from moe_core.metrics import Metrics
from moe_core.probe import Inspection
from moe_core.train import Trainer
from moe_explorer_app import view_model
from moe_explorer_app.runs import Run

SMALL = {"data.n_train": 300, "data.n_test": 300}


def run_of(**changes) -> Run:
    run = Run(1, Trainer(RunConfig().replace(**SMALL, **changes)), None)
    run.snapshot()
    return run


def metrics(step=500, entropy=1.0, effective=4.0, dead=0, nmi=None, clusters=4) -> Metrics:
    table = None if nmi is None else tuple(tuple([10] * clusters) for _ in range(4))
    return Metrics(
        step=step, train_loss=0.5, test_loss=0.5, test_accuracy=0.9, load_share=(0.25,) * 4, load_entropy=entropy,
        effective_experts=effective, dead_experts=dead, cluster_nmi=nmi, contingency=table,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("m", "n_experts", "expected"),
    [
        (metrics(entropy=0.3, effective=1.3), 4, ("warning", "Collapse: 1.3 effective experts of 4.")),
        (metrics(step=0, entropy=0.3, effective=1.3), 4, None),  # nothing has trained yet
        (metrics(step=view_model.JUDGE_AFTER - 1, entropy=0.3, effective=1.3), 4, None),  # too early to judge
        (metrics(entropy=0.9, dead=2, nmi=0.9, clusters=4), 8, ("success", "2 expert(s) idle, but NMI is 0.90")),
        # as many experts as clusters: an idle expert is not explained away
        (metrics(entropy=0.8, dead=1, nmi=0.9, clusters=4), 4, None),
        (metrics(entropy=0.95), 4, None),
        (metrics(entropy=0.3, effective=1.3), 1, None),
        # an untrained gate: every score ties, so evaluation sends everything to expert 0; not collapse
        (
            dataclasses.replace(metrics(entropy=0.0, effective=1.0), tie_rate=1.0),
            4,
            ("info", "The router has learnt nothing yet: its scores tie on 100% of points"),
        ),
    ],
)
def test_the_diagnosis_line(m, n_experts, expected):
    said = view_model.diagnosis([m], n_experts)
    if expected is None:
        assert said is None
    else:
        assert said[0] == expected[0] and said[1].startswith(expected[1])


def test_the_readout_names_step_speed_device_and_accuracy():
    run = run_of()
    run.advance(12)
    latest = run.trainer.history[-1]
    text = view_model.readout(run, 1234, latest, 830.4)
    assert text.startswith("**step 1,234** · 830 steps/s on the cpu")
    assert text.endswith(f"test accuracy {latest.test_accuracy:.1%}")


def test_the_map_view_marks_the_points_capacity_leaves_without_an_expert():
    run = run_of(**{"model.router": "switch", "model.capacity_factor": 0.25, "model.balance": "none"})
    view = view_model.map_view(run, resolution=10)
    probe = run.trainer.model
    x = run.trainer.data.x_test[: view_model.MAP_POINTS]
    with torch.no_grad():
        kept = probe.eval()(x).routing.kept_NK.any(dim=1).numpy()
    np.testing.assert_array_equal(view.points.dropped_N, ~kept)
    assert view.points.dropped_N.any() and view.grid.winner_RR.shape == (10, 10) and view.axis_names == ("x1", "x2")
    assert not view_model.map_view(run_of(), resolution=10).points.dropped_N.any()


def test_maps_of_many_dimensions_show_principal_components():
    run = run_of(**{"data.name": "moons", "data.dim": 5})
    assert view_model.map_view(run, resolution=8).axis_names == ("PC1", "PC2")


def inspection(probs, chosen, values, combined=0.7, kind="probability", shared=False) -> Inspection:
    return Inspection(np.array(probs), chosen, np.array(values), combined, kind, shared)


def test_the_inspector_rows_and_sentence_say_what_the_model_does():
    result = inspection([0.1, 0.6, 0.3], {1: 0.6}, [0.2, 0.9, 0.4])
    rows = view_model.inspection_rows(result)
    assert [r["expert"] for r in rows] == ["E1", "E2", "E0"]
    assert rows[0] == {"expert": "E1", "probability": 0.6, "chosen": "yes", "weight": 0.6,
                       "its own output": "P(class 1) = 0.90"}  # fmt: skip
    assert rows[1]["chosen"] == "" and rows[1]["weight"] == 0.0
    assert view_model.combined_sentence(result) == "**Combined output:** 0.60 × output of E1 → P(class 1) = 0.70"
    nobody = inspection([0.5, 0.5], {}, [0.1, 0.2], combined=0.5)
    assert "no expert takes this point" in view_model.combined_sentence(nobody)
    shared = inspection([0.1, 0.6, 0.3], {1: 0.6}, [0.2, 0.9, 0.4], shared=True)
    assert "0.60 × output of E1 + the shared experts' output → " in view_model.combined_sentence(shared)


def test_a_near_tie_is_flagged_and_a_clear_choice_is_not():
    assert "0.324 and 0.320" in view_model.near_tie(inspection([0.324, 0.320, 0.2, 0.156], {}, [0, 0, 0, 0]))
    assert view_model.near_tie(inspection([0.7, 0.3], {0: 0.7}, [0, 0])) is None


def test_inspecting_a_test_point_and_a_spot_of_the_map():
    run = run_of(**{"model.top_k": 2})
    result, label = view_model.inspect(run, 5, None)
    assert label == "#5" and set(result.chosen) <= set(range(4)) and len(result.chosen) == 2
    assert result.probs_E.sum() == pytest.approx(1.0, abs=1e-5)
    result, label = view_model.inspect(run, None, (0.5, -0.25))
    assert label == "at (0.50, -0.25)" and result.value_kind == "probability"


def test_a_point_s_facts_give_its_class_the_verdict_and_why_capacity_dropped_it():
    run = run_of(**{"model.router": "switch", "model.capacity_factor": 0.25, "model.balance": "none"})
    view = view_model.map_view(run, resolution=8)
    row = int(np.flatnonzero(view.points.dropped_N)[0])
    facts = view_model.point_facts(run, view, int(view.points.index_N[row]))
    truth = run.trainer.data.class_names[int(run.trainer.data.y_test[row])]
    assert facts[0].startswith(f"**Point #{row}**: class {truth}; the model is ")
    assert "every expert it chose was already full (capacity)" in facts[1]
    chooser = run_of(**{"model.router": "expert_choice", "model.capacity_factor": 0.25})
    view = view_model.map_view(chooser, resolution=8)
    row = int(np.flatnonzero(view.points.dropped_N)[0])
    assert "no expert chose it" in view_model.point_facts(chooser, view, row)[1]
    plain = run_of()
    assert len(view_model.point_facts(plain, view_model.map_view(plain, resolution=8), 0)) == 1
    assert view_model.point_facts(run, view, None)[0].startswith("A spot of the plane")
