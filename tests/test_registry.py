"""Registries: lookup by name with a useful error, registration, and lazy implementations."""

import sys

import pytest

from moe_core.errors import ConfigError
from moe_core.registry import Entry, Registry


def registry() -> Registry:
    return Registry("model.thing", [Entry("alpha", "Alpha"), Entry("beta", "Beta", impl="json:dumps")])


def test_an_unknown_name_lists_the_known_ones_and_suggests_the_closest():
    with pytest.raises(ConfigError) as err:
        registry()["alpah"]
    assert str(err.value) == "model.thing 'alpah' is unknown (did you mean alpha?); choose one of alpha, beta."
    with pytest.raises(ConfigError, match="'zzz' is unknown; choose one of alpha, beta"):
        registry()["zzz"]


def test_registering_adds_in_order_and_refuses_a_taken_name():
    reg = registry()
    reg.register(Entry("gamma", "Gamma"))
    assert reg.names() == ("alpha", "beta", "gamma") and "gamma" in reg and len(reg) == 3
    with pytest.raises(ValueError, match="registered already"):
        reg.register(Entry("alpha", "Again"))
    reg.unregister("gamma")
    assert "gamma" not in reg


def test_implementations_load_on_first_use_or_are_given_directly():
    import json

    assert registry()["beta"].load() is json.dumps
    marker = object()
    assert Entry("own", "Own", impl=marker).load() is marker


def test_reading_the_registries_imports_no_torch():
    # Listings and config validation must answer without loading torch (a fresh interpreter checks).
    import subprocess

    code = (
        "import sys; from moe_core.config import RunConfig; from moe_core.options import describe_options; "
        "RunConfig().replace(**{'model.router': 'switch'}); describe_options(); "
        "print(sorted(m for m in ('torch', 'numpy', 'sklearn') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
