"""Routers: from inputs to a `Routing` that the experts, the losses, the metrics and the maps share.

Shapes: N points, D input dim, E experts, K slots per point (top_k for token choice; E for dense
gating and expert choice, where a slot per expert is either assigned or not).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from moe_core import losses
from moe_core.config import SWITCH_DEFAULT_CAPACITY, ModelConfig
from moe_core.rowops import softmax_rows

NOISE_EPSILON = 1e-2  # T2T NoisyTopKGating: std = softplus(x W_noise) + 1e-2
MIN_CAPACITY = 4  # Mesh-TF, DeepSpeed and lucidrains floor the expert capacity at 4 slots


@dataclass(frozen=True)
class Routing:
    logits_NE: torch.Tensor  # router logits h(x), float32, before noise
    # router probabilities (softmax; sigmoid scores normalised to sum 1); None in a training step where
    # the chosen logits pick and weigh and no loss reads them
    probs_NE: torch.Tensor | None
    topk_ids_NK: torch.Tensor  # int64 expert of each slot
    weights_NK: torch.Tensor  # combine weight of each slot; 0 where the slot is not kept
    # Masks are None where they would be all True, so that a plain top-k step builds neither:
    kept_NK: torch.Tensor | None  # bool: chosen and within capacity, so the expert runs on it
    assigned_NK: torch.Tensor | None  # bool: the router chose this slot (expert choice: the expert took it)
    # Computed only when something needs them (the step's loss or bias update, or evaluation):
    load_E: torch.Tensor | None  # routed slots per expert (dense gating: gate mass), no gradient
    balance_loss: torch.Tensor | None  # unweighted loss of the balance strategy (aux_loss, importance)
    z_loss: torch.Tensor | None  # unweighted ST-MoE z-loss, when its weight is above 0

    def kept_mask(self) -> torch.Tensor:
        return torch.ones_like(self.topk_ids_NK, dtype=torch.bool) if self.kept_NK is None else self.kept_NK

    def assigned_mask(self) -> torch.Tensor:
        return torch.ones_like(self.topk_ids_NK, dtype=torch.bool) if self.assigned_NK is None else self.assigned_NK

    @property
    def dropped_NK(self) -> torch.Tensor:
        return self.assigned_mask() & ~self.kept_mask()


class Router(nn.Module):
    """All routers of design.md section 5 behind one forward; the config picks the rule."""

    def __init__(self, cfg: ModelConfig, dim: int, x_ref_ND: torch.Tensor | None = None, seed: int = 0) -> None:
        super().__init__()
        self.cfg = cfg
        n_experts = cfg.n_experts
        if cfg.gate_hidden > 0:
            self.gate = nn.Sequential(nn.Linear(dim, cfg.gate_hidden), nn.ReLU(), nn.Linear(cfg.gate_hidden, n_experts))
        else:
            self.gate = nn.Linear(dim, n_experts)
        self.noise = nn.Linear(dim, n_experts) if cfg.router == "noisy_topk" else None
        self.register_buffer("bias_E", torch.zeros(n_experts))
        self.register_buffer("centroids_ED", _hash_centroids(x_ref_ND, n_experts, dim, seed))
        self.generator: torch.Generator | None = None  # the trainer's, so gate noise is seeded per run
        self.reset_parameters()

    def reset_parameters(self) -> None:
        last = self.gate[-1] if isinstance(self.gate, nn.Sequential) else self.gate
        if self.cfg.router == "noisy_topk":
            # Shazeer et al. start W_g and W_noise at zero: early routing is pure noise, hence balanced.
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
            nn.init.zeros_(self.noise.weight)
            nn.init.zeros_(self.noise.bias)
        else:
            # Switch Transformer: truncated normal with std sqrt(0.1 / fan_in).
            std = math.sqrt(0.1 / last.weight.shape[1])
            nn.init.trunc_normal_(last.weight, std=std, a=-2 * std, b=2 * std)
            nn.init.zeros_(last.bias)

    @property
    def slots(self) -> int:
        return self.cfg.n_experts if self.cfg.router in ("dense", "expert_choice") else self.cfg.top_k

    def logits(self, x_ND: torch.Tensor) -> torch.Tensor:
        if self.cfg.router == "hash":
            return -torch.cdist(x_ND.float(), self.centroids_ED).pow(2)
        return self.gate(x_ND).float()  # router in float32 (Switch's selective precision)

    def scores(self, x_ND: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Noise-free (logits, probs, selection scores) for maps and probes; top-k of the last is the choice."""
        logits_NE = self.logits(x_ND)
        probs_NE, affinity_NE = self._probs(logits_NE)
        return logits_NE, probs_NE, self._selection(affinity_NE)

    def forward(self, x_ND: torch.Tensor, batch_routing: bool = True) -> Routing:
        """Route a batch. batch_routing=False routes each point as if it came alone (no capacity;
        expert choice falls back to each point's top-k): what the maps show for a region."""
        cfg = self.cfg
        logits_NE = self.logits(x_ND)
        noisy_NE, noise_std = self._add_noise(x_ND, logits_NE)
        # Where the logits pick and weigh and no loss reads the probabilities, a training step skips their
        # softmax; where nothing differentiates through them, it stays out of the backward.
        probs_need_grad = cfg.balance == "aux_loss" or not self._softmax_of_chosen
        probs_NE = affinity_NE = None
        if probs_need_grad or not self.training:
            with torch.set_grad_enabled(torch.is_grad_enabled() and probs_need_grad):
                probs_NE, affinity_NE = self._probs(noisy_NE)
        if cfg.router == "dense":
            ids_NK, weights_NK, assigned_NK, kept_NK = self._dense(probs_NE)
        elif cfg.router == "expert_choice" and batch_routing:
            ids_NK, weights_NK, assigned_NK, kept_NK = self._expert_choice(probs_NE)
        else:
            scores_NE = noisy_NE if self._softmax_of_chosen else affinity_NE
            ids_NK, weights_NK, assigned_NK, kept_NK = self._token_choice(scores_NE, batch_routing)
        load_E = None
        if not self.training or cfg.balance in ("aux_loss", "bias"):
            load_E = self._load(ids_NK, weights_NK, assigned_NK)
        balance = self._balance_loss(logits_NE, noisy_NE, noise_std, probs_NE, ids_NK, weights_NK, load_E)
        z_loss = losses.z_loss(logits_NE) if cfg.z_loss_coef > 0 else None
        return Routing(logits_NE, probs_NE, ids_NK, weights_NK, kept_NK, assigned_NK, load_E, balance, z_loss)

    def _add_noise(self, x_ND, logits_NE) -> tuple[torch.Tensor, torch.Tensor | None]:
        cfg = self.cfg
        if not self.training or cfg.gate_noise == 0 or cfg.router == "hash":
            return logits_NE, None
        if self.noise is not None:
            std = (F.softplus(self.noise(x_ND).float()) + NOISE_EPSILON) * cfg.gate_noise
        else:
            std = torch.full_like(logits_NE, cfg.gate_noise)
        draw = torch.randn(logits_NE.shape, generator=self.generator, device=logits_NE.device)
        return logits_NE + draw * std, std

    def _probs(self, logits_NE: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(probabilities for losses and metrics, affinities that the top-k and the weights use)."""
        if self.cfg.normalize == "sigmoid" and self.cfg.router in ("topk", "noisy_topk"):
            affinity = torch.sigmoid(logits_NE)
            # DeepSeek-V3 scores do not sum to 1; losses use them normalised (reference section 1.12).
            return affinity / affinity.sum(dim=1, keepdim=True), affinity
        probs = softmax_rows(logits_NE)
        return probs, probs

    def _selection(self, affinity_NE: torch.Tensor) -> torch.Tensor:
        # DeepSeek-V3 auxiliary-loss-free balancing: the bias moves selection only, never the weights.
        return affinity_NE + self.bias_E if self.cfg.balance == "bias" else affinity_NE

    @property
    def constant_weights(self) -> bool:
        """Top-1 with the weight renormalised over the one choice: it is exactly 1, so the task loss gives
        the router no gradient and only a balance loss trains it (reference section 1.13)."""
        cfg = self.cfg
        return cfg.top_k == 1 and cfg.router in ("topk", "noisy_topk") and cfg.normalize != "softmax"

    @property
    def _softmax_of_chosen(self) -> bool:
        """Whether the weights are the softmax renormalised over the k chosen, which equals the softmax of
        the k chosen logits: then the logits pick (the same order as the probabilities) and weigh."""
        cfg = self.cfg
        return cfg.router in ("topk", "noisy_topk") and cfg.normalize == "softmax_topk" and cfg.balance != "bias"

    def _token_choice(self, affinity_NE, capacity: bool):
        """Each point's top_k experts by affinity (probabilities, sigmoid scores, or for a softmax
        renormalised over the chosen, the logits)."""
        cfg = self.cfg
        ids_NK = top_k_ids(self._selection(affinity_NE), cfg.top_k)
        if cfg.router == "hash":
            weights_NK = affinity_NE.new_full(ids_NK.shape, 1.0 / cfg.top_k)
        elif self.constant_weights:
            weights_NK = affinity_NE.new_ones(ids_NK.shape)
        else:
            # Slot-major, [K, N], as the blend reads the weights (and a softmax over K is column-wise
            # there); with balance bias: the bias picks, the unbiased score weighs.
            chosen_KN = affinity_NE.T.gather(0, ids_NK.T)
            if self._softmax_of_chosen:
                weights_NK = torch.softmax(chosen_KN, dim=0).T
            else:
                renormalise = cfg.router not in ("switch", "expert_choice") and cfg.normalize != "softmax"
                weights_NK = (chosen_KN / chosen_KN.sum(0, keepdim=True) if renormalise else chosen_KN).T
        if not capacity or self._capacity_factor() is None:
            return ids_NK, weights_NK, None, None
        kept_NK = self._within_capacity(ids_NK)
        return ids_NK, weights_NK * kept_NK, None, kept_NK

    def _within_capacity(self, ids_NK: torch.Tensor) -> torch.Tensor:
        """Keep slots in priority order (all first choices by position, then second choices: GShard)."""
        factor = self._capacity_factor()
        n, k = ids_NK.shape
        capacity = min(n * k, max(MIN_CAPACITY, math.ceil(factor * k * n / self.cfg.n_experts)))
        flat_M = ids_NK.T.reshape(-1)
        sorted_M, order_M = torch.sort(flat_M, stable=True)
        starts_M = torch.searchsorted(sorted_M, sorted_M)  # where each slot's expert group begins
        rank_M = torch.empty_like(flat_M)
        rank_M[order_M] = torch.arange(len(flat_M), device=flat_M.device) - starts_M
        return (rank_M < capacity).view(k, n).T

    @property
    def may_drop(self) -> bool:
        """Whether a batch can leave slots unserved: a capacity limit, or experts choosing their points."""
        return self.cfg.router == "expert_choice" or self._capacity_factor() is not None

    def _capacity_factor(self) -> float | None:
        """Token-choice capacity factor: the config's, Switch's 1.25 by default, None for no limit."""
        if self.cfg.router == "expert_choice":
            return None
        if self.cfg.capacity_factor is None and self.cfg.router == "switch":
            return SWITCH_DEFAULT_CAPACITY
        return self.cfg.capacity_factor

    def _expert_choice(self, probs_NE):
        """Zhou et al. 2022: each expert takes its top c = ceil(N * cf / E) points by probability."""
        n, n_experts = probs_NE.shape
        factor = self.cfg.capacity_factor if self.cfg.capacity_factor is not None else float(self.cfg.top_k)
        capacity = min(n, max(1, math.ceil(n * factor / n_experts)))
        chosen_EC = probs_NE.T.topk(capacity, dim=1).indices
        assigned_NE = torch.zeros_like(probs_NE, dtype=torch.bool)
        assigned_NE.scatter_(0, chosen_EC.T, True)
        ids_NE = torch.arange(n_experts, device=probs_NE.device).expand(n, n_experts)
        return ids_NE, probs_NE * assigned_NE, assigned_NE, assigned_NE

    def _dense(self, probs_NE):
        """Jacobs et al. 1991: every expert runs, weighted by the softmax gate."""
        n, n_experts = probs_NE.shape
        ids_NE = torch.arange(n_experts, device=probs_NE.device).expand(n, n_experts)
        return ids_NE, probs_NE, None, None

    def _load(self, ids_NK, weights_NK, assigned_NK) -> torch.Tensor:
        if self.cfg.router == "dense":
            return weights_NK.detach().sum(dim=0)
        # scatter_add, not bincount: bincount sizes its output from the data, a host sync on CUDA
        load_E = weights_NK.new_zeros(self.cfg.n_experts)
        counted_M = load_E.new_ones(ids_NK.numel()) if assigned_NK is None else assigned_NK.reshape(-1)
        return load_E.scatter_add_(0, ids_NK.reshape(-1), counted_M.to(load_E.dtype))

    def _balance_loss(self, logits_NE, noisy_NE, noise_std, probs_NE, ids_NK, weights_NK, load_E):
        balance = self.cfg.balance
        if balance == "aux_loss":
            return losses.switch_balance_loss(probs_NE, load_E)
        if balance == "importance":
            gates_NE = torch.zeros_like(logits_NE).scatter_add(1, ids_NK, weights_NK)
            loss = losses.importance_loss(gates_NE)
            if noise_std is not None and self.cfg.router in ("topk", "noisy_topk"):
                loss = loss + losses.cv_squared(losses.smooth_load(logits_NE, noisy_NE, noise_std, self.cfg.top_k))
            return loss
        return None

    @torch.no_grad()
    def update_bias(self, load_E: torch.Tensor) -> None:
        """DeepSeek-V3 (Wang et al. 2024): b_i += gamma * sign(mean load - load_i) after each step."""
        self.bias_E += self.cfg.bias_update_rate * torch.sign(load_E.mean() - load_E)


def top_k_ids(scores_NE: torch.Tensor, k: int) -> torch.Tensor:
    """The k highest-scoring experts of each point, [N, K], best first (the first of tied scores);
    on the CPU a view of [K, N], slot-major, the order the CPU dispatch reads slots in.

    On one CPU thread torch's row reductions over a few experts are slow (4096 x 16: topk 0.71 ms,
    argmax 0.13 ms; 4096 x 64: 2.7 and 0.60 ms); numpy's argmax takes 0.09 and 0.11 ms, so on the
    CPU top-1 is one numpy argmax and top-2 a second one with each winner knocked out.
    """
    scores_NE = scores_NE.detach()
    if scores_NE.device.type != "cpu" or k > 2 or scores_NE.dtype not in (torch.float32, torch.float64):
        return scores_NE.topk(k, dim=1).indices
    scores = scores_NE.numpy()
    first_N = scores.argmax(axis=1)
    if k == 1:
        return torch.from_numpy(first_N).unsqueeze(1)
    rest = scores.copy()  # C-ordered, so the flat index of (n, e) is n * E + e
    rest.reshape(-1)[np.arange(0, rest.size, rest.shape[1]) + first_N] = -np.inf
    return torch.from_numpy(np.stack([first_N, rest.argmax(axis=1)])).T


def _hash_centroids(x_ref_ND: torch.Tensor | None, n_experts: int, dim: int, seed: int) -> torch.Tensor:
    """Frozen random centroids for hash routing (Roller et al. 2021's fixed partition, for points)."""
    generator = torch.Generator().manual_seed(seed + 104729)
    if x_ref_ND is None or len(x_ref_ND) == 0:
        return torch.randn(n_experts, dim, generator=generator)
    if len(x_ref_ND) >= n_experts:
        rows = torch.randperm(len(x_ref_ND), generator=generator)[:n_experts]
    else:
        rows = torch.randint(len(x_ref_ND), (n_experts,), generator=generator)
    return x_ref_ND[rows].float().clone()
