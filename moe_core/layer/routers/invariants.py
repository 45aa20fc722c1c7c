"""What must hold for every routing a rule makes, as checks the registry names for each rule.

Each check takes the router and a batch's Routing (made with batch_routing=True) and returns a
sentence describing the first violation, or None. The tests run every registered rule's checks on
random batches; a notebook user can run them on their own router the same way.

Shapes: N points, E experts, K slots per point.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable

import torch

from moe_core.layer.routers.base import MIN_CAPACITY, Router, Routing

TOL = 1e-5


def k_distinct_experts(router: Router, r: Routing) -> str | None:
    """Every point's slots name top_k different experts."""
    k = r.topk_ids_NK.shape[1]
    if k != router.cfg.top_k:
        return f"{k} slots per point, not top_k = {router.cfg.top_k}"
    distinct_N = torch.tensor([len(set(row)) for row in r.topk_ids_NK.tolist()])
    if (distinct_N != k).any():
        return "a point names the same expert twice"
    return None


def weights_follow_normalize(router: Router, r: Routing) -> str | None:
    """softmax: the chosen probabilities; softmax_topk and sigmoid: the chosen affinities renormalised
    to sum to 1 (exactly 1 for top-1); zero for a dropped slot."""
    affinity_NE = torch.sigmoid(r.scores_NE) if router.sigmoid_scores else torch.softmax(r.scores_NE, dim=1)
    chosen_NK = affinity_NE.gather(1, r.topk_ids_NK)
    if router.cfg.normalize != "softmax":
        chosen_NK = chosen_NK / chosen_NK.sum(dim=1, keepdim=True)
    return _close(r.weights_NK, chosen_NK * r.kept_NK, "the weights")


def weights_are_probabilities(router: Router, r: Routing) -> str | None:
    """Each kept slot's weight is the softmax probability of its expert; a slot not kept weighs 0."""
    expected_NK = torch.softmax(r.scores_NE, dim=1).gather(1, r.topk_ids_NK) * r.kept_NK
    return _close(r.weights_NK, expected_NK, "the weights")


def capacity_respected(router: Router, r: Routing) -> str | None:
    """No expert keeps more than ceil(factor * k * N / E) slots (at least MIN_CAPACITY); only a full
    expert drops slots; first choices are served before second choices."""
    factor = router.capacity_factor
    if factor is None:
        return None if bool(r.kept_NK.all()) else "a slot was dropped without a capacity limit"
    n, k = r.topk_ids_NK.shape
    capacity = min(n * k, max(MIN_CAPACITY, math.ceil(factor * k * n / router.cfg.n_experts)))
    kept_E = torch.bincount(r.topk_ids_NK[r.kept_NK], minlength=router.cfg.n_experts)
    if (kept_E > capacity).any():
        return f"an expert kept {int(kept_E.max())} slots, over its capacity {capacity}"
    for e in r.topk_ids_NK[r.dropped_NK].unique().tolist():
        if kept_E[e] != capacity:
            return f"expert {e} dropped slots while below its capacity"
        first_dropped = (r.dropped_NK[:, 0] & (r.topk_ids_NK[:, 0] == e)).any()
        later_kept = (r.kept_NK[:, 1:] & (r.topk_ids_NK[:, 1:] == e)).any()
        if first_dropped and later_kept:
            return f"expert {e} kept a second choice while dropping a first choice"
    return None


def equal_expert_load(router: Router, r: Routing) -> str | None:
    """Every expert takes exactly its capacity c = ceil(N * cf / E) points (cf defaults to top_k)."""
    n = r.topk_ids_NK.shape[0]
    factor = router.cfg.capacity_factor if router.cfg.capacity_factor is not None else float(router.cfg.top_k)
    capacity = min(n, max(1, math.ceil(n * factor / router.cfg.n_experts)))
    load_E = r.assigned_NK.sum(dim=0)
    if (load_E != capacity).any():
        return f"expert loads {load_E.tolist()}, not all {capacity}"
    return None


def experts_take_their_best_points(router: Router, r: Routing) -> str | None:
    """Each expert's points are its highest-probability ones: none left out scores higher."""
    for e in range(router.cfg.n_experts):
        taken, left = r.probs_NE[r.assigned_NK[:, e], e], r.probs_NE[~r.assigned_NK[:, e], e]
        if len(taken) and len(left) and taken.min() < left.max() - TOL:
            return f"expert {e} passed over a point it scores higher than one it took"
    return None


def every_expert_runs(router: Router, r: Routing) -> str | None:
    """Every point goes to every expert, all slots kept."""
    n, k = r.topk_ids_NK.shape
    every_NK = torch.arange(router.cfg.n_experts).expand(n, router.cfg.n_experts)
    if k != router.cfg.n_experts or not torch.equal(r.topk_ids_NK.cpu(), every_NK) or not bool(r.kept_NK.all()):
        return "not every expert runs on every point"
    return None


