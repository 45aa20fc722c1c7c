import math
import warnings

import pytest
import torch

from moe_core import runtime
from moe_core.datasets import with_dataset_defaults
from moe_core.datasets.dataset import make_dataset
from moe_core.errors import ConfigError
from moe_core.layer.balance.aux_loss import AuxLoss
from moe_core.layer.balance.base import Balance
from moe_core.layer.fast import FAST
from moe_core.layer.reference import REFERENCE
from moe_core.settings.config import RunConfig
from moe_core.settings.table import LIVE_KEYS
from moe_core.training import trainer as train_module
from moe_core.training.divergence import ROLLBACK_STEPS
from moe_core.training.trainer import Trainer, resolve_device


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The product's CPU setting, which the CLI and the app apply through runtime.configure and the
    Trainer no longer does: one thread is the fastest for these small steps, and the thresholds below
    were measured with it. Restored afterwards, for the other test files."""
    before = torch.get_num_threads()
    runtime.configure(1, keep_memory=False)
    yield
    torch.set_num_threads(before)


def small(**changes) -> RunConfig:
    base = {"data.n_train": 400, "data.n_test": 200, "train.steps": 50}
    return RunConfig().replace(**{**base, **changes})


def test_top1_with_aux_loss_specialises_where_no_balancing_collapses():
    # Measured on seeds 0-3 (README): aux NMI 0.96-0.99, none 0.79-0.86.
    common = {"data.noise": 0.02, "model.gate_noise": 0.0}
    balanced = Trainer(RunConfig().replace(**common, **{"model.balance": "aux_loss"})).fit(1500).metrics
    unbalanced = Trainer(RunConfig().replace(**common, **{"model.balance": "none"})).fit(1500).metrics
    assert balanced.test_accuracy > 0.95
    assert balanced.cluster_nmi > 0.93 and balanced.load_entropy > 0.95 and balanced.dead_experts == 0
    assert unbalanced.load_entropy < 0.85 and unbalanced.dead_experts >= 1
    assert balanced.cluster_nmi > unbalanced.cluster_nmi + 0.08


def test_digits_collapse_onto_one_expert_without_balancing_and_recover_with_it():
    data = {f"data.{k}": v for k, v in with_dataset_defaults({"name": "digits"}).items()}
    none = Trainer(RunConfig().replace(**data, **{"model.balance": "none"})).fit(400).metrics
    aux = Trainer(RunConfig().replace(**data, **{"model.balance": "aux_loss"})).fit(400).metrics
    assert none.effective_experts < 1.2 and none.dead_experts == 3
    assert aux.effective_experts > 3.5 and aux.test_accuracy > 0.85


def test_bias_balancing_evens_the_load_without_an_auxiliary_loss():
    cfg = {"data.name": "digits", "data.dim": 64, "data.n_train": 1200, "data.n_test": 597}
    none = Trainer(RunConfig().replace(**cfg, **{"model.balance": "none"})).fit(400).metrics
    bias = Trainer(RunConfig().replace(**cfg, **{"model.balance": "bias", "model.bias_update_rate": 0.01})).fit(400)
    assert bias.metrics.load_entropy > none.load_entropy + 0.3


def test_reset_restores_the_same_weights_and_the_same_training():
    trainer = Trainer(small(**{"model.gate_noise": 0.5}))
    first_weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    first = trainer.step(30).loss
    trainer.snapshot()
    trainer.reset()
    assert trainer.step_count == 0 and trainer.history == []
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(value, first_weights[key])
    assert trainer.step(30).loss == first


def test_the_same_seed_trains_the_same_run_and_another_seed_does_not():
    a, b = Trainer(small()).step(20).loss, Trainer(small()).step(20).loss
    c = Trainer(small(**{"train.seed": 1})).step(20).loss
    assert a == b and a != c


@pytest.mark.parametrize(("optimizer", "lr"), [("sgd", 1e6), ("adam", 1e30)])  # Adam's steps are about lr
def test_a_diverging_run_stops_names_the_step_and_keeps_good_weights_and_history(optimizer, lr):
    trainer = Trainer(small(**{"train.lr": lr, "train.optimizer": optimizer}))
    trainer.snapshot()
    optimizer_state = trainer.optimizer.state_dict()
    report = trainer.step(50)
    assert report.diverged is not None and "Training diverged at step" in report.diverged
    assert "lower the learning rate" in report.diverged
    bad_step = int(report.diverged.split("step ")[1].split(":")[0])
    assert 1 <= bad_step <= 50 and trainer.diverged_at == bad_step
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    assert len(trainer.history) == 1 and trainer.step_count == 0
    assert trainer.optimizer.state_dict()["state"].keys() == optimizer_state["state"].keys()  # restored as it was
    assert trainer.step(5).diverged == report.diverged  # stays stopped until reset
    trainer.snapshot()  # the kept weights still evaluate
    assert math.isfinite(trainer.history[-1].test_loss)


RUNS = [
    {"model.router": "topk", "model.top_k": 2, "model.normalize": "softmax_topk"},
    {"model.router": "topk", "model.normalize": "sigmoid", "model.balance": "bias"},
    {"model.router": "noisy_topk", "model.gate_noise": 1.0, "model.balance": "importance", "model.top_k": 2},
    {"model.router": "switch", "model.capacity_factor": 1.0},
    {"model.router": "expert_choice"},
    {"model.router": "dense", "model.objective": "mixture"},
    {"model.router": "hash", "model.top_k": 2},
    {"model.n_experts": 1},
    {"model.gate_hidden": 8, "model.z_loss_coef": 0.001, "model.shared_experts": 1},
    {"model.expert_layers": 2, "model.expert_activation": "cubic", "train.optimizer": "adamw"},
    {"model.arch": "dense"},
    {"data.name": "clusters_regression"},
    {"data.name": "clusters_regression", "model.objective": "mixture", "model.top_k": 2},
    {"data.name": "cluster_single_index", "data.dim": 16},
    {"data.name": "xor", "data.dim": 5, "model.router": "expert_choice", "model.capacity_factor": 0.5},
]


@pytest.mark.parametrize("changes", RUNS)
def test_every_router_strategy_and_task_trains_and_measures(changes):
    trainer = Trainer(small(**changes))
    before = trainer.snapshot().metrics.train_loss
    trainer.step(60)
    snap = trainer.snapshot(grid_resolution=12)
    m = snap.metrics
    assert trainer.diverged is None and m.step == 60
    assert m.train_loss < before
    assert snap.grid.output_RR.shape == (12, 12)
    if changes.get("model.arch") == "dense":
        assert m.load_share is None and snap.grid.winner_RR is None
    else:
        assert sum(m.load_share) == pytest.approx(1.0)
        assert 0 <= m.load_entropy <= 1 + 1e-9 and 0 <= m.drop_rate <= 1
        assert snap.grid.winner_RR.dtype.name == "uint8"
        assert m.flip_rate is not None  # second snapshot of the run
    if trainer.data.task == "regression":
        assert m.test_accuracy is None


def test_capacity_drops_show_in_the_metrics():
    trainer = Trainer(small(**{"model.router": "switch", "model.capacity_factor": 0.5, "model.balance": "none"}))
    m = trainer.snapshot().metrics
    assert m.drop_rate > 0.3 and m.unrouted_rate == pytest.approx(m.drop_rate)


def test_fit_snapshots_along_the_way():
    trainer = Trainer(small())
    trainer.fit(40, snapshot_every=10)
    assert [m.step for m in trainer.history] == [10, 20, 30, 40]


def test_live_settings_apply_mid_run_and_are_logged():
    trainer = Trainer(small(**{"model.balance": "none"}))
    assert type(trainer.model.router.balance) is Balance  # `none`: no loss, no selection bias
    trainer.step(20)
    texts = trainer.apply_live(trainer.cfg.replace(**{"model.balance": "aux_loss", "train.lr": 0.003}))
    assert texts == ["balance none → aux_loss", "lr 0.01 → 0.003"]
    # The router reads its config and its balance strategy live: the new strategy's loss applies from here.
    assert trainer.model.router.cfg.balance == "aux_loss" and isinstance(trainer.model.router.balance, AuxLoss)
    assert trainer.optimizer.param_groups[0]["lr"] == 0.003
    assert trainer.events == [(20, "balance none → aux_loss"), (20, "lr 0.01 → 0.003")]
    trainer.step(5)
    assert trainer.step_count == 25


def test_every_live_key_is_taken_mid_run_and_reaches_the_model_and_the_optimiser():
    trainer = Trainer(small())
    trainer.step(5)
    changes = {
        "model.balance": "bias",
        "model.aux_loss_coef": 0.3,
        "model.z_loss_coef": 0.01,
        "model.bias_update_rate": 0.01,
        "model.gate_noise": 0.5,
        "model.top_p": 0.7,
        "model.entropy_loss_coef": 0.01,
        "model.expert_decay": 0.001,
        "model.diversity_coef": 0.1,
        "model.diversity_kind": "outputs",
        "train.noise_schedule": "linear",
        "train.balance_schedule": "cosine",
        "train.anneal_steps": 100,
        "train.anneal_to": 0.5,
        "train.split_above": 3.0,
        "train.remove_below": 0.01,
        "train.grow_every": 1000,
        "train.max_experts": 8,
        "train.lr": 0.003,
        "train.weight_decay": 0.001,
        "train.batch_size": 32,
        "train.steps": 70,
        "data.centres": "0,0,1;1,1,0",  # the drawn dataset's; this run's clusters are built again, the same
    }
    assert set(changes) == LIVE_KEYS
    texts = trainer.apply_live(trainer.cfg.replace(**changes))
    assert len(texts) == len(LIVE_KEYS) - 1  # train.steps is the CLI's, not an event of the run
    assert trainer.model.router.cfg == trainer.model.cfg == trainer.cfg.model
    group = trainer.optimizer.param_groups[0]
    assert (group["lr"], group["weight_decay"]) == (0.003, 0.001)
    trainer.step(5)  # the bias strategy moves the bias by ±0.01 a step now; at the default rate, 5 steps move it 0.005
    bias = trainer.model.router.bias_E
    assert trainer.step_count == 10 and 0.01 - 1e-6 <= bias.abs().max() <= 0.05 + 1e-6


def test_settings_that_need_a_new_model_are_refused_live():
    trainer = Trainer(small())
    with pytest.raises(ValueError, match="need a new model"):
        trainer.apply_live(trainer.cfg.replace(**{"model.n_experts": 8}))


@pytest.mark.parametrize("every", [0, -1])
def test_fit_refuses_a_snapshot_interval_below_one(every):
    trainer = Trainer(small())
    with pytest.raises(ConfigError, match=f"Snapshots every {every} steps is impossible; use 1 or more.$"):
        trainer.fit(10, snapshot_every=every)
    assert trainer.step_count == 0 and trainer.history == []


def test_fit_without_an_interval_snapshots_once_at_the_end():
    trainer = Trainer(small())
    trainer.fit(15)
    trainer.fit(0)  # no steps: one more snapshot, at the same step
    assert [m.step for m in trainer.history] == [15, 15]


def test_the_device_resolves_to_what_this_machine_has():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_a_missing_device_is_a_config_error():
    with pytest.raises(ConfigError) as err:
        resolve_device("cuda")
    assert str(err.value) == "train.device is 'cuda' but this machine has no CUDA device; use auto or cpu."
    with pytest.raises(ConfigError, match="no CUDA device"):
        Trainer(small(**{"train.device": "cuda"}))


def test_the_trainer_passes_its_kernels_to_the_model_and_the_plain_ones_train_the_same():
    # The reference kernels are the definition; the fast ones must follow the same trajectory.
    cfg = small(**{"model.top_k": 2, "model.capacity_factor": 1.0})
    data = make_dataset(cfg.data)
    fast, plain = Trainer(cfg, data, 100, FAST), Trainer(cfg, data, 100, REFERENCE)
    assert fast.model.kernels is FAST and plain.model.kernels is plain.model.router.kernels is REFERENCE
    assert fast.data is data and plain.data is data
    fast.step(20)
    plain.step(20)
    for a, b in zip(fast.model.parameters(), plain.model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    # probe_size: the metrics read the first 100 test points.
    fast_metrics, plain_metrics = fast.snapshot().metrics, plain.snapshot().metrics
    assert sum(sum(row) for row in fast_metrics.contingency) == 100
    assert fast_metrics.test_loss == pytest.approx(plain_metrics.test_loss, rel=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("changes", RUNS)
def test_on_a_gpu_a_call_of_step_waits_for_the_device_once_however_many_steps_it_takes(changes):
    trainer = Trainer(small(**changes, **{"train.device": "cuda"}))
    trainer.step(1)  # the optimiser's state is created here

    def waits(n: int) -> int:
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                trainer.step(n)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        return sum("synchroniz" in str(w.message) for w in caught)

    assert waits(12) == waits(1) <= 2  # the loss check, and reading the last loss
    m = trainer.snapshot(grid_resolution=8).metrics
    assert trainer.diverged is None and m.step == 14 and math.isfinite(m.train_loss)


def test_a_diverged_run_trains_on_from_its_last_good_weights_once_the_learning_rate_is_lowered():
    trainer = Trainer(small(**{"train.lr": 1e6, "train.optimizer": "sgd"}))
    trainer.step(20)
    trainer.snapshot()
    assert trainer.diverged is not None and "to train on from the last good weights" in trainer.diverged
    kept = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.apply_live(trainer.cfg.replace(**{"train.lr": 1e7}))  # higher: still stopped
    assert trainer.diverged is not None and trainer.step(5).diverged
    trainer.apply_live(trainer.cfg.replace(**{"train.lr": 0.01}))
    assert trainer.diverged is None and all(torch.equal(v, kept[k]) for k, v in trainer.model.state_dict().items())
    start = trainer.step_count
    report = trainer.step(30)
    assert report.diverged is None and trainer.step_count == start + 30 and math.isfinite(report.loss)
    assert len(trainer.history) == 1  # the history before the divergence stays


def test_weights_that_blow_up_on_the_last_step_of_a_call_are_caught_too():
    trainer = Trainer(small())
    good = {k: v.clone() for k, v in trainer.model.state_dict().items()}  # the checkpoint of step 0
    trainer.step(3)
    with torch.no_grad():  # what an exploding gradient leaves: the loss of that step was still finite
        trainer.optimizer.param_groups[0]["lr"] = float("inf")
    report = trainer.step(1)
    assert report.diverged is not None and trainer.diverged_at == 4 and trainer.step_count == 0
    assert all(torch.equal(v, good[k]) for k, v in trainer.model.state_dict().items())


def test_a_long_run_keeps_a_bounded_history_thinned_from_its_oldest_end(monkeypatch):
    monkeypatch.setattr(train_module, "HISTORY_LIMIT", 40)
    trainer = Trainer(small())
    for _ in range(200):
        trainer.step(1)
        trainer.snapshot()
    steps = [m.step for m in trainer.history]
    assert len(steps) <= 40 and steps == sorted(steps) and steps[0] == 1 and steps[-1] == 200
    assert steps[-20:] == list(range(181, 201))  # the latest snapshots are all kept


@pytest.mark.parametrize("changes", [{}, {"train.split_above": 1.5, "train.grow_every": 2}])
def test_a_stop_asked_between_steps_ends_the_call_after_the_step_in_progress(changes):
    stopped, whole, one = (Trainer(RunConfig.from_flat(changes)) for _ in range(3))
    stopped.step(50, stop=lambda: True)
    whole.step(50, stop=lambda: False)
    one.step(1)
    assert (stopped.step_count, whole.step_count) == (1, 50)
    pairs = zip(stopped.model.state_dict().values(), one.model.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)


def test_a_run_diverging_step_by_step_goes_back_far_enough_that_a_lower_rate_trains_on():
    # One step at a time (as the app trains the start of a run): the weights a step before the blow-up
    # already overflow on the next batch, so going back to them leaves nothing a lower rate can train.
    cfg = RunConfig().replace(**{"data.name": "clusters_regression", "model.expert_activation": "cubic",
                                 "train.optimizer": "sgd", "train.lr": 1.0})  # fmt: skip
    trainer = Trainer(cfg)
    while trainer.diverged is None and trainer.step_count < 200:
        trainer.step(1)
        trainer.snapshot()
    bad, back = trainer.diverged_at, trainer.step_count
    assert bad is not None and bad - ROLLBACK_STEPS * 2 <= back <= bad - ROLLBACK_STEPS
    assert f"(step {back})" in trainer.diverged and [m.step for m in trainer.history] == list(range(back + 1))
    trainer.apply_live(cfg.replace(**{"train.lr": 0.001}))
    trainer.step(30)
    assert trainer.diverged is None and trainer.step_count == back + 30
