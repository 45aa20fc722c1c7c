"""The app's logic through Streamlit's AppTest: widgets build the config, buttons drive the run."""

import base64
import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from devtools.apptest import active_run, kept_runs, open_page
from moe_core.settings.config import RunConfig
from moe_explorer_app.figures.routing_map import MAP_MODES
from moe_explorer_app.state import url_state

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "moe_core" / "sample_data"


@pytest.fixture
def at() -> AppTest:
    return open_page()


def drawn(at: AppTest) -> list[tuple[str, dict]]:
    """(component, data) for every live chart on the page: the map and the Plotly figures (not the
    plotly.js loader, the keyboard's shortcuts or the centres' editor)."""
    charts = ("moe_live_map", "moe_live_figure")
    found = []
    for element in at.get("bidi_component"):
        if element.proto.json and element.proto.component_name.endswith(charts):
            found.append((element.proto.component_name, json.loads(element.proto.json)))
    return found


def titles(at: AppTest) -> list[str]:
    return [
        data["title"] if name == "moe_live_map" else data["figure"]["layout"]["title"]["text"]
        for name, data in drawn(at)
    ]


def test_the_defaults_build_the_default_config_and_draw_every_chart(at):
    assert active_run(at).cfg == RunConfig()
    assert len(kept_runs(at)) == 1
    shown = titles(at)
    assert any(t.startswith("Routing map") for t in shown)
    for expected in ("Load share per expert over time", "Collapse watch", "Specialisation over time"):
        assert expected in shown
    assert any("step 0" in m.value for m in at.markdown)


@pytest.mark.parametrize(
    ("key", "value", "field", "expected"),
    [
        ("model.n_experts", 8, "model.n_experts", 8),
        ("model.top_k", 2, "model.top_k", 2),
        ("model.expert_layers", 2, "model.expert_layers", 2),
        ("data.n_clusters", 6, "data.n_clusters", 6),
        ("data.noise", 0.3, "data.noise", 0.3),
    ],
)
def test_each_slider_sets_its_config_field(at, key, value, field, expected):
    at.slider(key=key).set_value(value).run()
    assert not at.exception
    section, name = field.split(".")
    assert getattr(getattr(active_run(at).cfg, section), name) == expected


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("model.router", "switch", "model.router"),
        ("model.router", "expert_choice", "model.router"),
        ("model.normalize", "softmax_topk", "model.normalize"),
        ("model.expert_activation", "tanh", "model.expert_activation"),
        ("train.optimizer", "sgd", "train.optimizer"),
    ],
)
def test_each_choice_sets_its_config_field(at, key, value, field):
    at.selectbox(key=key).set_value(value).run()
    assert not at.exception
    section, name = field.split(".")
    assert getattr(getattr(active_run(at).cfg, section), name) == value


def test_choosing_a_dataset_gives_it_suitable_sizes(at):
    at.selectbox(key="data.name").set_value("digits").run()
    cfg = active_run(at).cfg.data
    assert (cfg.name, cfg.dim, cfg.n_train, cfg.n_test) == ("digits", 64, 1200, 500)
    (routing_map,) = [data for name, data in drawn(at) if name == "moe_live_map"]
    assert routing_map["axes"] == ["PC1", "PC2"]  # 64-dimensional inputs: the map shows the principal components


def test_capacity_toggle_sets_the_capacity_factor(at):
    assert active_run(at).cfg.model.capacity_factor is None
    at.toggle(key="model.capacity_factor:on").set_value(True).run()
    assert active_run(at).cfg.model.capacity_factor == 1.25  # Switch's training value to start from
    at.slider(key="model.capacity_factor:value").set_value(0.5).run()
    assert active_run(at).cfg.model.capacity_factor == 0.5
    at.toggle(key="model.capacity_factor:on").set_value(False).run()
    assert active_run(at).cfg.model.capacity_factor is None


