import math

import numpy as np
import pytest

from moe_core.probe import PointProbe
from moe_core.snapshot import measure


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
