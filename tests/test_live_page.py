"""The live panel's wiring under AppTest: the glossary beside the collapse watch and the specialisation
curves, and the three headline figures' tooltips from the glossary."""

from devtools.apptest import open_page
from moe_explorer_app.ui import glossary


def blocks(node, kind: str) -> list:
    """Every block of `kind` under `node`, in page order."""
    found = [node] if getattr(node, "type", None) == kind else []
    for child in getattr(node, "children", {}).values():
        found += blocks(child, kind)
    return found


def markdown_under(node) -> list[str]:
    found = [node.value] if getattr(node, "type", None) == "markdown" else []
    for child in getattr(node, "children", {}).values():
        found += markdown_under(child)
    return found


def test_the_glossary_sits_beside_the_collapse_watch_and_the_specialisation_and_in_the_figures_tooltips():
    at = open_page()
    popovers = [p for p in blocks(at.main, "popover") if p.proto.popover.label == "What do these mean?"]
    listed = [[text.split("**")[1] for text in markdown_under(p)] for p in popovers]
    names = [
        [glossary.term(key).name for key in keys] for keys in (glossary.COLLAPSE_TERMS, glossary.SPECIALISATION_TERMS)
    ]
    assert listed == names
    helps = {m.label: m.proto.help for m in at.metric}
    for label, key in (("NMI", "cluster_nmi"), ("Purity", "purity"), ("Dispatch entropy", "dispatch_entropy")):
        assert helps[label] == glossary.help_text(key)
