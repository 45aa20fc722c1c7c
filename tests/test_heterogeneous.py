"""Mixed experts: each kind in its own stack, experts in cycle order, every expert running as its kind."""

import pytest
import torch

from moe_core.layer.heterogeneous import LinearExperts, MixedExperts
from moe_core.settings.config import RunConfig
from moe_core.settings.expert_mix import ExpertSpec
from moe_core.training.trainer import Trainer

SPECS = [ExpertSpec(0, 0, "linear"), ExpertSpec(8, 1, "tanh"), ExpertSpec(5, 2, "relu")]


def test_experts_cycle_through_the_kinds_and_each_runs_as_its_kind():
    experts = MixedExperts(6, 3, 2, SPECS)
    assert experts.n_experts == 6 and experts.n_out == 2
    assert experts.labels() == ["linear", "MLP 8 tanh", "MLP 5x2 relu"] * 2
    x = torch.randn(10, 3)
    every = experts.forward_all(x)
    for e in range(6):
        torch.testing.assert_close(every[:, e], experts.forward_one(e, x))
    linear = experts.kinds[0]  # expert 3 is the second linear one: x W + b, nothing else
    torch.testing.assert_close(experts.forward_one(3, x), x @ linear.w_EDO[1] + linear.b_EO[1])


def test_each_experts_cost_is_its_kinds_multiply_adds():
    experts = MixedExperts(3, 4, 2, SPECS)
    assert experts.flops_E().tolist() == [4 * 2, 4 * 8 + 8 * 2, 4 * 5 + 5 * 5 + 5 * 2]
    assert LinearExperts(2, 4, 3).flops_E().tolist() == [12.0, 12.0]


def test_normalised_gd_sees_every_kinds_weights_with_their_expert_axes():
    experts = MixedExperts(6, 3, 2, SPECS)
    axes = experts.param_axes()
    assert {id(p) for p, _ in axes} == {id(p) for p in experts.parameters()}
    assert all(p.shape[axis] == 2 for p, axis in axes)  # two experts of each kind


def test_a_mixed_layer_trains_and_reports_the_compute_of_the_experts_it_used():
    cfg = RunConfig().replace(**{"model.expert_kind": "mixed", "model.expert_mix": "linear,32", "data.n_train": 400})
    trainer = Trainer(cfg)
    trainer.fit(100)
    m = trainer.history[-1]
    linear, mlp = 2 * 2, 2 * 32 + 32 * 2
    share = sum(m.load_share[0::2])  # the linear experts' share of the points
    assert m.expert_flops == pytest.approx(share * linear + (1 - share) * mlp, rel=1e-4)
    assert m.test_accuracy > 0.6