def test_step_advances_and_reset_restores_the_same_weights(at):
    run = active_run(at)
    initial = {k: v.clone() for k, v in run.trainer.model.state_dict().items()}
    for _ in range(3):
        at.button(key="btn.step").click().run()
    assert run.trainer.step_count == 3 and run.baseline.step_count == 3
    assert any("step 3" in m.value for m in at.markdown)
    changed = any(not torch.equal(v, initial[k]) for k, v in run.trainer.model.state_dict().items())
    assert changed
    at.button(key="btn.reset").click().run()
    assert run.trainer.step_count == 0
    for key, value in run.trainer.model.state_dict().items():
        assert torch.equal(value, initial[key])


def test_a_setting_that_needs_a_new_model_starts_a_new_run_and_keeps_the_old_one(at):
    at.button(key="btn.step").click().run()
    first = active_run(at)
    at.slider(key="model.n_experts").set_value(6).run()
    assert len(kept_runs(at)) == 2 and kept_runs(at)[0] is first
    assert active_run(at).trainer.step_count == 0
    assert any("needs a new model" in i.value for i in at.info)


def test_balance_changes_apply_live_without_a_new_run(at):
    at.button(key="btn.step").click().run()
    run = active_run(at)
    at.radio(key="model.balance").set_value("none").run()
    assert active_run(at) is run and run.cfg.model.balance == "none"
    assert run.trainer.events == [(1, "balance aux_loss → none")]
    assert any("without restarting" in i.value for i in at.info)


def test_an_untrained_run_is_replaced_not_kept(at):
    at.slider(key="model.n_experts").set_value(3).run()
    at.slider(key="model.n_experts").set_value(5).run()
    assert len(kept_runs(at)) == 1 and active_run(at).cfg.model.n_experts == 5


def test_new_seed_draws_new_initial_weights(at):
    old = active_run(at)
    at.button(key="btn.seed").click().run()
    new = active_run(at)
    assert new.cfg.train.seed != old.cfg.train.seed
    assert not torch.equal(new.trainer.model.experts.w_in_EDH, old.trainer.model.experts.w_in_EDH)


def test_an_impossible_dataset_setting_is_explained_and_changes_nothing(at):
    at.selectbox(key="data.name").set_value("cluster_signals").run()
    run = active_run(at)
    at.number_input(key="data.dim").set_value(6).run()
    assert any("multiple of 4" in e.value and "current run is unchanged" in e.value for e in at.error)
    assert not at.exception
    assert active_run(at) is run and run.cfg.data.dim == 64


def test_play_starts_the_background_trainer_and_pause_stops_it_at_once(at):
    at.button(key="btn.play").click().run()
    run = active_run(at)
    deadline = time.monotonic() + 30
    while run.trainer.step_count < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.trainer.step_count >= 20
    at.button(key="btn.pause").click().run()
    stopped = run.trainer.step_count
    time.sleep(0.3)
    assert run.trainer.step_count == stopped
    assert not at.exception


def test_a_diverging_run_stops_with_a_message_and_keeps_its_history(at):
    at.selectbox(key="data.name").set_value("clusters_regression").run()
    at.selectbox(key="model.expert_activation").set_value("cubic").run()
    at.selectbox(key="train.optimizer").set_value("sgd").run()
    at.select_slider(key="train.lr").set_value(1.0).run()
    run = active_run(at)
    at.button(key="btn.play").click().run()
    deadline = time.monotonic() + 30
    while run.trainer.diverged is None and time.monotonic() < deadline:
        time.sleep(0.05)
    at.run()
    assert any("Training diverged at step" in e.value and "lower the learning rate" in e.value for e in at.error)
    assert not at.exception
    assert run.trainer.history and all(torch.isfinite(p).all() for p in run.trainer.model.parameters())
    stopped_at = run.trainer.step_count
    at.select_slider(key="train.lr").set_value(0.001).run()  # lower: the same run trains on from there
    assert active_run(at) is run and run.trainer.diverged is None and not any("diverged" in e.value for e in at.error)
    at.button(key="btn.step").click().run()
    assert run.trainer.step_count == stopped_at + 1 and run.trainer.history[0].step == 0  # its history kept
    at.button(key="btn.reset").click().run()
    assert run.trainer.diverged is None and run.trainer.step_count == 0


