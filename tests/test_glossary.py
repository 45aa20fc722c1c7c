"""The glossary: one term per quantity the code measures, each one sentence with a formula and a
source, found by the names the page gives it."""

import dataclasses
import re

import pytest

from moe_core.measure.glossary import GLOSSARY, TERMS, find
from moe_core.measure.metrics import Metrics

ASKED = ("MaxVio", "CV²", "flips", "router z", "NMI", "purity", "dispatch entropy", "load entropy",
         "effective experts", "dead experts", "drop rate", "likeness")  # fmt: skip


def balanced(latex: str) -> bool:
    depth = 0
    for char in re.sub(r"\\[{}]", "", latex):  # \{ and \} are literal braces
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0 and latex.count(r"\left") == latex.count(r"\right")


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.key)
def test_each_term_is_a_measured_quantity_in_one_sentence_with_a_formula_and_a_one_line_source(term):
    assert term.key in {f.name for f in dataclasses.fields(Metrics)}  # the record the charts draw from
    assert term.sentence.endswith(".") and ". " not in term.sentence
    assert term.citation.endswith(".") and "\n" not in term.citation
    assert re.search(r"\d{4}|this app", term.citation, re.I)  # a year, or it says it is the app's own
    assert term.formula.strip() and "\\" in term.formula and balanced(term.formula)


def test_keys_are_unique_and_every_measure_the_issue_names_is_found_by_its_name():
    assert len(GLOSSARY) == len(TERMS)
    for name in ASKED:
        assert find(name) is not None, name


def test_a_term_is_found_by_key_name_or_chart_label_whatever_the_case_and_spacing():
    assert find("max_vio") is find("maxvio") is find("MaxVio") is GLOSSARY["max_vio"]
    assert find("CV² of load") is GLOSSARY["load_cv2"] and find("  dead ") is GLOSSARY["dead_experts"]
    assert find("NMI(expert; cluster)") is GLOSSARY["cluster_nmi"]
    assert find("training step") is None


def test_the_brace_check_catches_a_broken_formula():
    assert not balanced(r"\frac{a}{b") and not balanced(r"\left( x") and balanced(r"\#\{e : f_e < 1\}")
