"""The page's address holds the whole setup: every option of the table and the view (map colouring,
presentation mode, Play's speed), so that a shared link or a reload reopens it; the Compare page's
address holds each compared run as the settings it changes from the defaults. Values travel as text; reading a
link back checks each one against its option and keeps the default, with one sentence, where a value
is unknown or impossible.
"""

from __future__ import annotations

import json
from typing import Any

from moe_core.settings.config import ConfigError, RunConfig, check_value, config_changes
from moe_core.settings.table import OPTIONS, Option
from moe_explorer_app.figures.routing_map import MAP_MODES
from moe_explorer_app.state.worker import SPEEDS

# view keys and the values they take
VIEW = {"view.map": tuple(MAP_MODES), "view.present": ("0", "1"), "view.speed": tuple(SPEEDS)}


def _text(value: Any) -> str:
    if value is None:
        return "null"
    return value if isinstance(value, str) else json.dumps(value)


def encode(values: dict[str, Any], view: dict[str, str]) -> dict[str, str]:
    """Query parameters for a config ({"section.name": value}) and the view."""
    return {**{key: _text(values[key]) for key in OPTIONS}, **view}


def _parse(option: Option, text: str) -> Any:
    """An option's value from its text in a link; ConfigError where it cannot be one."""
    if text == "null":
        return check_value(option.key, None)
    if option.kind is str:
        return check_value(option.key, text)
    try:
        return check_value(option.key, json.loads(text))
    except json.JSONDecodeError:
        raise ConfigError(f"{option.key} '{text}' is not a number") from None


def decode(params: dict[str, str]) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """(config values, view, problems) from query parameters. A key that is unknown, or a value an
    option cannot take, is left out (its default stays) and named in `problems`."""
    values, view, problems = {}, {}, []
    for key, text in params.items():
        if key in VIEW:
            if text in VIEW[key]:
                view[key] = text
            else:
                problems.append(f"{key} '{text}'")
        elif key in OPTIONS:
            try:
                values[key] = _parse(OPTIONS[key], text)
            except ConfigError:
                problems.append(f"{key} '{text}'")
        else:
            problems.append(f"'{key}'")
    try:
        RunConfig.from_flat(values)
    except ConfigError as err:
        problems.append(f"the combination ({err})")
        values = {}
    return values, view, problems


def notice(problems: list[str]) -> str | None:
    """One sentence naming what the link got wrong, or None."""
    if not problems:
        return None
    return f"The link's {', '.join(problems)} could not be used; those settings keep their defaults."


RUN_KEY = "run"  # the Compare page's parameter, once per compared run: "model.balance:none;model.top_k:2"
DEFAULTS = "defaults"  # a run with every option at its default


def encode_run(cfg: RunConfig) -> str:
    """A run as the options it sets away from the defaults, "key:value" joined by ";"."""
    changes = config_changes(RunConfig(), cfg)
    return ";".join(f"{key}:{_text(new)}" for key, (_, new) in changes.items()) or DEFAULTS


def decode_run(text: str) -> RunConfig:
    """The run a link's "run" parameter names; ConfigError (one sentence) where it names none."""
    values = {}
    for part in text.split(";") if text != DEFAULTS else []:
        key, sep, value = part.partition(":")
        if not sep or key not in OPTIONS:
            raise ConfigError(f"the link's run '{text}' names '{key}', which is not an option")
        values[key] = _parse(OPTIONS[key], value)
    return RunConfig.from_flat({**RunConfig().flat(), **values})
