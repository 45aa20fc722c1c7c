"""The MoE and its dense baseline, an MLP with the same total parameter count.

Shapes: N points, D input dim, E experts, K slots per point, O outputs (classes, or 1 for a regression).
Either model can hold several seeds stacked (`stack` S, `moe_core.stacking`): S * E experts and S gates,
the batch S blocks of points, each block through its own seed's weights only.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
from torch import nn

from moe_core import losses
from moe_core.choices import ACTIVATIONS, COMBINES, EXPERT_KINDS
from moe_core.fast import FAST
from moe_core.kernels import Kernels
from moe_core.options import ModelConfig
from moe_core.routers import ROUTERS
from moe_core.routers.base import Router, Routing
from moe_core.stacking import StackedLinear, block_offsets


@dataclass(frozen=True)
class ModelOutput:
    output_NO: torch.Tensor  # the prediction: logits (or mixture log-probabilities), or the value
    slot_out_NKO: torch.Tensor | None  # each slot's expert output (plus shared experts), MoE only
    routing: Routing | None  # MoE only


class MoE(nn.Module):
    """A router, E stacked experts, and always-on shared experts (DeepSeekMoE, Dai et al. 2024):
    y = sum_k w_k f_{e_k}(x) + sum_s g_s(x)."""

    def __init__(
        self,
        cfg: ModelConfig,
        dim: int,
        n_out: int,
        classification: bool,
        x_ref_ND: torch.Tensor | None = None,
        seed: int = 0,
        kernels: Kernels = FAST,
        stack: int = 1,
        patches: int = 1,
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.classification = classification
        self.kernels = kernels
        self.stack = stack
        self.router: Router = ROUTERS[cfg.router].load()(cfg, dim, kernels, x_ref_ND, seed, stack, patches)
        self.experts = make_experts(cfg, cfg.n_experts * stack, dim, n_out, patches)
        self.shared = None
        if cfg.shared_experts:
            self.shared = make_experts(cfg, cfg.shared_experts * stack, dim, n_out, patches)
        self.combiner = COMBINES[cfg.combine].load()(dim, n_out, self.router.slots, stack)

    def set_config(self, cfg: ModelConfig) -> None:
        """Swap in a config that differs only in options the modules read at run time (the live ones)."""
        self.cfg = cfg
        self.router.set_config(cfg)

    def shared_output(self, x_ND: torch.Tensor) -> torch.Tensor | None:
        """The shared experts' summed output, [N, O]; None without shared experts."""
        if self.shared is None:
            return None
        if self.stack == 1:
            return self.shared.forward_all(x_ND).sum(dim=1)
        n_shared = self.cfg.shared_experts  # stacked: each seed's points through its own shared experts
        offsets_N1 = block_offsets(self.stack, len(x_ND), n_shared, x_ND.device)
        ids_NJ = torch.arange(n_shared, device=x_ND.device) + offsets_N1
        return self.kernels.run_experts(self.shared, x_ND, ids_NJ, None).sum(dim=1)

    def forward(self, x_ND: torch.Tensor, batch_routing: bool = True) -> ModelOutput:
        routing = self.router(x_ND, batch_routing)
        mix = getattr(self.router, "mix", None)
        if mix is not None:  # Soft MoE: slots mix the points, so no point's slots run alone
            shared_NO = self.shared_output(x_ND)
            output_NO = mix(x_ND, self.experts)
            return ModelOutput(output_NO if shared_NO is None else output_NO + shared_NO, None, routing)
        ids_NK = self.router.expert_ids(routing.topk_ids_NK)
        slot_out_NKO = self.kernels.run_experts(self.experts, x_ND, ids_NK, routing.kept_NK)
        shared_NO = self.shared_output(x_ND)
        if self.cfg.objective == "mixture":
            if shared_NO is not None:
                slot_out_NKO = slot_out_NKO + shared_NO.unsqueeze(1)
            return ModelOutput(self._mixture_prediction(slot_out_NKO, routing.weights_NK), slot_out_NKO, routing)
        output_NO = self.combiner(x_ND, routing.weights_NK, slot_out_NKO, routing.kept_NK, self.kernels)
        if shared_NO is not None:
            output_NO = output_NO + shared_NO
            slot_out_NKO = slot_out_NKO + shared_NO.unsqueeze(1)
        return ModelOutput(output_NO, slot_out_NKO, routing)

    def _mixture_prediction(self, slot_out_NKO: torch.Tensor, weights_NK: torch.Tensor) -> torch.Tensor:
        """The mixture's predictive distribution: log sum_k w_k softmax(o_k) (classes), or its mean."""
        weights_NK1 = weights_NK.unsqueeze(2)
        share_NK1 = weights_NK1 / weights_NK1.sum(dim=1, keepdim=True).clamp_min(1e-12)
        if self.classification:
            return torch.log((share_NK1 * torch.softmax(slot_out_NKO, dim=2)).sum(dim=1).clamp_min(1e-12))
        return (share_NK1 * slot_out_NKO).sum(dim=1)


def make_experts(cfg: ModelConfig, count: int, dim: int, n_out: int, patches: int, hidden: int | None = None):
    """`count` experts of the configured kind, their initial weights times `model.expert_init_scale`."""
    kind = EXPERT_KINDS[cfg.expert_kind].load()
    width = cfg.expert_hidden if hidden is None else hidden
    if hasattr(kind, "from_config"):  # a kind with settings of its own (mixed experts' list of kinds)
        experts = kind.from_config(cfg, count, dim, n_out, patches, width)
    else:
        experts = kind(count, dim, width, n_out, cfg.expert_layers, cfg.expert_activation, patches)
    if cfg.expert_init_scale != 1:
        with torch.no_grad():
            for p in experts.parameters():
                p.mul_(cfg.expert_init_scale)
    return experts


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
        self.activation = ACTIVATIONS[activation].load()
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


def build_model(
    cfg: ModelConfig,
    dim: int,
    n_out: int,
    classification: bool,
    x_ref_ND: torch.Tensor | None = None,
    seed: int = 0,
    kernels: Kernels = FAST,
    stack: int = 1,
    patches: int = 1,
) -> nn.Module:
    """The MoE the config describes, or for `arch: dense` a single network with the MoE's parameter count
    (an MLP; one patch expert for patch experts); `stack` seeds of it stacked in one model (their
    weights are loaded afterwards, `moe_core.stacking`); `patches`: the data's (`Dataset.patches`)."""
    moe = MoE(cfg, dim, n_out, classification, x_ref_ND, seed, kernels, stack, patches)
    if cfg.arch == "moe":
        return moe
    target = count_params(moe) // stack
    if cfg.expert_kind == "patch":
        filters = max(n_out, round(target / (dim // patches) / n_out) * n_out)
        return SingleExpert(make_experts(cfg, stack, dim, n_out, patches, filters), kernels, stack)
    width = matched_width(target, dim, n_out, cfg.expert_layers)
    return DenseMLP(dim, width, n_out, cfg.expert_layers, cfg.expert_activation, kernels, stack)
