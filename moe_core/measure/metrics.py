"""Load, collapse, router, specialisation and task metrics: pure numpy functions, and `Metrics`, the
record of one snapshot that `measure` fills from two point probes.

Shapes: N points, E experts, C latent clusters. A contingency table is [E, C]: points of cluster c
that expert e served, by the routing as executed (`probe.executed_expert`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
from sklearn.metrics import mutual_info_score

if TYPE_CHECKING:  # probe.py reads gate_entropy from here
    from moe_core.measure.probe import PointProbe

DEAD_SHARE = 0.01  # an expert is dead below 1% of its fair share 1/E


def load_share(load_E: np.ndarray) -> np.ndarray:
    """Each expert's fraction of the routed slots (sums to 1)."""
    load_E = np.asarray(load_E, dtype=np.float64)
    total = load_E.sum()
    return load_E / total if total > 0 else np.full_like(load_E, 1.0 / len(load_E))


def entropy(share_E: np.ndarray) -> float:
    """Shannon entropy in nats, with 0 log 0 = 0."""
    p = np.asarray(share_E, dtype=np.float64)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum()) + 0.0  # + 0.0 turns -0.0 into 0.0


def normalized_entropy(share_E: np.ndarray) -> float:
    """Usage entropy divided by log E: 1 for perfect balance, 0 when one expert takes everything."""
    n = len(share_E)
    return 1.0 if n == 1 else entropy(share_E) / np.log(n)


def effective_experts(share_E: np.ndarray) -> float:
    """exp(entropy): how many equally used experts would give the same entropy."""
    return float(np.exp(entropy(share_E)))


def cv_squared(load_E: np.ndarray) -> float:
    """Var / mean^2 with the population variance: 0 balanced, E - 1 all on one expert (T2T CVSquared)."""
    load_E = np.asarray(load_E, dtype=np.float64)
    mean = load_E.mean()
    return float(load_E.var() / (mean**2 + 1e-10))


def max_violation(load_E: np.ndarray) -> float:
    """MaxVio = (max load - mean load) / mean load (Wang et al. 2024): 0 balanced, E - 1 collapsed."""
    load_E = np.asarray(load_E, dtype=np.float64)
    mean = load_E.mean()
    return float((load_E.max() - mean) / mean) if mean > 0 else 0.0


def dead_experts(share_E: np.ndarray) -> int:
    """Experts whose share is below 1% of the fair share 1/E."""
    share_E = np.asarray(share_E)
    return int((share_E < DEAD_SHARE / len(share_E)).sum())


def router_z(logits_NE: np.ndarray) -> float:
    """ST-MoE's z = mean_x (logsumexp_j h_j(x))^2."""
    logits_NE = np.asarray(logits_NE, dtype=np.float64)
    top = logits_NE.max(axis=1, keepdims=True)
    lse_N = top[:, 0] + np.log(np.exp(logits_NE - top).sum(axis=1))
    return float((lse_N**2).mean())


def confidence(probs_NE: np.ndarray) -> float:
    """Mean top-1 router probability."""
    return float(np.asarray(probs_NE).max(axis=1).mean())


def margin(probs_NE: np.ndarray) -> float:
    """Mean gap between the top-1 and top-2 router probabilities (1 with a single expert)."""
    probs_NE = np.asarray(probs_NE)
    if probs_NE.shape[1] == 1:
        return 1.0
    top2 = -np.partition(-probs_NE, 1, axis=1)[:, :2]
    return float((top2[:, 0] - top2[:, 1]).mean())


def tie_rate(probs_NE: np.ndarray, tolerance: float = 1e-6) -> float:
    """Share of points whose top-1 and top-2 router probabilities are equal (0 with a single expert)."""
    probs_NE = np.asarray(probs_NE)
    if probs_NE.shape[1] == 1 or len(probs_NE) == 0:
        return 0.0
    top2 = -np.partition(-probs_NE, 1, axis=1)[:, :2]
    return float((top2[:, 0] - top2[:, 1] <= tolerance).mean())


def gate_entropy(probs_NE: np.ndarray) -> np.ndarray:
    """Each point's router entropy over log E, [N]: 0 certain, 1 undecided."""
    probs_NE = np.asarray(probs_NE, dtype=np.float64)
    n_experts = probs_NE.shape[1]
    if n_experts == 1:
        return np.zeros(len(probs_NE))
    p = np.clip(probs_NE, 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1) / np.log(n_experts)


def flip_rate(previous_N: np.ndarray | None, current_N: np.ndarray) -> float | None:
    """Share of probe points whose first-choice expert changed since the last snapshot (None at first)."""
    if previous_N is None or len(previous_N) != len(current_N):
        return None
    return float((np.asarray(previous_N) != np.asarray(current_N)).mean())


def contingency(expert_N: np.ndarray, cluster_N: np.ndarray, n_experts: int, n_clusters: int) -> np.ndarray:
    """[E, C] counts of cluster-c points served by expert e."""
    table = np.zeros((n_experts, n_clusters), dtype=np.int64)
    np.add.at(table, (np.asarray(expert_N), np.asarray(cluster_N)), 1)
    return table


def purity(table_EC: np.ndarray) -> float:
    """sum_e max_c n[e, c] / N: 1 when every expert serves a single cluster."""
    table_EC = np.asarray(table_EC)
    total = table_EC.sum()
    return float(table_EC.max(axis=1).sum() / total) if total else 0.0


