"""Alignment with a dataset's hidden directions (Kawata et al. 2025): a neuron along a direction reads
1, random neurons read little, and the trainer records it over training where the data have them."""

import numpy as np
import pytest
import torch

from moe_core.datasets.dataset import make_dataset
from moe_core.layer.build import Build
from moe_core.measure.directions import abs_cosines, alignment
from moe_core.models.points import build_model
from moe_core.settings.config import RunConfig
from moe_core.training.trainer import Trainer

KAWATA = {"data.name": "cluster_single_index", "data.dim": 32, "data.n_train": 500, "data.n_test": 300}


def test_abs_cosines_ignore_sign_and_length():
    rows = np.array([[2.0, 0.0], [0.0, -3.0], [1.0, 1.0]])
    np.testing.assert_allclose(abs_cosines(rows, np.array([[1.0, 0.0]]))[:, 0], [1.0, 0.0, 2**-0.5])


@pytest.mark.parametrize("arch", ["moe", "dense"])
def test_a_neuron_set_along_each_direction_aligns_fully_and_random_ones_do_not(arch):
    cfg = RunConfig().replace(**KAWATA, **{"model.arch": arch})
    data = make_dataset(cfg.data)
    torch.manual_seed(0)
    model = build_model(cfg.model, Build(data.dim, 1, False))
    random = alignment(model, data.directions)
    assert random["global_alignment"] < 0.8 and random["local_alignment"] < 0.8
    with torch.no_grad():
        first = model.experts.w_in_EDH[0] if arch == "moe" else model.hidden[0].weight.T
        first[:, :4] = torch.from_numpy(data.directions["local"].T.copy())
        first[:, 4] = torch.from_numpy(data.directions["global"].copy())
    found = alignment(model, data.directions)
    assert found["local_alignment"] == pytest.approx(1.0) and found["global_alignment"] == pytest.approx(1.0)
    if arch == "moe":
        assert len(found["expert_alignment"]) == cfg.model.n_experts and "router_alignment" in found


def test_the_directions_are_orthonormal_and_the_data_are_the_same_as_before_they_were_exposed():
    data = make_dataset(RunConfig().replace(**KAWATA).data)
    stacked = np.concatenate([data.directions["means"], data.directions["local"], data.directions["global"][None]])
    np.testing.assert_allclose(stacked @ stacked.T, np.eye(9), atol=1e-10)
    x = data.x_train.numpy()
    cluster = data.cluster_train.numpy()
    centre_of = np.stack([x[cluster == c].mean(axis=0) for c in range(4)])
    assert (abs_cosines(centre_of, data.directions["means"]).argmax(axis=1) == np.arange(4)).all()


def test_online_sampling_draws_fresh_points_each_step_reproducibly_and_metrics_follow_the_alignment():
    cfg = RunConfig().replace(**KAWATA, **{"data.sampling": "online", "train.batch_size": 64})
    trainer = Trainer(cfg, probe_size=None)
    first, second = trainer.batch(), trainer.batch()
    assert not torch.equal(first[0], second[0]) and first[0].shape == (64, 32)
    again = Trainer(cfg, probe_size=None)
    assert torch.equal(again.batch()[0], first[0])
    assert not torch.equal(Trainer(cfg.replace(**{"train.seed": 1}), probe_size=None).batch()[0], first[0])
    trainer.fit(20, snapshot_every=10)
    assert all(m.global_alignment is not None and m.local_alignment is not None for m in trainer.history)
    assert (
        Trainer(RunConfig().replace(**{"data.n_train": 300}), probe_size=None).snapshot().metrics.global_alignment
        is None
    )
