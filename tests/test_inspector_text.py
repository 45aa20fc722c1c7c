"""The inspector's arithmetic: the combine written in the space the model adds in (logits, the
mixture's probabilities, values), whose displayed terms add up to the displayed total within their
rounding, on hand-made inspections and on real probes of small trained runs."""

import re

import numpy as np
import pytest
import torch

from moe_core.measure.probe import Inspection, inspect_point
from moe_core.settings.config import RunConfig
from moe_core.training.trainer import Trainer
from moe_explorer_app.state import inspector_text
from moe_explorer_app.state.inspector_text import MINUS, combined_sentence, rows


def inspection(chosen, own_EO, shared_O=None, **fields) -> Inspection:
    own_EO = np.asarray(own_EO, dtype=float)
    shared_O = None if shared_O is None else np.asarray(shared_O, dtype=float)
    out_O = sum(w * own_EO[e] for e, w in chosen.items()) + (0 if shared_O is None else shared_O)
    probs_E = np.linspace(0.4, 0.1, len(own_EO))
    base = dict(probs_E=probs_E, chosen=chosen, expert_values_E=np.zeros(len(own_EO)), combined=0.0,
                value_kind="probability", shared=shared_O is not None, expert_out_EO=own_EO, shared_O=shared_O,
                output_O=np.asarray(out_O, dtype=float), class_names=("0", "1"))  # fmt: skip
    return Inspection(**{**base, **fields})


def test_two_classes_add_logits_then_take_the_sigmoid():
    # E0 alone says P(1) = 0.04 (logit -3.1), E2 says 0.92 (2.4): a student adding probabilities gets 0.30 ...
    result = inspection({0: 0.48, 2: 0.30}, [[0.0, -3.1], [0.0, 1.0], [0.0, 2.4]], shared_O=[0.0, 0.15])
    assert combined_sentence(result) == (
        "**Combined, in logits:** 0.480 × (−3.10) + 0.300 × 2.40 + shared 0.15 = −0.62 → P(class 1) = "
        "sigmoid(−0.62) = 0.35"
    )  # ... the model adds logits: 0.48 x -3.10 + 0.30 x 2.40 + 0.15 = -0.618
    table = rows(result)
    assert table[0] == {"expert": "E0", "w": "0.480", "logit": "−3.10", "P(1)": "0.04"}
    assert table[1]["w"] == "" and table[2]["logit"] == "2.40" and table[2]["P(1)"] == "0.92"
    assert table[-1] == {"expert": "shared", "w": "always", "logit": "0.15", "P(1)": "0.54"}
    assert "logit: log P(1)/P(0) (P(1) = sigmoid of it), its own output before" in inspector_text.caption(result)
    assert "share" not in inspector_text.caption(result)  # no share column without attention
    assert "share: its weight after attention" in inspector_text.caption(
        inspection({0: 0.5}, [[0, 1]], mixing={0: 1.0})
    )


def test_a_regression_adds_values_and_many_classes_one_sum_per_class():
    value = inspection({1: 0.5}, [[1.0], [0.25]], value_kind="value", class_names=())
    assert combined_sentence(value) == "**Combined:** output = 0.500 × 0.250 = 0.125"
    assert rows(value)[1] == {"expert": "E1", "w": "0.500", "output": "0.250"}
    three = inspection({0: 1.0}, [[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]], value_kind="class",
                       class_names=("setosa", "versicolor", "virginica"))  # fmt: skip
    text = combined_sentence(three)
    assert "- setosa: 1.000 × 2.00 = 2.00\n- versicolor: 1.000 × 0.00 = 0.00\n- virginica: 1.000 × (−1.00)" in text
    assert text.endswith("→ softmax → P(setosa) = 0.84, the prediction")
    assert rows(three)[0]["predicts"] == "setosa" and rows(three)[0]["P"] == "0.84"


def test_the_mixture_adds_probabilities_and_nobody_is_said():
    own = [[0.0, -5.0], [0.0, 5.0]]  # P(1) = 0.0067 and 0.9933
    p_O = 0.6 * np.array([0.9933, 0.0067]) + 0.4 * np.array([0.0067, 0.9933])
    mixture = inspection({0: 0.3, 1: 0.2}, own, mixing={0: 0.6, 1: 0.4}, mixes_probabilities=True,
                         output_O=np.log(p_O))  # fmt: skip
    assert combined_sentence(mixture) == (
        "**Combined, in probabilities** (the mixture): P(class 1) = 0.600 × 0.01 + 0.400 × 0.99 = 0.40"
    )
    assert "0 (no expert takes this point) + shared 0.15 = 0.15" in combined_sentence(
        inspection({}, [[0.0, 1.0]], shared_O=[0.0, 0.15])
    )


def parse(text: str) -> float:
    return float(text.replace(MINUS, "-").strip("()"))


