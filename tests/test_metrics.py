import math

import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score

from moe_core.measure import metrics as m
from moe_core.measure.metrics import Metrics, measure
from moe_core.measure.probe import PointProbe


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
    assert m.cluster_nmi(table) == pytest.approx(mutual / math.sqrt(h_c * h_e))


def test_perfect_specialisation_and_none():
    cluster = np.repeat(np.arange(4), 5)
    table = m.contingency(cluster, cluster, 4, 4)
    assert m.purity(table) == 1.0 and m.dispatch_entropy(table) == 0.0
    assert m.cluster_nmi(table) == pytest.approx(1.0)
    one_expert = np.zeros(20, dtype=int)
    table = m.contingency(one_expert, cluster, 4, 4)
    assert m.dispatch_entropy(table) == pytest.approx(math.log(4))
    assert m.cluster_nmi(table) == pytest.approx(0.0)


@pytest.mark.parametrize("seed", range(20))
def test_nmi_from_the_table_is_scikit_learns_from_the_labels(seed):
    rng = np.random.default_rng(seed)
    n, n_experts, n_clusters = int(rng.integers(1, 60)), int(rng.integers(1, 6)), int(rng.integers(1, 6))
    expert = rng.integers(0, n_experts, n) if seed % 4 else np.zeros(n, dtype=int)  # some with one expert
    cluster = rng.integers(0, n_clusters, n) if seed % 5 else np.zeros(n, dtype=int)  # some with one cluster
    table = m.contingency(expert, cluster, n_experts, n_clusters)
    wanted = normalized_mutual_info_score(cluster, expert, average_method="geometric")
    assert m.cluster_nmi(table) == pytest.approx(wanted, abs=1e-12)


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


def hand_made_probe() -> PointProbe:
    # 4 points, 2 experts, top-1; point 3's slot was dropped by capacity.
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    first = probs.argmax(axis=1)
    kept = np.array([[True], [True], [True], [False]])
    expert_out = np.zeros((4, 2, 2))
    expert_out[:, 0] = [5.0, -5.0]  # expert 0 says class 0
    expert_out[:, 1] = [-5.0, 5.0]  # expert 1 says class 1
    return PointProbe(
        output_NO=np.array([[2.0, 0.0], [2.0, 0.0], [0.0, 2.0], [0.0, 0.0]]),
        value_N=np.zeros(4),
        loss_N=np.array([0.1, 0.2, 0.3, 0.4]),
        logits_NE=np.log(probs),
        probs_NE=probs,
        first_N=first,
        second_N=1 - first,
        ids_NK=first[:, None],
        weights_NK=probs.max(axis=1, keepdims=True) * kept,
        assigned_NK=np.ones((4, 1), dtype=bool),
        kept_NK=kept,
        load_E=np.bincount(first, minlength=2).astype(float),
        own_out_NO=expert_out[np.arange(4), first],
        balance_loss=1.25,
    )


def test_measure_on_a_hand_made_probe():
    probe = hand_made_probe()
    y = np.array([0, 0, 1, 1])
    clusters = np.array([0, 0, 1, 1])
    m = measure(7, probe, probe, y, clusters, classification=True, previous_first_N=np.array([0, 1, 1, 0]))
    assert m.step == 7 and m.train_loss == pytest.approx(0.25) and m.test_accuracy == pytest.approx(0.75)
    assert m.load_share == (0.75, 0.25)
    assert m.drop_rate == 0.25 and m.unrouted_rate == 0.25
    assert m.flip_rate == 0.25 and m.balance_loss == 1.25
    assert m.contingency == ((2, 1), (0, 1))
    assert m.purity == pytest.approx(0.75)
    assert m.dispatch_entropy == pytest.approx(0.75 * (-(1 / 3) * math.log(1 / 3) - (2 / 3) * math.log(2 / 3)))
    # Expert 0 serves points 0, 1 (class 0, right) and 3 (class 1, wrong); expert 1 serves point 2 (right).
    wrong = math.log(1 + math.exp(10))
    right = math.log(1 + math.exp(-10))
    assert m.expert_loss[0] == pytest.approx((2 * right + wrong) / 3)
    assert m.expert_loss[1] == pytest.approx(right)
    assert m.to_dict()["load_share"] == (0.75, 0.25)


def test_regression_and_unknown_clusters_leave_those_fields_empty():
    probe = hand_made_probe()
    m = measure(0, probe, probe, np.zeros(4), None, classification=False, previous_first_N=None)
    assert m.test_accuracy is None and m.cluster_nmi is None and m.contingency is None and m.flip_rate is None


def test_a_dense_model_gets_the_task_metrics_only():
    probe = hand_made_probe()
    dense = PointProbe(output_NO=probe.output_NO, value_N=probe.value_N, loss_N=probe.loss_N)
    got = measure(3, dense, dense, np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]), True, None)
    routing_fields = [f for f in Metrics.__dataclass_fields__ if f not in ("step", "train_loss", "test_loss")]
    assert got.test_accuracy == pytest.approx(0.75)
    assert all(getattr(got, f) is None for f in routing_fields if f != "test_accuracy")


def test_n_clusters_keeps_a_column_for_a_cluster_the_probe_missed():
    # The probe saw clusters 0 and 1 only; the dataset has 3, and the table keeps the third (empty) column.
    probe = hand_made_probe()
    got = measure(0, probe, probe, np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]), True, None, n_clusters=3)
    assert got.contingency == ((2, 1, 0), (0, 1, 0))


def test_tie_rate_counts_points_whose_two_best_probabilities_are_equal():
    probs = np.array([[0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1], [0.4, 0.4, 0.2, 0.0], [0.5, 0.3, 0.2, 0.0]])
    assert m.tie_rate(probs) == 0.5 and m.tie_rate(np.ones((3, 1))) == 0.0
