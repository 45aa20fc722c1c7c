"""The sidebar, drawn from the table of options: each widget has its option's key, label, help and
range, is disabled where the chosen router, balance strategy or dataset does not use it, and
`render()` returns the RunConfig the widgets describe (validated by the core).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import streamlit as st

from moe_core.datasets import DATASETS
from moe_core.datasets.csv_file import header_columns, resolve
from moe_core.layer.routers import ROUTERS
from moe_core.settings.config import ConfigError, RunConfig
from moe_core.settings.table import OPTIONS, DataConfig, ModelConfig, Option, applies, why_not_applied
from moe_explorer_app.ui import centres_input, widget_state

# (expander title, open at start, the options it holds, in order)
LAYOUT: tuple[tuple[str, bool, tuple[str, ...]], ...] = (
    (
        "Data",
        True,
        (
            "data.name",
            "data.centres",
            "data.target",
            "data.n_train",
            "data.n_test",
            "data.noise",
            "data.n_clusters",
            "data.separation",
            "data.gamma_max",
            "data.dim",
            "data.input_scale",
            "data.sampling",
            "data.shift_step",
            "data.shift_kind",
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
            "model.top_p",
            "model.n_groups",
            "model.slots_per_expert",
            "model.soft_group",
            "model.normalize",
            "model.gate_noise",
            "model.noise_kind",
            "model.capacity_factor",
            "model.expert_kind",
            "model.expert_mix",
            "model.expert_hidden",
            "model.expert_layers",
            "model.expert_activation",
            "model.expert_init_scale",
            "model.gate",
            "model.gate_hidden",
            "model.shared_experts",
            "model.combine",
            "model.objective",
        ),
    ),
    (
        "Balancing",
        True,
        (
            "model.balance",
            "model.aux_loss_coef",
            "model.bias_update_rate",
            "model.z_loss_coef",
            "model.entropy_loss_coef",
        ),
    ),
    (
        "Training",
        False,
        (
            "train.optimizer",
            "train.lr",
            "train.router_optimizer",
            "train.router_lr",
            "train.batch_size",
            "train.weight_decay",
            "train.seed",
        ),
    ),
    ("Expert regularisation", False, ("model.expert_decay", "model.diversity_coef", "model.diversity_kind")),
    (
        "Dynamic experts",
        False,
        ("train.split_above", "train.remove_below", "train.grow_every", "train.max_experts"),
    ),
    (
        "Curriculum",
        False,
        ("train.noise_schedule", "train.balance_schedule", "train.anneal_steps", "train.anneal_to"),
    ),
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
KEPT_ON_DATASET_CHANGE = ("data.name", "data.seed", "data.csv_path", "data.target", "data.centres")
# Options shown only where the chosen dataset uses them (a file's column, the drawn centres).
SHOWN_WHERE_USED = ("data.target", "data.centres")
# An editor drawn above an option's own widget.
EDITORS = {"data.centres": centres_input.editor}
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


def widget_keys() -> list[str]:
    """Every settings widget's key (options, their on/off toggles and values, the baseline switch)."""
    keys = [BASELINE]
    for key, option in OPTIONS.items():
        keys.extend((_toggle_key(key), _value_key(key)) if option.null_toggle else (key,))
    return keys


def set_values(chosen: dict[str, object]) -> None:
    """Put config values ({"section.name": value}) into the widgets; call before they are drawn."""
    init_state()
    widgets = {}
    for key, value in chosen.items():
        if OPTIONS[key].null_toggle:
            widgets[_toggle_key(key)] = value is not None
            if value is not None:
                widgets[_value_key(key)] = value
        else:
            widgets[key] = value
    path = chosen.get("data.csv_path")
    if path:  # the target picker lists the file's columns (a bundled sample's too, named in a link)
        with contextlib.suppress(ConfigError):  # a file that is gone: the config's check says so
            st.session_state["csv_columns"] = header_columns(resolve(path).read_bytes())
    widget_state.assign(widgets)


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
    if widget_state.reverted("data.name"):
        return
    spec = DATASETS[st.session_state["data.name"]]
    widget_state.assign(
        {
            key: spec.defaults.get(option.name, option.default)
            for key, option in OPTIONS.items()
            if option.section == "data" and key not in KEPT_ON_DATASET_CHANGE
        }
    )


def _on_router_change() -> None:
    """Set the options the new rule pins (Switch: top-1), and values it needs where the current ones
    break its rule (noisy top-k: some gate noise)."""
    if widget_state.reverted("model.router"):
        return
    spec = ROUTERS[st.session_state["model.router"]]
    widget_state.assign(spec.fixed)
    current = values()
    try:
        RunConfig.from_flat(current)
    except ConfigError:
        model = {key.partition(".")[2]: value for key, value in current.items() if key.startswith("model.")}
        widget_state.assign(spec.fitting(ModelConfig(**model)))


