"""Batched seeds against the same runs trained alone: the first steps equal to float tolerance for
every router, balance strategy and model shape; the final metrics agree; a diverging seed stops at
its own step while the others go on; and only seeds of one setting batch together."""

import math

import pytest
import torch

from moe_core.datasets.dataset import make_dataset
from moe_core.layer.balance import BALANCE
from moe_core.layer.routers import ROUTERS
from moe_core.settings.config import ConfigError, RunConfig
from moe_core.training.seed_batch import SeedBatch
from moe_core.training.trainer import Trainer

SMALL = {"data.n_train": 300, "data.n_test": 200}
TOL = dict(rtol=1e-4, atol=1e-5)  # batched matmuls sum in another order than the run's own


def seeds_of(base: RunConfig, n: int = 3) -> list[RunConfig]:
    return [base.replace(**{"train.seed": base.train.seed + s}) for s in range(n)]


def alone_and_batched(base: RunConfig, n: int = 3) -> tuple[list[Trainer], SeedBatch]:
    cfgs = seeds_of(base, n)
    data = make_dataset(base.data)
    return [Trainer(cfg, data, probe_size=None) for cfg in cfgs], SeedBatch(cfgs, data, probe_size=None)


def assert_same_weights(alone: list[Trainer], batch: SeedBatch) -> None:
    batch.sync()
    for run, mine in zip(alone, batch.runs, strict=True):
        theirs = mine.model.state_dict()
        for key, value in run.model.state_dict().items():
            torch.testing.assert_close(theirs[key], value, **TOL, msg=key)


def rule(router: str, balance: str, **extra) -> RunConfig:
    """A rule with options that exercise it: top-2 where it takes k, noise, a capacity that drops."""
    values = {"model.router": router, "model.balance": balance, "model.n_experts": 6, "model.top_k": 2,
              "model.gate_noise": 0.5, "model.capacity_factor": 1.0, **SMALL, **extra}  # fmt: skip
    values.update(ROUTERS[router].fixed)
    return RunConfig().replace(**values)


@pytest.mark.parametrize("balance", BALANCE.names())
@pytest.mark.parametrize("router", ROUTERS.names())
def test_a_batched_seeds_first_steps_equal_the_same_run_trained_alone(router, balance):
    alone, batch = alone_and_batched(rule(router, balance, **{"model.z_loss_coef": 0.01}))
    assert_same_weights(alone, batch)  # the stack starts from each seed's own initial weights
    for _ in range(3):
        reports = batch.step()
        for run, report in zip(alone, reports, strict=True):
            assert report.loss == pytest.approx(run.step().loss, rel=1e-5)
        assert_same_weights(alone, batch)


@pytest.mark.parametrize(
    "extra",
    [
        {"model.gate_hidden": 8, "model.shared_experts": 2},
        {"model.arch": "dense"},
        {"model.objective": "mixture", "model.normalize": "softmax_topk"},
        {"model.expert_layers": 2, "model.normalize": "sigmoid", "model.balance": "bias"},
        {"model.n_experts": 1, "model.top_k": 1, "data.name": "clusters_regression"},
        {
            "data.name": "cluster_signals",
            "data.dim": 32,
            "model.expert_kind": "patch",
            "model.gate": "patch",
            "model.gate_noise": 1.0,
            "model.noise_kind": "uniform",
            "train.optimizer": "ngd",
            "train.router_optimizer": "sgd",
            "train.router_lr": 0.1,
            "model.expert_init_scale": 0.01,
        },
        {"data.name": "cluster_signals", "data.dim": 32, "model.expert_kind": "patch", "model.arch": "dense"},
        {"model.noise_kind": "jitter", "model.gate_noise": 0.2},
        {"data.name": "cluster_single_index", "data.dim": 16, "data.sampling": "online"},
        {"model.expert_kind": "mixed", "model.expert_mix": "linear,8:tanh", "model.router": "top_p"},
        {"model.router": "hierarchical", "model.n_experts": 6, "model.n_groups": 3, "model.entropy_loss_coef": 0.1},
    ],
    ids=[
        "mlp_gate_and_shared",
        "dense",
        "mixture",
        "deep_sigmoid_bias",
        "one_expert_regression",
        "chen_moe",
        "chen_single",
        "jitter",
        "online",
        "mixed_top_p",
        "hierarchical",
    ],
)
def test_every_model_shape_batches_exactly(extra):
    alone, batch = alone_and_batched(RunConfig().replace(**{"model.top_k": 2, **SMALL, **extra}))
    for _ in range(3):
        batch.step()
        for run in alone:
            run.step()
    assert_same_weights(alone, batch)


def test_the_final_metrics_of_batched_seeds_agree_with_the_runs_alone():
    alone, batch = alone_and_batched(RunConfig().replace(**SMALL), n=4)
    batch.fit(200, snapshot_every=50)
    for run, mine in zip(alone, batch.runs, strict=True):
        run.fit(200, snapshot_every=50)
        assert mine.step_count == run.step_count == 200 and len(mine.history) == len(run.history) == 4
        ours, theirs = mine.history[-1], run.history[-1]
        for name in ("test_loss", "train_loss", "load_entropy", "cluster_nmi"):
            assert math.isclose(getattr(ours, name), getattr(theirs, name), rel_tol=1e-3), name
        assert abs(ours.test_accuracy - theirs.test_accuracy) <= 0.01


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # measuring weights that overflowed
def test_a_diverging_seed_stops_at_its_own_step_and_keeps_its_last_good_weights():
    base = RunConfig().replace(**{"data.name": "digits", "data.n_train": 600, "data.n_test": 200,
                                  "train.lr": 3e5, "train.optimizer": "sgd", "model.balance": "none"})  # fmt: skip
    alone, batch = alone_and_batched(base, n=6)
    batch.fit(20, snapshot_every=4)
    for run in alone:
        run.fit(20, snapshot_every=4)
    assert len({run.diverged_at for run in alone}) > 1  # seeds that stop at different steps
    for run, mine in zip(alone, batch.runs, strict=True):
        assert (mine.diverged_at, mine.step_count, mine.diverged) == (run.diverged_at, run.step_count, run.diverged)
        assert [m.step for m in mine.history] == [m.step for m in run.history]
        assert mine.history[-1].test_loss == pytest.approx(run.history[-1].test_loss, rel=1e-4, nan_ok=True)


def test_a_batch_of_one_seed_is_the_run_alone():
    alone, batch = alone_and_batched(RunConfig().replace(**SMALL), n=1)
    batch.step(3)
    alone[0].step(3)
    assert_same_weights(alone, batch)


def test_only_seeds_of_one_setting_batch_together():
    base = RunConfig().replace(**SMALL)
    with pytest.raises(ConfigError, match=r"may differ only in train\.seed"):
        SeedBatch([base, base.replace(**{"train.seed": 1, "model.top_k": 2})])
    with pytest.raises(ConfigError, match="different seeds"):
        SeedBatch([base, base])
    with pytest.raises(ConfigError, match="at least one run"):
        SeedBatch([])
