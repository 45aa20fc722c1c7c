"""Hierarchical gating: a gate over groups of experts, then a gate over the experts within each group;
an expert's probability is the product of the two.

Shapes: N points, G groups, J experts per group, E = G * J experts (expert e is in group e // J).
"""

from __future__ import annotations

import torch

from moe_core.layer.build import Build
from moe_core.layer.routers.base import init_gate, make_gate
from moe_core.layer.routers.topk import TopK


class Hierarchical(TopK):
    """Jordan & Jacobs 1994, Hierarchical Mixtures of Experts and the EM Algorithm: p_e(x) = g_i(x)
    g_{j|i}(x), both softmaxes, for expert j of group i. The logits are log p, so everything a top-k
    router does (noise, k, weights, capacity, balancing) acts on the product; with k = E it is the
    paper's dense two-level tree."""

    def setup(self, build: Build) -> None:
        self.group_gate = make_gate(self.cfg, build.dim, self.stack, self.patches, self.cfg.n_groups)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        init_gate(self.group_gate)

    def levels(self, x_ND: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(log g [N, G], log g_{j|i} [N, G, J]): each level's log-probabilities."""
        log_group_NG = torch.log_softmax(self.group_gate(x_ND).float(), dim=1)
        within_NGJ = self.gate(x_ND).float().unflatten(1, (self.cfg.n_groups, -1))
        return log_group_NG, torch.log_softmax(within_NGJ, dim=2)

    def logits(self, x_ND: torch.Tensor) -> torch.Tensor:
        log_group_NG, log_within_NGJ = self.levels(x_ND)
        return (log_group_NG.unsqueeze(2) + log_within_NGJ).flatten(1)

    def group_of(self, expert_X: torch.Tensor) -> torch.Tensor:
        return expert_X // (self.cfg.n_experts // self.cfg.n_groups)
