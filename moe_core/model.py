"""The MoE model and its dense baseline, an MLP with the same total parameter count.

Shapes: N points, D input dim, E experts, K slots per point, O outputs (classes, or 1 for a regression).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
from torch import nn

from moe_core import losses
from moe_core.config import ModelConfig
from moe_core.dispatch import dispatch
from moe_core.experts import ACTIVATIONS, Experts
from moe_core.routing import Router, Routing


@dataclass(frozen=True)
class ModelOutput:
    output_NO: torch.Tensor  # the prediction: logits (or mixture log-probabilities), or the value
    slot_out_NKO: torch.Tensor | None  # each slot's expert output (plus shared experts), MoE only
    routing: Routing | None  # MoE only


class MoE(nn.Module):
    """Router + stacked experts (+ always-on shared experts, DeepSeekMoE, Dai et al. 2024)."""

    def __init__(
        self,
        cfg: ModelConfig,
        dim: int,
        n_out: int,
        classification: bool,
        x_ref_ND: torch.Tensor | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.classification = classification
        self.router = Router(cfg, dim, x_ref_ND, seed)
        self.experts = Experts(cfg.n_experts, dim, cfg.expert_hidden, n_out, cfg.expert_layers, cfg.expert_activation)
        self.shared = None
        if cfg.shared_experts:
            self.shared = Experts(
                cfg.shared_experts, dim, cfg.expert_hidden, n_out, cfg.expert_layers, cfg.expert_activation
            )

    def set_config(self, cfg: ModelConfig) -> None:
        """Swap in a config that differs only in fields the modules read at run time (LIVE_FIELDS)."""
        self.cfg = cfg
        self.router.cfg = cfg

    def forward(self, x_ND: torch.Tensor, batch_routing: bool = True) -> ModelOutput:
        routing = self.router(x_ND, batch_routing)
        slot_out_NKO = dispatch(self.experts, x_ND, routing.topk_ids_NK, routing.kept_NK)
        shared_NO = self.shared.forward_all(x_ND).sum(dim=1) if self.shared is not None else None
        if self.cfg.objective == "blend":
            weights_are_one = self.router.constant_weights and routing.kept_NK is None
            output_NO = _combine(routing.weights_NK, slot_out_NKO, weights_are_one)
            if shared_NO is not None:
                output_NO = output_NO + shared_NO
                slot_out_NKO = slot_out_NKO + shared_NO.unsqueeze(1)
            return ModelOutput(output_NO, slot_out_NKO, routing)
        if shared_NO is not None:
            slot_out_NKO = slot_out_NKO + shared_NO.unsqueeze(1)
        weights_NK1 = routing.weights_NK.unsqueeze(2)
        return ModelOutput(self._mixture_prediction(slot_out_NKO, weights_NK1), slot_out_NKO, routing)

    def _mixture_prediction(self, slot_out_NKO: torch.Tensor, weights_NK1: torch.Tensor) -> torch.Tensor:
        """The mixture's predictive distribution: log sum_k w_k softmax(o_k) (classes), or its mean."""
        total_N11 = weights_NK1.sum(dim=1, keepdim=True).clamp_min(1e-12)
        share_NK1 = weights_NK1 / total_N11
        if self.classification:
            return torch.log((share_NK1 * torch.softmax(slot_out_NKO, dim=2)).sum(dim=1).clamp_min(1e-12))
        return (share_NK1 * slot_out_NKO).sum(dim=1)


def _combine(weights_NK: torch.Tensor, slot_out_NKO: torch.Tensor, weights_are_one: bool) -> torch.Tensor:
    """sum_k w_k * out_k, [N, O]: for a single slot (the common top-1 case) one multiply, or none
    where its weight is always 1.

    Several slots are blended feature-first, [O, K, N] times [K, N] summed over K, which is how the
    CPU dispatch and router lay them out: 4096 x 2 slots, forward and backward, 0.08 ms against 0.26
    for a batched [1, K] @ [K, O] matmul per point (one thread). The result is [N, O] over [O, N].
    """
    if weights_NK.shape[1] == 1:
        out_NO = slot_out_NKO.squeeze(1)  # a view: its backward copies nothing, unlike indexing [:, 0]
        return out_NO if weights_are_one else out_NO * weights_NK
    return (slot_out_NKO.permute(2, 1, 0) * weights_NK.T).sum(1).T


class DenseMLP(nn.Module):
    """The baseline every comparison needs: one MLP, as deep as an expert, as large as the whole MoE."""

    def __init__(self, dim: int, hidden: int, n_out: int, layers: int, activation: str) -> None:
        super().__init__()
        self.activation = ACTIVATIONS[activation]
        widths = [dim] + [hidden] * layers
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(widths))
        self.out = nn.Linear(hidden, n_out)

    def forward(self, x_ND: torch.Tensor, batch_routing: bool = True) -> ModelOutput:
        h = x_ND
        for layer in self.hidden:
            h = self.activation(layer(h))
        return ModelOutput(self.out(h), None, None)


def objective_loss(
    out: ModelOutput, y_N: torch.Tensor, classification: bool, objective: str, reduction: str = "none"
) -> torch.Tensor:
    """The training objective, per point [N] or its mean: the task loss of the output, or the mixture likelihood."""
    if objective == "mixture" and out.routing is not None:
        nll_N = losses.mixture_nll(out.slot_out_NKO, out.routing.weights_NK, y_N, classification)
        return nll_N.mean() if reduction == "mean" else nll_N
    return losses.task_loss(out.output_NO, y_N, classification, reduction)


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
    cfg: ModelConfig, dim: int, n_out: int, classification: bool, x_ref_ND: torch.Tensor | None = None, seed: int = 0
) -> nn.Module:
    """The MoE the config describes, or for `arch: dense` an MLP with the MoE's parameter count."""
    moe = MoE(cfg, dim, n_out, classification, x_ref_ND, seed)
    if cfg.arch == "moe":
        return moe
    width = matched_width(count_params(moe), dim, n_out, cfg.expert_layers)
    return DenseMLP(dim, width, n_out, cfg.expert_layers, cfg.expert_activation)
