"""How well a model's weights point along its dataset's hidden directions (Kawata et al. 2025): the
first-layer neurons against each cluster's local direction w_c and the global one w_g, the router's
rows against the cluster means v_c. Cosines are absolute (a neuron and its negative find the same line).

Shapes: E experts (1 for a dense network), J first-layer neurons per expert, K clusters, D input dim.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from moe_core.layer.experts import Experts
from moe_core.layer.moe import MoE
from moe_core.layer.stacking import StackedLinear
from moe_core.models.points import DenseMLP


def neurons(model: nn.Module) -> np.ndarray | None:
    """First-layer weights as [E, J, D]: each MLP expert's hidden units, or the dense network's as one
    expert; None for a model whose first layer is not over the whole input (patch experts)."""
    if isinstance(model, MoE) and isinstance(model.experts, Experts):
        return model.experts.w_in_EDH.detach().cpu().numpy().transpose(0, 2, 1)
    if isinstance(model, DenseMLP):
        return model.hidden[0].weight.detach().cpu().numpy()[None]
    return None


def abs_cosines(rows_XD: np.ndarray, directions_KD: np.ndarray) -> np.ndarray:
    """|cos| between every row and every direction, [X, K]."""
    rows = rows_XD / np.maximum(np.linalg.norm(rows_XD, axis=-1, keepdims=True), 1e-12)
    units = directions_KD / np.linalg.norm(directions_KD, axis=-1, keepdims=True)
    return np.abs(rows @ units.T)


def alignment(model: nn.Module, directions: dict[str, np.ndarray]) -> dict[str, object]:
    """`expert_alignment` [E][K]: max over expert e's neurons of |cos(w_ej, w_c)|; `local_alignment`:
    the mean over clusters of the best expert's value; `global_alignment`: max over all neurons of
    |cos(w, w_g)|; `router_alignment`: the mean over clusters of max over experts of |cos(theta_e, v_c)|
    (linear gates). Random directions in D dimensions give about sqrt(2 / (pi D)) per neuron."""
    weights_EJD = neurons(model)
    if weights_EJD is None:
        return {}
    n_experts, n_neurons, dim = weights_EJD.shape
    local_EJK = abs_cosines(weights_EJD.reshape(-1, dim), directions["local"]).reshape(n_experts, n_neurons, -1)
    per_expert_EK = local_EJK.max(axis=1)
    out: dict[str, object] = {
        "expert_alignment": tuple(tuple(float(v) for v in row) for row in per_expert_EK),
        "local_alignment": float(per_expert_EK.max(axis=0).mean()),
        "global_alignment": float(abs_cosines(weights_EJD.reshape(-1, dim), directions["global"][None]).max()),
    }
    gate = getattr(getattr(model, "router", None), "gate", None)
    if isinstance(gate, StackedLinear) and gate.stack == 1:
        out["router_alignment"] = float(
            abs_cosines(gate.weight.detach().cpu().numpy(), directions["means"]).max(0).mean()
        )
    return out
