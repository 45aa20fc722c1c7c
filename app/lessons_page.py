"""The Lessons page: a preset explained (what it shows, its formula, what to watch), trained in a
thread of the server, then a verdict computed from the run with its numbers, the run's routing maps
and the curve to watch. The page's address names the lesson (?lesson=capacity), so a link opens it."""

from __future__ import annotations

import streamlit as st

from moe_core.lessons import LESSONS
from moe_explorer_app import components, session, view_model
from moe_explorer_app.figures import sweep as figures
from moe_explorer_app.sweeps import SweepJob

JOB, NAME = "lesson.job", "lesson.name"  # the job: (lesson, seed, SweepJob)


def _progress() -> None:
    name, _, job = st.session_state[JOB]
    if job.running:
        st.progress(
            job.done / job.total, text=f"Training {LESSONS[name].label.lower()}: {job.done} of {job.total} runs"
        )
    elif st.session_state.get("lesson.shown") is not job:
        st.session_state["lesson.shown"] = job
        st.rerun(scope="app")  # the verdict and views below need a full run


def _outcome(name: str, seed: int, job: SweepJob) -> None:
    lesson = LESSONS[name]
    if job.error:
        st.error(job.error)
        return
    rows = job.result.rows
    verdict = lesson.judge(rows)
    (st.success if verdict.held else st.warning)(
        ("As expected: " if verdict.held else "Not this time: ") + verdict.sentence, icon=":material/school:"
    )
    cfg = lesson.config(seed)
    components.figure(figures.metric_over_training(job.result.grid, rows, lesson.metric), "lesson_curve")
    st.caption("The curve to watch, for each run of the lesson, at every snapshot of training.")
    n_experts = max([cfg.model.n_experts, *(max(map(max, r.map["winner"])) + 1 for r in rows if r.map)])
    axes = view_model.axis_names(cfg.data.dim)
    components.figure(figures.map_multiples(rows, n_experts, seed, axes), "lesson_maps")
    st.caption("The final routing map of each run: the colour is the expert the gate sends that region to. "
               "Open the same settings on the Train page to watch one train live.")  # fmt: skip


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
    seed = int(st.number_input("Seed", 0, 2**31 - 1, 0, key="lesson.seed", help="train.seed of every run"))
    job = st.session_state.get(JOB)
    busy = job is not None and job[2].running
    if st.button("Run the lesson", type="primary", disabled=busy, key="lesson.run"):
        session.worker().pause()  # the lesson takes the training cores
        job = st.session_state[JOB] = (name, seed, SweepJob(lesson.config(seed), lesson.grid, [seed]))
        busy = True
    if job is None:
        return
    st.fragment(_progress, run_every=0.5 if busy else None)()
    if not busy and job[0] == name:
        _outcome(*job)
