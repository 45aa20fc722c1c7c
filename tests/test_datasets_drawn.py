"""The drawn dataset (moe_core/datasets/drawn.py, its text in centres.py): blobs around the centres a
user places, of their classes, with their indices as latent clusters; and a live change of the centres,
which a running model trains on from that step without a new model."""

import re

import numpy as np
import pytest
import torch

from moe_core.datasets.centres import DEFAULT, centres_text, parse_centres
from moe_core.datasets.dataset import make_dataset
from moe_core.datasets.drawn import make_drawn
from moe_core.settings.config import ConfigError, RunConfig
from moe_core.settings.table import DataConfig
from moe_core.training.trainer import Trainer

THREE = "-2,1,0;2,1,1;0.5,-2.5,1"
SMALL = {"data.name": "drawn", "data.n_train": 600, "data.n_test": 300}


def test_points_lie_around_their_centres_with_the_centres_classes_and_indices():
    x, y, cluster = make_drawn(3000, centres=THREE, noise=0.3, seed=0)
    assert x.shape == (3000, 2) and x.dtype == np.float32
    for k, (cx, cy, cls) in enumerate(parse_centres(THREE)):
        mine = cluster == k
        assert 800 < mine.sum() < 1200  # a centre drawn uniformly for each point
        np.testing.assert_allclose(x[mine].mean(axis=0), [cx, cy], atol=0.05)
        np.testing.assert_allclose(x[mine].std(axis=0), [0.3, 0.3], atol=0.03)
        assert set(y[mine].tolist()) == {cls}
    assert set(cluster.tolist()) == {0, 1, 2}


def test_the_same_seed_draws_the_same_points_and_another_seed_others():
    first, again = make_drawn(100, centres=THREE, noise=0.3, seed=4), make_drawn(100, centres=THREE, noise=0.3, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], make_drawn(100, centres=THREE, noise=0.3, seed=5)[0])


def test_the_dataset_has_two_classes_and_a_cluster_per_centre_even_with_one_class_drawn():
    data = make_dataset(DataConfig(name="drawn", centres="-1,0,0;1,0,0", n_train=200, n_test=100))
    assert (data.n_classes, data.n_outputs, data.n_clusters, data.dim) == (2, 2, 2, 2)
    assert data.class_names == ("0", "1") and set(data.y_train.tolist()) == {0}
    default = make_dataset(DataConfig(name="drawn", centres=DEFAULT, n_train=200, n_test=100))
    assert default.n_clusters == 4 and set(default.y_test.tolist()) == {0, 1}


def test_the_text_reads_back_as_written_to_two_decimals():
    assert parse_centres(" -1.5, 0.5 ,0 ; 1,1,1 ;") == [(-1.5, 0.5, 0), (1.0, 1.0, 1)]
    assert centres_text([(-1.504, 0.5, 0), (1.0, -0.001, 1)]) == "-1.5,0.5,0;1,0,1"
    assert parse_centres(centres_text(parse_centres(DEFAULT))) == parse_centres(DEFAULT)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "needs at least one centre"),
        ("1,1", "centre 1 ('1,1') must be three numbers x,y,class"),
        ("1,1,0;1,1,0,1", "centre 2 ('1,1,0,1') must be three numbers x,y,class"),
        ("1,nan,0", "must have x and y between -3 and 3"),
        ("1,1,0.5", "must have class 0 or 1, got 0.5"),
    ],
)
def test_malformed_centres_are_one_sentence_saying_what_to_write(text, expected):
    with pytest.raises(ConfigError, match=re.escape(expected)) as err:
        RunConfig().replace(**{"data.name": "drawn", "data.centres": text})
    assert "\n" not in str(err.value) and str(err.value).endswith(".")


def test_a_live_change_of_the_centres_keeps_the_model_and_step_and_trains_on_the_new_points():
    cfg = RunConfig().replace(**SMALL)
    trainer = Trainer(cfg)
    before = trainer.fit(100).metrics
    assert before.test_accuracy == 1.0 and len(before.contingency[0]) == 4
    weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    old_x = trainer.data.x_train.clone()
    moved = cfg.replace(**{"data.centres": DEFAULT + ";0,0,1"})  # a class-1 blob where the map says class 0

    assert trainer.apply_live(moved) == ["centres changed"]

    assert trainer.step_count == 100 and trainer.events == [(100, "centres changed")]
    assert all(torch.equal(v, trainer.model.state_dict()[k]) for k, v in weights.items())  # the same model
    assert not torch.equal(old_x, trainer.data.x_train) and trainer.data.n_clusters == 5
    at_change = trainer.snapshot().metrics
    assert len(at_change.contingency[0]) == 5 and at_change.test_accuracy < 0.9  # the new blob is misclassified
    after = trainer.fit(100).metrics
    assert (
        trainer.step_count == 200
        and after.test_accuracy > 0.97
        and [m.step for m in trainer.history] == [100, 100, 200]
    )
    trainer.reset()  # back to step 0 on the centres as they are now
    assert trainer.step_count == 0 and trainer.data.n_clusters == 5
