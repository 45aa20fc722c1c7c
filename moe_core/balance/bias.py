"""DeepSeek-V3's auxiliary-loss-free balancing: a per-expert bias on the selection scores.

Shapes: E experts.
"""

from __future__ import annotations

import torch

from moe_core.balance.base import Balance


class Bias(Balance):
    """Wang et al. 2024: the bias b moves which experts are selected, never their weights; after each
    step b_i += gamma * sign(mean load - load_i), so busy experts become less likely to be picked."""

    moves_selection = True

    def selection(self, router, affinity_NE: torch.Tensor) -> torch.Tensor:
        return affinity_NE + router.bias_E

    @torch.no_grad()
    def after_step(self, router, routing) -> None:
        load_E = router.load(routing)
        router.bias_E += router.cfg.bias_update_rate * torch.sign(load_E.mean() - load_E)
