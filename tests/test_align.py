"""Aligned experts: a run whose experts were renumbered is matched back exactly, and two seeds of one
setting line up on most points once aligned."""

import copy

import numpy as np
import pytest
import torch

from moe_core import RunConfig, Trainer
from moe_core.measure.align import align_assignments, align_models, first_choices

CFG = RunConfig().replace(**{"data.n_train": 800, "data.n_test": 400, "model.n_experts": 6})


def renumbered(model, source_E: list[int]):
    """The same model with its experts renumbered: new expert j is old expert source_E[j]."""
    other = copy.deepcopy(model)
    order = torch.tensor(source_E)
    with torch.no_grad():
        for name, tensor in [*other.named_parameters(), *other.named_buffers()]:
            if name.startswith("router."):  # gate rows, gate bias and the balance bias are per expert
                tensor.copy_(tensor[order])
            elif name.startswith("experts."):
                axis = name.rsplit("_", 1)[1].index("E")  # the expert axis, named in the suffix
                tensor.copy_(tensor.index_select(axis, order))
    return other


@pytest.fixture(scope="module")
def trained():
    trainer = Trainer(CFG)
    trainer.step(300)
    return trainer


def test_renumbered_experts_are_matched_back_exactly(trained):
    source = [3, 0, 5, 1, 4, 2]
    other = renumbered(trained.model, source)
    x = trained.data.x_test
    with torch.no_grad():  # the same function, only the numbers differ
        torch.testing.assert_close(other.eval()(x).output_NO, trained.model.eval()(x).output_NO)
    alignment = align_models(trained.model, other, x)
    assert alignment.permutation.tolist() == source and alignment.agreement == 1.0
    np.testing.assert_array_equal(alignment.relabel(first_choices(other, x)), first_choices(trained.model, x))
    share = np.arange(6) / 15.0  # a per-expert statistic of the other run
    np.testing.assert_array_equal(alignment.reorder(share)[source], share)


def test_two_seeds_line_up_on_most_points_once_aligned(trained):
    second = Trainer(CFG.replace(**{"train.seed": 1}))
    second.step(300)
    x = trained.data.x_test
    raw = float((first_choices(second.model, x) == first_choices(trained.model, x)).mean())
    alignment = align_models(trained.model, second.model, x)
    assert sorted(alignment.permutation.tolist()) == list(range(6))
    assert alignment.agreement > 0.6 and alignment.agreement > raw


def test_runs_with_different_expert_counts_get_new_ids_for_the_unmatched():
    reference = np.array([0, 0, 1, 1, 2, 2])
    other = np.array([3, 3, 0, 0, 1, 2])  # four experts against three
    alignment = align_assignments(reference, other, 3, 4)
    assert alignment.permutation.tolist()[3] == 0 and alignment.permutation.tolist()[0] == 1
    assert sorted(alignment.permutation.tolist()) == [0, 1, 2, 3] and alignment.agreement == pytest.approx(5 / 6)
