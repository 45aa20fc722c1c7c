"""The one place that decides how routed slots run through the experts, from the shapes and device.

Shapes: N points, K slots per point, E experts, O outputs.
"""

from __future__ import annotations

import torch

from moe_core.layer.experts import Experts
from moe_core.layer.fast.grouped import dispatch_grouped, grouped_mm_support
from moe_core.layer.fast.packed import dispatch_packed
from moe_core.layer.reference import run_experts as dispatch_loop

# Every expert on every point, on an accelerator, while its activations stay under this many floats
# (256 MB of float32): sync-free and a few large kernels, where a per-expert loop, or a grouped matmul
# that reads group ends on the host, waits for the device every step (docs/performance.md, GPU).
DENSE_BUDGET = 1 << 26


def dispatch(experts: Experts, x_ND: torch.Tensor, ids_NK: torch.Tensor, kept_NK: torch.Tensor | None = None):
    """Each slot's expert output, [N, K, O]; zero where a slot is not kept (kept_NK None: all are).

    - every point keeps every expert (dense gating, or top_k = E): one batched einsum;
    - on the CPU: packed (sorted by expert, experts of similar load in one feature-first batched
      matmul per layer), which reads the group sizes on the host, free there;
    - elsewhere, without a host synchronisation: one grouped matmul per layer where torch has one
      that does not wait for the device, else every expert on every point while that fits
      DENSE_BUDGET; beyond it, the grouped matmul that waits, or the loop over experts.
    All give the outputs and gradients of `reference.run_experts` (tests/test_fast.py).
    """
    on_cpu = x_ND.device.type == "cpu"
    if not experts.packable:  # experts that are not layers of (weight, bias), e.g. patch filters
        if ids_NK.shape[1] == experts.n_experts and kept_NK is None:
            return dispatch_dense(experts, x_ND, ids_NK)
        return dispatch_loop(experts, x_ND, ids_NK, kept_NK)
    if kept_NK is not None and on_cpu and bool(kept_NK.all()):
        kept_NK = None  # reading the mask is free on the CPU, and a full one costs the packed path a pass
    if ids_NK.shape[1] == experts.n_experts and (kept_NK is None or not on_cpu):
        return dispatch_dense(experts, x_ND, ids_NK, kept_NK)
    if on_cpu:
        return dispatch_packed(experts, x_ND, ids_NK, kept_NK)
    support = grouped_mm_support(x_ND.device.type, x_ND.dtype)
    if support == "sync_free":
        return dispatch_grouped(experts, x_ND, ids_NK, kept_NK)
    if x_ND.shape[0] * experts.n_experts * experts.row_width <= DENSE_BUDGET:
        return dispatch_dense(experts, x_ND, ids_NK, kept_NK)
    if support == "syncs":
        return dispatch_grouped(experts, x_ND, ids_NK, kept_NK)
    return dispatch_loop(experts, x_ND, ids_NK, kept_NK)


def dispatch_dense(experts: Experts, x_ND: torch.Tensor, ids_NK: torch.Tensor, kept_NK: torch.Tensor | None = None):
    """Every expert on every point, then each slot's output picked (zero where not kept): E / K times
    the arithmetic of a sparse dispatch in a few large operations, with no host synchronisation."""
    out_NEO = experts.forward_all(x_ND)
    out_NKO = out_NEO.gather(1, ids_NK.unsqueeze(2).expand(-1, -1, out_NEO.shape[2]))
    return out_NKO if kept_NK is None else torch.where(kept_NK.unsqueeze(2), out_NKO, 0.0)
