import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from moe_core.config import ModelConfig
from moe_core.routing import MIN_CAPACITY, Router, top_k_ids


@st.composite
def setups(draw, max_experts=16):
    n_experts = draw(st.integers(1, max_experts))
    return dict(
        n=draw(st.integers(1, 64)),
        n_experts=n_experts,
        top_k=draw(st.integers(1, n_experts)),
        dim=draw(st.integers(2, 5)),
        seed=draw(st.integers(0, 10_000)),
        scale=draw(st.sampled_from([0.1, 1.0, 10.0])),
    )


def make_router(s, **changes) -> tuple[Router, torch.Tensor]:
    cfg = ModelConfig(n_experts=s["n_experts"], top_k=s["top_k"], **changes)
    torch.manual_seed(s["seed"])
    router = Router(cfg, s["dim"])
    with torch.no_grad():
        router.gate.weight.normal_(0, s["scale"])
        router.gate.bias.normal_(0, s["scale"])
    x = torch.randn(s["n"], s["dim"])
    return router.eval(), x


def test_top_k_ids_pick_what_torch_topk_picks():
    g = torch.Generator().manual_seed(0)
    for n, n_experts in [(10, 5), (4096, 16), (512, 64), (300, 2)]:
        scores = torch.randn(n, n_experts, generator=g)
        for k in (1, 2, 3):
            if k <= n_experts:
                torch.testing.assert_close(top_k_ids(scores, k), scores.topk(k, dim=1).indices)
        # a transposed view and float64 go through the same selection
        torch.testing.assert_close(top_k_ids(scores.T.contiguous().T, 2), scores.topk(2, dim=1).indices)
        torch.testing.assert_close(top_k_ids(scores.double(), 2), scores.topk(2, dim=1).indices)
    tied = torch.zeros(1000, 4)  # zero-initialised gates: every score ties
    torch.testing.assert_close(top_k_ids(tied, 2), torch.tensor([[0, 1]]).expand(1000, 2))


def test_a_training_step_computes_probabilities_only_where_something_reads_them():
    s = dict(n=32, n_experts=6, top_k=2, dim=3, seed=0, scale=1.0)
    lean, x = make_router(s, normalize="softmax_topk", balance="none")
    balanced, _ = make_router(s, normalize="softmax_topk", balance="aux_loss")
    softmax, _ = make_router(s, normalize="softmax", balance="none")
    assert lean.train()(x).probs_NE is None  # the chosen logits pick and weigh
    assert balanced.train()(x).probs_NE is not None and softmax.train()(x).probs_NE is not None
    evaluated = lean.eval()(x)  # maps, probes and the inspector route in eval mode
    torch.testing.assert_close(evaluated.probs_NE, torch.softmax(evaluated.logits_NE, dim=1))
    # Skipping them changes nothing else: the same choices and weights as a router that computes them.
    trained = lean.train()(x)
    torch.testing.assert_close(trained.topk_ids_NK, evaluated.topk_ids_NK)
    torch.testing.assert_close(trained.weights_NK, evaluated.weights_NK)


@settings(max_examples=60, deadline=None)
@given(setups(), st.sampled_from(["topk", "noisy_topk"]))
def test_softmax_topk_weights_are_the_probabilities_renormalised_over_the_chosen(s, router_name):
    router, x = make_router(s, router=router_name, normalize="softmax_topk")
    r = router(x)
    chosen = r.probs_NE.gather(1, r.topk_ids_NK)
    torch.testing.assert_close(r.weights_NK, chosen / chosen.sum(dim=1, keepdim=True))
    # The logits pick: the probabilities' order, without the ties that underflow makes among them.
    torch.testing.assert_close(r.topk_ids_NK, r.logits_NE.topk(s["top_k"], dim=1).indices)


@settings(max_examples=60, deadline=None)
@given(setups(), st.sampled_from(["softmax_topk", "softmax", "sigmoid"]))
def test_topk_routes_every_point_to_exactly_k_distinct_experts(s, normalize):
    router, x = make_router(s, normalize=normalize)
    r = router(x)
    assert r.topk_ids_NK.shape == (s["n"], s["top_k"])
    distinct = torch.tensor([len(set(row)) for row in r.topk_ids_NK.tolist()])
    assert (distinct == s["top_k"]).all()
    assert r.kept_NK is None and r.assigned_NK is None  # a plain top-k builds no masks
    assert r.kept_mask().all() and r.assigned_mask().all()
    assert r.load_E.sum() == s["n"] * s["top_k"]
    total = r.weights_NK.sum(dim=1)
    if normalize in ("softmax_topk", "sigmoid"):
        torch.testing.assert_close(total, torch.ones(s["n"]))
    else:
        # Switch / DeepSeekMoE keep the raw probabilities: the top-k share of a softmax.
        expected = torch.softmax(r.logits_NE, dim=1).topk(s["top_k"], dim=1).values.sum(dim=1)
        torch.testing.assert_close(total, expected)
        assert (total <= 1 + 1e-6).all()


