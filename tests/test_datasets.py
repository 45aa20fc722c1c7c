import dataclasses
import re

import numpy as np
import pytest
import torch

from moe_core.datasets import DATASETS, describe_datasets, with_dataset_defaults
from moe_core.datasets.clusters import hermite3
from moe_core.datasets.dataset import Projection, assemble, make_dataset
from moe_core.datasets.toy2d import make_moons
from moe_core.errors import ConfigError
from moe_core.settings.table import DataConfig

GENERATED = [name for name in DATASETS if name != "csv"]


def config_for(name: str, **changes) -> DataConfig:
    doc = with_dataset_defaults({"name": name, "n_train": 300, "n_test": 101})
    if name == "digits":
        doc.update(n_train=300, n_test=101)
    return DataConfig(**{**doc, **changes})


@pytest.mark.parametrize("name", GENERATED)
def test_every_dataset_is_seeded_and_shaped(name):
    cfg = config_for(name)
    a, b = make_dataset(cfg), make_dataset(cfg)
    other = make_dataset(config_for(name, seed=1))
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.x_train, other.x_train)
    assert a.x_train.shape == (300, cfg.dim) and a.x_test.shape == (101, cfg.dim)
    assert a.x_train.dtype == torch.float32 and torch.isfinite(a.x_train).all()
    assert a.y_train.shape == (300,) and a.y_test.shape == (101,)
    assert a.task == DATASETS[name].task
    if a.task == "classification":
        assert a.y_train.dtype == torch.int64 and a.n_classes >= 2
        assert set(a.y_train.tolist()) <= set(range(a.n_classes))
    else:
        assert a.y_train.dtype == torch.float32 and a.n_outputs == 1
    assert a.cluster_train is not None and a.cluster_train.shape == (300,)
    assert a.projection.to_view(a.x_test).shape == (101, 2)


@pytest.mark.parametrize("name", ["circle", "xor", "gauss", "spiral", "moons", "checkerboard"])
def test_toy_datasets_embed_in_more_dimensions_and_the_view_recovers_the_plane(name):
    flat = make_dataset(config_for(name, noise=0.0))
    deep = make_dataset(config_for(name, noise=0.0, dim=8))
    assert deep.x_train.shape == (300, 8)
    # The extra coordinates are small, so the top two principal components hold the original plane:
    # pairwise distances in the view match those of the 2-D data.
    d_flat = torch.cdist(flat.x_train[:50], flat.x_train[:50])
    view = deep.projection.to_view(deep.x_train[:50])
    assert torch.allclose(torch.cdist(view, view), d_flat, atol=0.25)


GENERATORS = [spec.name for spec in DATASETS.entries() if not spec.loader]
# Two-class planar generators that split the points evenly between the classes: scikit-learn's
# make_circles and make_moons (n // 2 in one class, the rest in the other), make_blobs with two centres,
# and the spiral's alternating arms. xor and checkerboard draw uniform points, so their classes are not even.
BALANCED = ["circle", "moons", "spiral", "gauss"]


def generate(name: str, n_samples: int):
    """A generator called directly, with the options its registry entry says it reads."""
    spec = DATASETS[name]
    cfg = config_for(name)
    return spec.implementation()(n_samples, seed=cfg.seed, **spec.knobs(cfg))


@pytest.mark.parametrize("n_samples", [7, 101])
@pytest.mark.parametrize("name", GENERATORS)
def test_every_generator_returns_exactly_the_points_asked_for_even_an_odd_count(name, n_samples):
    # Generators that split points per class or per cluster must still return n points when n is odd.
    x, y, cluster = generate(name, n_samples)
    assert len(x) == len(y) == len(cluster) == n_samples
    if name in BALANCED:  # within one point of even, as scikit-learn splits an odd count
        counts = np.bincount(y, minlength=2)
        assert len(counts) == 2 and abs(int(counts[0]) - int(counts[1])) <= 1, counts


@pytest.mark.parametrize("name", BALANCED)
def test_the_balanced_generators_are_the_two_class_planar_ones(name):
    spec = DATASETS[name]
    assert spec.planar and spec.task == "classification" and not spec.loader
    _, y, _ = generate(name, 1000)
    assert np.bincount(y).tolist() == [500, 500]


