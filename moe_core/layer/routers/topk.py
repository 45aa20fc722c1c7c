"""Token-choice top-k: each point's k highest-scoring experts, with an optional capacity per expert.

Shapes: N points, E experts, K = top_k slots per point, M = N * K slots.
"""

from __future__ import annotations

import torch

from moe_core.layer.routers.base import Router, Routing, broadcast


class TopK(Router):
    """Shazeer et al. 2017; GShard (Lepikhin et al. 2020); Mixtral (Jiang et al. 2024).

    Weights by `normalize`: `softmax` keeps the chosen probabilities (Switch, DeepSeekMoE);
    `softmax_topk` renormalises them over the k chosen (GShard, Mixtral); `sigmoid` renormalises
    independent sigmoid scores (DeepSeek-V3).
    """

    picks_top_k_of_scores = True
    has_capacity = True

    @property
    def sigmoid_scores(self) -> bool:
        return self.cfg.normalize == "sigmoid"

    def choose(self, logits_NE, scores_NE, noise_std_NE, batch_routing: bool) -> Routing:
        k = self.cfg.top_k
        probs_NE = None
        if self.weighs_by_chosen_logits:
            # Mixtral's gate, softmax(TopK(h)): the k highest scores pick, and a softmax over them
            # weighs; no softmax over every expert (11% of bench_core's geometric mean, docs/performance.md)
            ids_NK = self.kernels.top_k(scores_NE, k)
            weights_NK = self.weigh(scores_NE, ids_NK, self.kernels.softmax)
        else:
            affinity_NE = self.affinity(scores_NE)
            probs_NE = None if self.sigmoid_scores else affinity_NE
            ids_NK = self.kernels.top_k(self.select(affinity_NE), k)
            weights_NK = self.weigh(affinity_NE, ids_NK)
        weights_NK, kept_NK = self.keep_within_capacity(ids_NK, weights_NK, batch_routing)
        return self.routing(logits_NE, scores_NE, noise_std_NE, ids_NK, weights_NK, kept_NK, probs_NE=probs_NE)

    def weigh(self, affinity_NE: torch.Tensor, ids_NK: torch.Tensor, normalise=None) -> torch.Tensor:
        """Combine weights from the chosen experts' affinities: as they are (`softmax`), or renormalised
        over the k chosen (`normalise` given: the chosen scores through it); exactly 1, without gradient,
        where that leaves one choice (`constant_weights`)."""
        if self.constant_weights:
            return broadcast(1.0, ids_NK)
        chosen_NK = self.kernels.chosen(affinity_NE, ids_NK)
        if normalise is not None:
            return normalise(chosen_NK)
        if self.cfg.normalize == "softmax":
            return chosen_NK
        return chosen_NK / chosen_NK.sum(dim=1, keepdim=True)

    @property
    def weighs_by_chosen_logits(self) -> bool:
        """softmax_topk where balancing leaves selection alone: the scores pick (a softmax keeps their
        order) and, softmaxed over the k chosen, weigh (equal to the probabilities renormalised over them)."""
        return self.cfg.normalize == "softmax_topk" and not self.balance.moves_selection

    @property
    def constant_weights(self) -> bool:
        """Top-1 with the weight renormalised over the one choice is exactly 1: the task loss then
        gives the router no gradient and only a balance loss trains it."""
        return self.cfg.top_k == 1 and self.cfg.normalize != "softmax"
