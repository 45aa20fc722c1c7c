"""Expert choice: each expert takes its highest-probability points, so loads are equal by design.

Shapes: N points, E experts, C points per expert (the capacity).
"""

from __future__ import annotations

import math

import torch

from moe_core.layer.routers.base import Router, Routing


class ExpertChoice(Router):
    """Zhou et al. 2022: expert e takes its top c = ceil(N * cf / E) points by probability, cf
    defaulting to top_k (each point then gets top_k experts on average, their EC-CF2 against top-2).
    A point may get several experts, or none. A point routed alone falls back to its top-k."""

    def choose(self, logits_NE, scores_NE, noise_std_NE, batch_routing: bool) -> Routing:
        probs_NE = self.affinity(scores_NE)
        if not batch_routing:
            ids_NK = self.kernels.top_k(self.select(probs_NE), self.cfg.top_k)
            weights_NK = probs_NE.gather(1, ids_NK)
            return self.routing(logits_NE, scores_NE, noise_std_NE, ids_NK, weights_NK, probs_NE=probs_NE)
        n, n_experts = probs_NE.shape
        probs_SBE = self.per_seed(probs_NE)  # stacked seeds: each seed's experts choose among its own points
        chosen_SEC = probs_SBE.transpose(1, 2).topk(self.capacity(probs_SBE.shape[1]), dim=2).indices
        assigned_NE = torch.zeros_like(probs_SBE, dtype=torch.bool).scatter_(1, chosen_SEC.transpose(1, 2), True)
        assigned_NE = assigned_NE.view(n, n_experts)
        ids_NE = torch.arange(n_experts, device=probs_NE.device).expand(n, n_experts)
        return self.routing(
            logits_NE, scores_NE, noise_std_NE, ids_NE, probs_NE * assigned_NE, assigned_NE, assigned_NE, probs_NE
        )

    def capacity(self, n: int) -> int:
        factor = self.cfg.capacity_factor if self.cfg.capacity_factor is not None else float(self.cfg.top_k)
        return min(n, max(1, math.ceil(n * factor / self.cfg.n_experts)))

    @property
    def may_drop(self) -> bool:
        return True

    @property
    def slots(self) -> int:
        return self.cfg.n_experts
