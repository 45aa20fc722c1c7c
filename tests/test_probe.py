import numpy as np
import pytest
import torch

from moe_core.datasets.dataset import make_dataset
from moe_core.layer.build import Build
from moe_core.measure.probe import grid_bounds, inspect_point, output_value, probe_grid, probe_points
from moe_core.models.points import build_model
from moe_core.settings.config import RunConfig
from moe_core.settings.table import DataConfig, ModelConfig
from moe_core.training.trainer import Trainer


def model_and_data(**model):
    data = make_dataset(DataConfig(n_train=200, n_test=50))
    torch.manual_seed(0)
    return build_model(ModelConfig(**model), Build(2, 2, True, data.x_train)), data


def test_the_grid_covers_the_data_and_agrees_with_the_router():
    model, data = model_and_data(n_experts=5, top_k=2)
    grid = probe_grid(model, data, resolution=20, with_experts=True)
    x0, x1, y0, y1 = grid_bounds(data)
    assert grid.xs_R[0] == x0 and grid.ys_R[-1] == y1 and x1 - x0 == y1 - y0
    assert grid.winner_RR.shape == (20, 20) and grid.routed_ERR.shape == (5, 20, 20)
    # Row = view y, column = view x: the cell at (row 3, column 7) is the point (xs[7], ys[3]).
    point = torch.tensor([[grid.xs_R[7], grid.ys_R[3]]], dtype=torch.float32)
    _, probs, selection = model.router.ranking(point)
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


def expert_by_hand(model, e: int, x: np.ndarray, shared: bool = False) -> np.ndarray:
    """Expert e (or shared expert e) as the MLP its stacked weights describe, in float64 numpy."""
    experts = model.shared if shared else model.experts
    act = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}[model.cfg.expert_activation]
    weights = [(w[e], b[e]) for w, b in experts.layers()]
    h = x
    for i, (w, b) in enumerate(weights):
        h = h @ w.detach().double().numpy() + b.detach().double().numpy()
        if i < len(weights) - 1:
            h = act(h)
    return h


def value_by_hand(out_O: np.ndarray, n_classes: int) -> float:
    if n_classes == 0:
        return float(out_O[0])
    if n_classes == 2:
        return float(np.exp(out_O[1]) / np.exp(out_O).sum())
    return float(out_O.argmax())


INSPECTED = [
    # 2 classes, Mixtral-style renormalised top-2, a shared expert, and training noise that the
    # inspection (evaluation mode) must leave out.
    (
        {"data.name": "clusters", "model.top_k": 2, "model.normalize": "softmax_topk", "model.shared_experts": 1,
         "model.gate_noise": 1.0},
        "probability",
    ),
    # A regression, Switch-style raw probabilities at top-2, two shared experts, tanh experts two layers deep.
    (
        {"data.name": "clusters_regression", "model.top_k": 2, "model.shared_experts": 2,
         "model.expert_activation": "tanh", "model.expert_layers": 2},
        "value",
    ),
    # Three named classes; DeepSeek-V3's sigmoid scores and loss-free bias, which moves the choice only.
    (
        {"data.name": "csv", "data.csv_path": "iris.csv", "data.target": "species", "model.top_k": 2,
         "model.normalize": "sigmoid", "model.balance": "bias"},
        "class",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "value_kind"), INSPECTED)
