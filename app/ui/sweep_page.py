"""The Sweep page: one or two settings, each with a few values, times a number of seeds, trained from
the Train page's current run in a thread of the server; then each metric as mean and 95% interval,
every setting against a baseline seed by seed (paired differences, Holm-adjusted tests), the settings
against a metric in parallel coordinates, the final routing maps with aligned colours, and the table.
A results file written by `python -m moe_core sweep --out` opens the same way, labelled by its own
provenance, and the page says what the file lacks."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from moe_core.experiments import paired, provenance, results
from moe_core.experiments.sweep import SweepResult, parse_grid, plan
from moe_core.experiments.sweep_file import TESTS
from moe_core.experiments.trials import setting_label
from moe_core.settings.config import ConfigError, RunConfig, run_label
from moe_core.settings.table import OPTIONS
from moe_explorer_app.figures import sweep as figures
from moe_explorer_app.figures.paired import paired_forest
from moe_explorer_app.state import view_model
from moe_explorer_app.state.sweeps import SweepJob
from moe_explorer_app.ui import components, session

JOB, OPENED = "sweep.job", "sweep.opened"
# Seeds and steps have their own controls; where the data live and where training runs are not settings
# to compare.
NOT_SWEPT = {"train.seed", "train.steps", "data.csv_path", "data.target", "train.device", "train.threads"}
SWEEPABLE = [key for key in OPTIONS if key not in NOT_SWEPT]
SHOWN_METRICS = list(figures.METRIC_LABELS)
TABLE_METRICS = list(results.SHOWN)


def _mean_interval(entry: dict, metric: str) -> str:
    mean, low, high = entry[f"{metric}_mean"], entry[f"{metric}_low"], entry[f"{metric}_high"]
    if mean is None:
        return "n/a"
    return f"{mean:.3f}" if low is None else f"{mean:.3f} [{low:.3f}, {high:.3f}]"


def _label(key: str) -> str:
    return f"{OPTIONS[key].label} ({key})"


def _values(key: str, base: RunConfig, slot: str) -> list:
    """The values to try for one setting: picked from its choices, or typed as a list."""
    option, current = OPTIONS[key], base.get(key)
    choices = list(option.choices) if option.choices is not None else list(option.steps or [])
    if choices:
        default = [current, *[c for c in choices if c != current][:1]] if current in choices else choices[:2]
        return st.multiselect("Values", choices, default=default, key=f"sweep.values.{slot}.{key}")
    text = st.text_input(
        "Values, separated by commas",
        value="null" if current is None else f"{current}",
        key=f"sweep.text.{slot}.{key}",
        help=f"{option.help} Numbers, or null for none." if option.null_toggle else option.help,
    )
    return parse_grid([f"{key}={text}"])[key] if text.strip() else []


def _setup(base: RunConfig) -> tuple[dict, int, int] | None:
    """The grid, seeds and steps the controls describe; None (with a sentence) if they describe none."""
    left, right = st.columns(2, gap="large")
    try:
        with left:
            first = st.selectbox("First setting", SWEEPABLE, index=SWEEPABLE.index("model.balance"), format_func=_label)
            grid = {first: _values(first, base, "a")}
        with right:
            second = st.selectbox("Second setting (optional)", ["", *SWEEPABLE], format_func=lambda k: k and _label(k))
            if second and second != first:
                grid[second] = _values(second, base, "b")
        if all(grid.values()):
            plan(base, grid, 1)  # every combination possible, before Run is offered
    except ConfigError as err:
        st.error(str(err))
        return None
    left, right = st.columns(2, gap="large")
    seeds = left.slider("Seeds per combination", 1, 10, 3, help="train.seed, +1, ...: initial weights, batches, noise")
    steps = right.number_input("Steps per run", 10, 20_000, min(max(base.train.steps, 10), 1000), step=100)
    if any(not values for values in grid.values()):
        st.info("Pick at least one value for each setting.")
        return None
    return grid, seeds, int(steps)


def _start(base: RunConfig, grid: dict, seeds: int, steps: int) -> None:
    session.worker().pause()  # the sweep takes the training cores
    try:
        st.session_state[JOB] = SweepJob(base.replace(**{"train.steps": steps}), grid, seeds)
        st.session_state.pop(OPENED, None)
    except ConfigError as err:
        st.session_state["sweep.error"] = str(err)


def _progress() -> None:
    job: SweepJob | None = st.session_state.get(JOB)
    if job is None:
        return
    if job.alive:
        st.progress(job.done / job.total, text=f"{job.done} of {job.total} runs trained")
        st.button(
            "Stop",
            on_click=job.stop,
            key="sweep.stop",
            help="Stop after the combination in training; keep the runs finished.",
        )
    elif st.session_state.get("sweep.shown") is not job:
        st.session_state["sweep.shown"] = job
        st.rerun(scope="app")  # the results below need a full run


def _opened_file() -> None:
    uploaded = st.file_uploader("Open a results file (.csv, .json or .parquet from python -m moe_core sweep --out)",
                                type=["csv", "json", "parquet"], key="sweep.file")  # fmt: skip
    if uploaded is None:
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"results{Path(uploaded.name).suffix}"
        path.write_bytes(uploaded.getvalue())
        try:
            st.session_state[OPENED] = (uploaded.name, results.read(path))
        except ConfigError as err:
            st.error(f"{uploaded.name} cannot be shown: {err}")


def _lacks(result: SweepResult) -> None:
    """What the views cannot show from this result, and the flag that would have kept it."""
    missing = []
    if not any(row.history for row in result.rows):
        missing.append("no histories, so no curves over training (python -m moe_core sweep --history keeps them)")
    if not any(row.map for row in result.rows):
        missing.append("no routing maps (sweep --maps keeps them)")
    if not result.provenance:
        missing.append("no provenance, so nothing says which base settings its runs had (files from before it)")
    if missing:
        st.info("This file has " + "; ".join(missing) + ".")


def _views(result: SweepResult, n_experts: int, axes: tuple[str, str]) -> None:
    seeds = sorted({row.seed for row in result.rows})
    metric = st.selectbox("Metric", SHOWN_METRICS, format_func=figures.METRIC_LABELS.get, key="sweep.metric")
    left, right = st.columns(2, gap="large")
    with left:
        components.figure(figures.metric_bars(result.grid, result.summary, metric, len(seeds)), "sweep_bars")
        st.caption("Dot: the mean over seeds; whisker: the 95% interval of that mean (Student's t), clipped "
                   "to the metric's range. Whether two settings differ: the paired comparison below.")  # fmt: skip
    with right:
        components.figure(figures.parallel_settings(result.grid, result.rows, metric), "sweep_parallel")
        st.caption("Each line is one run; drag along an axis to keep only the runs in that range.")
    _paired(result, metric)
    if any(row.history for row in result.rows):
        curves = figures.metric_over_training(result.grid, result.rows, metric, n_experts)
        components.figure(curves, "sweep_curves")
        st.caption("Line: the mean over seeds at each snapshot; shaded: one standard deviation either side.")
    with_maps = [row for row in result.rows if row.map]
    if with_maps:
        mapped = sorted({row.seed for row in with_maps})
        seed = st.select_slider("Seed shown in the maps", mapped, key="sweep.seed") if len(mapped) > 1 else mapped[0]
        rows = [row for row in with_maps if row.seed == seed]
        components.figure(figures.map_multiples(rows, n_experts, seed, axes), "sweep_maps")
        st.caption("Expert numbers are arbitrary, so each map's experts are renumbered to best match the first "
                   "map's; '% agree' is the share of the plane where the matched expert is the same.")  # fmt: skip
    _table(result)


def _paired(result: SweepResult, metric: str) -> None:
    """Every combination against a chosen baseline, seed by seed, for the metric shown; the verdicts
    of every metric of the table under it."""
    combos = [{k: e[k] for k in result.grid} for e in result.summary]
    if len(combos) < 2 or len({row.seed for row in result.rows}) < 2 or "search" in result.provenance:
        return
    st.markdown("##### Against a baseline, seed by seed")
    left, right = st.columns([3, 1], gap="large")
    pick = left.selectbox("Baseline", range(len(combos)), format_func=lambda i: setting_label(combos[i]),
                          key="sweep.baseline", help="Every other combination is compared with this one on the same "
                          "seeds: the difference per seed, its mean and 95% interval, and a paired test.")  # fmt: skip
    test = right.radio("Test", TESTS, format_func={"t": "paired t", "wilcoxon": "Wilcoxon"}.get, horizontal=True,
                       key="sweep.test", help="The t-test, or the Wilcoxon signed-rank test for few seeds or skewed "
                       "differences (with 5 seeds its p-value cannot go below 0.0625).")  # fmt: skip
    found = paired.compare(result, combos[pick], [metric, *(m for m in TABLE_METRICS if m != metric)])
    label = figures.METRIC_LABELS[metric]
    components.figure(
        paired_forest([c for c in found if c.metric == metric], label, combos[pick], test), "sweep_paired"
    )
    st.caption("Dot: the mean over seeds of (this setting's run minus the baseline's run of the same seed); "
               "whisker: its 95% interval. The colour is the test's verdict after Holm's adjustment for the "
               "number of settings compared; grey: no clear difference.")  # fmt: skip
    with st.expander("Every verdict, per metric"):
        st.code(paired.table(found, test), language=None)


def _table(result: SweepResult) -> None:
    keys = list(result.grid)
    table = [
        {**{k.split(".")[1]: e[k] for k in keys}, "runs": e["runs"], "diverged": e["diverged"],
         **{figures.METRIC_LABELS[m]: _mean_interval(e, m) for m in TABLE_METRICS}}
        for e in result.summary
    ]  # fmt: skip
    st.markdown("##### Summary per combination")
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption("Each cell: the mean over seeds [its 95% interval, Student's t, clipped to the metric's range].")
    with st.expander("Every run"):
        st.dataframe([row.flat() for row in result.rows], hide_index=True, width="stretch")
    st.download_button("Download the runs (CSV)", results.to_csv(result), "moe-explorer-sweep.csv", "text/csv")


def render() -> None:
    """The whole Sweep page."""
    components.ensure_plotly()
    st.title("Sweep")
    run = session.active_run()
    base = run.cfg if run is not None else RunConfig()
    st.caption(f"From the Train page's current run: {run_label(base)}. Data stay the same; each seed "
               "changes the initial weights, batch order and noise. A combination's seeds train together "
               "as one stacked model, each as it would alone.")  # fmt: skip
    chosen = _setup(base)
    job: SweepJob | None = st.session_state.get(JOB)
    busy = job is not None and job.alive
    if st.button("Run the sweep", type="primary", disabled=chosen is None or busy, key="sweep.run"):
        _start(base, *chosen)
    if st.session_state.get("sweep.error"):
        st.error(st.session_state.pop("sweep.error"))
    st.fragment(_progress, run_every=0.5 if st.session_state.get(JOB) and st.session_state[JOB].alive else None)()
    with st.expander("Open a results file"):
        _opened_file()
    opened = st.session_state.get(OPENED)
    result = opened[1] if opened else (job.result if job is not None and not job.alive else None)
    if job is not None and not job.alive and job.error:
        st.error(job.error)
    if result is None or not result.rows:
        return
    if opened:
        st.markdown(f"**{opened[0]}**: {provenance.describe(result.provenance)}.")
        _lacks(result)
    if job is not None and job.stopped and result is job.result:
        st.info(f"Stopped after {len(result.rows)} of {job.total} runs; the views show those.")
    own = result.base or base  # a file names its own base; a file from before provenance falls back to the page's
    counts = [row.settings.get("model.n_experts", own.model.n_experts) for row in result.rows]
    mapped = [max(map(max, r.map["winner"])) + 1 for r in result.rows if r.map]
    _views(result, max([*counts, *mapped]), view_model.axis_names(own.data.dim))
