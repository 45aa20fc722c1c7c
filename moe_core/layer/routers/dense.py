"""Dense gating: every expert runs on every point, weighted by the softmax gate.

Shapes: N points, E experts (every expert is a slot).
"""

from __future__ import annotations

import torch

from moe_core.layer.routers.base import Router, Routing


class Dense(Router):
    """Jacobs, Jordan, Nowlan, Hinton 1991: y = sum_i p_i f_i(x), p = softmax(h)."""

    def choose(self, logits_NE, scores_NE, noise_std_NE, batch_routing: bool) -> Routing:
        probs_NE = self.affinity(scores_NE)
        n, n_experts = probs_NE.shape
        ids_NE = torch.arange(n_experts, device=probs_NE.device).expand(n, n_experts)
        return self.routing(logits_NE, scores_NE, noise_std_NE, ids_NE, probs_NE, probs_NE=probs_NE)

    def load(self, routing: Routing) -> torch.Tensor:
        """Gate mass per expert: every expert serves every point, in proportion to its weight."""
        return self.per_seed(routing.weights_NK.detach()).sum(dim=1).view(-1)

    @property
    def slots(self) -> int:
        return self.cfg.n_experts