@pytest.mark.parametrize("normalize", ["softmax_topk", "sigmoid"])
def test_a_top1_gate_renormalised_over_its_one_choice_is_explained(at, normalize):
    assert not any("gate is always 1" in i.value for i in at.info)  # the default keeps a gradient
    at.selectbox(key="model.normalize").set_value(normalize).run()
    assert not at.exception
    assert any("gate is always 1" in i.value for i in at.info)


def test_a_link_opens_its_setup_and_the_page_writes_its_setup_into_the_link():
    changes = {
        "data.name": "moons",
        "data.noise": 0.2,
        "model.n_experts": 6,
        "model.top_k": 2,
        "model.capacity_factor": 0.75,
        "model.balance": "bias",
        "train.lr": 0.003,
        "train.seed": 7,
    }
    cfg = RunConfig().replace(**changes)
    params = url_state.encode(cfg.flat(), {"view.map": "entropy", "view.present": "1"})
    at = open_page(params)
    assert active_run(at).cfg == cfg
    assert at.session_state["ui.map_mode"] == "entropy" and at.session_state["ui.present"]
    assert {key: at.query_params[key] for key in params} == params  # F5 reopens the same
    at.slider(key="model.n_experts").set_value(8).run()
    assert at.query_params["model.n_experts"] == "8"  # the link follows a change


def test_a_link_beyond_the_sliders_usual_range_opens_with_the_slider_widened():
    at = open_page({"model.n_experts": "100", "data.n_test": "6000", "train.lr": "0.002"})
    cfg = active_run(at).cfg
    assert (cfg.model.n_experts, cfg.data.n_test, cfg.train.lr) == (100, 6000, 0.002)
    assert at.slider(key="model.n_experts").max >= 100 and at.slider(key="data.n_test").max >= 6000
    assert "0.002" in at.select_slider(key="train.lr").options  # between 0.001 and 0.003


def test_a_tampered_link_falls_back_to_the_defaults_with_one_sentence():
    at = open_page({"model.top_k": "seven", "model.n_experts": "6", "bogus": "1"})
    assert active_run(at).cfg.model.n_experts == 6 and active_run(at).cfg.model.top_k == 1
    assert any(
        i.value == "The link's model.top_k 'seven', 'bogus' could not be used; those settings keep their defaults."
        for i in at.info
    )


def test_kept_runs_can_be_shown_again_and_forgotten(at):
    at.button(key="btn.step").click().run()
    first = active_run(at)
    at.slider(key="model.n_experts").set_value(6).run()
    second = active_run(at)
    assert second is not first and len(kept_runs(at)) == 2
    at.selectbox(key="ui.run").set_value(first.number).run()
    assert active_run(at) is first and at.session_state["model.n_experts"] == 4 and len(kept_runs(at)) == 2
    at.button(key="btn.delete").click().run()
    assert kept_runs(at) == [second] and at.session_state["model.n_experts"] == 6 and not at.exception


def test_presentation_mode_hides_the_sidebar_and_enlarges_the_charts(at):
    at.toggle(key="ui.present").set_value(True).run()
    assert any('[data-testid="stSidebar"]' in h.proto.body for h in at.get("html"))
    (chart,) = [d for name, d in drawn(at) if name == "moe_live_figure" and "Load share" in str(d["figure"]["layout"])]
    assert chart["figure"]["layout"]["font"]["size"] >= 16
    (routing_map,) = [d for name, d in drawn(at) if name == "moe_live_map"]
    assert routing_map["font"] >= 16
    assert at.query_params["view.present"] == "1"


