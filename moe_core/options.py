"""The one table of options: every setting of a run, declared once with its type, range, default,
label, one-line help, where it applies and whether a running trainer can take a new value.

The three sections are frozen dataclasses whose fields carry an `Option` in their metadata; `OPTIONS`
reads them into one table keyed "section.name". Config validation, the sidebar's widgets, the CLI's
`--set` and `options` listing read this table. No torch here: listing options
and validating a config stay fast.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any

from moe_core.balance import BALANCE
from moe_core.choices import (
    ACTIVATIONS,
    ARCHS,
    DEVICES,
    EXPERT_KINDS,
    GATES,
    NOISE_KINDS,
    NORMALIZE,
    OBJECTIVES,
    OPTIMIZERS,
    SAMPLING,
)
from moe_core.datasets import DATASETS
from moe_core.registry import Registry
from moe_core.routers import ROUTERS

LR_STEPS = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


@dataclass(frozen=True)
class Option:
    """One setting. `low` / `high` bound it (inclusive; `above` makes `low` exclusive); `steps` are the
    values a slider offers, `ui_low` / `ui_high` / `ui_step` a plain slider's range; `depends_on` names
    the option (router, balance or dataset) whose chosen entry's `uses` decides whether this one applies."""

    label: str
    help: str
    default: Any
    key: str = ""  # "section.name"; filled in when the table is read
    kind: type = object  # int, float or str; filled in from the field's annotation
    nullable: bool = False
    null_means: str = ""  # what null stands for, where it is allowed
    low: float | None = None
    high: float | None = None
    above: bool = False
    choices: Registry | None = None
    steps: tuple | None = None
    ui_low: float | None = None  # a slider's range, where it is narrower than the valid one
    ui_high: float | None = None
    ui_step: float | None = None
    null_toggle: str = ""  # the switch that turns a nullable option on, in the sidebar
    toggle_value: float | None = None  # the value it starts from when switched on
    live: bool = False  # a running trainer takes a new value without a new model
    depends_on: str | None = None

    @property
    def section(self) -> str:
        return self.key.partition(".")[0]

    @property
    def name(self) -> str:
        return self.key.partition(".")[2]

    def describe_range(self) -> str:
        """The allowed values in words, e.g. "1 to 256", "more than 0", "topk, switch", "null (no limit)"."""
        if self.choices is not None:
            text = ", ".join(self.choices)
        elif self.low is not None and self.high is not None:
            text = f"{number_text(self.low)} to {number_text(self.high)}"
        elif self.low is not None:
            text = f"more than {number_text(self.low)}" if self.above else f"{number_text(self.low)} or more"
        else:
            text = "any text" if self.kind is str else "any"
        return f"{text}, or null ({self.null_means})" if self.nullable else text


