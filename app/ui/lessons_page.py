"""The Lessons page: a preset explained (what it shows, its formula, what to watch), trained in a
thread of the server, then a verdict computed from the run with its numbers, the run's routing maps
and the curve to watch, and a button that opens one of its runs on the Train page to watch it live.
The page's address names the lesson (?lesson=capacity), so a link opens it."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from moe_core.experiments.lessons import LESSONS, Lesson
from moe_core.experiments.trials import MAP_POINTS, Row
from moe_core.settings.config import RunConfig
from moe_explorer_app.figures import setting_words as words
from moe_explorer_app.figures import sweep as figures
from moe_explorer_app.state import url_state, view_model
from moe_explorer_app.state.sweeps import SweepJob
from moe_explorer_app.ui import components, session, train_page

JOB, NAME = "lesson.job", "lesson.name"  # the job: (lesson, seed, quick, SweepJob)
# The Train page reads the setup in its address once per session (train_page._load_link), under this flag.
LINK_READ = "ui.link_read"


def _progress() -> None:
    name, _, _, job = st.session_state[JOB]
    if job.alive:
        st.progress(job.done / job.total, text=f"Training {LESSONS[name].label}: {job.done} of {job.total} runs done")
    elif st.session_state.get("lesson.shown") is not job:
        st.session_state["lesson.shown"] = job
        st.rerun(scope="app")  # the verdict and views below need a full run


def _maps(cfg: RunConfig, seed: int, rows: Sequence[Row]) -> None:
    mapped = [r for r in rows if r.map]
    unmapped = [words.setting_text(r.settings) for r in rows if not r.map]
    if mapped:
        n_experts = max([cfg.model.n_experts, *(max(map(max, r.map["winner"])) + 1 for r in mapped)])
        axes = view_model.axis_names(cfg.data.dim)
        components.figure(figures.map_multiples(mapped, n_experts, seed, axes), "lesson_maps")
    classes = bool(mapped and mapped[0].map.get("classes"))
    st.caption(_map_caption(cfg.data.dim, classes) * bool(mapped) + _no_map(unmapped))


def _map_caption(dim: int, classes: bool) -> str:
    points = f"markers are the first {MAP_POINTS} test points"
    if dim > 2:
        where = "the plane of the data's first two principal components"
        points += (f"{', their shape the class' * classes}, their fill the expert the gate sends each first (it "
                   f"reads all {dim} inputs, so a point can differ from the region under it)")  # fmt: skip
    else:
        where, points = "the input plane", points + " by class" * classes
    return (f"The final routing map of each run on {where}: the colour is the expert the gate sends that region "
            f"to; {points}; a red x is a point that no expert took. ")  # fmt: skip


def _no_map(unmapped: Sequence[str]) -> str:
    return f"No map for {', '.join(unmapped)} (a network without a router routes nothing)." if unmapped else ""


def _open_on_train(cfg: RunConfig) -> None:
    """The Train page, set up as this run (its address holds the setup, as a shared link would)."""
    st.session_state[LINK_READ] = False  # read the address again, as on a first visit
    train = st.Page(train_page.render, title="Train", url_path="train")  # as the app's navigation names it
    st.switch_page(train, query_params=url_state.encode(cfg.flat(), {}))


def _train_link(name: str, cfg: RunConfig, rows: Sequence[Row]) -> None:
    """Which of the lesson's runs to open on the Train page, and the button that opens it."""
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        settings = [r.settings for r in rows]
        chosen = 0
        if len(settings) > 1:
            chosen = st.selectbox("Run to open", range(len(settings)), key=f"lesson.open_run.{name}", width=380,
                                  format_func=lambda i: words.setting_text(settings[i]))  # fmt: skip
        if st.button("Open on the Train page", icon=":material/open_in_new:", key="lesson.open",
                     help="Start this run on the Train page, at step 0, to watch it train live."):  # fmt: skip
            _open_on_train(cfg.replace(**settings[chosen]))


def _outcome(name: str, seed: int, quick: bool, job: SweepJob) -> None:
    lesson = LESSONS[name]
    if job.error:
        st.error(job.error)
        return
    rows = job.result.rows
    verdict = lesson.judge(rows)
    (st.success if verdict.held else st.warning)(
        ("As expected: " if verdict.held else "Not this time: ") + verdict.sentence, icon=":material/school:"
    )
    components.figure(figures.metric_over_training(job.result.grid, rows, lesson.metric), "lesson_curve")
    st.caption("The curve to watch, for each run of the lesson, at every snapshot of training.")
    cfg = lesson.config(seed, quick)
    _maps(cfg, seed, rows)
    _train_link(name, cfg, rows)


def _quick_help(lesson: Lesson) -> str:
    if not lesson.small:
        return "This lesson has no smaller version: it is as small as its point allows."
    changes = ", ".join(words.setting_words(key, value) for key, value in lesson.small.items())
    return f"A smaller version, sooner done: {changes}."


def render() -> None:
    """The whole Lessons page."""
    components.ensure_plotly()
    st.title("Lessons")
    wanted = st.query_params.get("lesson")
    if NAME not in st.session_state:
        st.session_state[NAME] = wanted if wanted in LESSONS else LESSONS.names()[0]
    name = st.selectbox("Lesson", LESSONS.names(), format_func=lambda n: LESSONS[n].label, key=NAME)
    st.query_params["lesson"] = name
    lesson = LESSONS[name]
    st.markdown(lesson.help)
    st.latex(lesson.formula)
    st.info(f"Watch: {lesson.watch}", icon=":material/visibility:")
    with st.container(horizontal=True, vertical_alignment="bottom", gap="medium"):
        seed = int(st.number_input("Seed", 0, 2**31 - 1, 0, key="lesson.seed", help="train.seed of every run",
                                   width=200))  # fmt: skip
        if not lesson.small:
            st.session_state["lesson.quick"] = False  # shown off, as this lesson runs
        quick = st.toggle("Quick version", key="lesson.quick", disabled=not lesson.small, help=_quick_help(lesson))
    job = st.session_state.get(JOB)
    busy = job is not None and job[-1].alive
    if st.button("Run the lesson", type="primary", disabled=busy, key="lesson.run"):
        session.worker().pause()  # the lesson takes the training cores
        job = st.session_state[JOB] = (name, seed, quick, SweepJob(lesson.config(seed, quick), lesson.grid, [seed]))
        busy = True
    if job is None:
        return
    st.fragment(_progress, run_every=0.5 if busy else None)()
    if not busy and job[0] == name:
        _outcome(*job)
