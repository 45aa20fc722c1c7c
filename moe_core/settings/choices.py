"""The named choices of options that are not routers, balance strategies or datasets: architecture,
expert kind, gate, gate normalisation, gate noise, expert activation, objective, optimiser, schedule
and device, each a registry of entries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moe_core.settings.registry import Entry, Registry

ARCHS: Registry[Entry] = Registry(
    "model.arch",
    [
        Entry("moe", "mixture of experts", "A router and E experts."),
        Entry("dense", "dense MLP", "One MLP, as deep as an expert, with the MoE's total parameter count."),
    ],
)


@dataclass(frozen=True)
class ExpertKind(Entry):
    check: Callable[[Any], str | None] | None = None  # the ModelConfig in, a problem as one sentence out


def _check_mix(m) -> str | None:
    from moe_core.settings.expert_mix import check_mix  # it reads ACTIVATIONS below

    return check_mix(m)


EXPERT_KINDS: Registry[ExpertKind] = Registry(
    "model.expert_kind",
    [
        ExpertKind(
            "mlp",
            "MLP on the whole input",
            "Each expert is an MLP with biases over the whole input.",
            "moe_core.layer.experts:Experts",
            frozenset({"model.expert_layers"}),
        ),
        ExpertKind(
            "patch",
            "patch filters (Chen et al. 2022)",
            "Each expert is a set of filters shared by the input's patches, the activation applied per patch and "
            "summed, no biases; half the filters vote for each class (Chen et al. 2022's ConvNet).",
            "moe_core.layer.experts:PatchExperts",
        ),
        ExpertKind(
            "mixed",
            "mixed kinds (heterogeneous experts)",
            "Experts of different widths, depths or activations, and linear ones, in one layer: model.expert_mix "
            "lists the kinds, cycled over the experts.",
            "moe_core.layer.heterogeneous:MixedExperts",
            frozenset({"model.expert_mix"}),
            check=_check_mix,
        ),
    ],
)

GATES: Registry[Entry] = Registry(
    "model.gate",
    [
        Entry(
            "linear",
            "linear on the whole input",
            "h(x) = W x + b (an MLP with a hidden width above 0).",
            uses=frozenset({"model.gate_hidden"}),
        ),
        Entry(
            "patch",
            "shared by the patches (Chen et al. 2022)",
            "h(x) = sum over patches of Θ x_p: one matrix for every patch, no bias, starting at zero.",
        ),
    ],
)
NOISE_KINDS: Registry[Entry] = Registry(
    "model.noise_kind",
    [
        Entry(
            "gaussian",
            "Gaussian",
            "Logits + N(0, 1) x gate noise (Shazeer et al. 2017).",
            "moe_core.layer.routers.noise:gaussian",
        ),
        Entry(
            "uniform",
            "uniform U(0, 1)",
            "Logits + U(0, 1) x gate noise (Chen et al. 2022).",
            "moe_core.layer.routers.noise:uniform",
        ),
        Entry(
            "jitter",
            "multiplicative jitter (Switch)",
            "The router's input times U(1 - ε, 1 + ε), ε = gate noise (Fedus et al. 2021).",
            "moe_core.layer.routers.noise:jitter",
        ),
    ],
)
SAMPLING: Registry[Entry] = Registry(
    "data.sampling",
    [
        Entry("fixed", "a fixed training set", "The model sees the same data.n_train points again and again."),
        Entry(
            "online",
            "a fresh batch every step",
            "Every step draws new points from the generator (Kawata et al.'s online SGD); data.n_train is unused.",
        ),
    ],
)
SHIFTS: Registry[Entry] = Registry(
    "data.shift_kind",
    [
        Entry("move", "clusters move", "Every cluster moves half the way to the next one, its rule with it."),
        Entry("add", "clusters appear", "The last half of the clusters appear only at the shift."),
    ],
)
NORMALIZE: Registry[Entry] = Registry(
    "model.normalize",
    [
        Entry(
            "softmax", "softmax, no renormalising (Switch)", "Weights are the chosen experts' softmax probabilities."
        ),
        Entry("softmax_topk", "softmax over the k chosen (Mixtral)", "The chosen probabilities renormalised to sum 1."),
        Entry("sigmoid", "sigmoid scores (DeepSeek-V3)", "Independent sigmoid scores, the chosen ones renormalised."),
    ],
)
ACTIVATIONS: Registry[Entry] = Registry(
    "model.expert_activation",
    [
        Entry("relu", "ReLU", impl="torch:relu"),
        Entry("gelu", "GELU", impl="torch.nn.functional:gelu"),
        Entry("tanh", "tanh", impl="torch:tanh"),
        Entry("cubic", "cubic (z³, Chen et al. 2022)", impl="moe_core.layer.experts:cube"),
        Entry("linear", "linear (none)", impl="moe_core.layer.experts:identity"),
    ],
)
COMBINES: Registry[Entry] = Registry(
    "model.combine",
    [
        Entry(
            "weighted",
            "weighted sum",
            "The chosen experts' outputs weighted by the router (every sparse MoE).",
            "moe_core.layer.combination:Weighted",
        ),
        Entry(
            "attention",
            "attention",
            "The point's query against the experts' outputs as keys, the router's weights as a prior.",
            "moe_core.layer.combination:Attention",
        ),
        Entry(
            "learned",
            "learned",
            "The weighted sum plus a small network over the weighted outputs, starting at zero.",
            "moe_core.layer.combination:Learned",
        ),
    ],
)
OBJECTIVES: Registry[Entry] = Registry(
    "model.objective",
    [
        Entry("blend", "blend", "The task loss of the weighted mix of the experts' outputs: experts cooperate."),
        Entry("mixture", "mixture", "Jacobs et al. 1991's mixture likelihood: experts compete and specialise."),
    ],
)
OPTIMIZERS: Registry[Entry] = Registry(
    "train.optimizer",
    [
        Entry("adam", "Adam", impl="torch.optim:Adam"),
        Entry("adamw", "AdamW", impl="torch.optim:AdamW"),
        Entry("sgd", "SGD", impl="torch.optim:SGD"),
        Entry(
            "ngd",
            "normalised GD (Chen et al. 2022)",
            "Gradient descent with each expert's step divided by the sum of its gradients' norms.",
            impl="moe_core.training.optimizers:NormalizedGD",
        ),
    ],
)
DIVERSITY: Registry[Entry] = Registry(
    "model.diversity_kind",
    [
        Entry("weights", "by their weights", "Penalises experts whose weight vectors point the same way."),
        Entry("outputs", "by their outputs", "Penalises experts whose outputs on the batch agree (E forward passes)."),
    ],
)
SCHEDULES: Registry[Entry] = Registry(
    "train.noise_schedule",
    [
        Entry("constant", "constant", "The value set, all through training.", "moe_core.training.schedules:constant"),
        Entry("linear", "linear", "Falls in a straight line to the end value.", "moe_core.training.schedules:linear"),
        Entry(
            "cosine",
            "cosine",
            "Falls slowly, then fast, then slowly (Loshchilov & Hutter 2017).",
            "moe_core.training.schedules:cosine",
        ),
    ],
)
DEVICES: Registry[Entry] = Registry(
    "train.device",
    [
        Entry("auto", "auto", "CUDA, then MPS, then the CPU."),
        Entry("cpu", "CPU"),
        Entry("cuda", "CUDA GPU"),
        Entry("mps", "Apple GPU"),
    ],
)
