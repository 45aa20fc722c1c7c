"""Files in and out of the sidebar: a CSV of data (or a bundled sample), a configuration as JSON both
ways, the command line that trains the setup, and a run's weights (safetensors, both ways), metrics
history (CSV) and routing-map flip-book (HTML).

A file is taken in the page's run, not in the uploader's callback: a callback can be cut short by the
next request (the live fragments send about ten a second), which would lose the file after pausing
for it. The run remembers which file it took, so a run cut short takes it again.
"""

from __future__ import annotations

import hashlib
import shlex
import tempfile
from pathlib import Path

import streamlit as st

from moe_core.datasets.csv_file import SAMPLES, MissingTarget, header_columns, read_csv, sample_files
from moe_core.settings.config import ConfigError, RunConfig, as_overrides
from moe_explorer_app.state import replay
from moe_explorer_app.state.runs import Run
from moe_explorer_app.ui import session, sidebar, widget_state

UPLOADS = Path(tempfile.gettempdir()) / "moe-explorer-uploads"
NOTICE = "ui.upload_notice"  # what the last file loaded, said until Play
WANTS_TARGET = "ui.upload_wants_target"  # the notice asks for a target column
CSV_ERROR = "csv_error"
CONFIG_ERROR = "config_error"
WEIGHTS_ERROR = "weights_error"
TAKEN = "ui.files_taken"  # uploader key -> the id of the file this session last took from it


def _store_csv(raw: bytes, name: str) -> None:
    """Keep a CSV that reads (under a name from its content), or one with only its target left to
    pick, and switch the widgets to it; training pauses so the page shows the file before it trains.
    A file that does not read leaves everything as it was and says why."""
    try:
        table = read_csv(raw)
    except MissingTarget:
        columns, target = header_columns(raw), None
        notice = (
            f"Loaded {name}, but no column is named y, label or target: choose the one to predict in the "
            f"sidebar, Data → Target column ({', '.join(columns)})."
        )
    except ConfigError as err:
        st.session_state[CSV_ERROR] = f"{name}: {err}"
        return
    else:
        columns, target = [table.target_name, *table.feature_names], table.target_name
        notice = f"Loaded {name}: {table.describe()}. Press Play to train on it."
    session.worker().pause()
    UPLOADS.mkdir(exist_ok=True)
    path = UPLOADS / f"{hashlib.sha256(raw).hexdigest()[:16]}.csv"
    path.write_bytes(raw)
    st.session_state.update({CSV_ERROR: None, "csv_columns": columns, NOTICE: notice, WANTS_TARGET: target is None})
    widget_state.assign({"data.csv_path": str(path), "data.target": target, "data.name": "csv"})


def _open_config(raw: bytes) -> None:
    try:
        cfg = RunConfig.from_json(raw.decode("utf-8", errors="replace"))
    except ConfigError as err:
        st.session_state[CONFIG_ERROR] = f"That configuration file could not be used: {err}"
        return
    session.worker().pause()
    st.session_state[CONFIG_ERROR] = None
    sidebar.set_values(cfg.flat())


def _open_weights(raw: bytes, name: str) -> None:
    """Weights into the active run, which then pauses on them; a file that does not fit says why and
    changes nothing."""
    run = session.active_run()
    if run is None:
        st.session_state[WEIGHTS_ERROR] = (
            f"{name}: there is no run to load weights into; choose possible settings first."
        )
        return
    worker = session.worker()
    was_playing = worker.playing
    worker.pause()  # first, so that the page shows the weights loaded, not a few steps on from them
    try:
        step = run.load_weights(raw, name)
    except ConfigError as err:
        st.session_state[WEIGHTS_ERROR] = f"{name}: {err}"
        if was_playing:
            worker.play(run)
        return
    session.back_to_live()
    notice = f"Loaded the weights in {name} into run {run.number} at step {step:,}. Press Play to train on from them."
    st.session_state.update({WEIGHTS_ERROR: None, NOTICE: notice})


def _new(key: str, file_id: str) -> bool:
    """Whether the uploader holds a file this session has not taken yet."""
    return st.session_state.get(TAKEN, {}).get(key) != file_id


def _taken(key: str, identity: str) -> None:
    st.session_state[TAKEN] = {**st.session_state.get(TAKEN, {}), key: identity}


