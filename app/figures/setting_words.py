"""Settings in words, as a chart's titles and legends name them: 'capacity factor 0.5', '4 experts',
'balance strategy: auxiliary loss (Switch / GShard)', from the options table's labels (not the keys)."""

from __future__ import annotations

from typing import Any

from moe_core.settings.table import OPTIONS


def option_words(key: str) -> str:
    """An option's label as a phrase: 'capacity factor' for model.capacity_factor (the table's label
    without its parenthesis, a capital kept where the word is a name such as 'MoE')."""
    option = OPTIONS.get(key)
    label = option.label.split(" (")[0] if option else key.split(".")[-1]
    first = label.split(" ")[0]
    return label[:1].lower() + label[1:] if first[1:] == first[1:].lower() else label


def value_words(key: str, value: Any) -> str:
    """A setting's value in words: a choice's label up to its colon ('top-p (Huang 2024)'), what None
    means for the option ('no limit'), a number as written."""
    option = OPTIONS.get(key)
    if option is not None and value is None and option.null_means:
        return option.null_means.split(";")[0]
    if option is not None and option.choices is not None and value in option.choices:
        return option.choices[value].label.split(":")[0]
    return f"{value:g}" if isinstance(value, float) else str(value)


def setting_words(key: str, value: Any) -> str:
    """'capacity factor 0.5' for a number, '4 experts' for a count, 'balance strategy: none' for a choice
    or a null."""
    option, words, name = OPTIONS.get(key), value_words(key, value), option_words(key)
    if isinstance(value, int) and not isinstance(value, bool) and name.endswith("s"):  # a count of things
        return f"{value} {name[:-1] if value == 1 else name}"
    named = value is None or (option is not None and option.choices is not None)
    return f"{name}{':' if named else ''} {words}"


def setting_text(settings: dict) -> str:
    """'top-k 2, balance strategy: none' from {"model.top_k": 2, "model.balance": "none"}."""
    return ", ".join(setting_words(key, value) for key, value in settings.items()) or "base"
