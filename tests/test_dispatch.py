import pytest
import torch

from moe_core import model as model_module
from moe_core.config import ModelConfig
from moe_core.dispatch import dispatch
from moe_core.experts import Experts, dispatch_dense, dispatch_loop
from moe_core.grouped import dispatch_grouped
from moe_core.model import MoE
from moe_core.packed import dispatch_packed

TOL = dict(rtol=1e-4, atol=1e-5)  # the fast paths sum in another order than the reference


def reference(experts: Experts, x, ids, kept):
    """The plainest definition: every kept slot runs its expert on its own point."""
    n, k = ids.shape
    rows = []
    for i in range(n):
        for j in range(k):
            if kept is None or kept[i, j]:
                rows.append(experts.forward_one(int(ids[i, j]), x[i : i + 1])[0])
            else:
                rows.append(torch.zeros(experts.b_out_EO.shape[1]))
    return torch.stack(rows).view(n, k, -1)


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
    kept = (torch.rand(n, k, generator=g) >= drop) if drop else None
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


@pytest.mark.parametrize("path", [dispatch_packed, dispatch_grouped, dispatch_dense, dispatch_loop, dispatch])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("collapsed", "drop"), [(False, 0.0), (True, 0.0), (False, 0.3), (True, 0.5)])
def test_every_path_matches_the_reference_outputs_and_gradients(path, shape, collapsed, drop):
    dim, hidden, n_out, layers, n_experts, k = shape
    case = random_case(
        1,
        dim=dim,
        hidden=hidden,
        n_out=n_out,
        layers=layers,
        n_experts=n_experts,
        k=k,
        collapsed=collapsed and n_experts > 1,
        drop=drop,
    )
    fast, fast_grads = outputs_and_grads(path, *case)
    slow, slow_grads = outputs_and_grads(reference, *case)
    torch.testing.assert_close(fast, slow, **TOL)
    for a, b in zip(fast_grads, slow_grads, strict=True):
        torch.testing.assert_close(a, b, **TOL)


def test_dense_path_matches_the_reference_for_any_expert_order():
    experts, x, _, _ = random_case(1, n_experts=4, k=4)
    ids = torch.stack([torch.randperm(4) for _ in range(len(x))])
    torch.testing.assert_close(dispatch(experts, x, ids), reference(experts, x, ids, None), **TOL)


def test_nothing_kept_gives_zeros():
    experts, x, ids, _ = random_case(3)
    none = torch.zeros_like(ids, dtype=torch.bool)
    for path in (dispatch_grouped, dispatch_loop):
        out = path(experts, x, ids, none)
        assert out.shape == (40, 2, 3) and (out == 0).all()


ROUTERS = [
    {"router": "topk", "top_k": 2, "normalize": "softmax_topk"},
    {"router": "topk", "normalize": "sigmoid", "balance": "bias"},
    {"router": "noisy_topk", "gate_noise": 1.0, "top_k": 2, "balance": "importance"},
    {"router": "switch", "capacity_factor": 0.5},
    {"router": "expert_choice", "capacity_factor": 1.5},
    {"router": "dense", "objective": "mixture"},
    {"router": "hash", "top_k": 2},
    {"router": "topk", "top_k": 2, "capacity_factor": 0.75, "shared_experts": 1, "expert_layers": 2},
]


@pytest.mark.parametrize("path", [dispatch, dispatch_packed, dispatch_grouped, dispatch_dense])
@pytest.mark.parametrize("routing", ["balanced", "collapsed"])
@pytest.mark.parametrize("changes", ROUTERS)
def test_the_model_trains_the_same_on_every_fast_path_as_on_the_loop(changes, routing, path, monkeypatch):
    cfg = ModelConfig(n_experts=8, expert_hidden=6, **changes)
    x = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 2, (64,), generator=torch.Generator().manual_seed(1))

    def run(dispatcher):
        monkeypatch.setattr(model_module, "dispatch", dispatcher)
        torch.manual_seed(0)
        model = MoE(cfg, 3, 2, True, x_ref_ND=x)
        if routing == "collapsed":
            with torch.no_grad():  # every point's logits favour expert 0
                model.router.gate.bias.copy_(torch.tensor([8.0] + [0.0] * 7))
        model.router.generator = torch.Generator().manual_seed(2)
        out = model(x)
        loss = torch.nn.functional.cross_entropy(out.output_NO, y)
        if out.routing.balance_loss is not None:
            loss = loss + 0.1 * out.routing.balance_loss
        loss.backward()
        return out.output_NO.detach(), {name: p.grad for name, p in model.named_parameters() if p.grad is not None}

    fast_out, fast_grads = run(path)
    slow_out, slow_grads = run(dispatch_loop)
    torch.testing.assert_close(fast_out, slow_out, **TOL)
    assert fast_grads.keys() == slow_grads.keys()
    for name in fast_grads:
        torch.testing.assert_close(fast_grads[name], slow_grads[name], **TOL)


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _to_cuda(case):
    experts, x, ids, kept = case
    return experts.cuda(), x.cuda(), ids.cuda(), None if kept is None else kept.cuda()


@cuda
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("collapsed", "drop"), [(False, 0.0), (True, 0.0), (True, 0.5)])
def test_on_a_gpu_dispatch_matches_the_reference_without_a_host_synchronisation(shape, collapsed, drop):
    dim, hidden, n_out, layers, n_experts, k = shape
    args = dict(dim=dim, hidden=hidden, n_out=n_out, layers=layers, n_experts=n_experts, k=k, drop=drop)
    slow, slow_grads = outputs_and_grads(reference, *random_case(1, collapsed=collapsed and n_experts > 1, **args))
    gpu_case = _to_cuda(random_case(1, collapsed=collapsed and n_experts > 1, **args))
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")  # any device-to-host wait raises
    try:
        fast, fast_grads = outputs_and_grads(dispatch, *gpu_case)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    torch.testing.assert_close(fast.cpu(), slow, **TOL)
    for a, b in zip(fast_grads, slow_grads, strict=True):
        torch.testing.assert_close(a.cpu(), b, **TOL)
