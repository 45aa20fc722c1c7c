"""Every registered routing rule: its invariants on random batches, and what each rule promises."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from moe_core.layer.build import Build
from moe_core.layer.experts import Experts
from moe_core.layer.fast import FAST
from moe_core.layer.reference import REFERENCE
from moe_core.layer.routers import ROUTERS
from moe_core.layer.routers.base import MIN_CAPACITY, Router, within_capacity
from moe_core.layer.routers.invariants import resolve, violations
from moe_core.settings.table import ModelConfig


def router_for(name: str, n_experts: int, top_k: int, dim: int, seed: int = 0, x=None, kernels=FAST, **changes):
    """A registered router with its rule's pinned options and a noise level its rule accepts."""
    spec = ROUTERS[name]
    values = {"n_experts": n_experts, "top_k": top_k, "router": name, **changes}
    values.update({key.partition(".")[2]: value for key, value in spec.fixed.items()})
    if spec.check and spec.check(ModelConfig(**values)):
        values.update({key.partition(".")[2]: value for key, value in spec.fitting(ModelConfig(**values)).items()})
    torch.manual_seed(seed)
    return spec.implementation()(ModelConfig(**values), Build(dim, 2, True, x, seed, kernels))


def spread(router: Router, scale: float, seed: int) -> Router:
    """Random gate weights, so that scores differ (zero-initialised gates tie everywhere)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in router.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * scale)
    return router


@st.composite
def batches(draw):
    n_experts = draw(st.integers(1, 12))
    return dict(
        n=draw(st.integers(1, 64)),
        n_experts=n_experts,
        top_k=draw(st.integers(1, n_experts)),
        dim=draw(st.integers(2, 5)),
        seed=draw(st.integers(0, 10_000)),
        scale=draw(st.sampled_from([0.1, 1.0, 10.0])),
        normalize=draw(st.sampled_from(["softmax", "softmax_topk", "sigmoid"])),
        capacity_factor=draw(st.sampled_from([None, 0.25, 0.5, 1.0, 2.0])),
        balance=draw(st.sampled_from(["none", "aux_loss", "bias"])),
    )


def test_every_registered_router_names_checks_that_exist_and_a_paper():
    assert len(ROUTERS) >= 6
    for spec in ROUTERS.entries():
        assert spec.invariants and all(callable(resolve(check)) for check in spec.invariants), spec.name
        assert spec.citation and spec.label and spec.help, spec.name
        assert issubclass(spec.implementation(), Router), spec.name


@pytest.mark.parametrize("name", ROUTERS.names())
@settings(max_examples=40, deadline=None)
@given(b=batches())
def test_every_routing_of_every_router_keeps_its_invariants(name, b):
    g = torch.Generator().manual_seed(b["seed"])
    x = torch.randn(b["n"], b["dim"], generator=g)
    router = router_for(
        name,
        b["n_experts"],
        b["top_k"],
        b["dim"],
        b["seed"],
        x,
        normalize=b["normalize"],
        capacity_factor=b["capacity_factor"],
        balance=b["balance"],
    )
    spread(router, b["scale"], b["seed"]).eval()
    if b["balance"] == "bias":
        router.bias_E.copy_(torch.randn(b["n_experts"], generator=g) * 0.1)
    assert violations(router, router(x)) == []


@pytest.mark.parametrize("name", ROUTERS.names())
def test_a_broken_routing_is_caught_by_the_rules_checks(name):
    # The checks would be worthless if they passed anything: shuffling the weights across points breaks
    # every rule whose weights follow its scores, and sending every slot to expert 0 breaks the rest.
    x = torch.randn(40, 3, generator=torch.Generator().manual_seed(0))
    router = spread(router_for(name, 4, 2, 3, x=x, capacity_factor=0.5), 1.0, 0).eval()
    r = router(x)
    shuffled = type(r)(
        r.logits_NE, r.scores_NE, r.topk_ids_NK, r.weights_NK.roll(1, dims=0), r.kept_NK, r.assigned_NK, None,
        r.probabilities,
    )  # fmt: skip
    collapsed = type(r)(
        r.logits_NE, r.scores_NE, torch.zeros_like(r.topk_ids_NK), r.weights_NK, r.kept_NK,
        torch.ones_like(r.assigned_NK), None, r.probabilities,
    )  # fmt: skip
    assert violations(router, collapsed)
    if not ROUTERS[name].equal_weights:  # equal weights survive a shuffle; other rules' follow their scores
        assert violations(router, shuffled)


@pytest.mark.parametrize("name", [n for n in ROUTERS.names() if ROUTERS[n].equal_weights])
def test_a_rule_registered_with_equal_weights_gives_each_chosen_expert_one_kth(name):
    x = torch.randn(40, 3, generator=torch.Generator().manual_seed(0))
    r = spread(router_for(name, 4, 2, 3, x=x), 1.0, 0).eval()(x)
    assert torch.equal(r.weights_NK, torch.full_like(r.weights_NK, 0.5))


@pytest.mark.parametrize("name", ROUTERS.names())
def test_every_router_routes_alike_with_reference_and_fast_kernels(name):
    x = torch.randn(300, 3, generator=torch.Generator().manual_seed(1))
    routings = []
    for kernels in (REFERENCE, FAST):
        router = spread(router_for(name, 6, 2, 3, x=x, kernels=kernels, capacity_factor=0.75), 1.0, 3).eval()
        routings.append(router(x))
    ref, fast = routings
    torch.testing.assert_close(fast.topk_ids_NK, ref.topk_ids_NK)
    torch.testing.assert_close(fast.weights_NK, ref.weights_NK)
    torch.testing.assert_close(fast.kept_NK, ref.kept_NK)
    torch.testing.assert_close(fast.probs_NE, ref.probs_NE)


def test_expert_choice_leaves_exactly_the_points_no_expert_ranks_in_its_top_c():
    # Computed independently: expert e takes the c points it scores highest; a point that is in
    # no expert's top c gets nothing. (Counting alone would hold for any choice of points.)
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    router = spread(router_for("expert_choice", 4, 1, 2, capacity_factor=0.5), 1.0, 0).eval()
    r = router(x)
    probs = torch.softmax(router.logits(x), dim=1)
    c = 8  # ceil(64 * 0.5 / 4)
    taken = torch.zeros(64, 4, dtype=torch.bool)
    for e in range(4):
        taken[probs[:, e].argsort(descending=True)[:c], e] = True
    assert torch.equal(r.assigned_NK, taken)
    unserved = ~taken.any(dim=1)
    assert unserved.sum() >= 64 - 4 * c and torch.equal(~r.kept_NK.any(dim=1), unserved)


def test_points_routed_alone_skip_capacity_and_expert_choice_falls_back_to_top_k():
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(5))
    router = spread(router_for("expert_choice", 4, 2, 2), 5.0, 5).eval()
    alone = router(x, batch_routing=False)
    assert alone.topk_ids_NK.shape == (64, 2) and alone.kept_NK.all()
    torch.testing.assert_close(alone.topk_ids_NK, alone.probs_NE.topk(2, dim=1).indices)
    router = spread(router_for("topk", 4, 2, 2, capacity_factor=0.25), 5.0, 5).eval()
    assert router(x).dropped_NK.any() and router(x, batch_routing=False).kept_NK.all()


def test_capacity_serves_first_choices_by_position_then_second_choices():
    # GShard's priority: every first choice in batch order, then the second choices. Expert 0 is the first
    # choice of points 8-15 and the second of points 0-7; with room for MIN_CAPACITY it keeps points 8-11.
    ids_NK = torch.stack([torch.tensor([1] * 8 + [0] * 8), torch.tensor([0] * 8 + [2] * 8)], dim=1)
    kept_NK = within_capacity(ids_NK, factor=0.01, n_experts=4)
    assert torch.nonzero(kept_NK[:, 0] & (ids_NK[:, 0] == 0)).flatten().tolist() == list(range(8, 8 + MIN_CAPACITY))
    assert not (kept_NK[:, 1] & (ids_NK[:, 1] == 0)).any()  # no second choice while first choices wait
    assert kept_NK[:MIN_CAPACITY, 0].all() and not kept_NK[MIN_CAPACITY:8, 0].any()  # expert 1 alike, by position
    assert kept_NK.sum() == 3 * MIN_CAPACITY  # experts 0, 1 and 2 full; expert 2 on second choices alone


def test_may_drop_only_with_a_capacity_or_expert_choice():
    assert not router_for("topk", 4, 1, 2).may_drop and not router_for("dense", 4, 1, 2).may_drop
    assert router_for("switch", 4, 1, 2).may_drop  # Switch's default capacity factor is 1.25
    assert router_for("topk", 4, 1, 2, capacity_factor=1.0).may_drop
    assert router_for("expert_choice", 4, 1, 2).may_drop


@pytest.mark.parametrize(("normalize", "constant"), [("softmax_topk", True), ("sigmoid", True), ("softmax", False)])
def test_top1_weights_renormalised_over_one_choice_are_exactly_one(normalize, constant):
    x = torch.randn(30, 2, generator=torch.Generator().manual_seed(0))
    router = spread(router_for("topk", 4, 1, 2, normalize=normalize), 1.0, 0).eval()
    assert router.constant_weights == constant
    assert bool((router(x).weights_NK == 1).all()) == constant


def test_a_training_step_softmaxes_only_where_something_reads_the_probabilities():
    x = torch.randn(32, 3, generator=torch.Generator().manual_seed(0))
    router = spread(router_for("topk", 6, 2, 3, normalize="softmax_topk", balance="none"), 1.0, 0).train()
    r = router(x)
    assert "probs_NE" not in vars(r)  # not computed: the chosen logits picked and weighed
    torch.testing.assert_close(r.probs_NE, torch.softmax(r.logits_NE, dim=1))  # computed on first read
    chosen = r.probs_NE.gather(1, r.topk_ids_NK)
    torch.testing.assert_close(r.weights_NK, chosen / chosen.sum(dim=1, keepdim=True))


def test_noisy_topk_starts_balanced_from_zero_gates_and_is_noise_free_in_evaluation():
    router = router_for("noisy_topk", 8, 2, 3, gate_noise=1.0)
    router.generator = torch.Generator().manual_seed(0)
    x = torch.randn(4000, 3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(router.gate.weight, torch.zeros_like(router.gate.weight))
    load = torch.bincount(router.train()(x).topk_ids_NK.reshape(-1), minlength=8).float()
    assert load.min() > 0.8 * load.mean()  # pure noise at the start: balanced
    router.eval()
    assert torch.equal(router(x).weights_NK, router(x).weights_NK)


def test_gate_noise_changes_the_training_choice_only():
    x = torch.randn(512, 2, generator=torch.Generator().manual_seed(3))
    router = spread(router_for("topk", 4, 1, 2, gate_noise=1.0), 1.0, 3).eval()
    router.generator = torch.Generator().manual_seed(0)
    clean = router(x).topk_ids_NK
    noisy = router.train()(x)
    assert not torch.equal(clean, noisy.topk_ids_NK) and noisy.noise_std_NE is not None
    assert torch.equal(router.eval()(x).topk_ids_NK, clean)


def test_hash_routing_has_no_learned_gate_and_its_centroids_are_frozen():
    x = torch.randn(50, 3)
    router = router_for("hash", 6, 2, 3, x=x)
    assert not list(router.parameters()) and router.centroids_ED.shape == (6, 3)
    assert router.train()(x).noise_std_NE is None


def test_dense_load_is_the_gate_mass():
    x = torch.randn(20, 2)
    router = spread(router_for("dense", 3, 1, 2), 1.0, 0).eval()
    r = router(x)
    torch.testing.assert_close(router.load(r), r.probs_NE.sum(dim=0))


def test_a_router_label_names_what_each_point_gets():
    assert ROUTERS["topk"].describe(ModelConfig(top_k=2)) == "top-2"
    assert ROUTERS["expert_choice"].describe(ModelConfig(router="expert_choice")) == "expert choice"
    assert ROUTERS["switch"].describe(ModelConfig(router="switch")) == "Switch top-1"


def test_hash_routing_takes_a_capacity_like_top_k():
    x = torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
    router = router_for("hash", 4, 1, 2, x=x, capacity_factor=0.5).eval()
    r = router(x)
    assert router.may_drop and r.dropped_NK.any() and violations(router, r) == []
    assert torch.bincount(r.topk_ids_NK[r.kept_NK], minlength=4).max() <= 25  # ceil(0.5 * 200 / 4)


@pytest.mark.parametrize("name", ROUTERS.names())
def test_training_routings_with_noise_keep_the_invariants_too(name):
    x = torch.randn(128, 3, generator=torch.Generator().manual_seed(2))
    router = spread(router_for(name, 6, 2, 3, x=x, gate_noise=0.7, capacity_factor=0.75), 1.0, 2).train()
    router.generator = torch.Generator().manual_seed(0)
    assert violations(router, router(x)) == []


def test_the_patch_gate_starts_at_zero_has_no_bias_and_ignores_the_patches_order():
    router = ROUTERS["topk"].implementation()(ModelConfig(gate="patch", n_experts=5), Build(12, 2, True, patches=3))
    assert [name for name, _ in router.named_parameters()] == ["gate.linear.weight"]
    x = torch.randn(30, 12)
    assert torch.equal(router.logits(x), torch.zeros(30, 5))  # Chen et al.: the router starts at zero
    spread(router, 1.0, 0)
    theta = router.gate.linear.weight  # [E, L]: one matrix for every patch
    torch.testing.assert_close(router.logits(x), sum(x[:, 4 * p : 4 * p + 4] @ theta.T for p in range(3)))
    shuffled = x.view(30, 3, 4)[:, [1, 2, 0]].reshape(30, 12)
    torch.testing.assert_close(router.logits(shuffled), router.logits(x))


@pytest.mark.parametrize("kind", ["gaussian", "uniform", "jitter"])
def test_each_noise_kind_moves_the_training_scores_as_its_paper_says(kind):
    x = torch.randn(400, 3, generator=torch.Generator().manual_seed(5))
    router = spread(router_for("topk", 4, 1, 3, gate_noise=0.5, noise_kind=kind), 1.0, 2).train()
    router.generator = torch.Generator().manual_seed(0)
    logits = router.logits(x)
    scores, std = router.add_noise(x, logits)
    change = scores - logits
    if kind == "gaussian":  # N(0, 1) x 0.5, with its scale for the smooth load estimate
        assert std is not None and 0.4 < change.std() < 0.6
    elif kind == "uniform":  # U(0, 1) x 0.5: only upwards, below 0.5
        assert std is None and change.min() >= 0 and change.max() < 0.5 and 0.2 < change.mean() < 0.3
    else:  # the input times U(0.5, 1.5): the same as the logits of some jittered input, per point
        assert std is None and not torch.allclose(scores, logits)
        router.generator = torch.Generator().manual_seed(0)
        u = 0.5 + torch.rand(x.shape, generator=router.generator)
        torch.testing.assert_close(scores, router.logits(x * u))
    assert torch.equal(router.eval().add_noise(x, logits)[0], logits)  # evaluation is noise-free


class FixedGate(torch.nn.Module):
    """A gate that scores every point the same: log-probabilities given in advance."""

    def __init__(self, probs_E):
        super().__init__()
        self.logits_E = torch.log(torch.tensor(probs_E))

    def forward(self, x):
        return self.logits_E.expand(len(x), -1)


@pytest.mark.parametrize(
    ("p", "taken"), [(0.45, [2]), (0.5, [2]), (0.51, [2, 0]), (0.8, [2, 0]), (0.81, [2, 0, 3]), (1.0, [2, 0, 3, 1])]
)
def test_top_p_takes_the_fewest_experts_whose_probabilities_reach_p(p, taken):
    router = router_for("top_p", 4, 1, 2, top_p=p)
    router.gate = FixedGate([0.3, 0.05, 0.5, 0.15])
    r = router.eval()(torch.zeros(3, 2))
    assert [int(e) for e, kept in zip(r.topk_ids_NK[0], r.kept_NK[0], strict=True) if kept] == taken
    probs = torch.tensor([0.3, 0.05, 0.5, 0.15])
    torch.testing.assert_close(r.weights_NK[0][r.kept_NK[0]], probs[taken])  # the paper's weights: probabilities
    assert not r.dropped_NK.any()  # experts beyond p were never chosen: nothing is dropped


def test_hierarchical_probabilities_are_the_group_gate_times_the_gate_within_the_group():
    router = spread(router_for("hierarchical", 6, 2, 3, n_groups=3), 1.0, 4).eval()
    x = torch.randn(50, 3, generator=torch.Generator().manual_seed(1))
    group_NG = torch.softmax(router.group_gate(x), dim=1)
    within_NGJ = torch.softmax(router.gate(x).view(50, 3, 2), dim=2)
    r = router(x)
    torch.testing.assert_close(r.probs_NE, (group_NG.unsqueeze(2) * within_NGJ).view(50, 6))
    torch.testing.assert_close(r.probs_NE.sum(dim=1), torch.ones(50))
    assert [int(router.group_of(torch.tensor(e))) for e in range(6)] == [0, 0, 1, 1, 2, 2]


def test_hierarchical_needs_groups_that_divide_the_experts_and_suggests_some():
    spec = ROUTERS["hierarchical"]
    assert "divides model.n_experts" in spec.check(ModelConfig(router="hierarchical", n_experts=6, n_groups=4))
    assert spec.fitting(ModelConfig(router="hierarchical", n_experts=6, n_groups=4)) == {"model.n_groups": 3}


def test_soft_moe_slots_average_the_group_and_points_average_the_slots():
    router = spread(router_for("soft", 3, 1, 2, slots_per_expert=2), 1.0, 3).train()
    experts = Experts(3, 2, 4, 2)
    x = torch.randn(10, 2, generator=torch.Generator().manual_seed(0))
    logits = router.slot_logits(x)  # [G, S = 6]
    dispatch, combine = torch.softmax(logits, dim=0), torch.softmax(logits, dim=1)
    slot_in = dispatch.T @ x  # each slot's input: a weighted average of the group's points
    slot_out = torch.stack([experts.forward_one(s // 2, slot_in[s : s + 1])[0] for s in range(6)])
    torch.testing.assert_close(router.mix(x, experts), combine @ slot_out)
    torch.testing.assert_close(dispatch.sum(dim=0), torch.ones(6))  # each slot's weights over the points
    r = router(x)
    torch.testing.assert_close(r.weights_NK.sum(dim=1), torch.ones(10))  # nothing dropped, shares sum to 1
    torch.testing.assert_close(r.weights_NK[:, 1], combine[:, 2:4].sum(dim=1))  # expert 1 owns slots 2 and 3


def test_soft_moe_evaluates_each_point_in_the_fixed_group_of_the_context_and_itself():
    context = torch.randn(7, 2, generator=torch.Generator().manual_seed(1))
    router = spread(router_for("soft", 3, 1, 2, x=context, soft_group=8), 2.0, 4)
    experts = Experts(3, 2, 4, 2)
    queries = torch.randn(5, 2, generator=torch.Generator().manual_seed(2)) * 3
    alone = router.eval().mix(queries, experts)
    for n in range(5):
        group = torch.cat([context, queries[n : n + 1]])
        as_trained = router.train().mix(group, experts)[-1]  # the same point, last of that group
        torch.testing.assert_close(alone[n], as_trained, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(router.eval().mix(queries[2:3], experts)[0], alone[2])  # its own, whatever came with it
