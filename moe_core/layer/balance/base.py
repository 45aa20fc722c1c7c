"""The balance strategy interface, which is also the `none` strategy: no loss, no selection bias.

Shapes: N points, E experts.
"""

from __future__ import annotations

import torch


class Balance:
    """A strategy may add a loss, move the router's selection scores, or update state after a step."""

    moves_selection = False  # whether `selection` changes the scores (routers then pick by them)

    def loss(self, router, routing) -> torch.Tensor | None:
        """The unweighted balance loss of a batch's routing (`model.aux_loss_coef` weighs it), or None."""
        return None

    def selection(self, router, affinity_NE: torch.Tensor) -> torch.Tensor:
        """The scores the router's top-k picks by."""
        return affinity_NE

    def after_step(self, router, routing) -> None:
        """Called after each optimiser step; an update must run without gradient."""
