"""The Compare page: the session's runs side by side. Duplicate a run with one setting changed (data and
seeds stay shared), train the compared runs together, and see their routing maps with aligned colours,
their metrics over training in one colour per run, where two runs route differently, and a table of
what differs and how each run ends."""

from __future__ import annotations

import numpy as np
import streamlit as st

from moe_core.experiments import results
from moe_core.measure.align import align_assignments, first_choices
from moe_core.measure.probe import probe_grid
from moe_core.settings.config import ConfigError, parse_assignment
from moe_core.settings.table import OPTIONS
from moe_explorer_app.figures import compare as figures
from moe_explorer_app.state import view_model
from moe_explorer_app.state.runs import Run
from moe_explorer_app.ui import components, session
from moe_explorer_app.ui.sweep_page import SWEEPABLE

COMPARED = "compare.numbers"
MAP_SIDE = 60  # cells per side of each small map
ALIGN_POINTS = 500  # test points of the first run on which the others' experts are matched to its
ENDS = ("test_accuracy", "test_loss", "load_entropy", "dead_experts", "cluster_nmi")


def _duplicate(runs: list[Run]) -> None:
    """A copy of a run with one setting changed, kept beside the others."""
    with st.expander("Add a run: a copy of one with one setting changed", expanded=len(runs) < 2):
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


def _maps(runs: list[Run]) -> tuple[list[np.ndarray], list[float], list[list[float]]]:
    """Each run's routing map with its experts renumbered to the first run's, matched on the first
    run's test points (the same points for every run with inputs of the same size)."""
    reference = runs[0]
    x = reference.trainer.data.x_test[:ALIGN_POINTS]
    with reference.lock:
        ref_first = first_choices(reference.trainer.model, x.to(reference.trainer.device))
    maps, agreements, extents = [], [], []
    for run in runs:
        trainer = run.trainer
        with run.lock:
            grid = probe_grid(trainer.model, trainer.data, MAP_SIDE, trainer.device)
            same_inputs = trainer.data.dim == reference.trainer.data.dim
            mine = first_choices(trainer.model, x.to(trainer.device)) if same_inputs else None
        winner = grid.winner_RR.astype(int)
        if run is reference:
            agreement = 1.0
        elif mine is not None:
            alignment = align_assignments(ref_first, mine, reference.cfg.model.n_experts, run.cfg.model.n_experts)
            winner, agreement = alignment.relabel(winner), alignment.agreement
        else:
            agreement = float("nan")
        maps.append(winner)
        agreements.append(agreement)
        extents.append(grid.extent)
    return maps, agreements, extents


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
    return f"{share:.0%} agree with run {reference}"


def _live(numbers: list[int], playing: bool) -> None:
    if playing and not session.worker().playing:
        st.rerun(scope="app")  # every compared run stopped (diverged): refresh the toolbar
    book = session.book()
    runs = [run for number in numbers for run in book.runs if run.number == number and run.trainer.is_moe]
    if not runs:
        return
    differences = _differences(runs)
    names = [_run_name(run, d) for run, d in zip(runs, differences, strict=True)]
    maps, agreements, extents = _maps(runs)
    n_experts = max(int(m.max()) + 1 for m in maps)
    axes = view_model.axis_names(runs[0].trainer.data.dim)
    titles = [
        f"{name}<br>step {run.trainer.step_count:,} · "
        + ("the reference" if i == 0 else _agreement(agree, runs[0].number))
        for i, (run, name, agree) in enumerate(zip(runs, names, agreements, strict=True))
    ]
    title = f"Routing maps, experts matched to run {runs[0].number}'s"
    components.figure(figures.map_grid(title, titles, maps, extents, n_experts, axes), "compare_maps")
    st.caption("The same colour is the same expert's job: each run's experts are renumbered to best match the "
               "first run's on its test points; '% agree' is the share of those points they route alike.")  # fmt: skip
    curves = []
    for run, name in zip(runs, names, strict=True):
        with run.lock:
            curves.append(figures.RunCurves(name, list(run.trainer.history), list(run.trainer.events)))
    classification = all(run.trainer.data.classification for run in runs)
    components.figure(figures.overlaid_curves(curves, classification), "compare_curves")
    st.caption("One colour per run; dotted lines mark where a run's setting was changed while it trained.")
    two = len(runs) == 2 and maps[0].shape == maps[1].shape and extents[0] == extents[1]
    left, right = st.columns([1, 1.3], gap="large") if two else (None, st.container())
    if two:
        with left:
            pair = (f"run {runs[0].number}", f"run {runs[1].number}")
            components.figure(figures.difference_map(maps[0], maps[1], extents[0], pair, axes), "compare_diff")
            st.caption("Dark: the two runs send this part of the plane to different (matched) experts.")
    with right:
        _table(runs, differences)


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


def _toolbar(runs: list[Run]) -> None:
    worker = session.worker()
    with st.container(horizontal=True, gap="small"):
        st.button("Play these runs", icon=":material/play_arrow:", type="primary", disabled=worker.playing,
                  on_click=lambda: worker.play_together(runs), key="compare.play")  # fmt: skip
        st.button("Pause", icon=":material/pause:", disabled=not worker.playing, on_click=worker.pause,
                  key="compare.pause")  # fmt: skip


def render() -> None:
    """The whole Compare page."""
    components.ensure_plotly()
    st.title("Compare")
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
    _toolbar(runs)
    playing = session.worker().playing
    st.fragment(_live, run_every=1.0 if playing else None)(numbers, playing)
