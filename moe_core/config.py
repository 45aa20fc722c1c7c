"""Run configuration: one JSON document describes a run for the UI, the CLI and files.

`RunConfig` holds three frozen parts (`data`, `model`, `train`). `RunConfig.from_dict` rejects unknown
keys, wrong types and impossible values with one sentence naming the key; `with_overrides` applies
`a.b=value` strings as the CLI's `--set` does.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

DATASET_NAMES = (
    "clusters",
    "clusters_regression",
    "circle",
    "xor",
    "gauss",
    "spiral",
    "moons",
    "checkerboard",
    "cluster_signals",
    "cluster_single_index",
    "digits",
    "csv",
)
ROUTERS = ("topk", "noisy_topk", "switch", "expert_choice", "dense", "hash")
NORMALIZE = ("softmax_topk", "softmax", "sigmoid")
BALANCE = ("none", "aux_loss", "importance", "bias")
ACTIVATIONS = ("relu", "gelu", "tanh", "cubic", "linear")
OBJECTIVES = ("blend", "mixture")
OPTIMIZERS = ("adam", "adamw", "sgd")
DEVICES = ("auto", "cpu", "cuda", "mps")

# Capacity used when `capacity_factor` is null. Switch: 1.25 (Fedus et al. 2021, training value);
# expert choice: c = k, so that on average each point gets top_k experts, the compute-matched
# comparison of Zhou et al. 2022 (EC-CF2 against top-2). Token-choice top-k: no limit (dropless).
SWITCH_DEFAULT_CAPACITY = 1.25


class ConfigError(ValueError):
    """A configuration or data problem, phrased as one sentence for the user."""


@dataclass(frozen=True)
class DataConfig:
    name: str = "clusters"
    n_train: int = 2000
    n_test: int = 1000
    noise: float = 0.1  # the dataset's own noise knob; `python -m moe_core datasets` says what it means
    n_clusters: int = 4
    dim: int = 2
    separation: float = 1.0  # scales the distance between cluster centres (1 = the dataset's default)
    seed: int = 0
    csv_path: str | None = None
    target: str | None = None  # CSV target column; null finds y, label or target


@dataclass(frozen=True)
class ModelConfig:
    arch: Literal["moe", "dense"] = "moe"
    n_experts: int = 4
    top_k: int = 1
    router: str = "topk"
    gate_noise: float = 0.0
    # softmax (no renormalisation, as Switch) keeps a task gradient on the router at top_k = 1,
    # where softmax_topk makes the gate identically 1 (reference section 1.13).
    normalize: str = "softmax"
    expert_hidden: int = 16
    expert_layers: int = 1
    expert_activation: str = "relu"
    gate_hidden: int = 0
    capacity_factor: float | None = None
    balance: str = "aux_loss"
    # The papers' 0.01 suits language-model losses; on these small tasks it left digits collapsed onto
    # one expert of four after 1500 steps, where 0.1 kept all four in use (measured, see README).
    aux_loss_coef: float = 0.1
    z_loss_coef: float = 0.0
    bias_update_rate: float = 0.001
    shared_experts: int = 0
    objective: str = "blend"  # blend: loss of the mixed output; mixture: Jacobs et al. 1991 likelihood


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000
    batch_size: int = 128
    lr: float = 0.01
    optimizer: str = "adam"
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "auto"
    threads: int | None = None


@dataclass(frozen=True)
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        _validate(self)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, doc: Any) -> RunConfig:
        if not isinstance(doc, dict):
            raise ConfigError("The configuration must be a JSON object with data, model and train parts.")
        for key in doc:
            if key not in _SECTIONS:
                raise ConfigError(f"Unknown configuration section '{key}'; use data, model or train.")
        parts = {name: _build_section(name, doc.get(name, {})) for name in _SECTIONS}
        return cls(**parts)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"The configuration is not valid JSON ({err.msg} at line {err.lineno}).") from None
        return cls.from_dict(doc)

    def replace(self, **changes: Any) -> RunConfig:
        """Change fields by dotted name, e.g. `replace(**{"model.top_k": 2})`; validated again."""
        doc = self.to_dict()
        for dotted, value in changes.items():
            section, name = _split_key(dotted)
            doc[section][name] = value
        return RunConfig.from_dict(doc)

    def with_overrides(self, assignments: list[str]) -> RunConfig:
        """Apply CLI-style `section.key=value` strings; values parse as JSON, else as plain strings."""
        return self.replace(**dict(parse_assignment(a) for a in assignments))


_SECTIONS: dict[str, type] = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


def config_changes(old: RunConfig, new: RunConfig) -> dict[str, tuple[Any, Any]]:
    """Dotted names of the fields that differ, with (old, new) values."""
    before, after = old.to_dict(), new.to_dict()
    return {
        f"{section}.{name}": (value, after[section][name])
        for section, values in before.items()
        for name, value in values.items()
        if after[section][name] != value
    }


def parse_assignment(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise ConfigError(f"Override '{text}' needs the form section.key=value, e.g. model.top_k=2.")
    key, raw = text.split("=", 1)
    _split_key(key.strip())
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def _split_key(dotted: str) -> tuple[str, str]:
    section, _, name = dotted.partition(".")
    if section not in _SECTIONS or not name:
        raise ConfigError(f"Unknown configuration key '{dotted}'; keys look like model.top_k or train.lr.")
    if name not in {f.name for f in dataclasses.fields(_SECTIONS[section])}:
        raise ConfigError(f"Unknown configuration key '{dotted}'.")
    return section, name


def _build_section(section: str, values: Any) -> Any:
    cls = _SECTIONS[section]
    if not isinstance(values, dict):
        raise ConfigError(f"The '{section}' part of the configuration must be a JSON object.")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for name, value in values.items():
        if name not in known:
            raise ConfigError(f"Unknown configuration key '{section}.{name}'.")
        kwargs[name] = _coerce(f"{section}.{name}", value, hints[name])
    return cls(**kwargs)


def _coerce(key: str, value: Any, hint: Any) -> Any:
    """Check a JSON value against a field's type; ints are accepted where floats are expected."""
    args = typing.get_args(hint)
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{key} must not be null.")
    base = next(a for a in args if a is not type(None)) if optional else hint
    if typing.get_origin(base) is Literal:
        base = str
    if base is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ConfigError(f"{key} must be a finite number, got {value}.")
        return float(value)
    if base is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if base is str and isinstance(value, str):
        return value
    raise ConfigError(f"{key} must be {_TYPE_WORDS[base]}, got {json.dumps(value)}.")


