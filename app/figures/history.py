"""Quantities over training time: load, collapse, training curves and specialisation.

Every builder takes the run's metric history (a list of moe_core Metrics, oldest first) and the steps
where a setting changed live, marked on every time axis. Before the run has trained, a builder gives
its title and a sentence instead of empty axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from moe_core.measure.metrics import Metrics
from moe_explorer_app.figures.palette import expert_colour, expert_name
from moe_explorer_app.figures.style import (
    base_layout,
    cursor_mark,
    event_marks,
    placeholder,
    room_for_legend,
    set_axes,
    subplot_grid,
)

MAX_POINTS = 400  # older history is thinned: a curve needs no more points than pixels
MOE_COLOUR, DENSE_COLOUR = "#0072B2", "#D55E00"
NOT_YET = "Press Play (or Step) to train:<br>the curves start here."
Events = Sequence[tuple[int, str]]


def trained(history: Sequence[Metrics]) -> bool:
    """Whether there is anything over time to draw: snapshots past step 0."""
    return any(m.step > 0 for m in history)


def thin(history: Sequence[Metrics]) -> list[Metrics]:
    """At most MAX_POINTS snapshots, evenly spread, always keeping the newest."""
    if len(history) <= MAX_POINTS:
        return list(history)
    keep = np.unique(np.linspace(0, len(history) - 1, MAX_POINTS).round().astype(int))
    return [history[i] for i in keep]


def _series(history: Sequence[Metrics], name: str) -> np.ndarray:
    return np.array([np.nan if getattr(m, name) is None else getattr(m, name) for m in history], dtype=float)


def _steps(history: Sequence[Metrics]) -> np.ndarray:
    return np.array([m.step for m in history])


def _line(history, name: str, label: str, colour: str, panel: int = 1, dash: str | None = None, **extra) -> dict:
    suffix = "" if panel == 1 else str(panel)
    return {
        "type": "scatter",
        "mode": "lines",
        "x": _steps(history),
        "y": _series(history, name),
        "name": label,
        "line": {"color": colour, "width": 2, "dash": dash},
        "xaxis": f"x{suffix}",
        "yaxis": f"y{suffix}",
        "hovertemplate": f"{label}: %{{y:.3f}} at step %{{x}}<extra></extra>",
        **extra,
    }


def _share_heatmap(steps: np.ndarray, shares_TE: np.ndarray) -> dict:
    n_experts = shares_TE.shape[1]
    return {
        "type": "heatmap",
        "x": steps,
        "y": [expert_name(e) for e in range(n_experts)],
        "z": np.rint(shares_TE.T * n_experts * 100).astype(np.uint16),
        "zmin": 0,
        "zmax": 300,
        "colorscale": "Viridis",
        "colorbar": {"title": {"text": "% of fair<br>share"}},
        "hovertemplate": "%{y} at step %{x}: %{z}% of its fair share<extra></extra>",
    }


def _share_band(steps: np.ndarray, shares_TE: np.ndarray, e: int) -> dict:
    return {
        "type": "scatter",
        "x": steps,
        "y": shares_TE[:, e],
        "stackgroup": "load",
        "mode": "lines",
        "name": expert_name(e),
        "line": {"width": 0.5, "color": expert_colour(e)},
        "fillcolor": expert_colour(e),
        "hovertemplate": f"{expert_name(e)}: %{{y:.1%}} at step %{{x}}<extra></extra>",
    }


def _padded(shares: Sequence[tuple[float, ...]]) -> np.ndarray:
    """[T, E] with E the most experts the run had: where experts were split or removed, a snapshot with
    fewer gives the missing ones a zero share."""
    width = max(len(share) for share in shares)
    return np.array([(*share, *(0.0,) * (width - len(share))) for share in shares])


def category_ticks(names: Sequence[str], most: int = 16) -> dict:
    """Tick labels for a category axis of many rows: every k-th name, so that 14 px labels never overlap."""
    every = max(1, int(np.ceil(len(names) / most)))
    return {"tickmode": "array", "tickvals": list(names[::every]), "ticktext": list(names[::every])}


def load_share_area(history: Sequence[Metrics], events: Events = (), cursor: int | None = None) -> go.Figure:
    """Each expert's share of routed slots over time: stacked bands up to 16 experts, a heatmap above
    (dozens of stacked traces slow every redraw in the browser, and no one can tell them apart)."""
    history = [m for m in thin(history) if m.load_share is not None]
    title = "Load share per expert over time"
    if not trained(history):
        return go.Figure({"data": [], "layout": placeholder(title, 330, NOT_YET)})
    layout = cursor_mark(event_marks(base_layout(title, 330), events), cursor)
    layout["xaxis"].update(title={"text": "training step"})
    steps, shares_TE = _steps(history), _padded([m.load_share for m in history])
    names = [expert_name(e) for e in range(shares_TE.shape[1])]
    if shares_TE.shape[1] > 16:
        layout["yaxis"].update(title={"text": "expert"}, autorange="reversed", **category_ticks(names))
        layout["margin"] = {**layout["margin"], "b": 62}
        return go.Figure({"data": [_share_heatmap(steps, shares_TE)], "layout": layout})
    layout["legend"].update(traceorder="normal")
    layout["yaxis"].update(title={"text": "share of routed slots"}, range=[0, 1], tickformat=".0%")
    traces = [_share_band(steps, shares_TE, e) for e in range(shares_TE.shape[1])]
    return go.Figure({"data": traces, "layout": room_for_legend(layout, names)})


COLLAPSE_PANELS = (  # one question per panel: (question, [(metric, label, colour, dash)], y range)
    ("Is the load even?", [("load_entropy", "load entropy / log E", "#0072B2", None)], "unit"),
    (
        "How many experts work?",
        [
            ("effective_experts", "effective experts", "#009E73", None),
            ("dead_experts", "dead", "#D55E00", "dash"),
            ("experts_per_point", "per point", "#0072B2", "dot"),
        ],
        "experts",
    ),
    ("How uneven?", [("load_cv2", "CV² of load", "#CC79A7", None), ("max_vio", "MaxVio", "#E69F00", "dash")], "zero"),
    (
        "Does routing move or drop points?",
        [("flip_rate", "flips", "#7F7F7F", "dot"), ("drop_rate", "drops", "#C00000", "dash")],
        "unit",
    ),
    (
        "Router losses",
        [("balance_loss", "balance loss", "#56B4E9", None), ("router_z", "router z", "#5A6270", "dash")],
        "zero",
    ),
)


# Shown where the gate noise or the balance weight changed during the run (a schedule, or a live change).
SCHEDULE_PANEL = (
    "What the schedule sets",
    [("gate_noise", "gate noise", "#009E73", None), ("balance_weight", "balance weight", "#56B4E9", "dash")],
    "zero",
)


def _scheduled(history: Sequence[Metrics]) -> bool:
    seen = {(m.gate_noise, m.balance_weight) for m in history if m.gate_noise is not None}
    return len(seen) > 1


def _keyed_title(question: str, series: list[tuple]) -> str:
    """The panel's question, and under it each series' name in its own colour: a legend that reads at a
    glance and, on its own line, fits the narrowest column."""
    keys = "  ".join(f"<span style='color:{colour}'>━ {label}</span>" for _, label, colour, _ in series)
    return f"<b>{question}</b><br>{keys}"


PANEL_PX = 160  # a collapse-watch panel with its two-line title: room for 14 px text and three ticks


def collapse_panel(
    history: Sequence[Metrics], n_experts: int, events: Events = (), cursor: int | None = None
) -> go.Figure:
    """Balance over time, one question per panel: even use, experts in use, imbalance, flips and drops,
    the router's losses; and the gate noise and balance weight in force, where they changed."""
    history = [m for m in thin(history) if m.load_share is not None]
    panels = (*COLLAPSE_PANELS, SCHEDULE_PANEL) if _scheduled(history) else COLLAPSE_PANELS
    rows = len(panels)
    height = 110 + PANEL_PX * rows
    if not trained(history):
        return go.Figure({"data": [], "layout": placeholder("Collapse watch", height, NOT_YET)})
    titles = [_keyed_title(question, series) for question, series, _ in panels]
    layout = {**base_layout("Collapse watch", height), **subplot_grid(rows, 1, titles, gap=(0, 0.5 / rows))}
    layout["showlegend"] = False
    layout["margin"] = {**layout["margin"], "t": 96, "b": 62}
    traces, axes = [], {}
    ranges = {"unit": {"range": [0, 1.05]}, "experts": {"range": [0, n_experts + 0.5]}, "zero": {"rangemode": "tozero"}}
    for panel, (_, series, scale) in enumerate(panels, start=1):
        traces += [_line(history, name, label, colour, panel, dash=dash) for name, label, colour, dash in series]
        suffix = "" if panel == 1 else str(panel)
        axes[f"yaxis{suffix}"] = {**ranges[scale], "nticks": 3}
        axes[f"xaxis{suffix}"] = {"showticklabels": panel == rows, "matches": "x" if panel > 1 else None}
    axes[f"xaxis{rows}"]["title"] = {"text": "training step"}
    for note in layout["annotations"]:
        note.update(x=0, xanchor="left", align="left")
    layout = event_marks(set_axes(layout, axes), events, rows)
    return go.Figure({"data": traces, "layout": cursor_mark(layout, cursor, rows)})


