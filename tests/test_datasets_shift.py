"""Distribution shift: the data before and after it, and a run that changes data at its step."""

import numpy as np
import pytest
import torch

from moe_core.datasets.clusters import cluster_centres
from moe_core.datasets.dataset import make_dataset
from moe_core.datasets.shift import added_clusters
from moe_core.settings.config import ConfigError, RunConfig
from moe_core.training.trainer import Trainer

SMALL = {"data.n_train": 400, "data.n_test": 200, "data.shift_step": 30}


def test_moving_takes_every_cluster_half_way_to_the_next_with_its_labels():
    data = make_dataset(RunConfig().replace(**{**SMALL, "data.shift_kind": "move", "data.n_clusters": 3}).data)
    after = data.after_shift
    assert torch.equal(after.y_train, data.y_train) and torch.equal(after.cluster_train, data.cluster_train)
    centres = cluster_centres(3, 2, 1.0, np.random.default_rng(0))  # the generator's first draw, seed 0
    step = 0.5 * (np.roll(centres, -1, axis=0) - centres)
    moved = (after.x_train - data.x_train).numpy()
    np.testing.assert_allclose(moved, step[data.cluster_train.numpy()], atol=1e-5)
    assert after.projection is data.projection and data.shift_step == 30  # the map keeps its axes


def test_adding_holds_the_last_half_of_the_clusters_back_until_the_shift():
    data = make_dataset(RunConfig().replace(**{**SMALL, "data.shift_kind": "add", "data.n_clusters": 4}).data)
    assert added_clusters(4) == 2 and len(data.x_train) == 400 and len(data.x_test) == 200
    assert set(data.cluster_train.tolist()) == {0, 1} and set(data.after_shift.cluster_train.tolist()) == {0, 1, 2, 3}


def test_a_run_trains_on_the_new_data_from_the_shift_on_logs_it_and_starts_over_on_reset():
    trainer = Trainer(RunConfig().replace(**{**SMALL, "data.shift_kind": "move"}))
    start = trainer.data
    trainer.step(30)
    assert trainer.data is start and not trainer.events  # steps 0 to 29: the data before
    trainer.step(1)
    assert trainer.data is start.after_shift and trainer.events == [(30, "data shift: clusters move")]
    assert torch.equal(trainer.x_train, start.after_shift.x_train)
    trainer.reset()
    assert trainer.data is start and trainer.events == []


def test_only_the_clustered_datasets_shift():
    with pytest.raises(ConfigError):
        RunConfig().replace(**{"data.shift_kind": "slide"})
    data = make_dataset(RunConfig().replace(**{**SMALL, "data.name": "moons"}).data)
    assert data.after_shift is None  # moons has no clusters to move: the option does not apply
