"""Optimisers the product adds to torch's: normalised gradient descent, and a run's optimisers when
the router has its own (Chen et al. 2022 train experts by normalised GD and the router by SGD); and
`run_optimizer`, which builds a run's optimiser from its settings.

Shapes: E experts along a weight's expert axis.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from moe_core.layer.moe import MoE
from moe_core.settings.choices import OPTIMIZERS
from moe_core.settings.config import RunConfig


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


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """Adam, AdamW, SGD or normalised GD, fused where torch has the kernel: one call per step for all
    parameters. `params`: tensors, or param groups (dicts)."""
    params = list(params)
    tensors = [p for item in params for p in (item["params"] if isinstance(item, dict) else [item])]
    fused = all(p.device.type in ("cpu", "cuda") and p.dtype in (torch.float32, torch.float64) for p in tensors)
    return OPTIMIZERS[name].implementation()(params, lr=lr, weight_decay=weight_decay, fused=fused or None)


def run_optimizer(cfg: RunConfig, model: torch.nn.Module) -> torch.optim.Optimizer | Optimizers:
    """The run's optimiser; with `train.router_optimizer` or `train.router_lr`, one for the router and one
    for the rest (Chen et al. 2022: SGD at 0.1 for the router, normalised GD for the experts)."""
    t = cfg.train
    router = list(model.router.parameters()) if isinstance(model, MoE) else []
    if not router or (t.router_optimizer is None and t.router_lr is None):
        return make_optimizer(t.optimizer, _groups(t.optimizer, model, list(model.parameters())), t.lr, t.weight_decay)
    own = {id(p) for p in router}
    rest = [p for p in model.parameters() if id(p) not in own]
    name = t.router_optimizer or t.optimizer
    router_groups = [{**group, "router": True} for group in _groups(name, model, router)]
    parts = [make_optimizer(name, router_groups, group_lr({"router": True}, cfg), t.weight_decay)]
    if rest:
        parts.insert(0, make_optimizer(t.optimizer, _groups(t.optimizer, model, rest), t.lr, t.weight_decay))
    return Optimizers(parts)


def _groups(name: str, model: torch.nn.Module, params: list[torch.nn.Parameter]) -> list[dict]:
    """Param groups: the experts' own, with their expert axes, for an optimiser that steps expert by
    expert (normalised GD); one group otherwise."""
    experts = getattr(model, "experts", None)
    if not getattr(OPTIMIZERS[name].implementation(), "per_expert", False) or experts is None:
        return [{"params": params}]
    chosen = {id(p) for p in params}
    axes = [(p, axis) for p, axis in experts.param_axes() if id(p) in chosen]
    taken = {id(p) for p, _ in axes}
    groups = [{"params": [p for p, _ in axes], "expert_axes": [axis for _, axis in axes]}] if axes else []
    rest = [p for p in params if id(p) not in taken]
    return groups + ([{"params": rest}] if rest else [])


def group_lr(group: dict, cfg: RunConfig) -> float:
    t = cfg.train
    return t.router_lr if group.get("router") and t.router_lr is not None else t.lr
