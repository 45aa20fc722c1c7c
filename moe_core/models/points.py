"""The model of points: the MoE layer alone (its output is the prediction), or for `arch: dense` its
baseline, one network with the MoE's total parameter count; and the training objective.

Shapes: N points, D input dim, O outputs (classes, or 1 for a regression). Either model can hold
several seeds stacked (`Build.stack` S, `moe_core.layer.stacking`).
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

from moe_core.layer import losses
from moe_core.layer.build import Build
from moe_core.layer.fast import FAST
from moe_core.layer.kernels import Kernels
from moe_core.layer.moe import ModelOutput, MoE, make_experts
from moe_core.layer.stacking import StackedLinear, block_offsets
from moe_core.settings.choices import ACTIVATIONS
from moe_core.settings.model_section import ModelConfig


class SingleExpert(nn.Module):
    """The dense baseline for experts that are not MLPs (Chen et al. 2022's single ConvNets): one expert
    of the configured kind, as large as the whole MoE."""

    def __init__(self, experts: nn.Module, kernels: Kernels = FAST, stack: int = 1) -> None:
        super().__init__()
        self.experts, self.kernels, self.stack = experts, kernels, stack

    def forward(self, x_ND: torch.Tensor, batch_routing: bool = True) -> ModelOutput:
        if self.stack == 1:
            return ModelOutput(self.experts.forward_one(0, x_ND), None, None)
        ids_N1 = block_offsets(self.stack, len(x_ND), 1, x_ND.device)  # stacked: seed s's points to its expert s
        return ModelOutput(self.kernels.run_experts(self.experts, x_ND, ids_N1, None)[:, 0], None, None)


class DenseMLP(nn.Module):
    """The baseline every comparison needs: one MLP, as deep as an expert, as large as the whole MoE."""

    def __init__(
        self,
        dim: int,
        hidden: int,
        n_out: int,
        layers: int,
        activation: str,
        kernels: Kernels = FAST,
        stack: int = 1,
    ) -> None:
        super().__init__()
        self.kernels = kernels  # for its loss: the same set as the MoE it is compared with
        self.activation = ACTIVATIONS[activation].implementation()
        widths = [dim] + [hidden] * layers
        self.hidden = nn.ModuleList(StackedLinear(a, b, stack) for a, b in itertools.pairwise(widths))
        self.out = StackedLinear(hidden, n_out, stack)

    def forward(self, x_ND: torch.Tensor, batch_routing: bool = True) -> ModelOutput:
        h = x_ND
        for layer in self.hidden:
            h = self.activation(layer(h))
        return ModelOutput(self.out(h), None, None)


def objective_loss(
    out: ModelOutput,
    y_N: torch.Tensor,
    classification: bool,
    objective: str,
    reduction: str,
    kernels: Kernels,
) -> torch.Tensor:
    """The training objective, per point [N] or its mean: the task loss of the output, or the mixture
    likelihood (Jacobs et al. 1991)."""
    if objective == "mixture" and out.routing is not None:
        nll_N = losses.mixture_nll(out.slot_out_NKO, out.routing.weights_NK, y_N, classification)
        return nll_N.mean() if reduction == "mean" else nll_N
    return losses.task_loss(out.output_NO, y_N, classification, reduction, kernels.log_softmax)


def mlp_params(dim: int, hidden: int, n_out: int, layers: int) -> int:
    return (dim + 1) * hidden + (layers - 1) * (hidden + 1) * hidden + (hidden + 1) * n_out


def matched_width(target: int, dim: int, n_out: int, layers: int) -> int:
    """The MLP width whose parameter count is closest to `target`."""
    a, b = layers - 1, dim + 1 + (layers - 1) + n_out
    guess = (target - n_out) / b if a == 0 else (-b + math.sqrt(b * b + 4 * a * (target - n_out))) / (2 * a)
    candidates = range(max(1, int(guess) - 2), int(guess) + 3)
    return min(candidates, key=lambda h: abs(mlp_params(dim, h, n_out, layers) - target))


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def build_model(cfg: ModelConfig, build: Build) -> nn.Module:
    """The MoE the config describes, or for `arch: dense` a single network with the MoE's parameter count
    (an MLP; one patch expert for patch experts); `build.stack` seeds of it stacked in one model (their
    weights are loaded afterwards, `moe_core.layer.stacking`)."""
    moe = MoE(cfg, build)
    if cfg.arch == "moe":
        return moe
    stack, kernels = build.stack, build.kernels
    target = count_params(moe) // stack
    if cfg.expert_kind == "patch":
        filters = max(build.n_out, round(target / (build.dim // build.patches) / build.n_out) * build.n_out)
        return SingleExpert(make_experts(cfg, stack, build, filters), kernels, stack)
    width = matched_width(target, build.dim, build.n_out, cfg.expert_layers)
    return DenseMLP(build.dim, width, build.n_out, cfg.expert_layers, cfg.expert_activation, kernels, stack)
