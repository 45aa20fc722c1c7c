import torch

from moe_core.experts import Experts


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
