import numpy as np
import torch

from moe_core.config import DataConfig, ModelConfig
from moe_core.data import make_dataset
from moe_core.model import build_model
from moe_core.probe import grid_bounds, output_value, probe_grid, probe_points


def model_and_data(**model):
    data = make_dataset(DataConfig(n_train=200, n_test=50))
    torch.manual_seed(0)
    return build_model(ModelConfig(**model), 2, 2, True, data.x_train), data


def test_the_grid_covers_the_data_and_agrees_with_the_router():
    model, data = model_and_data(n_experts=5, top_k=2)
    grid = probe_grid(model, data, resolution=20, with_experts=True)
    x0, x1, y0, y1 = grid_bounds(data)
    assert grid.xs_R[0] == x0 and grid.ys_R[-1] == y1 and x1 - x0 == y1 - y0
    assert grid.winner_RR.shape == (20, 20) and grid.routed_ERR.shape == (5, 20, 20)
    # Row = view y, column = view x: the cell at (row 3, column 7) is the point (xs[7], ys[3]).
    point = torch.tensor([[grid.xs_R[7], grid.ys_R[3]]], dtype=torch.float32)
    _, probs, selection = model.router.scores(point)
    assert grid.winner_RR[3, 7] == selection.argmax()
    assert np.isclose(grid.winner_prob_RR[3, 7], probs.max().item(), atol=1e-6)
    assert (grid.routed_ERR.sum(axis=0) == 2).all()  # top-2: two experts marked per cell
    assert np.take_along_axis(grid.routed_ERR, grid.winner_RR[None].astype(int), 0).all()
    assert (grid.second_RR != grid.winner_RR).all()
    assert ((grid.entropy_RR >= 0) & (grid.entropy_RR <= 1 + 1e-6)).all()
    assert ((grid.output_RR >= 0) & (grid.output_RR <= 1)).all()


def test_expert_values_on_the_grid_only_when_asked():
    model, data = model_and_data(n_experts=3)
    assert probe_grid(model, data, resolution=6).expert_value_ERR is None
    values = probe_grid(model, data, resolution=6, with_experts=True).expert_value_ERR
    assert values.shape == (3, 6, 6) and ((values >= 0) & (values <= 1)).all()


def test_grid_leaves_the_model_in_training_mode():
    model, data = model_and_data()
    model.train()
    probe_grid(model, data, resolution=5)
    assert model.training


def test_points_probe_reports_routing_and_the_first_experts_own_output():
    model, data = model_and_data(n_experts=3, shared_experts=1)
    probe = probe_points(model, data.x_test, data.y_test, classification=True)
    assert probe.own_out_NO.shape == (50, 2) and probe.probs_NE.shape == (50, 3)
    assert (probe.first_N == probe.ids_NK[:, 0]).all()
    assert probe.load_E.sum() == 50 and probe.loss_N.shape == (50,)
    with torch.no_grad():
        every = model.experts.forward_all(data.x_test) + model.shared.forward_all(data.x_test).sum(1, keepdim=True)
    np.testing.assert_allclose(probe.own_out_NO, every[np.arange(50), probe.first_N].numpy(), rtol=1e-5, atol=1e-6)


def test_output_value_per_task():
    logits = torch.tensor([[0.0, 0.0], [5.0, -5.0]])
    assert output_value(logits, True).tolist()[0] == 0.5
    assert output_value(torch.tensor([[0.1, 2.0, 0.3]]), True).tolist() == [1.0]
    assert output_value(torch.tensor([[1.5]]), False).tolist() == [1.5]


def test_dense_models_have_no_routing_fields():
    model, data = model_and_data(arch="dense")
    probe = probe_points(model, data.x_test, data.y_test, classification=True)
    assert probe.load_E is None and probe_grid(model, data, resolution=4).winner_RR is None
