"""The product's one error type: a problem with a setting, a file or a run, phrased for the user."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable


class ConfigError(ValueError):
    """A configuration or data problem, phrased as one sentence that says what is wrong and what to do.

    The sentence stays on one line: control characters it quotes from the user's input (a newline in
    an override, a NUL byte in a file) are shown escaped, as Python writes them in a string."""

    def __init__(self, message: str = "") -> None:
        super().__init__(one_line(str(message)))


def one_line(text: str) -> str:
    """`text` with control and line-separator characters escaped (newline as \\n), other text as it is."""
    return "".join(repr(c)[1:-1] if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to a misspelt word, or None when none is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean X?)' for the closest candidate, or '' when none is close."""
    match = closest(word, candidates)
    return f" (did you mean {match}?)" if match else ""
