"""The Lessons page through Streamlit's AppTest: a link opens its lesson, which explains itself, trains
from the page, and ends with its verdict, its curve and its maps."""

from streamlit.testing.v1 import AppTest

from devtools.apptest import APP, figure_titles, run_script
from moe_core.experiments.lessons import LESSONS


def test_a_link_opens_the_lesson_which_trains_to_its_verdict_curve_and_maps():
    at = run_script("import streamlit as st\nst.query_params['lesson'] = 'expert_choice'\n"
                    "from moe_explorer_app.ui import lessons_page\nlessons_page.render()")  # fmt: skip
    assert at.selectbox(key="lesson.name").value == "expert_choice"
    lesson = LESSONS["expert_choice"]
    assert any(lesson.watch in info.value for info in at.info)
    assert len(at.get("latex")) == 1
    at.button(key="lesson.run").click().run()
    _, seed, quick, job = at.session_state["lesson.job"]
    job.wait(120)
    at.run()
    assert not at.exception and seed == 0 and not quick
    assert at.success and at.success[0].value.startswith("As expected: Load CV² is 0.000")
    titles = figure_titles(at)
    assert any(title.startswith("share of points no expert took over training") for title in titles), titles
    assert "Final routing map, seed 0" in titles, titles  # one run: one map, nothing to match it to
    assert any("markers are the first 250 test points by class; a red x is a point that no expert took" in c.value
               for c in at.caption)  # fmt: skip
    assert at.button(key="lesson.open").label == "Open on the Train page"
    assert at.query_params["lesson"] in ("expert_choice", ["expert_choice"])


def test_another_lesson_chosen_names_itself_in_the_link():
    at = run_script("from moe_explorer_app.ui import lessons_page\nlessons_page.render()")
    assert at.selectbox(key="lesson.name").value == LESSONS.names()[0]
    at.selectbox(key="lesson.name").set_value("capacity").run()
    assert not at.exception and "Switch routing gives each expert" in at.markdown[0].value


def lessons_in_the_app() -> AppTest:
    """The whole app (its navigation, the Train page's link reading) on its Lessons page. AppTest switches
    pages by file only, and the app's pages are functions: its page is picked by the hash the
    navigation registered for the Lessons page's address."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at._page_hash = next(h for h, page in at._registered_pages.items() if page.get("url_pathname") == "lessons")
    at.run()
    assert not at.exception and at.selectbox(key="lesson.name").value == LESSONS.names()[0]
    return at


def test_a_lessons_run_opens_on_the_train_page_with_its_settings():
    at = lessons_in_the_app()
    at.selectbox(key="lesson.name").set_value("exploration").run()
    at.button(key="lesson.run").click().run()
    (progress,) = at.get("progress")
    assert progress.proto.text.startswith("Training Noise helps exploration: ")  # the label as written
    at.session_state["lesson.job"][-1].wait(300)
    at.run()
    assert not at.exception and at.success
    assert at.selectbox(key="lesson.open_run.exploration").options == ["gate noise 1", "gate noise 0"]
    at.selectbox(key="lesson.open_run.exploration").set_value(1).run()
    at.button(key="lesson.open").click().run()
    assert not at.exception
    wanted = LESSONS["exploration"].config(0).replace(**{"model.gate_noise": 0.0})
    run = at.session_state["runs"].active
    assert run.cfg.flat() == wanted.flat() and run.trainer.step_count == 0
    assert at.query_params["model.gate_noise"] in ("0.0", ["0.0"]) and at.button(key="btn.play")  # the Train page


def test_the_quick_version_runs_the_lessons_smaller_size_and_a_lesson_without_one_says_so():
    at = run_script("import streamlit as st\nst.query_params['lesson'] = 'capacity'\n"
                    "from moe_explorer_app.ui import lessons_page\nlessons_page.render()")  # fmt: skip
    assert "data.n_train" not in at.toggle(key="lesson.quick").help  # the help names settings in words
    assert "500 steps" in at.toggle(key="lesson.quick").help and not at.toggle(key="lesson.quick").disabled
    at.toggle(key="lesson.quick").set_value(True).run()
    at.button(key="lesson.run").click().run()
    _, _, quick, job = at.session_state["lesson.job"]
    job.stop()
    assert quick and job.base == LESSONS["capacity"].config(0, small=True) and job.base.train.steps == 500
    job.wait(120)
    at.selectbox(key="lesson.name").set_value("exploration").run()
    assert at.toggle(key="lesson.quick").disabled and not at.toggle(key="lesson.quick").value
    assert "no smaller version" in at.toggle(key="lesson.quick").help
