"""Heterogeneous experts: experts of different widths, depths or activations in one layer, and linear
experts beside them, as the MoE tutorial's "heterogeneous experts". Each kind's experts stay stacked
(`moe_core.layer.experts.Experts`); the layer keeps one stack per kind and runs an expert through its own.
`model.expert_mix` names the kinds, cycled over the experts (`moe_core.settings.expert_mix`).

Shapes: N points, M rows of one expert, D input dim, E experts, O outputs.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from moe_core.errors import ConfigError
from moe_core.layer.experts import Experts
from moe_core.settings.expert_mix import ExpertSpec, parse_mix


class LinearExperts(nn.Module):
    """E linear maps D -> O with biases, stacked: y = x W_e + b_e."""

    packable = False

    def __init__(self, n_experts: int, dim: int, n_out: int) -> None:
        super().__init__()
        self.w_EDO = nn.Parameter(torch.empty(n_experts, dim, n_out))
        self.b_EO = nn.Parameter(torch.empty(n_experts, n_out))
        bound = 1 / math.sqrt(dim)  # nn.Linear's default
        nn.init.uniform_(self.w_EDO, -bound, bound)
        nn.init.uniform_(self.b_EO, -bound, bound)

    @property
    def n_experts(self) -> int:
        return self.w_EDO.shape[0]

    def flops_E(self) -> torch.Tensor:
        return torch.full((self.n_experts,), float(self.w_EDO.shape[1] * self.w_EDO.shape[2]))

    def param_axes(self) -> list[tuple[nn.Parameter, int]]:
        return [(self.w_EDO, 0), (self.b_EO, 0)]

    def forward_one(self, e: int, x_MD: torch.Tensor) -> torch.Tensor:
        return x_MD @ self.w_EDO[e] + self.b_EO[e]

    def forward_all(self, x_ND: torch.Tensor) -> torch.Tensor:
        return torch.einsum("nd,edo->neo", x_ND, self.w_EDO) + self.b_EO


class MixedExperts(nn.Module):
    """Experts of several kinds in one layer: expert i is of kind i mod (number of kinds), and each
    kind's experts form one stack, run together where the dispatch runs every expert."""

    packable = False

    def __init__(self, n_experts: int, dim: int, n_out: int, specs: list[ExpertSpec]) -> None:
        super().__init__()
        if n_experts % len(specs):
            raise ConfigError(f"{n_experts} experts do not cycle evenly through {len(specs)} kinds.")
        self.specs, self._n_out = specs, n_out
        per_kind = n_experts // len(specs)
        self.kinds = nn.ModuleList(
            LinearExperts(per_kind, dim, n_out)
            if spec.width == 0
            else Experts(per_kind, dim, spec.width, n_out, spec.depth, spec.activation)
            for spec in specs
        )

    @classmethod
    def from_config(cls, cfg, count: int, dim: int, n_out: int, patches: int, hidden: int | None = None):
        return cls(count, dim, n_out, parse_mix(cfg.expert_mix, cfg.expert_layers, cfg.expert_activation))

    @property
    def n_experts(self) -> int:
        return len(self.specs) * self.kinds[0].n_experts

    @property
    def n_out(self) -> int:
        return self._n_out

    def kind_of(self, e: int) -> int:
        return e % len(self.specs)

    def labels(self) -> list[str]:
        """Each expert's kind, in words ("linear", "MLP 16 relu")."""
        return [self.specs[self.kind_of(e)].label for e in range(self.n_experts)]

    def flops_E(self) -> torch.Tensor:
        """Multiply-adds one point costs in each expert, [E]: its own kind's."""
        per_kind = torch.stack([kind.flops_E()[0] for kind in self.kinds])
        return per_kind[torch.arange(self.n_experts) % len(self.specs)]

    def param_axes(self) -> list[tuple[nn.Parameter, int]]:
        return [pair for kind in self.kinds for pair in kind.param_axes()]

    def forward_one(self, e: int, x_MD: torch.Tensor) -> torch.Tensor:
        return self.kinds[self.kind_of(e)].forward_one(e // len(self.specs), x_MD)

    def forward_all(self, x_ND: torch.Tensor) -> torch.Tensor:
        """Every expert on every point, [N, E, O], in expert order (the kinds interleaved)."""
        per_kind = [kind.forward_all(x_ND) for kind in self.kinds]  # each [N, E / kinds, O]
        return torch.stack(per_kind, dim=2).flatten(1, 2)
