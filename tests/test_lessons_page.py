"""The Lessons page through Streamlit's AppTest: a link opens its lesson, which explains itself, trains
from the page, and ends with its verdict, its curve and its maps."""

from devtools.apptest import figure_titles, run_script
from moe_core.lessons import LESSONS


def test_a_link_opens_the_lesson_which_trains_to_its_verdict_curve_and_maps():
    at = run_script("import streamlit as st\nst.query_params['lesson'] = 'expert_choice'\n"
                    "from moe_explorer_app import lessons_page\nlessons_page.render()")  # fmt: skip
    assert at.selectbox(key="lesson.name").value == "expert_choice"
    lesson = LESSONS["expert_choice"]
    assert any(lesson.watch in info.value for info in at.info)
    assert len(at.get("latex")) == 1
    at.button(key="lesson.run").click().run()
    _, seed, job = at.session_state["lesson.job"]
    job.wait(120)
    at.run()
    assert not at.exception and seed == 0
    assert at.success and at.success[0].value.startswith("As expected: Load CV² is 0.000")
    titles = figure_titles(at)
    assert any(title.startswith("share of points no expert took over training") for title in titles), titles
    assert any(title.startswith("Final routing maps") for title in titles), titles
    assert at.query_params["lesson"] in ("expert_choice", ["expert_choice"])


def test_another_lesson_chosen_names_itself_in_the_link():
    at = run_script("from moe_explorer_app import lessons_page\nlessons_page.render()")
    assert at.selectbox(key="lesson.name").value == LESSONS.names()[0]
    at.selectbox(key="lesson.name").set_value("capacity").run()
    assert not at.exception and "Switch routing gives each expert" in at.markdown[0].value