_TYPE_WORDS = {int: "a whole number", float: "a number", str: "a string"}


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _one_of(key: str, value: str, allowed: tuple[str, ...]) -> None:
    _check(value in allowed, f"{key} '{value}' is unknown; choose one of {', '.join(allowed)}.")


def _validate(cfg: RunConfig) -> None:
    _validate_data(cfg.data)
    _validate_model(cfg.model)
    _validate_train(cfg.train)


def _validate_data(d: DataConfig) -> None:
    _one_of("data.name", d.name, DATASET_NAMES)
    _check(1 <= d.n_train <= 200_000, f"data.n_train ({d.n_train}) must be between 1 and 200000.")
    _check(1 <= d.n_test <= 200_000, f"data.n_test ({d.n_test}) must be between 1 and 200000.")
    _check(d.noise >= 0, f"data.noise ({d.noise}) must be 0 or more.")
    _check(1 <= d.n_clusters <= 64, f"data.n_clusters ({d.n_clusters}) must be between 1 and 64.")
    _check(2 <= d.dim <= 1024, f"data.dim ({d.dim}) must be between 2 and 1024.")
    _check(d.separation > 0, f"data.separation ({d.separation}) must be greater than 0.")
    _check(d.seed >= 0, f"data.seed ({d.seed}) must be 0 or more.")
    _check(d.name != "csv" or bool(d.csv_path), "data.csv_path must name a CSV file when data.name is 'csv'.")


def _validate_model(m: ModelConfig) -> None:
    _one_of("model.arch", m.arch, ("moe", "dense"))
    _one_of("model.router", m.router, ROUTERS)
    _one_of("model.normalize", m.normalize, NORMALIZE)
    _one_of("model.balance", m.balance, BALANCE)
    _one_of("model.expert_activation", m.expert_activation, ACTIVATIONS)
    _one_of("model.objective", m.objective, OBJECTIVES)
    _check(1 <= m.n_experts <= 256, f"model.n_experts ({m.n_experts}) must be between 1 and 256.")
    _check(m.top_k >= 1, f"model.top_k ({m.top_k}) must be at least 1.")
    _check(
        m.top_k <= m.n_experts,
        f"model.top_k ({m.top_k}) must be at most model.n_experts ({m.n_experts}).",
    )
    _check(
        m.router != "switch" or m.top_k == 1,
        f"model.top_k ({m.top_k}) must be 1 for router 'switch'; use router 'topk' with a capacity_factor for k > 1.",
    )
    _check(m.gate_noise >= 0, f"model.gate_noise ({m.gate_noise}) must be 0 or more.")
    _check(
        m.router != "noisy_topk" or m.gate_noise > 0,
        "model.gate_noise must be greater than 0 for router 'noisy_topk'; its gates start at zero and need the noise.",
    )
    _check(1 <= m.expert_hidden <= 4096, f"model.expert_hidden ({m.expert_hidden}) must be between 1 and 4096.")
    _check(1 <= m.expert_layers <= 4, f"model.expert_layers ({m.expert_layers}) must be between 1 and 4.")
    _check(0 <= m.gate_hidden <= 1024, f"model.gate_hidden ({m.gate_hidden}) must be between 0 and 1024.")
    _check(
        m.capacity_factor is None or m.capacity_factor > 0,
        f"model.capacity_factor ({m.capacity_factor}) must be greater than 0, or null for no limit.",
    )
    for key in ("aux_loss_coef", "z_loss_coef", "bias_update_rate"):
        value = getattr(m, key)
        _check(value >= 0, f"model.{key} ({value}) must be 0 or more.")
    _check(0 <= m.shared_experts <= 16, f"model.shared_experts ({m.shared_experts}) must be between 0 and 16.")


def _validate_train(t: TrainConfig) -> None:
    _one_of("train.optimizer", t.optimizer, OPTIMIZERS)
    _one_of("train.device", t.device, DEVICES)
    _check(t.steps >= 0, f"train.steps ({t.steps}) must be 0 or more.")
    _check(t.batch_size >= 1, f"train.batch_size ({t.batch_size}) must be at least 1.")
    _check(t.lr > 0, f"train.lr ({t.lr}) must be greater than 0.")
    _check(t.weight_decay >= 0, f"train.weight_decay ({t.weight_decay}) must be 0 or more.")
    _check(t.seed >= 0, f"train.seed ({t.seed}) must be 0 or more.")
    _check(t.threads is None or t.threads >= 1, f"train.threads ({t.threads}) must be at least 1, or null.")
