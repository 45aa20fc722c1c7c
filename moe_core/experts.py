"""Experts as stacked weights, and the readable definition of running routed slots through them.

Shapes: N points, D input dim, H expert hidden width, E experts, K slots per point, O outputs,
L hidden-to-hidden layers (expert_layers - 1), M = N * K slots, I / P a layer's input / output width.
The fast ways to do the same live in packed.py (CPU) and grouped.py (CUDA); dispatch.py picks one.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "gelu": F.gelu,
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

    @property
    def row_width(self) -> int:
        """Floats one point makes on its way through an expert: its input, then each layer's output."""
        return self.w_in_EDH.shape[1] + sum(w.shape[2] for w, _ in self.layers())

    def reset_parameters(self) -> None:
        """nn.Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases, per expert."""
        for weight, bias in self.layers():
            bound = 1 / math.sqrt(weight.shape[-2])
            nn.init.uniform_(weight, -bound, bound)
            nn.init.uniform_(bias, -bound, bound)

    def layers(self):
        """(weight [E, I, P], bias [E, P]) for each layer, input first."""
        yield self.w_in_EDH, self.b_in_EH
        if len(self.w_hid_LEHH):  # iterating even an empty stack is an autograd op, on every step
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


def dispatch_loop(experts: Experts, x_ND: torch.Tensor, ids_NK: torch.Tensor, kept_NK: torch.Tensor | None = None):
    """The readable definition: gather each expert's kept slots, run it, put the outputs back.

    Costs one host synchronisation (the group sizes) and a Python iteration per expert.
    """
    n, k = ids_NK.shape
    kept_M = torch.ones(n * k, dtype=torch.bool, device=ids_NK.device) if kept_NK is None else kept_NK.reshape(-1)
    slot_M = kept_M.nonzero().squeeze(1)
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
    n_out = experts.b_out_EO.shape[1]
    out_flat = x_ND.new_zeros(n * k, n_out)
    if outs:
        out_flat = out_flat.index_copy(0, slot_M, torch.cat(outs))
    return out_flat.view(n, k, n_out)


def dispatch_dense(experts: Experts, x_ND: torch.Tensor, ids_NK: torch.Tensor, kept_NK: torch.Tensor | None = None):
    """Every expert on every point, then each slot's output picked (zero where not kept): E / K times
    the arithmetic of a sparse dispatch in a few large operations, with no host synchronisation."""
    out_NEO = experts.forward_all(x_ND)
    out_NKO = out_NEO.gather(1, ids_NK.unsqueeze(2).expand(-1, -1, out_NEO.shape[2]))
    return out_NKO if kept_NK is None else torch.where(kept_NK.unsqueeze(2), out_NKO, 0.0)
