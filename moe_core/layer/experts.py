"""Experts as stacked weights: E multilayer perceptrons in a few tensors, never a list of modules.

Shapes: N points, M rows of one expert, D input dim, H hidden width, E experts, O outputs,
L hidden-to-hidden layers (expert_layers - 1), I / P a layer's input / output width.
How routed points reach their experts is the kernels' business (`reference.run_experts` is the plain
loop; `fast.dispatch` the fast ways).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import nn

from moe_core.errors import ConfigError
from moe_core.settings.choices import ACTIVATIONS


def cube(z: torch.Tensor) -> torch.Tensor:
    """Chen et al. 2022's z^3 activation."""
    return z**3


def identity(z: torch.Tensor) -> torch.Tensor:
    return z


class StackedExperts(nn.Module):
    """What every kind of stacked experts is built from: E experts from D inputs through hidden width H
    (`layers` deep, `activation` between) to O outputs, on inputs of `patches` equal patches. A kind
    declares its weights (`create`) and its initial values (`reset_parameters`)."""

    def __init__(
        self,
        n_experts: int,
        dim: int,
        hidden: int,
        n_out: int,
        layers: int = 1,
        activation: str = "relu",
        patches: int = 1,
    ):
        super().__init__()
        self.activation = ACTIVATIONS[activation].implementation()
        self.create(n_experts, dim, hidden, n_out, layers, patches)
        self.reset_parameters()

    def create(self, n_experts: int, dim: int, hidden: int, n_out: int, layers: int, patches: int) -> None:
        raise NotImplementedError

    def reset_parameters(self) -> None:
        raise NotImplementedError


