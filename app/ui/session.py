"""Per-browser-session state: the session's RunBook in `st.session_state`, its worker, and the step
the replay shows.

Nothing trainable is shared between sessions. The worker comes from a session-scoped
`st.cache_resource`, whose release (the tab closed) stops its thread; datasets are immutable and
shared through `st.cache_data`.
"""

from __future__ import annotations

import streamlit as st

from moe_core import runtime
from moe_core.datasets.dataset import Dataset, make_dataset
from moe_core.settings.config import RunConfig
from moe_core.training.trainer import Trainer
from moe_explorer_app.state import replay
from moe_explorer_app.state.runs import Run, RunBook
from moe_explorer_app.state.worker import Worker

REPLAY = "ui.replay"  # the replay slider's step; its last stop is the run now
_PAST = "ui.replay_past"  # (the record replayed, the run as it was then): built once per step chosen


@st.cache_resource(scope="session", on_release=lambda worker: worker.stop(), show_spinner=False)
def worker() -> Worker:
    return Worker()


@st.cache_data(show_spinner=False, max_entries=16)
def dataset(cfg) -> Dataset:
    return make_dataset(cfg)


def make_run(number: int, cfg: RunConfig, with_baseline: bool) -> Run:
    """A run at step 0 with its first snapshot: the MoE and, if asked, its dense baseline on the same data."""
    runtime.configure(cfg.train.threads)  # torch threads are per process; the run's setting wins
    data = dataset(cfg.data)
    trainer = Trainer(cfg, data)
    baseline = Trainer(cfg.replace(**{"model.arch": "dense"}), data) if with_baseline else None
    run = Run(number, trainer, baseline)
    run.snapshot()
    return run


def book() -> RunBook:
    if "runs" not in st.session_state:
        st.session_state["runs"] = RunBook(make_run)
    return st.session_state["runs"]


def active_run() -> Run | None:
    return book().active


def sync(cfg: RunConfig, with_baseline: bool) -> str | None:
    """Make the active run match the settings (see RunBook.sync)."""
    return book().sync(cfg, with_baseline, worker())


def shown_run() -> Run | None:
    """The run every view draws: the active run, or while paused with the replay slider on a past
    step, the run as it was then (a copy; the live run is not touched)."""
    run = active_run()
    step = st.session_state.get(REPLAY)
    saved = None
    if run is not None and step is not None and step < run.trainer.step_count and not worker().playing:
        saved = run.timeline.at(step)
    if saved is None:
        st.session_state.pop(_PAST, None)
        return run
    past = st.session_state.get(_PAST)
    if past is None or past[0] is not saved:
        past = st.session_state[_PAST] = (saved, replay.as_of(run, saved))
    return past[1]


def back_to_live() -> None:
    """Show the run now (before the replay slider is drawn: its stale step is dropped)."""
    st.session_state.pop(REPLAY, None)
    st.session_state.pop(_PAST, None)
