"""The CPU dispatch: slots sorted by expert, experts of similar load packed into one batched matmul
per layer, computed feature-first, so that neither skewed nor collapsed routing wastes work.

Shapes: N points, K slots per point, M = N * K slots, E experts, G experts in a pack, C columns per
packed expert (the largest of their loads), D input width, O outputs, T columns of the output table.

Two facts of small CPU matmuls shape this file (measured in docs/performance.md):
- A layer is computed as W^T [P, I] @ h [I, C], features by columns, not h [C, I] @ W [I, P]: with a
  narrow output (an expert's 2-4 logits) the usual row-major product is several times slower in MKL.
- Activations past a couple of megabytes leave the cache and run far slower, so experts are packed
  in several cache-sized packs rather than one.
Reading group sizes on the host is free on a CPU (no device to wait for), so the bookkeeping is done
in numpy and plain Python, whose small-array operations cost far less than torch's.
"""

from __future__ import annotations

import numpy as np
import torch

from moe_core.layer.experts import Experts

# Tuned with benchmarks/bench_core.py, in cells: a padded row costs as many as the floats it makes on
# its way through an expert (Experts.row_width).
PACK_COST = 65536  # one more pack costs about as much as this many padded cells
PACK_BUDGET = 524288  # a pack above this many cells (2 MB of float32) falls out of the cache


class PackPlan:
    """From the experts' loads: the packs (experts of similar load, padded to the first one's load), and
    where each expert's slots land in the output table (the packs' columns, then a zero column per
    dropped slot).

    Busiest first, an expert joins the current pack unless the pack would outgrow PACK_BUDGET, or
    unless starting a new pack at it saves more padding over the experts still to come than a pack costs.
    """

    def __init__(self, counts: np.ndarray, row_width: int) -> None:
        n_experts = len(counts) - 1  # the last count is the slots that are not kept
        by_load = np.argsort(-counts[:n_experts], kind="stable")
        loads = counts[by_load].tolist()
        n_hit = n_experts - loads.count(0)  # loads are sorted, so the idle experts come last
        self.packs: list[tuple[np.ndarray, int]] = []  # (expert ids, width) per pack
        base = np.zeros(n_experts + 1, dtype=np.int64)
        column, first = 0, 0
        for j in range(1, n_hit + 1):
            width = loads[first]
            if j < n_hit:
                size = (j - first + 1) * width * row_width
                saving = (width - loads[j]) * row_width * (n_hit - j)
                if size <= PACK_BUDGET and saving <= PACK_COST:
                    continue
            chosen = np.sort(by_load[first:j])  # in id order, so that a pack of all experts needs no gather
            base[chosen] = column + np.arange(len(chosen)) * width
            self.packs.append((chosen, width))
            column += len(chosen) * width
            first = j
        self.packed_columns = column
        base[n_experts] = column  # the dropped slots' zero columns
        self.table_columns = column + int(counts[n_experts])
        self.offsets = base - (np.cumsum(counts) - counts)  # a sorted slot's table column = its sorted position + this


def dispatch_packed(experts: Experts, x_ND: torch.Tensor, ids_NK: torch.Tensor, kept_NK: torch.Tensor | None = None):
    """Each slot's expert output, [N, K, O] (zero where not kept), for CPU tensors; a view of [O, K, N].

    Outputs are written to one table and come back in slot order with a single gather, so autograd
    sees a handful of operations whatever the number of experts.
    """
    n, k = ids_NK.shape
    n_experts = experts.n_experts
    # Slots slot-major (m = j * N + i for point i's j-th choice), as the router lays its choices
    # out: the table then comes back [O, K, N], the layout the blend reads.
    ids_M = ids_NK.T.reshape(-1).numpy()
    if kept_NK is not None:
        ids_M = np.where(kept_NK.T.reshape(-1).numpy(), ids_M, n_experts)
    counts = np.bincount(ids_M, minlength=n_experts + 1)
    if k == 1 and ids_M[0] < n_experts and counts[ids_M[0]] == n:  # collapsed: one expert takes every point
        return _run_pack(experts, x_ND, np.array([ids_M[0]]), n).T.unsqueeze(1)
    plan = PackPlan(counts, experts.row_width)
    # Expert ids fit in 16 bits, where numpy's stable sort is a radix sort, far faster than its merge sort.
    order_M = np.argsort(ids_M.astype(np.int16), kind="stable")
    table_column_M = np.arange(len(ids_M)) + np.repeat(plan.offsets, counts)  # sorted: ids_M[order_M] runs 0, 0, .., E
    source_T = np.zeros(plan.table_columns, dtype=np.int64)
    source_T[table_column_M] = order_M % n
    x_TD = x_ND.index_select(0, torch.from_numpy(source_T[: plan.packed_columns]))
    pieces, start = [], 0
    for chosen, width in plan.packs:
        end = start + len(chosen) * width
        pieces.append(_run_pack(experts, x_TD[start:end], chosen, width))
        start = end
    if plan.table_columns > plan.packed_columns:
        pieces.append(x_ND.new_zeros(experts.b_out_EO.shape[1], plan.table_columns - plan.packed_columns))
    slot_column_M = np.empty_like(table_column_M)
    slot_column_M[order_M] = table_column_M
    table_OT = pieces[0] if len(pieces) == 1 else torch.cat(pieces, dim=1)
    return table_OT.index_select(1, torch.from_numpy(slot_column_M)).view(-1, k, n).permute(2, 1, 0)


def _run_pack(experts: Experts, x_CD: torch.Tensor, chosen: np.ndarray, width: int) -> torch.Tensor:
    """The chosen experts on their packed rows [G * C, D] -> outputs feature-first, [O, G * C]."""
    layers = list(experts.layers())
    if len(chosen) == 1:  # one expert: plain matmuls on views of its weights, nothing gathered
        e = int(chosen[0])
        h = x_CD.T
        for i, (w_EIP, b_EP) in enumerate(layers):
            h = torch.addmm(b_EP[e].unsqueeze(1), w_EIP[e].T, h)
            if i < len(layers) - 1:
                h = experts.activation(h)
        return h
    every = len(chosen) == experts.n_experts
    first, last = int(chosen[0]), int(chosen[-1])
    # Consecutive ids (all but the busiest of a collapsed router, say) slice their weights: views, no gather.
    pick = slice(first, last + 1) if last - first + 1 == len(chosen) else torch.from_numpy(chosen)
    h = x_CD.view(len(chosen), width, -1).transpose(1, 2)
    for i, (w_EIP, b_EP) in enumerate(layers):
        w, b = (w_EIP, b_EP) if every else (w_EIP[pick], b_EP[pick])
        h = torch.baddbmm(b.unsqueeze(2), w.transpose(1, 2), h)
        if i < len(layers) - 1:
            h = experts.activation(h)
    return h.transpose(0, 1).reshape(h.shape[1], -1)
