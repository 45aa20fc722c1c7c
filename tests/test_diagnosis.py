"""The collapse watch's words (moe_core.measure.diagnosis): on hand-made histories for each case, and on the
three runs a teacher met (default seed), where every fact a sentence names is checked against the
numbers the charts draw: load share, the cluster x expert heatmap, drops and accuracy."""

import dataclasses

import numpy as np
import pytest

from moe_core.measure import diagnosis
from moe_core.measure.diagnosis import diagnose, overfitting
from moe_core.measure.metrics import Metrics, load_share
from moe_core.settings.config import RunConfig
from moe_core.training.trainer import Trainer


def snap(step, table=None, share=None, **fields) -> Metrics:
    """A snapshot with the load share of its contingency table [E][C] (or the share given)."""
    if share is None:
        share = load_share(np.asarray(table).sum(axis=1))
    share = tuple(float(s) for s in share)
    entropy = float(-sum(s * np.log(s) for s in share if s > 0) / max(np.log(len(share)), 1e-12))
    contingency = None if table is None else tuple(tuple(int(v) for v in row) for row in table)
    base = dict(step=step, train_loss=0.3, test_loss=0.3, test_accuracy=0.9, load_share=share, load_entropy=entropy,
                effective_experts=float(np.exp(entropy * np.log(len(share)))), contingency=contingency,
                cluster_nmi=0.8, drop_rate=0.0, unrouted_rate=0.0, tie_rate=0.0)  # fmt: skip
    return Metrics(**{**base, **fields})


BALANCED = [[100, 0, 0, 0], [0, 100, 0, 0], [0, 0, 100, 0], [0, 0, 0, 100]]
# E0 takes clusters 1 and 2, E1 is idle, E2 has cluster 0, E3 cluster 3
COLLAPSED = [[0, 95, 100, 1], [0, 0, 0, 0], [100, 5, 0, 0], [0, 0, 0, 99]]


def history(tables_by_step: dict[int, list]) -> list[Metrics]:
    return [snap(step, table) for step, table in tables_by_step.items()]


def test_the_textbook_collapse_names_the_expert_its_clusters_its_share_the_idle_one_and_when_it_began():
    said = diagnose(history({0: BALANCED, 3: BALANCED, 5: COLLAPSED, 50: COLLAPSED, 100: COLLAPSED}), balance="none")
    assert said.level == "warning"
    assert said.sentences[0] == "Collapse: E0 takes clusters 1 and 2 (49% of the load), while E1 gets 0% of the load."
    assert said.sentences[1] == "It began at step 5 and has held since."
    assert "Turn on a balance strategy" in said.sentences[2]
    assert said.takeovers == (diagnosis.Takeover(0, (1, 2), pytest.approx(196 / 400)),) and said.idle == ((1, 0.0),)
    # with a balance strategy on the advice is another
    assert "balance loss weight" in diagnose(history({0: COLLAPSED, 100: COLLAPSED}), balance="aux_loss").text


def test_a_pattern_is_said_once_it_has_held_and_a_flicker_starts_it_again():
    assert diagnose(history({0: BALANCED, 60: COLLAPSED, 100: COLLAPSED})) is None  # held 40 steps
    assert diagnose(history({0: COLLAPSED, 40: COLLAPSED})) is None  # too early in the run
    flicker = history({0: COLLAPSED, 50: COLLAPSED, 60: BALANCED, 70: COLLAPSED, 130: COLLAPSED})
    assert diagnose(flicker).since == 70


def test_with_more_experts_than_clusters_and_a_high_nmi_a_takeover_is_never_called_not_collapse():
    table = [[0] * 4 for _ in range(8)]
    table[1][1], table[4][2], table[5][0], table[5][3] = 216, 241, 253, 278  # E5 on clusters 0 and 3
    said = diagnose([snap(s, table, cluster_nmi=0.81) for s in (0, 100)])
    assert said.level == "warning" and "not collapse" not in said.text
    assert said.sentences[0].startswith("Collapse: E5 takes clusters 0 and 3 (54% of the load), while 5 of 8 experts")
    assert "(E0, E2, E3, E6 and E7)" in said.sentences[0]


def test_idle_experts_with_a_cluster_each_for_the_others_are_explained_as_expected():
    table = [[0] * 4 for _ in range(8)]
    for c, e in enumerate((1, 3, 4, 6)):
        table[e][c] = 100
    said = diagnose([snap(s, table, cluster_nmi=1.0) for s in (0, 100)])
    assert said.level == "success"
    assert said.text.startswith("4 of 8 experts get almost no points (E0, E2, E5 and E7), but each cluster has its own")
    assert "not collapse" in said.text


