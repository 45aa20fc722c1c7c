"""The named choices of options that are not routers, balance strategies or datasets: architecture,
gate normalisation, expert activation, objective, optimiser and device, each a registry of entries."""

from __future__ import annotations

from moe_core.registry import Entry, Registry

ARCHS: Registry[Entry] = Registry(
    "model.arch",
    [
        Entry("moe", "mixture of experts", "A router and E experts."),
        Entry("dense", "dense MLP", "One MLP, as deep as an expert, with the MoE's total parameter count."),
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
        Entry("cubic", "cubic (z³, Chen et al. 2022)", impl="moe_core.experts:cube"),
        Entry("linear", "linear (none)", impl="moe_core.experts:identity"),
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
