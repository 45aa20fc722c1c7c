"""The one table of options: every setting of a run, declared once with its type, range, default,
label, one-line help, where it applies and whether a running trainer can take a new value.

The three sections are frozen dataclasses (the model's in `moe_core.settings.model_section`) whose fields
carry an `Option` (`moe_core.settings.option`) in their metadata; `OPTIONS` reads them into one table keyed
"section.name". Config validation, the sidebar's widgets, the CLI's `--set` and `options` listing read
this table. No torch here: listing options and validating a config stay fast.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

from moe_core.datasets import DATASETS
from moe_core.datasets.centres import DEFAULT as DEFAULT_CENTRES
from moe_core.datasets.centres import centres_problem
from moe_core.settings.choices import (
    DEVICES,
    OPTIMIZERS,
    SAMPLING,
    SCHEDULES,
    SHIFTS,
)
from moe_core.settings.model_section import ModelConfig
from moe_core.settings.option import Option, number_text, setting

LR_STEPS = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


@dataclass(frozen=True)
class DataConfig:
    name: str = setting("clusters", "Dataset", "Which dataset to train on.", choices=DATASETS)
    n_train: int = setting(
        2000, "Training points", "Points the model trains on.", low=1, high=200_000,
        ui_low=100, ui_high=20_000, ui_step=100, depends_on="data.name",
    )  # fmt: skip
    n_test: int = setting(
        1000, "Test points", "Held-out points for metrics and maps.", low=1, high=200_000,
        ui_low=100, ui_high=5000, ui_step=100, depends_on="data.name",
    )  # fmt: skip
    noise: float = setting(
        0.1, "Noise", "The dataset's own noise knob; each dataset says what it means.", low=0, ui_high=1.0,
        ui_step=0.01, depends_on="data.name",
    )  # fmt: skip
    n_clusters: int = setting(
        4, "Clusters", "Latent clusters in the clustered datasets.", low=1, high=64, ui_high=16, depends_on="data.name"
    )
    dim: int = setting(
        2,
        "Input dimensions",
        "Input dimension; above 2 the maps show the first two principal components.",
        low=2,
        high=1024,
        ui_high=256,
        depends_on="data.name",
    )
    separation: float = setting(
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
    sampling: str = setting(
        "fixed", "Sampling", "Where training batches come from.", choices=SAMPLING, depends_on="data.name"
    )
    shift_step: int | None = setting(
        None, "Shift at step", "The step at which the data change (a distribution shift).",
        nullable=True, null_means="never", low=1, high=10**7, ui_low=100, ui_high=10_000, ui_step=100,
        null_toggle="Shift the data mid-run", toggle_value=1500, depends_on="data.name",
    )  # fmt: skip
    shift_kind: str = setting("move", "Shift", "What changes at the shift.", choices=SHIFTS, depends_on="data.name")
    gamma_max: float = setting(
        3.0,
        "Feature-noise strength, upper end",
        "Feature noise gamma ~ U(0.5, this): 3 in Chen et al.'s settings 1-2, 2 in settings 3-4.",
        low=0.5,
        ui_high=4.0,
        ui_step=0.25,
        depends_on="data.name",
    )
    input_scale: float = setting(
        1.0,
        "Input scale",
        "Every input is multiplied by this (Chen et al.'s released code uses 10).",
        low=0,
        above=True,
        steps=(0.1, 0.3, 1.0, 3.0, 10.0),
    )
    seed: int = setting(
        0, "Data seed", "Seed of the data generator and of the train/test split.", low=0, high=2**31 - 1
    )
    csv_path: str | None = setting(
        None,
        "CSV file",
        "Path of a CSV file in the upload format, or the name of a bundled sample (iris.csv).",
        nullable=True,
        null_means="no file",
        depends_on="data.name",
    )
    centres: str = setting(
        DEFAULT_CENTRES,
        "Centres",
        "The drawn dataset's cluster centres: x,y,class per centre (x and y in -3..3, class 0 or 1), joined by ';'.",
        check=centres_problem,
        live=True,
        depends_on="data.name",
    )
    target: str | None = setting(
        None,
        "Target column",
        "The CSV column to predict.",
        nullable=True,
        null_means="the column named y, label or target",
        depends_on="data.name",
    )


@dataclass(frozen=True)
class TrainConfig:
    steps: int = setting(2000, "Steps", "Optimiser steps the CLI trains.", low=0, high=10**7, live=True)
    batch_size: int = setting(
        128, "Batch size", "Points per optimiser step.", low=1, high=65_536,
        steps=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096), live=True,
    )  # fmt: skip
    lr: float = setting(
        0.01, "Learning rate", "The optimiser's step size.", low=0, above=True, steps=LR_STEPS, live=True
    )
    optimizer: str = setting("adam", "Optimiser", "The optimiser.", choices=OPTIMIZERS)
    router_optimizer: str | None = setting(
        None,
        "Router optimiser",
        "A separate optimiser for the router (Chen et al. 2022: SGD for the router, normalised GD for experts).",
        nullable=True,
        null_means="the optimiser above",
        choices=OPTIMIZERS,
    )
    router_lr: float | None = setting(
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
    noise_schedule: str = setting(
        "constant", "Gate noise schedule", "How the gate noise changes over training: it starts at the value set.",
        choices=SCHEDULES, live=True,
    )  # fmt: skip
    balance_schedule: str = setting(
        "constant", "Balance weight schedule",
        "How the balance loss's weight changes over training: it starts at the value set.",
        choices=SCHEDULES, live=True,
    )  # fmt: skip
    anneal_steps: int = setting(
        2000, "Schedule length (steps)", "The steps over which the schedules run; after them the end value holds.",
        low=1, high=10**7, ui_low=100, ui_high=20_000, ui_step=100, live=True,
    )  # fmt: skip
    anneal_to: float = setting(
        0.0, "Schedule end value", "What the schedules reach, as a fraction of the values they start from.",
        low=0, high=1, ui_step=0.05, live=True,
    )  # fmt: skip
    split_above: float | None = setting(
        None, "Split above (x fair share)",
        "Every grow_every steps, split the busiest expert if its load share is above this many times 1/E.",
        nullable=True, null_means="never split", low=1, above=True, ui_low=1.25, ui_high=4.0, ui_step=0.25,
        null_toggle="Split busy experts", toggle_value=2.0, live=True,
    )  # fmt: skip
    remove_below: float | None = setting(
        None, "Remove below (x fair share)",
        "Every grow_every steps, remove the idlest expert if its load share is below this times 1/E.",
        nullable=True, null_means="never remove", low=0, above=True, high=1, ui_step=0.01,
        null_toggle="Remove idle experts", toggle_value=0.05, live=True,
    )  # fmt: skip
    grow_every: int = setting(
        250, "Check experts every (steps)", "How often the split and remove rules look at the load.",
        low=1, high=10**6, ui_low=50, ui_high=2000, ui_step=50, live=True,
    )  # fmt: skip
    max_experts: int = setting(
        16, "At most (experts)", "The split rule stops at this many experts.", low=1, high=256, ui_high=64, live=True
    )
    weight_decay: float = setting(
        0.0, "Weight decay", "L2 penalty (AdamW: decoupled).", low=0, steps=(0.0, 1e-5, 1e-4, 1e-3, 1e-2), live=True
    )
    seed: int = setting(
        0, "Training seed (initial weights, batches, noise)", "Seed of the initial weights, batches and noise.",
        low=0, high=2**31 - 1,
    )  # fmt: skip
    device: str = setting("auto", "Device", "Where to train: auto picks CUDA, then MPS, then the CPU.", choices=DEVICES)
    threads: int | None = setting(
        None,
        "CPU threads",
        "torch's CPU threads, set by moe_core.runtime.configure (the CLI and the app call it).",
        nullable=True,
        null_means="1, fastest for small steps on a small CPU",
        low=1,
        high=256,
    )

    @property
    def resizes_experts(self) -> bool:
        """Whether a rule may split or remove experts as the run trains (`moe_core.training.dynamic`)."""
        return self.split_above is not None or self.remove_below is not None


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


def why_not_applied(key: str, values: dict[str, Any]) -> str | None:
    """Why an option does not matter for a config, as a phrase ("not used by the dataset 'csv'", or the
    entry's own reason, "set by the file's rows"); None where it applies."""
    if applies(key, values):
        return None
    owner = OPTIONS[key].depends_on
    registry, chosen = OPTIONS[owner].choices, values[owner]
    own = dict(registry[chosen].why_unused).get(key) if chosen in registry else None
    return own or f"not used by the {OPTIONS[owner].label.lower()} '{chosen}'"


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


__all__ = ["LIVE_KEYS", "OPTIONS", "SECTIONS", "DataConfig", "ModelConfig", "Option", "TrainConfig", "applies",
           "describe_options", "number_text", "why_not_applied"]  # fmt: skip
