"""Hash routing: a fixed partition of the input space, no learned router; the baseline for the others.

Shapes: N points, D input dim, E experts, K = top_k slots per point.
"""

from __future__ import annotations

import torch

from moe_core.layer.build import Build
from moe_core.layer.routers.base import Router, Routing


class Hash(Router):
    """Roller et al. 2021's fixed hashing, for points instead of tokens: each point goes to the
    experts of its k nearest frozen random centroids, with equal weights 1/k; an optional capacity per
    expert drops slots as for top-k."""

    learned = False
    has_capacity = True

    def setup(self, build: Build) -> None:
        centroids_ED = hash_centroids(build.x_ref_ND, self.cfg.n_experts, build.dim, build.seed)
        self.register_buffer("centroids_ED", centroids_ED.repeat(self.stack, 1))  # a stack's are loaded later

    def logits(self, x_ND: torch.Tensor) -> torch.Tensor:
        if self.stack == 1:
            return -torch.cdist(x_ND.float(), self.centroids_ED).pow(2)
        centroids_SED = self.centroids_ED.view(self.stack, -1, x_ND.shape[1])  # stacked: each seed's own
        return -torch.cdist(self.per_seed(x_ND.float()), centroids_SED).pow(2).view(x_ND.shape[0], -1)

    def add_noise(self, x_ND: torch.Tensor, logits_NE: torch.Tensor) -> tuple[torch.Tensor, None]:
        return logits_NE, None  # a fixed partition takes no noise

    def choose(self, logits_NE, scores_NE, noise_std_NE, batch_routing: bool) -> Routing:
        probs_NE = self.affinity(scores_NE)
        ids_NK = self.kernels.top_k(self.select(probs_NE), self.cfg.top_k)
        weights_NK = torch.full(ids_NK.shape, 1.0 / self.cfg.top_k, device=ids_NK.device)
        weights_NK, kept_NK = self.keep_within_capacity(ids_NK, weights_NK, batch_routing)
        return self.routing(logits_NE, scores_NE, noise_std_NE, ids_NK, weights_NK, kept_NK, probs_NE=probs_NE)


def hash_centroids(x_ref_ND: torch.Tensor | None, n_experts: int, dim: int, seed: int) -> torch.Tensor:
    """E frozen centroids: random training points (with repeats when there are fewer points than
    experts), or standard normal draws without points."""
    generator = torch.Generator().manual_seed(seed + 104729)
    if x_ref_ND is None or len(x_ref_ND) == 0:
        return torch.randn(n_experts, dim, generator=generator)
    if len(x_ref_ND) >= n_experts:
        rows = torch.randperm(len(x_ref_ND), generator=generator)[:n_experts]
    else:
        rows = torch.randint(len(x_ref_ND), (n_experts,), generator=generator)
    return x_ref_ND[rows].float().clone()
