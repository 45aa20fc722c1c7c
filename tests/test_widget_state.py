"""Values the app sets survive the page's stale fragment requests, and a person's own change wins."""

from moe_explorer_app.ui import widget_state


def test_a_stale_fragment_request_that_puts_an_old_value_back_is_undone():
    state = {"data.name": "clusters", "data.target": None}
    widget_state.assign({"data.name": "csv", "data.target": "y"}, state)
    state["data.name"] = "clusters"  # what a request sent before the browser saw the change carries
    assert widget_state.heal(state, fragment_run=True) == ["data.name"]
    assert state["data.name"] == "csv" and state["data.target"] == "y"


def test_the_callback_of_a_stale_change_is_told_to_do_nothing():
    state = {"model.router": "topk"}
    widget_state.assign({"model.router": "switch"}, state)
    state["model.router"] = "topk"
    assert widget_state.reverted("model.router", state, fragment_run=True)
    assert state["model.router"] == "switch"


def test_a_person_changing_a_value_back_in_a_full_run_is_kept_and_later_fragments_leave_it():
    state = {"ui.run": 1}
    widget_state.assign({"ui.run": 2}, state)
    state["ui.run"] = 1  # the person picks run 1 again
    assert not widget_state.reverted("ui.run", state, fragment_run=False)
    assert state["ui.run"] == 1
    assert widget_state.heal(state, fragment_run=True) == []
    assert state["ui.run"] == 1


def test_a_changed_value_that_was_not_set_by_the_app_is_left_alone():
    state = {"model.n_experts": 6}  # a person moved the slider
    assert widget_state.heal(state, fragment_run=True) == []
    assert not widget_state.reverted("model.n_experts", state, fragment_run=True)
    assert state["model.n_experts"] == 6


def test_a_value_set_long_ago_is_no_longer_guarded():
    state = {"train.seed": 0}
    widget_state.assign({"train.seed": 5}, state)
    previous, value, when = state[widget_state.RECORD]["train.seed"]
    state[widget_state.RECORD]["train.seed"] = (previous, value, when - widget_state.STALE_SECONDS - 1)
    state["train.seed"] = 0
    assert widget_state.heal(state, fragment_run=True) == []
    assert state["train.seed"] == 0


def test_setting_a_value_to_what_it_already_is_guards_nothing():
    state = {"ui.sample": ""}
    widget_state.assign({"ui.sample": ""}, state)
    assert state[widget_state.RECORD] == {}


def test_outside_a_script_run_nothing_is_a_fragment_run():
    assert not widget_state.in_fragment_run()