def cluster_nmi(table_EC: np.ndarray) -> float:
    """Normalised mutual information I / sqrt(H(C) H(E)) between expert and cluster, from their [E, C]
    contingency table: scikit-learn's normalized_mutual_info_score (geometric mean) and its limit
    cases, without rebuilding the table from the labels at every snapshot."""
    table_EC = np.asarray(table_EC)
    table_EC = table_EC[table_EC.sum(axis=1) > 0][:, table_EC.sum(axis=0) > 0]  # the labels that occur
    rows, cols = table_EC.sum(axis=1), table_EC.sum(axis=0)
    if len(rows) == len(cols) <= 1:  # one expert for one cluster (or no points): a perfect match
        return 1.0
    mutual = mutual_info_score(None, None, contingency=table_EC)
    if mutual <= 0:  # one side has a single label: no information
        return 0.0
    return float(mutual / math.sqrt(entropy(rows / rows.sum()) * entropy(cols / cols.sum())))


def dispatch_entropy(table_EC: np.ndarray) -> float:
    """Chen et al. 2022: sum_e (n_e / N) H(cluster | expert e), natural log; 0 = one cluster per expert."""
    table_EC = np.asarray(table_EC, dtype=np.float64)
    total = table_EC.sum()
    if total == 0:
        return 0.0
    n_E = table_EC.sum(axis=1)
    used = n_E > 0
    return float(sum(n / total * entropy(row / n) for n, row in zip(n_E[used], table_EC[used], strict=True)))


def per_expert_mean(values_N: np.ndarray, expert_N: np.ndarray, n_experts: int) -> np.ndarray:
    """Mean of a per-point value over each expert's points, [E]; NaN for an expert with no points."""
    sums = np.bincount(expert_N, weights=values_N, minlength=n_experts)
    counts = np.bincount(expert_N, minlength=n_experts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def accuracy(predicted_N: np.ndarray, y_N: np.ndarray) -> float:
    return float((np.asarray(predicted_N) == np.asarray(y_N)).mean())


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
    experts_per_point: float | None = None  # kept slots per point: k for top-k, varying for top-p
    expert_flops: float | None = None  # multiply-adds per point in the experts it reached
    router_z: float | None = None
    confidence: float | None = None
    margin: float | None = None
    # Points whose two best router probabilities tie: an untrained gate (zero at the start), whose
    # noise-free choice is the first expert for every point; that reads as collapse but is not.
    tie_rate: float | None = None
    flip_rate: float | None = None  # None at the first snapshot
    balance_loss: float | None = None
    gate_noise: float | None = None  # the gate noise and balance weight in force (schedules move them)
    balance_weight: float | None = None
    expert_loss: tuple[float | None, ...] | None = None  # mean loss of each expert's own output on its points
    # Specialisation, where the latent clusters are known.
    contingency: tuple[tuple[int, ...], ...] | None = None  # [E][C]
    purity: float | None = None
    cluster_nmi: float | None = None
    dispatch_entropy: float | None = None
    expert_similarity: float | None = None  # mean squared cosine between experts' outputs (1 alike, 0 apart)
    # Alignment with the data's hidden directions, where it has them (moe_core.measure.directions, Kawata et al.).
    expert_alignment: tuple[tuple[float, ...], ...] | None = None  # [E][K]
    local_alignment: float | None = None
    global_alignment: float | None = None
    router_alignment: float | None = None

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
    test_accuracy = accuracy(test.output_NO.argmax(axis=1), y_N) if classification else None
    base = dict(
        step=step,
        train_loss=float(train.loss_N.mean()),
        test_loss=float(test.loss_N.mean()),
        test_accuracy=test_accuracy,
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
    share_E = load_share(test.load_E)
    assigned = test.assigned_NK.sum()
    dropped = (test.assigned_NK & ~test.kept_NK).sum()
    return dict(
        load_share=tuple(float(s) for s in share_E),
        load_entropy=normalized_entropy(share_E),
        effective_experts=effective_experts(share_E),
        load_cv2=cv_squared(test.load_E),
        max_vio=max_violation(test.load_E),
        dead_experts=dead_experts(share_E),
        drop_rate=float(dropped / assigned) if assigned else 0.0,
        unrouted_rate=float((~test.kept_NK.any(axis=1)).mean()),
        experts_per_point=float(test.kept_NK.sum(axis=1).mean()),
        expert_flops=None if test.flops_N is None else float(test.flops_N.mean()),
        router_z=router_z(test.logits_NE),
        confidence=confidence(test.probs_NE),
        margin=margin(test.probs_NE),
        tie_rate=tie_rate(test.probs_NE),
        flip_rate=flip_rate(previous_first_N, test.first_N),
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
    per_E = per_expert_mean(loss_N, test.first_N, n_experts)
    return tuple(None if math.isnan(v) else float(v) for v in per_E)


def _specialisation(test: PointProbe, clusters_N: np.ndarray | None, n_clusters: int) -> dict:
    """Which expert serves which cluster, by the routing as executed (expert choice's own picks; a
    point that no expert took counts for none)."""
    if clusters_N is None:
        return {}
    n_experts = test.probs_NE.shape[1]
    expert_N = test.first_N if test.executed_N is None else test.executed_N
    taken = expert_N >= 0
    table = contingency(expert_N[taken], clusters_N[taken], n_experts, max(n_clusters, int(clusters_N.max()) + 1))
    return dict(
        contingency=tuple(tuple(int(v) for v in row) for row in table),
        purity=purity(table),
        cluster_nmi=cluster_nmi(table) if taken.any() else 0.0,
        dispatch_entropy=dispatch_entropy(table),
    )
