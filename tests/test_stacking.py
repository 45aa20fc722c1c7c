"""The stacking helpers: a stacked linear map is S separate ones, and a stacked state splits back
into each seed's own."""

import pytest
import torch

from moe_core.layer.build import Build
from moe_core.layer.stacking import StackedLinear, block_offsets, stack_axes, stack_axis, stack_states, unstack_state
from moe_core.models.points import build_model
from moe_core.settings.config import RunConfig


def test_a_stacked_linear_map_sends_each_block_of_points_through_its_own_map():
    torch.manual_seed(0)
    singles = [torch.nn.Linear(3, 5) for _ in range(4)]
    stacked = StackedLinear(3, 5, stack=4)
    with torch.no_grad():
        stacked.weight.copy_(torch.cat([m.weight for m in singles]))
        stacked.bias.copy_(torch.cat([m.bias for m in singles]))
    x = torch.randn(4 * 7, 3)
    expected = torch.cat([m(block) for m, block in zip(singles, x.split(7), strict=True)])
    torch.testing.assert_close(stacked(x), expected)
    one = StackedLinear(3, 5)
    torch.testing.assert_close(one(x), torch.nn.functional.linear(x, one.weight, one.bias))


def test_block_offsets_number_each_seeds_experts_after_the_previous_seeds():
    assert block_offsets(3, 6, 4, torch.device("cpu")).view(-1).tolist() == [0, 0, 4, 4, 8, 8]


@pytest.mark.parametrize("extra", [{}, {"model.expert_layers": 3, "model.gate_hidden": 4, "model.shared_experts": 1}])
def test_a_stacked_state_splits_back_into_each_seeds_own(extra):
    cfg = RunConfig().replace(**extra).model
    singles = []
    for seed in range(3):
        torch.manual_seed(seed)
        singles.append(build_model(cfg, Build(2, 2, True)).state_dict())
    stacked = build_model(cfg, Build(2, 2, True, stack=3))
    axes = stack_axes(singles[0], stacked.state_dict(), 3)
    stacked.load_state_dict(stack_states(singles, axes))
    for s, single in enumerate(singles):
        for key, value in unstack_state(stacked.state_dict(), axes, s, 3).items():
            assert torch.equal(value, single[key]), key


def test_a_tensor_that_does_not_stack_is_named():
    assert stack_axis(torch.Size([2, 4, 3]), torch.Size([2, 12, 3]), 3) == 1
    assert stack_axis(torch.Size([4, 3]), torch.Size([4, 3]), 1) == 0  # a stack of one
    with pytest.raises(ValueError, match="does not stack 3"):
        stack_axis(torch.Size([4, 3]), torch.Size([8, 3]), 3)
