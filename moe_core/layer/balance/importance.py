"""Shazeer et al. 2017's importance and load losses.

Shapes: N points, E experts, K slots per point.
"""

from __future__ import annotations

import torch

from moe_core.layer import losses
from moe_core.layer.balance.base import Balance


class Importance(Balance):
    """CV^2 of each expert's summed gate weight (importance); where noise was drawn for a token-choice
    top-k, plus CV^2 of the smooth load estimate sum_x P(x, i) (Shazeer et al. 2017, appendix A)."""

    def loss(self, router, routing) -> torch.Tensor:
        gates_NE = torch.zeros_like(routing.logits_NE).scatter_add(1, routing.topk_ids_NK, routing.weights_NK)
        loss = losses.importance_loss(router.per_seed(gates_NE))
        if routing.noise_std_NE is not None and router.picks_top_k_of_scores:
            by_seed = (router.per_seed(t) for t in (routing.logits_NE, routing.scores_NE, routing.noise_std_NE))
            loss = loss + losses.cv_squared(losses.smooth_load(*by_seed, router.cfg.top_k))
        return loss
