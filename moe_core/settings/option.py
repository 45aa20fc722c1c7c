"""One setting of the table of options (`moe_core.settings.table`): its type, range, default, label, help,
where it applies and whether it changes live; and `setting`, which declares a dataclass field with one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moe_core.settings.registry import Registry


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
    check: Callable[[Any], str | None] | None = None  # a text's own format: the problem as a sentence, or None
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


def setting(default: Any, label: str, help: str, **details: Any) -> Any:
    return field(default=default, metadata={"option": Option(label, help, default, **details)})
