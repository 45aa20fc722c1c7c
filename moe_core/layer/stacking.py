"""Several seeds of one model as one stacked model: what batched seeds are made of.

A stacked model holds S copies of every weight, side by side along one axis (S * E experts, S gates),
and its batch is S blocks of B points, block s belonging to seed s. Every operation keeps the blocks
apart (block s's points reach only seed s's gate and experts, and each loss is a sum of per-seed
losses), so each seed's gradient is exactly the one it would get alone.

Shapes: S seeds, B points per seed, N = S * B points, I / P a layer's input / output width.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class StackedLinear(nn.Linear):
    """S independent linear maps I -> P in one module: weight [S * P, I], bias [S * P], map s in rows
    s * P to (s + 1) * P; the points of block s go through map s. With S = 1 it is nn.Linear."""

    def __init__(self, in_features: int, out_features: int, stack: int = 1, bias: bool = True) -> None:
        super().__init__(in_features, out_features * stack, bias=bias)
        self.stack = stack

    def forward(self, x_NI: torch.Tensor) -> torch.Tensor:
        if self.stack == 1:
            return F.linear(x_NI, self.weight, self.bias)
        s = self.stack
        w_SIP = self.weight.view(s, -1, self.in_features).transpose(1, 2)
        x_SBI = x_NI.view(s, -1, self.in_features)
        if self.bias is None:
            return torch.bmm(x_SBI, w_SIP).view(-1, w_SIP.shape[2])
        return torch.baddbmm(self.bias.view(s, 1, -1), x_SBI, w_SIP).view(-1, w_SIP.shape[2])


def block_offsets(stack: int, n: int, width: int, device: torch.device) -> torch.Tensor:
    """[N, 1]: width * s for each point of block s (of N / stack points), to turn a seed's own expert
    ids (0..width-1) into ids in the stacked experts."""
    return (torch.arange(stack, device=device) * width).repeat_interleave(n // stack).unsqueeze(1)


def stack_axis(single: torch.Size, stacked: torch.Size, stack: int) -> int:
    """The one axis along which a stacked tensor holds `stack` copies of a single model's tensor (the
    first, for a stack of one)."""
    axes = [i for i, (a, b) in enumerate(zip(single, stacked, strict=True)) if a != b]
    if stack == 1 and single == stacked and len(single):
        return 0
    if len(stacked) != len(single) or len(axes) != 1 or stacked[axes[0]] != stack * single[axes[0]]:
        raise ValueError(f"a tensor of shape {tuple(stacked)} does not stack {stack} of shape {tuple(single)}")
    return axes[0]


def stack_axes(single: dict[str, torch.Tensor], stacked: dict[str, torch.Tensor], stack: int) -> dict[str, int]:
    """Each state key's stacking axis, from a single model's state and the stacked model's."""
    return {key: stack_axis(single[key].shape, like.shape, stack) for key, like in stacked.items()}


def stack_states(singles: list[dict[str, torch.Tensor]], axes: dict[str, int]) -> dict:
    """The stacked model's state from each seed's own."""
    return {key: torch.cat([state[key] for state in singles], dim=axis) for key, axis in axes.items()}


def unstack_state(stacked: dict[str, torch.Tensor], axes: dict[str, int], s: int, stack: int) -> dict:
    """Seed s's own state out of a stack of `stack` (views)."""
    out = {}
    for key, axis in axes.items():
        size = stacked[key].shape[axis] // stack
        out[key] = stacked[key].narrow(axis, s * size, size)
    return out