def training_curves(
    history: Sequence[Metrics],
    baseline: Sequence[Metrics] | None,
    classification: bool,
    events: Events = (),
    cursor: int | None = None,
) -> go.Figure:
    """Train and test loss, and test accuracy, for the MoE and the dense MLP of the same size."""
    title = "Training: MoE against a dense MLP"
    if not trained(history):
        return go.Figure({"data": [], "layout": placeholder(title, 360, NOT_YET)})
    runs = [("MoE", thin(history), MOE_COLOUR)]
    if baseline:
        runs.append(("dense MLP", thin(baseline), DENSE_COLOUR))
    traces = []
    for label, hist, colour in runs:
        traces.append(_line(hist, "train_loss", f"{label} train", colour, 1, dash="dot"))
        traces.append(_line(hist, "test_loss", f"{label} test", colour, 1))
        if classification:
            traces.append(_line(hist, "test_accuracy", f"{label} accuracy", colour, 2, showlegend=False))
    titles = ("Loss", "Test accuracy") if classification else ("Loss",)
    layout = {**base_layout(title, 360), **subplot_grid(1, len(titles), titles, gap=(0.26, 0))}
    axes = {"xaxis": {"title": {"text": "training step"}}, "yaxis": {"rangemode": "tozero", "title": {"text": "loss"}}}
    if classification:
        axes.update(
            xaxis2={"title": {"text": "training step"}}, yaxis2={"tickformat": ".0%", "title": {"text": "accuracy"}}
        )
    for axis in ("xaxis", "xaxis2"):
        axes.setdefault(axis, {})["nticks"] = 4  # two panels share a column: fewer, wider-spaced steps
    layout = event_marks(set_axes(layout, axes), events, len(titles))
    layout = room_for_legend(
        cursor_mark(layout, cursor, len(titles)), [t["name"] for t in traces if t.get("showlegend", True)]
    )
    return go.Figure({"data": traces, "layout": layout})


