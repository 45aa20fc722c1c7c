"""How a point's chosen experts' outputs become one output, the MoE tutorial's combination mechanisms:
weighted (the router's weights, as every sparse MoE), attention-based (the point's query against the
experts' outputs as keys) and learned (a small network over the weighted outputs).

Shapes: N points, D input dim, K slots per point, O outputs, A the attention width, H the learned
network's hidden width. Stacked seeds: every layer is a `StackedLinear`, each seed's points through its own.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from moe_core.layer.kernels import Kernels
from moe_core.layer.stacking import StackedLinear

ATTENTION_WIDTH = 16
LEARNED_HIDDEN = 16


class Weighted(nn.Module):
    """y = sum_k w_k f_k(x): the router's weights (Shazeer et al. 2017 and every sparse MoE since)."""

    adds_correction = False  # whether the output has a term beyond the slots' shares

    def __init__(self, dim: int, n_out: int, slots: int, stack: int = 1) -> None:
        super().__init__()

    def mixing(self, x_ND, weights_NK, out_NKO, kept_NK) -> torch.Tensor:
        """Each slot's share of the output, [N, K]."""
        return weights_NK

    def forward(self, x_ND, weights_NK, out_NKO, kept_NK, kernels: Kernels) -> torch.Tensor:
        return kernels.combine(weights_NK, out_NKO)


class Attention(Weighted):
    """a_k = softmax_k(log w_k + q(x) . k(f_k(x)) / sqrt(A)), y = sum_k a_k f_k(x): the point's query
    attends over its experts' outputs as keys (scaled dot-product attention, Vaswani et al. 2017), the
    router's weight a prior on each (with zero scores this is the renormalised router weights)."""

    def __init__(self, dim: int, n_out: int, slots: int, stack: int = 1) -> None:
        super().__init__(dim, n_out, slots, stack)
        self.query = StackedLinear(dim, ATTENTION_WIDTH, stack)
        self.key = StackedLinear(n_out, ATTENTION_WIDTH, stack)

    def mixing(self, x_ND, weights_NK, out_NKO, kept_NK) -> torch.Tensor:
        n, k, o = out_NKO.shape
        q_NA = self.query(x_ND)
        keys_NKA = self.key(out_NKO.reshape(n * k, o)).view(n, k, -1)  # rows stay in seed blocks
        scores_NK = (keys_NKA @ q_NA.unsqueeze(2)).squeeze(2) / math.sqrt(ATTENTION_WIDTH)
        live_NK = kept_NK & (weights_NK > 0)
        logits_NK = torch.where(live_NK, torch.log(weights_NK.clamp_min(1e-12)) + scores_NK, -torch.inf)
        share_NK = torch.softmax(logits_NK, dim=1)
        return torch.where(live_NK.any(dim=1, keepdim=True), share_NK, 0.0)  # a point no expert took: nothing

    def forward(self, x_ND, weights_NK, out_NKO, kept_NK, kernels: Kernels) -> torch.Tensor:
        return kernels.combine(self.mixing(x_ND, weights_NK, out_NKO, kept_NK), out_NKO)


class Learned(Weighted):
    """y = sum_k w_k f_k(x) + g([w_1 f_1(x), ..., w_K f_K(x)]), g a one-hidden-layer ReLU network whose
    last layer starts at zero, so training starts from the weighted sum and learns what to add."""

    adds_correction = True

    def __init__(self, dim: int, n_out: int, slots: int, stack: int = 1) -> None:
        super().__init__(dim, n_out, slots, stack)
        self.hidden = StackedLinear(slots * n_out, LEARNED_HIDDEN, stack)
        self.out = StackedLinear(LEARNED_HIDDEN, n_out, stack)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x_ND, weights_NK, out_NKO, kept_NK, kernels: Kernels) -> torch.Tensor:
        weighted_NKO = out_NKO * weights_NK.unsqueeze(2)
        return weighted_NKO.sum(dim=1) + self.out(torch.relu(self.hidden(weighted_NKO.flatten(1))))
