import pytest
import torch

from moe_core.experts import Experts, dispatch


def reference(experts: Experts, x, ids, kept):
    """The readable definition: every kept slot runs its expert on its own point."""
    n, k = ids.shape
    rows = []
    for i in range(n):
        for j in range(k):
            if kept[i, j]:
                rows.append(experts.forward_one(int(ids[i, j]), x[i : i + 1])[0])
            else:
                rows.append(torch.zeros(experts.b_out_EO.shape[1]))
    return torch.stack(rows).view(n, k, -1)


def random_case(seed, n=40, n_experts=6, k=2, dim=3, layers=2, activation="relu", collapsed=False, drop=0.0):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    experts = Experts(n_experts, dim, 5, 3, layers=layers, activation=activation)
    x = torch.randn(n, dim, generator=g)
    ids = torch.stack([torch.randperm(n_experts, generator=g)[:k] for _ in range(n)])
    if collapsed:
        ids[:, 0] = 0
    kept = torch.rand(n, k, generator=g) >= drop
    return experts, x, ids, kept


@pytest.mark.parametrize("activation", ["relu", "gelu", "tanh", "cubic", "linear"])
@pytest.mark.parametrize(("collapsed", "drop"), [(False, 0.0), (True, 0.0), (False, 0.3), (True, 0.5)])
def test_sparse_dispatch_matches_the_reference_outputs_and_gradients(activation, collapsed, drop):
    experts, x, ids, kept = random_case(0, activation=activation, collapsed=collapsed, drop=drop)
    x.requires_grad_(True)
    fast = dispatch(experts, x, ids, kept)
    (fast * torch.arange(3.0)).sum().backward()
    fast_grads = [p.grad.clone() for p in experts.parameters()] + [x.grad.clone()]
    experts.zero_grad()
    x.grad = None
    slow = reference(experts, x, ids, kept)
    (slow * torch.arange(3.0)).sum().backward()
    slow_grads = [p.grad for p in experts.parameters()] + [x.grad]
    torch.testing.assert_close(fast, slow)
    for a, b in zip(fast_grads, slow_grads, strict=True):
        torch.testing.assert_close(a, b)


def test_dense_path_matches_the_reference_for_any_expert_order():
    experts, x, _, _ = random_case(1, n_experts=4, k=4)
    ids = torch.stack([torch.randperm(4) for _ in range(len(x))])
    kept = torch.ones_like(ids, dtype=torch.bool)
    torch.testing.assert_close(dispatch(experts, x, ids, kept), reference(experts, x, ids, kept))


def test_forward_all_is_every_expert_on_every_point():
    experts, x, _, _ = random_case(2, n_experts=3, layers=1)
    out = experts.forward_all(x)
    for e in range(3):
        torch.testing.assert_close(out[:, e], experts.forward_one(e, x))


def test_nothing_kept_gives_zeros():
    experts, x, ids, _ = random_case(3)
    out = dispatch(experts, x, ids, torch.zeros_like(ids, dtype=torch.bool))
    assert out.shape == (40, 2, 3) and (out == 0).all()


def test_stacked_weights_have_the_documented_shapes():
    experts = Experts(5, 2, 16, 3, layers=3)
    assert experts.w_in_EDH.shape == (5, 2, 16)
    assert experts.w_hid_LEHH.shape == (2, 5, 16, 16)
    assert experts.w_out_EHO.shape == (5, 16, 3)
    assert experts.w_in_EDH.abs().max() <= 1 / 2**0.5  # nn.Linear's bound 1/sqrt(fan_in)
