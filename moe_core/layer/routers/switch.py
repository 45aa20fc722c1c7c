"""Switch routing: one expert per point, weighted by its raw probability, with a capacity per expert.

Shapes: N points, E experts.
"""

from __future__ import annotations

import torch

from moe_core.layer.routers.topk import TopK

# Fedus et al. 2021's training capacity factor, used when model.capacity_factor is null.
SWITCH_CAPACITY = 1.25


class Switch(TopK):
    """Fedus, Zoph, Shazeer 2021: top-1 of softmax(h), gate not renormalised; capacity
    ceil(N / E * capacity_factor); points over capacity are dropped (their output is 0)."""

    @property
    def sigmoid_scores(self) -> bool:
        return False  # a softmax whatever model.normalize says, which Switch does not read

    @property
    def constant_weights(self) -> bool:
        return False

    @property
    def weighs_by_chosen_logits(self) -> bool:
        return False

    def weigh(self, affinity_NE: torch.Tensor, ids_NK: torch.Tensor, normalise=None) -> torch.Tensor:
        return self.kernels.chosen(affinity_NE, ids_NK)

    @property
    def capacity_factor(self) -> float:
        return SWITCH_CAPACITY if self.cfg.capacity_factor is None else self.cfg.capacity_factor
