"""The Sweep page through Streamlit's AppTest, and the job it runs in the background: a small sweep
trains to its table, figures and paired comparison, a results file opens the same way under its own
provenance and says what it lacks, and bad input is one sentence."""

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
    assert "test accuracy, 2 seeds: mean and 95% interval" in titles and "Every run: settings → test accuracy" in titles
    paired = "test accuracy: each setting minus balance=aux_loss, seed by seed"
    assert any(t.startswith(paired) for t in titles)
    assert "Final routing maps by balance strategy, seed 0<br>colours matched to the first" in titles
    assert "test accuracy over training: mean ± 1 std over 2 seeds" in titles
    assert len(job.result.rows[0].history) > 2  # snapshots along the way, for the curves
    (summary, runs) = at.dataframe
    assert list(summary.value["balance"]) == ["aux_loss", "none"] and list(summary.value["runs"]) == [2, 2]
    assert len(runs.value) == 4
    assert [b.proto.label for b in at.get("download_button")] == ["Download the runs (CSV)"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_results_file_opens_under_its_own_provenance_and_says_what_it_lacks(tmp_path, suffix):
    result = sweep(BASE.replace(**{"model.n_experts": 8}), {"model.top_k": [1, 2]}, seeds=2)
    write(result, tmp_path / f"rows{suffix}")
    at = sweep_page()
    at.get("file_uploader")[0].set_value((f"rows{suffix}", (tmp_path / f"rows{suffix}").read_bytes(), "text/csv"))
    at.run()
    assert not at.exception
    titles = figure_titles(at)
    assert "test accuracy, 2 seeds: mean and 95% interval" in titles
    assert any(t.startswith("test accuracy: each setting minus top_k=1, seed by seed") for t in titles)
    assert list(at.dataframe[0].value["top_k"]) == [1, 2]
    said = [m.value for m in at.markdown if m.value.startswith(f"**rows{suffix}**")]
    assert said and said[0].startswith(f"**rows{suffix}**: clusters, 8 experts, top-1, aux_loss; model.top_k over 2")
    (lacks,) = [i.value for i in at.info if i.value.startswith("This file has")]
    assert "no histories" in lacks and "sweep --history" in lacks and "no routing maps (sweep --maps" in lacks


def test_a_file_with_histories_and_maps_draws_its_curves_and_maps(tmp_path):
    write(sweep(BASE, {"model.top_k": [1, 2]}, seeds=2, with_history=True, with_map=True), tmp_path / "rows.parquet")
    at = sweep_page()
    at.get("file_uploader")[0].set_value(("rows.parquet", (tmp_path / "rows.parquet").read_bytes(), "x"))
    at.run()
    titles = figure_titles(at)
    assert "test accuracy over training: mean ± 1 std over 2 seeds" in titles
    assert "Final routing maps, seed 0: colours matched to the first" in titles
    assert not [i.value for i in at.info if i.value.startswith("This file has")]


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
