"""What every router shares: the gate's logits, training noise, probabilities, and the `Routing` it returns.

Shapes: N points, D input dim, E experts, K slots per point (top_k for token choice; E for dense
gating and expert choice, where a slot per expert is either assigned or not).
A rule is a subclass that says which slots each point gets and with what weights (`choose`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import torch
from torch import nn

from moe_core.layer import losses
from moe_core.layer.balance import BALANCE
from moe_core.layer.build import Build
from moe_core.layer.routers import ROUTERS
from moe_core.layer.stacking import StackedLinear, block_offsets
from moe_core.settings.choices import NOISE_KINDS
from moe_core.settings.table import ModelConfig


@dataclass(frozen=True)
class Routing:
    """One batch's routing: which expert each slot goes to, with what weight, and what was kept."""

    logits_NE: torch.Tensor  # h(x), float32, before noise
    scores_NE: torch.Tensor  # what the rule picked by: the logits plus training noise (the logits in evaluation)
    topk_ids_NK: torch.Tensor  # int64 expert of each slot
    weights_NK: torch.Tensor  # combine weight of each slot; 0 where the slot is not kept
    kept_NK: torch.Tensor  # bool: chosen and within capacity, so the expert runs on it
    assigned_NK: torch.Tensor  # bool: the router chose this slot (expert choice: the expert took it)
    noise_std_NE: torch.Tensor | None  # the training noise's std per score; None where none was drawn
    probabilities: Callable[[], torch.Tensor] = field(repr=False, compare=False)
    all_kept: bool = False  # every slot is kept, known without reading the mask (the experts' kernels skip it)

    @cached_property
    def probs_NE(self) -> torch.Tensor:
        """Router probabilities of the scores (softmax; sigmoid scores normalised to sum 1), on first
        read: a step whose losses do not read them never computes them."""
        return self.probabilities()

    @property
    def dropped_NK(self) -> torch.Tensor:
        return self.assigned_NK & ~self.kept_NK


@dataclass(frozen=True)
class RouterLoss:
    """The router's training losses: the weighted total, and its unweighted parts for logging."""

    total: torch.Tensor | None  # to add to the task loss; None when nothing is added
    balance: torch.Tensor | None  # the balance strategy's loss, where it has one
    z: torch.Tensor | None  # ST-MoE z-loss, where its weight is above 0


MIN_CAPACITY = 4  # Mesh-TF, DeepSpeed and lucidrains floor an expert's capacity at 4 slots


