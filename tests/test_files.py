"""Files in and out of the sidebar, through Streamlit's AppTest: CSV uploads and samples, a
configuration as JSON both ways, the command line that trains the setup, and a run's weights, history
and flip-book."""

import time

import pytest
import torch
from streamlit.testing.v1 import AppTest

from devtools.apptest import active_run, open_page
from moe_core.datasets.csv_file import SAMPLES
from moe_core.models import weights
from moe_core.settings.config import RunConfig
from moe_core.training.trainer import Trainer
from moe_explorer_app.ui import files

LOADED = "Loaded regression.csv: regression, 2 features, 400 rows (target y). Press Play to train on it."


@pytest.fixture
def at() -> AppTest:
    return open_page()


def upload(at: AppTest, name: str, raw: bytes) -> AppTest:
    at.sidebar.get("file_uploader")[0].set_value((name, raw, "text/csv"))
    return at.run()


def steps_while_waiting(run, seconds: float = 0.5) -> int:
    before = run.trainer.step_count
    time.sleep(seconds)
    return run.trainer.step_count - before


def test_a_bad_csv_shows_one_sentence_keeps_the_run_and_does_not_pause_it(at):
    run = active_run(at)
    at.button(key="btn.play").click().run()
    upload(at, "bad.csv", b"x1,x2,label\n0.1,abc,0\n0.2,0.3,1\n0.3,0.1,0\n0.5,0.5,1\n")
    sentence = "bad.csv: Column 'x2' holds the text 'abc' on line 2; feature columns must be numbers."
    assert [e.value for e in at.sidebar.error] == [sentence]
    assert [e.value for e in at.main.error] == [f"Upload CSV: {sentence} The current run is unchanged."]
    assert active_run(at) is run and run.cfg.data.name == "clusters"
    assert steps_while_waiting(run) > 0
    at.button(key="btn.pause").click().run()
    assert not at.exception


def test_a_good_csv_pauses_switches_to_it_and_says_so_until_play(at):
    at.button(key="btn.play").click().run()
    old = active_run(at)
    upload(at, "regression.csv", (SAMPLES / "regression.csv").read_bytes())
    run = active_run(at)
    assert run is not old and run.cfg.data.name == "csv" and run.trainer.data.task == "regression"
    assert run.trainer.data.n_clusters == 4 and steps_while_waiting(old, 0.2) == 0
    assert LOADED in [i.value for i in at.info]
    at.button(key="btn.play").click().run()
    at.button(key="btn.pause").click().run()
    assert LOADED not in [i.value for i in at.info]
    at.run()  # the uploader still holds the file; it is not taken again
    assert active_run(at) is run and LOADED not in [i.value for i in at.info] and not at.exception


def test_a_file_without_a_target_column_asks_for_one_and_the_picker_lists_its_columns(at):
    upload(at, "abc.csv", b"a,b,c\n" + b"0.1,0.2,0\n0.3,0.1,1\n0.5,0.4,0\n0.9,0.7,1\n" * 20)
    asked = "Loaded abc.csv, but no column is named y, label or target: choose the one to predict in the sidebar, "
    assert [i.value for i in at.info] == [asked + "Data → Target column (a, b, c)."] and not at.error
    picker = at.selectbox(key="data.target")
    assert list(picker.options) == ["a", "b", "c"]
    picker.set_value("c").run()
    run = active_run(at)
    assert run.cfg.data.target == "c" and run.trainer.data.dim == 2
    assert not any(i.value.startswith("Loaded abc.csv") for i in at.info) and not at.exception


def test_a_sample_file_loads_and_the_list_is_ready_to_give_it_again(at):
    at.selectbox(key="ui.sample").set_value("clusters.csv").run()
    first = active_run(at)
    assert first.cfg.data.name == "csv" and at.selectbox(key="ui.sample").value == ""
    assert any(i.value.startswith("Loaded clusters.csv: ") for i in at.info)
    at.slider(key="model.n_experts").set_value(6).run()
    at.selectbox(key="ui.sample").set_value("clusters.csv").run()
    assert any(i.value.startswith("Loaded clusters.csv: ") for i in at.info)
    assert active_run(at).cfg.data.csv_path == first.cfg.data.csv_path and not at.exception


