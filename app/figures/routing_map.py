"""The routing map as the live map component draws it (app/ui/components/live_map.js): the input plane as
uint8 codes with a colour per code, the data points, and the legend.

The map redraws several times a second while training, so it is not a Plotly figure: a Plotly heatmap
with a few hundred markers took tens of milliseconds of the browser's time per update, a canvas a few.
Grid arrays follow moe_core.measure.probe: [R, R] with row = view y (upwards) and column = view x.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from plotly.colors import get_colorscale, sample_colorscale

from moe_core.measure.probe import GridProbe
from moe_explorer_app.figures.palette import (
    PROBABILITY_SCALE,
    VALUE_SCALE,
    class_colour,
    expert_colour,
    expert_name,
    rgb,
    shaded_colour,
)

LEVELS = 4  # confidence shades per expert, while expert * levels + level fits in a byte (64 experts)
MAP_MODES = {
    "expert": "Winning expert",
    "second": "2nd choice",
    "entropy": "Gate entropy",
    "output": "Model output",
    "experts_per_point": "Experts per point",
    "group": "Expert group",
}
MAP_TITLES = {
    "expert": "Routing map: which expert the gate picks",
    "second": "Routing map: the gate's second choice",
    "entropy": "Routing map: how undecided the gate is",
    "output": "Routing map: the model's prediction",
    "experts_per_point": "Routing map: how many experts each region uses",
    "group": "Routing map: which group the first gate picks",
}
BASE_MODES = ("expert", "second", "entropy", "output")  # every router has these; the others come with their rule
COUNT_SCALE = "Blues"
SYMBOLS = ("circle", "square", "diamond", "triangle")
VALUE_LEVELS = 256


@dataclass(frozen=True)
class MapPoints:
    """Data points drawn on the map: view coordinates, their target, and whether capacity dropped them."""

    xy_N2: np.ndarray
    target_N: np.ndarray  # class ids, or values for a regression
    dropped_N: np.ndarray  # bool
    index_N: np.ndarray  # the point's index in the probe set, for the inspector
    class_names: tuple[str, ...]  # empty for a regression


def shade_levels(n_experts: int) -> int:
    """Confidence shades per expert: LEVELS up to 64 experts, fewer past that (one at 129 and more)."""
    return max(1, min(LEVELS, 256 // n_experts))


def _scale(name: str, count: int) -> list[list[int]]:
    """`count` colours sampled evenly along a Plotly colour scale."""
    samples = sample_colorscale(get_colorscale(name), np.linspace(0, 1, count).tolist(), colortype="rgb")
    return [list(rgb(c)) for c in samples]


def _expert_codes(experts_RR: np.ndarray, sureness_RR: np.ndarray | None, levels: int) -> np.ndarray:
    """expert * levels + level, the level from faint (the gate unsure) to full colour (sure)."""
    if sureness_RR is None:
        level = np.full(experts_RR.shape, levels - 1)
    else:
        level = np.clip((sureness_RR * levels).astype(int), 0, levels - 1)
    return (experts_RR.astype(np.int32) * levels + level).astype(np.uint8)


def _expert_layer(codes_RR: np.ndarray, n_experts: int, legend_title: str, kinds: Sequence[str] | None = None) -> dict:
    levels = shade_levels(n_experts)
    words = ("unsure", "hesitant", "fairly sure", "sure")[LEVELS - levels :]
    lut, labels = [], []
    for code in range(n_experts * levels):
        e, level = divmod(code, levels)
        lut.append(list(rgb(shaded_colour(e, level, levels))))
        labels.append(f"expert {expert_name(e)}, gate {words[level]}")
    names = [expert_name(e) + ("" if kinds is None else f" {kinds[e]}") for e in range(n_experts)]
    legend = [{"label": names[e], "colour": expert_colour(e)} for e in range(n_experts)]
    return {"codes": codes_RR, "lut": lut, "code_labels": labels, "legend": legend, "legend_title": legend_title}


def _bar(name: str, title: str, ticks: list[tuple[float, str]]) -> dict:
    stops = [[at, f"rgb({r},{g},{b})"] for at, (r, g, b) in zip(np.linspace(0, 1, 11), _scale(name, 11), strict=True)]
    return {"title": title, "stops": stops, "ticks": ticks}


def _entropy_layer(entropy_RR: np.ndarray) -> dict:
    codes = np.clip(np.rint(entropy_RR * 100), 0, 100).astype(np.uint8)
    ticks = [(p / 100, f"{p}%") for p in (0, 50, 100)]
    return {
        "codes": codes,
        "lut": _scale("Greys", 101),
        "code_labels": [f"gate entropy {p}% of log E" for p in range(101)],
        "colorbar": _bar("Greys", "entropy", ticks),
    }


def _output_layer(output_RR: np.ndarray, value_kind: str, class_names: tuple[str, ...]) -> dict:
    if value_kind == "probability":
        codes = np.clip(np.rint(output_RR * 100), 0, 100).astype(np.uint8)
        ticks = [(p / 100, f"{p}%") for p in (0, 25, 50, 75, 100)]
        labels = [f"P(class {class_names[1] if len(class_names) > 1 else 1}) = {p}%" for p in range(101)]
        return {
            "codes": codes,
            "lut": _scale(PROBABILITY_SCALE, 101),
            "code_labels": labels,
            "colorbar": _bar(PROBABILITY_SCALE, "P(class 1)", ticks),
        }
    if value_kind == "class":
        legend = [{"label": f"class {n}", "colour": class_colour(c)} for c, n in enumerate(class_names)]
        return {
            "codes": output_RR.astype(np.uint8),
            "lut": [list(rgb(class_colour(c))) for c in range(len(class_names))],
            "legend": legend,
            "legend_title": "predicted",
            "code_labels": [f"predicted class {n}" for n in class_names],
        }
    lo, hi = float(np.nanmin(output_RR)), float(np.nanmax(output_RR))
    hi = hi if hi > lo else lo + 1.0
    codes = np.clip(np.rint((output_RR - lo) / (hi - lo) * (VALUE_LEVELS - 1)), 0, VALUE_LEVELS - 1).astype(np.uint8)
    values = np.linspace(lo, hi, VALUE_LEVELS)
    ticks = [(at, f"{lo + at * (hi - lo):.2g}") for at in (0, 0.5, 1)]
    return {
        "codes": codes,
        "lut": _scale(VALUE_SCALE, VALUE_LEVELS),
        "code_labels": [f"prediction ≈ {v:.2f}" for v in values],
        "colorbar": _bar(VALUE_SCALE, "prediction", ticks),
    }


def _count_layer(routed_ERR: np.ndarray) -> dict:
    """Experts each cell reaches, 1 to E, light to dark; a legend up to 12 experts, a colour bar above."""
    n_experts = len(routed_ERR)
    codes = routed_ERR.sum(axis=0).astype(np.uint8)
    lut = _scale(COUNT_SCALE, n_experts + 2)[1:]  # code 0 (no expert) the lightest; the scale's white skipped
    labels = [f"{n} expert{'s' * (n != 1)}" for n in range(n_experts + 1)]
    if n_experts <= 12:
        legend = [{"label": labels[n], "colour": "rgb({},{},{})".format(*lut[n])} for n in range(1, n_experts + 1)]
        return {"codes": codes, "lut": lut, "code_labels": labels, "legend": legend, "legend_title": "experts used"}
    ticks = [(0, "0"), (0.5, f"{n_experts // 2}"), (1, f"{n_experts}")]
    return {"codes": codes, "lut": lut, "code_labels": labels, "colorbar": _bar(COUNT_SCALE, "experts", ticks)}


def _group_layer(grid: GridProbe, n_groups: int, n_experts: int) -> dict:
    """The first gate's choice of group, shaded by how sure it is, as the expert view shades experts;
    the legend names each group's experts."""
    levels = shade_levels(n_groups)
    sureness = None if n_groups == 1 else (grid.group_prob_RR - 1 / n_groups) / (1 - 1 / n_groups)
    layer = _expert_layer(_expert_codes(grid.group_RR, sureness, levels), n_groups, "faint: unsure")
    layer["code_labels"] = [label.replace("expert E", "group G") for label in layer["code_labels"]]
    size = n_experts // n_groups
    for g, item in enumerate(layer["legend"]):
        first, last = g * size, g * size + size - 1
        item["label"] = f"G{g}: E{first}" + (f"-E{last}" if last > first else "")
    return layer


