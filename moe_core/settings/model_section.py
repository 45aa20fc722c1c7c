"""The model section of the table of options (`moe_core.settings.table`): the router, the experts, balancing."""

from __future__ import annotations

from dataclasses import dataclass

from moe_core.layer.balance import BALANCE
from moe_core.layer.routers import ROUTERS
from moe_core.settings.choices import (
    ACTIVATIONS,
    ARCHS,
    COMBINES,
    DIVERSITY,
    EXPERT_KINDS,
    GATES,
    NOISE_KINDS,
    NORMALIZE,
    OBJECTIVES,
)
from moe_core.settings.option import setting


@dataclass(frozen=True)
class ModelConfig:
    arch: str = setting("moe", "Architecture", "moe, or dense: an MLP with the MoE's parameter count.", choices=ARCHS)
    n_experts: int = setting(4, "Experts", "How many experts the layer holds.", low=1, high=256, ui_high=64)
    top_k: int = setting(
        1,
        "Top-k (experts per point)",
        "Experts each point goes to (expert choice: the average, which sets its capacity).",
        low=1,
        depends_on="model.router",
    )
    top_p: float = setting(
        0.5,
        "Top-p threshold",
        "Each point takes the fewest experts whose probabilities reach this (Huang et al. 2024 use 0.4).",
        low=0,
        above=True,
        high=1,
        ui_low=0.05,
        ui_high=1.0,
        ui_step=0.05,
        live=True,
        depends_on="model.router",
    )
    router: str = setting("topk", "Router", "The routing rule.", choices=ROUTERS)
    n_groups: int = setting(
        2,
        "Expert groups",
        "Hierarchical routing: the experts split into this many equal groups (the MoE tutorial draws 3 of 2).",
        low=1,
        high=64,
        ui_high=8,
        depends_on="model.router",
    )
    slots_per_expert: int = setting(
        1, "Slots per expert", "Soft MoE: how many weighted averages of the group each expert processes.",
        low=1, high=16, ui_high=4, depends_on="model.router",
    )  # fmt: skip
    soft_group: int = setting(
        128, "Soft MoE group at test", "Soft MoE: a point is evaluated with this many minus one training points.",
        low=2, high=4096, steps=(16, 32, 64, 128, 256, 512), depends_on="model.router",
    )  # fmt: skip
    gate_noise: float = setting(
        0.0,
        "Gate noise",
        "Noise on the gate logits while training: exploration against collapse.",
        low=0,
        ui_high=2.0,
        ui_step=0.05,
        live=True,
        depends_on="model.router",
    )
    noise_kind: str = setting(
        "gaussian",
        "Gate noise kind",
        "The distribution of the training noise on the gate.",
        choices=NOISE_KINDS,
        depends_on="model.router",
    )
    # softmax (no renormalisation, as Switch) keeps a task gradient on the router at top_k = 1, where
    # softmax_topk makes the gate identically 1 (the README's "Defaults" measures both).
    normalize: str = setting(
        "softmax",
        "Gate normalisation",
        "How the chosen experts' weights come from the router's scores. With top-1, renormalising over the "
        "chosen expert makes the gate always 1: the router then learns only from the balance loss.",
        choices=NORMALIZE,
        depends_on="model.router",
    )
    expert_kind: str = setting("mlp", "Expert kind", "What each expert is.", choices=EXPERT_KINDS)
    expert_mix: str = setting(
        "linear,16",
        "Expert kinds (mixed)",
        "Mixed experts: the kinds, cycled over the experts: linear, a width (16), width x depth (32x2), "
        "optionally with an activation (16:tanh).",
        depends_on="model.expert_kind",
    )
    expert_hidden: int = setting(
        16, "Expert width", "Hidden units of each expert.", low=1, high=4096, steps=(2, 4, 8, 16, 32, 64, 128, 256)
    )
    expert_layers: int = setting(
        1, "Expert depth (hidden layers)", "Hidden layers of each expert.", low=1, high=4,
        depends_on="model.expert_kind",
    )  # fmt: skip
    expert_activation: str = setting("relu", "Expert activation", "The experts' nonlinearity.", choices=ACTIVATIONS)
    expert_init_scale: float = setting(
        1.0,
        "Expert initial scale",
        "The experts' initial weights times this (Chen et al. 2022 start theirs at 0.001).",
        low=0,
        above=True,
        steps=(0.001, 0.01, 0.1, 1.0),
    )
    gate: str = setting("linear", "Gate", "How the router scores experts from the input.", choices=GATES)
    gate_hidden: int = setting(
        0,
        "Gate hidden width (0 = linear gate)",
        "Width of a hidden layer in the router; 0 keeps it linear.",
        low=0,
        high=1024,
        steps=(0, 8, 16, 32, 64),
        depends_on="model.gate",
    )
    capacity_factor: float | None = setting(
        None,
        "Capacity factor",
        "Each expert takes at most capacity factor x k x batch / experts points; the rest are dropped.",
        nullable=True,
        null_means="no limit; Switch 1.25, expert choice top_k",
        low=0,
        above=True,
        ui_low=0.25,
        ui_high=4.0,
        ui_step=0.25,
        null_toggle="Limit expert capacity",
        toggle_value=1.25,
        depends_on="model.router",
    )
    balance: str = setting(
        "aux_loss", "Balance strategy", "How the load is kept even across experts.", choices=BALANCE, live=True
    )
    # The papers' 0.01 suits language-model losses; on these small tasks it left digits collapsed onto
    # one expert of four after 1500 steps, where 0.1 kept all four in use (the README's "Defaults").
    aux_loss_coef: float = setting(
        0.1,
        "Balance loss weight",
        "Weight of the balance loss in the training loss.",
        low=0,
        steps=(0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
        live=True,
        depends_on="model.balance",
    )
    z_loss_coef: float = setting(
        0.0,
        "Router z-loss weight",
        "ST-MoE's z-loss keeps router logits small; it does not balance.",
        low=0,
        steps=(0.0, 0.0001, 0.001, 0.01, 0.1),
        live=True,
    )
    entropy_loss_coef: float = setting(
        0.0,
        "Router entropy loss weight",
        "Adds the mean entropy of the router's probabilities to the loss, pushing the gate to be sure "
        "(Huang et al. 2024's dynamic loss, which keeps top-p from taking every expert).",
        low=0,
        steps=(0.0, 0.0001, 0.001, 0.01, 0.1),
        live=True,
    )
    bias_update_rate: float = setting(
        0.001,
        "Bias update rate γ",
        "How far each step moves the loss-free balancing bias.",
        low=0,
        steps=(0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03),
        live=True,
        depends_on="model.balance",
    )
    shared_experts: int = setting(
        0, "Shared experts (always on)", "Experts every point goes through besides its routed ones (DeepSeekMoE).",
        low=0, high=16, ui_high=4,
    )  # fmt: skip
    expert_decay: float = setting(
        0.0,
        "Expert weight decay",
        "Adds decay x ||w||² / 2 over the experts' weights alone to the loss (the router is left free).",
        low=0,
        steps=(0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1),
        live=True,
    )
    diversity_coef: float = setting(
        0.0,
        "Expert diversity weight",
        "Adds this times the mean squared cosine similarity between experts to the loss: pushes them apart.",
        low=0,
        steps=(0.0, 0.001, 0.01, 0.1, 1.0),
        live=True,
    )
    diversity_kind: str = setting(
        "weights", "Diversity measured on", "Compare experts by their weights, or by their outputs on the batch.",
        choices=DIVERSITY, live=True,
    )  # fmt: skip
    combine: str = setting(
        "weighted", "Combination", "How the chosen experts' outputs become one output.", choices=COMBINES
    )
    objective: str = setting("blend", "Objective", "What the experts are trained on.", choices=OBJECTIVES)