def test_fewer_experts_than_clusters_must_share_and_a_partial_collapse_has_no_idle_expert():
    two = [[100, 100, 0, 0], [0, 0, 100, 100]]
    said = diagnose([snap(s, two) for s in (0, 100)])
    assert said.level == "info"
    assert said.text == (
        "E0 takes clusters 0 and 1 (50% of the load), E1 clusters 2 and 3 (50% of the load): with 2 experts for 4 "
        "clusters, some must share an expert."
    )
    partial = [[100, 0, 0, 100], [0, 60, 0, 0], [0, 40, 0, 0], [0, 0, 100, 0]]
    said = diagnose([snap(s, partial) for s in (0, 100)])
    assert said.level == "warning" and said.text.startswith("Partial collapse: E0 takes clusters 0 and 3 (50% of")


def test_without_clusters_a_collapse_is_read_from_the_load_alone():
    said = diagnose([snap(s, share=(0.02, 0.9, 0.04, 0.04)) for s in (0, 100)])
    assert said.level == "warning" and said.sentences[0].startswith("Collapse: E1 takes 90% of the load, 1.5 effective")
    assert diagnose([snap(s, share=(0.0, 0.34, 0.33, 0.33)) for s in (0, 100)]).text == "E0 gets 0% of the load."


def test_capacity_drops_say_how_many_and_what_they_cost_against_the_baseline_or_in_words():
    drops = [snap(s, BALANCED, drop_rate=0.5, unrouted_rate=0.5, test_accuracy=0.69) for s in (0, 100)]
    dense = [snap(100, BALANCED, test_accuracy=0.88)]
    said = diagnose(drops, dense)
    assert said.level == "warning" and said.drop_rate == 0.5
    assert said.sentences == (
        "Capacity drops 50% of the points (drop rate 0.50): they reach no expert (× on the map).",
        "Test accuracy is 69%, against 88% for the dense baseline; a larger capacity factor drops fewer.",
    )
    assert "costs accuracy" in diagnose(drops).sentences[1]
    top2 = [snap(s, BALANCED, drop_rate=0.1, unrouted_rate=0.02) for s in (0, 100)]
    said = diagnose(top2)
    assert said.level == "info" and said.sentences[0].startswith("Capacity drops 10% of the routed slots")
    assert "2% of the points reach no expert" in said.sentences[0]
    assert diagnose([snap(s, BALANCED, drop_rate=0.01, unrouted_rate=0.01) for s in (0, 100)]) is None


def test_ties_balance_one_expert_and_no_routing_say_nothing_or_the_tie_sentence():
    ties = diagnose([snap(s, share=(1.0, 0, 0, 0), tie_rate=1.0) for s in (0, 100)])
    assert ties.level == "info" and ties.text.startswith("The router has learnt nothing yet: its scores tie on 100%")
    assert diagnose(history({0: BALANCED, 500: BALANCED})) is None
    assert diagnose([snap(s, share=(1.0,)) for s in (0, 100)]) is None
    assert diagnose([Metrics(step=500, train_loss=0.1, test_loss=0.1, test_accuracy=0.9)]) is None
    assert diagnose([]) is None


# Three runs (a takeover, capacity drops, a textbook collapse), default seed: snapshots every step at
# first (where the pattern forms), then every ten; as few steps as the watch needs to speak
# (the pattern held HOLD_STEPS).
RUNS = {
    "8 experts, no balancing, gate noise 1": ({"model.n_experts": 8, "model.balance": "none",
                                               "model.gate_noise": 1.0}, 150),
    "switch at capacity 0.5": ({"model.router": "switch", "model.capacity_factor": 0.5}, 60),
    "4 experts, no balancing": ({"model.balance": "none"}, 100),
}  # fmt: skip


def train(changes: dict, steps: int, with_baseline: bool) -> tuple[list[Metrics], list[Metrics] | None]:
    cfg = RunConfig().replace(**changes)
    trainers = [Trainer(cfg)]
    if with_baseline:
        trainers.append(Trainer(cfg.replace(**{"model.arch": "dense"}), trainers[0].data))
    for step in [0, *range(1, 11), *range(20, steps + 1, 10)]:
        for t in trainers:
            t.step(step - t.step_count)
            t.snapshot()
    return trainers[0].history, (trainers[1].history if with_baseline else None)


@pytest.fixture(scope="module", params=list(RUNS))
def real(request):
    changes, steps = RUNS[request.param]
    metrics, baseline = train(changes, steps, with_baseline=changes.get("model.router") == "switch")
    return request.param, metrics, baseline, diagnose(metrics, baseline, changes.get("model.balance", "aux_loss"))


