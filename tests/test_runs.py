"""A session's runs and its worker, without Streamlit: pausing at once, settings changed while playing,
the run limit, the worker's end, and the speed readout."""

import threading
import time

import numpy as np
import pytest

from moe_core.settings.config import ConfigError, RunConfig, run_label
from moe_core.training.trainer import Trainer
from moe_explorer_app.state import runs as runs_module
from moe_explorer_app.state.runs import MAX_RUNS, Run, RunBook, SnapshotSchedule
from moe_explorer_app.state.worker import Worker
from tests.runs_support import SMALL, make_run, wait_until


def test_a_live_setting_changed_while_playing_applies_at_its_step_and_training_goes_on(worker):
    book = RunBook(make_run)
    book.sync(RunConfig().replace(**SMALL), True, worker)
    run = book.active
    worker.play(run)
    wait_until(lambda: run.trainer.step_count > 50)
    notice = book.sync(run.cfg.replace(**{"model.balance": "none", "train.lr": 0.003}), True, worker)
    assert notice.startswith("Applied at step") and book.active is run and worker.playing
    (step, text), _ = run.trainer.events
    assert text == "balance aux_loss → none" and step > 50
    assert run.trainer.model.router.cfg.balance == "none" and run.baseline.cfg.train.lr == 0.003
    wait_until(lambda: run.trainer.step_count > step + 50)


def test_a_setting_that_needs_a_new_model_keeps_the_trained_run_and_plays_the_new_one(worker):
    book = RunBook(make_run)
    book.sync(RunConfig().replace(**SMALL), False, worker)
    first = book.active
    first.advance(3)
    worker.play(first)
    notice = book.sync(first.cfg.replace(**{"model.n_experts": 6}), False, worker)
    assert "started run 2" in notice and "run 1 is kept" in notice
    assert book.runs == [first, book.active] and worker.run is book.active and worker.playing


def test_an_untrained_run_is_replaced_and_keeps_its_number(worker):
    book = RunBook(make_run)
    for n in (3, 5, 7):
        book.sync(RunConfig().replace(**SMALL, **{"model.n_experts": n}), False, worker)
    assert len(book.runs) == 1 and book.active.number == 1 and book.active.cfg.model.n_experts == 7


def test_past_the_limit_the_oldest_run_goes_with_a_notice(worker):
    book = RunBook(make_run)
    notices = []
    for seed in range(MAX_RUNS + 1):
        notices.append(book.sync(RunConfig().replace(**SMALL, **{"train.seed": seed}), False, worker))
        book.active.advance(1)
    assert [r.number for r in book.runs] == list(range(2, MAX_RUNS + 2))
    assert f"Run 1 was removed to keep memory bounded ({MAX_RUNS} runs at most)" in notices[-1]
    assert not any("removed" in (n or "") for n in notices[:-1])


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_speed_readout_is_steps_over_the_last_two_seconds_and_zero_when_idle():
    clock = Clock()
    run = Run(1, Trainer(RunConfig().replace(**SMALL)), None, clock=clock)
    assert run.steps_per_second() == 0.0
    for t in (0.0, 0.5, 1.0):
        clock.now = t
        run.advance(10)
    assert run.steps_per_second() == pytest.approx(20.0)  # 20 steps between t = 0 and t = 1
    clock.now = 2.7
    run.advance(5)
    assert run.steps_per_second() == pytest.approx(5 / 1.7)  # the chunks at t = 0 and 0.5 left the window
    clock.now = 3.3
    assert run.steps_per_second() == 0.0  # nothing for over half a second: paused


def test_the_readout_can_be_read_while_the_worker_writes():
    # The worker appends to the rate record while the page reads it; unguarded, iterating it raised
    # "deque mutated during iteration" within seconds.
    run = Run(1, Trainer(RunConfig().replace(**SMALL)), None)
    stop = threading.Event()
    errors = []

    def write() -> None:
        while not stop.is_set():
            run.advance(1)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                run.steps_per_second()
            except RuntimeError as err:
                errors.append(err)
    finally:
        stop.set()
        writer.join()
    assert errors == []