def test_inspecting_a_point_shows_what_the_model_computes_for_it(changes, value_kind):
    cfg = RunConfig().replace(**{"data.n_train": 100, "data.n_test": 50, "model.n_experts": 5, **changes})
    trainer = Trainer(cfg)
    trainer.step(20)  # a router and experts that have moved away from their initial weights
    model, data = trainer.model, trainer.data
    router = model.router
    n_classes = data.n_classes
    x = data.x_test[3].double().numpy()
    if cfg.model.balance == "bias":
        # A large bias on the expert the router likes least: it must be chosen, yet weighed by its score.
        with torch.no_grad():
            logits = router.gate(data.x_test[3:4])[0]
            router.bias_E.zero_()
            router.bias_E[int(logits.argmin())] = 1.0

    logits = x @ router.gate.weight.detach().double().numpy().T + router.gate.bias.detach().double().numpy()
    if cfg.model.normalize == "sigmoid":
        affinity = 1 / (1 + np.exp(-logits))
        probs = affinity / affinity.sum()
    else:
        affinity = probs = np.exp(logits) / np.exp(logits).sum()
    selection = affinity + router.bias_E.double().numpy()
    ids = np.argsort(-selection)[: cfg.model.top_k]
    weights = affinity[ids] if cfg.model.normalize == "softmax" else affinity[ids] / affinity[ids].sum()
    shared = sum((expert_by_hand(model, s, x, shared=True) for s in range(cfg.model.shared_experts)), np.zeros(1))
    outputs = [expert_by_hand(model, e, x) + shared for e in range(5)]
    combined = sum(w * expert_by_hand(model, e, x) for e, w in zip(ids, weights, strict=True)) + shared

    model.train()
    got = inspect_point(model, data, data.x_test[3])
    assert model.training  # handed back as it came
    assert got.value_kind == value_kind == data.value_kind
    np.testing.assert_allclose(got.probs_E, probs, rtol=1e-5, atol=1e-6)
    assert list(got.chosen) == ids.tolist()
    np.testing.assert_allclose(list(got.chosen.values()), weights, rtol=1e-5, atol=1e-6)
    if cfg.model.balance == "bias":
        assert int(probs.argmin()) in got.chosen
    np.testing.assert_allclose(
        got.expert_values_E, [value_by_hand(o, n_classes) for o in outputs], rtol=1e-4, atol=1e-5
    )
    assert got.combined == pytest.approx(value_by_hand(combined, n_classes), rel=1e-4, abs=1e-5)
    # the raw numbers the inspector's sum adds: each expert alone, the shared experts, the output
    np.testing.assert_allclose(got.expert_out_EO, [expert_by_hand(model, e, x) for e in range(5)], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got.output_O, combined, rtol=1e-4, atol=1e-5)
    if cfg.model.shared_experts:
        np.testing.assert_allclose(got.shared_O, shared, rtol=1e-4, atol=1e-5)
    assert got.shared_O is None or cfg.model.shared_experts
    assert got.class_names == (data.class_names if data.classification else ())


def test_specialisation_follows_the_routing_as_executed_and_an_untrained_gate_shows_as_ties():
    cfg = RunConfig().replace(**{"data.n_train": 400, "data.n_test": 300, "model.router": "expert_choice",
                                 "model.n_experts": 4, "model.top_k": 1})  # fmt: skip
    trainer = Trainer(cfg, probe_size=None)
    trainer.fit(30)
    test = probe_points(trainer.model, trainer._probe_x, trainer._probe_y, True)
    taken = test.kept_NK.any(axis=1)
    assert (test.executed_N[~taken] == -1).all() and (~taken).any()  # expert choice leaves some points out
    for n in np.flatnonzero(taken)[:50]:  # a taken point's expert is one of the experts that took it
        assert test.kept_NK[n, test.executed_N[n]]
    assert sum(map(sum, trainer.history[-1].contingency)) == taken.sum()
    noisy = RunConfig().replace(**{"data.n_train": 400, "data.n_test": 300, "model.router": "noisy_topk",
                                   "model.gate_noise": 1.0, "model.normalize": "softmax_topk",
                                   "model.balance": "none"})  # fmt: skip
    untrained = Trainer(noisy, probe_size=None)  # top-1 weights are 1: the gate gets no gradient, stays zero
    untrained.fit(30)
    m = untrained.history[-1]
    assert m.tie_rate == 1.0 and m.load_entropy == 0.0  # every point to expert 0: ties, not collapse
    assert Trainer(cfg, probe_size=None).snapshot().metrics.tie_rate < 1.0


@pytest.mark.parametrize(
    ("changes", "per_point"),
    [
        ({"model.top_k": 2}, lambda k: k == 2),
        ({"model.router": "dense"}, lambda k: k == 4),
        ({"model.router": "top_p", "model.top_p": 0.9}, lambda k: 1 <= k <= 4),
        ({"model.router": "switch", "model.capacity_factor": 0.5}, lambda k: k < 1),
    ],
)
def test_experts_per_point_and_their_cost_follow_the_routing_as_executed(changes, per_point):
    trainer = Trainer(RunConfig().replace(**{"data.n_train": 300, "data.n_test": 200, **changes}))
    trainer.fit(30)
    m = trainer.history[-1]
    assert per_point(m.experts_per_point)
    per_expert = 2 * 16 + 16 * 2  # an expert's multiply-adds: D x H, then H x O
    assert m.expert_flops == pytest.approx(m.experts_per_point * per_expert)
    shared = Trainer(RunConfig().replace(**{"data.n_train": 300, "data.n_test": 200, "model.shared_experts": 1}))
    assert shared.snapshot().metrics.expert_flops == pytest.approx(2 * per_expert)  # top-1 plus the shared one
