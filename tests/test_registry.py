"""Registries: lookup by name with a useful error, registration, and lazy implementations."""

import dataclasses
import importlib
import pkgutil
import re
import sys

import pytest

import moe_core
from moe_core.errors import ConfigError
from moe_core.settings.registry import Entry, Registry


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

    assert registry()["beta"].implementation() is json.dumps
    marker = object()
    assert Entry("own", "Own", impl=marker).implementation() is marker


def test_reading_the_registries_imports_no_torch():
    # Listings and config validation must answer without loading torch (a fresh interpreter checks).
    import subprocess

    code = (
        "import sys; from moe_core.settings.config import RunConfig; "
        "from moe_core.settings.table import describe_options; "
        "RunConfig().replace(**{'model.router': 'switch'}); describe_options(); "
        "print(sorted(m for m in ('torch', 'numpy', 'sklearn') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def every_registry() -> list[Registry]:
    """The Registry objects every module of the core declares, found by walking the package."""
    found = {}
    for info in pkgutil.walk_packages(moe_core.__path__, "moe_core."):
        if info.name != "moe_core.__main__":
            for value in vars(importlib.import_module(info.name)).values():
                if isinstance(value, Registry):
                    found[id(value)] = value
    return list(found.values())


def test_every_module_attribute_string_of_every_registry_names_an_object_that_exists():
    registries = every_registry()
    assert {"model.router", "model.balance", "data.name", "model.expert_kind"} <= {r.key for r in registries}
    named = 0
    for registry in registries:
        for entry in registry.entries():
            for field in dataclasses.fields(entry):
                value = getattr(entry, field.name)
                if isinstance(value, str) and re.fullmatch(r"moe_core(\.\w+)+:\w+", value):
                    module, _, attribute = value.partition(":")
                    assert hasattr(importlib.import_module(module), attribute), f"{registry.key} {entry.name}: {value}"
                    named += 1
    assert named >= 40


def test_every_public_name_of_the_package_imports():
    for name in moe_core.__all__:
        assert getattr(moe_core, name) is not None, name
