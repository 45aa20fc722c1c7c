"""Every dispatch path gives each slot's expert output and gradients exactly as the reference loop does."""

import pytest
import torch

from moe_core.layer.experts import Experts
from moe_core.layer.fast.dispatch import dispatch, dispatch_dense
from moe_core.layer.fast.grouped import dispatch_grouped
from moe_core.layer.fast.packed import dispatch_packed
from moe_core.layer.reference import run_experts

TOL = dict(rtol=1e-4, atol=1e-5)  # the fast paths sum in another order than the reference


def random_case(
    seed, n=40, n_experts=6, k=2, dim=3, hidden=5, n_out=3, layers=2, activation="relu", collapsed=False, drop=0.0
):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    experts = Experts(n_experts, dim, hidden, n_out, layers=layers, activation=activation)
    x = torch.randn(n, dim, generator=g)
    ids = torch.stack([torch.randperm(n_experts, generator=g)[:k] for _ in range(n)])
    if collapsed:
        ids[:, 0] = 0
    kept = torch.rand(n, k, generator=g) >= drop
    return experts, x, ids, kept


def outputs_and_grads(fn, experts, x, ids, kept):
    experts.zero_grad()
    x = x.clone().requires_grad_(True)
    out = fn(experts, x, ids, kept)
    (out * torch.linspace(-1, 1, out.shape[2], device=out.device)).sum().backward()
    grads = [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in experts.parameters()]
    return out.detach(), [*grads, x.grad.clone()]


SHAPES = [  # (dim, hidden, n_out, layers, n_experts, k): widths on and off multiples of 4, 1 to 16 experts
    (2, 16, 2, 1, 4, 1),
    (3, 5, 3, 2, 6, 2),
    (32, 16, 1, 1, 16, 2),
    (5, 7, 2, 3, 4, 1),
    (4, 8, 4, 1, 1, 1),
]


@pytest.mark.parametrize("path", [dispatch_packed, dispatch_grouped, dispatch_dense, dispatch])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("collapsed", "drop"), [(False, 0.0), (True, 0.0), (False, 0.3), (True, 0.5)])
def test_every_path_matches_the_reference_outputs_and_gradients(path, shape, collapsed, drop):
    dim, hidden, n_out, layers, n_experts, k = shape
    args = dict(dim=dim, hidden=hidden, n_out=n_out, layers=layers, n_experts=n_experts, k=k, drop=drop)
    case = random_case(1, collapsed=collapsed and n_experts > 1, **args)
    fast, fast_grads = outputs_and_grads(path, *case)
    slow, slow_grads = outputs_and_grads(run_experts, *case)
    torch.testing.assert_close(fast, slow, **TOL)
    for a, b in zip(fast_grads, slow_grads, strict=True):
        torch.testing.assert_close(a, b, **TOL)


def test_a_full_mask_and_no_mask_give_the_same_outputs():
    experts, x, ids, _ = random_case(2)
    every = torch.ones_like(ids, dtype=torch.bool)
    torch.testing.assert_close(dispatch(experts, x, ids, every), dispatch(experts, x, ids, None))


def test_every_expert_on_every_point_in_any_order():
    experts, x, _, _ = random_case(1, n_experts=4, k=4)
    ids = torch.stack([torch.randperm(4) for _ in range(len(x))])
    torch.testing.assert_close(dispatch(experts, x, ids), run_experts(experts, x, ids), **TOL)


def test_nothing_kept_gives_zeros():
    experts, x, ids, _ = random_case(3)
    none = torch.zeros_like(ids, dtype=torch.bool)
    for path in (dispatch_packed, dispatch_grouped, dispatch, run_experts):
        out = path(experts, x, ids, none)
        assert out.shape == (40, 2, 3) and (out == 0).all()


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@cuda
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("collapsed", "drop"), [(False, 0.0), (True, 0.0), (True, 0.5)])
def test_on_a_gpu_dispatch_matches_the_reference_without_a_host_synchronisation(shape, collapsed, drop):
    dim, hidden, n_out, layers, n_experts, k = shape
    args = dict(dim=dim, hidden=hidden, n_out=n_out, layers=layers, n_experts=n_experts, k=k, drop=drop)
    slow, slow_grads = outputs_and_grads(run_experts, *random_case(1, collapsed=collapsed and n_experts > 1, **args))
    experts, x, ids, kept = random_case(1, collapsed=collapsed and n_experts > 1, **args)
    gpu_case = (experts.cuda(), x.cuda(), ids.cuda(), kept.cuda())
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")  # any device-to-host wait raises
    try:
        fast, fast_grads = outputs_and_grads(dispatch, *gpu_case)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    torch.testing.assert_close(fast.cpu(), slow, **TOL)
    for a, b in zip(fast_grads, slow_grads, strict=True):
        torch.testing.assert_close(a.cpu(), b, **TOL)
