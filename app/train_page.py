"""The Train page: sidebar settings in, the active run kept in sync, the toolbar, and the live panel."""

from __future__ import annotations

import secrets

import streamlit as st

from moe_core.config import ConfigError
from moe_explorer_app import live, session, sidebar


def _play() -> None:
    run = session.active_run()
    if run is not None:
        session.worker().play(run)


def _pause() -> None:
    session.worker().pause()


def _step() -> None:
    session.worker().pause()
    run = session.active_run()
    if run is not None:
        run.advance(1)
        run.snapshot()


def _reset() -> None:
    session.worker().pause()
    run = session.active_run()
    if run is not None:
        run.reset()


def _new_seed() -> None:
    st.session_state["train.seed"] = secrets.randbelow(10**6)


def _toolbar() -> None:
    playing = session.worker().playing
    cols = st.columns([1, 1, 1, 1, 1.2, 5], vertical_alignment="center")
    cols[0].button(
        "Play",
        icon=":material/play_arrow:",
        on_click=_play,
        disabled=playing,
        type="primary",
        width="stretch",
        key="btn.play",
    )
    cols[1].button(
        "Pause", icon=":material/pause:", on_click=_pause, disabled=not playing, width="stretch", key="btn.pause"
    )
    cols[2].button("Step", on_click=_step, width="stretch", key="btn.step", help="One optimiser step.")
    cols[3].button(
        "Reset", on_click=_reset, width="stretch", key="btn.reset", help="Back to step 0 with the same initial weights."
    )
    cols[4].button(
        "New seed",
        on_click=_new_seed,
        width="stretch",
        key="btn.seed",
        help="New initial weights, batches and noise: a new run.",
    )
    cols[5].caption(
        "Press **Play** and watch the gate carve up the plane. Change balancing while it runs; "
        "settings that need a new model start a new run."
    )


def render() -> None:
    chosen = sidebar.render()
    notice = None
    if chosen.error:
        st.sidebar.error(chosen.error)
        st.error(f"{chosen.error} The current run is unchanged.")
    else:
        try:
            notice = session.sync(chosen.config, chosen.with_baseline)
        except ConfigError as err:
            st.sidebar.error(str(err))
            st.error(f"{err} The current run is unchanged.")
    if notice:
        st.info(notice)
    if session.active_run() is None:
        st.warning("No run yet: choose settings that describe a possible model in the sidebar.")
        return
    _toolbar()
    live.panel(playing=session.worker().playing)
