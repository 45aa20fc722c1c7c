"""What the live panel shows, checked without a server: the map's data, the readout and the inspected
point (the collapse watch's words: test_diagnosis.py; the inspector's sum: test_inspector_text.py)."""

import numpy as np
import pytest
import torch

from moe_core.measure.probe import Inspection
from moe_core.settings.config import RunConfig
from moe_core.training.trainer import Trainer
from moe_explorer_app.state import view_model
from moe_explorer_app.state.runs import Run

SMALL = {"data.n_train": 300, "data.n_test": 300}


def run_of(**changes) -> Run:
    run = Run(1, Trainer(RunConfig().replace(**SMALL, **changes)), None)
    run.snapshot()
    return run


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
