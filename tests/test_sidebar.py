"""The sidebar and the table of options agree: every option has a widget or a stated reason not to, and
every widget shows its option's label, help, choices and whether it applies to the chosen rule."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from moe_core.balance import BALANCE
from moe_core.datasets import DATASETS
from moe_core.options import OPTIONS, applies
from moe_core.routers import ROUTERS
from moe_explorer_app.sidebar import LAYOUT, NOT_IN_SIDEBAR

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")
IN_LAYOUT = [key for _, _, keys in LAYOUT for key in keys]


@pytest.fixture(scope="module")
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    assert not app.exception
    return app


def widget(at: AppTest, key: str):
    for kind in ("selectbox", "radio", "slider", "select_slider", "number_input", "toggle", "text_input"):
        found = [w for w in at.get(kind) if getattr(w, "key", None) == key]
        if found:
            return found[0]
    raise AssertionError(f"no widget for {key}")


def test_every_option_has_a_widget_or_a_reason_not_to():
    assert len(IN_LAYOUT) == len(set(IN_LAYOUT))
    assert set(IN_LAYOUT) | set(NOT_IN_SIDEBAR) == set(OPTIONS)
    assert not set(IN_LAYOUT) & set(NOT_IN_SIDEBAR)


def test_widgets_carry_their_options_label_and_help(at):
    for key in IN_LAYOUT:
        if key == "data.target":  # shown only once a CSV is loaded
            continue
        option = OPTIONS[key]
        w = widget(at, f"{key}:value" if option.null_toggle else key)
        assert w.label == option.label, key
        assert option.help in (w.help or ""), key


@pytest.mark.parametrize(("key", "registry"), [("model.router", ROUTERS), ("model.balance", BALANCE)])
def test_registry_choices_are_listed_with_their_labels(at, key, registry):
    assert list(widget(at, key).options) == [entry.label for entry in registry.entries()]


def test_the_dataset_list_is_the_registry_less_csv_until_a_file_is_loaded(at):
    expected = [f"{spec.name}: {spec.label}" for spec in DATASETS.entries() if spec.name != "csv"]
    assert list(widget(at, "data.name").options) == expected


@pytest.mark.parametrize("router", ROUTERS.names())
def test_a_control_is_enabled_exactly_where_the_chosen_rule_uses_it(router):
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.selectbox(key="model.router").set_value(router).run()
    spec = ROUTERS[router]
    values = {key: at.session_state[key] for key in OPTIONS if not OPTIONS[key].null_toggle}
    values["model.capacity_factor"] = None
    routing_keys = [key for key, o in OPTIONS.items() if o.depends_on == "model.router" and not o.null_toggle]
    for key in routing_keys:
        expected_disabled = not applies(key, values) or key in spec.fixed
        assert widget(at, key).disabled == expected_disabled, (router, key)
    assert widget(at, "model.capacity_factor:on").disabled == ("model.capacity_factor" not in spec.uses)
    for key, value in spec.fixed.items():
        assert at.session_state[key] == value  # choosing the rule sets what it pins
    greyed = [key for key in routing_keys if widget(at, key).disabled]
    reasons = [c.value for c in at.sidebar.caption if c.value.startswith("Greyed out")]
    routing = [r for r in reasons if f"the router '{router}'" in r]
    if greyed:  # one line names every greyed-out routing control and the rule that does not use it
        assert len(routing) == 1 and all(OPTIONS[key].label in routing[0] for key in greyed), reasons
    else:
        assert not routing, reasons
    assert not at.exception and not at.error
