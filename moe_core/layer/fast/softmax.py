"""Softmax and log-softmax over each row, fast for the short rows of small MoE models.

Torch's CPU kernel for the last dimension vectorises along the row, so a row shorter than one vector
register (16 float32 under AVX-512) runs scalar, several times slower than the same numbers read
column-wise (docs/performance.md). Short rows therefore go through the column kernel, on a transposed
view; the values are those of torch.softmax(x, dim=1).
"""

from __future__ import annotations

import torch

SHORT_ROW = 16  # entries: one AVX-512 register of float32
COLUMN_FROM = 1024  # entries in all: below, the column path's own fixed cost wins


def _short(x_NE: torch.Tensor) -> bool:
    return x_NE.device.type == "cpu" and x_NE.shape[1] < SHORT_ROW and x_NE.numel() >= COLUMN_FROM


def softmax_rows(x_NE: torch.Tensor) -> torch.Tensor:
    """softmax(x, dim=1) for a 2-D tensor."""
    return torch.softmax(x_NE.T, dim=0).T if _short(x_NE) else torch.softmax(x_NE, dim=1)


def log_softmax_rows(x_NE: torch.Tensor) -> torch.Tensor:
    """log_softmax(x, dim=1) for a 2-D tensor."""
    return torch.log_softmax(x_NE.T, dim=0).T if _short(x_NE) else torch.log_softmax(x_NE, dim=1)