@pytest.mark.parametrize("name", GENERATED)
def test_an_odd_total_splits_into_exactly_n_train_and_n_test(name):
    # 7 + 2 = 9 points in all: an odd total, which an even split per class would round away.
    data = make_dataset(config_for(name, n_train=7, n_test=2))
    assert len(data.x_train) == len(data.y_train) == 7 and len(data.x_test) == len(data.y_test) == 2
    if data.cluster_train is not None:
        assert len(data.cluster_train) == 7 and len(data.cluster_test) == 2


def test_moons_are_centred_on_the_origin():
    x, y, cluster = make_moons(1000, noise=0.0, seed=0)
    assert np.abs(x.mean(axis=0)).max() < 0.05 and (y == cluster).all()


def test_circle_puts_class_one_inside():
    data = make_dataset(config_for("circle", noise=0.0))
    radius = data.x_train.norm(dim=1)
    assert radius[data.y_train == 1].max() < radius[data.y_train == 0].min()


def test_xor_labels_follow_the_quadrants_without_noise():
    data = make_dataset(config_for("xor", noise=0.0))
    x = data.x_train
    assert torch.equal(data.y_train, (x[:, 0] * x[:, 1] > 0).long())
    assert data.n_clusters == 4


def test_clusters_have_both_classes_in_every_cluster_and_the_requested_count():
    data = make_dataset(config_for("clusters", n_clusters=6, n_train=2000))
    assert data.n_clusters == 6
    for c in range(6):
        labels = data.y_train[data.cluster_train == c]
        assert 0.15 < labels.float().mean() < 0.85


def test_clusters_are_separated_blobs():
    data = make_dataset(config_for("clusters", n_train=2000))
    centres = torch.stack([data.x_train[data.cluster_train == c].mean(0) for c in range(4)])
    spread = max(data.x_train[data.cluster_train == c].std(0).max() for c in range(4))
    assert torch.pdist(centres).min() > 4 * spread


def test_clusters_regression_is_linear_within_each_cluster():
    data = make_dataset(config_for("clusters_regression", noise=0.0, n_train=500))
    for c in range(4):
        mask = data.cluster_train == c
        x = torch.cat([data.x_train[mask], torch.ones(int(mask.sum()), 1)], dim=1)
        coef = torch.linalg.lstsq(x, data.y_train[mask][:, None]).solution
        assert torch.allclose(x @ coef, data.y_train[mask][:, None], atol=1e-4)


def test_cluster_signals_has_four_patches_with_one_cluster_centre():
    data = make_dataset(config_for("cluster_signals", noise=0.0))
    patches = data.x_train.view(300, 4, 16)
    norms = patches.norm(dim=2)
    # Without Gaussian noise one patch is empty and three carry unit vectors scaled by U(0.5, 3).
    assert ((norms < 1e-6).sum(dim=1) == 1).all()


def test_cluster_single_index_targets_use_hermite_three():
    # Gauss-Hermite quadrature gives exact Gaussian expectations of polynomials.
    z, w = np.polynomial.hermite_e.hermegauss(20)
    expect = lambda f: float((w * f).sum() / np.sqrt(2 * np.pi))  # noqa: E731
    assert expect(hermite3(z) ** 2) == pytest.approx(1.0)  # unit variance after dividing by sqrt(3!)
    for lower in (np.ones_like(z), z, z**2 - 1):  # He_0, He_1, He_2: information exponent 3
        assert abs(expect(hermite3(z) * lower)) < 1e-9
    data = make_dataset(config_for("cluster_single_index"))
    assert data.task == "regression" and data.dim == 32


@pytest.mark.parametrize(
    ("name", "changes", "expected"),
    [
        ("cluster_signals", {"dim": 30}, "multiple of 4"),
        ("cluster_signals", {"dim": 16}, "at least 32 for 4 clusters"),
        ("cluster_signals", {"n_clusters": 1, "dim": 64}, "at least 2"),
        ("cluster_single_index", {"dim": 5}, "at least 2*n_clusters+1 = 9"),
        ("digits", {"n_train": 1500, "n_test": 500}, "digits has 1797 images"),
        ("digits", {"dim": 100}, "must be 64 or less"),
    ],
)
def test_impossible_dataset_settings_are_explained(name, changes, expected):
    with pytest.raises(ConfigError, match=expected.replace("*", r"\*").replace("+", r"\+")):
        make_dataset(config_for(name, **changes))


def test_digits_can_keep_fewer_principal_components():
    data = make_dataset(config_for("digits", dim=10))
    assert data.dim == 10 and data.n_classes == 10
    assert torch.equal(data.cluster_train, data.y_train)


