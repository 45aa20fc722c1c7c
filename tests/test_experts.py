import dataclasses

import pytest
import torch

from moe_core.errors import ConfigError
from moe_core.layer.build import Build
from moe_core.layer.experts import Experts, PatchExperts
from moe_core.layer.moe import make_experts
from moe_core.settings.table import ModelConfig


def test_stacked_weights_have_the_documented_shapes():
    experts = Experts(5, 2, 16, 3, layers=3)
    assert experts.w_in_EDH.shape == (5, 2, 16)
    assert experts.w_hid_LEHH.shape == (2, 5, 16, 16)
    assert experts.w_out_EHO.shape == (5, 16, 3)
    assert experts.w_in_EDH.abs().max() <= 1 / 2**0.5  # nn.Linear's bound 1/sqrt(fan_in)


def test_forward_all_is_every_expert_on_every_point():
    torch.manual_seed(2)
    experts = Experts(3, 3, 5, 3, layers=2)
    x = torch.randn(40, 3)
    out = experts.forward_all(x)
    for e in range(3):
        torch.testing.assert_close(out[:, e], experts.forward_one(e, x))


def test_forward_one_is_a_plain_mlp():
    torch.manual_seed(3)
    experts = Experts(2, 3, 4, 2, layers=1, activation="tanh")
    x = torch.randn(7, 3)
    expected = torch.tanh(x @ experts.w_in_EDH[1] + experts.b_in_EH[1]) @ experts.w_out_EHO[1] + experts.b_out_EO[1]
    torch.testing.assert_close(experts.forward_one(1, x), expected)


def test_row_width_counts_the_input_and_every_layer_output():
    assert Experts(4, 3, 16, 2, layers=3).row_width == 3 + 16 + 16 + 16 + 2


def test_patch_experts_share_their_filters_across_patches_and_sum_per_class():
    torch.manual_seed(4)
    experts = PatchExperts(3, 12, 4, 2, activation="cubic", patches=3)  # 3 patches of 4, 2 filters per class
    x = torch.randn(9, 12)
    w = experts.w_ELH[2]
    h = torch.stack([(x[:, 4 * p : 4 * p + 4] @ w) ** 3 for p in range(3)]).sum(dim=0)  # [N, 4 filters]
    torch.testing.assert_close(experts.forward_one(2, x), torch.stack([h[:, :2].sum(1), h[:, 2:].sum(1)], dim=1))
    shuffled = x.view(9, 3, 4)[:, [2, 0, 1]].reshape(9, 12)  # the patches' order does not matter
    torch.testing.assert_close(experts.forward_one(2, shuffled), experts.forward_one(2, x))
    out = experts.forward_all(x)
    for e in range(3):
        torch.testing.assert_close(out[:, e], experts.forward_one(e, x))
    assert [name for name, _ in experts.named_parameters()] == ["w_ELH"]  # no biases


def test_patch_experts_refuse_what_their_structure_cannot_hold():
    with pytest.raises(ConfigError, match="not a multiple"):
        PatchExperts(2, 10, 4, 2, patches=4)
    with pytest.raises(ConfigError, match="multiple of 2"):
        PatchExperts(2, 8, 5, 2, patches=4)


@pytest.mark.parametrize("kind", ["mlp", "patch"])
def test_the_initial_scale_multiplies_the_experts_default_start(kind):
    cfg = ModelConfig(expert_kind=kind)
    torch.manual_seed(0)
    plain = make_experts(cfg, 4, Build(8, 2, True, patches=4))
    torch.manual_seed(0)
    small = make_experts(dataclasses.replace(cfg, expert_init_scale=0.001), 4, Build(8, 2, True, patches=4))
    for a, b in zip(plain.parameters(), small.parameters(), strict=True):
        torch.testing.assert_close(b, 0.001 * a)
