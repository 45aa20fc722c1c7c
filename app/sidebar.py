"""The sidebar, drawn from the table of options: each widget has its option's key, label, help and
range, is disabled where the chosen router, balance strategy or dataset does not use it, and
`render()` returns the RunConfig the widgets describe (validated by the core).
"""

from __future__ import annotations

import hashlib
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from moe_core.config import ConfigError, RunConfig, as_overrides
from moe_core.datasets import DATASETS
from moe_core.datasets.csv_file import SAMPLES, MissingTarget, header_columns, read_csv, sample_files
from moe_core.options import OPTIONS, DataConfig, Option, applies
from moe_core.routers import ROUTERS
from moe_explorer_app import session

# (expander title, open at start, the options it holds, in order)
LAYOUT: tuple[tuple[str, bool, tuple[str, ...]], ...] = (
    (
        "Data",
        True,
        (
            "data.name",
            "data.target",
            "data.n_train",
            "data.n_test",
            "data.noise",
            "data.n_clusters",
            "data.separation",
            "data.dim",
            "data.seed",
        ),
    ),
    (
        "Experts and routing",
        True,
        (
            "model.n_experts",
            "model.top_k",
            "model.router",
            "model.normalize",
            "model.gate_noise",
            "model.capacity_factor",
            "model.expert_hidden",
            "model.expert_layers",
            "model.expert_activation",
            "model.gate_hidden",
            "model.shared_experts",
            "model.objective",
        ),
    ),
    ("Balancing", True, ("model.balance", "model.aux_loss_coef", "model.bias_update_rate", "model.z_loss_coef")),
    ("Training", False, ("train.optimizer", "train.lr", "train.batch_size", "train.weight_decay", "train.seed")),
)
# Options that have no widget, and why; tests/test_sidebar.py checks that every option is in LAYOUT or here.
NOT_IN_SIDEBAR = {
    "model.arch": "the page trains the dense baseline beside every MoE (the toggle under Training)",
    "train.steps": "the page trains until Pause",
    "train.device": "the page trains where the core's `auto` puts it",
    "train.threads": "the page keeps the product's choice",
    "data.csv_path": "set by Upload CSV",
}
RADIOS = {"model.balance", "model.objective"}
# The data options a new dataset leaves alone: the rest take the values that suit it.
KEPT_ON_DATASET_CHANGE = ("data.name", "data.seed", "data.csv_path", "data.target")
NUMBER_INPUTS = {"data.seed", "train.seed", "data.dim"}
BASELINE = "ui.baseline"


@dataclass(frozen=True)
class Settings:
    config: RunConfig | None  # None when the widgets describe an impossible run
    error: str | None
    with_baseline: bool


def _toggle_key(key: str) -> str:
    return f"{key}:on"


def _value_key(key: str) -> str:
    return f"{key}:value"


def init_state() -> None:
    """Seed widget values once per session, so every widget is created from session state alone."""
    for key, option in OPTIONS.items():
        if option.null_toggle:
            st.session_state.setdefault(_toggle_key(key), option.default is not None)
            st.session_state.setdefault(_value_key(key), option.default or option.toggle_value)
        else:
            st.session_state.setdefault(key, option.default)
    st.session_state.setdefault(BASELINE, True)


def set_values(chosen: dict[str, object]) -> None:
    """Put config values ({"section.name": value}) into the widgets; call before they are drawn."""
    init_state()
    for key, value in chosen.items():
        option = OPTIONS[key]
        if option.null_toggle:
            st.session_state[_toggle_key(key)] = value is not None
            if value is not None:
                st.session_state[_value_key(key)] = value
        else:
            st.session_state[key] = value


def values() -> dict[str, object]:
    """{"section.name": value} as the widgets (and the upload) have set them."""
    out = {}
    for key, option in OPTIONS.items():
        if option.null_toggle:
            out[key] = st.session_state[_value_key(key)] if st.session_state[_toggle_key(key)] else None
        else:
            out[key] = st.session_state[key]
    return out


def _on_dataset_change() -> None:
    """Give the new dataset the sizes that suit it (digits: 64 dims, 1200 + 500 images)."""
    spec = DATASETS[st.session_state["data.name"]]
    for key, option in OPTIONS.items():
        if option.section == "data" and key not in KEPT_ON_DATASET_CHANGE:
            st.session_state[key] = spec.defaults.get(option.name, option.default)


