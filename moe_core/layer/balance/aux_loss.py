"""The Switch / GShard auxiliary balance loss."""

from __future__ import annotations

import torch

from moe_core.layer import losses
from moe_core.layer.balance.base import Balance


class AuxLoss(Balance):
    """Fedus et al. 2021, eq. 4: E * sum_i f_i P_i, f the share of routed slots, P the mean probability."""

    def loss(self, router, routing) -> torch.Tensor:
        load_SE = router.load(routing).view(router.stack, -1)
        return losses.switch_balance_loss(router.per_seed(routing.probs_NE), load_SE)
