"""Combination mechanisms: the weighted sum, attention over the experts' outputs, a learned network."""

import pytest
import torch

from moe_core.layer.combination import Attention, Learned, Weighted
from moe_core.layer.fast import FAST
from moe_core.settings.config import ConfigError, RunConfig
from moe_core.training.trainer import Trainer

N, D, K, OUT = 6, 3, 3, 2


def slots(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(N, D, generator=g)
    weights = torch.softmax(torch.randn(N, K, generator=g), dim=1)
    kept = torch.ones(N, K, dtype=torch.bool)
    kept[0, 2], kept[1] = False, False  # a dropped slot, and a point no expert took
    weights = weights * kept
    return x, weights, torch.randn(N, K, OUT, generator=g), kept


def test_the_weighted_sum_is_the_routers_weights():
    x, w, out, kept = slots()
    torch.testing.assert_close(Weighted(D, OUT, K)(x, w, out, kept, FAST), (w.unsqueeze(2) * out).sum(dim=1))


def test_attention_shares_sum_to_one_over_the_live_slots_and_start_from_the_renormalised_weights():
    x, w, out, kept = slots()
    attention = Attention(D, OUT, K)
    share = attention.mixing(x, w, out, kept)
    torch.testing.assert_close(share[[0, 2, 3, 4, 5]].sum(dim=1), torch.ones(5))
    assert share[0, 2] == 0 and torch.equal(share[1], torch.zeros(K))  # dropped slots and lone points: nothing
    torch.nn.init.zeros_(attention.query.weight)  # no query: the prior alone, the weights renormalised
    torch.nn.init.zeros_(attention.query.bias)
    renormalised = w / w.sum(dim=1, keepdim=True).clamp_min(1e-12)
    torch.testing.assert_close(attention.mixing(x, w, out, kept), renormalised)
    torch.testing.assert_close(
        attention(x, w, out, kept, FAST), (attention.mixing(x, w, out, kept).unsqueeze(2) * out).sum(1)
    )


def test_the_learned_combination_starts_as_the_weighted_sum_and_learns_a_correction():
    x, w, out, kept = slots()
    learned = Learned(D, OUT, K)
    torch.testing.assert_close(learned(x, w, out, kept, FAST), (w.unsqueeze(2) * out).sum(dim=1))
    assert learned.adds_correction and not Weighted.adds_correction


@pytest.mark.parametrize(("combine", "router"), [("attention", "topk"), ("learned", "topk"), ("attention", "dense")])
def test_each_combination_trains(combine, router):
    cfg = RunConfig().replace(**{"model.combine": combine, "model.router": router, "model.top_k": 2,
                                 "data.n_train": 500})  # fmt: skip
    trainer = Trainer(cfg)
    trainer.fit(300)
    assert trainer.history[-1].test_accuracy > 0.75


def test_the_mixture_objective_needs_the_routers_weights():
    with pytest.raises(ConfigError, match=r"set model\.combine to weighted"):
        RunConfig().replace(**{"model.combine": "attention", "model.objective": "mixture"})