def number_text(x: float) -> str:
    """A bound as people write it: 200000, 0.5, 1e-05."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _option(default: Any, label: str, help: str, **details: Any) -> Any:
    return field(default=default, metadata={"option": Option(label, help, default, **details)})


@dataclass(frozen=True)
class DataConfig:
    name: str = _option("clusters", "Dataset", "Which dataset to train on.", choices=DATASETS)
    n_train: int = _option(
        2000, "Training points", "Points the model trains on.", low=1, high=200_000,
        ui_low=100, ui_high=20_000, ui_step=100,
    )  # fmt: skip
    n_test: int = _option(
        1000, "Test points", "Held-out points for metrics and maps.", low=1, high=200_000,
        ui_low=100, ui_high=5000, ui_step=100,
    )  # fmt: skip
    noise: float = _option(
        0.1, "Noise", "The dataset's own noise knob; each dataset says what it means.", low=0, ui_high=1.0,
        ui_step=0.01, depends_on="data.name",
    )  # fmt: skip
    n_clusters: int = _option(
        4, "Clusters", "Latent clusters in the clustered datasets.", low=1, high=64, ui_high=16, depends_on="data.name"
    )
    dim: int = _option(
        2,
        "Input dimensions",
        "Input dimension; above 2 the maps show the first two principal components.",
        low=2,
        high=1024,
        ui_high=256,
        depends_on="data.name",
    )
    separation: float = _option(
        1.0,
        "Cluster separation",
        "Scales the distance between cluster centres (1 = the dataset's default).",
        low=0,
        above=True,
        ui_low=0.2,
        ui_high=3.0,
        ui_step=0.1,
        depends_on="data.name",
    )
    sampling: str = _option(
        "fixed", "Sampling", "Where training batches come from.", choices=SAMPLING, depends_on="data.name"
    )
    gamma_max: float = _option(
        3.0,
        "Feature-noise strength, upper end",
        "Feature noise gamma ~ U(0.5, this): 3 in Chen et al.'s settings 1-2, 2 in settings 3-4.",
        low=0.5,
        ui_high=4.0,
        ui_step=0.25,
        depends_on="data.name",
    )
    input_scale: float = _option(
        1.0,
        "Input scale",
        "Every input is multiplied by this (Chen et al.'s released code uses 10).",
        low=0,
        above=True,
        steps=(0.1, 0.3, 1.0, 3.0, 10.0),
    )
    seed: int = _option(
        0, "Data seed", "Seed of the data generator and of the train/test split.", low=0, high=2**31 - 1
    )
    csv_path: str | None = _option(
        None,
        "CSV file",
        "Path of a CSV file in the upload format, or the name of a bundled sample (iris.csv).",
        nullable=True,
        null_means="no file",
        depends_on="data.name",
    )
    target: str | None = _option(
        None,
        "Target column",
        "The CSV column to predict.",
        nullable=True,
        null_means="the column named y, label or target",
        depends_on="data.name",
    )


@dataclass(frozen=True)
class ModelConfig:
    arch: str = _option("moe", "Architecture", "moe, or dense: an MLP with the MoE's parameter count.", choices=ARCHS)
    n_experts: int = _option(4, "Experts", "How many experts the layer holds.", low=1, high=256, ui_high=64)
    top_k: int = _option(
        1,
        "Top-k (experts per point)",
        "Experts each point goes to (expert choice: the average, which sets its capacity).",
        low=1,
        depends_on="model.router",
    )
    router: str = _option("topk", "Router", "The routing rule.", choices=ROUTERS)
    gate_noise: float = _option(
        0.0,
        "Gate noise",
        "Noise on the gate logits while training: exploration against collapse.",
        low=0,
        ui_high=2.0,
        ui_step=0.05,
        live=True,
        depends_on="model.router",
    )
    noise_kind: str = _option(
        "gaussian",
        "Gate noise kind",
        "The distribution of the training noise on the gate.",
        choices=NOISE_KINDS,
        depends_on="model.router",
    )
    # softmax (no renormalisation, as Switch) keeps a task gradient on the router at top_k = 1, where
    # softmax_topk makes the gate identically 1 (the README's "Defaults" measures both).
    normalize: str = _option(
        "softmax",
        "Gate normalisation",
        "How the chosen experts' weights come from the router's scores. With top-1, renormalising over the "
        "chosen expert makes the gate always 1: the router then learns only from the balance loss.",
        choices=NORMALIZE,
        depends_on="model.router",
    )
    expert_kind: str = _option("mlp", "Expert kind", "What each expert is.", choices=EXPERT_KINDS)
    expert_hidden: int = _option(
        16, "Expert width", "Hidden units of each expert.", low=1, high=4096, steps=(2, 4, 8, 16, 32, 64, 128, 256)
    )
    expert_layers: int = _option(
        1, "Expert depth (hidden layers)", "Hidden layers of each expert.", low=1, high=4,
        depends_on="model.expert_kind",
    )  # fmt: skip
    expert_activation: str = _option("relu", "Expert activation", "The experts' nonlinearity.", choices=ACTIVATIONS)
    expert_init_scale: float = _option(
        1.0,
        "Expert initial scale",
        "The experts' initial weights times this (Chen et al. 2022 start theirs at 0.001).",
        low=0,
        above=True,
        steps=(0.001, 0.01, 0.1, 1.0),
    )
    gate: str = _option("linear", "Gate", "How the router scores experts from the input.", choices=GATES)
    gate_hidden: int = _option(
        0,
        "Gate hidden width (0 = linear gate)",
        "Width of a hidden layer in the router; 0 keeps it linear.",
        low=0,
        high=1024,
        steps=(0, 8, 16, 32, 64),
        depends_on="model.gate",
    )
    capacity_factor: float | None = _option(
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
    balance: str = _option(
        "aux_loss", "Balance strategy", "How the load is kept even across experts.", choices=BALANCE, live=True
    )
    # The papers' 0.01 suits language-model losses; on these small tasks it left digits collapsed onto
    # one expert of four after 1500 steps, where 0.1 kept all four in use (the README's "Defaults").
    aux_loss_coef: float = _option(
        0.1,
        "Balance loss weight",
        "Weight of the balance loss in the training loss.",
        low=0,
        steps=(0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
        live=True,
        depends_on="model.balance",
    )
    z_loss_coef: float = _option(
        0.0,
        "Router z-loss weight",
        "ST-MoE's z-loss keeps router logits small; it does not balance.",
        low=0,
        steps=(0.0, 0.0001, 0.001, 0.01, 0.1),
        live=True,
    )
    bias_update_rate: float = _option(
        0.001,
        "Bias update rate γ",
        "How far each step moves the loss-free balancing bias.",
        low=0,
        steps=(0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03),
        live=True,
        depends_on="model.balance",
    )
    shared_experts: int = _option(
        0, "Shared experts (always on)", "Experts every point goes through besides its routed ones (DeepSeekMoE).",
        low=0, high=16, ui_high=4,
    )  # fmt: skip
    objective: str = _option("blend", "Objective", "What the experts are trained on.", choices=OBJECTIVES)


@dataclass(frozen=True)
class TrainConfig:
    steps: int = _option(2000, "Steps", "Optimiser steps the CLI trains.", low=0, high=10**7, live=True)
    batch_size: int = _option(
        128, "Batch size", "Points per optimiser step.", low=1, high=65_536,
        steps=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096), live=True,
    )  # fmt: skip
    lr: float = _option(
        0.01, "Learning rate", "The optimiser's step size.", low=0, above=True, steps=LR_STEPS, live=True
    )
    optimizer: str = _option("adam", "Optimiser", "The optimiser.", choices=OPTIMIZERS)
    router_optimizer: str | None = _option(
        None,
        "Router optimiser",
        "A separate optimiser for the router (Chen et al. 2022: SGD for the router, normalised GD for experts).",
        nullable=True,
        null_means="the optimiser above",
        choices=OPTIMIZERS,
    )
    router_lr: float | None = _option(
        None,
        "Router learning rate",
        "The router's own step size.",
        nullable=True,
        null_means="the learning rate above",
        low=0,
        above=True,
        steps=LR_STEPS,
        null_toggle="Own router learning rate",
        toggle_value=0.1,
    )
    weight_decay: float = _option(
        0.0, "Weight decay", "L2 penalty (AdamW: decoupled).", low=0, steps=(0.0, 1e-5, 1e-4, 1e-3, 1e-2), live=True
    )
    seed: int = _option(
        0, "Training seed (initial weights, batches, noise)", "Seed of the initial weights, batches and noise.",
        low=0, high=2**31 - 1,
    )  # fmt: skip
    device: str = _option("auto", "Device", "Where to train: auto picks CUDA, then MPS, then the CPU.", choices=DEVICES)
    threads: int | None = _option(
        None,
        "CPU threads",
        "torch's CPU threads, set by moe_core.fast.runtime.configure (the CLI and the app call it).",
        nullable=True,
        null_means="1, fastest for small steps on a small CPU",
        low=1,
        high=256,
    )


SECTIONS: dict[str, type] = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


def _read_table() -> dict[str, Option]:
    table = {}
    for section, cls in SECTIONS.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            hint = hints[f.name]
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            kind = args[0] if args else hint
            key = f"{section}.{f.name}"
            table[key] = dataclasses.replace(f.metadata["option"], key=key, kind=kind)
    return table


OPTIONS: dict[str, Option] = _read_table()
LIVE_KEYS = frozenset(key for key, option in OPTIONS.items() if option.live)


def applies(key: str, values: dict[str, Any]) -> bool:
    """Whether an option matters for a config given as {"section.name": value}: always, unless it
    depends on a router, balance strategy or dataset whose entry does not use it."""
    option = OPTIONS[key]
    if option.depends_on is None:
        return True
    chosen = values[option.depends_on]
    registry = OPTIONS[option.depends_on].choices
    return chosen in registry and key in registry[chosen].uses


def describe_options() -> list[str]:
    """One line per option for `python -m moe_core options`."""
    lines = []
    for key, option in OPTIONS.items():
        when = " Changes live." if option.live else ""
        lines.append(
            f"{key:<24} {option.kind.__name__:<5} default {option.default!s:<9} "
            f"[{option.describe_range()}] {option.help}{when}"
        )
    return lines
