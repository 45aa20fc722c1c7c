"""DeepSeek-V3's auxiliary-loss-free balancing: a per-expert bias on the selection scores.

Shapes: E experts.
"""

from __future__ import annotations

import torch

from moe_core.layer.balance.base import Balance


class Bias(Balance):
    """Wang et al. 2024: the bias b moves which experts are selected, never their weights; after each
    step b_i += gamma * sign(mean load - load_i), so busy experts become less likely to be picked."""

    moves_selection = True

    def selection(self, router, affinity_NE: torch.Tensor) -> torch.Tensor:
        return (router.per_seed(affinity_NE) + router.bias_E.view(router.stack, 1, -1)).view_as(affinity_NE)

    @torch.no_grad()
    def after_step(self, router, routing) -> None:
        load_SE = router.load(routing).view(router.stack, -1)  # stacked seeds: each balances its own experts
        step_SE = torch.sign(load_SE.mean(dim=-1, keepdim=True) - load_SE)
        router.bias_E += router.cfg.bias_update_rate * step_SE.view(-1)
