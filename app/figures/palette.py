"""Expert colours, the same in every view.

The first eight are Okabe and Ito's colour-blind-safe set (black replaced by grey so that maps stay
readable); then Paul Tol's muted, light and dark qualitative sets; past those, golden-angle hues at two
lightness levels up to 64. Colours past the first eight are not all distinguishable for colour-blind
readers, so every view also names the expert on hover.
"""

from __future__ import annotations

import colorsys

from plotly.colors import qualitative, unlabel_rgb

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#7F7F7F"]
TOL_MUTED = ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499"]
TOL_LIGHT = ["#77AADD", "#EE8866", "#EEDD88", "#FFAABB", "#99DDFF", "#44BB99", "#BBCC33", "#AAAA00"]
TOL_DARK = ["#222255", "#225555", "#225522", "#666633", "#663333"]
MAX_EXPERTS = 64
# A model's value on the plane, the same in the routing map and the thumbnails: P(class 1) on a
# diverging scale centred on 50%, predicted classes in colour-blind-safe colours, regression values on
# a perceptually even scale.
PROBABILITY_SCALE = "RdBu_r"
VALUE_SCALE = "Viridis"


def _generated(count: int) -> list[str]:
    colours = []
    for i in range(count):
        hue = (i * 0.618033988749895) % 1.0
        lightness = 0.42 if i % 2 else 0.62
        r, g, b = colorsys.hls_to_rgb(hue, lightness, 0.65)
        colours.append(f"#{int(r * 255):02X}{int(g * 255):02X}{int(b * 255):02X}")
    return colours


_FIXED = OKABE_ITO + TOL_MUTED + TOL_LIGHT + TOL_DARK
PALETTE: tuple[str, ...] = tuple(_FIXED + _generated(MAX_EXPERTS - len(_FIXED)))


def expert_colour(e: int) -> str:
    return PALETTE[e % len(PALETTE)]


def expert_name(e: int) -> str:
    return f"E{e}"


def class_colour(c: int) -> str:
    return qualitative.Safe[c % len(qualitative.Safe)]


def rgb(colour: str) -> tuple[int, int, int]:
    """Red, green and blue (0-255) of '#RRGGBB' or 'rgb(r, g, b)'."""
    if colour.startswith("#"):
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(round(c) for c in unlabel_rgb(colour))


def _blend(colour: str, amount: float) -> str:
    """The colour mixed with white: amount 1 keeps it, 0 gives white."""
    mix = [round(255 - (255 - c) * amount) for c in rgb(colour)]
    return f"rgb({mix[0]},{mix[1]},{mix[2]})"


def shaded_colour(e: int, level: int, levels: int) -> str:
    """Expert e's colour at a confidence level: from a faint tint (level 0, the gate unsure) to its full
    colour (the last level, the gate sure)."""
    return _blend(expert_colour(e), 0.3 + 0.7 * level / max(levels - 1, 1))
