"""The glossary on the page (`moe_core.measure.glossary`): a button beside a chart that opens its terms, each in
one sentence with its formula and source, and the same as a widget's tooltip."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from moe_core.measure.glossary import Term, find

# The terms of the live page's charts, in the order they appear (tests/test_app_glossary.py checks
# that every label the figures draw is here).
COLLAPSE_TERMS = (
    "load_share", "load_entropy", "effective_experts", "dead_experts", "experts_per_point", "load_cv2", "max_vio",
    "flip_rate", "drop_rate", "balance_loss", "router_z", "gate_noise", "balance_weight",
)  # fmt: skip
SPECIALISATION_TERMS = ("cluster_nmi", "purity", "dispatch_entropy", "expert_similarity")


def term(name: str) -> Term:
    """The term a key, name or chart label stands for; a name the glossary lacks is a mistake in the page."""
    found = find(name)
    if found is None:
        raise KeyError(f"The glossary has no term for {name!r}; add it to moe_core/measure/glossary.py.")
    return found


def help_text(name: str) -> str:
    """A widget's tooltip (st.metric's help=): the sentence, the formula and its source."""
    found = term(name)
    return f"{found.sentence}\n\n${found.formula}$\n\n{found.citation}"


def glossary_button(terms: Sequence[str], key: str) -> None:
    """A "What do these mean?" button whose popover lists each term: its name and sentence, its
    formula, and where it comes from."""
    with st.popover(
        "What do these mean?",
        icon=":material/menu_book:",
        key=key,
        help="The glossary: each measure in one sentence, with its formula and its source.",
    ):
        for found in map(term, terms):
            st.markdown(f"**{found.name}**: {found.sentence}")
            st.latex(found.formula)
            st.caption(found.citation)