def test_dataset_defaults_fill_only_what_the_user_left_out():
    assert with_dataset_defaults({"name": "digits"})["dim"] == 64
    assert with_dataset_defaults({"name": "digits", "dim": 8})["dim"] == 8
    assert with_dataset_defaults({"name": "clusters"}) == {"name": "clusters"}


@pytest.mark.parametrize(
    ("name", "changes", "classification", "value_kind"),
    [
        ("clusters", {}, True, "probability"),  # two classes: the map shows P(class 1)
        ("digits", {"dim": 10}, True, "class"),  # ten classes: the map shows the predicted class
        ("clusters_regression", {}, False, "value"),
    ],
)
def test_a_dataset_says_what_its_task_and_its_map_values_are(name, changes, classification, value_kind):
    data = make_dataset(config_for(name, **changes))
    assert data.classification is classification and data.value_kind == value_kind
    assert data.n_outputs == (data.n_classes if classification else 1)


def test_assemble_keeps_the_rows_not_in_train_as_the_test_set():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.array([0, 1, 2, 0, 1, 2])
    data = assemble(DataConfig(), "classification", x, y, None, train=np.array([0, 2, 5]))
    assert data.x_train[:, 0].tolist() == [0, 4, 10] and data.x_test[:, 0].tolist() == [2, 6, 8]
    assert data.y_test.tolist() == [1, 0, 1] and data.n_classes == 3
    assert data.class_names == ("0", "1", "2") and data.feature_names == ("x1", "x2")
    assert data.cluster_train is None and data.n_clusters == 0


def test_the_view_of_a_deep_dataset_is_an_orthonormal_projection():
    data = make_dataset(config_for("clusters", dim=6))
    projection = data.projection
    torch.testing.assert_close(projection.basis_VD @ projection.basis_VD.T, torch.eye(2), atol=1e-5, rtol=0)
    view = torch.randn(10, 2, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(projection.to_view(projection.from_view(view)), view, atol=1e-5, rtol=0)
    flat = Projection(torch.zeros(2), torch.eye(2))
    assert torch.equal(make_dataset(config_for("xor")).projection.basis_VD, flat.basis_VD)


def test_describe_datasets_has_one_line_per_dataset_naming_its_task_and_options():
    lines = describe_datasets()
    assert [line.split()[0] for line in lines] == list(DATASETS)
    digits = next(line for line in lines if line.startswith("digits "))
    assert "classification" in digits and "data.dim" in digits and "Suggested: dim=64" in digits
    assert all("\n" not in line for line in lines)


@pytest.mark.parametrize(
    ("cfg", "expected"),
    [
        (DataConfig(name="clusters", dim=3, n_train=1, n_test=5), "needs at least 2 training points"),
        (DataConfig(name="digits", dim=10, n_train=5, n_test=5), "raise data.n_train (5) or lower data.dim"),
    ],
)
def test_too_few_training_points_for_a_projection_are_explained(cfg, expected):
    # Both once reached scikit-learn's PCA and came back as its own ValueError, not a sentence for the user.
    with pytest.raises(ConfigError, match=re.escape(expected)):
        make_dataset(cfg)


@pytest.mark.parametrize("name", ["clusters", "digits"])
def test_the_input_scale_multiplies_every_input(name):
    cfg = DataConfig(name=name, **DATASETS[name].defaults)
    plain, scaled = make_dataset(cfg), make_dataset(dataclasses.replace(cfg, input_scale=10.0))
    torch.testing.assert_close(scaled.x_train, 10 * plain.x_train)
    assert torch.equal(scaled.y_train, plain.y_train)


def test_cluster_signals_come_in_four_patches_with_feature_noise_up_to_gamma_max():
    cfg = DataConfig(name="cluster_signals", dim=64, n_train=3000, noise=0.0, gamma_max=1.0)
    data = make_dataset(cfg)
    assert data.patches == 4 and make_dataset(DataConfig()).patches == 1
    norms = data.x_train.view(-1, 4, 16).norm(dim=2)  # label alpha, centre beta, noise 0, feature noise gamma
    assert norms.max() <= 2.0 + 1e-5  # alpha and beta below 2, gamma below 1
    assert (norms.sort(dim=1).values[:, 1] <= 1.0 + 1e-5).all()  # the smallest non-zero patch is gamma's or less
