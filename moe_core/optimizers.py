"""Optimisers the product adds to torch's: normalised gradient descent, and a run's optimisers when
the router has its own (Chen et al. 2022 train experts by normalised GD and the router by SGD).

Shapes: E experts along a weight's expert axis.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


class NormalizedGD(torch.optim.Optimizer):
    """Chen, Deng, Wu, Gu, Li 2022 (their NormalizedGD): p -= lr * g / sum of the gradient norms.

    A group with `expert_axes` (one axis per parameter) is normalised expert by expert: expert e's step
    is divided by the sum over its weights of the norm of their slice e (so every expert moves by lr
    whatever its load). A group without them is normalised as a whole."""

    per_expert = True  # the trainer gives the experts' weights a group of their own, with their axes

    def __init__(self, params: Iterable, lr: float = 1e-3, weight_decay: float = 0.0, fused: bool | None = None):
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay, "expert_axes": None})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            axes = group["expert_axes"]
            grads = [p.grad + group["weight_decay"] * p if group["weight_decay"] else p.grad for p in params]
            if axes is None:
                total = sum(g.norm() for g in grads).clamp_min(1e-12)
                for p, g in zip(params, grads, strict=True):
                    p.sub_(group["lr"] * g / total)
                continue
            axis_of = {id(p): axis for p, axis in zip(group["params"], axes, strict=True)}
            norms_E = sum(_norms(g, axis_of[id(p)]) for p, g in zip(params, grads, strict=True)).clamp_min(1e-12)
            for p, g in zip(params, grads, strict=True):
                axis = axis_of[id(p)]
                shape = [1] * g.dim()
                shape[axis] = -1
                p.sub_(group["lr"] * g / norms_E.view(shape))
        return None


def _norms(g: torch.Tensor, axis: int) -> torch.Tensor:
    """The norm of each slice of g along `axis`, [E]."""
    return g.movedim(axis, 0).flatten(1).norm(dim=1)


class Optimizers:
    """Several optimisers stepped as one (experts' and router's): what the trainer and the fast step
    call on an optimiser, over all of them."""

    def __init__(self, parts: list[torch.optim.Optimizer]) -> None:
        self.parts = parts

    @property
    def param_groups(self) -> list[dict]:
        return [group for part in self.parts for group in part.param_groups]

    def step(self) -> None:
        for part in self.parts:
            part.step()

    def zero_grad(self, set_to_none: bool = True) -> None:
        for part in self.parts:
            part.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict:
        return {"parts": [part.state_dict() for part in self.parts]}

    def load_state_dict(self, state: dict) -> None:
        for part, own in zip(self.parts, state["parts"], strict=True):
            part.load_state_dict(own)
