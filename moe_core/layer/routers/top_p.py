"""Top-p routing: each point takes the fewest experts whose probabilities reach p, so harder points
(where the gate is unsure) get more experts and easy ones fewer.

Shapes: N points, E experts; every expert is a slot (K = E), sorted by probability, the ones taken
marked assigned and kept.
"""

from __future__ import annotations

from moe_core.layer.routers.base import Router, Routing


class TopP(Router):
    """Huang et al. 2024, Harder Tasks Need More Experts: Dynamic Routing in MoE Models: the experts
    in order of probability until their sum reaches top_p; weights by `normalize` (softmax keeps the
    probabilities, as the paper; softmax_topk renormalises them over the experts taken)."""

    def choose(self, logits_NE, scores_NE, noise_std_NE, batch_routing: bool) -> Routing:
        probs_NE = self.affinity(scores_NE)
        order_NE = self.select(probs_NE).argsort(dim=1, descending=True)
        sorted_NE = probs_NE.gather(1, order_NE)
        before_NE = sorted_NE.cumsum(dim=1) - sorted_NE  # the mass of the experts ahead of each
        taken_NE = before_NE < self.cfg.top_p  # the first always; then each while p is not yet reached
        weights_NE = sorted_NE * taken_NE
        if self.cfg.normalize != "softmax":
            weights_NE = weights_NE / weights_NE.sum(dim=1, keepdim=True)
        return self.routing(logits_NE, scores_NE, noise_std_NE, order_NE, weights_NE, taken_NE, taken_NE, probs_NE)

    @property
    def slots(self) -> int:
        return self.cfg.n_experts