@pytest.mark.parametrize(
    ("changes", "label"),
    [
        ({}, "clusters, 4 experts, top-1, aux_loss"),
        ({"model.top_k": 2}, "clusters, 4 experts, top-2, aux_loss"),
        (
            {"model.router": "switch", "model.capacity_factor": 0.5},
            "clusters, 4 experts, Switch top-1, capacity 0.5, aux_loss",
        ),
        ({"model.top_k": 2, "model.normalize": "softmax_topk"}, "clusters, 4 experts, top-2 softmax_topk, aux_loss"),
        ({"model.router": "expert_choice"}, "clusters, 4 experts, expert choice, aux_loss"),
        ({"model.router": "dense", "model.balance": "none"}, "clusters, 4 experts, dense gating, none"),
        ({"model.arch": "dense"}, "clusters, dense MLP"),
    ],
)
def test_a_run_label_names_what_each_point_gets(changes, label):
    assert run_label(RunConfig().replace(**changes)) == label


def test_a_run_that_cannot_be_built_leaves_the_session_as_it_was(worker):
    def make_or_fail(number: int, cfg: RunConfig, with_baseline: bool) -> Run:
        if cfg.model.n_experts == 5:
            raise ConfigError("no five-expert runs in this test.")
        return make_run(number, cfg, with_baseline)

    book = RunBook(make_or_fail)
    book.sync(RunConfig().replace(**SMALL), False, worker)
    first = book.active
    worker.play(first)
    with pytest.raises(ConfigError):
        book.sync(first.cfg.replace(**{"model.n_experts": 5}), False, worker)
    assert book.runs == [first] and worker.playing and worker.run is first


def test_a_run_added_for_a_comparison_leaves_the_active_run_active(worker):
    book = RunBook(make_run, limit=3)
    book.sync(RunConfig().replace(**SMALL), False, worker)
    active = book.active
    added, notice = book.add(active.cfg.replace(**{"model.top_k": 2}), False, worker)
    assert book.active is active and book.runs == [added, active] and notice is None
    assert added.number == 2 and added.cfg.model.top_k == 2
    book.add(active.cfg, False, worker)
    worker.play_together([added, active])
    _, notice = book.add(active.cfg, False, worker)
    assert len(book.runs) == 3 and book.active is active and added not in book.runs
    assert notice == "Run 2 was removed to keep memory bounded (3 runs at most)."
    assert worker.runs == [active]  # the removed run no longer trains


def test_a_run_whose_experts_split_is_still_the_run_the_sidebar_describes():
    runs = RunBook(lambda number, cfg, baseline: Run(number, Trainer(cfg), None))
    worker = Worker()
    cfg = RunConfig().replace(**{"data.n_train": 300, "data.n_test": 100})
    runs.sync(cfg, False, worker)
    run = runs.active
    run.advance(5)
    assert run.resize(True, 0) == "split E0 into E0 and E4" and run.cfg.model.n_experts == 5
    assert runs.sync(cfg, False, worker) is None and runs.active is run  # the same settings: nothing to do
    notice = runs.sync(cfg.replace(**{"train.lr": 0.003}), False, worker)  # a live change reaches the grown run
    assert notice.startswith("Applied at step 5") and run.cfg.train.lr == 0.003 and run.cfg.model.n_experts == 5
    worker.stop()


def test_past_the_servers_limit_a_new_run_is_refused_with_a_sentence_and_nothing_changes(monkeypatch):
    monkeypatch.setattr(runs_module, "SERVER_RUNS", RunBook.server_runs() + 2)
    make = lambda number, cfg, baseline: Run(number, Trainer(cfg), None)  # noqa: E731
    cfg = RunConfig().replace(**{"data.n_train": 200, "data.n_test": 100})
    first, second, worker = RunBook(make), RunBook(make), Worker()
    first.sync(cfg, False, worker)
    second.sync(cfg, False, worker)  # two sessions: the server is full
    second.active.advance(1)
    with pytest.raises(ConfigError, match="holds its limit of"):
        second.sync(cfg.replace(**{"model.n_experts": 8}), False, worker)  # a new model: a new run, refused
    assert len(second.runs) == 1 and second.active.cfg.model.n_experts == 4
    replaced = first.sync(cfg.replace(**{"model.n_experts": 8}), False, worker)  # an untrained run is replaced
    assert replaced == "Started run 1 again at step 0: Experts 4 → 8 needs a new model."
    worker.stop()


