"""Datasets with a latent cluster structure, where one expert per cluster is the natural solution.

Shapes: N points, D input dim, K clusters. Each generator returns `(x_ND, y_N, cluster_N)` numpy arrays:
float32 inputs, int64 classes or float32 regression targets, int64 cluster ids.
"""

from __future__ import annotations

import numpy as np

from moe_core.errors import ConfigError

BLOB_STD = 0.25


def cluster_centres(k: int, dim: int, separation: float, rng: np.random.Generator) -> np.ndarray:
    """K centres: on a circle in 2-D (spaced so that blobs of std 0.25 do not touch), random directions above."""
    radius = separation * max(1.0, k / (2 * np.pi))
    if dim == 2:
        angle = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(k) / k
        return radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    directions = rng.standard_normal((k, dim))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return radius * np.sqrt(dim / 2) * directions


def _blobs(n: int, k: int, dim: int, separation: float, rng: np.random.Generator):
    centres_KD = cluster_centres(k, dim, separation, rng)
    cluster_N = rng.integers(0, k, size=n)
    x_ND = centres_KD[cluster_N] + BLOB_STD * rng.standard_normal((n, dim))
    return x_ND, cluster_N, centres_KD


def move_halfway(x_ND: np.ndarray, cluster_N: np.ndarray, centres_KD: np.ndarray) -> np.ndarray:
    """Every cluster's points moved half the way to the next cluster's centre (its rule moves with them):
    a distribution shift after which each cluster sits where two experts' regions met."""
    step_KD = 0.5 * (np.roll(centres_KD, -1, axis=0) - centres_KD)
    return x_ND + step_KD[cluster_N]


def make_clusters(
    n_samples: int, *, n_clusters: int, dim: int, noise: float, separation: float, seed: int, moved: bool = False
):
    """K Gaussian blobs; inside each, the class is the side of the cluster's own random line.

    A linear rule per cluster, different in every cluster: one small expert per cluster solves it,
    a single small network has to learn all the boundaries at once. `noise` jitters the coordinates
    used for the label, so points near a boundary may carry the other class. `moved`: the same points
    after a distribution shift (`move_halfway`).
    """
    rng = np.random.default_rng(seed)
    x_ND, cluster_N, centres_KD = _blobs(n_samples, n_clusters, dim, separation, rng)
    normals_KD = rng.standard_normal((n_clusters, dim))
    jittered_ND = x_ND + noise * rng.standard_normal(x_ND.shape)
    side_N = np.einsum("nd,nd->n", jittered_ND - centres_KD[cluster_N], normals_KD[cluster_N])
    if moved:
        x_ND = move_halfway(x_ND, cluster_N, centres_KD)
    return x_ND.astype(np.float32), (side_N > 0).astype(np.int64), cluster_N.astype(np.int64)


def make_clusters_regression(
    n_samples: int, *, n_clusters: int, dim: int, noise: float, separation: float, seed: int, moved: bool = False
):
    """K Gaussian blobs, each with its own linear function y = a_c . (x - mu_c) + b_c, plus N(0, noise^2);
    `moved`: after the shift (`move_halfway`)."""
    rng = np.random.default_rng(seed)
    x_ND, cluster_N, centres_KD = _blobs(n_samples, n_clusters, dim, separation, rng)
    slopes_KD = 1.5 * rng.standard_normal((n_clusters, dim)) / np.sqrt(dim / 2)
    offsets_K = rng.uniform(-1, 1, size=n_clusters)
    y_N = np.einsum("nd,nd->n", x_ND - centres_KD[cluster_N], slopes_KD[cluster_N]) + offsets_K[cluster_N]
    y_N += noise * rng.standard_normal(n_samples)
    if moved:
        x_ND = move_halfway(x_ND, cluster_N, centres_KD)
    return x_ND.astype(np.float32), y_N.astype(np.float32), cluster_N.astype(np.int64)


def _orthonormal(count: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((dim, count)))
    return q.T


