"""Token-choice top-k: each point's k highest-scoring experts, with an optional capacity per expert.

Shapes: N points, E experts, K = top_k slots per point, M = N * K slots.
"""

from __future__ import annotations

import torch

from moe_core.routers.base import Router, Routing, broadcast


class TopK(Router):
    """Shazeer et al. 2017; GShard (Lepikhin et al. 2020); Mixtral (Jiang et al. 2024).

    Weights by `normalize`: `softmax` keeps the chosen probabilities (Switch, DeepSeekMoE);
    `softmax_topk` renormalises them over the k chosen (GShard, Mixtral); `sigmoid` renormalises
    independent sigmoid scores (DeepSeek-V3).
    """

    picks_top_k_of_scores = True

    @property
    def sigmoid_scores(self) -> bool:
        return self.cfg.normalize == "sigmoid"

    def choose(self, logits_NE, scores_NE, noise_std_NE, batch_routing: bool) -> Routing:
        k = self.cfg.top_k
        probs_NE = None
        if self.weighs_by_chosen_logits:
            # softmax over the k chosen = softmax of their logits, which also pick (same order)
            ids_NK = self.kernels.top_k(scores_NE, k)
            weights_NK = (
                self._ones(ids_NK)
                if self.constant_weights
                else self.kernels.softmax(self.kernels.chosen(scores_NE, ids_NK))
            )
        else:
            affinity_NE = self.affinity(scores_NE)
            probs_NE = None if self.sigmoid_scores else affinity_NE
            ids_NK = self.kernels.top_k(self.select(affinity_NE), k)
            chosen_NK = self.kernels.chosen(affinity_NE, ids_NK)
            weights_NK = self._ones(ids_NK) if self.constant_weights else self.weigh(chosen_NK)
        kept_NK = None
        if batch_routing and self.capacity_factor is not None:
            kept_NK = self.capacity_mask(ids_NK, self.capacity_factor)
            weights_NK = weights_NK * kept_NK
        return self.routing(logits_NE, scores_NE, noise_std_NE, ids_NK, weights_NK, kept_NK, probs_NE=probs_NE)

    def weigh(self, chosen_NK: torch.Tensor) -> torch.Tensor:
        """Combine weights from the chosen experts' affinities."""
        if self.cfg.normalize == "softmax":
            return chosen_NK
        return chosen_NK / chosen_NK.sum(dim=1, keepdim=True)

    @property
    def weighs_by_chosen_logits(self) -> bool:
        """softmax_topk where balancing leaves selection alone: the logits pick and, softmaxed over the k
        chosen, weigh (the softmax renormalised over the chosen equals the softmax of their logits)."""
        return self.cfg.normalize == "softmax_topk" and not self.balance.moves_selection

    @property
    def constant_weights(self) -> bool:
        """Top-1 with the weight renormalised over the one choice is exactly 1: the task loss then
        gives the router no gradient and only a balance loss trains it."""
        return self.cfg.top_k == 1 and self.cfg.normalize != "softmax"

    @staticmethod
    def _ones(ids_NK: torch.Tensor) -> torch.Tensor:
        return broadcast(1.0, ids_NK)

    @property
    def capacity_factor(self) -> float | None:
        """None for no limit (dropless)."""
        return self.cfg.capacity_factor

    @property
    def may_drop(self) -> bool:
        return self.capacity_factor is not None
