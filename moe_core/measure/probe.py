"""Evaluate a model on points, on a grid over the 2-D view, and on one point: the numbers behind every
map, metric and the inspector.

Shapes: N points, D input dim, E experts, K slots per point, O outputs, R grid cells per side
(grid arrays are [R, R] with row = view y and column = view x, as Plotly's heatmap z expects).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from moe_core.datasets.dataset import Dataset, value_kind
from moe_core.layer.moe import MoE
from moe_core.measure.metrics import gate_entropy
from moe_core.models.points import objective_loss


@dataclass(frozen=True)
class PointProbe:
    """A model on a batch of points in evaluation mode; the routing fields are None for a dense MLP."""

    output_NO: np.ndarray
    value_N: np.ndarray  # see output_value
    loss_N: np.ndarray  # the training objective per point
    logits_NE: np.ndarray | None = None
    probs_NE: np.ndarray | None = None
    first_N: np.ndarray | None = None  # the router's first choice (highest selection score)
    second_N: np.ndarray | None = None
    ids_NK: np.ndarray | None = None  # the routing as executed on this batch (capacity applied)
    weights_NK: np.ndarray | None = None
    assigned_NK: np.ndarray | None = None
    kept_NK: np.ndarray | None = None
    load_E: np.ndarray | None = None
    own_out_NO: np.ndarray | None = None  # the first-choice expert's own output (shared experts added)
    balance_loss: float | None = None  # the balance strategy's loss, where it has one
    executed_N: np.ndarray | None = None  # the kept slot of largest weight, as executed; -1 where none is kept
    flops_N: np.ndarray | None = None  # multiply-adds each point cost in the experts it reached (shared ones too)


@dataclass(frozen=True)
class GridProbe:
    xs_R: np.ndarray  # view x of each column
    ys_R: np.ndarray  # view y of each row
    output_RR: np.ndarray  # the model's value (see output_value)
    winner_RR: np.ndarray | None = None  # uint8 first-choice expert
    winner_prob_RR: np.ndarray | None = None  # its router probability
    second_RR: np.ndarray | None = None  # uint8 second choice (the winner again with one expert)
    entropy_RR: np.ndarray | None = None  # router entropy / log E
    routed_ERR: np.ndarray | None = None  # bool: expert e is among the experts the cell reaches
    group_RR: np.ndarray | None = None  # uint8 first-choice group (hierarchical routing only)
    group_prob_RR: np.ndarray | None = None  # that group's probability
    expert_value_ERR: np.ndarray | None = None  # each expert's own value (only when asked for)

    @property
    def extent(self) -> list[float]:
        """[x0, x1, y0, y1]: the view coordinates of the first and last columns and rows."""
        return [float(self.xs_R[0]), float(self.xs_R[-1]), float(self.ys_R[0]), float(self.ys_R[-1])]


@dataclass(frozen=True)
class Inspection:
    """One point routed as if it came alone (no capacity): what the inspector shows."""

    probs_E: np.ndarray  # router probabilities
    chosen: dict[int, float]  # expert -> combine weight, for the experts the point goes to
    expert_values_E: np.ndarray  # each expert's own value (see output_value), shared experts' output added
    combined: float  # the model's value
    value_kind: str  # "probability", "class" or "value"
    shared: bool  # whether always-on shared experts add to every point's output
    mixing: dict[int, float] | None = None  # expert -> its share of the output, where it is not the weight
    correction: bool = False  # whether a learned combination adds a term of its own
    # The raw numbers the combination adds, [O] or [E, O]: logits for a classification, the value for a
    # regression. Each expert's alone (Soft MoE: its slots' outputs averaged by their combine weights),
    # the shared experts' sum, and the model's output (the mixture objective: its log-probabilities).
    expert_out_EO: np.ndarray | None = None
    shared_O: np.ndarray | None = None
    output_O: np.ndarray | None = None
    mixes_probabilities: bool = False  # the mixture objective: the shares weigh each expert's probabilities
    class_names: tuple[str, ...] = ()


def output_value(out_NO: torch.Tensor, classification: bool) -> torch.Tensor:
    """One number per point for maps, as `value_kind` names it: P(class 1), the argmax class, or the value."""
    kind = value_kind(classification, out_NO.shape[1])
    if kind == "value":
        return out_NO[:, 0]
    if kind == "probability":
        return torch.softmax(out_NO, dim=1)[:, 1]
    return out_NO.argmax(dim=1).float()


@contextmanager
def evaluating(model: nn.Module):
    """The model in evaluation mode (no gate noise) and without gradients, then as it was."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def _with_shared(model: MoE, out_NXO: torch.Tensor, x_ND: torch.Tensor) -> torch.Tensor:
    shared_NO = model.shared_output(x_ND)
    if shared_NO is None:
        return out_NXO
    return out_NXO + (shared_NO if out_NXO.dim() == 2 else shared_NO.unsqueeze(1))


