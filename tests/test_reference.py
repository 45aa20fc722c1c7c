"""The readable definition: `moe_layer` is what the product's MoE computes, and `run_experts` is each
slot's expert run on its own point."""

import pytest
import torch

from moe_core.layer.build import Build
from moe_core.layer.experts import Experts
from moe_core.layer.moe import MoE
from moe_core.layer.reference import REFERENCE, combine, moe_layer, run_experts
from moe_core.settings.table import ModelConfig


@pytest.mark.parametrize(("normalize", "renormalize"), [("softmax_topk", True), ("softmax", False)])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_the_layer_from_scratch_is_the_products_top_k_moe(normalize, renormalize, k):
    torch.manual_seed(0)
    model = MoE(ModelConfig(n_experts=5, top_k=k, normalize=normalize), Build(3, 2, True, kernels=REFERENCE)).eval()
    with torch.no_grad():
        model.router.gate.weight.normal_()
    x = torch.randn(30, 3)
    with torch.no_grad():
        torch.testing.assert_close(moe_layer(x, model.router.gate, model.experts, k, renormalize), model(x).output_NO)


def test_run_experts_puts_each_slot_output_in_its_place_and_zeros_where_dropped():
    torch.manual_seed(4)
    experts = Experts(4, 2, 3, 2)
    x = torch.randn(6, 2)
    ids = torch.tensor([[0, 1], [2, 3], [1, 0], [3, 2], [0, 3], [2, 1]])
    kept = torch.tensor([[True, False]] * 5 + [[True, True]])
    out = run_experts(experts, x, ids, kept)
    for i in range(6):
        for j in range(2):
            expected = experts.forward_one(int(ids[i, j]), x[i : i + 1])[0] if kept[i, j] else torch.zeros(2)
            torch.testing.assert_close(out[i, j], expected)


def test_gradients_flow_through_the_loop_to_the_chosen_experts_only():
    torch.manual_seed(5)
    experts = Experts(3, 2, 4, 1)
    x = torch.randn(10, 2)
    run_experts(experts, x, torch.zeros(10, 1, dtype=torch.long)).sum().backward()
    assert experts.w_in_EDH.grad[0].abs().sum() > 0 and (experts.w_in_EDH.grad[1:] == 0).all()


def test_combine_weighs_each_slot_output():
    weights = torch.tensor([[0.25, 0.75]])
    outputs = torch.tensor([[[4.0, 0.0], [0.0, 4.0]]])
    torch.testing.assert_close(combine(weights, outputs), torch.tensor([[1.0, 3.0]]))


def test_the_reference_kernels_are_plain_torch():
    scores = torch.randn(7, 5)
    torch.testing.assert_close(REFERENCE.top_k(scores, 2), scores.topk(2, dim=1).indices)
    torch.testing.assert_close(REFERENCE.softmax(scores), torch.softmax(scores, dim=1))
    assert REFERENCE.name == "reference"
