"""A diverged run and its way back: whether the weights are still finite (without a host
synchronisation), copies of the state to go back to, and the sentence that tells the user what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch


def diverged_message(step: int, lr: float, back_to: int | None = None) -> str:
    """The sentence for a run whose loss or weights stopped being finite at `step`; `back_to`, the step
    whose weights it went back to, where that is not the step before."""
    good = "the last good weights" if back_to is None else f"the last good weights (step {back_to})"
    return (
        f"Training diverged at step {step}: the loss or the weights became NaN or infinite; lower the learning "
        f"rate (now {lr:g}) to train on from {good}, or reset."
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


# A diverged run goes back to a state at least this many steps old: the weights one step before a
# blow-up often overflow already (measured on a cubic expert trained by SGD at lr 1, one step at a time:
# from one and two steps back a lower rate diverges again at once, from three it trains on).
ROLLBACK_STEPS = 10


class Checkpoints:
    """The states a run goes back to when it diverges: the newest one kept, at most ROLLBACK_STEPS old,
    and the one before it, which a divergence restores (so ROLLBACK_STEPS to twice that far back)."""

    def __init__(self) -> None:
        self._kept: list[tuple[int, Any]] = []

    def offer(self, step: int, state: Callable[[], Any]) -> None:
        """Keep `state()` of this step, once the newest kept is ROLLBACK_STEPS old."""
        if not self._kept or step - self._kept[-1][0] >= ROLLBACK_STEPS:
            self._kept = [*self._kept[-1:], (step, state())]

    def oldest(self) -> tuple[int, Any]:
        """(step, state) to go back to; the newer one is forgotten, as the steps after it are."""
        self._kept = self._kept[:1]
        return self._kept[0]

    def clear(self) -> None:
        self._kept = []