def test_a_link_with_impossible_data_keeps_the_other_settings_and_says_why_in_one_sentence():
    at = open_page({"data.name": "cluster_signals", "data.dim": "6", "model.n_experts": "6"})
    assert active_run(at).cfg.data.name == "clusters" and active_run(at).cfg.model.n_experts == 6
    (said,) = [i.value for i in at.info if i.value.startswith("The link's")]
    assert said.startswith("The link's data settings (cluster_signals needs data.dim to be a multiple of 4")
    assert said.endswith("got 6) could not be used; those settings keep their defaults.")


def test_the_replay_slider_redraws_every_view_at_a_past_step_until_back_to_live(at):
    assert "ui.replay" not in [s.key for s in at.select_slider]  # nothing to replay at step 0
    for _ in range(3):
        at.button(key="btn.step").click().run()
    run = active_run(at)
    live = {k: v.clone() for k, v in run.trainer.model.state_dict().items()}
    timeline = at.select_slider(key="ui.replay")
    assert list(timeline.options) == ["0", "1", "2", "3 (now)"] and timeline.value == 3
    timeline.set_value(1).run()
    assert not at.exception
    (routing_map,) = [d for name, d in drawn(at) if name == "moe_live_map"]
    assert routing_map["step"] == 1 and any(m.value.startswith("**step 1** · replay") for m in at.markdown)
    (load,) = [d["figure"] for _, d in drawn(at) if "Load share" in str(d.get("figure", {}).get("layout"))]
    steps = load["data"][0]["x"]  # a typed array, as plotly.js receives it
    assert np.frombuffer(base64.b64decode(steps["bdata"]), steps["dtype"]).max() == 3  # the whole curve,
    assert [s["x0"] for s in load["layout"]["shapes"] if s["type"] == "line"] == [1]  # a cursor at step 1
    assert "Download the weights at step 1 (.safetensors)" in [b.proto.label for b in at.get("download_button")]
    assert all(torch.equal(run.trainer.model.state_dict()[k], v) for k, v in live.items())  # the live model untouched
    at.button(key="btn.live").click().run()
    (routing_map,) = [d for name, d in drawn(at) if name == "moe_live_map"]
    assert routing_map["step"] == 3 and at.select_slider(key="ui.replay").value == 3


def test_play_returns_from_a_replayed_step_to_the_run_now(at):
    for _ in range(2):
        at.button(key="btn.step").click().run()
    at.select_slider(key="ui.replay").set_value(0).run()
    at.button(key="btn.play").click().run()
    run = active_run(at)
    assert "ui.replay" not in [s.key for s in at.select_slider]  # no timeline while training
    at.button(key="btn.pause").click().run()
    (routing_map,) = [d for name, d in drawn(at) if name == "moe_live_map"]
    assert routing_map["step"] == run.trainer.step_count > 2 and not at.exception


@pytest.mark.parametrize(
    ("changes", "view", "title"),
    [
        ({"model.router": "top_p", "model.n_experts": 6}, "experts_per_point", "how many experts each region uses"),
        ({"model.router": "hierarchical", "model.n_experts": 6, "model.n_groups": 3}, "group", "which group"),
    ],
)
def test_a_routers_own_map_view_is_offered_with_that_router_only(changes, view, title):
    cfg = RunConfig().replace(**changes)
    at = open_page(url_state.encode(cfg.flat(), {"view.map": view}))
    assert MAP_MODES[view] in at.segmented_control(key="ui.map_mode").options
    assert at.session_state["ui.map_mode"] == view
    (spec,) = [data for name, data in drawn(at) if name == "moe_live_map"]
    assert title in spec["title"] and spec["legend"]
    at.selectbox(key="model.router").set_value("topk").run()  # a router without that view: back to the winner
    assert MAP_MODES[view] not in at.segmented_control(key="ui.map_mode").options
    assert at.session_state["ui.map_mode"] == "expert" and not at.exception