def specialisation_heatmap(contingency: tuple[tuple[int, ...], ...], cluster_names: Sequence[str]) -> go.Figure:
    """Which expert serves which latent cluster: each column shows where one cluster's points go."""
    table = np.array(contingency, dtype=float)  # [E, C]
    column = table / np.maximum(table.sum(axis=0, keepdims=True), 1)
    experts = [expert_name(e) for e in range(table.shape[0])]
    trace = {
        "type": "heatmap",
        "z": np.rint(column * 100).astype(np.uint8),
        "x": list(cluster_names),
        "y": experts,
        "zmin": 0,
        "zmax": 100,
        "colorscale": "Blues",
        "customdata": table.astype(np.int32),
        "colorbar": {"title": {"text": "% of cluster"}},
        "hovertemplate": "cluster %{x} → %{y}: %{z}% (%{customdata} points)<extra></extra>",
    }
    layout = base_layout("Where each cluster's points go", min(700, max(320, 110 + 22 * len(experts))))
    layout["margin"] = {**layout["margin"], "b": 62}
    set_axes(
        layout,
        {
            "xaxis": {"title": {"text": "latent cluster"}, "type": "category"},
            "yaxis": {
                "title": {"text": "expert (first choice)"},
                "autorange": "reversed",
                "type": "category",
                **category_ticks(experts),
            },
        },
    )
    return go.Figure({"data": [trace], "layout": layout})


def specialisation_curves(history: Sequence[Metrics], events: Events = (), cursor: int | None = None) -> go.Figure:
    """Cluster NMI and purity (0..1, higher = more specialised), how alike the experts' outputs are (mean
    squared cosine, 0..1: what a diversity penalty pushes down) and dispatch entropy (0 = one cluster each)."""
    history = [m for m in thin(history) if m.cluster_nmi is not None]
    if not trained(history):
        return go.Figure({"data": [], "layout": placeholder("Specialisation over time", 360, NOT_YET)})
    traces = [
        _line(history, "cluster_nmi", "NMI(expert; cluster)", "#0072B2"),
        _line(history, "purity", "purity", "#009E73", dash="dash"),
        _line(history, "expert_similarity", "experts' likeness", "#7F7F7F", dash="dashdot"),
        {**_line(history, "dispatch_entropy", "dispatch entropy (nats)", "#D55E00", dash="dot"), "yaxis": "y2"},
    ]
    layout = cursor_mark(event_marks(base_layout("Specialisation over time", 360), events), cursor)
    set_axes(
        layout,
        {
            "xaxis": {"title": {"text": "training step"}, "nticks": 5},
            "yaxis": {"title": {"text": "NMI, purity, likeness"}, "range": [0, 1.05]},
            "yaxis2": {
                "title": {"text": "dispatch entropy"},
                "rangemode": "tozero",
                "overlaying": "y",
                "side": "right",
                "tickformat": ".1f",
                "anchor": "x",
                "showgrid": False,
                "automargin": True,
            },
        },
    )
    return go.Figure({"data": traces, "layout": room_for_legend(layout, [t["name"] for t in traces])})
