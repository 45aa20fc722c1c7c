"""The Sweep page through Streamlit's AppTest, and the job it runs in the background: a small sweep
trains to its table and figures, a results file opens the same way, and bad input is one sentence."""

import pytest
from streamlit.testing.v1 import AppTest

from devtools.apptest import figure_titles, run_script
from moe_core.experiments.results import write
from moe_core.experiments.sweep import sweep
from moe_core.settings.config import ConfigError, RunConfig
from moe_explorer_app.state.sweeps import SweepJob

BASE = RunConfig().replace(**{"data.n_train": 300, "data.n_test": 100, "train.steps": 20})


def sweep_page() -> AppTest:
    return run_script("from moe_explorer_app.ui import sweep_page\nsweep_page.render()")


def test_a_small_sweep_runs_from_the_page_to_its_figures_and_table():
    at = sweep_page()
    assert at.multiselect[0].value == ["aux_loss", "none"]  # the run's balance and one other
    at.number_input[0].set_value(20).run()
    at.slider[0].set_value(2).run()
    at.button(key="sweep.run").click().run()
    job = at.session_state["sweep.job"]
    job.wait(120)
    at.run()
    assert not at.exception and job.total == 4 and len(job.result.rows) == 4
    titles = figure_titles(at)
    assert "test accuracy, 2 seeds: mean ± 95% CI" in titles and "Every run: settings → test accuracy" in titles
    assert "Final routing maps by balance strategy, seed 0<br>colours matched to the first" in titles
    assert "test accuracy over training: mean ± 1 std over 2 seeds" in titles
    assert len(job.result.rows[0].history) > 2  # snapshots along the way, for the curves
    (summary, runs) = at.dataframe
    assert list(summary.value["balance"]) == ["aux_loss", "none"] and list(summary.value["runs"]) == [2, 2]
    assert len(runs.value) == 4
    assert [b.proto.label for b in at.get("download_button")] == ["Download the runs (CSV)"]


def test_a_results_file_from_the_command_line_opens_with_the_same_views(tmp_path):
    result = sweep(BASE, {"model.top_k": [1, 2]}, seeds=2)
    write(result, tmp_path / "rows.csv")
    at = sweep_page()
    at.get("file_uploader")[0].set_value(("rows.csv", (tmp_path / "rows.csv").read_bytes(), "text/csv"))
    at.run()
    assert not at.exception
    assert "test accuracy, 2 seeds: mean ± 95% CI" in figure_titles(at)
    assert list(at.dataframe[0].value["top_k"]) == [1, 2]


def test_a_file_that_is_not_results_is_one_sentence():
    at = sweep_page()
    at.get("file_uploader")[0].set_value(("notes.csv", b"a,b\n1,2\n", "text/csv"))
    at.run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert error == "notes.csv cannot be shown: The file has no seed and steps columns, which a sweep's rows have."


def test_typed_values_that_are_not_allowed_are_one_sentence():
    at = sweep_page()
    at.selectbox[0].set_value("model.n_experts").run()
    at.text_input[0].set_value("4, lots").run()
    assert not at.exception
    assert any("model.n_experts" in e.value for e in at.error)
    assert at.button(key="sweep.run").disabled


def test_a_job_stops_between_runs_and_keeps_what_finished():
    job = SweepJob(BASE.replace(**{"train.steps": 300}), {"model.top_k": [1, 2]}, seeds=5)
    job.stop()
    job.wait(60)
    assert not job.alive and job.stopped and len(job.result.rows) < job.total == 10


def test_an_impossible_grid_is_refused_before_the_job_starts():
    with pytest.raises(ConfigError, match="impossible"):
        SweepJob(BASE, {"model.top_k": [1, 9]}, seeds=1)
