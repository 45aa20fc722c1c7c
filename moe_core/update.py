"""One guarded update: the optimiser step on a model's losses, and what a run needs to take it back
when it diverges (a copy of the state before, a finiteness check without host synchronisation, and the
sentence that tells the user what to do).
"""

from __future__ import annotations

import torch

from moe_core import regularisation
from moe_core.kernels import Kernels


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


def diverged_message(step: int, lr: float) -> str:
    return (
        f"Training diverged at step {step}: the loss or the weights became NaN or infinite; lower the learning "
        f"rate (now {lr:g}) to train on from the last good weights, or reset."
    )


def finite_weights(model: torch.nn.Module) -> torch.Tensor:
    """Whether every weight is finite, as a 0-d bool tensor (no host synchronisation)."""
    return torch.stack([torch.isfinite(p).all() for p in model.parameters()]).all()


def copy_state(state):
    """A state dict with its tensors cloned: what copy.deepcopy gives, without its per-object
    bookkeeping (it runs on every step(n) call)."""
    if isinstance(state, torch.Tensor):
        return state.clone()
    if isinstance(state, dict):
        return {key: copy_state(value) for key, value in state.items()}
    if isinstance(state, list):
        return [copy_state(value) for value in state]
    return state
