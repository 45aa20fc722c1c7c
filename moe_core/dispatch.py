"""The one place that decides how routed slots run through the experts, from the shapes and device.

Shapes: N points, K slots per point, E experts, O outputs.
"""

from __future__ import annotations

import torch

from moe_core.experts import Experts, dispatch_loop
from moe_core.grouped import dispatch_grouped, grouped_mm_works
from moe_core.packed import dispatch_packed


def dispatch(experts: Experts, x_ND: torch.Tensor, ids_NK: torch.Tensor, kept_NK: torch.Tensor | None = None):
    """Each slot's expert output, [N, K, O]; zero where a slot is not kept (kept_NK None: all are).

    - every point keeps every expert (dense gating, or top_k = E): one batched einsum;
    - on the CPU: packed (sorted by expert, experts of similar load in one feature-first batched
      matmul per layer), which reads the group sizes on the host, free there;
    - elsewhere: one grouped matmul per layer with no host synchronisation, or, where torch has no
      grouped matmul for the device and dtype, the loop over experts.
    All give the same outputs and gradients as `dispatch_loop` (tests/test_dispatch.py).
    """
    if ids_NK.shape[1] == experts.n_experts and kept_NK is None:
        out_NEO = experts.forward_all(x_ND)
        return out_NEO.gather(1, ids_NK.unsqueeze(2).expand(-1, -1, out_NEO.shape[2]))
    if x_ND.device.type == "cpu":
        return dispatch_packed(experts, x_ND, ids_NK, kept_NK)
    if grouped_mm_works(x_ND.device.type, x_ND.dtype):
        return dispatch_grouped(experts, x_ND, ids_NK, kept_NK)
    return dispatch_loop(experts, x_ND, ids_NK, kept_NK)
