"""The sidebar: every widget has the key of the config field it sets, and `render()` returns the settings.

Widgets only collect values; `build()` turns them into a RunConfig (validated by the core), so the
same document the CLI takes comes out of the page.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

import streamlit as st

from moe_core.catalog import DATASETS
from moe_core.config import ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig
from moe_core.csvdata import read_csv

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
ROUTER_HELP = {
    "topk": "top-k: each point picks its k best experts",
    "noisy_topk": "noisy top-k (Shazeer 2017): learned noise on the gate",
    "switch": "Switch (Fedus 2021): top-1 with a capacity per expert",
    "expert_choice": "expert choice (Zhou 2022): experts pick their points",
    "dense": "dense (Jacobs 1991): every expert, softmax-weighted",
    "hash": "hash: fixed random partition, no learned router",
}
BALANCE_HELP = {
    "none": "none: watch for collapse",
    "aux_loss": "auxiliary loss (Switch / GShard)",
    "importance": "importance + load CV² (Shazeer)",
    "bias": "bias, loss-free (DeepSeek-V3)",
}
NORMALIZE_HELP = {
    "softmax": "softmax, no renormalising (Switch)",
    "softmax_topk": "softmax over the k chosen (Mixtral)",
    "sigmoid": "sigmoid scores (DeepSeek-V3)",
}
LR_STEPS = [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
COEF_STEPS = [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
Z_STEPS = [0.0, 0.0001, 0.001, 0.01, 0.1]
BIAS_STEPS = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03]


@dataclass(frozen=True)
class Settings:
    config: RunConfig | None  # None when the widgets describe an impossible run
    error: str | None
    with_baseline: bool


def _defaults() -> dict[str, object]:
    values = {}
    for section, cls in (("data", DataConfig), ("model", ModelConfig), ("train", TrainConfig)):
        values.update({f"{section}.{f.name}": getattr(cls(), f.name) for f in fields(cls)})
    return values


def init_state() -> None:
    """Seed widget values once per session, so every widget is created from session state alone."""
    for key, value in _defaults().items():
        st.session_state.setdefault(key, value)
    st.session_state.setdefault("ui.capacity", False)
    st.session_state.setdefault("ui.capacity_factor", 1.25)
    st.session_state.setdefault("ui.baseline", True)


def _on_dataset_change() -> None:
    """Give the new dataset its suitable sizes (digits: 64 dims, 1200 + 597 images)."""
    spec = DATASETS[st.session_state["data.name"]]
    keep = {"name", "seed", "csv_path", "target"}
    for f in fields(DataConfig):
        if f.name not in keep:
            st.session_state[f"data.{f.name}"] = spec.defaults.get(f.name, getattr(DataConfig(), f.name))


def _store_csv(raw: bytes) -> None:
    """Check an uploaded CSV; keep it (under a name from its content) only if it reads cleanly."""
    try:
        table = read_csv(raw)
    except ConfigError as err:
        st.session_state["csv_error"] = str(err)
        return
    folder = Path(tempfile.gettempdir()) / "moe-explorer-uploads"
    folder.mkdir(exist_ok=True)
    path = folder / f"{hashlib.sha256(raw).hexdigest()[:16]}.csv"
    path.write_bytes(raw)
    st.session_state.update(
        {
            "csv_error": None,
            "data.csv_path": str(path),
            "data.target": table.target_name,
            "data.name": "csv",
            "csv_columns": [table.target_name, *table.feature_names],
        }
    )


def _on_upload() -> None:
    uploaded = st.session_state.get("ui.upload")
    if uploaded is not None:
        _store_csv(uploaded.getvalue())


def _on_sample() -> None:
    name = st.session_state.get("ui.sample")
    if name:
        _store_csv((SAMPLES / name).read_bytes())


def _data_section() -> None:
    with st.sidebar.expander("Data", expanded=True):
        names = [n for n in DATASETS if n != "csv" or st.session_state.get("data.csv_path")]
        st.selectbox(
            "Dataset",
            names,
            key="data.name",
            on_change=_on_dataset_change,
            format_func=lambda n: f"{n}: {DATASETS[n].description}",
        )
        spec = DATASETS[st.session_state["data.name"]]
        if spec.name == "csv":
            st.selectbox("Target column", st.session_state.get("csv_columns", []), key="data.target")
        st.slider("Training points", 100, 20000, step=100, key="data.n_train")
        st.slider("Test points", 100, 5000, step=100, key="data.n_test")
        if "noise" in spec.knobs:
            st.slider("Noise", 0.0, 1.0, step=0.01, key="data.noise", help=f"Here: {spec.noise}.")
        if "n_clusters" in spec.knobs:
            st.slider("Clusters", 1, 16, key="data.n_clusters")
            st.slider("Cluster separation", 0.2, 3.0, step=0.1, key="data.separation")
        if "dim" in spec.knobs:
            st.number_input(
                "Input dimensions",
                2,
                256,
                key="data.dim",
                help="Above 2 the maps show the first two principal components.",
            )
        st.number_input("Data seed", 0, 10**6, key="data.seed")


def _model_section() -> None:
    with st.sidebar.expander("Experts and routing", expanded=True):
        st.slider("Experts", 1, 64, key="model.n_experts")
        n_experts = st.session_state["model.n_experts"]
        st.session_state["model.top_k"] = min(st.session_state["model.top_k"], n_experts)
        st.slider("Top-k (experts per point)", 1, max(n_experts, 2), key="model.top_k", disabled=n_experts == 1)
        st.selectbox("Router", list(ROUTER_HELP), key="model.router", format_func=ROUTER_HELP.get)
        router = st.session_state["model.router"]
        st.selectbox(
            "Gate normalisation",
            list(NORMALIZE_HELP),
            key="model.normalize",
            format_func=NORMALIZE_HELP.get,
            disabled=router not in ("topk", "noisy_topk"),
            help="With top-1, renormalising over the chosen expert (softmax over the k chosen, or sigmoid) "
            "makes the gate always 1: the router then learns only from the balance loss.",
        )
        st.slider(
            "Gate noise",
            0.0,
            2.0,
            step=0.05,
            key="model.gate_noise",
            help="Noise on the gate logits while training: exploration against collapse.",
        )
        st.toggle(
            "Limit expert capacity",
            key="ui.capacity",
            help="Each expert takes at most capacity factor x k x batch / experts points; the rest are dropped.",
        )
        st.slider(
            "Capacity factor",
            0.25,
            4.0,
            step=0.25,
            key="ui.capacity_factor",
            disabled=not st.session_state["ui.capacity"],
        )
        st.select_slider("Expert width", [2, 4, 8, 16, 32, 64, 128, 256], key="model.expert_hidden")
        st.slider("Expert depth (hidden layers)", 1, 4, key="model.expert_layers")
        st.selectbox("Expert activation", ["relu", "gelu", "tanh", "cubic", "linear"], key="model.expert_activation")
        st.select_slider("Gate hidden width (0 = linear gate)", [0, 8, 16, 32, 64], key="model.gate_hidden")
        st.slider("Shared experts (always on)", 0, 4, key="model.shared_experts")
        st.radio(
            "Objective",
            ["blend", "mixture"],
            key="model.objective",
            horizontal=True,
            help="blend: loss of the mixed output (experts cooperate); mixture: Jacobs et al. 1991 "
            "likelihood (experts compete and specialise).",
        )


def _balance_section() -> None:
    with st.sidebar.expander("Balancing", expanded=True):
        st.radio(
            "Balance strategy",
            list(BALANCE_HELP),
            key="model.balance",
            format_func=BALANCE_HELP.get,
            help="Changes apply at once, without restarting the run.",
        )
        balance = st.session_state["model.balance"]
        st.select_slider(
            "Balance loss weight",
            COEF_STEPS,
            key="model.aux_loss_coef",
            disabled=balance not in ("aux_loss", "importance"),
        )
        st.select_slider("Bias update rate γ", BIAS_STEPS, key="model.bias_update_rate", disabled=balance != "bias")
        st.select_slider(
            "Router z-loss weight",
            Z_STEPS,
            key="model.z_loss_coef",
            help="ST-MoE's z-loss keeps router logits small; it does not balance.",
        )


def _training_section() -> None:
    with st.sidebar.expander("Training", expanded=False):
        st.selectbox("Optimiser", ["adam", "adamw", "sgd"], key="train.optimizer")
        st.select_slider("Learning rate", LR_STEPS, key="train.lr")
        st.select_slider("Batch size", [16, 32, 64, 128, 256, 512, 1024, 2048, 4096], key="train.batch_size")
        st.select_slider("Weight decay", [0.0, 1e-5, 1e-4, 1e-3, 1e-2], key="train.weight_decay")
        st.number_input("Training seed (initial weights, batches, noise)", 0, 10**6, key="train.seed")
        st.toggle(
            "Train the dense baseline alongside",
            key="ui.baseline",
            help="An MLP with the MoE's parameter count, for the training curves.",
        )


def _upload_section() -> None:
    with st.sidebar.expander("Upload CSV", expanded=False):
        st.file_uploader(
            "CSV file",
            type=["csv"],
            key="ui.upload",
            on_change=_on_upload,
            help="Numeric feature columns and a target column named y, label or target; an optional cluster column.",
        )
        samples = ["", *sorted(p.name for p in SAMPLES.glob("*.csv"))]
        st.selectbox("…or a sample file", samples, key="ui.sample", on_change=_on_sample)
        if st.session_state.get("csv_error"):
            st.error(st.session_state["csv_error"])


def build() -> Settings:
    """The RunConfig the widgets describe, or the one-sentence reason it is impossible."""
    values = {key: st.session_state[key] for key in _defaults()}
    values["model.capacity_factor"] = (
        st.session_state["ui.capacity_factor"] if st.session_state["ui.capacity"] else None
    )
    doc: dict[str, dict] = {"data": {}, "model": {}, "train": {}}
    for key, value in values.items():
        section, name = key.split(".", 1)
        doc[section][name] = value
    with_baseline = bool(st.session_state["ui.baseline"])
    try:
        return Settings(RunConfig.from_dict(doc), None, with_baseline)
    except ConfigError as err:
        return Settings(None, str(err), with_baseline)


def render() -> Settings:
    init_state()
    st.sidebar.title("MoE Explorer")
    _data_section()
    _model_section()
    _balance_section()
    _training_section()
    _upload_section()
    return build()
