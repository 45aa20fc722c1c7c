"""The Compare page: the session's runs side by side. Duplicate a run with one setting changed (data and
seeds stay shared), train the compared runs together (kept in step: a Pause stops them at one step),
and see their routing maps with aligned colours, ticks and test points, their metrics over training in
one colour per run, where each run routes apart from a chosen reference run, and a table of what
differs and how each run ends. The compared runs are in the page's address, so a link reopens them."""

from __future__ import annotations

import textwrap

import numpy as np
import streamlit as st

from moe_core.experiments import results
from moe_core.experiments.trials import small_map
from moe_core.measure.align import Alignment, align_assignments, first_choices
from moe_core.settings.config import ConfigError, parse_assignment
from moe_core.settings.table import OPTIONS
from moe_explorer_app.figures import compare as figures
from moe_explorer_app.figures.map_points import maps_with_points
from moe_explorer_app.state import url_state, view_model
from moe_explorer_app.state.runs import Run
from moe_explorer_app.ui import components, session
from moe_explorer_app.ui.sweep_page import SWEEPABLE

COMPARED, REFERENCE, LINKED = "compare.numbers", "compare.reference", "compare.linked"
MAP_SIDE = 60  # cells per side of each small map
ALIGN_POINTS = 500  # test points of the first run on which the others' experts are matched to its
ENDS = ("test_accuracy", "test_loss", "load_entropy", "dead_experts", "cluster_nmi")


def _duplicate(runs: list[Run]) -> None:
    """A copy of a run with one setting changed, kept beside the others."""
    # keyed: the form stays open (or closed) as the user left it while its widgets change
    with st.expander("Add a run: a copy of one with one setting changed", expanded=len(runs) < 2, key="compare.form"):
        left, middle, right = st.columns([1.2, 1.2, 1])
        names = {run.number: run.name for run in runs}
        number = left.selectbox("Copy of", list(names), format_func=names.get, key="compare.source")
        source = next(run for run in runs if run.number == number)
        key = middle.selectbox("Setting to change", SWEEPABLE, index=SWEEPABLE.index("model.balance"),
                               format_func=lambda k: f"{OPTIONS[k].label} ({k})", key="compare.key")  # fmt: skip
        option, current = OPTIONS[key], source.cfg.get(key)
        choices = list(option.choices or option.steps or [])
        others = [c for c in choices if c != current]
        with right:
            value = (
                st.selectbox("New value", [*others, *[c for c in choices if c == current]], key=f"compare.value.{key}")
                if choices
                else st.text_input("New value", str(current), key=f"compare.text.{key}")
            )
        if st.button("Add the run", key="compare.add"):
            try:
                parsed = value if choices else parse_assignment(f"{key}={value}")[1]
                cfg = source.cfg.replace(**{key: parsed})
                if cfg == source.cfg:
                    raise ConfigError(f"that is run {source.number} again; pick another value of {key}")
                run, notice = session.book().add(cfg, source.baseline is not None, session.worker())
            except ConfigError as err:
                st.error(f"That run cannot be made: {err}.")
                return
            st.session_state[COMPARED] = [*st.session_state.get(COMPARED, []), run.number]
            if notice:
                st.info(notice)


def _maps(runs: list[Run], reference: Run) -> tuple[list[np.ndarray], list[dict], list[Alignment | None], list[float]]:
    """Each run's routing map (with its test points) and its experts renumbered to the reference run's,
    matched on the reference's test points (the same points for every run with inputs of the same
    size); and the share of those points each run routes to the matched expert (NaN: other inputs)."""
    x = reference.trainer.data.x_test[:ALIGN_POINTS]
    with reference.lock:
        ref_first = first_choices(reference.trainer.model, x.to(reference.trainer.device))
    maps, smalls, alignments, agreements = [], [], [], []
    for run in runs:
        trainer = run.trainer
        with run.lock:
            small = small_map(trainer, MAP_SIDE)
            same_inputs = trainer.data.dim == reference.trainer.data.dim
            mine = first_choices(trainer.model, x.to(trainer.device)) if same_inputs and run is not reference else None
        alignment = None
        if mine is not None:
            alignment = align_assignments(ref_first, mine, reference.cfg.model.n_experts, run.cfg.model.n_experts)
        winner = np.array(small["winner"])
        maps.append(winner if alignment is None else alignment.relabel(winner))
        smalls.append(small)
        alignments.append(alignment)
        agreements.append(1.0 if run is reference else alignment.agreement if alignment else float("nan"))
    return maps, smalls, alignments, agreements