def test_the_configuration_downloads_as_json_and_opens_again(at):
    at.slider(key="model.n_experts").set_value(7).run()
    wanted = active_run(at).cfg
    assert at.get("download_button")[0].proto.label == "Download the configuration (JSON)"
    fresh = open_page()
    fresh.sidebar.get("file_uploader")[1].set_value(("run.json", wanted.to_json().encode(), "application/json"))
    fresh.run()
    assert active_run(fresh).cfg == wanted and not fresh.exception
    assert next(c.value for c in fresh.sidebar.code) == "python -m moe_core train --set model.n_experts=7"


def test_a_configuration_that_cannot_be_used_says_why_and_changes_nothing(at):
    run = active_run(at)
    at.sidebar.get("file_uploader")[1].set_value(("run.json", b'{"model": {"top_k": 9}}', "application/json"))
    at.run()
    (error,) = [e.value for e in at.sidebar.error]
    assert error.startswith("That configuration file could not be used: ") and "top_k" in error
    assert active_run(at) is run and not at.exception


def test_the_command_line_trains_the_same_setup():
    assert files.cli_command(RunConfig()) == "python -m moe_core train"
    cfg = RunConfig().replace(**{"model.router": "switch", "data.csv_path": "/tmp/my data.csv", "data.name": "csv"})
    command = files.cli_command(cfg)
    assert command.startswith("python -m moe_core train --set ")
    assert """--set 'model.router="switch"'""" in command and """--set 'data.csv_path="/tmp/my data.csv"'""" in command


def test_the_run_downloads_its_weights_history_and_flip_book(at):
    labels = [b.proto.label for b in at.get("download_button")][1:]
    assert labels == [
        "Download the weights at step 0 (.safetensors)",
        "Download the metrics history (CSV)",
        "Download the flip-book (HTML)",
    ]


def upload_weights(at: AppTest, name: str, raw: bytes) -> AppTest:
    at.sidebar.get("file_uploader")[2].set_value((name, raw, "application/octet-stream"))
    return at.run()


def test_weights_load_into_the_run_and_pause_it_on_them(at):
    at.button(key="btn.step").click().run()
    run = active_run(at)
    source = Trainer(run.cfg.replace(**{"train.seed": 9}))
    source.step(5)
    at.button(key="btn.play").click().run()
    upload_weights(at, "trained.safetensors", weights.to_bytes(source.model, source.cfg))
    assert steps_while_waiting(run, 0.2) == 0  # paused on the weights loaded
    assert all(torch.equal(run.trainer.model.state_dict()[k], v) for k, v in source.model.state_dict().items())
    step = run.trainer.step_count
    said = f"Loaded the weights in trained.safetensors into run 1 at step {step:,}. Press Play to train on from them."
    assert said in [i.value for i in at.info] and (step, "weights from trained.safetensors") in run.trainer.events
    assert not at.exception


def test_weights_that_do_not_fit_are_one_sentence_and_the_run_trains_on_unchanged(at):
    run = active_run(at)
    eight = Trainer(run.cfg.replace(**{"model.n_experts": 8}))
    at.button(key="btn.play").click().run()
    upload_weights(at, "eight.safetensors", weights.to_bytes(eight.model, eight.cfg))
    (error,) = [e.value for e in at.sidebar.error]
    assert error == (
        "eight.safetensors: The weights file has 8 experts' weights (experts.w_in_EDH [8, 2, 16]) but this run has "
        "4 experts; set model.n_experts to 8 or load another file."
    )
    assert steps_while_waiting(run) > 0 and not run.trainer.events  # still training, nothing loaded
    upload_weights(at, "notes.safetensors", b"these are not weights")
    (error,) = [e.value for e in at.sidebar.error]
    assert error.startswith("notes.safetensors: The file is not a safetensors file of weights (")
    at.button(key="btn.pause").click().run()
    assert not at.exception