@settings(max_examples=60, deadline=None)
@given(setups(), st.sampled_from([0.25, 0.5, 1.0, 1.25, 2.0]))
def test_capacity_is_never_exceeded_and_only_full_experts_drop(s, factor):
    s["top_k"] = 1
    router, x = make_router(s, router="switch", capacity_factor=factor)
    r = router(x)
    capacity = min(s["n"], max(MIN_CAPACITY, math.ceil(factor * s["n"] / s["n_experts"])))
    kept_per_expert = torch.bincount(r.topk_ids_NK[r.kept_NK], minlength=s["n_experts"])
    assert (kept_per_expert <= capacity).all()
    for e in r.topk_ids_NK[r.dropped_NK].unique().tolist():
        assert kept_per_expert[e] == capacity
    assert (r.weights_NK[r.dropped_NK] == 0).all()


@settings(max_examples=40, deadline=None)
@given(setups())
def test_capacity_serves_first_choices_before_second_choices(s):
    router, x = make_router(s, capacity_factor=0.5)
    r = router(x)
    for e in range(s["n_experts"]):
        first_dropped = (r.dropped_NK[:, 0] & (r.topk_ids_NK[:, 0] == e)).any()
        later_kept = (r.kept_NK[:, 1:] & (r.topk_ids_NK[:, 1:] == e)).any()
        assert not (first_dropped and later_kept)


@settings(max_examples=60, deadline=None)
@given(setups(), st.sampled_from([0.5, 1.0, 2.0]))
def test_expert_choice_loads_are_exactly_equal(s, factor):
    router, x = make_router(s, router="expert_choice", capacity_factor=factor)
    r = router(x)
    load = torch.bincount(r.topk_ids_NK[r.assigned_NK], minlength=s["n_experts"])
    capacity = min(s["n"], max(1, math.ceil(s["n"] * factor / s["n_experts"])))
    assert (load == capacity).all()
    assert (r.load_E == capacity).all()
    # Each expert took its highest-probability points.
    for e in range(s["n_experts"]):
        taken = r.probs_NE[r.assigned_NK[:, e], e]
        left = r.probs_NE[~r.assigned_NK[:, e], e]
        if len(left):
            assert taken.min() >= left.max() - 1e-7


def test_expert_choice_can_leave_points_without_an_expert():
    s = dict(n=64, n_experts=4, top_k=1, dim=2, seed=0, scale=10.0)
    router, x = make_router(s, router="expert_choice", capacity_factor=0.5)
    r = router(x)
    assert (~r.kept_NK.any(dim=1)).sum() >= 64 - 4 * 8


@settings(max_examples=30, deadline=None)
@given(setups())
def test_dense_gating_runs_every_expert_with_softmax_weights(s):
    router, x = make_router(s, router="dense")
    r = router(x)
    assert r.kept_mask().all() and r.topk_ids_NK.shape == (s["n"], s["n_experts"])
    torch.testing.assert_close(r.weights_NK, torch.softmax(r.logits_NE, dim=1))
    torch.testing.assert_close(r.load_E, r.weights_NK.sum(dim=0))


@settings(max_examples=30, deadline=None)
@given(setups())
def test_hash_routing_sends_points_to_their_nearest_frozen_centroids(s):
    cfg = ModelConfig(n_experts=s["n_experts"], top_k=s["top_k"], router="hash")
    torch.manual_seed(s["seed"])
    x = torch.randn(s["n"], s["dim"])
    router = Router(cfg, s["dim"], x_ref_ND=x, seed=s["seed"]).eval()
    r = router(x)
    distances = torch.cdist(x, router.centroids_ED)
    nearest = distances.topk(s["top_k"], dim=1, largest=False).values
    # Compare distances, not ids: with fewer points than experts some centroids repeat (ties).
    chosen = distances.gather(1, r.topk_ids_NK).sort(dim=1).values
    torch.testing.assert_close(chosen, nearest.sort(dim=1).values)
    torch.testing.assert_close(r.weights_NK, torch.full_like(r.weights_NK, 1 / s["top_k"]))
    assert not any(p.requires_grad for p in router.buffers())


