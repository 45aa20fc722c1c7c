import pytest
import torch

from moe_core.layer.experts import Experts
from moe_core.layer.fast.grouped import dispatch_grouped, grouped_mm_support
from moe_core.layer.reference import run_experts


def test_grouped_mm_runs_here():
    # The CUDA path is tested on the CPU, where torch also has grouped_mm (nothing to wait for there).
    assert grouped_mm_support("cpu", torch.float32) == "sync_free"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_on_a_gpu_the_check_tells_whether_grouped_mm_waits_for_the_device_and_keeps_the_callers_mode():
    grouped_mm_support.cache_clear()
    torch.cuda.set_sync_debug_mode("warn")
    try:
        support = grouped_mm_support("cuda", torch.float32)
        assert torch.cuda.get_sync_debug_mode() == 1
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert support in ("sync_free", "syncs")
    x, w = torch.ones(6, 4, device="cuda"), torch.ones(2, 4, 4, device="cuda")
    ends = torch.tensor([2, 5], dtype=torch.int32, device="cuda")
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        torch._grouped_mm(x, w, offs=ends)
        waited = False
    except RuntimeError:
        waited = True
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert waited == (support == "syncs")


@pytest.mark.parametrize("activation", ["relu", "gelu", "tanh", "cubic", "linear"])
def test_slots_that_are_not_kept_come_out_zero_for_every_activation(activation):
    torch.manual_seed(2)
    experts = Experts(6, 3, 5, 3, layers=2, activation=activation)
    x = torch.randn(40, 3)
    ids = torch.stack([torch.randperm(6)[:2] for _ in range(40)])
    kept = torch.rand(40, 2) > 0.4
    out = dispatch_grouped(experts, x, ids, kept)
    assert (out[~kept] == 0).all()
    torch.testing.assert_close(out, run_experts(experts, x, ids, kept), rtol=1e-4, atol=1e-5)
