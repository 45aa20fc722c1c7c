import torch

from moe_core.settings.config import RunConfig
from moe_core.training.divergence import copy_state, diverged_message, finite_weights
from moe_core.training.trainer import Trainer


def test_copy_state_clones_every_tensor_so_training_on_leaves_the_copy_as_it_was():
    trainer = Trainer(RunConfig())
    saved = copy_state({"model": trainer.model.state_dict(), "optimizer": trainer.optimizer.state_dict()})
    before = {key: value.clone() for key, value in saved["model"].items()}
    trainer.step(5)
    assert all(torch.equal(saved["model"][key], value) for key, value in before.items())
    assert any(not torch.equal(saved["model"][key], value) for key, value in trainer.model.state_dict().items())


def test_finite_weights_finds_one_nan_or_inf_anywhere():
    model = Trainer(RunConfig()).model
    assert bool(finite_weights(model))
    last = list(model.parameters())[-1]
    for bad in (float("nan"), float("inf")):
        with torch.no_grad():
            saved = last.view(-1)[0].item()
            last.view(-1)[0] = bad
            assert not bool(finite_weights(model))
            last.view(-1)[0] = saved


def test_the_divergence_sentence_names_the_step_the_learning_rate_and_the_fix():
    text = diverged_message(37, 50.0)
    assert text.startswith("Training diverged at step 37:") and "(now 50)" in text and "lower the learning rate" in text
    assert "\n" not in text
