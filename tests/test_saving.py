"""A run saved mid-training and loaded trains on bit for bit as the run never stopped: weights,
optimiser state, generators, schedules, a data shift and resized experts included; a file that is
not a saved run is one sentence."""

import pytest
import torch

from moe_core.errors import ConfigError
from moe_core.models import weights
from moe_core.settings.config import RunConfig
from moe_core.training.trainer import Trainer

SMALL = {"data.n_train": 400, "data.n_test": 200, "model.n_experts": 4}


def resumed_equals_uninterrupted(cfg: RunConfig, tmp_path, before: int = 60, after: int = 60, live=None):
    whole = Trainer(cfg, probe_size=300)
    part = Trainer(cfg, probe_size=300)
    for trainer in (whole, part):
        trainer.fit(before, 20)
        if live is not None:
            trainer.apply_live(trainer.cfg.replace(**live))
    whole.fit(after, 20)
    part.save(tmp_path / "run.safetensors")
    again = Trainer.load(tmp_path / "run.safetensors", probe_size=300)
    assert again.step_count == before and again.history == part.history and again.events == part.events
    again.fit(after, 20)
    mine, theirs = whole.model.state_dict(), again.model.state_dict()
    assert mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)
    assert again.history == whole.history and again.events == whole.events and again.cfg == whole.cfg
    return again


@pytest.mark.parametrize(
    "changes",
    [
        {},  # Adam, top-1 with the auxiliary loss
        {"model.router": "noisy_topk", "model.top_k": 2, "model.gate_noise": 1.0, "train.optimizer": "sgd"},
        {"model.balance": "bias", "model.router": "switch", "model.capacity_factor": 1.0},
        {"data.sampling": "online", "data.name": "cluster_single_index", "data.dim": 12},
        {"data.shift_step": 80, "train.noise_schedule": "cosine", "train.anneal_steps": 100, "model.gate_noise": 1.0},
    ],
    ids=["default", "noisy-sgd", "bias-capacity", "online-data", "shift-and-schedule"],
)
def test_a_saved_run_resumes_to_the_same_weights_and_history_as_one_never_stopped(tmp_path, changes):
    resumed_equals_uninterrupted(RunConfig().replace(**SMALL, **changes), tmp_path)


def test_a_run_whose_experts_split_and_whose_settings_changed_live_resumes_as_it_was(tmp_path):
    cfg = RunConfig().replace(**SMALL, **{"train.split_above": 1.05, "train.grow_every": 30, "model.balance": "none"})
    again = resumed_equals_uninterrupted(cfg, tmp_path, live={"train.lr": 0.003, "model.gate_noise": 0.5})
    assert again.cfg.model.n_experts > 4 and any("split" in text for _, text in again.events)
    assert again.settings.model.n_experts == 4  # Reset still goes back to the experts of the start


def test_a_weights_file_or_any_other_file_is_one_sentence(tmp_path):
    trainer = Trainer(RunConfig().replace(**SMALL), probe_size=100)
    weights.save(trainer.model, trainer.cfg, tmp_path / "weights.safetensors")
    with pytest.raises(ConfigError, match="holds weights but no run state; load it with --load-weights"):
        Trainer.load(tmp_path / "weights.safetensors")
    (tmp_path / "notes.safetensors").write_text("not a run")
    with pytest.raises(ConfigError, match="not a safetensors file"):
        Trainer.load(tmp_path / "notes.safetensors")
    with pytest.raises(ConfigError, match="cannot be read"):
        Trainer.load(tmp_path / "missing.safetensors")
