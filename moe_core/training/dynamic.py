"""Dynamic experts, the MoE tutorial's experts created and removed as the task evolves: split an overloaded
expert into two (a copy with a little noise) and remove a dead one, by hand or by a rule that looks at
the load every `train.grow_every` steps (`train.split_above`, `train.remove_below`, `train.max_experts`).

The copy has the expert's weights (plus a little noise) and gate row, and both gate logits drop by
log 2: the pair shares the expert's probability and every other expert keeps its own, so where both
halves are among a point's experts (dense gating, a large enough k) the output is the same up to the
noise; where only one is, its weight halves until training sets them apart. The optimiser's state
follows the weights (the copy starts with the expert's Adam moments). A removal renumbers the experts
after the removed one.

Shapes: E experts; every weight with an expert axis is resized along it, with an index of E' entries.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from moe_core.training.optimizers import Optimizers, run_optimizer

SPLIT_NOISE = 0.01  # the copy's noise, relative to the spread of the expert's own weights


def split(trainer, e: int) -> str:
    """Split expert e into e and a new last expert; returns what happened, as the event says it."""
    n = trainer.cfg.model.n_experts
    index = torch.cat([torch.arange(n), torch.tensor([e])])
    _resize(trainer, index, copy_of=e)
    return f"split E{e} into E{e} and E{n}"


def remove(trainer, e: int) -> str:
    """Remove expert e; the experts after it move down one number."""
    n = trainer.cfg.model.n_experts
    if n - 1 < max(1, trainer.cfg.model.top_k):
        raise ValueError(f"removing an expert would leave fewer than top_k = {trainer.cfg.model.top_k}")
    _resize(trainer, torch.tensor([i for i in range(n) if i != e]))
    return f"removed E{e}" + (f"; E{e + 1} and after renumbered" if e < n - 1 else "")


def apply_rule(trainer, share_E: list[float]) -> list[str]:
    """The rule on the load shares measured now: remove the idlest expert below remove_below / E, then
    split the busiest above split_above / E while under max_experts. What happened, as events say it."""
    t, n = trainer.cfg.train, len(share_E)
    done = []
    if t.remove_below is not None and n > max(1, trainer.cfg.model.top_k):
        idle = min(range(n), key=lambda i: share_E[i])
        if share_E[idle] < t.remove_below / n:
            done.append(remove(trainer, idle) + f" (load {share_E[idle]:.1%})")
            share_E = [s for i, s in enumerate(share_E) if i != idle]
    n = len(share_E)
    if t.split_above is not None and n < t.max_experts:
        busy = max(range(n), key=lambda i: share_E[i])
        if share_E[busy] > t.split_above / n:
            done.append(split(trainer, busy) + f" (load {share_E[busy]:.1%})")
    return done


def _resize(trainer, index: torch.Tensor, copy_of: int | None = None) -> None:
    model, old_opt = trainer.model, trainer.optimizer
    axes = expert_axes(model)
    old_params = dict(model.named_parameters())
    index = index.to(trainer.device)
    with torch.no_grad():
        for name, axis in axes.items():
            old = model.get_parameter(name) if name in old_params else model.get_buffer(name)
            new = old.index_select(axis, index).clone()
            if copy_of is not None:
                _split_fixups(name, new, axis, copy_of, model, trainer.generator)
            _assign(model, name, nn.Parameter(new) if name in old_params else new)
    trainer.cfg = trainer.cfg.replace(**{"model.n_experts": len(index)})
    model.set_config(trainer.cfg.model)
    trainer.optimizer = run_optimizer(trainer.cfg, model)
    _carry_state(old_opt, trainer.optimizer, old_params, dict(model.named_parameters()), axes, index)


def _split_fixups(name: str, new: torch.Tensor, axis: int, e: int, model, generator) -> None:
    """The copy's weights get a little noise; the gate's last bias drops by log 2 for the pair."""
    last = new.shape[axis] - 1
    if name.startswith("experts."):
        slot = new.narrow(axis, last, 1)
        scale = SPLIT_NOISE * float(slot.std()) if slot.numel() > 1 else SPLIT_NOISE
        noise = torch.randn(slot.shape, generator=generator, device=slot.device, dtype=slot.dtype)
        slot.add_(scale * noise)
    elif name == _gate_bias_name(model):
        new[e] -= math.log(2)
        new[last] -= math.log(2)


def expert_axes(model) -> dict[str, int]:
    """Every parameter and buffer of the model that holds one slice per expert, by name, with its axis."""
    by_id = {id(p): axis for p, axis in model.experts.param_axes()}
    gate = model.router.gate
    last = gate[-1] if isinstance(gate, nn.Sequential) else gate
    routed = {id(p) for p in last.parameters()}
    noise = getattr(model.router, "noise", None)
    routed |= {id(p) for p in noise.parameters()} if noise is not None else set()
    axes = {}
    for name, p in model.named_parameters():
        if name.startswith("experts.") and id(p) in by_id:
            axes[name] = by_id[id(p)]
        elif id(p) in routed:
            axes[name] = 0
    axes["router.bias_E"] = 0
    return axes


def _gate_bias_name(model) -> str:
    gate = model.router.gate
    return "router.gate." + (f"{len(gate) - 1}.bias" if isinstance(gate, nn.Sequential) else "bias")


def _assign(model: nn.Module, name: str, value: torch.Tensor) -> None:
    owner_name, _, attribute = name.rpartition(".")
    owner = model.get_submodule(owner_name)
    if isinstance(value, nn.Parameter):
        setattr(owner, attribute, value)
    else:
        owner.register_buffer(attribute, value)


def _carry_state(old_opt, new_opt, old_params: dict, new_params: dict, axes: dict, index: torch.Tensor) -> None:
    """Each parameter's optimiser state (Adam's moments) resized as its parameter was; the rest copied."""
    old_state = {id(p): s for part in _parts(old_opt) for p, s in part.state.items()}
    for part in _parts(new_opt):
        for group in part.param_groups:
            for p in group["params"]:
                name = next(n for n, q in new_params.items() if q is p)
                state = old_state.get(id(old_params[name]))
                if not state:
                    continue
                axis, shape = axes.get(name), old_params[name].shape
                part.state[p] = {
                    key: value.index_select(axis, index).clone()
                    if torch.is_tensor(value) and axis is not None and value.shape == shape
                    else (value.clone() if torch.is_tensor(value) else value)
                    for key, value in state.items()
                }


def _parts(optimizer) -> list:
    return optimizer.parts if isinstance(optimizer, Optimizers) else [optimizer]