def test_on_the_real_runs_every_named_fact_is_what_the_charts_show(real):
    name, metrics, _, said = real
    m = metrics[-1]
    assert said is not None and said.level == "warning", name
    for t in said.takeovers:  # the named expert holds the named clusters: its heatmap row is largest there
        table_EC = np.asarray(m.contingency)
        assert t.expert == int(np.argmax(m.load_share)) and t.share == m.load_share[t.expert]
        assert set(t.clusters) == {c for c in range(table_EC.shape[1]) if table_EC[:, c].argmax() == t.expert}
        assert set(np.argsort(-table_EC[t.expert])[: len(t.clusters)]) == set(t.clusters)
        named = " and ".join(str(c) for c in t.clusters)
        assert f"E{t.expert} takes clusters {named} ({t.share:.0%} of the load)" in said.text
    fair = 1 / len(m.load_share)
    assert [e for e, _ in said.idle] == [e for e, s in enumerate(m.load_share) if s < diagnosis.IDLE_SHARE * fair]
    for e, _ in said.idle:
        assert f"E{e}" in said.text
    if said.since is not None and said.takeovers:  # the pattern holds from `since` on and not the snapshot before
        steps = [x.step for x in metrics]
        at = steps.index(said.since)
        assert diagnosis._pattern(metrics[at]) == diagnosis._pattern(m) != diagnosis._pattern(metrics[at - 1])
        assert f"It began at step {said.since} and has held since." in said.text


def test_the_three_runs_say_what_a_teacher_should_hear(real):
    name, metrics, baseline, said = real
    m = metrics[-1]
    if name.startswith("switch"):
        assert m.drop_rate > 0.4 and said.drop_rate == m.drop_rate and not said.takeovers
        assert f"Capacity drops {m.drop_rate:.0%} of the points (drop rate {m.drop_rate:.2f})" in said.text
        assert f"Test accuracy is {m.test_accuracy:.0%}, against {baseline[-1].test_accuracy:.0%}" in said.text
        assert baseline[-1].test_accuracy - m.test_accuracy > 0.05  # the cost is real
    else:
        assert said.text.startswith("Collapse: ") and said.takeovers and said.idle
    if name == "4 experts, no balancing":  # the lecture rehearsal: E1 has no points from step 5 on
        assert said.since == 5 and said.takeovers[0].expert == 0 and said.idle[0][0] == 1
        early = [x.load_share[1] for x in metrics if x.step <= 5]
        assert early[-1] < diagnosis.IDLE_SHARE / 4 <= early[-2]


def curve(test_losses, train_losses, accuracy=0.92) -> list[Metrics]:
    return [
        Metrics(step=100 * i, train_loss=tr, test_loss=te, test_accuracy=accuracy)
        for i, (te, tr) in enumerate(zip(test_losses, train_losses, strict=True))
    ]


def test_overfitting_is_said_when_test_loss_climbs_while_train_loss_falls():
    said = overfitting(curve([1.1, 0.36, 0.55, 0.98, 4.0], [1.1, 0.14, 0.03, 0.02, 0.001]))
    assert said.startswith("Overfitting: test loss has risen from 0.36 at step 100 to 4.00, while train loss fell")
    assert "Accuracy still reads 92%" in said and "Train fewer steps (about 100), add weight decay" in said
    regression = overfitting(curve([1.0, 0.2, 0.5], [1.0, 0.2, 0.1], accuracy=None))
    assert regression is not None and "Accuracy" not in regression
    assert overfitting(curve([1.0, 0.5, 0.52], [1.0, 0.4, 0.3])) is None  # noise, not a climb
    assert overfitting(curve([1.0, 0.2, 0.9], [1.0, 0.2, 0.8])) is None  # both rise: training went wrong
    assert overfitting(curve([1.0, 0.5], [1.0, 0.2])) is None


def test_a_small_csv_run_overfits_and_says_so():
    cfg = RunConfig().replace(**{"data.name": "csv", "data.csv_path": "iris.csv", "data.target": "species"})
    trainer = Trainer(cfg)
    trainer.snapshot()
    trainer.fit(300, snapshot_every=100)
    low = min(trainer.history, key=lambda m: m.test_loss)
    said = overfitting(trainer.history)
    assert said is not None and f"from {low.test_loss:.2f} at step {low.step}" in said
    assert trainer.history[-1].test_loss > 2 * low.test_loss and trainer.history[-1].test_accuracy > 0.85
    # weight decay, the cure it names, holds the test loss down on the same run
    cured = Trainer(cfg.replace(**{"train.weight_decay": 0.1}))
    cured.fit(300, snapshot_every=100)
    assert cured.history[-1].test_loss < trainer.history[-1].test_loss


def test_fields_are_frozen():
    said = diagnose(history({0: COLLAPSED, 100: COLLAPSED}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        said.level = "success"
