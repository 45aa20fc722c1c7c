"""The Train page: the link's setup in, sidebar settings in, the active run kept in sync, the toolbar
(with the run list and presentation mode), the replay slider, the live panel, and the setup back into
the link."""

from __future__ import annotations

import secrets

import streamlit as st

from moe_core.settings.config import ConfigError, RunConfig
from moe_explorer_app.state import url_state
from moe_explorer_app.state.runs import Run
from moe_explorer_app.state.worker import SPEEDS
from moe_explorer_app.ui import components, files, live, page_css, session, sidebar, widget_state

SPEED, PLAY_FOR = "ui.speed", "ui.play_for"  # the toolbar's pace: steps a second, and steps before it pauses
PLAY_FOR_CHOICES = (None, 10, 100, 1000)


def _speed() -> float | None:
    return SPEEDS.get(st.session_state.get(SPEED) or "full")


def _play() -> None:
    st.session_state.pop(files.NOTICE, None)  # said until the file starts training
    session.back_to_live()
    run = session.active_run()
    if run is not None:
        session.worker().play(run, _speed(), st.session_state.get(PLAY_FOR))


def _pause() -> None:
    session.worker().pause()


def _step(count: int) -> None:
    session.worker().pause()
    session.back_to_live()  # it trains the weights of now, so the page shows them
    run = session.active_run()
    if run is not None:
        run.advance(count)
        run.snapshot_unless_taken()


def _reset() -> None:
    session.worker().pause()
    session.back_to_live()
    run = session.active_run()
    if run is not None:
        run.reset()


def _speed_label(label: str) -> str:
    return "full speed" if label == "full" else f"{label} steps/s"


def _play_for_label(steps: int | None) -> str:
    return "never pause" if steps is None else f"pause after {steps:,}"


def _speed_changed() -> None:
    session.worker().set_speed(_speed())


def _play_for_changed() -> None:
    session.worker().pause_after(st.session_state.get(PLAY_FOR))


# The keyboard's shortcuts (each control's tooltip names its key): key -> action -> what it does. Space
# names the state it asks for (Play while paused, Pause while playing), never "toggle": a press handled
# twice must not undo itself.
KEYS = {"s": "step", "r": "reset", "ArrowLeft": "back", "ArrowRight": "on"}
ACTIONS = {
    "play": _play,
    "pause": _pause,
    "step": lambda: _step(1),
    "reset": _reset,
    "back": lambda: _scrub(-1),
    "on": lambda: _scrub(1),
}


def _shortcut(action: str) -> None:
    if action in ACTIONS:
        ACTIONS[action]()


def _new_seed() -> None:
    widget_state.assign({"train.seed": secrets.randbelow(10**6)})


def _show_run(run) -> None:
    """The sidebar shows a run's settings, so that the page trains it rather than starting a new one."""
    sidebar.set_values(run.cfg.flat())
    widget_state.assign({sidebar.BASELINE: run.baseline is not None})


def _switch_run() -> None:
    number, book = st.session_state["ui.run"], session.book()
    kept = {run.number for run in book.runs}
    if widget_state.reverted("ui.run") or number not in kept or book.active.number == number:
        return
    session.back_to_live()
    _show_run(book.activate(number, session.worker()))


def _delete_run() -> None:
    book = session.book()
    if len(book.runs) > 1:
        book.delete(book.active.number, session.worker())
        _show_run(book.active)


def _run_list() -> None:
    """The runs this page keeps, newest first: pick one to see and train it, or forget it."""
    book = session.book()
    numbers = [run.number for run in reversed(book.runs)]
    labels = {run.number: run.name for run in book.runs}
    widget_state.assign({"ui.run": book.active.number})
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        st.selectbox(
            "Run",
            numbers,
            format_func=labels.get,
            key="ui.run",
            on_change=_switch_run,
            help="The runs this page keeps; pick one to see and train it.",
        )
        st.button(
            "",
            icon=":material/delete:",
            on_click=_delete_run,
            key="btn.delete",
            disabled=len(book.runs) < 2,
            help="Forget the run shown (the others stay).",
        )


