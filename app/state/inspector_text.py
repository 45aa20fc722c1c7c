"""The inspector's table and its "Combined" sentence: each chosen expert's own output in the space the
model adds them in (logits for a classification, probabilities under the mixture objective, values for
a regression), the weighted sum written out with its numbers, then the probability after the sigmoid
or softmax, so that a student can redo the arithmetic.

Shapes: E experts, O outputs, C classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moe_core.measure.probe import Inspection
from moe_explorer_app.figures.palette import expert_name

MAX_TERMS = 4  # experts written out in a sum; the others add up as one term
MAX_CLASS_LINES = 4  # classes with a sum of their own; with more, the three largest
WEIGHT_DIGITS = 3  # a weight's rounding times a logit of 5 stays in the last digit of the sum
MINUS = "\u2212"


@dataclass(frozen=True)
class Term:
    label: str  # "E0", "shared", "correction", "3 other experts"
    weight: float | None  # the expert's share of the output; None for a term added as it is
    value: float


@dataclass(frozen=True)
class Line:
    target: str  # "" for a single sum; else the class it is the sum for
    terms: tuple[Term, ...]
    total: float


def space(result: Inspection) -> str:
    """What the combination adds: "value" (a regression), "probability" (the mixture objective) or "logit"."""
    if result.value_kind == "value":
        return "value"
    return "probability" if result.mixes_probabilities else "logit"


def digits(result: Inspection) -> int:
    return 3 if space(result) == "value" else 2


def class_label(result: Inspection, c: int) -> str:
    name = result.class_names[c] if c < len(result.class_names) else str(c)
    return f"class {name}" if name == str(c) else name


def _softmax(z_O: np.ndarray) -> np.ndarray:
    e_O = np.exp(z_O - z_O.max())
    return e_O / e_O.sum()


def _in_space(result: Inspection, out_XO: np.ndarray) -> np.ndarray:
    """Raw outputs [X, O] in the combination's space, [X, J]: one column for a regression or two
    classes (the log-odds log P(1)/P(0), or P(1)), one per class with more."""
    if space(result) == "probability":
        out_XO = np.stack([_softmax(o) for o in out_XO])
    if result.value_kind == "value":
        return out_XO[:, :1]
    if result.value_kind == "probability":
        return out_XO[:, 1:] if space(result) == "probability" else out_XO[:, 1:] - out_XO[:, :1]
    return out_XO


def per_expert(result: Inspection) -> np.ndarray:
    """Each expert's own output in the combination's space, [E, J] (the mixture: with the shared
    experts', added before each expert's softmax)."""
    own_EO = result.expert_out_EO
    if space(result) == "probability" and result.shared_O is not None:
        own_EO = own_EO + result.shared_O
    return _in_space(result, own_EO)


def _shared(result: Inspection) -> np.ndarray | None:
    if result.shared_O is None or space(result) == "probability":
        return None
    return _in_space(result, result.shared_O[None])[0]


def _total(result: Inspection) -> np.ndarray:
    out_O = result.output_O
    if space(result) == "probability":  # the mixture's output is its log-probabilities
        p_O = np.exp(out_O)
        return p_O[1:2] if result.value_kind == "probability" else p_O
    return _in_space(result, out_O[None])[0]


def lines(result: Inspection) -> tuple[Line, ...]:
    """The sums the sentence writes out: one, or one per class (the largest few with many classes)."""
    shares = result.chosen if result.mixing is None else result.mixing
    order = sorted(shares, key=lambda e: -shares[e])
    values_EJ, total_J, shared_J = per_expert(result), _total(result), _shared(result)
    columns = range(len(total_J))
    if len(total_J) > MAX_CLASS_LINES:
        columns = sorted(np.argsort(-total_J)[:3].tolist())
    found = []
    for j in columns:
        terms = [Term(expert_name(e), shares[e], float(values_EJ[e, j])) for e in order[:MAX_TERMS]]
        rest = order[MAX_TERMS:]
        if rest:
            others = sum(shares[e] * float(values_EJ[e, j]) for e in rest)
            terms.append(Term(f"{len(rest)} other experts", None, others))
        if shared_J is not None:
            terms.append(Term("shared", None, float(shared_J[j])))
        if result.correction:  # the learned combination's own term: what is left of the output
            made = sum(t.value * (1.0 if t.weight is None else t.weight) for t in terms)
            terms.append(Term("correction", None, float(total_J[j]) - made))
        target = "" if len(total_J) == 1 else class_label(result, j)
        found.append(Line(target, tuple(terms), float(total_J[j])))
    return tuple(found)


def number(value: float, places: int) -> str:
    text = f"{value:.{places}f}".replace("-", MINUS)
    return "0." + "0" * places if text == MINUS + "0." + "0" * places else text  # no "−0.00"


def _term_text(term: Term, places: int) -> str:
    value = number(term.value, places)
    value = f"({value})" if value.startswith(MINUS) else value
    if term.weight is None:
        return f"{term.label} {value}"
    return f"{term.weight:.{WEIGHT_DIGITS}f} × {value}"


def sum_text(line: Line, places: int) -> str:
    """The sum written out: 0.480 × (−3.10) + 0.300 × 2.40 + shared 0.15 = −0.64."""
    parts = [_term_text(t, places) for t in line.terms]
    if all(t.weight is None for t in line.terms):
        parts.insert(0, "0 (no expert takes this point)")
    return f"{' + '.join(parts)} = {number(line.total, places)}"


def combined_sentence(result: Inspection) -> str:
    """How the output is made, in the space it is made in, with the numbers."""
    found, places, kind = lines(result), digits(result), space(result)
    if kind == "value":
        return f"**Combined:** output = {sum_text(found[0], places)}"
    if kind == "logit" and len(found) == 1:
        z = found[0].total
        p = 1 / (1 + np.exp(-z))
        return (
            f"**Combined, in logits:** {sum_text(found[0], places)} → {_p(result, 1)} = "
            f"sigmoid({number(z, places)}) = {p:.2f}"
        )
    if kind == "probability" and len(found) == 1:
        return f"**Combined, in probabilities** (the mixture): {_p(result, 1)} = {sum_text(found[0], places)}"
    return _per_class(result, found, places)


def _p(result: Inspection, c: int) -> str:
    return f"P({class_label(result, c)})"


def _per_class(result: Inspection, found: tuple[Line, ...], places: int) -> str:
    """One sum per class, then the softmax (the mixture: the sums are the probabilities)."""
    probability = space(result) == "probability"
    head = "**Combined, in probabilities** (the mixture), one sum per class:" if probability else (
        "**Combined, in logits**, one sum per class, then the softmax:"
    )  # fmt: skip
    body = "\n".join(f"- {line.target}: {sum_text(line, places)}" for line in found)
    total_C = _total(result)
    best = int(np.argmax(total_C))
    p = total_C[best] if probability else _softmax(total_C)[best]
    shown = "" if len(found) == len(total_C) else f" (the {len(found)} largest of {len(total_C)} classes)"
    step = "" if probability else "softmax → "
    return f"{head}{shown}\n{body}\n\n→ {step}{_p(result, best)} = {p:.2f}, the prediction"


def caption(result: Inspection) -> str:
    """What the table's columns are and how the sum is made, for this inspection's columns only."""
    share = (
        " (share: its weight after attention)" if result.mixing is not None and space(result) != "probability" else ""
    )
    if space(result) == "value":
        return f"w: the expert's weight. The model adds the chosen experts' outputs times their weights{share}."
    if space(result) == "probability":
        return (
            "w: the expert's weight; share: w over the chosen experts' sum. The mixture objective mixes each "
            "chosen expert's probability by its share (Jacobs et al. 1991)."
        )
    logit = "log P(1)/P(0) (P(1) = sigmoid of it), " if result.value_kind == "probability" else ""
    what = "the sigmoid" if result.value_kind == "probability" else "the softmax"
    return (
        f"w: the expert's weight; logit: {logit}its own output before {what}. The model adds the chosen "
        f"experts' logits times their weights{share}, then {what} turns the sum into a probability."
    )


def rows(result: Inspection, limit: int = 8) -> list[dict[str, str]]:
    """The table, narrow enough for the inspector's column at 1280 x 720: the most probable experts (the
    bars above give their router probability), their weight where the point goes to them, and their own
    output as the sum adds it (with its probability); the shared experts as a row of their own."""
    order = np.argsort(-result.probs_E, kind="stable")[:limit]
    shares, places = result.mixing, digits(result)
    raw_EO = result.expert_out_EO
    if space(result) == "probability" and result.shared_O is not None:  # the mixture: inside each expert's
        raw_EO = raw_EO + result.shared_O
    found = []
    for e in (int(e) for e in order):
        row = {"expert": expert_name(e)}
        row["w"] = f"{result.chosen[e]:.{WEIGHT_DIGITS}f}" if e in result.chosen else ""
        if shares is not None:
            row["share"] = f"{shares[e]:.{WEIGHT_DIGITS}f}" if e in shares else ""
        found.append({**row, **_output_cells(result, raw_EO[e], places)})
    if _shared(result) is not None:
        row = {"expert": "shared", "w": "always", **({"share": ""} if shares is not None else {})}
        found.append({**row, **_output_cells(result, result.shared_O, places)})
    return found


def _output_cells(result: Inspection, raw_O: np.ndarray, places: int) -> dict[str, str]:
    """An expert's output as the sum adds it: the value, the log-odds and P(class 1), or its class and P."""
    if result.value_kind == "value":
        return {"output": number(float(raw_O[0]), places)}
    if result.value_kind == "probability":
        z = float(raw_O[1] - raw_O[0])
        name = result.class_names[1] if len(result.class_names) > 1 else "1"
        return {"logit": number(z, places), f"P({name})": f"{1 / (1 + np.exp(-z)):.2f}"}
    probs_C = _softmax(raw_O)
    best = int(np.argmax(probs_C))
    return {"predicts": class_label(result, best), "P": f"{probs_C[best]:.2f}"}
