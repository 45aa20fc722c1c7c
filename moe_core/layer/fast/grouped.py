"""The sync-free dispatch for accelerators: slots sorted by expert, one `torch._grouped_mm` per layer.

Shapes: N points, K slots per point, M = N * K slots, E experts, G = E + 1 groups (the experts and one
all-zero group for slots that are not kept), I / P a layer's input / output width.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from functools import cache

import torch
import torch.nn.functional as F

from moe_core.layer.experts import Experts


def _slot_ids(ids_NK: torch.Tensor, kept_NK: torch.Tensor | None, n_experts: int) -> torch.Tensor:
    """Each slot's expert, [M]; slots not kept get the id E, so that sorting puts them last."""
    ids_M = ids_NK.reshape(-1)
    return ids_M if kept_NK is None else torch.where(kept_NK.reshape(-1), ids_M, n_experts)


def dispatch_grouped(experts: Experts, x_ND: torch.Tensor, ids_NK: torch.Tensor, kept_NK: torch.Tensor | None = None):
    """Sort slots by expert, then one `torch._grouped_mm` per layer over all experts' rows at once.

    No host synchronisation: group ends come from a searchsorted on the sorted ids. Slots that are
    not kept get the id E and sort to the end, into an extra expert whose weights are all zero (rows
    outside every group would be left uninitialised); every activation maps 0 to 0, so they leave
    as zeros.
    """
    n, k = ids_NK.shape
    n_experts = experts.n_experts
    sorted_M, order_M = torch.sort(_slot_ids(ids_NK, kept_NK, n_experts), stable=True)
    groups = torch.arange(n_experts + 1, device=sorted_M.device)
    ends_G = torch.searchsorted(sorted_M, groups, right=True).to(torch.int32)  # G = E + 1 groups
    h = x_ND[order_M // k]
    layers = list(experts.layers())
    for i, (w_EIP, b_EP) in enumerate(layers):
        h = _grouped_linear(h, w_EIP, b_EP, ends_G)
        if i < len(layers) - 1:
            h = experts.activation(h)
    return h.new_zeros(n * k, h.shape[1]).index_copy(0, order_M, h).view(n, k, -1)


def _round4(size: int) -> int:
    return -(-size // 4) * 4


def _grouped_linear(h_MI: torch.Tensor, w_EIP: torch.Tensor, b_EP: torch.Tensor, ends_G: torch.Tensor):
    """Rows h_m @ W_e + b_e for the group e each row is in, [M, P]; the last group (E) gets zeros.

    The bias rides in the matmul as an extra input column of ones. grouped_mm wants rows of a
    multiple of 16 bytes (4 float32), so both widths are padded, and one all-zero expert is appended
    for the slots that are not kept. Padding is zero and padded outputs are cut off, so none of it
    reaches the result or the gradients of the real weights.
    """
    width_in, width_out = w_EIP.shape[1], w_EIP.shape[2]
    padded_in, padded_out = _round4(width_in + 1), _round4(width_out)
    h_aug = F.pad(h_MI, (0, padded_in - width_in), value=1.0)
    padding = (0, padded_out - width_out, 0, padded_in - width_in - 1, 0, 1)
    w_aug = F.pad(torch.cat([w_EIP, b_EP.unsqueeze(1)], dim=1), padding)
    return torch._grouped_mm(h_aug, w_aug, offs=ends_G)[:, :width_out]


@cache
def grouped_mm_support(device_type: str, dtype: torch.dtype) -> str:
    """How torch._grouped_mm runs here, checked once per device and dtype: "sync_free" (a kernel of its
    own, as for bfloat16 on recent NVIDIA GPUs), "syncs" (some builds run float32 as a loop of
    matmuls that reads the group ends on the host) or "none" (missing, or wrong).

    On a GPU the first try runs under torch.cuda's sync debug mode "error", which raises where the op
    waits for the device; the check's own reading of its answer is allowed whatever mode the caller set.
    """
    if not hasattr(torch, "_grouped_mm"):
        return "none"
    support = "sync_free"
    try:
        with _sync_debug_mode(device_type, "error"):
            _grouped_mm_check(device_type, dtype)
    except RuntimeError as error:
        if "synchronizing" not in str(error):
            return "none"
        support = "syncs"
    except NotImplementedError:
        return "none"
    try:
        with _sync_debug_mode(device_type, 0):
            out = _grouped_mm_check(device_type, dtype)
            works = bool(torch.isclose(out[1, 0], torch.tensor(4.0, dtype=dtype, device=device_type)))
    except (RuntimeError, NotImplementedError):
        return "none"
    return support if works else "none"


def _grouped_mm_check(device_type: str, dtype: torch.dtype) -> torch.Tensor:
    x = torch.ones(6, 4, dtype=dtype, device=device_type, requires_grad=True)
    w = torch.ones(2, 4, 4, dtype=dtype, device=device_type, requires_grad=True)
    ends = torch.tensor([2, 5], dtype=torch.int32, device=device_type)
    out = torch._grouped_mm(x, w, offs=ends)
    out.backward(torch.ones_like(out))
    return out


@contextmanager
def _sync_debug_mode(device_type: str, mode: int | str):
    """torch.cuda.set_sync_debug_mode for the block, then the caller's mode again (nothing off a GPU)."""
    if device_type != "cuda":
        yield
        return
    previous = torch.cuda.get_sync_debug_mode()
    torch.cuda.synchronize()
    with warnings.catch_warnings():  # torch warns that the debug mode is a prototype, on every switch
        warnings.filterwarnings("ignore", message="Synchronization debug mode")
        torch.cuda.set_sync_debug_mode(mode)
        try:
            yield
        finally:
            torch.cuda.set_sync_debug_mode(previous)