ON_CHANGE = {"data.name": _on_dataset_change, "model.router": _on_router_change}


def _choices(key: str, option: Option) -> list[str]:
    if key == "data.name":  # the datasets the current values can build (a CSV file once one is loaded)
        data = DataConfig(**{OPTIONS[k].name: v for k, v in values().items() if OPTIONS[k].section == "data"})
        return [spec.name for spec in DATASETS.entries() if spec.check is None or spec.check(data) is None]
    if key == "data.target":
        return list(st.session_state.get("csv_columns", []))
    return [None, *option.choices] if option.nullable else list(option.choices)


def _formatter(option: Option):
    """How a choice reads: its entry's label (a dataset's short enough for the sidebar; its help says
    the rest)."""
    if option.choices is None:
        return str
    return lambda name: option.null_means if name is None else option.choices[name].label


def _help(option: Option, current: dict, disabled: bool) -> str:
    """The option's help, with what it means for the chosen dataset, whether it changes the running
    model, and why it is greyed out."""
    text = option.help
    spec = DATASETS[current["data.name"]]
    if option.key == "data.name":
        text += f" Here: {spec.name} (its name in files and the command line): {spec.help}"
    if option.key == "data.noise" and spec.noise:
        text += f" Here: {spec.noise}."
    if option.live:
        text += " Changes apply at once, without restarting the run."
    reason = why_not_applied(option.key, current) if disabled else None
    if reason:
        text += f" {reason[0].upper()}{reason[1:]}."
    return text


def _is_disabled(key: str, current: dict) -> bool:
    return not applies(key, current) or key in ROUTERS[current["model.router"]].fixed


def greyed_out(keys: tuple[str, ...], current: dict) -> str | None:
    """One line saying which of a section's controls are greyed out and why, or None when none are."""
    reasons: dict[str, list[str]] = {}
    for key in keys:
        if not _is_disabled(key, current):
            continue
        reason = why_not_applied(key, current) or f"not used by the router '{current['model.router']}'"
        reasons.setdefault(reason, []).append(OPTIONS[key].label)
    if not reasons:
        return None
    parts = [f"{', '.join(names)}: {reason}" for reason, names in reasons.items()]
    return "Greyed out: " + "; ".join(parts) + "."


def _span(option: Option, value) -> tuple:
    """A slider's ends: the option's usual range for the page, widened to hold a value that a link or
    a configuration file brings from the option's full range."""
    low = option.ui_low if option.ui_low is not None else option.low
    high = option.ui_high if option.ui_high is not None else option.high
    if value is not None:
        low = min(low, value)
        high = value if high is None else max(high, value)
    return option.kind(low), None if high is None else option.kind(high)


def _widget(key: str, current: dict) -> None:
    """The widget for one option, chosen from what the table says about it."""
    option = OPTIONS[key]
    disabled = _is_disabled(key, current)
    common = dict(help=_help(option, current, disabled), disabled=disabled)
    if option.choices is not None or key == "data.target":
        choices = _choices(key, option)
        label = _formatter(option)
        if key in RADIOS:
            st.radio(option.label, choices, key=key, format_func=label, on_change=ON_CHANGE.get(key), **common)
        else:
            st.selectbox(option.label, choices, key=key, format_func=label, on_change=ON_CHANGE.get(key), **common)
    elif option.null_toggle:
        st.toggle(option.null_toggle, key=_toggle_key(key), **common)
        off = not st.session_state[_toggle_key(key)]
        if option.steps is not None:
            steps = sorted({*option.steps, st.session_state[_value_key(key)]})
            st.select_slider(option.label, steps, key=_value_key(key), help=option.help, disabled=disabled or off)
        else:
            low, high = _span(option, st.session_state[_value_key(key)])
            st.slider(
                option.label,
                low,
                high,
                key=_value_key(key),
                step=option.ui_step,
                help=option.help,
                disabled=disabled or off,
            )
    elif option.kind is str:  # free text the config checks (mixed experts' list of kinds, drawn centres)
        if key in EDITORS:
            EDITORS[key](current)
        st.text_input(option.label, key=key, **common)
    elif option.steps is not None:
        st.select_slider(option.label, sorted({*option.steps, st.session_state[key]}), key=key, **common)
    elif key in NUMBER_INPUTS:
        low, high = _span(option, st.session_state[key])
        st.number_input(option.label, low, high, key=key, **common)
    else:
        low, high = _span(option, st.session_state[key])
        if key == "model.top_k":  # at most the number of experts
            high = max(current["model.n_experts"], 2)
            widget_state.assign({key: min(st.session_state[key], current["model.n_experts"])})
            common["disabled"] = disabled or current["model.n_experts"] == 1
        st.slider(option.label, low, high, key=key, step=option.kind(option.ui_step or 1), **common)


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
            shown = tuple(k for k in keys if k not in SHOWN_WHERE_USED or applies(k, values()))
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
    settings = build()
    return settings
