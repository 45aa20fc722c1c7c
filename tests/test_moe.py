"""The MoE layer: its output is the weighted sum of its slots' outputs plus the shared experts'."""

import torch

from moe_core.layer.build import Build
from moe_core.layer.moe import MoE
from moe_core.settings.table import ModelConfig


def test_moe_output_is_the_weighted_sum_of_slot_outputs():
    torch.manual_seed(0)
    model = MoE(ModelConfig(n_experts=4, top_k=2), Build(2, 3, True)).eval()
    x = torch.randn(10, 2)
    out = model(x)
    expected = (out.routing.weights_NK.unsqueeze(2) * out.slot_out_NKO).sum(1)
    torch.testing.assert_close(out.output_NO, expected)


def test_shared_experts_are_added_to_every_point():
    torch.manual_seed(0)
    model = MoE(ModelConfig(n_experts=4, top_k=1, shared_experts=2), Build(2, 1, False)).eval()
    x = torch.randn(10, 2)
    out = model(x)
    routed = (
        out.routing.weights_NK.unsqueeze(2)
        * model.experts.forward_all(x).gather(1, out.routing.topk_ids_NK.unsqueeze(2))
    ).sum(1)
    torch.testing.assert_close(out.output_NO, routed + model.shared.forward_all(x).sum(1))


def test_mixture_prediction_is_a_distribution_over_classes():
    torch.manual_seed(0)
    model = MoE(
        ModelConfig(n_experts=3, top_k=2, objective="mixture", normalize="softmax_topk"), Build(2, 4, True)
    ).eval()
    out = model(torch.randn(16, 2))
    torch.testing.assert_close(out.output_NO.exp().sum(1), torch.ones(16))
