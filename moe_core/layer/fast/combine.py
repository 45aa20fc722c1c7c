"""The weighted sum of each point's slot outputs, laid out for the CPU dispatch's output.

Shapes: N points, K slots per point, O outputs.
"""

from __future__ import annotations

import torch


def combine(weights_NK: torch.Tensor, out_NKO: torch.Tensor) -> torch.Tensor:
    """sum_k w_k * out_k, [N, O], as `reference.combine`.

    - One slot (top-1): one multiply, or none where the weights are a constant one (a top-1 gate
      renormalised over its one choice: routers give it as a broadcast 1 without gradient).
    - Several slots: feature-first, [O, K, N] times [K, N] summed over K, the layout in which the CPU
      dispatch returns its outputs (a view of [O, K, N]): an elementwise multiply and sum, where a
      batched [1, K] @ [K, O] matmul per point costs several times more on one thread.
    """
    if weights_NK.shape[1] == 1:
        out_NO = out_NKO.squeeze(1)  # a view: its backward copies nothing, unlike indexing [:, 0]
        if _constant_one(weights_NK):
            return out_NO
        return out_NO * weights_NK
    return (out_NKO.permute(2, 1, 0) * weights_NK.T).sum(1).T


def constant(x_NK: torch.Tensor) -> bool:
    """Whether an [N, K] tensor is one value broadcast to its shape (stride 0): read structurally, where
    checking every element would cost more than the work it saves."""
    return x_NK.stride() == (0, 0)


def _constant_one(weights_NK: torch.Tensor) -> bool:
    return constant(weights_NK) and not weights_NK.requires_grad and weights_NK.view(-1)[0].item() == 1.0