def winner_codes(grid: GridProbe, n_experts: int) -> np.ndarray:
    """[R, R] uint8 codes of the winning expert shaded by how sure the gate is (its probability from
    fair 1/E to certain 1): expert * levels + level, with `shade_levels(n_experts)` levels."""
    sureness = None if n_experts == 1 else (grid.winner_prob_RR - 1 / n_experts) / (1 - 1 / n_experts)
    return _expert_codes(grid.winner_RR, sureness, shade_levels(n_experts))


def _layer(
    grid: GridProbe,
    mode: str,
    n_experts: int,
    value_kind: str,
    class_names: tuple[str, ...],
    n_groups: int,
    kinds: Sequence[str] | None,
) -> dict:
    levels = shade_levels(n_experts)
    if mode == "expert" and grid.winner_RR is not None:
        return _expert_layer(winner_codes(grid, n_experts), n_experts, "faint: unsure", kinds)
    if mode == "second" and grid.second_RR is not None:
        return _expert_layer(_expert_codes(grid.second_RR, None, levels), n_experts, "runner-up", kinds)
    if mode == "entropy" and grid.entropy_RR is not None:
        return _entropy_layer(grid.entropy_RR)
    if mode == "experts_per_point" and grid.routed_ERR is not None:
        return _count_layer(grid.routed_ERR)
    if mode == "group" and grid.group_RR is not None:
        return _group_layer(grid, n_groups, n_experts)
    return _output_layer(grid.output_RR, value_kind, class_names)


