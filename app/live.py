"""The live panel: fragments that redraw while the worker trains, the charts less often than the map.

The map fragment reruns every 0.2 s while playing, the chart fragments every one or two seconds (their
timers live in the browser, so they stop with the tab). What they show comes from `view_model`; this
module only puts it on the page.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from moe_core.metrics import Metrics
from moe_explorer_app import session, view_model
from moe_explorer_app.figures import history, inspector, maps
from moe_explorer_app.render import show
from moe_explorer_app.runs import Run

MAP_SECONDS = 0.2
# Each chart refresh costs the browser a full Plotly redraw, taken from the map's redraws on a small
# machine. The collapse view tells the live story, so it refreshes every second; training curves,
# thumbnails and specialisation every two.
COLLAPSE_SECONDS = 1.0
LOWER_SECONDS = 2.0


def _map(run: Run, view: view_model.MapView) -> None:
    mode = (
        st.segmented_control(
            "Colour the map by",
            list(maps.MAP_MODES),
            format_func=maps.MAP_MODES.get,
            key="ui.map_mode",
            default="expert",
        )
        or "expert"
    )
    fig = maps.routing_map(
        view.grid,
        view.points,
        mode,
        run.cfg.model.n_experts,
        run.trainer.data.value_kind,
        view.axis_names,
        st.session_state.get("inspect.point"),
    )
    event = show(fig, "routing_map", on_select="rerun", selection_mode="points")
    st.caption(view_model.MAP_CAPTIONS[mode])
    if run.trainer.model.router.constant_weights:
        st.info(view_model.CONSTANT_GATE)
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
    index, xy = st.session_state.get("inspect.point"), st.session_state.get("inspect.xy")
    if index is None and xy is None:
        st.caption("Click a point or a region of the routing map to see its gate scores and each expert's output.")
        return
    result, label = view_model.inspect(run, index, xy)
    show(inspector.gate_bars(result.probs_E, result.chosen, label), "inspect_bars")
    st.caption(
        "Bar height: the router's probability for each expert; solid bars are the experts this point goes to, "
        "with their combine weight w, which scales that expert's output."
    )
    tie = view_model.near_tie(result)
    if tie:
        st.warning(tie)
    st.dataframe(view_model.inspection_rows(result), hide_index=True, width="stretch")
    st.markdown(view_model.combined_sentence(result))


def _map_fragment(playing: bool) -> None:
    run = session.active_run()
    if run is None:
        return
    if playing and not session.worker().playing:
        st.rerun(scope="app")  # the worker stopped by itself (divergence): refresh the toolbar
    view = view_model.map_view(run)
    rate = run.steps_per_second() if playing else 0.0
    st.markdown(view_model.readout(run, view.step, view.latest, rate))
    if view.diverged:
        st.error(view.diverged)
    if run.trainer.is_moe:
        _map(run, view)
        with st.expander("Inspect a point", expanded=True):
            _inspect(run)


def _collapse_fragment() -> None:
    run = session.active_run()
    if run is None or not run.trainer.is_moe:
        return
    metrics, _ = view_model.histories(run)
    n_experts = run.cfg.model.n_experts
    show(history.load_share_area(metrics), "load_area")
    st.caption(view_model.collapse_caption(n_experts))
    show(history.collapse_panel(metrics, n_experts), "collapse")
    st.caption(
        "Entropy near 1 and effective experts near the expert count mean even use; dead experts get "
        "under 1% of their fair share; the red dashed line is the share of routed points dropped by capacity."
    )
    said = view_model.diagnosis(metrics[-1] if metrics else None, n_experts)
    if said is not None:
        level, text = said
        (st.success if level == "success" else st.warning)(text)


def _lower_fragment() -> None:
    run = session.active_run()
    if run is None:
        return
    metrics, baseline = view_model.histories(run)
    data = run.trainer.data
    show(history.training_curves(metrics, baseline, data.classification), "training")
    st.caption(
        "Solid: test loss; dotted: train loss. Blue is the MoE, orange a dense MLP with the same number "
        "of parameters trained on the same batches."
    )
    if not run.trainer.is_moe:
        return
    left, right = st.columns([1.1, 1], gap="large")
    with left:
        grid = view_model.thumbnail_grid(run, maps.thumbnail_side(run.cfg.model.n_experts))
        share = metrics[-1].load_share if metrics else None
        show(maps.expert_thumbnails(grid, share, data.value_kind, data.n_classes), "thumbs")
        st.caption(
            "Each tile is one expert's own prediction over the same plane, with its load share; grey "
            "where the gate does not send it points."
        )
    with right:
        _specialisation(metrics)


def _specialisation(metrics: list[Metrics]) -> None:
    m = metrics[-1] if metrics else None
    if m is None or m.contingency is None:
        st.info("Specialisation needs known clusters; this dataset has none.")
        return
    names = [str(c) for c in range(len(m.contingency[0]))]
    show(history.specialisation_heatmap(m.contingency, names), "contingency")
    st.caption(
        "Each column is one latent cluster; dark cells show which expert gets its points. One dark cell "
        "per column and per row: perfect specialisation."
    )
    cols = st.columns(3)
    cols[0].metric("NMI (expert; cluster)", f"{m.cluster_nmi:.2f}")
    cols[1].metric("Purity", f"{m.purity:.2f}")
    cols[2].metric("Dispatch entropy", f"{m.dispatch_entropy:.2f}", help="0 when each expert sees one cluster.")
    show(history.specialisation_curves(metrics), "spec_curves")
    st.caption("NMI and purity rise towards 1 as experts specialise; dispatch entropy falls towards 0.")


def panel(playing: bool) -> None:
    """The map and inspector (left), the collapse view (right), then training, experts and specialisation."""
    left, right = st.columns([1.15, 1], gap="large")
    with left:
        st.fragment(_map_fragment, run_every=MAP_SECONDS if playing else None)(playing)
    with right:
        st.fragment(_collapse_fragment, run_every=COLLAPSE_SECONDS if playing else None)()
    st.fragment(_lower_fragment, run_every=LOWER_SECONDS if playing else None)()
