"""The readable definition of a mixture-of-experts layer, in plain torch. Start reading here.

A sparse MoE layer (Shazeer et al. 2017; Fedus et al. 2021; Mixtral, Jiang et al. 2024):
  1. the router scores every expert for every point:      logits = x W_g + b_g,  probs = softmax(logits)
  2. each point keeps its k best experts:                  top-k of probs
  3. their weights are the kept probabilities, optionally renormalised to sum to 1
  4. each expert runs on the points that chose it:         a loop over experts
  5. the layer's output is the weighted sum:               y = sum_k w_k f_{e_k}(x)
`moe_layer` is exactly that. The product's MoE (`moe_core.models.points`) generalises step 1-3 to every
registered routing rule (`moe_core.layer.routers`) and runs steps 2, 4 and 5 through a set of kernels:
`REFERENCE` below, made of these plain functions, or `moe_core.layer.fast.FAST`, tested equal to it.

Shapes: N points, D input dim, E experts, K experts per point, O outputs.
"""

from __future__ import annotations

import torch
from torch import nn

from moe_core.layer.experts import Experts
from moe_core.layer.kernels import Kernels


def moe_layer(x_ND: torch.Tensor, gate: nn.Linear, experts: Experts, k: int, renormalize: bool = True) -> torch.Tensor:
    """A top-k MoE layer from scratch, [N, O]: `renormalize` is Mixtral's softmax over the k chosen;
    without it the weights are the raw probabilities (Switch at k = 1)."""
    logits_NE = gate(x_ND)
    probs_NE = torch.softmax(logits_NE, dim=1)
    topk_probs_NK, topk_ids_NK = probs_NE.topk(k, dim=1)
    weights_NK = topk_probs_NK / topk_probs_NK.sum(dim=1, keepdim=True) if renormalize else topk_probs_NK
    out_NKO = run_experts(experts, x_ND, topk_ids_NK)
    return combine(weights_NK, out_NKO)


def run_experts(
    experts: Experts, x_ND: torch.Tensor, ids_NK: torch.Tensor, kept_NK: torch.Tensor | None = None
) -> torch.Tensor:
    """Each slot's expert output, [N, K, O]; zero for a slot that is not kept (a capacity drop).

    One expert at a time: find the (point, slot) pairs routed to it, run it on those points, write
    the outputs back. Costs a host synchronisation and a Python iteration per expert.
    """
    n, k = ids_NK.shape
    if kept_NK is None:
        kept_NK = torch.ones_like(ids_NK, dtype=torch.bool)
    out_NKO = x_ND.new_zeros(n, k, experts.n_out)
    for e in range(experts.n_experts):
        rows_M, slots_M = torch.nonzero((ids_NK == e) & kept_NK, as_tuple=True)
        if len(rows_M):
            out_NKO = out_NKO.index_put((rows_M, slots_M), experts.forward_one(e, x_ND[rows_M]))
    return out_NKO


def combine(weights_NK: torch.Tensor, out_NKO: torch.Tensor) -> torch.Tensor:
    """The weighted sum over each point's slots, [N, O]."""
    return torch.einsum("nk,nko->no", weights_NK, out_NKO)


def top_k(scores_NE: torch.Tensor, k: int) -> torch.Tensor:
    """The k highest-scoring experts of each point, [N, K], best first."""
    return scores_NE.topk(k, dim=1).indices


def chosen(scores_NE: torch.Tensor, ids_NK: torch.Tensor) -> torch.Tensor:
    """Each point's scores of its chosen experts, [N, K]."""
    return scores_NE.gather(1, ids_NK)


def softmax(x_NE: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x_NE, dim=1)


def log_softmax(x_NE: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(x_NE, dim=1)


def zero_grad(optimizer: torch.optim.Optimizer) -> None:
    optimizer.zero_grad(set_to_none=True)


def optimizer_step(optimizer: torch.optim.Optimizer) -> None:
    optimizer.step()


REFERENCE = Kernels("reference", top_k, chosen, softmax, log_softmax, run_experts, combine, zero_grad, optimizer_step)
