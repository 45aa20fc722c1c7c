"""The worker thread, without Streamlit: a Pause returns once no further step can run and acts after
the step in progress, several runs train in turn and pause at one step, an error stops its run with a
sentence, and the thread ends with its session."""

import threading
import time

from moe_core.settings.config import RunConfig
from moe_core.training.trainer import Trainer
from moe_explorer_app.state.runs import Run
from moe_explorer_app.state.worker import Worker
from tests.runs_support import SMALL, make_run, wait_until


def test_pause_returns_only_once_no_further_step_can_run(worker):
    # Large steps make each chunk long (tens of milliseconds), so a pause that did not wait for the
    # chunk in progress would let the count move after it returned: over ten pauses, one would.
    cfg = RunConfig().replace(**SMALL, **{"train.batch_size": 2048, "model.n_experts": 32, "model.top_k": 2})
    run = make_run(1, cfg, False)
    for _ in range(10):
        before = run.trainer.step_count
        worker.play(run)
        wait_until(lambda b=before: run.trainer.step_count > b)
        started = time.perf_counter()
        worker.pause()
        waited = time.perf_counter() - started
        stopped = run.trainer.step_count
        time.sleep(0.15)
        assert run.trainer.step_count == stopped and not worker.playing
        assert waited < 1.0  # at most one chunk


def test_stopping_the_worker_ends_its_thread_even_while_playing():
    w = Worker()
    w.play(make_run(1, RunConfig().replace(**SMALL), False))
    wait_until(lambda: w.run.trainer.step_count > 0)
    w.stop()
    assert not w.alive


def test_several_runs_train_in_turn_and_pause_together(worker):
    runs = [make_run(n, RunConfig().replace(**SMALL, **{"train.seed": n}), False) for n in (1, 2, 3)]
    worker.play_together(runs)
    wait_until(lambda: all(run.trainer.step_count > 20 for run in runs))
    worker.pause()
    stopped = [run.trainer.step_count for run in runs]
    time.sleep(0.15)
    assert [run.trainer.step_count for run in runs] == stopped and not worker.playing
    assert len(set(stopped)) == 1  # paused in step: those behind trained up to the leader's step
    assert [run.trainer.history[-1].step for run in runs] == stopped  # the record ends where it stopped
    worker.play_together(runs)
    worker.forget(runs[1])  # deleting a run takes it out; the others go on
    held = runs[1].trainer.step_count
    wait_until(lambda: runs[0].trainer.step_count > stopped[0] + 20)
    assert runs[1].trainer.step_count == held and worker.runs == [runs[0], runs[2]] and worker.playing


def test_an_error_while_training_stops_that_run_with_a_sentence_and_the_worker_lives_on():
    run = Run(1, Trainer(RunConfig().replace(**{"data.n_train": 300, "data.n_test": 100})), None)
    real_step, calls = run.trainer.step, []

    def failing_once(n, stop=None):  # a fault injected into the real trainer: the first chunk raises
        calls.append(n)
        if len(calls) == 1:
            raise RuntimeError("out of\nmemory")
        return real_step(n, stop)

    run.trainer.step = failing_once
    worker = Worker()
    worker.play(run)
    deadline = time.monotonic() + 10
    while run.fault is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert run.fault.startswith("Training stopped at step 0 on an error (RuntimeError: out of\\nmemory)")
    assert "\n" not in run.fault and worker.alive and not worker.playing
    worker.play(run)  # Play tries again, and the run trains on
    while run.trainer.step_count == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.pause()
    assert run.fault is None and run.trainer.step_count > 0 and worker.alive
    worker.stop()


