"""Soft MoE: no point is routed; each expert's slots take weighted averages of a group of points, and each
point's output is a weighted average of the slots' outputs. Nothing is dropped, and no balance is needed.

Shapes: N points, G points in a group, D input dim, E experts, P slots per expert, S = E * P slots,
O outputs, C context points (evaluation).

A point's output depends on the group it comes in. Training takes each batch as the group (each seed's
block, when seeds are stacked). Evaluation (metrics, maps, the inspector) puts every point in a fixed
group: the first model.soft_group - 1 training points and the point itself, so that a point's output
is its own and the map is a function of the plane.
"""

from __future__ import annotations

import torch

from moe_core.layer.build import Build
from moe_core.layer.routers.base import Router, Routing, make_gate


class Soft(Router):
    """Puigcerver, Riquelme, Mustafa, Houlsby 2023, From Sparse to Soft Mixtures of Experts: logits
    L = X Φ [G, S]; dispatch weights D = softmax over the group's points (each slot's input is a
    weighted average of points), combine weights C = softmax over the slots (each point's output a
    weighted average of the slots' outputs); slot s runs expert s // P."""

    def setup(self, build: Build) -> None:
        self.gate = make_gate(self.cfg, build.dim, self.stack, self.patches, self.n_slots)  # Φ
        x_ref_ND = build.x_ref_ND
        context = torch.zeros(0, build.dim) if x_ref_ND is None else x_ref_ND[: self.cfg.soft_group - 1]
        # not in the state: the data give it back, and stacked seeds share it
        self.register_buffer("context_CD", context.detach().clone(), persistent=False)

    @property
    def n_slots(self) -> int:
        return self.cfg.n_experts * self.cfg.slots_per_expert

    @property
    def slots(self) -> int:
        return self.cfg.n_experts

    def slot_logits(self, x_ND: torch.Tensor) -> torch.Tensor:
        return self.gate(x_ND).float()

    def logits(self, x_ND: torch.Tensor) -> torch.Tensor:
        """Per expert, the log of its slots' combine weights: log sum_{s of e} C_s, so that the
        probabilities the metrics and maps read are each expert's share of the point's output."""
        slot_NS = self.slot_logits(x_ND)
        per_expert_NE = slot_NS.unflatten(1, (self.cfg.n_experts, -1)).logsumexp(dim=2)
        return per_expert_NE - slot_NS.logsumexp(dim=1, keepdim=True)

    def choose(self, logits_NE, scores_NE, noise_std_NE, batch_routing: bool) -> Routing:
        """Every expert is a slot of the routing, weighted by its share of the output; nothing is dropped."""
        share_NE = torch.exp(logits_NE)
        n, n_experts = share_NE.shape
        ids_NE = torch.arange(n_experts, device=share_NE.device).expand(n, n_experts)
        return self.routing(logits_NE, scores_NE, noise_std_NE, ids_NE, share_NE, probs_NE=share_NE)

    def expert_flops(self, routing: Routing, cost_E: torch.Tensor) -> torch.Tensor:
        """A group of G points runs every expert on its P slots once: P * sum_e cost_e / G a point (G
        the test group, model.soft_group, as the batch is while training)."""
        per_point = self.cfg.slots_per_expert * cost_E.view(self.stack, -1).sum(dim=1) / self.cfg.soft_group
        return per_point.repeat_interleave(len(routing.weights_NK) // self.stack)

    def mix(self, x_ND: torch.Tensor, experts: torch.nn.Module) -> torch.Tensor:
        """The layer's output, [N, O]: the batch as the group while training, the fixed group otherwise."""
        slot_NS = self.slot_logits(x_ND)
        if self.training:
            return self._grouped(x_ND, slot_NS, experts)
        if self.stack != 1:
            raise ValueError("Soft MoE evaluates one seed at a time; unstack the seeds first.")
        return self._in_context(x_ND, slot_NS, experts)

    def _grouped(self, x_ND, slot_NS, experts) -> torch.Tensor:
        """Each seed's block of the batch is one group: slot inputs D^T X, outputs C Y."""
        seeds, n_slots = self.stack, self.n_slots
        x_XGD, slot_XGS = x_ND.view(seeds, -1, x_ND.shape[1]), slot_NS.view(seeds, -1, n_slots)
        dispatch_XGS = torch.softmax(slot_XGS, dim=1)
        combine_XGS = torch.softmax(slot_XGS, dim=2)
        slot_in_XSD = dispatch_XGS.transpose(1, 2) @ x_XGD.float()
        slot_out_XSO = torch.stack([self._run(experts, slot_in_XSD[s], s) for s in range(seeds)])
        return (combine_XGS @ slot_out_XSO).view(-1, slot_out_XSO.shape[2])

    def _in_context(self, x_ND, slot_NS, experts) -> torch.Tensor:
        """Each point in a group of its own with the context points: slot s's input is
        (sum_c e^{L_cs} x_c + e^{L_ns} x_n) / (sum_c e^{L_cs} + e^{L_ns}), computed stably."""
        context_CD = self.context_CD.to(x_ND.device)
        context_CS = self.slot_logits(context_CD)
        top_S = context_CS.max(dim=0).values if len(context_CD) else torch.full_like(slot_NS[0], -torch.inf)
        weight_CS = torch.exp(context_CS - top_S)
        sum_SD, mass_S = weight_CS.T @ context_CD.float(), weight_CS.sum(dim=0)
        top_NS = torch.maximum(top_S, slot_NS)
        scale_NS, own_NS = torch.exp(top_S - top_NS), torch.exp(slot_NS - top_NS)
        numerator_NSD = scale_NS.unsqueeze(2) * sum_SD + own_NS.unsqueeze(2) * x_ND.float().unsqueeze(1)
        slot_in_NSD = numerator_NSD / (scale_NS * mass_S + own_NS).unsqueeze(2)
        n, n_slots, dim = slot_in_NSD.shape
        slot_out_NSO = self._run(experts, slot_in_NSD.transpose(0, 1).reshape(n_slots, n, dim), 0)
        combine_NS = torch.softmax(slot_NS, dim=1)
        return torch.einsum("ns,sno->no", combine_NS, slot_out_NSO.view(n_slots, n, -1))

    def _run(self, experts, slot_in_SXD: torch.Tensor, seed: int) -> torch.Tensor:
        """Slot s's inputs through expert s // P of the seed, [S, ..., O] ([S, D] in, or [S, X, D])."""
        per = self.cfg.slots_per_expert
        outs = []
        for e in range(self.cfg.n_experts):
            block = slot_in_SXD[e * per : (e + 1) * per]
            out = experts.forward_one(seed * self.cfg.n_experts + e, block.reshape(-1, block.shape[-1]))
            outs.append(out.view(*block.shape[:-1], -1))
        return torch.cat(outs)
