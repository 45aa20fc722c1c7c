"""The centres of a drawn dataset as one line of text, `data.centres`: "x,y,class" per centre, joined by
";" (e.g. "-1.5,0.5,0;1,1,1"), so that it travels in a config file, a link and `--set` as it is.

No numpy or torch here: the table of options checks the text.
"""

from __future__ import annotations

import math

from moe_core.errors import ConfigError

Centre = tuple[float, float, int]

LIMIT = 3.0  # coordinates lie in [-LIMIT, LIMIT]: the square the sidebar's editor draws
MAX_CENTRES = 16  # one colour per cluster in the heatmap stays readable up to here
CLASSES = (0, 1)
# Four blobs in an XOR layout: no single line separates the classes, four experts can take one each.
DEFAULT = "-1.5,1.5,0;1.5,1.5,1;-1.5,-1.5,1;1.5,-1.5,0"
_EXAMPLE = "e.g. '-1.5,0.5,0;1,1,1'"


def parse_centres(text: str) -> list[Centre]:
    """[(x, y, class)] from the text; ConfigError with one sentence where it is not a list of centres."""
    parts = [part.strip() for part in text.split(";") if part.strip()]
    if not parts:
        raise ConfigError(f"data.centres needs at least one centre written x,y,class, {_EXAMPLE}.")
    if len(parts) > MAX_CENTRES:
        raise ConfigError(f"data.centres holds {len(parts)} centres; use at most {MAX_CENTRES}.")
    return [_centre(i + 1, part) for i, part in enumerate(parts)]


def _centre(number: int, part: str) -> Centre:
    fields = [field.strip() for field in part.split(",")]
    try:
        x, y, cls = (float(field) for field in fields)  # ValueError for a word or a count other than 3
    except ValueError:
        raise ConfigError(
            f"data.centres: centre {number} ('{part}') must be three numbers x,y,class separated by commas, {_EXAMPLE}."
        ) from None
    if not all(math.isfinite(v) and abs(v) <= LIMIT for v in (x, y)):
        raise ConfigError(
            f"data.centres: centre {number} ('{part}') must have x and y between -{LIMIT:g} and {LIMIT:g}."
        )
    if cls not in CLASSES:
        raise ConfigError(f"data.centres: centre {number} ('{part}') must have class 0 or 1, got {fields[2]}.")
    return x, y, int(cls)


def centres_problem(text: str) -> str | None:
    """Why the text is no list of centres, as one sentence; None when it is one."""
    try:
        parse_centres(text)
    except ConfigError as err:
        return str(err)
    return None


def centres_text(centres: list[Centre]) -> str:
    """The text of a list of centres, coordinates to two decimals (the editor's resolution)."""
    return ";".join(f"{_number(x)},{_number(y)},{cls}" for x, y, cls in centres)


def _number(v: float) -> str:
    return f"{round(v, 2) + 0.0:g}"  # + 0.0: no "-0"