def nearest_centroids(router: Router, r: Routing) -> str | None:
    """The chosen experts are the k whose frozen centroids are nearest (the logits are minus the
    squared distances; a balancing bias may move the choice), weighted 1/k each unless dropped."""
    selection_NE = router.select(torch.softmax(r.logits_NE, dim=1))
    chosen_NK = selection_NE.gather(1, r.topk_ids_NK).sort(dim=1).values
    best_NK = selection_NE.topk(r.topk_ids_NK.shape[1], dim=1).values.sort(dim=1).values
    uniform_NK = torch.full_like(r.weights_NK, 1 / router.cfg.top_k) * r.kept_NK
    return _close(chosen_NK, best_NK, "the chosen centroids' scores") or _close(r.weights_NK, uniform_NK, "the weights")


def fewest_experts_reaching_p(router: Router, r: Routing) -> str | None:
    """Each point takes its most probable experts (by the selection scores, which a balancing bias may
    move), as few as reach top_p: their probabilities sum to p
    or more, and without the least of them they would not (the first is always taken); weighted by
    their probabilities, renormalised over those taken unless `normalize` is softmax."""
    probs_NK = r.probs_NE.gather(1, r.topk_ids_NK)
    order_NK = router.select(r.probs_NE).gather(1, r.topk_ids_NK)  # a balancing bias may reorder them
    taken_NK = r.kept_NK
    if (order_NK[:, :-1] < order_NK[:, 1:] - TOL).any() or (taken_NK[:, 1:] & ~taken_NK[:, :-1]).any():
        return "a point took a less probable expert before a more probable one"
    mass_N = (probs_NK * taken_NK).sum(dim=1)
    count_N = taken_NK.sum(dim=1)
    last_N = probs_NK.gather(1, (count_N - 1).unsqueeze(1))[:, 0]
    if ((mass_N < router.cfg.top_p - TOL) & (count_N < probs_NK.shape[1])).any():
        return "a point's experts fall short of p"
    if ((count_N > 1) & (mass_N - last_N >= router.cfg.top_p + TOL)).any():
        return "a point took more experts than it needed to reach p"
    weights_NK = probs_NK * taken_NK
    if router.cfg.normalize != "softmax":
        weights_NK = weights_NK / mass_N.unsqueeze(1)
    return _close(r.weights_NK, weights_NK, "the weights")


def probabilities_are_two_level(router: Router, r: Routing) -> str | None:
    """Hierarchical gating: the experts' probabilities sum to 1, and each group's total is spread over
    its experts in proportions that sum to 1 (a product of two softmaxes)."""
    probs_NE = torch.softmax(r.logits_NE, dim=1)
    group_NG = probs_NE.unflatten(1, (router.cfg.n_groups, -1)).sum(dim=2)
    return (
        _close(probs_NE.sum(dim=1), torch.ones(len(probs_NE)), "the probabilities' sums")
        or _close(torch.exp(r.logits_NE).sum(dim=1), torch.ones(len(probs_NE)), "the logits (log-probabilities)")
        or _close(group_NG.sum(dim=1), torch.ones(len(probs_NE)), "the groups' probabilities")
    )


def combine_weights_sum_to_one(router: Router, r: Routing) -> str | None:
    """Soft MoE: every expert's weight is its slots' share of the point's output (the exponent of its
    logit), the shares sum to 1, and nothing is dropped."""
    if not bool(r.kept_NK.all()):
        return "a slot was dropped"
    return _close(r.weights_NK, torch.exp(r.logits_NE).gather(1, r.topk_ids_NK), "the weights") or _close(
        r.weights_NK.sum(dim=1), torch.ones(len(r.weights_NK)), "the combine weights' sums"
    )


def _close(actual: torch.Tensor, expected: torch.Tensor, what: str) -> str | None:
    if torch.allclose(actual, expected, rtol=1e-4, atol=TOL):
        return None
    return f"{what} differ from the rule's by up to {float((actual - expected).abs().max().detach()):.3g}"


INVARIANTS: dict[str, Callable[[Router, Routing], str | None]] = {
    check.__name__: check
    for check in (
        k_distinct_experts,
        weights_follow_normalize,
        weights_are_probabilities,
        capacity_respected,
        equal_expert_load,
        experts_take_their_best_points,
        every_expert_runs,
        nearest_centroids,
        fewest_experts_reaching_p,
        probabilities_are_two_level,
        combine_weights_sum_to_one,
    )
}


def resolve(invariant) -> Callable[[Router, Routing], str | None]:
    """A check by its name here, by "module:function" (a rule's own, imported on first use), or itself."""
    if not isinstance(invariant, str):
        return invariant
    if ":" not in invariant:
        return INVARIANTS[invariant]
    module, _, name = invariant.partition(":")
    return getattr(importlib.import_module(module), name)


def violations(router: Router, r: Routing) -> list[str]:
    """Every broken invariant of the router's registry entry, as sentences."""
    found = []
    for invariant in router.spec.invariants:
        check = resolve(invariant)
        problem = check(router, r)
        if problem:
            found.append(f"{check.__name__}: {problem}")
    return found
