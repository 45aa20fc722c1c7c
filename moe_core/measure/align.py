"""Aligned experts: expert numbers are arbitrary, so expert 2 of one run may do what expert 0 does in
another. Matching each run's experts to a reference run's by the points they take (the assignment
that agrees on most probe points, solved exactly by the Hungarian method, scipy's
`linear_sum_assignment`) gives comparable colours, per-expert averages over seeds and difference
maps; the share of points whose aligned expert agrees says how far the two divisions match.

Shapes: N probe points, E experts. `permutation[e]` is the reference expert that expert e of the other
run corresponds to; with more experts than the reference, the unmatched ones get the ids after the
reference's (new colours), and with fewer, some reference ids go unused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from moe_core.layer.moe import MoE
from moe_core.measure.probe import evaluating


@dataclass(frozen=True)
class Alignment:
    permutation: np.ndarray  # [E_other] int: the other run's expert e is the reference's permutation[e]
    agreement: float  # share of probe points whose aligned first choice is the reference's

    def relabel(self, experts: np.ndarray) -> np.ndarray:
        """Expert ids of the other run (any shape) as the reference's ids."""
        return self.permutation[np.asarray(experts)]

    def reorder(self, per_expert_E: np.ndarray) -> np.ndarray:
        """A per-expert array of the other run (experts on axis 0) in the reference's order (both runs
        with the same number of experts)."""
        per_expert_E = np.asarray(per_expert_E)
        out = np.empty_like(per_expert_E)
        out[self.permutation] = per_expert_E
        return out


def align_assignments(
    reference_N: np.ndarray, other_N: np.ndarray, n_reference: int, n_other: int | None = None
) -> Alignment:
    """The one-to-one matching of the other run's experts to the reference's under which the most
    points get the same expert (first choices on the same points)."""
    n_other = n_reference if n_other is None else n_other
    reference_N, other_N = np.asarray(reference_N, dtype=int), np.asarray(other_N, dtype=int)
    together = np.zeros((n_other, n_reference), dtype=np.int64)  # [other expert, reference expert]
    np.add.at(together, (other_N, reference_N), 1)
    rows, cols = linear_sum_assignment(together, maximize=True)
    permutation = np.full(n_other, -1, dtype=int)
    permutation[rows] = cols
    unmatched = permutation < 0
    permutation[unmatched] = n_reference + np.arange(unmatched.sum())
    agreement = float((permutation[other_N] == reference_N).mean()) if len(reference_N) else 1.0
    return Alignment(permutation, agreement)


def first_choices(model: MoE, x_ND: torch.Tensor) -> np.ndarray:
    """Each point's first-choice expert under the router (no noise, no capacity)."""
    with evaluating(model):
        _, _, selection_NE = model.router.ranking(x_ND)
        return selection_NE.argmax(dim=1).cpu().numpy()


def align_models(reference: MoE, other: MoE, x_ND: torch.Tensor) -> Alignment:
    """Align the other MoE's experts to the reference's by their first choices on the same points."""
    return align_assignments(
        first_choices(reference, x_ND), first_choices(other, x_ND), reference.cfg.n_experts, other.cfg.n_experts
    )