def _differences(runs: list[Run]) -> list[dict]:
    """Per run, the settings in which the compared runs differ ({} when they agree on all)."""
    flats = [run.cfg.flat() for run in runs]
    keys = [key for key in flats[0] if len({repr(f[key]) for f in flats}) > 1]
    return [{key: flat[key] for key in keys} for flat in flats]


def _run_name(run: Run, differs: dict) -> str:
    shown = ", ".join(f"{key.split('.')[1]}={value}" for key, value in differs.items())
    return f"Run {run.number}" + (f" ({shown})" if shown else "")


def _agreement(share: float, reference: int) -> str:
    if np.isnan(share):
        return "other inputs: not matched"
    return f"{share:.0%} of test points alike"


def _live(numbers: list[int], reference_number: int, playing: bool) -> None:
    if playing and not session.worker().playing:
        st.rerun(scope="app")  # every compared run stopped (diverged): refresh the toolbar
    book = session.book()
    runs = [run for number in numbers for run in book.runs if run.number == number and run.trainer.is_moe]
    if not runs:
        return
    reference = next((run for run in runs if run.number == reference_number), runs[0])
    differences = _differences(runs)
    names = [_run_name(run, d) for run, d in zip(runs, differences, strict=True)]
    maps, smalls, alignments, agreements = _maps(runs, reference)
    n_experts = max(int(m.max()) + 1 for m in maps)
    axes = view_model.axis_names(runs[0].trainer.data.dim)
    lines = [
        [*textwrap.wrap(name, 30), f"step {run.trainer.step_count:,}",
         "the reference" if run is reference else _agreement(agree, reference.number)]
        for run, name, agree in zip(runs, names, agreements, strict=True)
    ]  # fmt: skip
    title = f"Routing maps, experts matched to run {reference.number}'s"
    components.figure(maps_with_points(title, lines, maps, smalls, alignments, n_experts, axes), "compare_maps")
    st.caption(f"The same colour is the same expert's job: each run's experts are renumbered to best match run "
               f"{reference.number}'s on its test points; 'alike' is the share of those points a run sends to the "
               "matched expert. Markers: test points by class; a red x where no expert took one.")  # fmt: skip
    curves = []
    for run, name in zip(runs, names, strict=True):
        with run.lock:
            curves.append(figures.RunCurves(name, list(run.trainer.history), list(run.trainer.events)))
    classification = all(run.trainer.data.classification for run in runs)
    components.figure(figures.overlaid_curves(curves, classification), "compare_curves")
    st.caption("One colour per run; dotted lines mark where a run's setting was changed while it trained.")
    _apart(runs, reference, maps, smalls, axes)
    _table(runs, differences)


def _apart(runs: list[Run], reference: Run, maps: list[np.ndarray], smalls: list[dict], axes) -> None:
    """Where each other run (on the reference's plane) routes apart from the reference run."""
    i = runs.index(reference)
    others = [j for j, small in enumerate(smalls) if j != i and small["extent"] == smalls[i]["extent"]
              and maps[j].shape == maps[i].shape]  # fmt: skip
    if not others:
        return
    names = [f"run {runs[j].number}" for j in others]
    fig = figures.difference_maps(maps[i], [maps[j] for j in others], smalls[i]["extent"], names,
                                  f"run {reference.number}", axes)  # fmt: skip
    components.figure(fig, "compare_diff")
    st.caption(f"Dark: this part of the plane goes to a different (matched) expert than in run {reference.number}; "
               "'apart' is the share of the plane's cells, not of test points.")  # fmt: skip


