"""The balance strategies: the loss each adds, how it moves selection, and what it does after a step."""

import torch

from moe_core.layer import losses
from moe_core.layer.balance import BALANCE
from moe_core.layer.balance.base import Balance
from moe_core.layer.build import Build
from moe_core.layer.routers import ROUTERS
from moe_core.settings.table import ModelConfig


def router(**changes):
    torch.manual_seed(1)
    cfg = ModelConfig(**{"n_experts": 4, "top_k": 1, **changes})
    r = ROUTERS[cfg.router].implementation()(cfg, Build(2, 2, True))
    with torch.no_grad():
        r.gate.weight.normal_(0, 1.0)
        r.gate.bias.normal_(0, 1.0)
    return r


X = torch.randn(256, 2, generator=torch.Generator().manual_seed(1))


def test_every_strategy_is_a_balance_with_words_for_the_sidebar():
    for spec in BALANCE.entries():
        assert issubclass(spec.implementation(), Balance) and spec.label and spec.help, spec.name


def test_none_adds_no_loss_and_moves_nothing():
    r = router(balance="none").eval()
    routing = r(X)
    assert r.loss(routing).total is None and r.loss(routing).balance is None
    torch.testing.assert_close(r.select(routing.probs_NE), routing.probs_NE)


def test_aux_loss_is_the_switch_loss_of_the_batch_and_the_coefficient_weighs_it():
    r = router(balance="aux_loss", aux_loss_coef=0.3).eval()
    routing = r(X)
    expected = losses.switch_balance_loss(routing.probs_NE, torch.bincount(routing.topk_ids_NK[:, 0], minlength=4))
    loss = r.loss(routing)
    torch.testing.assert_close(loss.balance, expected)
    torch.testing.assert_close(loss.total, 0.3 * expected)


def test_importance_adds_the_smooth_load_term_only_where_noise_was_drawn():
    r = router(balance="importance", top_k=2, gate_noise=1.0)
    r.generator = torch.Generator().manual_seed(0)
    clean = r.eval()(X)
    gates = torch.zeros(256, 4).scatter_add(1, clean.topk_ids_NK, clean.weights_NK)
    torch.testing.assert_close(r.loss(clean).balance, losses.importance_loss(gates))
    noisy = r.train()(X)
    gates = torch.zeros(256, 4).scatter_add(1, noisy.topk_ids_NK, noisy.weights_NK)
    load = losses.smooth_load(noisy.logits_NE, noisy.scores_NE, noisy.noise_std_NE, 2)
    torch.testing.assert_close(r.loss(noisy).balance, losses.importance_loss(gates) + losses.cv_squared(load))


def test_bias_moves_the_choice_but_not_the_weights():
    r = router(balance="bias").eval()
    before = r(X)
    r.bias_E[:] = torch.tensor([0.0, 0.0, 0.0, 2.0])
    after = r(X)
    assert (after.topk_ids_NK == 3).all() and not torch.equal(before.topk_ids_NK, after.topk_ids_NK)
    torch.testing.assert_close(after.weights_NK[:, 0], torch.softmax(after.logits_NE, dim=1)[:, 3])
    assert r.loss(after).total is None  # loss-free


def test_bias_update_follows_the_sign_of_the_load_gap():
    r = router(balance="bias", bias_update_rate=0.01).eval()
    routing = r(X)
    load = torch.bincount(routing.topk_ids_NK[:, 0], minlength=4).float()
    r.after_step(routing)
    torch.testing.assert_close(r.bias_E, 0.01 * torch.sign(load.mean() - load))


def test_only_the_bias_strategy_reads_the_bias():
    r = router(balance="none").eval()
    r.bias_E[:] = torch.tensor([0.0, 0.0, 0.0, 5.0])
    assert not (r(X).topk_ids_NK == 3).all()
    r.set_config(r.cfg.__class__(**{**vars(r.cfg), "balance": "bias"}))  # a live change of strategy
    assert (r(X).topk_ids_NK == 3).all()


def test_importance_adds_the_smooth_load_term_for_switch_too():
    # Switch picks the top-1 of its noisy scores, so Shazeer et al.'s estimator applies to it as to top-k.
    r = router(router="switch", balance="importance", gate_noise=1.0)
    r.generator = torch.Generator().manual_seed(0)
    noisy = r.train()(X)
    gates = torch.zeros(256, 4).scatter_add(1, noisy.topk_ids_NK, noisy.weights_NK)
    load = losses.smooth_load(noisy.logits_NE, noisy.scores_NE, noisy.noise_std_NE, 1)
    torch.testing.assert_close(r.loss(noisy).balance, losses.importance_loss(gates) + losses.cv_squared(load))