def test_bias_moves_the_choice_but_not_the_weights():
    s = dict(n=256, n_experts=4, top_k=1, dim=2, seed=1, scale=1.0)
    router, x = make_router(s, balance="bias")
    before = router(x)
    router.bias_E[:] = torch.tensor([0.0, 0.0, 0.0, 2.0])
    after = router(x)
    assert (after.topk_ids_NK == 3).all()
    probs = torch.softmax(after.logits_NE, dim=1)
    torch.testing.assert_close(after.weights_NK[:, 0], probs[:, 3])
    assert not torch.equal(before.topk_ids_NK, after.topk_ids_NK)


def test_load_is_computed_only_when_something_needs_it():
    s = dict(n=32, n_experts=4, top_k=1, dim=2, seed=0, scale=1.0)
    router, x = make_router(s, balance="none")
    router.train()
    assert router(x).load_E is None and router(x).balance_loss is None
    router.eval()
    assert router(x).load_E.sum() == 32  # evaluation measures it
    router, x = make_router(s, balance="aux_loss")
    router.train()
    assert router(x).load_E.sum() == 32 and router(x).balance_loss is not None


def test_bias_update_follows_the_sign_of_the_load_gap():
    s = dict(n=8, n_experts=4, top_k=1, dim=2, seed=0, scale=1.0)
    router, _ = make_router(s, balance="bias", bias_update_rate=0.01)
    router.update_bias(torch.tensor([10.0, 2.0, 2.0, 2.0]))
    torch.testing.assert_close(router.bias_E, torch.tensor([-0.01, 0.01, 0.01, 0.01]))


def test_noisy_topk_starts_balanced_from_zero_gates_and_is_noise_free_in_eval():
    cfg = ModelConfig(n_experts=8, top_k=2, router="noisy_topk", gate_noise=1.0)
    router = Router(cfg, 3)
    x = torch.randn(4000, 3)
    assert torch.equal(router.gate.weight, torch.zeros_like(router.gate.weight))
    router.train()
    r = router(x)
    load = torch.bincount(r.topk_ids_NK.reshape(-1), minlength=8).float()
    assert load.min() > 0.8 * load.mean()  # pure noise at the start: balanced
    router.eval()
    assert torch.equal(router(x).weights_NK, router(x).weights_NK)


def test_gate_noise_changes_the_training_choice_only():
    s = dict(n=512, n_experts=4, top_k=1, dim=2, seed=3, scale=1.0)
    router, x = make_router(s, gate_noise=1.0)
    clean = router(x).topk_ids_NK
    router.train()
    noisy = router(x).topk_ids_NK
    assert not torch.equal(clean, noisy)
    router.eval()
    assert torch.equal(router(x).topk_ids_NK, clean)


def test_points_alone_skip_capacity_and_expert_choice_falls_back_to_topk():
    s = dict(n=64, n_experts=4, top_k=2, dim=2, seed=5, scale=5.0)
    router, x = make_router(s, router="expert_choice")
    alone = router(x, batch_routing=False)
    assert alone.topk_ids_NK.shape == (64, 2) and alone.kept_mask().all()
    router, x = make_router(s, capacity_factor=0.25)
    assert router(x).dropped_NK.any() and router(x, batch_routing=False).kept_mask().all()


def test_may_drop_only_with_a_capacity_or_expert_choice():
    assert not Router(ModelConfig(), 2).may_drop
    assert Router(ModelConfig(router="switch"), 2).may_drop
    assert Router(ModelConfig(capacity_factor=1.0), 2).may_drop
    assert Router(ModelConfig(router="expert_choice"), 2).may_drop


@pytest.mark.parametrize(("normalize", "constant"), [("softmax_topk", True), ("sigmoid", True), ("softmax", False)])
def test_top1_weights_renormalised_over_one_choice_are_exactly_one(normalize, constant):
    router, x = make_router(dict(n=30, n_experts=4, top_k=1, dim=2, seed=0, scale=1.0), normalize=normalize)
    weights = router(x).weights_NK
    assert router.constant_weights == constant
    assert bool((weights == 1).all()) == constant
