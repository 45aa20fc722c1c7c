import pytest
import torch

from moe_core.experts import Experts, dispatch_loop
from moe_core.grouped import dispatch_grouped, grouped_mm_works


def test_grouped_mm_runs_here():
    # The CUDA path is tested on the CPU, where torch also has grouped_mm; a torch without it would
    # make dispatch fall back to the loop there.
    assert grouped_mm_works("cpu", torch.float32)


@pytest.mark.parametrize("activation", ["relu", "gelu", "tanh", "cubic", "linear"])
def test_slots_that_are_not_kept_come_out_zero_for_every_activation(activation):
    torch.manual_seed(2)
    experts = Experts(6, 3, 5, 3, layers=2, activation=activation)
    x = torch.randn(40, 3)
    ids = torch.stack([torch.randperm(6)[:2] for _ in range(40)])
    kept = torch.rand(40, 2) > 0.4
    out = dispatch_grouped(experts, x, ids, kept)
    assert (out[~kept] == 0).all()
    torch.testing.assert_close(out, dispatch_loop(experts, x, ids, kept), rtol=1e-4, atol=1e-5)
