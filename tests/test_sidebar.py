"""The sidebar and the table of options agree: every option has a widget or a stated reason not to, and
every widget shows its option's label, help, choices and whether it applies to the chosen rule."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from moe_core.datasets import DATASETS
from moe_core.layer.balance import BALANCE
from moe_core.layer.routers import ROUTERS
from moe_core.settings.table import OPTIONS, applies
from moe_explorer_app.ui.sidebar import LAYOUT, NOT_IN_SIDEBAR, SHOWN_WHERE_USED

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
        if key in SHOWN_WHERE_USED:  # a CSV's column, the drawn centres: tested with their datasets below
            continue
        option = OPTIONS[key]
        w = widget(at, f"{key}:value" if option.null_toggle else key)
        assert w.label == option.label, key
        assert option.help in (w.help or ""), key


@pytest.mark.parametrize(("key", "registry"), [("model.router", ROUTERS), ("model.balance", BALANCE)])
def test_registry_choices_are_listed_with_their_labels(at, key, registry):
    assert list(widget(at, key).options) == [entry.label for entry in registry.entries()]


def test_the_dataset_list_is_the_registry_less_csv_until_a_file_is_loaded(at):
    expected = [spec.label for spec in DATASETS.entries() if spec.name != "csv"]
    assert list(widget(at, "data.name").options) == expected


def test_dataset_labels_are_short_and_the_chosen_ones_name_and_sentence_are_in_the_help(at):
    # 300 px of sidebar hold about 24 characters of a selectbox (tests/test_browser_drawn.py measures it)
    assert all(len(spec.label) <= 20 for spec in DATASETS.entries())
    help_text = widget(at, "data.name").help
    assert "Here: clusters (its name in files and the command line): K Gaussian blobs" in help_text


def test_the_training_and_test_points_of_a_csv_file_are_greyed_out_as_set_by_its_rows():
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not widget(at, "data.n_train").disabled and not widget(at, "data.n_test").disabled
    at.selectbox(key="ui.sample").set_value("iris.csv").run()
    at.selectbox(key="data.target").set_value("species").run()
    for key in ("data.n_train", "data.n_test"):
        assert widget(at, key).disabled and "Set by the file's rows." in widget(at, key).help, key
    reasons = [c.value for c in at.sidebar.caption if c.value.startswith("Greyed out")]
    assert "Training points, Test points: set by the file's rows" in reasons[0], reasons
    assert "not used by the dataset 'csv'" in reasons[0] and not at.exception


def editor_data(at: AppTest) -> dict | None:
    found = [e for e in at.sidebar.get("bidi_component") if e.proto.component_name.endswith("moe_centres_editor")]
    return json.loads(found[0].proto.json) if found else None


def test_the_drawn_centres_have_an_editor_and_a_text_field_only_for_the_drawn_dataset():
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert editor_data(at) is None and not [w for w in at.text_input if w.key == "data.centres"]
    at.selectbox(key="data.name").set_value("drawn").run()
    text = widget(at, "data.centres")
    assert text.value == OPTIONS["data.centres"].default and text.label == "Centres"
    assert editor_data(at) == {"text": text.value, "limit": 3.0, "spread": 0.35, "max": 16}
    how = "Click the square to add a centre of the class chosen above"
    assert any(c.value.startswith(how) for c in at.sidebar.caption)
    text.set_value("0,0,1;2,2,0").run()  # typed: the run takes it live, the editor draws it
    run = at.session_state["runs"].active
    assert run.cfg.data.centres == "0,0,1;2,2,0" and run.trainer.data.n_clusters == 2
    assert editor_data(at)["text"] == "0,0,1;2,2,0"
    widget(at, "data.centres").set_value("0,0").run()  # malformed: one sentence, the run as it was
    assert [e.value for e in at.error] == [
        "data.centres: centre 1 ('0,0') must be three numbers x,y,class separated by commas, e.g. "
        "'-1.5,0.5,0;1,1,1'. The current run is unchanged."
    ]
    assert editor_data(at)["text"] is None and run.cfg.data.centres == "0,0,1;2,2,0" and not at.exception


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