def _toolbar() -> None:
    """One row of controls as wide as their labels (it wraps rather than cut a label short); presentation
    mode hides the secondary ones. Each names its key in its tooltip (`components.shortcuts`)."""
    playing = session.worker().playing
    st.session_state.setdefault(SPEED, "full")
    components.shortcuts({**KEYS, " ": "pause" if playing else "play"}, "shortcuts", _shortcut)
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key="toolbar"):
        st.button("Play", icon=":material/play_arrow:", on_click=_play, disabled=playing, type="primary",
                  key="btn.play", help="Train on (Space).")  # fmt: skip
        st.button("Pause", icon=":material/pause:", on_click=_pause, disabled=not playing, key="btn.pause",
                  help="Stop after the step in progress (Space).")  # fmt: skip
        st.button("Step", on_click=_step, args=(1,), key="btn.step", help="One optimiser step (S).")
        st.button("×10", on_click=_step, args=(10,), key="btn.step10", help="Ten optimiser steps.")
        st.button("×100", on_click=_step, args=(100,), key="btn.step100", help="A hundred optimiser steps.")
        st.button("Reset", on_click=_reset, key="btn.reset", help="Back to step 0 with the same initial weights (R).")
        # labels for screen readers: each choice says what it is ("20 steps/s", "pause after 100")
        st.selectbox("Speed", list(SPEEDS), format_func=_speed_label, key=SPEED, on_change=_speed_changed,
                     width=135, label_visibility="collapsed")  # fmt: skip
        st.selectbox("Then pause", PLAY_FOR_CHOICES, format_func=_play_for_label, key=PLAY_FOR,
                     on_change=_play_for_changed, width=185, label_visibility="collapsed")  # fmt: skip
        with st.container(horizontal=True, vertical_alignment="center", width="content", key="secondary_controls"):
            st.button("New seed", on_click=_new_seed, key="btn.seed",
                      help="New initial weights, batches and noise: a new run.")  # fmt: skip
        st.toggle("Present", key="ui.present", help="Projector mode: the map large, the sidebar hidden, big text.")


def _replay_bar(run: Run) -> None:
    """A timeline over the run's recorded steps (its last stop is now): on a past step every view below
    shows the run as it was then; Back to live, or Play, returns to now. While playing, or with nothing
    recorded yet, it is drawn disabled, so that nothing below moves on Play and Pause."""
    now = run.trainer.step_count
    steps = _replay_steps(run)
    with st.container(horizontal=True, vertical_alignment="center", gap="medium", key="replay_bar"):
        st.markdown(
            "**Replay**",
            width="content",
            help="Move the slider back to see every view as it was at that step (when did the collapse "
            "start?), or use the arrow keys (← →) while paused; Back to live, or Play, returns to now.",
        )
        if session.worker().playing or len(steps) < 2:
            # labelled for screen readers only; a visible label holding "play" would answer to the Play button's name
            st.select_slider("Recorded steps (while paused)", ["start", "now"], value="now", disabled=True,
                             key="ui.replay_idle", label_visibility="collapsed")  # fmt: skip
            return
        if st.session_state.get(session.REPLAY) not in steps:
            st.session_state[session.REPLAY] = now
        st.select_slider(
            "Timeline",
            steps,
            format_func=lambda step: f"{step:,} (now)" if step == now else f"{step:,}",
            key=session.REPLAY,
            label_visibility="collapsed",
        )
        if st.session_state[session.REPLAY] < now:
            st.button("Back to live", icon=":material/fast_forward:", on_click=session.back_to_live, key="btn.live")


def _replay_steps(run: Run) -> list[int]:
    """The replay's stops: the recorded steps, and now."""
    now = run.trainer.step_count
    return [step for step in run.timeline.steps() if step < now] + [now]


