"""Two-dimensional toy datasets in the spirit of TensorFlow Playground and scikit-learn.

Shapes: N points. Every generator returns `(x_N2, y_N, cluster_N)` as numpy arrays: float32 inputs,
int64 class labels, int64 latent cluster ids (the part of the picture a point comes from).
`noise` jitters the coordinates used to compute the label (Playground's label noise), except for
`circle` and `moons`, which pass it to scikit-learn, and `gauss`, where it widens the blobs.
"""

from __future__ import annotations

import numpy as np
import sklearn.datasets

Sample = tuple[np.ndarray, np.ndarray, np.ndarray]


def make_circle(n_samples: int, *, noise: float, seed: int) -> Sample:
    """An inner disc (class 1) inside a ring (class 0); scikit-learn's `make_circles`."""
    x, y = sklearn.datasets.make_circles(n_samples, noise=noise, factor=0.5, random_state=seed)
    return _pack(x, y, y)


def make_moons(n_samples: int, *, noise: float, seed: int) -> Sample:
    """Two interleaving half circles; scikit-learn's `make_moons`, centred on the origin."""
    x, y = sklearn.datasets.make_moons(n_samples, noise=noise, random_state=seed)
    return _pack(x - np.array([0.5, 0.25]), y, y)


def make_gauss(n_samples: int, *, noise: float, seed: int) -> Sample:
    """Two Gaussian blobs, one per class, of standard deviation 0.3 + noise."""
    centres = np.array([[-0.7, -0.7], [0.7, 0.7]])
    x, y = sklearn.datasets.make_blobs(n_samples, centers=centres, cluster_std=0.3 + noise, random_state=seed)
    return _pack(x, y, y)


def make_xor(n_samples: int, *, noise: float, seed: int) -> Sample:
    """Uniform points in [-1, 1]^2 kept off the axes; class 1 where x1 * x2 > 0; cluster = quadrant."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n_samples, 2))
    x += np.sign(x) * 0.06  # Playground's padding keeps the quadrants apart
    jittered = x + noise * rng.standard_normal(x.shape)
    y = (jittered[:, 0] * jittered[:, 1] > 0).astype(np.int64)
    quadrant = (x[:, 0] > 0).astype(np.int64) * 2 + (x[:, 1] > 0)
    return _pack(x, y, quadrant)


def make_spiral(n_samples: int, *, noise: float, seed: int) -> Sample:
    """Two interleaved spiral arms of radius 1, one per class (Playground's spiral); cluster = arm."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % 2
    t = rng.uniform(0, 1, size=n_samples)
    angle = 1.75 * 2 * np.pi * t + np.pi * y
    x = np.stack([t * np.sin(angle), t * np.cos(angle)], axis=1)
    x += noise * rng.standard_normal(x.shape)
    order = rng.permutation(n_samples)
    return _pack(x[order], y[order], y[order])


def make_checkerboard(n_samples: int, *, noise: float, seed: int) -> Sample:
    """A 4 x 4 board over [-1, 1]^2, class = colour of the square; cluster = square (16)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n_samples, 2))
    cell = np.clip(np.floor((x + 1) * 2), 0, 3).astype(np.int64)
    jittered = np.clip(np.floor((x + noise * rng.standard_normal(x.shape) + 1) * 2), 0, 3)
    y = (jittered.sum(axis=1) % 2).astype(np.int64)
    return _pack(x, y, cell[:, 0] * 4 + cell[:, 1])


def embed(x_N2: np.ndarray, dim: int, *, noise: float, seed: int) -> np.ndarray:
    """Place 2-D points in `dim` dimensions: add (dim - 2) noise coordinates, then rotate at random.

    The rotation hides the plane from the axes; PCA finds it again for the maps.
    """
    if dim == 2:
        return x_N2
    rng = np.random.default_rng(seed + 7919)
    extra = max(noise, 0.05) * rng.standard_normal((len(x_N2), dim - 2))
    rotation, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    return (np.concatenate([x_N2, extra], axis=1) @ rotation).astype(np.float32)


def _pack(x: np.ndarray, y: np.ndarray, cluster: np.ndarray) -> Sample:
    return x.astype(np.float32), np.asarray(y, dtype=np.int64), np.asarray(cluster, dtype=np.int64)
