"""The live panel: fragments that redraw while the worker trains, the charts less often than the map.

The map fragment reruns every 0.2 s while playing, the chart fragments every one or two seconds (their
timers live in the browser, so they stop with the tab). Each copies what it needs from the run under the
run's lock, then builds its figures outside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from app import chart, charts, figures, inspector, session
from app.session import Run
from moe_core.probe import GridProbe, probe_grid, probe_points
from moe_core.snapshot import Metrics

MAP_SECONDS = 0.2
# Each chart refresh costs the browser a full Plotly redraw; on 2 cores with software rendering, charts
# every second took the map from ~4.4 to ~2.1 refreshes a second. The collapse view tells the live
# story, so it refreshes every second; training curves, thumbnails and specialisation every two.
COLLAPSE_SECONDS = 1.0
LOWER_SECONDS = 2.0
MAP_RESOLUTION = 100
MAP_POINTS = 250  # SVG markers cost ~0.1 ms each per redraw in the browser; 250 show the data well


MAP_CAPTIONS = {
    "expert": "Each colour is the expert the gate sends that region to; faint means the gate is unsure. Markers "
    "are test points by class; a red × got no expert. Click a point or a region to inspect it.",
    "second": "Each colour is the expert the gate would pick if its favourite were gone: where experts share "
    "a border, the runner-up is usually the neighbour.",
    "entropy": "Dark means the gate spreads its probability over many experts (undecided); white means it is "
    "sure. Borders between experts are dark.",
    "output": "The whole model's prediction over the plane (after mixing the experts). Compare it with the "
    "winning-expert view to see which expert draws which part of the boundary.",
}


@dataclass(frozen=True)
class MapView:
    """What the map fragment draws, copied from a run in one locked moment."""

    grid: GridProbe
    points: figures.MapPoints
    step: int
    latest: Metrics | None
    diverged: str | None


def value_kind(run: Run) -> str:
    data = run.trainer.data
    if data.task == "regression":
        return "value"
    return "probability" if data.n_classes == 2 else "class"


def _map_view(run: Run) -> MapView:
    trainer, data = run.trainer, run.trainer.data
    x, y = data.x_test[:MAP_POINTS], data.y_test[:MAP_POINTS]
    dropped = np.zeros(len(x), bool)
    with run.lock:
        grid = probe_grid(trainer.model, data, MAP_RESOLUTION, trainer.device)
        if trainer.is_moe and trainer.model.router.may_drop:  # only then can a point go unserved
            probe = probe_points(
                trainer.model, x.to(trainer.device), y.to(trainer.device), data.task == "classification"
            )
            dropped = ~probe.kept_NK.any(axis=1)
        latest = trainer.history[-1] if trainer.history else None
        step, diverged = trainer.step_count, trainer.diverged
    names = data.class_names if data.task == "classification" else ()
    points = figures.MapPoints(data.projection.to_view(x).numpy(), y.numpy(), dropped, np.arange(len(x)), names)
    return MapView(grid, points, step, latest, diverged)


def _histories(run: Run) -> tuple[list[Metrics], list[Metrics] | None]:
    with run.lock:
        return list(run.trainer.history), (list(run.baseline.history) if run.baseline is not None else None)


def _readout(run: Run, view: MapView, playing: bool) -> None:
    m = view.latest
    acc = "" if m is None or m.test_accuracy is None else f" · test accuracy {m.test_accuracy:.1%}"
    rate = run.steps_per_second() if playing else 0.0
    st.markdown(f"**step {view.step:,}** · {rate:,.0f} steps/s · {run.trainer.device.type} · {run.name}{acc}")
    if view.diverged:
        st.error(view.diverged)


def _map(run: Run, view: MapView) -> None:
    cfg = run.cfg
    mode = (
        st.segmented_control(
            "Colour the map by",
            list(figures.MAP_MODES),
            format_func=figures.MAP_MODES.get,
            key="ui.map_mode",
            default="expert",
        )
        or "expert"
    )
    axes = ("x1", "x2") if run.trainer.data.dim == 2 else ("PC1", "PC2")
    fig = figures.routing_map(
        view.grid, view.points, mode, cfg.model.n_experts, value_kind(run), axes, st.session_state.get("inspect.point")
    )
    event = chart.show(fig, "routing_map", on_select="rerun", selection_mode="points")
    st.caption(MAP_CAPTIONS[mode])
    if run.trainer.model.router.constant_weights:
        st.info(
            "With top-1 and the weight renormalised over the chosen expert the gate is always 1: the router "
            "learns only from the balance loss. Try 'softmax, no renormalising'."
        )
    _remember_selection(event)


def _remember_selection(event) -> None:
    """Keep the clicked point (or map cell) for the inspector; redraw so the map marks it."""
    points = event.selection.points if event is not None else []
    if not points:
        return
    chosen = points[0]
    if chosen.get("customdata") is not None and "z" not in chosen:
        selection = (int(np.ravel(chosen["customdata"])[0]), None)
    else:
        selection = (None, (float(chosen["x"]), float(chosen["y"])))
    if selection != (st.session_state.get("inspect.point"), st.session_state.get("inspect.xy")):
        st.session_state["inspect.point"], st.session_state["inspect.xy"] = selection
        st.rerun(scope="fragment")


def _inspect(run: Run) -> None:
    trainer = run.trainer
    index, xy = st.session_state.get("inspect.point"), st.session_state.get("inspect.xy")
    if index is None and xy is None:
        st.caption("Click a point or a region of the routing map to see its gate scores and each expert's output.")
        return
    if index is not None:
        x_D, label = trainer.data.x_test[index], f"#{index}"
    else:
        x_D = trainer.data.projection.from_view(torch.tensor([xy], dtype=torch.float32))[0]
        label = f"at ({xy[0]:.2f}, {xy[1]:.2f})"
    with run.lock:
        result = inspector.inspect(trainer.model, x_D.to(trainer.device), trainer.data.task == "classification")
    inspector.show(result, label)


def _map_fragment(playing: bool) -> None:
    run = session.active_run()
    if run is None:
        return
    if playing and not session.worker().playing:
        st.rerun(scope="app")  # the worker stopped by itself (divergence): refresh the toolbar
    view = _map_view(run)
    _readout(run, view, playing)
    if run.trainer.is_moe:
        _map(run, view)
        with st.expander("Inspect a point", expanded=True):
            _inspect(run)


def _collapse_fragment() -> None:
    run = session.active_run()
    if run is None or not run.trainer.is_moe:
        return
    history, _ = _histories(run)
    n_experts = run.cfg.model.n_experts
    chart.show(charts.load_share_area(history), "load_area")
    if n_experts > 16:
        st.caption(
            "Each row is one expert; bright means it gets more than its fair share of points, dark "
            "less. Even colour down a column: balanced; one bright row: collapse."
        )
    else:
        st.caption(
            "Each band is one expert's share of the routed points. Even bands: balanced; one band "
            "swallowing the rest: collapse."
        )
    chart.show(charts.collapse_panel(history, n_experts), "collapse")
    st.caption(
        "Entropy near 1 and effective experts near the expert count mean even use; dead experts get "
        "under 1% of their fair share; the red dashed line is the share of routed points dropped by capacity."
    )
    _diagnosis(history[-1] if history else None, n_experts)


def _diagnosis(m: Metrics | None, n_experts: int) -> None:
    if m is None or m.load_entropy is None or n_experts == 1:
        return
    if m.dead_experts and m.cluster_nmi is not None and m.cluster_nmi > 0.7:
        st.success(
            f"{m.dead_experts} expert(s) idle, but NMI is {m.cluster_nmi:.2f}: each cluster has its own "
            "expert. With more experts than clusters, idle experts are expected; that is not collapse."
        )
    elif m.load_entropy < 0.5:
        st.warning(
            f"Collapse: {m.effective_experts:.1f} effective experts of {n_experts}. Turn on a balance "
            "strategy or gate noise and watch the bands spread."
        )


def _lower_fragment() -> None:
    run = session.active_run()
    if run is None:
        return
    history, baseline = _histories(run)
    data = run.trainer.data
    chart.show(charts.training_curves(history, baseline, data.task == "classification"), "training")
    st.caption(
        "Solid: test loss; dotted: train loss. Blue is the MoE, orange a dense MLP with the same number "
        "of parameters trained on the same batches."
    )
    if not run.trainer.is_moe:
        return
    left, right = st.columns([1.1, 1], gap="large")
    with left:
        with run.lock:
            side = figures.thumbnail_side(run.cfg.model.n_experts)
            grid = probe_grid(run.trainer.model, data, side, run.trainer.device, with_experts=True)
        share = history[-1].load_share if history else None
        chart.show(figures.expert_thumbnails(grid, share, value_kind(run), data.n_classes), "thumbs")
        st.caption(
            "Each tile is one expert's own prediction over the same plane, with its load share; grey "
            "where the gate does not send it points."
        )
    with right:
        _specialisation(history)


def _specialisation(history: list[Metrics]) -> None:
    m = history[-1] if history else None
    if m is None or m.contingency is None:
        st.info("Specialisation needs known clusters; this dataset has none.")
        return
    names = [str(c) for c in range(len(m.contingency[0]))]
    chart.show(charts.specialisation_heatmap(m.contingency, names), "contingency")
    st.caption(
        "Each column is one latent cluster; dark cells show which expert gets its points. One dark cell "
        "per column and per row: perfect specialisation."
    )
    cols = st.columns(3)
    cols[0].metric("NMI (expert; cluster)", f"{m.cluster_nmi:.2f}")
    cols[1].metric("Purity", f"{m.purity:.2f}")
    cols[2].metric("Dispatch entropy", f"{m.dispatch_entropy:.2f}", help="0 when each expert sees one cluster.")
    chart.show(charts.specialisation_curves(history), "spec_curves")
    st.caption("NMI and purity rise towards 1 as experts specialise; dispatch entropy falls towards 0.")


def panel(playing: bool) -> None:
    """The map and inspector (left), the collapse view (right), then training, experts and specialisation."""
    left, right = st.columns([1.15, 1], gap="large")
    with left:
        st.fragment(_map_fragment, run_every=MAP_SECONDS if playing else None)(playing)
    with right:
        st.fragment(_collapse_fragment, run_every=COLLAPSE_SECONDS if playing else None)()
    st.fragment(_lower_fragment, run_every=LOWER_SECONDS if playing else None)()