def _scrub(offset: int) -> None:
    """Move the replay one stop back or on (the arrow keys), while paused."""
    run = session.active_run()
    if run is None or session.worker().playing:
        return
    steps = _replay_steps(run)
    at = st.session_state.get(session.REPLAY)
    index = steps.index(at) if at in steps else len(steps) - 1
    st.session_state[session.REPLAY] = steps[min(max(index + offset, 0), len(steps) - 1)]


def _load_link() -> str | None:
    """Once per session: the setup in the page's address, with a sentence on what could not be used."""
    if st.session_state.get("ui.link_read"):
        return None
    st.session_state["ui.link_read"] = True
    values, view, problems = url_state.decode(dict(st.query_params))
    if values:
        try:
            session.dataset(RunConfig.from_flat(values).data)
        except ConfigError as err:
            problems.append(f"data settings ({str(err).rstrip('.')})")
            values = {key: value for key, value in values.items() if not key.startswith("data.")}
    sidebar.set_values(values)
    st.session_state["ui.map_mode"] = view.get("view.map", "expert")
    st.session_state["ui.present"] = view.get("view.present") == "1"
    st.session_state[SPEED] = view.get("view.speed", "full")
    return url_state.notice(problems)


def _save_link() -> None:
    view = {
        "view.map": st.session_state.get("ui.map_mode") or "expert",
        "view.present": "1" if st.session_state.get("ui.present") else "0",
        "view.speed": st.session_state.get(SPEED) or "full",
    }
    wanted = url_state.encode(sidebar.values(), view)
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


def _settings() -> str | None:
    """Draw the sidebar and make the active run match its settings; returns the sentence on what
    changed, and says here why when the settings describe no possible run."""
    chosen = sidebar.render()
    files.upload_section()
    error, notice = chosen.error, None
    if error is None:
        try:
            notice = session.sync(chosen.config, chosen.with_baseline)
        except ConfigError as err:
            error = str(err)
    if error and not files.waiting_for_target():  # the upload's notice already asks for it
        st.error(f"{error} The current run is unchanged.")
    files.share_section(chosen.config, session.active_run(), session.shown_run())
    return notice


def render() -> None:
    """The whole page, top to bottom; the live panel's fragments then redraw on their own."""
    widget_state.heal()
    components.ensure_plotly()
    link_notice = _load_link()
    files.take_new_files()
    st.html(page_css.PRESENTATION_CSS if st.session_state.get("ui.present") else page_css.PAGE_CSS)
    st.sidebar.title("MoE Explorer")
    runs_box = st.sidebar.container()  # filled once the settings have made or changed a run
    _settings()  # the run book keeps its sentence until the next change, a Reset, or its close button
    waiting = files.waiting_for_target()
    if st.session_state.get(files.WANTS_TARGET) and not waiting:
        st.session_state.pop(files.NOTICE, None)  # the target it asked for is picked (or the file left)
    if link_notice:
        st.info(link_notice)
    change = None if waiting else session.book().notice  # while a file waits for its target, only that
    if change:
        with st.container(horizontal=True, wrap=False, vertical_alignment="top", gap="small", key="change_notice"):
            st.info(change)
            st.button("", icon=":material/close:", on_click=session.book().dismiss_notice, key="btn.notice_close",
                      type="tertiary", help="Hide this note; the next change says its own.")  # fmt: skip
    if st.session_state.get(files.NOTICE):
        st.info(st.session_state[files.NOTICE])
    if st.session_state.get(files.CSV_ERROR):  # also beside the uploader, in the sidebar
        st.error(f"Upload CSV: {st.session_state[files.CSV_ERROR]} The current run is unchanged.")
    _save_link()
    if session.active_run() is not None:
        with runs_box:
            _run_list()
    if waiting:
        return  # the old run's views are not the file's: the page waits with the sentence asking for its target
    if session.active_run() is None:
        st.warning("No run yet: choose settings that describe a possible model in the sidebar.")
        return
    _toolbar()
    _replay_bar(session.active_run())
    live.panel(playing=session.worker().playing)