class Experts(StackedExperts):
    """E MLPs D -> H (-> H)* -> O, their weights stacked along a leading expert axis."""

    packable = True  # layers of (weight, bias) that the fast dispatch may run in packed batched matmuls

    def create(self, n_experts: int, dim: int, hidden: int, n_out: int, layers: int, patches: int) -> None:
        self.w_in_EDH = nn.Parameter(torch.empty(n_experts, dim, hidden))
        self.b_in_EH = nn.Parameter(torch.empty(n_experts, hidden))
        self.w_hid_LEHH = nn.Parameter(torch.empty(layers - 1, n_experts, hidden, hidden))
        self.b_hid_LEH = nn.Parameter(torch.empty(layers - 1, n_experts, hidden))
        self.w_out_EHO = nn.Parameter(torch.empty(n_experts, hidden, n_out))
        self.b_out_EO = nn.Parameter(torch.empty(n_experts, n_out))

    @property
    def n_experts(self) -> int:
        return self.w_in_EDH.shape[0]

    @property
    def n_out(self) -> int:
        return self.b_out_EO.shape[1]

    @property
    def row_width(self) -> int:
        """Floats one point makes on its way through an expert: its input, then each layer's output."""
        return self.w_in_EDH.shape[1] + sum(w.shape[2] for w, _ in self.layers())

    def flops_E(self) -> torch.Tensor:
        """Multiply-adds one point costs in each expert, [E]: every layer's weights once."""
        per_point = sum(w.shape[1] * w.shape[2] for w, _ in self.layers())
        return torch.full((self.n_experts,), float(per_point))

    def reset_parameters(self) -> None:
        """nn.Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases, per expert."""
        for weight, bias in self.layers():
            bound = 1 / math.sqrt(weight.shape[-2])
            nn.init.uniform_(weight, -bound, bound)
            nn.init.uniform_(bias, -bound, bound)

    def param_axes(self) -> list[tuple[nn.Parameter, int]]:
        """Each weight with its expert axis (normalised GD steps each expert by its own gradient norm)."""
        hidden = {id(self.w_hid_LEHH), id(self.b_hid_LEH)}
        return [(p, 1 if id(p) in hidden else 0) for p in self.parameters()]

    def layers(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(weight [E, I, P], bias [E, P]) for each layer, input first."""
        yield self.w_in_EDH, self.b_in_EH
        if len(self.w_hid_LEHH):  # iterating even an empty stack is an autograd op, on every step
            yield from zip(self.w_hid_LEHH, self.b_hid_LEH, strict=True)
        yield self.w_out_EHO, self.b_out_EO

    def forward_one(self, e: int, x_MD: torch.Tensor) -> torch.Tensor:
        """Expert e on its own points, [M, O]."""
        h_MH = self.activation(x_MD @ self.w_in_EDH[e] + self.b_in_EH[e])
        for w_EHH, b_EH in zip(self.w_hid_LEHH, self.b_hid_LEH, strict=True):
            h_MH = self.activation(h_MH @ w_EHH[e] + b_EH[e])
        return h_MH @ self.w_out_EHO[e] + self.b_out_EO[e]

    def forward_all(self, x_ND: torch.Tensor) -> torch.Tensor:
        """Every expert on every point, [N, E, O]: dense gating, shared experts and the maps' grid probes."""
        h_NEH = self.activation(torch.einsum("nd,edh->neh", x_ND, self.w_in_EDH) + self.b_in_EH)
        for w_EHH, b_EH in zip(self.w_hid_LEHH, self.b_hid_LEH, strict=True):
            h_NEH = self.activation(torch.einsum("neh,ehg->neg", h_NEH, w_EHH) + b_EH)
        return torch.einsum("neh,eho->neo", h_NEH, self.w_out_EHO) + self.b_out_EO


class PatchExperts(StackedExperts):
    """Chen, Deng, Wu, Gu, Li 2022's experts (their ConvNet): H filters of length L = D / P shared by the
    P patches of the input, the activation applied per patch and summed over patches, no biases; output
    o is the sum of the o-th equal share of the filters (their class 0 = the first m filters)."""

    packable = False

    def create(self, n_experts: int, dim: int, hidden: int, n_out: int, layers: int, patches: int) -> None:
        if dim % patches:
            raise ConfigError(f"Patch experts split the input into {patches} patches, but data.dim ({dim}) is not a "
                              "multiple of it; choose a dim that is.")  # fmt: skip
        if hidden % n_out:
            raise ConfigError(f"Patch experts give each of the {n_out} outputs an equal share of the filters; set "
                              f"model.expert_hidden to a multiple of {n_out} (it is {hidden}).")  # fmt: skip
        self.patches, self._n_out = patches, n_out
        self.w_ELH = nn.Parameter(torch.empty(n_experts, dim // patches, hidden))

    @property
    def n_experts(self) -> int:
        return self.w_ELH.shape[0]

    @property
    def n_out(self) -> int:
        return self._n_out

    def flops_E(self) -> torch.Tensor:
        """Multiply-adds one point costs in each expert, [E]: every filter on every patch."""
        return torch.full((self.n_experts,), float(self.patches * self.w_ELH.shape[1] * self.w_ELH.shape[2]))

    def reset_parameters(self) -> None:
        """nn.Conv1d's default: U(-1/sqrt(L), 1/sqrt(L))."""
        bound = 1 / math.sqrt(self.w_ELH.shape[1])
        nn.init.uniform_(self.w_ELH, -bound, bound)

    def param_axes(self) -> list[tuple[nn.Parameter, int]]:
        return [(self.w_ELH, 0)]

    def _readout(self, h_XH: torch.Tensor) -> torch.Tensor:
        """Filters summed in O equal shares: [..., H] -> [..., O]."""
        return h_XH.unflatten(-1, (self._n_out, -1)).sum(dim=-1)

    def forward_one(self, e: int, x_MD: torch.Tensor) -> torch.Tensor:
        """Expert e on its own points, [M, O]."""
        h_MPH = self.activation(x_MD.unflatten(1, (self.patches, -1)) @ self.w_ELH[e])
        return self._readout(h_MPH.sum(dim=1))

    def forward_all(self, x_ND: torch.Tensor) -> torch.Tensor:
        """Every expert on every point, [N, E, O]."""
        h_NEPH = self.activation(torch.einsum("npl,elh->neph", x_ND.unflatten(1, (self.patches, -1)), self.w_ELH))
        return self._readout(h_NEPH.sum(dim=2))
