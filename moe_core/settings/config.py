"""Run configuration: one JSON document describes a run for the UI, the CLI and files.

`RunConfig` holds the three sections of the table of options (`moe_core.settings.table`). Building one
checks every value against its option (type, range, choices) and the cross-field rules of the chosen
router and dataset; any problem raises `ConfigError` with one sentence naming the key.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

from moe_core.datasets import DATASETS
from moe_core.errors import ConfigError, closest, did_you_mean
from moe_core.layer.routers import ROUTERS
from moe_core.settings.choices import EXPERT_KINDS
from moe_core.settings.table import OPTIONS, SECTIONS, DataConfig, ModelConfig, Option, TrainConfig, number_text

__all__ = ["ConfigError", "DataConfig", "ModelConfig", "RunConfig", "TrainConfig"]


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

    def flat(self) -> dict[str, Any]:
        """{"section.name": value} for every option."""
        return {f"{s}.{name}": value for s, values in self.to_dict().items() for name, value in values.items()}

    def get(self, key: str) -> Any:
        section, name = split_key(key)
        return getattr(getattr(self, section), name)

    @classmethod
    def from_dict(cls, doc: Any) -> RunConfig:
        if not isinstance(doc, dict):
            raise ConfigError("The configuration must be a JSON object with data, model and train parts.")
        for section in doc:
            if section not in SECTIONS:
                raise ConfigError(
                    f"Unknown configuration section '{section}'{did_you_mean(str(section), SECTIONS)}; "
                    "use data, model or train."
                )
        return cls(**{section: _build_section(section, doc.get(section, {})) for section in SECTIONS})

    @classmethod
    def from_flat(cls, values: dict[str, Any]) -> RunConfig:
        """From {"section.name": value} pairs; missing keys take their defaults."""
        doc: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            section, name = split_key(key)
            doc.setdefault(section, {})[name] = value
        return cls.from_dict(doc)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"The configuration is not valid JSON ({err.msg} at line {err.lineno}).") from None
        return cls.from_dict(doc)

    def replace(self, **changes: Any) -> RunConfig:
        """Change options by key, e.g. `replace(**{"model.top_k": 2})`; validated again."""
        return RunConfig.from_flat({**self.flat(), **changes})

    def with_overrides(self, assignments: list[str]) -> RunConfig:
        """Apply CLI-style `section.name=value` strings; values parse as JSON, else as plain strings."""
        return self.replace(**dict(parse_assignment(a) for a in assignments))


def as_overrides(cfg: RunConfig) -> list[str]:
    """The CLI's `--set` strings that turn the defaults into this config (values as JSON)."""
    defaults = RunConfig().flat()
    return [f"{key}={json.dumps(value)}" for key, value in cfg.flat().items() if value != defaults[key]]


def run_label(cfg: RunConfig) -> str:
    """A run in a few words, naming what tells runs apart: dataset, experts, what each point gets (with
    the gate's normalisation and the capacity where the rule reads them and they are not the
    defaults), balancing."""
    m = cfg.model
    if m.arch == "dense":
        return f"{cfg.data.name}, dense MLP"
    spec = ROUTERS[m.router]
    routing = spec.describe(m)
    if "model.normalize" in spec.uses and m.normalize != OPTIONS["model.normalize"].default:
        routing += f" {m.normalize}"
    if "model.capacity_factor" in spec.uses and m.capacity_factor is not None:
        routing += f", capacity {m.capacity_factor:g}"
    return f"{cfg.data.name}, {m.n_experts} experts, {routing}, {m.balance}"


def split_key(key: str) -> tuple[str, str]:
    """("model", "top_k") from "model.top_k"; an unknown key raises ConfigError, with the closest known one."""
    if key not in OPTIONS:
        by_name = {option.name: k for k, option in OPTIONS.items()}
        match = closest(key, OPTIONS) or by_name.get(closest(key.rpartition(".")[2], by_name) or "")
        hint = f" (did you mean {match}?)" if match else "; python -m moe_core options lists the keys"
        raise ConfigError(f"Unknown configuration key '{key}'{hint}.")
    section, _, name = key.partition(".")
    return section, name


def parse_assignment(text: str) -> tuple[str, Any]:
    """("model.top_k", 2) from "model.top_k=2": the value as JSON where it parses, else as a string."""
    if "=" not in text:
        raise ConfigError(f"Override '{text}' needs the form section.key=value, e.g. model.top_k=2.")
    key, raw = (part.strip() for part in text.split("=", 1))
    split_key(key)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key, value


