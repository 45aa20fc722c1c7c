"""The CPU dispatch: slots sorted by expert, evenly loaded experts packed into one batched matmul per
layer, the busiest experts run alone, so that neither skewed nor collapsed routing wastes work.

Shapes: N points, K slots per point, M = N * K slots, E experts, G packed experts, C rows per packed
expert (the largest of their loads), D input width, O outputs, T rows of the output table.

Reading group sizes on the host is free on a CPU (no device to wait for), so the bookkeeping is done
in numpy, whose small-array operations cost about a microsecond where torch's cost five.
"""

from __future__ import annotations

import numpy as np
import torch

from moe_core.experts import Experts

# Measured with benchmarks/bench_core.py on a 2-core CPU (one thread):
ALONE_COST_ROW_UNITS = 8192  # an expert run alone costs about as much as this many padded (row x hidden) cells
# An expert's own matmul beats the batched one once its block is this big (row x hidden cells), or
# this tall, whatever its width:
BIG_BLOCK, BIG_ROWS = 65536, 1024


class PackPlan:
    """From the experts' loads: which run packed (and how wide), which run alone, and where each expert's
    rows land in the output table (packed block, then experts run alone, then one zero row per dropped slot).

    Built with vector operations only: it runs on every training step.
    """

    def __init__(self, counts: np.ndarray, hidden: int) -> None:
        n_experts = len(counts) - 1  # the last count is the slots that are not kept
        hit = np.flatnonzero(counts[:n_experts])
        by_load = hit[np.argsort(-counts[hit], kind="stable")]
        n_alone = _best_alone_count(counts[by_load], hidden)
        self.alone = by_load[:n_alone]
        self.packed = np.sort(by_load[n_alone:])
        self.width = int(counts[self.packed].max()) if len(self.packed) else 0
        self.starts = np.cumsum(counts) - counts
        self.packed_rows = len(self.packed) * self.width
        base = np.zeros(n_experts + 1, dtype=np.int64)
        base[self.packed] = np.arange(len(self.packed)) * self.width
        tail = np.append(self.alone, n_experts)  # experts run alone, then the dropped slots' zero rows
        tail_rows = counts[tail]
        base[tail] = self.packed_rows + np.cumsum(tail_rows) - tail_rows
        self.table_rows = int(self.packed_rows + tail_rows.sum())
        self.offsets = base - self.starts  # a sorted slot's table row = its sorted position + this


def _best_alone_count(loads: np.ndarray, hidden: int) -> int:
    """How many of the busiest experts (loads sorted, largest first) to run alone: the count that
    minimises (cost of running them alone) + (padded cells of packing the rest to the next load),
    and at least every expert whose own block is big or tall."""
    n = len(loads)
    big = int(np.count_nonzero((loads * hidden >= BIG_BLOCK) | (loads >= BIG_ROWS)))
    j = np.arange(n + 1)
    cost = j * ALONE_COST_ROW_UNITS + np.append(loads, 0) * (n - j) * hidden
    return max(big, int(cost.argmin()))


def dispatch_packed(experts: Experts, x_ND: torch.Tensor, ids_NK: torch.Tensor, kept_NK: torch.Tensor | None = None):
    """Each slot's expert output, [N, K, O] (zero where not kept), for CPU tensors.

    Outputs are written to one table and come back in slot order with a single gather, so autograd
    sees a handful of operations whatever the number of experts.
    """
    n, k = ids_NK.shape
    n_experts = experts.n_experts
    ids_M = ids_NK.reshape(-1).numpy()
    if kept_NK is not None:
        ids_M = np.where(kept_NK.reshape(-1).numpy(), ids_M, n_experts)
    counts = np.bincount(ids_M, minlength=n_experts + 1)
    if k == 1 and counts[ids_M[0]] == n:  # collapsed: one expert takes every point, in order
        return experts.forward_one(int(ids_M[0]), x_ND).unsqueeze(1)
    plan = PackPlan(counts, experts.w_in_EDH.shape[2])
    order_M = np.argsort(ids_M, kind="stable")
    table_row_M = np.arange(len(ids_M)) + plan.offsets[ids_M[order_M]]
    points_M = order_M // k
    pieces = []
    if len(plan.packed):
        source_T = np.zeros(plan.table_rows, dtype=np.int64)
        source_T[table_row_M] = points_M
        rows = torch.from_numpy(source_T[: plan.packed_rows])
        pieces.append(_run_packed(experts, x_ND[rows], plan.packed, plan.width))
    for e in plan.alone.tolist():
        rows = torch.from_numpy(points_M[plan.starts[e] : plan.starts[e] + counts[e]])
        pieces.append(experts.forward_one(e, x_ND[rows]))
    if counts[n_experts]:
        pieces.append(x_ND.new_zeros(int(counts[n_experts]), experts.b_out_EO.shape[1]))
    slot_row_M = np.empty_like(table_row_M)
    slot_row_M[order_M] = table_row_M
    table_TO = pieces[0] if len(pieces) == 1 else torch.cat(pieces)
    return table_TO[torch.from_numpy(slot_row_M)].view(n, k, -1)


def _run_packed(experts: Experts, x_GCD: torch.Tensor, chosen: np.ndarray, width: int) -> torch.Tensor:
    """The chosen experts (sorted ids) on their packed rows [G * C, D] -> [G * C, O], one baddbmm per layer."""
    every = len(chosen) == experts.n_experts
    index = None if every else torch.from_numpy(chosen)
    h = x_GCD.view(len(chosen), width, -1)
    layers = list(experts.layers())
    for i, (w_EIP, b_EP) in enumerate(layers):
        w, b = (w_EIP, b_EP) if every else (w_EIP[index], b_EP[index])
        h = torch.baddbmm(b.unsqueeze(1), h, w)
        if i < len(layers) - 1:
            h = experts.activation(h)
    return h.reshape(len(chosen) * width, -1)
