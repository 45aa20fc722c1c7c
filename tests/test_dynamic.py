"""Dynamic experts: a split keeps what the layer computes up to its noise, a removal keeps the other
experts, the optimiser's state follows, and the rule acts at its steps."""

import pytest
import torch

from moe_core.experiments.sweep import Trial, units
from moe_core.settings.config import ConfigError, RunConfig
from moe_core.training import dynamic
from moe_core.training.seed_batch import SeedBatch
from moe_core.training.trainer import Trainer

SMALL = {"data.n_train": 400, "data.n_test": 200}


def trained(changes: dict, steps: int = 60) -> Trainer:
    trainer = Trainer(RunConfig().replace(**{**SMALL, **changes}))
    trainer.fit(steps)
    return trainer


def outputs(trainer: Trainer) -> tuple[torch.Tensor, torch.Tensor]:
    trainer.model.eval()
    with torch.no_grad():
        out = trainer.model(trainer.x_train[:100])
    trainer.model.train()
    return out.output_NO, out.routing.probs_NE


def test_a_split_shares_the_experts_probability_and_keeps_the_output_up_to_the_noise():
    trainer = trained({"model.router": "dense"})
    before, probs = outputs(trainer)
    assert trainer.split_expert(2) == "split E2 into E2 and E4"
    after, new_probs = outputs(trainer)
    assert trainer.cfg.model.n_experts == 5 == trainer.model.experts.n_experts
    torch.testing.assert_close(new_probs[:, [0, 1, 3]], probs[:, [0, 1, 3]])  # the others keep theirs
    torch.testing.assert_close(new_probs[:, 2] + new_probs[:, 4], probs[:, 2])  # the pair shares it
    assert (after - before).abs().max() < 0.02 * before.abs().max()  # the copy's noise only
    experts = trainer.model.experts
    assert not torch.equal(experts.w_in_EDH[4], experts.w_in_EDH[2])
    torch.testing.assert_close(experts.w_in_EDH[4], experts.w_in_EDH[2], atol=0.05, rtol=0)


def test_the_copy_starts_with_the_experts_adam_moments_and_training_goes_on():
    trainer = trained({})
    moments = trainer.optimizer.state[trainer.model.experts.w_in_EDH]["exp_avg"].clone()
    trainer.split_expert(1)
    new = trainer.optimizer.state[trainer.model.experts.w_in_EDH]["exp_avg"]
    torch.testing.assert_close(new[:4], moments)
    torch.testing.assert_close(new[4], moments[1])
    trainer.fit(30)
    assert len(trainer.history[-1].load_share) == 5 and trainer.history[-1].test_accuracy > 0.5


def test_a_removal_keeps_the_other_experts_and_renumbers_those_after_it():
    trainer = trained({"model.n_experts": 4})
    weights = trainer.model.experts.w_out_EHO.detach().clone()
    gate = trainer.model.router.gate.weight.detach().clone()
    assert trainer.remove_expert(1) == "removed E1; E2 and after renumbered"
    torch.testing.assert_close(trainer.model.experts.w_out_EHO, weights[[0, 2, 3]])
    torch.testing.assert_close(trainer.model.router.gate.weight, gate[[0, 2, 3]])
    with pytest.raises(ValueError):
        trained({"model.n_experts": 2, "model.top_k": 2}).remove_expert(0)


def test_the_rule_splits_the_busiest_at_its_steps_and_reset_brings_back_the_start():
    trainer = Trainer(RunConfig().replace(**{**SMALL, "model.n_experts": 2, "model.balance": "none",
        "data.n_clusters": 6, "train.split_above": 1.05, "train.grow_every": 50, "train.max_experts": 4}))  # fmt: skip
    start = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.fit(200, snapshot_every=25)
    splits = [(step, text) for step, text in trainer.events if text.startswith("split")]
    assert [step for step, _ in splits] == [50, 100] and trainer.cfg.model.n_experts == 4  # capped at 4
    assert [len(m.load_share) for m in trainer.history] == [2, 3, 3, 4, 4, 4, 4, 4]
    assert trainer.settings.model.n_experts == 2  # what was set; the run has grown from it
    trainer.reset()
    assert trainer.cfg.model.n_experts == 2 and not trainer.events
    assert all(torch.equal(v, start[k]) for k, v in trainer.model.state_dict().items())


def test_the_rule_removes_an_expert_that_nobody_uses():
    trainer = Trainer(RunConfig().replace(**{**SMALL, "model.n_experts": 6, "model.balance": "none",
        "data.n_clusters": 2, "train.remove_below": 0.2, "train.grow_every": 100}))  # fmt: skip
    trainer.fit(300)
    removed = [text for _, text in trainer.events if text.startswith("removed")]
    assert removed and trainer.cfg.model.n_experts == 6 - len(removed)


def test_resizing_needs_a_router_and_gate_it_can_resize_and_cannot_batch_seeds():
    with pytest.raises(ConfigError, match="not 'hierarchical'"):
        RunConfig().replace(**{"model.router": "hierarchical", "train.split_above": 2.0})
    with pytest.raises(ConfigError, match="linear gate"):
        RunConfig().replace(**{"model.gate_hidden": 8, "model.gate": "patch", "train.remove_below": 0.1})
    cfg = RunConfig().replace(**{**SMALL, "train.split_above": 2.0})
    with pytest.raises(ConfigError, match="one by one"):
        SeedBatch([cfg, cfg.replace(**{"train.seed": 1})])
    trials = [Trial(i, {}, i, cfg.replace(**{"train.seed": i})) for i in range(3)]
    assert [len(unit) for unit in units(trials)] == [1, 1, 1]
    assert dynamic.SPLIT_NOISE > 0