def test_mixed_experts_show_each_kinds_share_and_cost_and_name_their_kind_on_the_map():
    cfg = RunConfig().replace(**{"model.expert_kind": "mixed", "model.expert_mix": "linear,16", "model.n_experts": 4})
    at = open_page(url_state.encode(cfg.flat(), {}))
    at.button(key="btn.step").click().run()
    assert "Expert kinds: work and cost" in titles(at)
    (spec,) = [data for name, data in drawn(at) if name == "moe_live_map"]
    assert [row["label"] for row in spec["legend"]] == ["E0 linear", "E1 MLP 16 relu", "E2 linear", "E3 MLP 16 relu"]
    at.text_input(key="model.expert_mix").set_value("linear,16,8").run()  # 3 kinds for 4 experts: one sentence
    assert any("multiple of 3" in e.value for e in at.error) and not at.exception


def test_soft_moe_says_how_to_read_its_map_and_attention_shows_its_shares_in_the_inspector():
    at = open_page(url_state.encode(RunConfig().replace(**{"model.router": "soft"}).flat(), {}))
    assert any("Soft MoE: no point is routed" in i.value for i in at.info) and not at.exception
    cfg = RunConfig().replace(**{"model.combine": "attention", "model.top_k": 2})
    at = open_page(url_state.encode(cfg.flat(), {}))
    at.session_state["inspect.point"] = 3
    at.run()
    (table,) = at.dataframe
    assert "share" in table.value.columns and not at.exception  # attention re-weighs the chosen experts


def test_the_split_and_remove_buttons_resize_the_run_without_starting_a_new_one(at):
    at.button(key="btn.step").click().run()
    run = active_run(at)
    at.button(key="btn.split").click().run()
    assert active_run(at) is run and run.cfg.model.n_experts == 5 and not at.exception
    assert any(text.startswith("split E") for _, text in run.trainer.events)
    at.button(key="btn.remove").click().run()
    assert active_run(at) is run and run.cfg.model.n_experts == 4 and len(kept_runs(at)) == 1


def test_a_scheduled_run_that_shifts_shows_the_schedule_and_marks_the_shift():
    changes = {"model.gate_noise": 1.0, "train.noise_schedule": "linear", "train.anneal_steps": 200,
               "data.shift_step": 100, "data.n_train": 400}  # fmt: skip
    at = open_page(url_state.encode(RunConfig().replace(**changes).flat(), {}))
    run = active_run(at)
    for _ in range(6):
        run.advance(50)
        run.snapshot()
    at.run()
    (collapse,) = [data["figure"] for _, data in drawn(at) if data.get("figure", {}).get("layout", {}).get("title", {})
                   .get("text") == "Collapse watch"]  # fmt: skip
    notes = [a["text"] for a in collapse["layout"]["annotations"]]
    assert any("What the schedule sets" in text for text in notes)
    assert (100, "data shift: clusters move") in run.trainer.events and not at.exception


def change_notices(at: AppTest) -> list[str]:
    return [i.value for i in at.info if "without restarting" in i.value or "needs a new model" in i.value]


def test_a_live_change_that_shows_slowly_says_so_and_stays_through_play_until_closed_or_reset(at):
    at.button(key="btn.step").click().run()
    at.radio(key="model.balance").set_value("none").run()
    (said,) = change_notices(at)
    assert said.startswith("Applied at step 1 without restarting: balance aux_loss → none. Balancing off")
    assert "Press Reset to watch a run train without balancing from step 0" in said
    at.button(key="btn.play").click().run()
    at.button(key="btn.pause").click().run()
    assert change_notices(at) == [said]  # Play and Pause keep it
    at.button(key="btn.notice_close").click().run()
    assert change_notices(at) == [] and not at.exception
    at.radio(key="model.balance").set_value("aux_loss").run()
    assert len(change_notices(at)) == 1  # the next change says its own
    at.button(key="btn.reset").click().run()
    assert change_notices(at) == [] and not at.exception


