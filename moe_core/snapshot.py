"""One measurement of a run: every metric of design.md section 6 from two point probes.

Shapes: N probe points, E experts, C latent clusters.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from moe_core import metrics as m
from moe_core.probe import PointProbe


@dataclass(frozen=True)
class Metrics:
    step: int
    train_loss: float
    test_loss: float
    test_accuracy: float | None  # None for a regression
    # Routing metrics on the test probe; None for a dense MLP.
    load_share: tuple[float, ...] | None = None
    load_entropy: float | None = None  # usage entropy / log E
    effective_experts: float | None = None
    load_cv2: float | None = None
    max_vio: float | None = None
    dead_experts: int | None = None
    drop_rate: float | None = None  # dropped slots / routed slots (capacity)
    unrouted_rate: float | None = None  # points that reached no expert (expert choice, or all slots dropped)
    router_z: float | None = None
    confidence: float | None = None
    margin: float | None = None
    flip_rate: float | None = None  # None at the first snapshot
    balance_loss: float | None = None
    expert_loss: tuple[float | None, ...] | None = None  # mean loss of each expert's own output on its points
    # Specialisation, where the latent clusters are known.
    contingency: tuple[tuple[int, ...], ...] | None = None  # [E][C]
    purity: float | None = None
    cluster_nmi: float | None = None
    dispatch_entropy: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def measure(
    step: int,
    train: PointProbe,
    test: PointProbe,
    y_N: np.ndarray,
    clusters_N: np.ndarray | None,
    classification: bool,
    previous_first_N: np.ndarray | None,
    n_clusters: int = 0,
) -> Metrics:
    """All metrics of one snapshot; `n_clusters` keeps a cluster column even when the probe lacks its points."""
    accuracy = m.accuracy(test.output_NO.argmax(axis=1), y_N) if classification else None
    base = dict(
        step=step, train_loss=float(train.loss_N.mean()), test_loss=float(test.loss_N.mean()), test_accuracy=accuracy
    )
    if test.load_E is None:
        return Metrics(**base)
    return Metrics(
        **base,
        **_routing_metrics(test, y_N, classification, previous_first_N),
        **_specialisation(test, clusters_N, n_clusters),
    )


def _routing_metrics(test: PointProbe, y_N, classification: bool, previous_first_N) -> dict:
    n_experts = test.probs_NE.shape[1]
    share_E = m.load_share(test.load_E)
    assigned = test.assigned_NK.sum()
    dropped = (test.assigned_NK & ~test.kept_NK).sum()
    return dict(
        load_share=tuple(float(s) for s in share_E),
        load_entropy=m.normalized_entropy(share_E),
        effective_experts=m.effective_experts(share_E),
        load_cv2=m.cv_squared(test.load_E),
        max_vio=m.max_violation(test.load_E),
        dead_experts=m.dead_experts(share_E),
        drop_rate=float(dropped / assigned) if assigned else 0.0,
        unrouted_rate=float((~test.kept_NK.any(axis=1)).mean()),
        router_z=m.router_z(test.logits_NE),
        confidence=m.confidence(test.probs_NE),
        margin=m.margin(test.probs_NE),
        flip_rate=m.flip_rate(previous_first_N, test.first_N),
        balance_loss=test.balance_loss,
        expert_loss=_expert_loss(test, y_N, classification, n_experts),
    )


def _expert_loss(test: PointProbe, y_N: np.ndarray, classification: bool, n_experts: int):
    """Each expert's loss, its own output on the points whose first choice it is."""
    own_NO = test.own_out_NO
    if classification:
        shifted = own_NO - own_NO.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss_N = -log_probs[np.arange(len(y_N)), y_N]
    else:
        with np.errstate(over="ignore"):  # a diverging run's outputs overflow: an infinite loss is the reading
            loss_N = (own_NO[:, 0] - y_N) ** 2
    per_E = m.per_expert_mean(loss_N, test.first_N, n_experts)
    return tuple(None if math.isnan(v) else float(v) for v in per_E)


def _specialisation(test: PointProbe, clusters_N: np.ndarray | None, n_clusters: int) -> dict:
    if clusters_N is None:
        return {}
    n_experts = test.probs_NE.shape[1]
    table = m.contingency(test.first_N, clusters_N, n_experts, max(n_clusters, int(clusters_N.max()) + 1))
    return dict(
        contingency=tuple(tuple(int(v) for v in row) for row in table),
        purity=m.purity(table),
        cluster_nmi=m.cluster_nmi(test.first_N, clusters_N),
        dispatch_entropy=m.dispatch_entropy(table),
    )
