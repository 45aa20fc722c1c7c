"""The product's one error type: a problem with a setting, a file or a run, phrased for the user."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ConfigError(ValueError):
    """A configuration or data problem, phrased as one sentence that says what is wrong and what to do."""


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to a misspelt word, or None when none is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean X?)' for the closest candidate, or '' when none is close."""
    match = closest(word, candidates)
    return f" (did you mean {match}?)" if match else ""
