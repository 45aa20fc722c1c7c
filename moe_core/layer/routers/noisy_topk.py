"""Noisy top-k gating: top-k of the logits plus Gaussian noise whose scale the router learns.

Shapes: N points, D input dim, E experts.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from moe_core.layer.build import Build
from moe_core.layer.routers.topk import TopK
from moe_core.layer.stacking import StackedLinear

NOISE_EPSILON = 1e-2  # T2T NoisyTopKGating: std = softplus(x W_noise) + 1e-2


class NoisyTopK(TopK):
    """Shazeer et al. 2017: H = h + N(0, 1) * softplus(x W_noise) * gate_noise, then top-k. W_g and
    W_noise start at zero, so early routing is pure noise and hence balanced."""

    def setup(self, build: Build) -> None:
        self.noise = StackedLinear(build.dim, self.cfg.n_experts, self.stack)

    def reset_parameters(self) -> None:
        last = self.gate[-1] if isinstance(self.gate, nn.Sequential) else self.gate
        for layer in (last, self.noise):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def add_noise(self, x_ND: torch.Tensor, logits_NE: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if not self.training or self.cfg.gate_noise == 0:
            return logits_NE, None
        std_NE = (F.softplus(self.noise(x_ND).float()) + NOISE_EPSILON) * self.cfg.gate_noise
        return logits_NE + self.draw_noise(logits_NE) * std_NE, std_NE
