"""Experts as stacked weights, and the one function that dispatches routed slots to them.

Shapes: N points, D input dim, H expert hidden width, E experts, K slots per point, O outputs,
L hidden-to-hidden layers (expert_layers - 1), M kept slots.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "gelu": nn.functional.gelu,
    "tanh": torch.tanh,
    "cubic": lambda z: z**3,  # Chen et al. 2022's z^3 experts
    "linear": lambda z: z,
}


class Experts(nn.Module):
    """E multilayer perceptrons D -> H (-> H)* -> O held as stacked tensors, never a list of modules."""

    def __init__(self, n_experts: int, dim: int, hidden: int, n_out: int, layers: int = 1, activation: str = "relu"):
        super().__init__()
        self.activation = ACTIVATIONS[activation]
        self.w_in_EDH = nn.Parameter(torch.empty(n_experts, dim, hidden))
        self.b_in_EH = nn.Parameter(torch.empty(n_experts, hidden))
        self.w_hid_LEHH = nn.Parameter(torch.empty(layers - 1, n_experts, hidden, hidden))
        self.b_hid_LEH = nn.Parameter(torch.empty(layers - 1, n_experts, hidden))
        self.w_out_EHO = nn.Parameter(torch.empty(n_experts, hidden, n_out))
        self.b_out_EO = nn.Parameter(torch.empty(n_experts, n_out))
        self.reset_parameters()

    @property
    def n_experts(self) -> int:
        return self.w_in_EDH.shape[0]

    def reset_parameters(self) -> None:
        """nn.Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases, per expert."""
        for weight, bias in self._layers():
            bound = 1 / math.sqrt(weight.shape[-2])
            nn.init.uniform_(weight, -bound, bound)
            nn.init.uniform_(bias, -bound, bound)

    def _layers(self):
        yield self.w_in_EDH, self.b_in_EH
        yield from zip(self.w_hid_LEHH, self.b_hid_LEH, strict=True)
        yield self.w_out_EHO, self.b_out_EO

    def forward_all(self, x_ND: torch.Tensor) -> torch.Tensor:
        """Every expert on every point, [N, E, O]: dense gating and the maps' grid probes."""
        h_NEH = self.activation(torch.einsum("nd,edh->neh", x_ND, self.w_in_EDH) + self.b_in_EH)
        for w_EHH, b_EH in zip(self.w_hid_LEHH, self.b_hid_LEH, strict=True):
            h_NEH = self.activation(torch.einsum("neh,ehg->neg", h_NEH, w_EHH) + b_EH)
        return torch.einsum("neh,eho->neo", h_NEH, self.w_out_EHO) + self.b_out_EO

    def forward_one(self, e: int, x_MD: torch.Tensor) -> torch.Tensor:
        """Expert e on its own points, [M, O]."""
        h_MH = self.activation(torch.addmm(self.b_in_EH[e], x_MD, self.w_in_EDH[e]))
        for w_EHH, b_EH in zip(self.w_hid_LEHH, self.b_hid_LEH, strict=True):
            h_MH = self.activation(torch.addmm(b_EH[e], h_MH, w_EHH[e]))
        return torch.addmm(self.b_out_EO[e], h_MH, self.w_out_EHO[e])


def dispatch(experts: Experts, x_ND: torch.Tensor, ids_NK: torch.Tensor, kept_NK: torch.Tensor) -> torch.Tensor:
    """Each kept slot's expert output, [N, K, O]; zero where a slot is not kept.

    The single place that decides how experts run: when every point keeps every expert (dense
    gating, or top_k = E) one batched einsum; otherwise the kept slots are sorted by expert and
    each expert runs once on its contiguous slice.
    """
    n, k = ids_NK.shape
    n_out = experts.b_out_EO.shape[1]
    if k == experts.n_experts and bool(kept_NK.all()):
        return experts.forward_all(x_ND).gather(1, ids_NK.unsqueeze(2).expand(n, k, n_out))
    slot_M = kept_NK.reshape(-1).nonzero().squeeze(1)
    expert_M = ids_NK.reshape(-1)[slot_M]
    order_M = torch.argsort(expert_M, stable=True)
    slot_M, expert_M = slot_M[order_M], expert_M[order_M]
    counts = torch.bincount(expert_M, minlength=experts.n_experts).tolist()
    x_MD = x_ND[slot_M // k]
    outs, start = [], 0
    for e, count in enumerate(counts):
        if count:
            outs.append(experts.forward_one(e, x_MD[start : start + count]))
            start += count
    out_flat = x_ND.new_zeros(n * k, n_out)
    if outs:
        out_flat = out_flat.index_copy(0, slot_M, torch.cat(outs))
    return out_flat.view(n, k, n_out)