def take_new_files() -> None:
    """Take any file the uploaders hold that this session has not taken; call before the sidebar."""
    _take("ui.upload", CSV_ERROR, _store_csv)
    sample = st.session_state.get("ui.sample")
    if sample:  # the list goes back to blank once taken, ready to give the same sample again
        _store_csv((SAMPLES / sample).read_bytes(), sample)
        widget_state.assign({"ui.sample": ""})
    config = st.session_state.get("ui.config_upload")
    if config is not None and _new("ui.config_upload", config.file_id):
        _open_config(config.getvalue())
        _taken("ui.config_upload", config.file_id)
    _take("ui.weights_upload", WEIGHTS_ERROR, _open_weights)


def _take(key: str, error_key: str, open_file) -> None:
    """Open the file an uploader holds once (`open_file(bytes, name)`); with none, its error goes."""
    uploaded = st.session_state.get(key)
    if uploaded is None:
        st.session_state[error_key] = None  # the file it was about is gone
    elif _new(key, uploaded.file_id):
        open_file(uploaded.getvalue(), uploaded.name)
        _taken(key, uploaded.file_id)


def waiting_for_target() -> bool:
    """Whether the page shows an uploaded file whose target column is still to be picked."""
    state = st.session_state
    return bool(state.get(WANTS_TARGET)) and state.get("data.name") == "csv" and state.get("data.target") is None


def upload_section() -> None:
    with st.sidebar.expander("Upload CSV", expanded=False):
        st.file_uploader(
            "CSV file",
            type=["csv"],
            key="ui.upload",
            help="Numeric feature columns and a target column named y, label or target; an optional cluster column.",
        )
        st.selectbox("…or a sample file", ["", *sample_files()], key="ui.sample")
        if st.session_state.get(CSV_ERROR):
            st.error(st.session_state[CSV_ERROR])


def share_section(cfg: RunConfig | None, run: Run | None, shown: Run | None) -> None:
    """The setup as a link, a file and a command; the active run's metrics and flip-book, the weights
    of the run shown (a past step's while replaying), and weights into the active run."""
    with st.sidebar.expander("Save and share", expanded=False):
        st.caption("The page's address holds this setup: copy it to share, or reload to start it again.")
        if cfg is not None:
            st.download_button(
                "Download the configuration (JSON)",
                cfg.to_json(),
                file_name="moe-explorer-run.json",
                mime="application/json",
                key="ui.config_download",
                width="stretch",
            )
            if cfg.data.csv_path:
                st.caption("The link and the command name this server's copy of the uploaded file.")
            st.code(cli_command(cfg), language="bash", wrap_lines=True)
        st.file_uploader("Open a configuration (JSON)", type=["json"], key="ui.config_upload")
        if st.session_state.get(CONFIG_ERROR):
            st.error(st.session_state[CONFIG_ERROR])
        if run is not None and shown is not None:
            _run_files(run, shown)


def _run_files(run: Run, shown: Run) -> None:
    """Downloads built when clicked (on a thread of their own, so the page does not wait), and the
    weights uploader."""
    name, step = f"moe-explorer-run{run.number}", shown.trainer.step_count
    _download(f"Download the weights at step {step:,} (.safetensors)", lambda: replay.weights_file(shown),
              f"{name}-step{step}.safetensors", "application/octet-stream", "ui.weights_download")  # fmt: skip
    _download("Download the metrics history (CSV)", lambda: replay.metrics_file(run), f"{name}-metrics.csv",
              "text/csv", "ui.metrics_download")  # fmt: skip
    if run.trainer.is_moe:
        _download("Download the flip-book (HTML)", lambda: replay.flipbook_file(run), f"{name}-flipbook.html",
                  "text/html", "ui.flipbook_download",
                  "The routing map at up to 40 steps of this run in one file, with a slider and Play; it opens "
                  "offline, for slides.")  # fmt: skip
    st.file_uploader(
        "Load weights into this run (.safetensors)",
        type=["safetensors"],
        key="ui.weights_upload",
        help="Weights saved from a run with the same model and data settings; checked against this run first.",
    )
    if st.session_state.get(WEIGHTS_ERROR):
        st.error(st.session_state[WEIGHTS_ERROR])


def _download(label: str, build, file_name: str, mime: str, key: str, help: str | None = None) -> None:
    st.download_button(label, build, file_name=file_name, mime=mime, key=key, help=help, on_click="ignore",
                       width="stretch")  # fmt: skip


def cli_command(cfg: RunConfig) -> str:
    """The command line that trains this setup."""
    return " ".join(["python -m moe_core train", *(f"--set {shlex.quote(a)}" for a in as_overrides(cfg))])