def make_cluster_signals(
    n_samples: int, *, n_clusters: int, dim: int, noise: float, separation: float, gamma_max: float = 3.0, seed: int
):
    """Chen, Deng, Wu, Gu, Li 2022 (arXiv 2208.02813): four patches per input, in random order.

    Patches: label signal alpha*y*v_k, cluster centre beta*c_k, Gaussian noise N(0, noise^2 I), and
    feature noise gamma*eps*v_k' from another cluster k'. alpha ~ U(0.5, 2), beta ~ U(1, 2) times
    `separation`, gamma ~ U(0.5, gamma_max) (3 in their settings 1-2, 2 in 3-4; noise = 1/sqrt(50) ~ 0.14
    in settings 1 and 3, 2/sqrt(50) in 2 and 4). Their released code multiplies inputs by 10:
    `data.input_scale`.
    """
    patch = dim // 4
    if dim % 4 or patch < 2 * n_clusters:
        raise ConfigError(
            f"cluster_signals needs data.dim to be a multiple of 4 with dim/4 >= 2*n_clusters "
            f"(at least {8 * n_clusters} for {n_clusters} clusters), got {dim}."
        )
    if n_clusters < 2:
        raise ConfigError(
            "cluster_signals needs data.n_clusters of at least 2 (feature noise comes from another cluster)."
        )
    rng = np.random.default_rng(seed)
    vectors = _orthonormal(2 * n_clusters, patch, rng)
    features_KL, centres_KL = vectors[:n_clusters], vectors[n_clusters:]
    y_N = rng.integers(0, 2, size=n_samples)
    cluster_N = rng.integers(0, n_clusters, size=n_samples)
    other_N = (cluster_N + rng.integers(1, n_clusters, size=n_samples)) % n_clusters
    alpha, beta, gamma = (rng.uniform(lo, hi, size=(n_samples, 1)) for lo, hi in ((0.5, 2), (1, 2), (0.5, gamma_max)))
    eps = rng.choice([-1.0, 1.0], size=(n_samples, 1))
    patches_NPL = np.stack(
        [
            alpha * (2 * y_N[:, None] - 1) * features_KL[cluster_N],
            separation * beta * centres_KL[cluster_N],
            noise * rng.standard_normal((n_samples, patch)),
            gamma * eps * features_KL[other_N],
        ],
        axis=1,
    )
    order_NP = np.argsort(rng.random((n_samples, 4)), axis=1)
    patches_NPL = np.take_along_axis(patches_NPL, order_NP[:, :, None], axis=1)
    return patches_NPL.reshape(n_samples, dim).astype(np.float32), y_N.astype(np.int64), cluster_N.astype(np.int64)


def hermite3(z: np.ndarray) -> np.ndarray:
    """Probabilists' Hermite polynomial He_3(z) = z^3 - 3z, normalised by sqrt(3!) to unit variance."""
    return (z**3 - 3 * z) / np.sqrt(6.0)


def single_index_directions(n_clusters: int, dim: int, seed: int) -> tuple[dict[str, np.ndarray], np.random.Generator]:
    """Kawata et al.'s hidden directions, orthonormal: cluster means v_c [K, D], local w_c [K, D], global
    w_g [D]; and the generator, which goes on to draw the points (so the data stay what they were)."""
    if dim < 2 * n_clusters + 1:
        raise ConfigError(
            f"cluster_single_index needs data.dim of at least 2*n_clusters+1 = {2 * n_clusters + 1}, got {dim}."
        )
    rng = np.random.default_rng(seed)
    vectors = _orthonormal(2 * n_clusters + 1, dim, rng)
    return {"means": vectors[:n_clusters], "local": vectors[n_clusters:-1], "global": vectors[-1]}, rng


def make_cluster_single_index(n_samples: int, *, n_clusters: int, dim: int, noise: float, separation: float, seed: int):
    """In the spirit of Kawata et al. 2025 (arXiv 2506.01656): clustered single-index regression.

    Cluster c ~ Unif, x ~ N(rho v_c, I), y = f_c(<w_c, x>) + s_c g(<w_g, x>) + N(0, noise^2), with
    f_c = +-He_3/sqrt(6), g = He_3/sqrt(6) (information exponent 3), sum_c s_c = 0 so that the global
    signal cancels over the whole task, and v_c, w_c, w_g orthonormal. rho = 3 * separation.
    """
    directions, rng = single_index_directions(n_clusters, dim, seed)
    return draw_single_index(n_samples, rng, directions, noise=noise, separation=separation)


def draw_single_index(
    n_samples: int, rng: np.random.Generator, directions: dict[str, np.ndarray], *, noise: float, separation: float
):
    """Points of the clustered single-index task with the given hidden directions, drawn from `rng`
    (online training draws a fresh batch every step). With an odd K the global coefficients are the
    signs minus their mean, so that they still sum to 0."""
    means_KD, local_KD, global_D = directions["means"], directions["local"], directions["global"]
    n_clusters, dim = means_KD.shape
    signs_K = np.where(np.arange(n_clusters) % 2 == 0, 1.0, -1.0)
    global_coef_K = signs_K - signs_K.mean()
    cluster_N = rng.integers(0, n_clusters, size=n_samples)
    x_ND = 3.0 * separation * means_KD[cluster_N] + rng.standard_normal((n_samples, dim))
    local_N = signs_K[cluster_N] * hermite3(np.einsum("nd,nd->n", x_ND, local_KD[cluster_N]))
    y_N = local_N + global_coef_K[cluster_N] * hermite3(x_ND @ global_D)
    y_N += noise * rng.standard_normal(n_samples)
    return x_ND.astype(np.float32), y_N.astype(np.float32), cluster_N.astype(np.int64)