def check_sum(line: str, places: int) -> float:
    """The displayed terms of `made = total` add up to the displayed total within their rounding."""
    made, total = line.rsplit(" = ", 1)
    made = made.split(" = ")[-1]  # "P(class 1) = 0.600 × ..." for the mixture
    got, slack = 0.0, 0.5 * 10**-places  # the total's own rounding
    for term in made.split(" + "):
        if "×" in term:
            w, v = (parse(x) for x in term.split(" × "))
            got += w * v
            slack += 0.5e-3 * abs(v) + 0.5 * 10**-places * abs(w)  # each factor's rounding
        elif not term.startswith("0 (no expert"):
            got += parse(term.rsplit(" ", 1)[1])
            slack += 0.5 * 10**-places
    assert abs(got - parse(total)) <= slack + 1e-9, (line, got, slack)
    return parse(total)


CASES = {
    "top-1": {},
    "top-2": {"model.top_k": 2},
    "top-2, a shared expert": {"model.top_k": 2, "model.shared_experts": 1},
    "learned combination": {"model.top_k": 2, "model.combine": "learned"},
    "attention": {"model.top_k": 2, "model.combine": "attention"},
    "mixture objective": {"model.top_k": 2, "model.objective": "mixture", "model.shared_experts": 1},
    "regression": {"data.name": "clusters_regression", "model.top_k": 2, "model.shared_experts": 1},
    "three classes": {"data.name": "csv", "data.csv_path": "iris.csv", "data.target": "species", "model.top_k": 2},
    "soft MoE": {"model.router": "soft"},
    "dense routing": {"model.router": "dense", "model.n_experts": 8},
}


@pytest.mark.parametrize("case", list(CASES))
def test_on_real_probes_the_displayed_terms_add_up_to_the_displayed_output(case):
    cfg = RunConfig().replace(**{"data.n_train": 300, "data.n_test": 100, **CASES[case]})
    trainer = Trainer(cfg)
    trainer.step(40)  # weights away from their start, logits of a few units
    for index in range(0, len(trainer.data.x_test), 7)[:5]:
        result = inspect_point(trainer.model, trainer.data, trainer.data.x_test[index])
        text, places = combined_sentence(result), inspector_text.digits(result)
        sums = [
            line.removeprefix("- ").split(": ", 1)[-1]
            for line in text.splitlines()
            if " = " in line and not line.startswith("→")
        ]
        totals = [check_sum(s.split(" → ")[0].split(":** ")[-1], places) for s in sums]
        kind = inspector_text.space(result)
        if result.value_kind == "probability":  # then the sigmoid (or the mixture's sum is P) to two places
            p = float(re.search(r"= (\d\.\d\d)$", text).group(1))
            assert abs(p - result.combined) <= 0.005 + 1e-9
            if kind == "logit":
                assert abs(1 / (1 + np.exp(-totals[0])) - p) <= 0.25 * 0.5 * 10**-places + 0.005
        elif result.value_kind == "value":
            assert abs(totals[0] - result.combined) <= 0.5e-3 + 1e-9
        else:  # the softmax of the displayed sums names the model's class with its probability
            name, p = re.search(r"→ softmax → P\((\w+)\) = (\d\.\d\d), the prediction$", text).groups()
            assert name == result.class_names[int(result.combined)]
            z_C = np.array(totals)
            assert abs(np.exp(z_C).max() / np.exp(z_C).sum() - float(p)) <= 0.5 * 10**-places + 0.005
        check_table(result, text)


def check_table(result: Inspection, text: str) -> None:
    """Each chosen expert's number in the table is the one its term of the sum uses; the columns are few
    and short enough for the inspector's column at 1280 x 720."""
    table = rows(result)
    assert len(table[0]) <= 5 and all(len(name) <= 8 for name in table[0])
    if result.value_kind == "probability" and inspector_text.space(result) == "logit":
        shares = result.mixing or result.chosen
        for row in table:
            e = int(row["expert"][1:]) if row["expert"].startswith("E") else None
            if e in shares and len(shares) <= inspector_text.MAX_TERMS:
                logit = row["logit"] if not row["logit"].startswith(MINUS) else f"({row['logit']})"
                assert f"{shares[e]:.3f} × {logit}" in text
            if row["expert"] == "shared":
                assert f"shared {row['logit']}" in text or f"shared ({row['logit']})" in text


def test_the_learned_combinations_correction_is_its_own_network_s_term():
    cfg = RunConfig().replace(**{"data.n_train": 300, "data.n_test": 50, "model.top_k": 2, "model.combine": "learned"})
    trainer = Trainer(cfg)
    trainer.step(40)
    model, x_1D = trainer.model.eval(), trainer.data.x_test[:1]
    with torch.no_grad():
        r = model.router(x_1D, batch_routing=False)
        weighted = model.kernels.run_experts(model.experts, x_1D, r.topk_ids_NK, r.kept_NK) * r.weights_NK[..., None]
        g_O = model.combiner.out(torch.relu(model.combiner.hidden(weighted.flatten(1))))[0].numpy()
    result = inspect_point(model, trainer.data, x_1D[0])
    term = inspector_text.lines(result)[0].terms[-1]
    assert term.label == "correction" and term.value == pytest.approx(g_O[1] - g_O[0], abs=1e-5)
    shown = inspector_text.number(term.value, 2)
    assert f"correction {f'({shown})' if shown.startswith(MINUS) else shown} = " in combined_sentence(result)
