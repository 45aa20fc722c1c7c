"""The one place that decides how routed slots run through the experts, from the shapes and device.

Shapes: N points, K slots per point, E experts, O outputs.
"""

from __future__ import annotations

import torch

from moe_core.experts import Experts, dispatch_dense, dispatch_loop
from moe_core.grouped import dispatch_grouped, grouped_mm_support
from moe_core.packed import dispatch_packed

# Every expert on every point, on an accelerator, while its activations stay under this many floats
# (256 MB of float32): sync-free and a few kernels, where a per-expert loop or a grouped matmul that
# reads group ends on the host waits for the device every step. The benchmark's 16-expert rows on an
# H100 (torch 2.11): 3.1-4.2 ms a step through its float32 grouped matmul, 1.4-2.1 ms dense.
DENSE_BUDGET = 1 << 26


def dispatch(experts: Experts, x_ND: torch.Tensor, ids_NK: torch.Tensor, kept_NK: torch.Tensor | None = None):
    """Each slot's expert output, [N, K, O]; zero where a slot is not kept (kept_NK None: all are).

    - every point keeps every expert (dense gating, or top_k = E): one batched einsum;
    - on the CPU: packed (sorted by expert, experts of similar load in one feature-first batched
      matmul per layer), which reads the group sizes on the host, free there;
    - elsewhere, without a host synchronisation: one grouped matmul per layer where torch has one
      that does not wait for the device, else every expert on every point while that fits
      DENSE_BUDGET; beyond it, the grouped matmul that waits, or the loop over experts.
    All give the same outputs and gradients as `dispatch_loop` (tests/test_dispatch.py).
    """
    if ids_NK.shape[1] == experts.n_experts and kept_NK is None:
        return dispatch_dense(experts, x_ND, ids_NK)
    if x_ND.device.type == "cpu":
        return dispatch_packed(experts, x_ND, ids_NK, kept_NK)
    support = grouped_mm_support(x_ND.device.type, x_ND.dtype)
    if support == "sync_free":
        return dispatch_grouped(experts, x_ND, ids_NK, kept_NK)
    if x_ND.shape[0] * experts.n_experts * experts.row_width <= DENSE_BUDGET:
        return dispatch_dense(experts, x_ND, ids_NK, kept_NK)
    if support == "syncs":
        return dispatch_grouped(experts, x_ND, ids_NK, kept_NK)
    return dispatch_loop(experts, x_ND, ids_NK, kept_NK)