def test_balancing_turned_off_on_a_trained_run_says_why_nothing_moves_and_the_sentence_stays_until_reset(worker):
    book = RunBook(make_run)
    book.sync(RunConfig().replace(**SMALL), False, worker)
    run = book.active
    run.advance(20)
    notice = book.sync(run.cfg.replace(**{"model.balance": "none"}), False, worker)
    assert notice.startswith("Applied at step 20 without restarting: balance aux_loss → none. Balancing off")
    assert "Press Reset to watch a run train without balancing from step 0" in notice
    assert book.sync(run.cfg, False, worker) is None and book.notice == notice  # the next page run: still said
    run.advance(30)
    run.snapshot()
    assert book.notice == notice  # Play: still said
    run.reset()
    assert book.notice is None


def test_a_new_model_is_said_also_for_an_untrained_run_and_the_sentence_follows_its_run(worker):
    book = RunBook(make_run)
    book.sync(RunConfig().replace(**SMALL), False, worker)
    replaced = book.sync(RunConfig().replace(**SMALL, **{"model.n_experts": 8}), False, worker)
    assert replaced == "Started run 1 again at step 0: Experts 4 → 8 needs a new model." == book.notice
    book.active.advance(2)
    kept = book.sync(book.active.cfg.replace(**{"model.n_experts": 4}), False, worker)
    assert kept == "Experts 8 → 4 needs a new model: started run 2 at step 0 (run 1 is kept)." == book.notice
    book.activate(1, worker)
    assert book.notice is None  # it is about run 2
    book.activate(2, worker)
    assert book.notice == kept
    book.dismiss_notice()
    assert book.notice is None


def test_a_run_snapshots_every_step_of_its_start_then_less_often_as_the_step_grows():
    run = Run(1, Trainer(RunConfig().replace(**SMALL)), None, clock=Clock())  # a standing clock: steps alone
    run.snapshot()
    while run.trainer.step_count < 1000:
        run.advance(37)  # in chunks, as the worker trains
    steps = [m.step for m in run.trainer.history]
    assert steps[:101] == list(range(101))  # where routing forms and collapses: every step
    gaps = np.diff(steps)
    assert set(gaps[100:110]) == {2} and 17 <= gaps[-2] <= 20  # then about 2% of the step: 2 at 100, 19 at 950
    assert len(steps) < 250
    assert run.timeline.steps()[:101] == list(range(101))


def test_at_a_slow_speed_a_run_still_snapshots_every_fifth_of_a_second():
    clock = Clock()
    run = Run(1, Trainer(RunConfig().replace(**SMALL)), None, clock=clock)
    run.snapshot()
    run.advance(300)
    for _ in range(3):  # at 3 steps a second the schedule's gap of 3 steps would leave the charts a second behind
        clock.now += 0.3
        run.advance(1)
    assert [m.step for m in run.trainer.history][-3:] == [301, 302, 303]


def test_past_the_start_a_scheduled_snapshot_waits_while_measuring_would_take_over_a_fifth_of_the_time():
    schedule = SnapshotSchedule()
    assert schedule.due(50, 49, waited=0.0, cost=1.0)  # the start: every step, whatever it costs
    assert not schedule.due(151, 149, waited=0.004, cost=0.004)  # measuring would take half the time
    assert schedule.due(151, 149, waited=0.016, cost=0.004)  # a fifth of it
    assert not schedule.due(1010, 1000, waited=0.1, cost=0.0) and schedule.due(1020, 1000, waited=0.1, cost=0.0)
    assert schedule.due(1005, 1000, waited=0.2, cost=0.0)  # fresh charts, whatever the schedule
    assert not schedule.due(50, 50, waited=1.0, cost=0.0)  # one snapshot a step
