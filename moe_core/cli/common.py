"""What every command shares: one `error:` line and exit code 2 for bad input, the number checks of
flags, reading a configuration file with --set and --steps over it, and a `note:` line for each
option that was set but does nothing under the chosen router, balance strategy or dataset."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from moe_core.datasets import with_dataset_defaults
from moe_core.settings.config import ConfigError, RunConfig, parse_assignment, split_key
from moe_core.settings.table import OPTIONS, why_not_applied


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's usage block would be more than one line
        fail(f"{message} (see python -m moe_core --help)")


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


def positive(text: str) -> int:
    value = int(text) if text.lstrip("-").isdigit() else None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got '{text}'")
    return value


def steps(text: str) -> int:
    value = int(text) if text.lstrip("-").isdigit() else None
    if value is None or value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 0, got '{text}'")
    return value


def read_json_file(path_text: str, what: str = "config file") -> dict:
    path = Path(path_text)
    if not path.is_file():
        raise ConfigError(f"The {what} '{path_text}' does not exist.")
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"The {what} '{path_text}' is not valid JSON ({err}).") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"The {what} '{path_text}' must hold a JSON object.")
    return doc


def build_config(doc: dict, assignments: list[str], steps: int | None) -> tuple[RunConfig, list[str]]:
    """The configuration document (or the defaults), then --set overrides, then --steps; the chosen
    dataset's suggested values fill what neither set. Also the keys the user set, in order."""
    doc = {section: dict(values) if isinstance(values, dict) else values for section, values in doc.items()}
    for section, values in doc.items():
        if not isinstance(values, dict):
            raise ConfigError(f"The '{section}' part of the configuration must be a JSON object.")
    for key, value in (parse_assignment(a) for a in assignments):
        section, name = split_key(key)
        doc.setdefault(section, {})[name] = value
    if steps is not None:
        doc.setdefault("train", {})["steps"] = steps
    chosen = [f"{section}.{name}" for section, values in doc.items() for name in values]
    if isinstance(doc.get("data"), dict):
        doc["data"] = with_dataset_defaults(doc["data"])
    return RunConfig.from_dict(doc), chosen


def unused_notes(cfg: RunConfig, keys: list[str]) -> list[str]:
    """For each option the user set away from its default that the configuration ignores: what it is
    and why (a saved configuration names every option; those at their defaults say nothing)."""
    values = cfg.flat()
    said = []
    for key in dict.fromkeys(keys):
        if key not in OPTIONS or values[key] == OPTIONS[key].default:
            continue
        reason = why_not_applied(key, values)
        if reason:
            said.append(f"{key}={json.dumps(values[key])} does nothing here: {reason}.")
    return said
