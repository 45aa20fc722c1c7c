"""Top-k for a small CPU: numpy's argmax for one or two experts per point, torch's topk otherwise.

On one CPU thread torch's row reductions over a few experts are slow (topk over 16 experts runs a
scalar loop per row); numpy's argmax over the same rows is several times faster, so top-1 is one
argmax and top-2 a second one with each winner knocked out. Ties go to the lower expert id, as
torch.topk on the CPU does (tests/test_fast.py compares the two).
"""

from __future__ import annotations

import numpy as np
import torch


def chosen(scores_NE: torch.Tensor, ids_NK: torch.Tensor) -> torch.Tensor:
    """scores_NE.gather(1, ids_NK), gathered slot-major on the CPU: a view of [K, N], the layout the
    CPU dispatch returns its outputs in, so that the softmax over the k chosen runs column-wise and the
    blend multiplies contiguous rows (both several times faster than on [N, K] rows)."""
    if scores_NE.device.type != "cpu" or ids_NK.shape[1] == 1:
        return scores_NE.gather(1, ids_NK)
    return scores_NE.T.gather(0, ids_NK.T).T


def top_k(scores_NE: torch.Tensor, k: int) -> torch.Tensor:
    """The k highest-scoring experts of each point, [N, K], best first. For k = 2 on the CPU the
    result is a view of [K, N] (slot-major), the order the CPU dispatch reads slots in."""
    scores_NE = scores_NE.detach()
    if scores_NE.device.type != "cpu" or k > 2 or scores_NE.dtype not in (torch.float32, torch.float64):
        return scores_NE.topk(k, dim=1).indices
    scores = scores_NE.numpy()
    first_N = scores.argmax(axis=1)
    if k == 1:
        return torch.from_numpy(first_N).unsqueeze(1)
    rest = scores.copy()  # C-ordered, so the flat index of (n, e) is n * E + e
    rest.reshape(-1)[np.arange(0, rest.size, rest.shape[1]) + first_N] = -np.inf
    return torch.from_numpy(np.stack([first_N, rest.argmax(axis=1)])).T
