"""Distribution shift: a dataset that changes at a chosen step (`data.shift_step`), the MoE tutorial's
specialisation against generalisation. `move`: every cluster moves half the way to the next one, its
rule with it; `add`: the last half of the clusters appear only after the shift. The data before the
shift are what the run starts on; `Dataset.after_shift` holds the data after it, with the same view.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from moe_core.datasets import DatasetSpec
from moe_core.settings.table import DataConfig


def added_clusters(n_clusters: int) -> int:
    """How many clusters `add` holds back until the shift: the last half (none with one cluster)."""
    return n_clusters // 2


def shifted(cfg: DataConfig, spec: DatasetSpec, assemble) -> tuple:
    """(the dataset before the shift, the dataset after it): `assemble(x, y, cluster)` builds each from
    arrays of n_train + n_test points, as make_dataset would."""
    n = cfg.n_train + cfg.n_test
    knobs = spec.knobs(cfg)
    if cfg.shift_kind == "move":
        before = spec.implementation()(n, seed=cfg.seed, **knobs)
        after = spec.implementation()(n, seed=cfg.seed, moved=True, **knobs)
        return assemble(*before), assemble(*after)
    # add: the same clusters' points before the shift, with the held-back clusters' points only after it
    held, k = added_clusters(cfg.n_clusters), cfg.n_clusters
    enough = math.ceil(1.3 * n * k / (k - held)) + 64  # the early clusters' share of the points, with a margin
    x, y, cluster = spec.implementation()(enough, seed=cfg.seed, **knobs)
    early = np.flatnonzero(cluster < k - held)[:n]
    return assemble(x[early], y[early], cluster[early]), assemble(x[:n], y[:n], cluster[:n])


def with_view_of(after, before):
    """The data after the shift drawn in the view of the data before it, so the map keeps its axes."""
    return dataclasses.replace(after, projection=before.projection)