def _on_router_change() -> None:
    """Set the options the new rule pins (Switch: top-1), and values it needs where the current ones
    break its rule (noisy top-k: some gate noise)."""
    spec = ROUTERS[st.session_state["model.router"]]
    for key, value in spec.fixed.items():
        st.session_state[key] = value
    try:
        RunConfig.from_flat(values())
    except ConfigError:
        for key, value in spec.suggested.items():
            st.session_state[key] = value


ON_CHANGE = {"data.name": _on_dataset_change, "model.router": _on_router_change}


def _choices(key: str, option: Option) -> list[str]:
    if key == "data.name":  # the datasets the current values can build (a CSV file once one is loaded)
        data = DataConfig(**{OPTIONS[k].name: v for k, v in values().items() if OPTIONS[k].section == "data"})
        return [spec.name for spec in DATASETS.entries() if spec.check is None or spec.check(data) is None]
    if key == "data.target":
        return list(st.session_state.get("csv_columns", []))
    return list(option.choices)


def _formatter(key: str, option: Option):
    """How a choice reads: its entry's label (a dataset's with its name, which files and the CLI use)."""
    if option.choices is None:
        return str
    if key == "data.name":
        return lambda name: f"{name}: {option.choices[name].label}"
    return lambda name: option.choices[name].label


def _help(option: Option, current: dict, disabled: bool) -> str:
    """The option's help, with what it means for the chosen dataset, whether it changes the running
    model, and why it is greyed out."""
    text = option.help
    spec = DATASETS[current["data.name"]]
    if option.key == "data.noise" and spec.noise:
        text += f" Here: {spec.noise}."
    if option.live:
        text += " Changes apply at once, without restarting the run."
    if disabled and option.depends_on is not None:
        text += f" Not used by the {OPTIONS[option.depends_on].label.lower()} '{current[option.depends_on]}'."
    return text


def _is_disabled(key: str, current: dict) -> bool:
    return not applies(key, current) or key in ROUTERS[current["model.router"]].fixed


def greyed_out(keys: tuple[str, ...], current: dict) -> str | None:
    """One line saying which of a section's controls are greyed out and why, or None when none are."""
    reasons: dict[str, list[str]] = {}
    for key in keys:
        if not _is_disabled(key, current):
            continue
        owner = OPTIONS[key].depends_on or "model.router"
        reasons.setdefault(f"{OPTIONS[owner].label.lower()} '{current[owner]}'", []).append(OPTIONS[key].label)
    if not reasons:
        return None
    parts = [f"{', '.join(names)}: not used by the {owner}" for owner, names in reasons.items()]
    return "Greyed out: " + "; ".join(parts) + "."


def _widget(key: str, current: dict) -> None:
    """The widget for one option, chosen from what the table says about it."""
    option = OPTIONS[key]
    disabled = _is_disabled(key, current)
    common = dict(help=_help(option, current, disabled), disabled=disabled)
    if option.choices is not None or key == "data.target":
        choices = _choices(key, option)
        label = _formatter(key, option)
        if key in RADIOS:
            st.radio(option.label, choices, key=key, format_func=label, on_change=ON_CHANGE.get(key), **common)
        else:
            st.selectbox(option.label, choices, key=key, format_func=label, on_change=ON_CHANGE.get(key), **common)
    elif option.null_toggle:
        st.toggle(option.null_toggle, key=_toggle_key(key), **common)
        off = not st.session_state[_toggle_key(key)]
        low, high = option.ui_low, option.ui_high
        st.slider(
            option.label,
            low,
            high,
            key=_value_key(key),
            step=option.ui_step,
            help=option.help,
            disabled=disabled or off,
        )
    elif option.steps is not None:
        st.select_slider(option.label, list(option.steps), key=key, **common)
    elif key in NUMBER_INPUTS:
        high = option.ui_high if option.ui_high is not None else option.high
        st.number_input(option.label, int(option.low), int(high), key=key, **common)
    else:
        low = option.ui_low if option.ui_low is not None else option.low
        high = option.ui_high if option.ui_high is not None else option.high
        if key == "model.top_k":  # at most the number of experts
            high = max(current["model.n_experts"], 2)
            st.session_state[key] = min(st.session_state[key], current["model.n_experts"])
            common["disabled"] = disabled or current["model.n_experts"] == 1
        kind = option.kind
        st.slider(option.label, kind(low), kind(high), key=key, step=kind(option.ui_step or 1), **common)


