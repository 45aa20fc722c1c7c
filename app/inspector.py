"""Inspect one point: its gate scores, the experts it goes to, each expert's output and the mix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from app import chart
from app.figures import gate_bars
from app.palette import expert_name
from moe_core.model import MoE
from moe_core.probe import output_value


@dataclass(frozen=True)
class Inspection:
    probs_E: np.ndarray
    chosen: dict[int, float]  # expert -> combine weight
    expert_values_E: np.ndarray  # each expert's own value (P(class 1), class, or prediction)
    combined: float
    value_kind: str


@torch.no_grad()
def inspect(model: MoE, x_D: torch.Tensor, classification: bool) -> Inspection:
    """Route one point as if it came alone (no capacity) and read every expert's output."""
    was_training = model.training
    model.eval()
    try:
        x_1D = x_D.reshape(1, -1)
        out = model(x_1D, batch_routing=False)
        r = out.routing
        chosen = {
            int(e): float(w) for e, w, k in zip(r.topk_ids_NK[0], r.weights_NK[0], r.kept_mask()[0], strict=True) if k
        }
        per_expert = model.experts.forward_all(x_1D)[0]
        values = output_value(per_expert, classification).cpu().numpy()
        combined = float(output_value(out.output_NO, classification)[0])
    finally:
        model.train(was_training)
    kind = "value" if not classification else ("probability" if per_expert.shape[1] == 2 else "class")
    return Inspection(r.probs_NE[0].cpu().numpy(), chosen, values, combined, kind)


def _describe(value: float, kind: str) -> str:
    if kind == "probability":
        return f"P(class 1) = {value:.2f}"
    if kind == "class":
        return f"class {int(value)}"
    return f"{value:.3f}"


def show(result: Inspection, label: str) -> None:
    chart.show(gate_bars(result.probs_E, result.chosen, label), "inspect_bars")
    st.caption(
        "Bar height: the router's probability for each expert; solid bars are the experts this point "
        "goes to, with their combine weight w."
    )
    order = np.argsort(-result.probs_E)[:8]
    rows = [
        {
            "expert": expert_name(int(e)),
            "probability": round(float(result.probs_E[e]), 3),
            "chosen": "yes" if int(e) in result.chosen else "",
            "weight": round(result.chosen.get(int(e), 0.0), 3),
            "its own output": _describe(float(result.expert_values_E[e]), result.value_kind),
        }
        for e in order
    ]
    st.dataframe(rows, hide_index=True, width="stretch")
    parts = " + ".join(f"{w:.2f} × {expert_name(e)}" for e, w in result.chosen.items()) or "no expert"
    st.markdown(f"**Combined output:** {parts} → {_describe(result.combined, result.value_kind)}")