def _table(runs: list[Run], differences: list[dict]) -> None:
    """One row per run: the settings that differ between the compared runs, then how each run ends."""
    rows = []
    for run, differs in zip(runs, differences, strict=True):
        with run.lock:
            last = run.trainer.history[-1] if run.trainer.history else None
            step = run.trainer.step_count
        ends = {name: None if last is None else getattr(last, name) for name in ENDS}
        rows.append({"run": run.number, **differs, "step": step, **ends})
    st.markdown("##### What differs, and how each run ends")
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption("Click a column's header to sort by it.")
    st.download_button("Download the table (CSV)", results.csv_text(rows), "moe-explorer-compare.csv", "text/csv",
                       key="compare.download")  # fmt: skip


def _toolbar(runs: list[Run], numbers: list[int]) -> int:
    """Play and Pause for the compared runs, and the reference run chosen beside them."""
    worker = session.worker()
    if st.session_state.get(REFERENCE) not in numbers:
        st.session_state[REFERENCE] = numbers[0]
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
        st.button("Play these runs", icon=":material/play_arrow:", type="primary", disabled=worker.playing,
                  on_click=lambda: worker.play_together(runs), key="compare.play")  # fmt: skip
        st.button("Pause", icon=":material/pause:", disabled=not worker.playing, on_click=worker.pause,
                  key="compare.pause")  # fmt: skip
        said = "The run the others' experts are matched to, and their differences drawn from."
        return st.selectbox("Reference run", numbers, format_func=lambda n: f"Run {n}", key=REFERENCE, help=said,
                            width=200)  # fmt: skip


def _from_link() -> None:
    """The runs a link names (?run=...&run=...), added to the session once and compared; a run it
    names that cannot be made is one sentence, the others are kept."""
    texts = st.query_params.get_all(url_state.RUN_KEY)
    if not texts or st.session_state.get(LINKED) == texts:
        return
    st.session_state[LINKED] = texts
    book, numbers, problems = session.book(), [], []
    for text in texts:
        try:
            cfg = url_state.decode_run(text)
        except ConfigError as err:
            problems.append(str(err))
            continue
        same = (r for r in book.runs if r.cfg == cfg and r.number not in numbers)  # two alike in a link: two runs
        run = next(same, None) or book.add(cfg, False, session.worker())[0]
        numbers.append(run.number)
    st.session_state[COMPARED] = numbers
    if problems:
        st.warning(f"{'; '.join(problems)[:1].upper()}{'; '.join(problems)[1:]}: the other runs are compared.")


def _to_link(runs: list[Run]) -> None:
    """The compared runs into the page's address, so that the link reopens them."""
    texts = [url_state.encode_run(run.cfg) for run in runs]
    if st.query_params.get_all(url_state.RUN_KEY) != texts:
        st.session_state[LINKED] = texts
        st.query_params.from_dict({url_state.RUN_KEY: texts})


def render() -> None:
    """The whole Compare page."""
    components.ensure_plotly()
    st.title("Compare")
    _from_link()
    book = session.book()
    if not book.runs:
        st.info("No run yet: open the Train page, choose settings, then come back to compare.")
        return
    _duplicate(book.runs)
    kept = [run.number for run in book.runs]
    st.session_state[COMPARED] = [n for n in st.session_state.get(COMPARED, kept) if n in kept]
    labels = {run.number: run.name for run in book.runs}
    numbers = st.multiselect("Runs compared", kept, format_func=labels.get, key=COMPARED)
    runs = [run for number in numbers for run in book.runs if run.number == number]
    if not runs:
        st.info("Pick at least one run to see.")
        return
    _to_link(runs)
    reference = _toolbar(runs, numbers)
    playing = session.worker().playing
    st.fragment(_live, run_every=1.0 if playing else None)(numbers, reference, playing)
