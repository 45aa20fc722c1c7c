"""The live panel: fragments that redraw while the worker trains, the charts less often than the map.

The map fragment reruns nine times a second while playing, the chart fragments every one or two
seconds (their timers live in the browser, so they stop with the tab). Every chart is a component
that repaints in place (`components`), so nothing blanks between updates. What they show comes from
`view_model`; this module only puts it on the page. They draw `session.shown_run()`: the active run,
or while the replay slider is on a past step, the run as it was then.
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitInvalidLayoutContextError

from moe_core.layer.routers import ROUTERS
from moe_core.measure import diagnosis
from moe_core.measure.metrics import Metrics
from moe_explorer_app.figures import compute, history, inspector, routing_map, thumbnails
from moe_explorer_app.figures.style import presentation_fonts
from moe_explorer_app.state import inspector_text, view_model
from moe_explorer_app.state.runs import Run
from moe_explorer_app.state.worker import Worker
from moe_explorer_app.ui import components, glossary, session, widget_state

MAP_SECONDS = 0.11  # nine a second asked, so that at least eight arrive on a busy machine
# Each chart update costs the browser a Plotly redraw, taken from the map's repaints on a small
# machine. The collapse view tells the live story, so it refreshes every second; training curves,
# thumbnails and specialisation every two.
COLLAPSE_SECONDS = 1.0
LOWER_SECONDS = 2.0
SELECTION = ("inspect.point", "inspect.xy")


def _show(fig, key: str) -> None:
    if st.session_state.get("ui.present"):
        fig = presentation_fonts(fig)
    components.figure(fig, key)


def _curves(run: Run) -> tuple[list[Metrics], list[Metrics] | None, list[tuple[int, str]], int | None]:
    """What the charts over time draw: the whole run's curves and live changes, and while the replay
    shows a past step, that step as a cursor on them (so the story after it stays in view)."""
    source = run.live or run
    metrics, baseline = view_model.histories(source)
    return metrics, baseline, view_model.events(source), run.trainer.step_count if run.live else None


def _remember_click(event: dict) -> None:
    """Keep the clicked point (or spot of the map) for the inspector."""
    index = event.get("index")
    st.session_state["inspect.point"] = None if index is None else int(index)
    st.session_state["inspect.xy"] = None if index is not None else (float(event["x"]), float(event["y"]))


def _map(run: Run, view: view_model.MapView) -> None:
    modes, kinds = view_model.map_modes(run), view_model.expert_kinds(run)
    if st.session_state.get("ui.map_mode") not in modes:  # a view the run's router lacks
        st.session_state["ui.map_mode"] = modes[0]
    mode = (
        st.segmented_control(
            "Colour the map by",
            modes,
            format_func=routing_map.MAP_MODES.get,
            key="ui.map_mode",
            label_visibility="collapsed",
        )
        or modes[0]
    )
    if st.query_params.get("view.map") != mode:  # the link follows the view, also from inside this fragment
        st.query_params["view.map"] = mode
    font = 17 if st.session_state.get("ui.present") else 14
    spec = routing_map.routing_map(
        view.grid,
        view.points,
        mode,
        run.cfg.model.n_experts,
        run.trainer.data.value_kind,
        view.axis_names,
        st.session_state.get("inspect.point"),
        view.step,
        font,
        run.cfg.model.n_groups,
        kinds[0] if kinds else None,
    )
    components.live_map(spec, "routing_map", _remember_click)
    st.caption(f"{view_model.MAP_CAPTIONS[mode]} Zoom: Ctrl + scroll; pan: drag; reset: double-click.")
    if run.trainer.model.router.constant_weights:
        st.info(view_model.CONSTANT_GATE)
    note = ROUTERS[run.cfg.model.router].note
    if note:
        st.info(note)


def _inspect(run: Run, view: view_model.MapView) -> None:
    index, xy = (st.session_state.get(key) for key in SELECTION)
    if index is not None and index >= len(run.trainer.data.x_test):  # picked on a run with more test points
        index = st.session_state["inspect.point"] = None
    st.markdown("##### Inspect a point")
    if index is None and xy is None:
        st.caption("Click a point or a region of the routing map to see its gate scores and each expert's output.")
        return
    result, label = view_model.inspect(run, index, xy)
    for sentence in view_model.point_facts(run, view, index):
        st.markdown(sentence)
    _show(inspector.gate_bars(result.probs_E, result.chosen, label), "inspect_bars")
    st.caption(
        "Bar height: the router's probability for each expert; solid bars are the experts this point goes to, "
        "with their combine weight w, which scales that expert's output."
    )
    tie = view_model.near_tie(result)
    if tie:
        st.warning(tie)
    st.dataframe(inspector_text.rows(result), hide_index=True, width="stretch")
    st.markdown(inspector_text.combined_sentence(result))
    st.caption(inspector_text.caption(result))


def _map_fragment(playing: bool, inspector_box) -> None:
    widget_state.heal()
    run = session.shown_run()
    if run is None:
        return
    if playing and not session.worker().playing:
        st.rerun(scope="app")  # the worker stopped by itself (divergence): refresh the toolbar
    view = view_model.map_view(run)
    rate = run.steps_per_second() if playing else 0.0
    st.markdown(view_model.readout(run, view.step, view.latest, rate, replay=run is not session.active_run()))
    if view.diverged:
        st.error(view.diverged)
    if run.trainer.is_moe:
        _map(run, view)
        try:
            with inspector_box:
                _inspect(run, view)
        except StreamlitInvalidLayoutContextError:
            # the last full run stopped before this fragment kept its place beside the map (a newer
            # request cut it short); a full run gives it one again
            st.rerun(scope="app")


def _collapse_fragment() -> None:
    widget_state.heal()
    run = session.shown_run()
    if run is None or not run.trainer.is_moe:
        return
    curves, _, events, cursor = _curves(run)
    metrics, baseline = view_model.histories(run)
    n_experts = run.cfg.model.n_experts
    _show(history.load_share_area(curves, events, cursor), "load_area")
    st.caption(view_model.collapse_caption(n_experts))
    kinds = view_model.expert_kinds(run)
    if kinds is not None:
        labels, flops = kinds
        _show(compute.compute_by_kind(labels, metrics[-1].load_share if metrics else None, flops), "kinds")
        st.caption(
            "Top: how much of the work each kind of expert gets; bottom: what one point costs in it. A cheap "
            "kind taking a large share saves compute; the map's legend names each expert's kind."
        )
    if ROUTERS[run.cfg.model.router].resizable and metrics and metrics[-1].load_share:
        _resize_buttons(run, metrics[-1].load_share)
    _show(history.collapse_panel(curves, n_experts, events, cursor), "collapse")
    st.caption(
        "Entropy near 1 and effective experts near the expert count mean even use; dead experts get "
        "under 1% of their fair share; drops are routed points capacity turned away."
    )
    glossary.glossary_button(glossary.COLLAPSE_TERMS, key="glossary.collapse")
    said = diagnosis.diagnose(metrics, baseline, run.cfg.model.balance)
    if said is not None:
        {"success": st.success, "info": st.info}.get(said.level, st.warning)(said.text)


def _resize_buttons(run: Run, share: tuple[float, ...]) -> None:
    """Split the busiest expert or remove the idlest one, by hand (the Curriculum section's rule does
    it by itself); the charts mark each change."""
    busy, idle = view_model.busiest_and_idlest(share)
    removable = len(share) > max(1, run.cfg.model.top_k)
    # buttons as wide as their labels, wrapping onto a second line in a narrow column rather than cut
    with st.container(horizontal=True, gap="small", key="secondary_resize"):  # Present hides it
        tip = f"Split the busiest expert, E{busy} ({share[busy]:.0%} of the load), in two."
        if st.button(f"Split E{busy}", help=tip, key="btn.split"):
            st.toast(run.resize(True, busy))
        tip = f"Remove the idlest expert, E{idle} ({share[idle]:.0%} of the load)."
        if st.button(f"Remove E{idle}", help=tip, disabled=not removable, key="btn.remove"):
            st.toast(run.resize(False, idle))


def _lower_fragment() -> None:
    widget_state.heal()
    run = session.shown_run()
    if run is None:
        return
    metrics, _ = view_model.histories(run)
    curves, baseline, events, cursor = _curves(run)
    data = run.trainer.data
    left, right = st.columns([1.2, 1], gap="large") if run.trainer.is_moe else (st.container(), None)
    with left:
        _show(history.training_curves(curves, baseline, data.classification, events, cursor), "training")
        st.caption(
            "Solid: test loss; dotted: train loss. Blue is the MoE, orange a dense MLP with the same number "
            "of parameters trained on the same batches."
        )
        overfit = diagnosis.overfitting(metrics)
        if overfit is not None:
            st.warning(overfit)
    if not run.trainer.is_moe:
        return
    with right:
        grid = view_model.thumbnail_grid(run, thumbnails.thumbnail_side(run.cfg.model.n_experts))
        share = metrics[-1].load_share if metrics else None
        _show(thumbnails.expert_thumbnails(grid, share, data.value_kind, data.n_classes), "thumbs")
        st.caption(
            "Each tile is one expert's own prediction over the same plane, with its load share; grey "
            "where the gate does not send it points."
        )
    _specialisation(metrics[-1] if metrics else None, curves, events, cursor)


def _specialisation(
    m: Metrics | None, curves: list[Metrics], events: list[tuple[int, str]], cursor: int | None
) -> None:
    if m is None or m.contingency is None:
        st.info("Specialisation needs known clusters; this dataset has none.")
        return
    left, right = st.columns([1, 1.2], gap="large")
    with left:
        names = [str(c) for c in range(len(m.contingency[0]))]
        _show(history.specialisation_heatmap(m.contingency, names), "contingency")
        st.caption(
            "Each column is one latent cluster; dark cells show which expert gets its points. One dark cell "
            "per column and per row: perfect specialisation."
        )
    with right:
        with st.container(horizontal=True, gap="medium"):  # three figures that wrap, never cut
            st.metric("NMI", f"{m.cluster_nmi:.2f}", help=glossary.help_text("cluster_nmi"))
            st.metric("Purity", f"{m.purity:.2f}", help=glossary.help_text("purity"))
            st.metric("Dispatch entropy", f"{m.dispatch_entropy:.2f}", help=glossary.help_text("dispatch_entropy"))
        _show(history.specialisation_curves(curves, events, cursor), "spec_curves")
        st.caption(
            "NMI and purity rise towards 1 as experts specialise; dispatch entropy falls towards 0. Likeness is "
            "how alike the experts' outputs are (0: all different); a diversity penalty pushes it down."
        )
        glossary.glossary_button(glossary.SPECIALISATION_TERMS, key="glossary.specialisation")


def panel(playing: bool) -> None:
    """The map with the inspector beside it and the collapse view under the inspector; then training,
    the experts' own maps and specialisation. With several sessions training on this server, each
    redraws less often, so that the server stays quick to answer a click."""
    with st.container(key="live"):  # page_css stacks its columns where the panel is narrow
        _panel(playing)


def _panel(playing: bool) -> None:
    present = bool(st.session_state.get("ui.present"))
    share = max(1, Worker.playing_count())
    left, right = st.columns([1.7, 1] if present else [1.4, 1], gap="large")
    inspector_box = right.container()
    with inspector_box:
        st.empty()  # a fragment may write here only if the full run wrote first
    with left:
        st.fragment(_map_fragment, run_every=MAP_SECONDS * share if playing else None)(playing, inspector_box)
    with right:
        st.fragment(_collapse_fragment, run_every=COLLAPSE_SECONDS * share if playing else None)()
    st.fragment(_lower_fragment, run_every=LOWER_SECONDS * share if playing else None)()