class Router(nn.Module):
    """Logits h(x) = W_g x (or a small MLP gate), training noise, and the rule's choice of slots."""

    learned = True  # False: the rule has no gate to train (hash)
    # Whether each point's slots are the top k of its (noisy) scores, where Shazeer et al.'s smooth
    # load estimate applies.
    picks_top_k_of_scores = False
    has_capacity = False  # True: experts keep at most `capacity_factor` times their share of slots
    mix = None  # Soft MoE's hook: slots that mix the points, run by the rule itself instead of dispatched

    def __init__(self, cfg: ModelConfig, build: Build):
        super().__init__()
        self.cfg = cfg
        self.spec = ROUTERS[cfg.router]
        self.kernels = build.kernels
        self.balance = BALANCE[cfg.balance].implementation()()
        self.stack = build.stack  # seeds stacked in this router (moe_core.layer.stacking); 1 for a run of its own
        self.patches = build.patches  # the data's patches, which a patch gate shares its weights across
        if self.learned:
            self.gate = make_gate(cfg, build.dim, build.stack, build.patches)
        # DeepSeek-V3's selection bias; only the `bias` balance strategy reads and moves it.
        self.register_buffer("bias_E", torch.zeros(cfg.n_experts * build.stack))
        # The trainer's, so gate noise is seeded per run; stacked seeds give one generator each.
        self.generator: torch.Generator | list[torch.Generator] | None = None
        self.setup(build)
        self.reset_parameters()

    def setup(self, build: Build) -> None:
        """Hook: modules and buffers a rule adds to the gate (noisy top-k's noise layer, hash's centroids)."""

    def reset_parameters(self) -> None:
        """The gate's initial weights (`init_gate`)."""
        if self.learned:
            init_gate(self.gate)

    def set_config(self, cfg: ModelConfig) -> None:
        """Take a config that differs only in options a running model reads live (balance, noise)."""
        self.cfg = cfg
        self.balance = BALANCE[cfg.balance].implementation()()

    # --- scores -------------------------------------------------------------------------------
    def logits(self, x_ND: torch.Tensor) -> torch.Tensor:
        return self.gate(x_ND).float()  # the router in float32 (Switch's selective precision)

    def add_noise(self, x_ND: torch.Tensor, logits_NE: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Training only: the noise kind's scores (exploration); (scores, Gaussian std or None) or (logits, None)."""
        if not self.training or self.cfg.gate_noise == 0:
            return logits_NE, None
        return NOISE_KINDS[self.cfg.noise_kind].implementation()(self, x_ND, logits_NE)

    def draw_noise(self, like_NX: torch.Tensor, uniform: bool = False) -> torch.Tensor:
        """Standard normal (or U(0, 1)) draws shaped like the tensor, from the run's generator."""
        draw = torch.rand if uniform else torch.randn
        if self.stack == 1:
            return draw(like_NX.shape, generator=self.generator, device=like_NX.device)
        # each seed's block from its own generator: the draws it would make alone
        shape = (like_NX.shape[0] // self.stack, like_NX.shape[1])
        return torch.cat([draw(shape, generator=g, device=like_NX.device) for g in self.generator])

    # --- stacked seeds ------------------------------------------------------------------------
    def per_seed(self, t_NX: torch.Tensor) -> torch.Tensor:
        """[S, B, X]: a batch's rows by seed (S = 1 for a run of its own), for sums and means over points."""
        return t_NX.view(self.stack, -1, t_NX.shape[-1])

    def expert_ids(self, ids_NK: torch.Tensor) -> torch.Tensor:
        """The slots' experts among the stacked experts (a seed's expert e is s * E + e); as given alone."""
        if self.stack == 1:
            return ids_NK
        return ids_NK + block_offsets(self.stack, ids_NK.shape[0], self.cfg.n_experts, ids_NK.device)

    @property
    def sigmoid_scores(self) -> bool:
        """Whether the rule scores experts with independent sigmoids (DeepSeek-V3) instead of a softmax."""
        return False

    def affinity(self, scores_NE: torch.Tensor) -> torch.Tensor:
        """What picks and weighs: softmax probabilities, or DeepSeek-V3's independent sigmoid scores."""
        return torch.sigmoid(scores_NE) if self.sigmoid_scores else self.kernels.softmax(scores_NE)

    def probabilities(self, scores_NE: torch.Tensor) -> torch.Tensor:
        """Probabilities for losses and metrics: the affinities, sigmoid ones normalised to sum 1."""
        affinity_NE = self.affinity(scores_NE)
        return affinity_NE / affinity_NE.sum(dim=1, keepdim=True) if self.sigmoid_scores else affinity_NE

    def select(self, affinity_NE: torch.Tensor) -> torch.Tensor:
        """The scores top-k picks by: the affinities, moved by the balance strategy (DeepSeek-V3's bias)."""
        return self.balance.selection(self, affinity_NE)

    def ranking(self, x_ND: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Noise-free (logits, probabilities, selection scores) for maps and probes; the top of the last
        is each point's choice when it comes alone."""
        logits_NE = self.logits(x_ND)
        return logits_NE, self.probabilities(logits_NE), self.select(self.affinity(logits_NE))

    # --- the rule -----------------------------------------------------------------------------
    def forward(self, x_ND: torch.Tensor, batch_routing: bool = True) -> Routing:
        """Route a batch. batch_routing=False routes each point as if it came alone (no capacity;
        expert choice falls back to each point's top-k): what the maps show for a region."""
        logits_NE = self.logits(x_ND)
        scores_NE, noise_std_NE = self.add_noise(x_ND, logits_NE)
        return self.choose(logits_NE, scores_NE, noise_std_NE, batch_routing)

    def choose(self, logits_NE, scores_NE, noise_std_NE, batch_routing: bool) -> Routing:
        raise NotImplementedError

    def routing(self, logits_NE, scores_NE, noise_std_NE, ids_NK, weights_NK, kept_NK=None, assigned_NK=None,
                probs_NE=None) -> Routing:  # fmt: skip
        """A Routing; masks default to every slot kept, probabilities to those of the scores (computed
        on first read unless the rule has them already)."""
        every_NK = broadcast(True, ids_NK)
        probabilities = (lambda: probs_NE) if probs_NE is not None else (lambda: self.probabilities(scores_NE))
        all_kept = kept_NK is None
        kept_NK = every_NK if all_kept else kept_NK
        assigned_NK = every_NK if assigned_NK is None else assigned_NK
        return Routing(
            logits_NE, scores_NE, ids_NK, weights_NK, kept_NK, assigned_NK, noise_std_NE, probabilities, all_kept
        )

    def capacity_mask(self, ids_NK: torch.Tensor, factor: float) -> torch.Tensor:
        """Which slots their experts keep under a capacity of `factor` (GShard's priority; per seed)."""
        return within_capacity(self.expert_ids(ids_NK), factor, self.cfg.n_experts, self.stack)

    @property
    def capacity_factor(self) -> float | None:
        """An expert's capacity as a multiple of its even share k N / E (GShard); None: no limit. A rule
        that sets `has_capacity` reads `model.capacity_factor`."""
        return self.cfg.capacity_factor if self.has_capacity else None

    def keep_within_capacity(self, ids_NK: torch.Tensor, weights_NK: torch.Tensor, batch_routing: bool):
        """(weights, kept): the slots their experts keep under `capacity_factor`, the others' weights
        zeroed; kept is None where nothing can drop (no limit, or points routed as if alone)."""
        if not batch_routing or self.capacity_factor is None:
            return weights_NK, None
        kept_NK = self.capacity_mask(ids_NK, self.capacity_factor)
        return weights_NK * kept_NK, kept_NK

    @property
    def may_drop(self) -> bool:
        """Whether a batch can leave slots unserved (a capacity limit, or experts choosing their points)."""
        return self.capacity_factor is not None

    def expert_flops(self, routing: Routing, cost_E: torch.Tensor) -> torch.Tensor:
        """Each point's multiply-adds in the experts it reached, [N]: its kept slots' experts' costs."""
        return (cost_E[self.expert_ids(routing.topk_ids_NK)] * routing.kept_NK).sum(dim=1)

    @property
    def slots(self) -> int:
        """K, the slots each point's routing has: top_k, or E where every expert is a slot."""
        return self.cfg.top_k

    @property
    def constant_weights(self) -> bool:
        """Whether every weight is exactly 1, so that the task loss gives the router no gradient."""
        return False

    def load(self, routing: Routing) -> torch.Tensor:
        """Routed slots per expert, [E] (stacked: [S * E], seed by seed), no gradient."""
        # scatter_add, not bincount: bincount sizes its output from the data, a host sync on CUDA
        load_E = routing.weights_NK.new_zeros(self.cfg.n_experts * self.stack)
        counted_M = routing.assigned_NK.reshape(-1).to(load_E.dtype)
        return load_E.scatter_add_(0, self.expert_ids(routing.topk_ids_NK).reshape(-1), counted_M)

    # --- training -----------------------------------------------------------------------------
    def loss(self, routing: Routing) -> RouterLoss:
        """The balance strategy's loss, the z-loss and the entropy loss, weighted by their coefficients
        (stacked seeds: each the sum of the seeds' own)."""
        cfg = self.cfg
        balance = self.balance.loss(self, routing)
        z = losses.z_loss(self.per_seed(routing.logits_NE)) if cfg.z_loss_coef > 0 else None
        entropy = losses.router_entropy(self.per_seed(routing.probs_NE)) if cfg.entropy_loss_coef > 0 else None
        parts = [(cfg.aux_loss_coef, balance), (cfg.z_loss_coef, z), (cfg.entropy_loss_coef, entropy)]
        weighted = [coef * loss for coef, loss in parts if loss is not None]
        return RouterLoss(sum(weighted[1:], weighted[0]) if weighted else None, balance, z)

    def after_step(self, routing: Routing) -> None:
        """State the balance strategy keeps outside the gradient (DeepSeek-V3's bias)."""
        self.balance.after_step(self, routing)


def within_capacity(ids_NK: torch.Tensor, factor: float, n_experts: int, stack: int = 1) -> torch.Tensor:
    """Which slots an expert keeps, [N, K] bool: in priority order, all first choices by position, then
    second choices (GShard), up to capacity = ceil(factor * k * N / E) per expert (at least MIN_CAPACITY).
    Stacked seeds (`Router.capacity_mask`): ids among the stack's experts, N and E those of one seed."""
    n, k = ids_NK.shape
    n //= stack
    capacity = min(n * k, max(MIN_CAPACITY, math.ceil(factor * k * n / n_experts)))
    flat_M = ids_NK.T.reshape(-1)  # slot-major: every first choice before any second one
    sorted_M, order_M = torch.sort(flat_M, stable=True)
    starts_M = torch.searchsorted(sorted_M, sorted_M)  # where each slot's expert group begins
    rank_M = torch.empty_like(flat_M)
    rank_M[order_M] = torch.arange(len(flat_M), device=flat_M.device) - starts_M
    return (rank_M < capacity).view(k, -1).T


def broadcast(value: bool | float, like_NK: torch.Tensor) -> torch.Tensor:
    """One value seen as a [N, K] tensor, without memory or gradient (every slot kept; unit weights)."""
    dtype = torch.bool if isinstance(value, bool) else torch.float32
    return _scalar(value, dtype, like_NK.device).expand(like_NK.shape)


@functools.cache
def _scalar(value: bool | float, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    # One 0-d tensor per value, dtype and device (True and 1.0 are the same key without the dtype);
    # expanded views of it cannot be written to.
    return torch.tensor(value, dtype=dtype, device=device)


class PatchGate(nn.Module):
    """Chen, Deng, Wu, Gu, Li 2022's router: h(x) = sum_p Θ x_p, one Θ [E, L] for every patch, no bias."""

    def __init__(self, dim: int, n_experts: int, stack: int, patches: int) -> None:
        super().__init__()
        self.patches = patches
        self.linear = StackedLinear(dim // patches, n_experts, stack, bias=False)

    def forward(self, x_ND: torch.Tensor) -> torch.Tensor:
        return self.linear(x_ND.unflatten(1, (self.patches, -1)).sum(dim=1))  # Θ is linear: sum, then map


def make_gate(cfg: ModelConfig, dim: int, stack: int, patches: int, n_out: int | None = None) -> nn.Module:
    """The configured gate (`model.gate`, `model.gate_hidden`) from the input to n_out scores (E)."""
    n_out = cfg.n_experts if n_out is None else n_out
    if cfg.gate == "patch":
        return PatchGate(dim, n_out, stack, patches)
    if cfg.gate_hidden > 0:
        hidden = cfg.gate_hidden
        return nn.Sequential(StackedLinear(dim, hidden, stack), nn.ReLU(), StackedLinear(hidden, n_out, stack))
    return StackedLinear(dim, n_out, stack)


def init_gate(gate: nn.Module) -> None:
    """Switch Transformer: truncated normal with std sqrt(0.1 / fan_in), zero bias; Chen et al.'s
    patch gate starts at zero."""
    if isinstance(gate, PatchGate):
        nn.init.zeros_(gate.linear.weight)
        return
    last = gate[-1] if isinstance(gate, nn.Sequential) else gate
    std = math.sqrt(0.1 / last.weight.shape[1])
    nn.init.trunc_normal_(last.weight, std=std, a=-2 * std, b=2 * std)
    nn.init.zeros_(last.bias)