def test_pause_stops_a_chunk_after_the_step_in_progress_not_at_its_end():
    run = Run(1, Trainer(RunConfig().replace(**SMALL)), None)
    worker = Worker()
    worker._chunk = 10**6  # a chunk that would take many minutes to finish
    asked, pausing = [], worker._pausing
    worker._pausing = lambda: asked.append(1) or pausing()  # counts the checks between steps
    worker.play(run)
    wait_until(lambda: len(asked) >= 5)  # inside the chunk, five steps in
    stopping = threading.Thread(target=worker.pause)
    stopping.start()
    stopping.join(timeout=30)
    assert not stopping.is_alive(), "Pause waited for the whole chunk"
    assert 5 <= run.trainer.step_count < 10**6 and not worker.playing
    worker.stop()


def test_at_a_chosen_speed_the_worker_trains_that_many_steps_a_second_and_the_readout_says_so(worker):
    run = make_run(1, RunConfig().replace(**SMALL), False)
    worker.play(run, speed=20.0)
    time.sleep(1.5)
    stepped, rate = run.trainer.step_count, run.steps_per_second()
    assert 25 <= stepped <= 33 and 16 <= rate <= 24  # 1 + 1.5 s x 20, with the machine's slack
    worker.set_speed(None)  # full speed from now on: far more than 20 a second
    started = time.perf_counter()
    wait_until(lambda: run.trainer.step_count > stepped + 100)
    assert time.perf_counter() - started < 2.5
    worker.play(run, speed=5.0)
    time.sleep(0.5)
    started = time.perf_counter()
    worker.pause()  # waits for no step: the worker naps between paced steps outside the run's lock
    waited, held = time.perf_counter() - started, run.trainer.step_count
    time.sleep(0.5)
    assert waited < 0.1 and run.trainer.step_count == held and not worker.playing


def test_play_for_n_steps_pauses_by_itself_at_that_step_with_a_snapshot_there(worker):
    run = make_run(1, RunConfig().replace(**SMALL), False)
    for target in (30, 60):
        worker.play(run, steps=30)
        wait_until(lambda: not worker.playing)
        assert run.trainer.step_count == target and run.trainer.history[-1].step == target
    worker.play(run, speed=50.0)
    worker.pause_after(10)  # chosen while playing: ten steps from now
    wait_until(lambda: not worker.playing)
    assert 70 <= run.trainer.step_count <= 72


class LowerRateOnRelease:
    """A run's lock that, the first time it is released on a diverged run, lowers the learning rate as
    the page would at that instant (a live change waits for the lock, then clears the divergence)."""

    def __init__(self, run_box: list, lower: RunConfig) -> None:
        self._lock, self._box, self._lower, self.fired = threading.RLock(), run_box, lower, False
        self._depth = 0  # how deep the holding thread has entered (an RLock is re-entered inside a chunk)

    def __enter__(self):
        self._lock.acquire()
        self._depth += 1
        return self

    def __exit__(self, *exc):
        self._depth -= 1
        released = self._depth == 0
        self._lock.release()
        run = self._box[0]
        if released and not self.fired and run.trainer.diverged is not None:
            self.fired = True
            with self:
                run.trainer.apply_live(self._lower)
        return False


def test_a_diverged_run_whose_rate_is_lowered_waits_for_play_and_does_not_train_on_by_itself(worker):
    # A cubic expert at lr 1 with plain SGD blows up within a few dozen steps (test_app measures the same run).
    # (on its default 2,000 points; on 300 it trains on).
    cfg = RunConfig().replace(**{"data.name": "clusters_regression", "model.expert_activation": "cubic",
                                 "train.optimizer": "sgd", "train.lr": 1.0})  # fmt: skip
    box: list = []
    lock = LowerRateOnRelease(box, cfg.replace(**{"train.lr": 0.001}))
    run = Run(1, Trainer(cfg), None, lock=lock)
    box.append(run)
    run.snapshot()
    worker.play(run)
    wait_until(lambda: lock.fired)
    wait_until(lambda: not worker.playing, seconds=5)
    stopped = run.trainer.step_count
    time.sleep(0.3)
    assert run.trainer.diverged is None and run.trainer.step_count == stopped and worker.runs == []