def test_more_experts_on_an_untrained_run_says_a_new_model_started(at):
    at.slider(key="model.n_experts").set_value(8).run()
    assert change_notices(at) == ["Started run 1 again at step 0: Experts 4 → 8 needs a new model."]
    at.run()
    assert len(change_notices(at)) == 1 and active_run(at).cfg.model.n_experts == 8 and not at.exception


def test_while_an_uploaded_csv_waits_for_its_target_the_old_runs_views_are_not_shown(at):
    assert "moe_live_map" in [name for name, _ in drawn(at)]
    at.selectbox(key="ui.sample").set_value("iris.csv").run()
    assert [i.value for i in at.info] == [
        "Loaded iris.csv, but no column is named y, label or target: choose the one to predict in the sidebar, "
        "Data → Target column (sepal_length, sepal_width, petal_length, petal_width, species)."
    ]
    assert drawn(at) == [] and not at.main.button and not at.error  # no map, no toolbar, no old run's notice
    at.selectbox(key="data.target").set_value("species").run()
    assert active_run(at).cfg.data.target == "species" and "moe_live_map" in [name for name, _ in drawn(at)]
    assert not at.exception


def test_step_ten_and_a_hundred_train_that_many_steps_with_a_snapshot_at_each_step_of_the_start(at):
    at.button(key="btn.step10").click().run()
    run = active_run(at)
    assert run.trainer.step_count == 10 and any(m.value.startswith("**step 10**") for m in at.markdown)
    at.button(key="btn.step100").click().run()
    steps = [m.step for m in run.trainer.history]
    assert run.trainer.step_count == 110 and steps[:101] == list(range(101)) and steps[-1] == 110
    assert list(at.select_slider(key="ui.replay").options)[:3] == ["0", "1", "2"] and not at.exception


def test_the_chosen_speed_and_then_pause_reach_the_trainer_and_the_link(at):
    run = active_run(at)
    at.selectbox(key="ui.speed").set_value("10").run()
    at.button(key="btn.play").click().run()
    time.sleep(1.0)
    assert 5 <= run.trainer.step_count <= 15  # about ten a second, not hundreds
    at.button(key="btn.pause").click().run()
    assert at.query_params["view.speed"] == "10"
    at.selectbox(key="ui.speed").set_value("full").run()
    at.selectbox(key="ui.play_for").set_value(100).run()
    start = run.trainer.step_count
    at.button(key="btn.play").click().run()
    deadline = time.monotonic() + 30
    while at.session_state["runs"].active.trainer.step_count < start + 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)
    at.run()
    assert run.trainer.step_count == start + 100 and not at.button(key="btn.play").disabled  # paused by itself


def test_the_replay_bar_is_drawn_disabled_while_playing_so_nothing_below_moves(at):
    assert at.select_slider(key="ui.replay_idle").disabled  # step 0: nothing to replay yet, but its place is kept
    at.button(key="btn.play").click().run()
    assert at.select_slider(key="ui.replay_idle").disabled
    at.button(key="btn.pause").click().run()
    assert "ui.replay_idle" not in [s.key for s in at.select_slider] and at.select_slider(key="ui.replay").options


def test_each_control_with_a_key_names_it_in_its_tooltip(at):
    helps = {b.key: b.help for b in at.button}
    assert "(Space)" in helps["btn.play"] and "(Space)" in helps["btn.pause"]
    assert "(S)" in helps["btn.step"] and "(R)" in helps["btn.reset"]


def test_a_link_naming_a_bundled_csv_opens_it_with_its_target_and_the_target_picker_lists_its_columns():
    at = open_page({"data.name": "csv", "data.csv_path": "iris.csv", "data.target": "species"})
    run = active_run(at)
    assert run.cfg.data.name == "csv" and run.cfg.data.target == "species" and run.trainer.data.n_classes == 3
    assert "species" in at.selectbox(key="data.target").options and not at.error
