"""The Compare page through Streamlit's AppTest, in a session whose Train page made one run: a copy
with one setting changed, both trained together and paused at one step, the maps side by side with
aligned experts, the curves, the difference maps from a chosen reference and the table of what
differs; the compared runs in the address, and a link that reopens them in a new session."""

import time

from streamlit.testing.v1 import AppTest

from devtools.apptest import figure_titles, run_script
from moe_core.settings.config import RunConfig
from moe_explorer_app.state import url_state

SCRIPT = """
import streamlit as st
from moe_core.settings.config import RunConfig
from moe_explorer_app.ui import compare_page, session
if not session.book().runs:  # what the Train page leaves: one run of the sidebar's settings
    session.sync(RunConfig().replace(**{"data.n_train": 400, "data.n_test": 200}), False)
compare_page.render()
"""


def page() -> AppTest:
    return run_script(SCRIPT)


def runs(at: AppTest) -> list:
    return at.session_state["runs"].runs


def test_a_copy_with_one_setting_changed_trains_beside_the_first_and_is_compared():
    at = page()
    assert at.selectbox(key="compare.key").value == "model.balance"
    assert at.selectbox(key="compare.value.model.balance").value == "none"  # another value than the run's
    at.button(key="compare.add").click().run()
    first, copy = sorted(runs(at), key=lambda r: r.number)
    assert copy.cfg == first.cfg.replace(**{"model.balance": "none"}) and at.session_state["runs"].active is first
    assert at.multiselect(key="compare.numbers").value == [1, 2]
    at.button(key="compare.play").click().run()
    deadline = time.monotonic() + 60
    while min(first.trainer.step_count, copy.trainer.step_count) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    at.button(key="compare.pause").click().run()
    assert first.trainer.step_count == copy.trainer.step_count  # trained together, paused at one step
    shown = figure_titles(at)
    assert "Routing maps, experts matched to run 1's" in shown and "Runs over training" in shown
    assert "Where each run routes apart from run 1" in shown
    (table,) = at.dataframe
    assert list(table.value["model.balance"]) == ["aux_loss", "none"] and list(table.value["run"]) == [1, 2]
    assert len(set(table.value["step"])) == 1  # the table compares them at one step
    assert at.query_params[url_state.RUN_KEY] == [url_state.encode_run(first.cfg), url_state.encode_run(copy.cfg)]
    at.selectbox(key="compare.reference").set_value(2).run()
    shown = figure_titles(at)
    assert "Routing maps, experts matched to run 2's" in shown and "Where each run routes apart from run 2" in shown
    assert not at.exception


def test_a_link_with_runs_reopens_them_in_a_new_session_and_names_one_it_cannot_make():
    base = RunConfig().replace(**{"data.n_train": 400, "data.n_test": 200})
    wanted = [base, base.replace(**{"model.n_experts": 6})]
    at = AppTest.from_string("from moe_explorer_app.ui import compare_page\ncompare_page.render()", default_timeout=90)
    at.query_params[url_state.RUN_KEY] = [*map(url_state.encode_run, wanted), "model.nope:3"]
    at.run()
    assert [run.cfg for run in sorted(runs(at), key=lambda r: r.number)] == wanted
    assert at.multiselect(key="compare.numbers").value == [1, 2]
    (warning,) = [w.value for w in at.warning]
    assert (
        warning
        == "The link's run 'model.nope:3' names 'model.nope', which is not an option: the other runs are compared."
    )
    at.run()
    assert len(runs(at)) == 2  # read once: a rerun adds nothing
    assert "Routing maps, experts matched to run 1's" in figure_titles(at)


def test_a_copy_identical_to_its_source_is_refused_with_a_sentence():
    at = page()
    at.selectbox(key="compare.key").set_value("model.top_k").run()
    at.button(key="compare.add").click().run()
    (error,) = [e.value for e in at.error]
    assert error == "That run cannot be made: that is run 1 again; pick another value of model.top_k."
    assert len(runs(at)) == 1


def test_an_impossible_copy_is_one_sentence_and_changes_nothing():
    at = page()
    at.selectbox(key="compare.key").set_value("model.top_k").run()
    at.text_input(key="compare.text.model.top_k").set_value("9").run()
    at.button(key="compare.add").click().run()
    (error,) = [e.value for e in at.error]
    assert error.startswith("That run cannot be made: ") and "top_k" in error and len(runs(at)) == 1
