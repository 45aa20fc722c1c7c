"""The optimiser step, lean: torch's fused Adam kernel without `optimizer.step()`'s per-call overhead.

For a model of a few thousand weights, `optimizer.step()` and `zero_grad()` cost more than their
arithmetic: a profiler record and the hooks on every call, and per-parameter bookkeeping. `step` and
`clear_grads` update the same state with the same fused kernel (tests/test_fast_fused_adam.py checks them
bitwise against `optimizer.step()`).
"""

from __future__ import annotations

import torch
from torch.optim.adam import adam


def clear_grads(optimizer: torch.optim.Optimizer) -> None:
    """optimizer.zero_grad(set_to_none=True), without its profiler record."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            p.grad = None


@torch.no_grad()
def step(optimizer: torch.optim.Optimizer) -> None:
    """optimizer.step(). A fused Adam or AdamW whose state exists goes straight to torch's functional
    `adam` (the kernel and the state that Adam.step uses); anything else, and a first step, which
    creates the state, takes optimizer.step(). Optimizer step hooks are not called on the lean path."""
    groups = []
    for group in optimizer.param_groups:
        if not _lean(optimizer, group):
            optimizer.step()
            return
        params = [p for p in group["params"] if p.grad is not None]
        states = [optimizer.state.get(p) for p in params]
        if not all(states):
            optimizer.step()
            return
        groups.append((group, params, states))
    for group, params, states in groups:
        beta1, beta2 = group["betas"]
        adam(
            params,
            [p.grad for p in params],
            [s["exp_avg"] for s in states],
            [s["exp_avg_sq"] for s in states],
            [],
            [s["step"] for s in states],
            fused=True,
            decoupled_weight_decay=group["decoupled_weight_decay"],
            amsgrad=False,
            beta1=beta1,
            beta2=beta2,
            lr=group["lr"],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=False,
        )


def _lean(optimizer: torch.optim.Optimizer, group: dict) -> bool:
    # Older torch, whose Adam groups and functional adam have no decoupled_weight_decay: the full step.
    if not isinstance(optimizer, torch.optim.Adam) or not group["fused"] or "decoupled_weight_decay" not in group:
        return False
    return not (group["amsgrad"] or group["maximize"] or group["capturable"] or group["differentiable"])
