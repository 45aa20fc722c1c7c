"""The MoE layer: a router, E stacked experts and the shared experts, combined into one output per point.

Shapes: N points, D input dim, E experts, K slots per point, O outputs (classes, or 1 for a regression).
A layer can hold several seeds stacked (`stack` S, `moe_core.layer.stacking`): S * E experts and S gates,
the batch S blocks of points, each block through its own seed's weights only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from moe_core.layer.build import Build
from moe_core.layer.routers import ROUTERS
from moe_core.layer.routers.base import Router, Routing
from moe_core.layer.stacking import block_offsets
from moe_core.settings.choices import COMBINES, EXPERT_KINDS
from moe_core.settings.model_section import ModelConfig


@dataclass(frozen=True)
class ModelOutput:
    output_NO: torch.Tensor  # the prediction: logits (or mixture log-probabilities), or the value
    slot_out_NKO: torch.Tensor | None  # each slot's expert output (plus shared experts), MoE only
    routing: Routing | None  # MoE only


class MoE(nn.Module):
    """A router, E stacked experts, and always-on shared experts (DeepSeekMoE, Dai et al. 2024):
    y = sum_k w_k f_{e_k}(x) + sum_s g_s(x)."""

    def __init__(self, cfg: ModelConfig, build: Build) -> None:
        super().__init__()
        self.cfg = cfg
        self.classification = build.classification
        self.kernels = build.kernels
        self.stack = build.stack
        self.router: Router = ROUTERS[cfg.router].implementation()(cfg, build)
        self.experts = make_experts(cfg, cfg.n_experts * build.stack, build)
        self.shared = None
        if cfg.shared_experts:
            self.shared = make_experts(cfg, cfg.shared_experts * build.stack, build)
        self.combiner = COMBINES[cfg.combine].implementation()(build.dim, build.n_out, self.router.slots, build.stack)

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
        if self.router.mix is not None:  # Soft MoE: slots mix the points, so no point's slots run alone
            shared_NO = self.shared_output(x_ND)
            output_NO = self.router.mix(x_ND, self.experts)
            return ModelOutput(output_NO if shared_NO is None else output_NO + shared_NO, None, routing)
        ids_NK = self.router.expert_ids(routing.topk_ids_NK)
        kept_NK = None if routing.all_kept else routing.kept_NK
        slot_out_NKO = self.kernels.run_experts(self.experts, x_ND, ids_NK, kept_NK)
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


def make_experts(cfg: ModelConfig, count: int, build: Build, hidden: int | None = None):
    """`count` experts of the configured kind, their initial weights times `model.expert_init_scale`."""
    kind = EXPERT_KINDS[cfg.expert_kind].implementation()
    width = cfg.expert_hidden if hidden is None else hidden
    dim, n_out, patches = build.dim, build.n_out, build.patches
    if hasattr(kind, "from_config"):  # a kind with settings of its own (mixed experts' list of kinds)
        experts = kind.from_config(cfg, count, dim, n_out, patches, width)
    else:
        experts = kind(count, dim, width, n_out, cfg.expert_layers, cfg.expert_activation, patches)
    if cfg.expert_init_scale != 1:
        with torch.no_grad():
            for p in experts.parameters():
                p.mul_(cfg.expert_init_scale)
    return experts
