import numpy as np
import torch

from moe_core.experts import Experts, dispatch_loop
from moe_core.packed import ALONE_COST_ROW_UNITS, BIG_BLOCK, PackPlan, dispatch_packed


def plan(counts, hidden=16) -> PackPlan:
    return PackPlan(np.array(counts), hidden)


def test_even_loads_are_all_packed_to_the_largest():
    p = plan([30, 32, 28, 31, 0])
    assert p.packed.tolist() == [0, 1, 2, 3] and p.alone.tolist() == [] and p.width == 32
    assert p.table_rows == 4 * 32


def test_a_dominant_expert_runs_alone_and_the_rest_stay_packed():
    # Collapsed top-2: every first choice on expert 0, second choices spread.
    p = plan([512, 40, 36, 44, 38, 0], hidden=16)
    assert p.alone.tolist() == [0] and p.packed.tolist() == [1, 2, 3, 4] and p.width == 44


def test_big_blocks_run_alone_even_when_even():
    rows = BIG_BLOCK // 128
    p = plan([rows, rows, rows, 0], hidden=128)
    assert sorted(p.alone.tolist()) == [0, 1, 2] and p.packed.tolist() == []


def test_running_alone_must_pay_for_itself():
    # Expert 0 is 50% over the others: packing it costs 20 rows x 3 experts x 16 = 960 cells,
    # far below the fixed cost of one more expert alone.
    assert ALONE_COST_ROW_UNITS > 3 * 20 * 16
    assert plan([60, 40, 40, 40, 0]).alone.tolist() == []


def test_offsets_place_every_slot_in_its_own_table_row():
    counts = np.array([3, 0, 5, 1, 2])  # experts 0..3, then 2 dropped slots
    p = PackPlan(counts, 16)
    ids = np.repeat(np.arange(5), counts)  # already sorted
    rows = np.arange(len(ids)) + p.offsets[ids]
    assert len(set(rows.tolist())) == len(ids) and rows.max() < p.table_rows
    assert (rows[-2:] >= p.table_rows - 2).all()  # dropped slots land on the zero rows at the end


def test_collapsed_top1_runs_the_one_expert_on_every_point():
    torch.manual_seed(0)
    experts = Experts(8, 3, 5, 2)
    x = torch.randn(30, 3)
    ids = torch.full((30, 1), 5)
    torch.testing.assert_close(dispatch_packed(experts, x, ids), dispatch_loop(experts, x, ids))
    torch.testing.assert_close(dispatch_packed(experts, x, ids)[:, 0], experts.forward_one(5, x))


def test_tall_blocks_run_alone_even_when_narrow():
    from moe_core.packed import BIG_ROWS

    assert sorted(plan([BIG_ROWS] * 4 + [0], hidden=16).alone.tolist()) == [0, 1, 2, 3]