def _first_two(model: MoE, x_ND: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(logits, probabilities, each point's first two choices [N, 2]; one column with one expert)."""
    logits_NE, probs_NE, selection_NE = model.router.ranking(x_ND)
    return logits_NE, probs_NE, selection_NE.topk(min(2, selection_NE.shape[1]), dim=1).indices


def probe_points(model: nn.Module, x_ND: torch.Tensor, y_N: torch.Tensor, classification: bool) -> PointProbe:
    """Evaluate on a batch (routing with capacity, as in training, without noise)."""
    with evaluating(model):
        out = model(x_ND)
        objective = model.cfg.objective if isinstance(model, MoE) else "blend"
        base = dict(
            output_NO=_np(out.output_NO),
            value_N=_np(output_value(out.output_NO, classification)),
            loss_N=_np(objective_loss(out, y_N, classification, objective, "none", model.kernels)),
        )
        if not isinstance(model, MoE):
            return PointProbe(**base)
        r, router = out.routing, model.router
        logits_NE, probs_NE, ranking_NK = _first_two(model, x_ND)
        own_NO = model.kernels.run_experts(model.experts, x_ND, ranking_NK[:, :1])[:, 0]
        balance = router.balance.loss(router, r)
        return PointProbe(
            **base,
            logits_NE=_np(logits_NE),
            probs_NE=_np(probs_NE),
            first_N=_np(ranking_NK[:, 0]),
            second_N=_np(ranking_NK[:, -1]),
            ids_NK=_np(r.topk_ids_NK),
            weights_NK=_np(r.weights_NK),
            assigned_NK=_np(r.assigned_NK),
            kept_NK=_np(r.kept_NK),
            load_E=_np(router.load(r)),
            own_out_NO=_np(_with_shared(model, own_NO, x_ND)),
            balance_loss=None if balance is None else float(balance),
            executed_N=_np(executed_expert(r)),
            flops_N=_np(expert_flops(model, r)),
        )


def executed_expert(r) -> torch.Tensor:
    """Each point's expert as the batch's routing ran it: the kept slot with the largest weight, [N];
    -1 for a point no expert took (expert choice, capacity). Specialisation is measured on this."""
    weights_NK = torch.where(r.kept_NK, r.weights_NK.detach().float(), -1.0)
    best_N1 = weights_NK.argmax(dim=1, keepdim=True)
    return torch.where(r.kept_NK.any(dim=1), r.topk_ids_NK.gather(1, best_N1)[:, 0], -1)


def expert_flops(model: MoE, r) -> torch.Tensor:
    """Each point's multiply-adds in the experts it reached, [N]: its kept slots' experts, plus the
    always-on shared experts (the router's own cost is left out)."""
    flops_N = model.router.expert_flops(r, model.experts.flops_E().to(r.weights_NK.device))
    if model.shared is not None:
        flops_N = flops_N + model.shared.flops_E().sum() / model.stack
    return flops_N


def grid_bounds(data: Dataset, margin: float = 0.1) -> tuple[float, float, float, float]:
    """A square window (x0, x1, y0, y1) around the training points in the view, with a margin."""
    view = data.projection.to_view(data.x_train).numpy()
    lo, hi = view.min(axis=0), view.max(axis=0)
    centre, half = (lo + hi) / 2, (hi - lo).max() / 2 * (1 + margin) + 1e-6
    return centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half


def probe_grid(
    model: nn.Module,
    data: Dataset,
    resolution: int = 100,
    device: torch.device | None = None,
    with_experts: bool = False,
) -> GridProbe:
    """Evaluate an R x R grid over the 2-D view in one batched pass; each cell routes as if alone.

    `with_experts` adds every expert's own value on every cell (E times the work: for thumbnails).
    """
    x0, x1, y0, y1 = grid_bounds(data)
    xs_R, ys_R = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs_R, ys_R)
    view_GV = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=1)).float()
    x_GD = data.projection.from_view(view_GV).to(device or "cpu")
    with evaluating(model):
        out = model(x_GD, batch_routing=False)
        output_RR = _np(output_value(out.output_NO, data.classification)).reshape(resolution, resolution)
        if not isinstance(model, MoE):
            return GridProbe(xs_R, ys_R, output_RR)
        grids = _routing_grids(model, x_GD, out.routing, data, (resolution, resolution), with_experts)
        return GridProbe(xs_R, ys_R, output_RR, **grids)


