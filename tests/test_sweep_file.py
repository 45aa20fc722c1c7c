"""A sweep file: base sections and the sweep's own keys split apart, each checked with one sentence."""

import pytest

from moe_core.experiments.sweep_file import SweepFile, check_metrics, split
from moe_core.settings.config import ConfigError


def test_a_sweep_file_splits_into_the_base_settings_and_the_sweeps_part():
    doc = {"model": {"n_experts": 8}, "grid": {"model.top_k": [1, 2]}, "seeds": 5, "steps": 1000,
           "metrics": ["cluster_nmi"], "baseline": {"model.top_k": 1}, "name": "k", "tags": ["a"]}  # fmt: skip
    base, part = split(doc)
    assert base == {"model": {"n_experts": 8}, "train": {"steps": 1000}}
    assert part == SweepFile(grid={"model.top_k": [1, 2]}, seeds=5, metrics=["cluster_nmi"],
                             baseline={"model.top_k": 1}, name="k", tags=["a"])  # fmt: skip
    assert split({"model": {"top_k": 2}}) == ({"model": {"top_k": 2}}, SweepFile())  # a plain RunConfig file


@pytest.mark.parametrize(
    ("doc", "says"),
    [
        ({"grids": {}}, "'grids' is neither a section"),
        ({"grid": {"model.top_k": []}}, "must map options to lists of values"),
        ({"grid": [1, 2]}, "must map options to lists of values"),
        ({"seeds": 0}, "must be a count of at least 1 or a list"),
        ({"seeds": ["a"]}, "must be a count of at least 1 or a list"),
        ({"metrics": ["accuracy"]}, "The metric 'accuracy' is not one a sweep keeps"),
        ({"tags": "draft"}, '"tags" must be a JSON list'),
        ({"baseline": [1]}, '"baseline" must be a JSON object'),
    ],
)
def test_a_bad_sweep_file_is_one_sentence(doc, says):
    with pytest.raises(ConfigError, match=says):
        split(doc)


def test_metrics_are_named_as_the_rows_keep_them():
    assert check_metrics(["cluster_nmi", "test_loss"]) == ["cluster_nmi", "test_loss"]
    with pytest.raises(ConfigError, match="Name at least one metric"):
        check_metrics([])
