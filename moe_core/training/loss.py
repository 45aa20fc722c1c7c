"""The loss one training step minimises, assembled in one place: the task loss (or the mixture
likelihood) plus the router's losses (balance, z-loss, entropy) plus the experts' regularisation; then
the optimiser step on it and the router's own update outside the gradient (DeepSeek-V3's bias)."""

from __future__ import annotations

import torch

from moe_core.layer.kernels import Kernels
from moe_core.training import regularisation


def optimise(model: torch.nn.Module, optimizer: torch.optim.Optimizer, kernels: Kernels, out, task: torch.Tensor,
             x_ND: torch.Tensor):  # fmt: skip
    """One optimiser step on the task loss plus the router's losses and the experts' regularisation,
    then the router's own update (DeepSeek-V3's bias), for a model's output `out` on the batch `x_ND`."""
    loss = task
    if out.routing is not None:
        for extra in (model.router.loss(out.routing).total, regularisation.penalty(model, x_ND)):
            if extra is not None:
                loss = loss + extra
    kernels.zero_grad(optimizer)
    loss.backward()
    kernels.optimizer_step(optimizer)
    if out.routing is not None:
        model.router.after_step(out.routing)