def _routing_grids(model: MoE, x_GD, routing, data: Dataset, shape: tuple[int, int], with_experts: bool) -> dict:
    """GridProbe's routing fields for G = R x R cells: choices, sureness, entropy, who is routed where."""
    _, probs_GE, ranking_GK = _first_two(model, x_GD)
    n_experts = probs_GE.shape[1]
    routed_EG = torch.zeros(n_experts, len(x_GD), dtype=torch.bool, device=x_GD.device)
    routed_EG.scatter_(0, routing.topk_ids_NK.T, routing.kept_NK.T.contiguous())
    values_ERR = None
    if with_experts:
        out_GEO = _with_shared(model, model.experts.forward_all(x_GD), x_GD)
        values_GE = torch.stack([output_value(o, data.classification) for o in out_GEO.unbind(dim=1)], dim=1)
        values_ERR = _np(values_GE.T).reshape(n_experts, *shape)
    return dict(
        winner_RR=_np(ranking_GK[:, 0]).astype(np.uint8).reshape(shape),
        winner_prob_RR=_np(probs_GE.gather(1, ranking_GK[:, :1])).reshape(shape),
        second_RR=_np(ranking_GK[:, -1]).astype(np.uint8).reshape(shape),
        entropy_RR=gate_entropy(_np(probs_GE)).astype(np.float32).reshape(shape),
        routed_ERR=_np(routed_EG).reshape(n_experts, *shape),
        expert_value_ERR=values_ERR,
        **_group_grids(model, x_GD, shape),
    )


def _group_grids(model: MoE, x_GD: torch.Tensor, shape: tuple[int, int]) -> dict:
    """The coarse level of hierarchical routing: each cell's most probable group and its probability."""
    levels = getattr(model.router, "levels", None)
    if levels is None:
        return {}
    group_probs = torch.exp(levels(x_GD)[0])
    best_G1 = group_probs.argmax(dim=1, keepdim=True)
    return dict(
        group_RR=_np(best_G1[:, 0]).astype(np.uint8).reshape(shape),
        group_prob_RR=_np(group_probs.gather(1, best_G1)[:, 0]).reshape(shape),
    )


def inspect_point(model: MoE, data: Dataset, x_D: torch.Tensor) -> Inspection:
    """Route one point of `data`'s input space as if it came alone; read every expert's output and the
    combined one."""
    classification = data.classification
    with evaluating(model):
        x_1D = x_D.reshape(1, -1)
        out = model(x_1D, batch_routing=False)
        r = out.routing
        pairs = zip(r.topk_ids_NK[0].tolist(), r.weights_NK[0].tolist(), r.kept_NK[0].tolist(), strict=True)
        chosen = {e: w for e, w, kept in pairs if kept}
        own_EO = _own_outputs(model, x_1D)
        shared_O = model.shared_output(x_1D)
        values_E = _np(output_value(_with_shared(model, own_EO.unsqueeze(0), x_1D)[0], classification))
        combined = float(output_value(out.output_NO, classification)[0])
        mixing = _shares(model, x_1D, r, chosen)
        return Inspection(
            _np(r.probs_NE[0]), chosen, values_E, combined, data.value_kind, model.shared is not None, mixing,
            model.combiner.adds_correction and model.cfg.objective != "mixture", _np(own_EO),
            None if shared_O is None else _np(shared_O[0]), _np(out.output_NO[0]),
            model.cfg.objective == "mixture" and classification, data.class_names if classification else (),
        )  # fmt: skip


def _shares(model: MoE, x_1D: torch.Tensor, r, chosen: dict[int, float]) -> dict[int, float] | None:
    """Expert -> its share of the output where that is not its weight: attention's re-weighing, or the
    mixture objective's weights over the chosen experts' sum (Jacobs et al. 1991)."""
    if model.cfg.objective == "mixture":
        total = sum(chosen.values())
        shares = {e: w / total for e, w in chosen.items()} if total > 0 else {}
        return None if shares == chosen else shares
    if getattr(model.router, "mix", None) is not None:  # Soft MoE: its weights are the shares
        return None
    slot_out_1KO = model.kernels.run_experts(model.experts, x_1D, r.topk_ids_NK, r.kept_NK)
    share_K = model.combiner.mixing(x_1D, r.weights_NK, slot_out_1KO, r.kept_NK)[0]
    if torch.equal(share_K, r.weights_NK[0]):
        return None
    pairs = zip(r.topk_ids_NK[0].tolist(), share_K.tolist(), r.kept_NK[0].tolist(), strict=True)
    return {e: w for e, w, kept in pairs if kept}


class _OneExpert:
    """Experts of which only expert `e` answers (the others give zeros): Soft MoE's output with it is
    that expert's part of the point's output."""

    def __init__(self, experts: nn.Module, e: int) -> None:
        self.experts, self.e = experts, e

    def forward_one(self, e: int, x_MD: torch.Tensor) -> torch.Tensor:
        out_MO = self.experts.forward_one(e, x_MD)
        return out_MO if e == self.e else torch.zeros_like(out_MO)


def _own_outputs(model: MoE, x_1D: torch.Tensor) -> torch.Tensor:
    """Each expert's own output for the point, [E, O], shared experts not added. Soft MoE runs its
    experts on mixes of the point and its group: there it is the expert's part of the output over its
    share, so that the shares times these add up to the output."""
    mix = getattr(model.router, "mix", None)
    if mix is None:
        return model.experts.forward_all(x_1D)[0]
    share_E = torch.exp(model.router.logits(x_1D))[0]
    parts = [mix(x_1D, _OneExpert(model.experts, e))[0] for e in range(len(share_E))]
    return torch.stack(parts) / share_E.clamp_min(1e-12).unsqueeze(1)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()