def check_value(key: str, value: Any) -> Any:
    """One option's value, coerced and checked against its type, range and choices alone (the rules
    between options are checked when a RunConfig is built)."""
    split_key(key)
    option = OPTIONS[key]
    value = _coerce(option, value)
    _check_option(option, value)
    return value


def config_changes(old: RunConfig, new: RunConfig) -> dict[str, tuple[Any, Any]]:
    """The keys whose values differ, with (old, new) values."""
    before, after = old.flat(), new.flat()
    return {key: (value, after[key]) for key, value in before.items() if after[key] != value}


def _build_section(section: str, values: Any) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"The '{section}' part of the configuration must be a JSON object.")
    kwargs = {}
    for name, value in values.items():
        key = f"{section}.{name}"
        split_key(key)
        kwargs[name] = _coerce(OPTIONS[key], value)
    return SECTIONS[section](**kwargs)


_TYPE_WORDS = {int: "a whole number", float: "a number", str: "a string"}


def _coerce(option: Option, value: Any) -> Any:
    """Check a JSON value against an option's type; whole numbers are accepted where numbers are."""
    if value is None:
        if option.nullable:
            return None
        raise ConfigError(f"{option.key} must not be null.")
    kind = option.kind
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ConfigError(f"{option.key} must be a finite number, got {value}.")
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    raise ConfigError(f"{option.key} must be {_TYPE_WORDS[kind]}, got {json.dumps(value)}.")


def _check_option(option: Option, value: Any) -> None:
    """Range, choices and a text's own format, from the table."""
    if value is None:
        return
    problem = option.check(value) if option.check is not None else None
    if problem:
        raise ConfigError(problem)
    if option.choices is not None:
        option.choices.get(value, option.key)  # raises ConfigError naming the known choices
        return
    low, high = option.low, option.high
    if low is None:
        return
    if option.above:
        wanted, ok = f"greater than {number_text(low)}", value > low
    elif high is not None:
        wanted, ok = f"between {number_text(low)} and {number_text(high)}", low <= value <= high
    else:
        wanted, ok = (f"{number_text(low)} or more" if low == 0 else f"at least {number_text(low)}"), value >= low
    if not ok:
        null = ", or null" if option.nullable else ""
        raise ConfigError(f"{option.key} ({value}) must be {wanted}{null}.")


def _validate(cfg: RunConfig) -> None:
    values = cfg.flat()
    for key, option in OPTIONS.items():
        _check_option(option, values[key])
    m = cfg.model
    if m.top_k > m.n_experts:
        raise ConfigError(f"model.top_k ({m.top_k}) must be at most model.n_experts ({m.n_experts}).")
    router = ROUTERS[m.router]
    for key, only in router.fixed.items():
        if values[key] != only:
            hint = f"; {router.fixed_hint}" if router.fixed_hint else ""
            raise ConfigError(f"{key} ({values[key]}) must be {only} for router '{m.router}'{hint}.")
    if m.objective == "mixture" and m.combine != "weighted":
        raise ConfigError("The mixture objective weighs the experts by the router; set model.combine to weighted.")
    if cfg.train.resizes_experts:
        problem = _resizing_problem(m)
        if problem:
            raise ConfigError(problem)
    for entry in (router, EXPERT_KINDS[m.expert_kind]):
        problem = entry.check(m) if entry.check else None
        if problem:
            raise ConfigError(problem)
    dataset = DATASETS[cfg.data.name]
    problem = dataset.check(cfg.data) if dataset.check else None
    if problem:
        raise ConfigError(problem)


def _resizing_problem(m: ModelConfig) -> str | None:
    """Why the experts of a model cannot be split or removed (`moe_core.training.dynamic`), in one sentence."""
    resizable = [spec.name for spec in ROUTERS.entries() if spec.resizable]
    if m.router not in resizable:
        return f"Experts can be split or removed with the routers {', '.join(resizable)}, not '{m.router}'."
    if m.gate != "linear" or m.expert_kind == "mixed" or m.combine == "learned":
        return (
            "Experts can be split or removed with a linear gate, one expert kind, and a weighted or attention "
            "combination."
        )
    return None
