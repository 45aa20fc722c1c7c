"""Expert regularisation: the similarity measure, each penalty's value, and its effect on training."""

import pytest
import torch

from moe_core.layer.experts import Experts
from moe_core.settings.config import ConfigError, RunConfig
from moe_core.training import regularisation
from moe_core.training.trainer import Trainer

SMALL = {"data.n_train": 400, "data.n_test": 200}


def test_similarity_is_zero_for_orthogonal_experts_one_for_parallel_ones_and_summed_over_seeds():
    orthogonal = torch.eye(3).unsqueeze(0)  # [S=1, E=3, P=3]
    parallel = torch.tensor([[[1.0, 2.0], [-2.0, -4.0]]])  # opposite directions count as alike
    assert float(regularisation.mean_similarity(orthogonal)) == pytest.approx(0.0)
    assert float(regularisation.mean_similarity(parallel)) == pytest.approx(1.0)
    assert float(regularisation.mean_similarity(torch.ones(1, 1, 4))) == 0.0  # one expert: nothing to compare
    two_seeds = torch.stack([torch.eye(2), torch.tensor([[1.0, 0.0], [1.0, 0.0]])])
    assert float(regularisation.mean_similarity(two_seeds)) == pytest.approx(1.0)  # 0 + 1, never across seeds


def test_each_experts_weights_are_one_vector_and_its_outputs_another():
    experts = Experts(4, 3, 5, 2, layers=2)
    flat = regularisation.expert_weights(experts)
    assert flat.shape == (1, 4, sum(p.numel() for p in experts.parameters()) // 4)
    torch.testing.assert_close(flat[0, 2, : 3 * 5], experts.w_in_EDH[2].reshape(-1))
    x = torch.randn(100, 3)
    out = regularisation.expert_outputs(experts, x)
    assert out.shape == (1, 4, regularisation.OUTPUT_POINTS * 2)
    torch.testing.assert_close(out[0, 1], experts.forward_one(1, x[: regularisation.OUTPUT_POINTS]).reshape(-1))


def test_the_expert_decay_is_half_the_weight_times_the_experts_squared_norm_and_nothing_when_off():
    trainer = Trainer(RunConfig().replace(**{**SMALL, "model.expert_decay": 0.1}))
    model = trainer.model
    expected = 0.05 * sum(float((p.detach() ** 2).sum()) for p in model.experts.parameters())
    assert float(regularisation.penalty(model, trainer.x_train[:32]).detach()) == pytest.approx(expected, rel=1e-5)
    assert regularisation.penalty(Trainer(RunConfig().replace(**SMALL)).model, trainer.x_train[:32]) is None


@pytest.mark.parametrize("kind", ["weights", "outputs"])
def test_a_diversity_penalty_makes_the_experts_less_alike(kind):
    def likeness(changes):
        trainer = Trainer(RunConfig().replace(**{**SMALL, "model.router": "dense", **changes}))
        trainer.fit(300)
        if kind == "weights":
            return float(regularisation.mean_similarity(regularisation.expert_weights(trainer.model.experts)).detach())
        return trainer.history[-1].expert_similarity

    plain = likeness({})
    apart = likeness({"model.diversity_coef": 1.0, "model.diversity_kind": kind})
    assert apart < plain / 3


def test_mixed_experts_cannot_be_compared_by_their_weights():
    with pytest.raises(ConfigError, match=r"set model\.diversity_kind to outputs"):
        RunConfig().replace(**{"model.expert_kind": "mixed", "model.diversity_coef": 0.1})
