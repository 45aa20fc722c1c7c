"""The collapse watch and the overfitting note in words: what a run's metric history shows, read from
the same numbers its charts draw (load share, the cluster x expert contingency table, drops, ties).

Shapes: E experts, C latent clusters; a contingency table is [E][C] (`moe_core.measure.metrics`).
Pure: no Streamlit, no Plotly; the page puts the sentences in a coloured box.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from moe_core.measure.metrics import Metrics

# A pattern is said once it has held this many steps: the untrained router's first partition often
# gives one expert two clusters, and a balance loss undoes that within about 15 steps (default
# config, seed 0), while without one the pattern that forms by step 4 stays for good.
HOLD_STEPS = 50
IDLE_SHARE = 0.1  # an expert under a tenth of its fair share 1/E is idle (the chart's "dead" is 1%)
TIE_RATE = 0.5  # over half the points tied: the gate has learnt nothing (see Metrics.tie_rate)
LOW_ENTROPY = 0.5  # load entropy / log E under this: collapsed, where the clusters are unknown
DROPS_SAID = 0.05  # capacity drops worth a sentence
DROPS_WARN = 0.2
COST_WARN = 0.05  # accuracy this far under the dense baseline is a cost worth a warning
# Overfitting: the test loss this far above its minimum (and by this much) while train loss fell.
OVERFIT_RATIO = 1.5
OVERFIT_MARGIN = 0.1
LEVELS = ("success", "info", "warning")


@dataclass(frozen=True)
class Takeover:
    """An expert serving the most points of two or more clusters."""

    expert: int
    clusters: tuple[int, ...]
    share: float  # its load share


@dataclass(frozen=True)
class Diagnosis:
    """What the collapse watch says at one snapshot, and the facts its sentences name."""

    level: str  # "success", "info" or "warning"
    sentences: tuple[str, ...]
    step: int
    takeovers: tuple[Takeover, ...] = ()
    idle: tuple[tuple[int, float], ...] = ()  # (expert, load share) under IDLE_SHARE of the fair share
    since: int | None = None  # the first snapshot's step of the pattern said, held since
    drop_rate: float | None = None
    tie_rate: float | None = None

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def owners(contingency: Sequence[Sequence[int]]) -> dict[int, tuple[int, ...]]:
    """Expert -> the clusters it serves most of (over half of each cluster's points)."""
    table_EC = np.asarray(contingency)
    held: dict[int, list[int]] = {}
    for c, column_E in enumerate(table_EC.T):
        e = int(np.argmax(column_E))
        if column_E.sum() and column_E[e] * 2 > column_E.sum():
            held.setdefault(e, []).append(c)
    return {e: tuple(cs) for e, cs in held.items()}


def takeovers(m: Metrics) -> tuple[Takeover, ...]:
    """The experts holding two or more clusters, busiest first."""
    if m.contingency is None or m.load_share is None:
        return ()
    found = [Takeover(e, cs, m.load_share[e]) for e, cs in owners(m.contingency).items() if len(cs) >= 2]
    return tuple(sorted(found, key=lambda t: -t.share))


def idle(m: Metrics) -> tuple[tuple[int, float], ...]:
    share = m.load_share or ()
    return tuple((e, s) for e, s in enumerate(share) if s < IDLE_SHARE / len(share))


def _pattern(m: Metrics) -> tuple:
    """What the sentences name: who holds which clusters, who is idle, and (without clusters) the busiest."""
    busiest = None if m.contingency is not None else int(np.argmax(m.load_share))
    low = m.contingency is None and m.load_entropy < LOW_ENTROPY
    taken = tuple((t.expert, t.clusters) for t in takeovers(m))
    return len(m.load_share), taken, tuple(e for e, _ in idle(m)), busiest, low


def since(history: Sequence[Metrics]) -> int:
    """The step of the first snapshot of the unbroken run of snapshots, up to the last, whose pattern
    (takeovers, idle experts) is the last one's: when what the watch says began and stayed."""
    routed = [m for m in history if m.load_share is not None]
    now, start = _pattern(routed[-1]), routed[-1].step
    for m in reversed(routed):
        if _pattern(m) != now:
            break
        start = m.step
    return start


def _names(items: Sequence[int], word: str) -> str:
    names = [str(i) for i in items]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{word}s {listed}" if len(names) > 1 else f"{word} {listed}"


def _experts(items: Sequence[int]) -> str:
    names = [f"E{e}" for e in items]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _takeover_text(ts: Sequence[Takeover], n_clusters: int) -> str:
    parts = []
    for i, t in enumerate(ts):
        what = f"all {n_clusters} clusters" if len(t.clusters) == n_clusters else _names(t.clusters, "cluster")
        parts.append(f"E{t.expert} {'takes ' if i == 0 else ''}{what} ({t.share:.0%} of the load)")
    return ", ".join(parts)


def _idle_text(gone: Sequence[tuple[int, float]], n_experts: int) -> str:
    if len(gone) == 1:
        e, share = gone[0]
        return f"E{e} gets {share:.0%} of the load"
    return f"{len(gone)} of {n_experts} experts get almost no points ({_experts([e for e, _ in gone])})"


def _collapse(m: Metrics, balance: str | None, started: int) -> tuple[str, list[str]] | None:
    """(level, sentences) on who took what: collapse, forced sharing, or idle experts explained."""
    n_experts, taken, gone = len(m.load_share), takeovers(m), idle(m)
    n_clusters = 0 if m.contingency is None else len(m.contingency[0])
    advice = (
        "Turn on a balance strategy and press Reset to watch the load spread."
        if balance == "none"
        else "A larger balance loss weight or more gate noise spreads the load."
    )
    began = f"It began at step {started} and has held since."
    if taken and gone:
        return "warning", [f"Collapse: {_takeover_text(taken, n_clusters)}, while {_idle_text(gone, n_experts)}.",
                           began, advice]  # fmt: skip
    if taken and n_experts >= n_clusters:
        return "warning", [f"Partial collapse: {_takeover_text(taken, n_clusters)}, though there are experts enough "
                           "for one per cluster.", began, advice]  # fmt: skip
    if taken:
        return "info", [
            f"{_takeover_text(taken, n_clusters)}: with {n_experts} experts for {n_clusters} clusters, some must "
            "share an expert."
        ]
    if m.contingency is None and m.load_entropy < LOW_ENTROPY:
        busiest = int(np.argmax(m.load_share))
        return "warning", [
            f"Collapse: E{busiest} takes {m.load_share[busiest]:.0%} of the load, {m.effective_experts:.1f} "
            f"effective experts of {n_experts}.",
            began,
            advice,
        ]
    if gone and m.contingency is not None and n_experts > n_clusters and len(owners(m.contingency)) == n_clusters:
        return "success", [
            f"{_idle_text(gone, n_experts)}, but each cluster has its own expert (NMI {m.cluster_nmi:.2f}): with "
            f"{n_experts} experts for {n_clusters} clusters that is expected, not collapse."
        ]
    if gone:
        return "info", [f"{_idle_text(gone, n_experts)}."]
    return None


def _drops(m: Metrics, baseline: Metrics | None) -> tuple[str, list[str]] | None:
    """(level, sentences) on what capacity turns away and what it costs against the dense baseline."""
    drop, unrouted = m.drop_rate or 0.0, m.unrouted_rate or 0.0
    if max(drop, unrouted) < DROPS_SAID:
        return None
    if drop >= DROPS_SAID and abs(drop - unrouted) < 0.01:
        said = [f"Capacity drops {drop:.0%} of the points (drop rate {drop:.2f}): they reach no expert (× on the map)."]
    elif drop >= DROPS_SAID:
        said = [f"Capacity drops {drop:.0%} of the routed slots (drop rate {drop:.2f}); {unrouted:.0%} of the "
                "points reach no expert."]  # fmt: skip
    else:
        said = [f"{unrouted:.0%} of the points reach no expert: none chose them."]
    level = "warning" if max(drop, unrouted) >= DROPS_WARN else "info"
    if baseline is not None and m.test_accuracy is not None and baseline.test_accuracy is not None:
        said.append(f"Test accuracy is {m.test_accuracy:.0%}, against {baseline.test_accuracy:.0%} for the dense "
                    "baseline; a larger capacity factor drops fewer.")  # fmt: skip
        level = "warning" if baseline.test_accuracy - m.test_accuracy > COST_WARN else level
    elif baseline is not None and m.test_accuracy is None:
        said.append(f"Test loss is {m.test_loss:.3f}, against {baseline.test_loss:.3f} for the dense baseline; a "
                    "larger capacity factor drops fewer.")  # fmt: skip
    else:
        said.append("A dropped point's output is zero, which costs accuracy; a larger capacity factor drops fewer.")
    return level, said


def diagnose(
    history: Sequence[Metrics], baseline: Sequence[Metrics] | None = None, balance: str | None = None
) -> Diagnosis | None:
    """What the collapse watch says after the last snapshot of `history` (the dense baseline's history
    prices the drops; `balance`, the strategy in force, picks the advice); None when nothing is worth
    saying: no routing, one expert, under HOLD_STEPS of training, or a balanced run."""
    routed = [m for m in history if m.load_share is not None]
    if not routed or len(routed[-1].load_share) == 1 or routed[-1].step < HOLD_STEPS:
        return None
    m = routed[-1]
    if m.tie_rate is not None and m.tie_rate > TIE_RATE:
        return Diagnosis("info", (_TIES.format(m.tie_rate),), m.step, tie_rate=m.tie_rate)
    started = since(routed)
    said = []
    if m.step - started >= HOLD_STEPS:
        said.append(_collapse(m, balance, started))
    said.append(_drops(m, baseline[-1] if baseline else None))
    said = [s for s in said if s is not None]
    if not said:
        return None
    level = max((lvl for lvl, _ in said), key=LEVELS.index)
    sentences = tuple(s for _, part in said for s in part)
    return Diagnosis(level, sentences, m.step, takeovers(m), idle(m), started, m.drop_rate, m.tie_rate)


_TIES = (
    "The router has learnt nothing yet: its scores tie on {:.0%} of points, so without noise every one goes to "
    "the first expert. That is not collapse; training still routes them by its noise. A gate that gets no "
    "gradient (top-1 with weights renormalised to 1) needs a balance loss to learn."
)


def overfitting(history: Sequence[Metrics]) -> str | None:
    """A sentence when the test loss has climbed well above its minimum while the train loss fell
    further: the model fits its training points ever better and the others worse."""
    if len(history) < 3:
        return None
    best = min(range(len(history)), key=lambda i: history[i].test_loss)
    low, now = history[best], history[-1]
    rising = now.test_loss > low.test_loss * OVERFIT_RATIO and now.test_loss > low.test_loss + OVERFIT_MARGIN
    if not (rising and now.train_loss < low.train_loss):
        return None
    said = (
        f"Overfitting: test loss has risen from {low.test_loss:.2f} at step {low.step:,} to {now.test_loss:.2f}, "
        f"while train loss fell to {now.train_loss:.3f}."
    )
    if now.test_accuracy is not None:
        said += (
            f" Accuracy still reads {now.test_accuracy:.0%}: the loss grows on the few points it gets wrong, "
            "ever more confidently."
        )
    return said + f" Train fewer steps (about {low.step:,}), add weight decay, or use more data."
