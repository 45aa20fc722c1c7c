import math

import pytest
import torch

from moe_core.layer import losses
from moe_core.layer.fast.softmax import log_softmax_rows


@pytest.mark.parametrize("n_experts", [1, 2, 4, 16, 64])
def test_switch_loss_is_one_at_perfect_balance_and_e_when_collapsed(n_experts):
    n = 64 * n_experts
    uniform = torch.full((n, n_experts), 1 / n_experts)
    even_load = torch.full((n_experts,), float(n // n_experts))
    assert losses.switch_balance_loss(uniform, even_load).item() == pytest.approx(1.0)
    collapsed = torch.zeros(n, n_experts)
    collapsed[:, 0] = 1
    one_load = torch.zeros(n_experts)
    one_load[0] = n
    assert losses.switch_balance_loss(collapsed, one_load).item() == pytest.approx(n_experts)


def test_switch_loss_is_one_at_balance_for_any_k():
    # Counting all N*k slots keeps 1 at balance (the fix Hugging Face's Mixtral loss needed).
    probs = torch.full((12, 4), 0.25)
    for k in (1, 2, 3):
        assert losses.switch_balance_loss(probs, torch.full((4,), 12.0 * k / 4)).item() == pytest.approx(1.0)


def test_switch_loss_gradient_flows_only_through_the_probabilities():
    logits = torch.randn(32, 4, requires_grad=True)
    load = torch.tensor([20.0, 4.0, 4.0, 4.0], requires_grad=True)
    losses.switch_balance_loss(torch.softmax(logits, 1), load).backward()
    assert logits.grad is not None and load.grad is None


def test_cv_squared_known_values():
    assert losses.cv_squared(torch.tensor([3.0, 3.0, 3.0])).item() == pytest.approx(0.0)
    # All on one of E: population variance gives exactly E - 1.
    assert losses.cv_squared(torch.tensor([8.0, 0.0, 0.0, 0.0])).item() == pytest.approx(3.0)
    assert losses.importance_loss(torch.tensor([[1.0, 0.0], [1.0, 0.0]])).item() == pytest.approx(1.0)


def test_z_loss_is_the_mean_squared_logsumexp():
    logits = torch.zeros(5, 4)
    assert losses.z_loss(logits).item() == pytest.approx(math.log(4) ** 2)
    assert losses.z_loss(torch.full((3, 2), -100.0)).item() == pytest.approx((math.log(2) - 100) ** 2, rel=1e-5)


def test_smooth_load_counts_k_experts_per_point_when_noise_is_tiny():
    torch.manual_seed(0)
    logits = torch.randn(200, 6) * 3
    std = torch.full_like(logits, 1e-4)
    load = losses.smooth_load(logits, logits, std, k=2)
    hard = torch.bincount(logits.topk(2, dim=1).indices.flatten(), minlength=6).float()
    torch.testing.assert_close(load, hard, atol=0.5, rtol=0)


def test_smooth_load_is_half_at_a_tie_and_differentiable():
    logits = torch.zeros(1, 3, requires_grad=True)
    load = losses.smooth_load(logits, torch.zeros(1, 3), torch.ones(1, 3), k=1)
    torch.testing.assert_close(load, torch.full((3,), 0.5))
    load.sum().backward()
    assert logits.grad is not None


def test_mixture_nll_of_one_expert_is_its_own_loss():
    out = torch.tensor([[[2.0, -1.0]], [[0.0, 3.0]]])
    y = torch.tensor([0, 0])
    nll = losses.mixture_nll(out, torch.ones(2, 1), y, classification=True)
    torch.testing.assert_close(nll, losses.task_loss(out[:, 0], y, classification=True))


def test_mixture_nll_prefers_a_gate_on_the_right_expert():
    # Expert 0 predicts y, expert 1 does not: more gate on expert 0 lowers the loss.
    out = torch.tensor([[[1.0], [5.0]]])
    y = torch.tensor([1.0])
    good = losses.mixture_nll(out, torch.tensor([[0.9, 0.1]]), y, classification=False)
    bad = losses.mixture_nll(out, torch.tensor([[0.1, 0.9]]), y, classification=False)
    assert good < bad
    assert good.item() == pytest.approx(-math.log(0.9 + 0.1 * math.exp(-8)))


def test_mixture_nll_scores_a_dropped_point_as_the_zero_output():
    out = torch.randn(2, 1, 3)
    nll = losses.mixture_nll(out, torch.zeros(2, 1), torch.tensor([0, 2]), classification=True)
    torch.testing.assert_close(nll, torch.full((2,), math.log(3)))


def test_task_loss_takes_the_kernels_log_softmax_for_classes_only():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2048, 3, generator=g)  # enough entries for the fast kernel's column path
    y = torch.randint(0, 3, (2048,), generator=g)
    default = losses.task_loss(logits, y, classification=True)
    torch.testing.assert_close(losses.task_loss(logits, y, True, log_softmax=log_softmax_rows), default)
    # The argument is what runs: uniform log-probabilities give log 3 for every point.
    uniform = losses.task_loss(logits, y, True, "mean", log_softmax=lambda o: torch.full_like(o, -math.log(3)))
    assert uniform.item() == pytest.approx(math.log(3))
    # A regression has no softmax to take.
    values, targets = torch.tensor([[1.0], [3.0]]), torch.tensor([0.0, 1.0])
    assert losses.task_loss(values, targets, False, "mean", log_softmax=lambda o: o / 0).item() == pytest.approx(2.5)


def test_router_entropy_is_the_mean_entropy_per_seed_summed_over_seeds():
    certain = torch.tensor([[1.0, 0.0, 0.0, 0.0]]).expand(5, 4)
    uniform = torch.full((5, 4), 0.25)
    assert float(losses.router_entropy(certain.unsqueeze(0))) == pytest.approx(0.0, abs=1e-6)
    assert float(losses.router_entropy(uniform.unsqueeze(0))) == pytest.approx(math.log(4))
    both = torch.stack([certain, uniform])  # two stacked seeds: each its own mean, added
    assert float(losses.router_entropy(both)) == pytest.approx(math.log(4))


def test_balance_losses_of_stacked_seeds_are_each_seeds_own_loss_added():
    # Stacked seeds train as if alone: each seed's balance term at full weight, so a sum over seeds,
    # never their mean (which would weaken balancing by the number of seeds stacked).
    g = torch.Generator().manual_seed(0)
    logits_SNE = torch.randn(3, 32, 4, generator=g) * torch.tensor([0.5, 2.0, 4.0]).view(3, 1, 1)
    probs_SNE = logits_SNE.softmax(dim=-1)
    load_SE = torch.stack([torch.bincount(p.argmax(dim=-1), minlength=4).float() for p in probs_SNE])
    stacked_and_alone = [
        (losses.switch_balance_loss(probs_SNE, load_SE),
         [losses.switch_balance_loss(p, f) for p, f in zip(probs_SNE, load_SE, strict=True)]),
        (losses.importance_loss(probs_SNE), [losses.importance_loss(p) for p in probs_SNE]),
        (losses.cv_squared(load_SE), [losses.cv_squared(f) for f in load_SE]),
        (losses.z_loss(logits_SNE), [losses.z_loss(h) for h in logits_SNE]),
    ]  # fmt: skip
    for stacked, alone in stacked_and_alone:
        assert len({round(float(v), 4) for v in alone}) == 3  # the seeds differ, so a mean would not match
        assert float(stacked) == pytest.approx(float(sum(alone)), rel=1e-5)
