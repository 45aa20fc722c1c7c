"""Expert regularisation, the MoE tutorial's mu L_expert_regularization: a weight decay on the experts alone,
and a diversity penalty that pushes experts apart, by their weights or by their outputs on the batch.

Shapes: S stacked seeds, E experts per seed, P an expert's flattened weights, B points per seed, O outputs.
Stacked seeds: every term is the sum of the seeds' own (experts of different seeds are never compared).
"""

from __future__ import annotations

import torch

from moe_core.layer.moe import MoE

OUTPUT_POINTS = 64  # points per seed the output diversity compares experts on: enough, at E forward passes


def penalty(model: MoE, x_ND: torch.Tensor) -> torch.Tensor | None:
    """What `model.expert_decay` and `model.diversity_coef` add to the loss on this batch; None for nothing."""
    m, terms = model.cfg, []
    if m.expert_decay > 0:
        terms.append(0.5 * m.expert_decay * sum((p.float() ** 2).sum() for p in model.experts.parameters()))
    if m.diversity_coef > 0:
        if m.diversity_kind == "weights":
            similarity = mean_similarity(expert_weights(model.experts, model.stack))
        else:
            similarity = mean_similarity(expert_outputs(model.experts, x_ND, model.stack))
        terms.append(m.diversity_coef * similarity)
    return sum(terms[1:], terms[0]) if terms else None


def expert_weights(experts: torch.nn.Module, stack: int = 1) -> torch.Tensor | None:
    """Each expert's weights as one vector, [S, E, P]; None where experts differ in shape (mixed kinds)."""
    if any(p.shape[axis] != experts.n_experts for p, axis in experts.param_axes()):
        return None
    parts = [p.movedim(axis, 0).reshape(p.shape[axis], -1) for p, axis in experts.param_axes()]
    flat_XP = torch.cat(parts, dim=1)
    return flat_XP.view(stack, -1, flat_XP.shape[1])


def expert_outputs(experts: torch.nn.Module, x_ND: torch.Tensor, stack: int = 1) -> torch.Tensor:
    """Each expert's outputs on (up to OUTPUT_POINTS of) its own seed's points, as one vector, [S, E, B * O]."""
    x_SBD = x_ND.view(stack, -1, x_ND.shape[1])[:, :OUTPUT_POINTS]
    out_SBXO = experts.forward_all(x_SBD.reshape(-1, x_ND.shape[1])).view(stack, x_SBD.shape[1], -1, experts.n_out)
    per_seed = out_SBXO.shape[2] // stack
    own_SBEO = torch.stack([out_SBXO[s, :, s * per_seed : (s + 1) * per_seed] for s in range(stack)])
    return own_SBEO.permute(0, 2, 1, 3).flatten(2)


def mean_similarity(v_SEP: torch.Tensor) -> torch.Tensor:
    """The mean squared cosine similarity over pairs of different experts, summed over seeds: 0 when
    every pair is orthogonal, 1 when all point the same way (or opposite); 0 with one expert."""
    n_experts = v_SEP.shape[1]
    if n_experts < 2:
        return v_SEP.new_zeros(())
    unit_SEP = torch.nn.functional.normalize(v_SEP.float(), dim=2)
    cos_SEE = unit_SEP @ unit_SEP.transpose(1, 2)
    off_diagonal = ~torch.eye(n_experts, dtype=torch.bool, device=v_SEP.device)
    return (cos_SEE[:, off_diagonal] ** 2).mean(dim=1).sum()
