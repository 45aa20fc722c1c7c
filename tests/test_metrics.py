import math

import numpy as np
import pytest

from moe_core import metrics as m


def test_balanced_and_collapsed_load():
    balanced, collapsed = np.array([5, 5, 5, 5]), np.array([20, 0, 0, 0])
    assert m.load_share(balanced).tolist() == [0.25] * 4
    assert m.normalized_entropy(m.load_share(balanced)) == pytest.approx(1.0)
    assert m.normalized_entropy(m.load_share(collapsed)) == 0.0
    assert m.effective_experts(m.load_share(balanced)) == pytest.approx(4.0)
    assert m.effective_experts(m.load_share(collapsed)) == pytest.approx(1.0)
    assert m.cv_squared(balanced) == pytest.approx(0.0) and m.cv_squared(collapsed) == pytest.approx(3.0)
    assert m.max_violation(balanced) == 0.0 and m.max_violation(collapsed) == pytest.approx(3.0)
    assert m.dead_experts(m.load_share(balanced)) == 0 and m.dead_experts(m.load_share(collapsed)) == 3


def test_dead_means_below_one_percent_of_the_fair_share():
    share = np.array([0.5, 0.4975, 0.0025, 0.0])  # fair 0.25; 1% of it is 0.0025
    assert m.dead_experts(share) == 1


def test_a_single_expert_is_perfectly_balanced_and_certain():
    assert m.normalized_entropy(np.array([1.0])) == 1.0
    assert m.margin(np.array([[1.0], [1.0]])) == 1.0
    assert m.gate_entropy(np.array([[1.0]])).tolist() == [0.0]


def test_router_confidence_margin_and_z():
    probs = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2]])
    assert m.confidence(probs) == pytest.approx(0.55)
    assert m.margin(probs) == pytest.approx(0.25)
    assert m.router_z(np.zeros((2, 4))) == pytest.approx(math.log(4) ** 2)
    entropy = m.gate_entropy(np.array([[0.5, 0.5], [1.0, 0.0]]))
    assert entropy == pytest.approx([1.0, 0.0], abs=1e-9)


def test_flip_rate():
    assert m.flip_rate(None, np.array([0, 1])) is None
    assert m.flip_rate(np.array([0, 1, 2, 3]), np.array([0, 1, 3, 3])) == 0.25


def test_contingency_purity_and_nmi_on_a_hand_made_table():
    expert = np.array([0, 0, 1, 1, 2, 2, 2, 2])
    cluster = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    table = m.contingency(expert, cluster, n_experts=4, n_clusters=4)
    assert table.tolist() == [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 2], [0, 0, 0, 0]]
    assert m.purity(table) == pytest.approx(6 / 8)
    # Expert 2 mixes two equal clusters: half the points carry log 2 of cluster entropy.
    assert m.dispatch_entropy(table) == pytest.approx(0.5 * math.log(2))
    h_c, h_e = math.log(4), 1.5 * math.log(2)
    mutual = h_c - 0.5 * math.log(2)
    assert m.cluster_nmi(expert, cluster) == pytest.approx(mutual / math.sqrt(h_c * h_e))


def test_perfect_specialisation_and_none():
    cluster = np.repeat(np.arange(4), 5)
    table = m.contingency(cluster, cluster, 4, 4)
    assert m.purity(table) == 1.0 and m.dispatch_entropy(table) == 0.0
    assert m.cluster_nmi(cluster, cluster) == pytest.approx(1.0)
    one_expert = np.zeros(20, dtype=int)
    table = m.contingency(one_expert, cluster, 4, 4)
    assert m.dispatch_entropy(table) == pytest.approx(math.log(4))
    assert m.cluster_nmi(one_expert, cluster) == pytest.approx(0.0)


def test_more_experts_than_clusters_can_be_dead_yet_perfectly_specialised():
    # Reference section 2: E = 8, K = 4 with every cluster on its own expert leaves 4 experts idle.
    cluster = np.repeat(np.arange(4), 10)
    expert = np.array([2, 5, 6, 7])[cluster]
    share = m.load_share(np.bincount(expert, minlength=8))
    assert m.dead_experts(share) == 4 and m.max_violation(np.bincount(expert, minlength=8)) == pytest.approx(1.0)
    assert m.dispatch_entropy(m.contingency(expert, cluster, 8, 4)) == 0.0


def test_per_expert_mean_and_accuracy():
    means = m.per_expert_mean(np.array([1.0, 3.0, 5.0]), np.array([0, 0, 2]), 3)
    assert means[0] == 2.0 and np.isnan(means[1]) and means[2] == 5.0
    assert m.accuracy(np.array([1, 0, 1]), np.array([1, 1, 1])) == pytest.approx(2 / 3)