def _points(points: MapPoints) -> tuple[dict, list[dict]]:
    names = points.class_names or ("data point",)
    classes = [
        {
            "name": f"class {n}" if points.class_names else n,
            "symbol": SYMBOLS[c % len(SYMBOLS)],
            "fill": "#111111" if c % 2 or not points.class_names else "#FFFFFF",
            "stroke": "#FFFFFF" if c % 2 or not points.class_names else "#111111",
        }
        for c, n in enumerate(names)
    ]
    cls = points.target_N.astype(int).tolist() if points.class_names else [0] * len(points.target_N)
    xy = np.round(points.xy_N2.astype(float), 4)
    data = {
        "x": xy[:, 0].tolist(),
        "y": xy[:, 1].tolist(),
        "cls": cls,
        "dropped": points.dropped_N.astype(bool).tolist(),
        "index": points.index_N.astype(int).tolist(),
    }
    return data, classes


def routing_map(
    grid: GridProbe,
    points: MapPoints,
    mode: str,
    n_experts: int,
    value_kind: str,
    axis_names: tuple[str, str],
    selected: int | None = None,
    step: int = 0,
    font: int = 14,
    n_groups: int = 1,
    kinds: Sequence[str] | None = None,
) -> dict:
    """What the live map draws: the plane coloured by the gate's choice (or entropy, or the model's
    output) as codes and a colour per code, the points on top, a legend or colour bar."""
    layer = _layer(grid, mode, n_experts, value_kind, points.class_names, n_groups, kinds)
    codes = np.ascontiguousarray(layer.pop("codes"), dtype=np.uint8)
    point_data, classes = _points(points)
    return {
        **layer,
        "codes": base64.b64encode(codes.tobytes()).decode(),
        "extent": grid.extent,
        "points": point_data,
        "classes": classes,
        "selected": selected,
        "title": MAP_TITLES[mode],
        "axes": list(axis_names),
        "step": step,
        "font": font,
    }
