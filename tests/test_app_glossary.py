"""The glossary on the page: every label the live page's collapse watch and specialisation figures
draw has a term in the button beside them, and the popover shows each term's sentence and formula."""

import pytest

from devtools.apptest import run_script
from moe_core.settings.config import RunConfig
from moe_core.training.trainer import Trainer
from moe_explorer_app.figures import history
from moe_explorer_app.ui import glossary

SCHEDULED = {"model.gate_noise": 1.0, "train.noise_schedule": "linear", "train.anneal_steps": 40,
             "data.n_train": 300, "data.n_test": 200}  # fmt: skip


@pytest.fixture(scope="module")
def trained_history():
    # a schedule, so that the collapse watch draws its "What the schedule sets" panel too
    trainer = Trainer(RunConfig().replace(**SCHEDULED))
    trainer.fit(60, snapshot_every=10)
    return trainer.history


def labels(fig) -> set[str]:
    """The names of the figure's traces and of its value axes (an axis title may list several)."""
    names = {trace.name for trace in fig.data if trace.name}
    for name, axis in fig.layout.to_plotly_json().items():
        title = (axis.get("title") or {}).get("text") if name.startswith("yaxis") else None
        names |= set(title.split(", ")) if title else set()
    return names


def test_every_label_of_the_collapse_watch_and_the_specialisation_curves_is_in_its_glossary(trained_history):
    collapse = history.collapse_panel(trained_history, 4)
    curves = history.specialisation_curves(trained_history)
    assert len(collapse.data) >= 12 and len(curves.data) >= 4  # the schedule panel and every curve drawn
    for fig, terms in ((collapse, glossary.COLLAPSE_TERMS), (curves, glossary.SPECIALISATION_TERMS)):
        for label in labels(fig):
            assert glossary.term(label).key in terms, f"{label!r} is not in the glossary beside its chart"


def test_the_popover_lists_each_terms_name_sentence_formula_and_source():
    at = run_script(
        "from moe_explorer_app.ui.glossary import SPECIALISATION_TERMS, glossary_button\n"
        "glossary_button(SPECIALISATION_TERMS, key='glossary.test')\n"
    )
    (popover,) = [block for block in at.main.children.values() if block.type == "popover"]
    assert popover.proto.popover.label == "What do these mean?"
    terms = [glossary.term(key) for key in glossary.SPECIALISATION_TERMS]
    assert [m.value for m in at.markdown] == [f"**{t.name}**: {t.sentence}" for t in terms]
    assert [x.value for x in at.get("latex")] == [f"$$\n{t.formula}\n$$" for t in terms]
    assert [c.value for c in at.caption] == [t.citation for t in terms]


def test_a_tooltip_holds_the_sentence_and_formula_and_an_unknown_term_is_a_plain_error():
    tip = glossary.help_text("NMI")
    assert tip.startswith("How much knowing a point's expert") and "$\\mathrm{NMI} = " in tip
    with pytest.raises(KeyError, match="no term for 'wobble'"):
        glossary.term("wobble")
