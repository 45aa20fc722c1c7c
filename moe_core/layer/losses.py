"""Balance and router losses, and the task losses, as pure functions of tensors.

Shapes: N points, E experts, K slots per point, O outputs, C classes; S seeds where the balance losses
take a leading seed axis (stacked seeds, `moe_core.layer.stacking`), which they sum over.
Each returns the unweighted value; the trainer multiplies by the configured coefficient.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F


def cv_squared(x_E: torch.Tensor) -> torch.Tensor:
    """Squared coefficient of variation, population variance over squared mean (T2T `CVSquared`),
    over the last axis (summed over any leading seed axis)."""
    mean = x_E.float().mean(dim=-1, keepdim=True)
    return (((x_E.float() - mean) ** 2).mean(dim=-1, keepdim=True) / (mean**2 + 1e-10)).sum()


def switch_balance_loss(probs_NE: torch.Tensor, load_E: torch.Tensor) -> torch.Tensor:
    """Switch / GShard balance loss E * sum_i f_i P_i (Fedus et al. 2021, eq. 4).

    f_i is expert i's share of routed slots (no gradient), P_i its mean router probability.
    Dividing counts by all slots (N * k) keeps the value at 1 for perfect balance for any k,
    and E when every point and all probability go to one expert.
    """
    n_experts = probs_NE.shape[-1]
    share_E = (load_E / load_E.sum(dim=-1, keepdim=True).clamp_min(1e-9)).detach()
    return n_experts * (share_E * probs_NE.float().mean(dim=-2)).sum()


def importance_loss(weights_NE: torch.Tensor) -> torch.Tensor:
    """Shazeer et al. 2017 importance loss CV(sum_x G(x))^2 over the combine weights G."""
    return cv_squared(weights_NE.sum(dim=-2))


def smooth_load(logits_NE: torch.Tensor, noisy_NE: torch.Tensor, noise_std_NE: torch.Tensor, k: int) -> torch.Tensor:
    """Shazeer et al. 2017 smooth load estimate Load_i = sum_x P(x, i), [E].

    P(x, i) = Phi((h_i - kth_excluding(H, k, i)) / std): the chance that expert i stays in the top k
    if only its own noise were drawn again. The threshold is the (k+1)-th noisy value for experts
    in the top k and the k-th for the rest (T2T `_prob_in_top_k`).
    """
    n_experts = logits_NE.shape[-1]
    if k >= n_experts:
        shape = (*logits_NE.shape[:-2], n_experts)
        return torch.full(shape, float(logits_NE.shape[-2]), device=logits_NE.device)
    top_NK1 = noisy_NE.topk(k + 1, dim=-1).values
    kth_N1, next_N1 = top_NK1[..., k - 1 : k], top_NK1[..., k : k + 1]
    in_top_NE = noisy_NE >= kth_N1
    threshold_NE = torch.where(in_top_NE, next_N1, kth_N1)
    z_NE = (logits_NE - threshold_NE) / noise_std_NE
    return (0.5 * (1 + torch.erf(z_NE / math.sqrt(2)))).sum(dim=-2)


def z_loss(logits_NE: torch.Tensor) -> torch.Tensor:
    """ST-MoE router z-loss mean_x (logsumexp_j h_j(x))^2 (Zoph et al. 2022, eq. 5); bounds logits."""
    return torch.logsumexp(logits_NE.float(), dim=-1).pow(2).mean(dim=-1).sum()


def router_entropy(probs_SBE: torch.Tensor) -> torch.Tensor:
    """Huang et al. 2024's dynamic loss: the mean entropy -sum_e p_e log p_e of the router's
    probabilities over a seed's points, summed over stacked seeds ([S, B, E] in)."""
    p = probs_SBE.float().clamp_min(1e-12)
    return -(p * p.log()).sum(dim=-1).mean(dim=-1).sum()


def task_loss(
    output_NO: torch.Tensor,
    y_N: torch.Tensor,
    classification: bool,
    reduction: str = "none",
    log_softmax: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Cross-entropy on logits for a classification, squared error for a regression; per point ([N])
    with reduction "none", their mean with "mean". `log_softmax` over rows defaults to torch's."""
    if classification:
        log_probs_NO = torch.log_softmax(output_NO, dim=1) if log_softmax is None else log_softmax(output_NO)
        return F.nll_loss(log_probs_NO, y_N, reduction=reduction)
    return F.mse_loss(output_NO[:, 0], y_N, reduction=reduction)


def mixture_nll(
    slot_out_NKO: torch.Tensor, weights_NK: torch.Tensor, y_N: torch.Tensor, classification: bool
) -> torch.Tensor:
    """Jacobs et al. 1991 mixture likelihood per point, [N]: -log sum_i p_i P_i(y | x).

    Each expert is a full model of y (a softmax over classes, or a unit-variance Gaussian); its
    gradient is weighted by its posterior responsibility, so experts compete and specialise.
    """
    log_w_NK = torch.log(weights_NK.clamp_min(1e-12))
    if classification:
        index = y_N.view(-1, 1, 1).expand(-1, slot_out_NKO.shape[1], 1)
        log_lik_NK = torch.log_softmax(slot_out_NKO, dim=2).gather(2, index).squeeze(2)
    else:
        log_lik_NK = -0.5 * (slot_out_NKO[:, :, 0] - y_N[:, None]) ** 2
    has_weight_NK = weights_NK > 0
    joint_NK = torch.where(has_weight_NK, log_w_NK + log_lik_NK, torch.full_like(log_lik_NK, -1e9))
    # A point no expert took (dropped by capacity) is scored as the zero output it receives.
    if classification:
        unrouted_N = torch.full_like(y_N, math.log(slot_out_NKO.shape[2]), dtype=slot_out_NKO.dtype)
    else:
        unrouted_N = 0.5 * y_N**2
    return torch.where(has_weight_NK.any(dim=1), -torch.logsumexp(joint_NK, dim=1), unrouted_N)