def _store_csv(raw: bytes, name: str) -> None:
    """Check an uploaded CSV; keep it (under a name from its content) if it reads, or if only its target
    is left to pick; pause, so the page switches to the file before anything trains on it."""
    session.worker().pause()
    target, notice = None, None
    try:
        table = read_csv(raw)
    except MissingTarget as err:
        columns = header_columns(raw)
        notice = f"Loaded {name}. {err}"
    except ConfigError as err:
        st.session_state["csv_error"] = f"{name}: {err}"
        return
    else:
        columns, target = [table.target_name, *table.feature_names], table.target_name
        notice = f"Loaded {name}: {table.describe()}. Press Play to train on it."
    folder = Path(tempfile.gettempdir()) / "moe-explorer-uploads"
    folder.mkdir(exist_ok=True)
    path = folder / f"{hashlib.sha256(raw).hexdigest()[:16]}.csv"
    path.write_bytes(raw)
    st.session_state.update(
        {
            "csv_error": None,
            "data.csv_path": str(path),
            "data.target": target,
            "data.name": "csv",
            "csv_columns": columns,
            "ui.upload_notice": notice,
        }
    )


def _on_upload() -> None:
    uploaded = st.session_state.get("ui.upload")
    if uploaded is not None:
        _store_csv(uploaded.getvalue(), uploaded.name)


def _on_sample() -> None:
    name = st.session_state.get("ui.sample")
    if name:
        _store_csv((SAMPLES / name).read_bytes(), name)


def _upload_section() -> None:
    with st.sidebar.expander("Upload CSV", expanded=False):
        st.file_uploader(
            "CSV file",
            type=["csv"],
            key="ui.upload",
            on_change=_on_upload,
            help="Numeric feature columns and a target column named y, label or target; an optional cluster column.",
        )
        st.selectbox("…or a sample file", ["", *sample_files()], key="ui.sample", on_change=_on_sample)
        if st.session_state.get("csv_error"):
            st.error(st.session_state["csv_error"])


def _on_config_upload() -> None:
    uploaded = st.session_state.get("ui.config_upload")
    if uploaded is None:
        return
    try:
        cfg = RunConfig.from_json(uploaded.getvalue().decode("utf-8", errors="replace"))
    except ConfigError as err:
        st.session_state["config_error"] = f"That configuration file could not be used: {err}"
        return
    st.session_state["config_error"] = None
    set_values(cfg.flat())


def _share_section(cfg: RunConfig | None) -> None:
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
            st.code(cli_command(cfg), language="bash", wrap_lines=True)
        st.file_uploader(
            "Open a configuration (JSON)", type=["json"], key="ui.config_upload", on_change=_on_config_upload
        )
        if st.session_state.get("config_error"):
            st.error(st.session_state["config_error"])


def cli_command(cfg: RunConfig) -> str:
    """The command line that trains this setup."""
    return " ".join(["python -m moe_core train", *(f"--set {shlex.quote(a)}" for a in as_overrides(cfg))])


def build() -> Settings:
    """The RunConfig the widgets describe, or the one-sentence reason it is impossible."""
    with_baseline = bool(st.session_state[BASELINE])
    try:
        return Settings(RunConfig.from_flat(values()), None, with_baseline)
    except ConfigError as err:
        return Settings(None, str(err), with_baseline)


def render() -> Settings:
    """The sidebar's option sections, uploads and sharing; returns the settings they describe."""
    init_state()
    for title, expanded, keys in LAYOUT:
        with st.sidebar.expander(title, expanded=expanded):
            shown = tuple(k for k in keys if k != "data.target" or applies(k, values()))  # a file's column
            note_box = st.container()  # above the section's controls, filled once they have set the values
            for key in shown:
                _widget(key, values())
            note = greyed_out(shown, values())
            if note:
                note_box.caption(note)
            if title == "Training":
                st.toggle(
                    "Train the dense baseline alongside",
                    key=BASELINE,
                    help="An MLP with the MoE's parameter count, for the training curves.",
                )
    _upload_section()
    settings = build()
    _share_section(settings.config)
    return settings
