import pytest
import torch

from moe_core.model import DenseMLP, MoE, build_model, count_params, matched_width, mlp_params
from moe_core.options import ModelConfig


@pytest.mark.parametrize(("n_experts", "layers", "dim"), [(1, 1, 2), (4, 1, 2), (16, 2, 32), (64, 1, 2), (8, 3, 10)])
def test_dense_baseline_matches_the_moe_parameter_count(n_experts, layers, dim):
    cfg = ModelConfig(n_experts=n_experts, expert_layers=layers)
    moe = build_model(cfg, dim, 2, True)
    dense = build_model(ModelConfig(n_experts=n_experts, expert_layers=layers, arch="dense"), dim, 2, True)
    assert isinstance(dense, DenseMLP) and len(dense.hidden) == layers
    width = dense.out.in_features
    gap = abs(count_params(dense) - count_params(moe))
    # Within one unit of width: nothing closer exists.
    assert gap <= abs(mlp_params(dim, width + 1, 2, layers) - mlp_params(dim, width, 2, layers))


def test_matched_width_inverts_the_parameter_count():
    for layers in (1, 2, 4):
        assert matched_width(mlp_params(7, 33, 3, layers), 7, 3, layers) == 33


def test_moe_output_is_the_weighted_sum_of_slot_outputs():
    torch.manual_seed(0)
    model = MoE(ModelConfig(n_experts=4, top_k=2), 2, 3, True).eval()
    x = torch.randn(10, 2)
    out = model(x)
    expected = (out.routing.weights_NK.unsqueeze(2) * out.slot_out_NKO).sum(1)
    torch.testing.assert_close(out.output_NO, expected)


def test_shared_experts_are_added_to_every_point():
    torch.manual_seed(0)
    model = MoE(ModelConfig(n_experts=4, top_k=1, shared_experts=2), 2, 1, False).eval()
    x = torch.randn(10, 2)
    out = model(x)
    routed = (
        out.routing.weights_NK.unsqueeze(2)
        * model.experts.forward_all(x).gather(1, out.routing.topk_ids_NK.unsqueeze(2))
    ).sum(1)
    torch.testing.assert_close(out.output_NO, routed + model.shared.forward_all(x).sum(1))


def test_mixture_prediction_is_a_distribution_over_classes():
    torch.manual_seed(0)
    model = MoE(ModelConfig(n_experts=3, top_k=2, objective="mixture", normalize="softmax_topk"), 2, 4, True).eval()
    out = model(torch.randn(16, 2))
    torch.testing.assert_close(out.output_NO.exp().sum(1), torch.ones(16))
