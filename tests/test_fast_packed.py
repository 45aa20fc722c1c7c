import numpy as np
import torch

from moe_core.layer.experts import Experts
from moe_core.layer.fast import packed
from moe_core.layer.fast.packed import PACK_BUDGET, PACK_COST, PackPlan, dispatch_packed
from moe_core.layer.reference import run_experts


def plan(counts, row_width=20) -> PackPlan:
    return PackPlan(np.array(counts), row_width)


def packs(p: PackPlan) -> list[tuple[list[int], int]]:
    return [(chosen.tolist(), width) for chosen, width in p.packs]


def test_even_loads_share_one_pack_padded_to_the_largest():
    p = plan([30, 32, 28, 31, 0])
    assert packs(p) == [([0, 1, 2, 3], 32)]
    assert p.packed_columns == p.table_columns == 4 * 32


def test_a_dominant_expert_gets_its_own_pack_and_the_rest_stay_together():
    # Collapsed top-2: every first choice on expert 0, second choices spread.
    p = plan([4096, 70, 64, 66, 60, 0], row_width=20)
    assert packs(p) == [([0], 4096), ([1, 2, 3, 4], 70)]


def test_a_new_pack_must_pay_for_itself():
    # Expert 0 is 50% over the others: padding them costs 20 rows x 3 x 20 cells, far below one more pack.
    assert PACK_COST > 20 * 3 * 20
    assert packs(plan([60, 40, 40, 40, 0])) == [([0, 1, 2, 3], 60)]


def test_packs_stay_within_the_cache_budget():
    rows = PACK_BUDGET // (2 * 128)  # two experts of this load fill a pack
    p = plan([rows] * 5 + [0], row_width=128)
    assert [len(chosen) for chosen, _ in p.packs] == [2, 2, 1]


def test_idle_experts_are_in_no_pack():
    p = plan([0, 12, 0, 9, 0])
    assert packs(p) == [([1, 3], 12)]


def test_offsets_place_every_slot_in_its_own_table_column():
    counts = np.array([3, 0, 5, 1, 2])  # experts 0..3, then 2 dropped slots
    p = PackPlan(counts, 16)
    ids = np.repeat(np.arange(5), counts)  # already sorted
    columns = np.arange(len(ids)) + p.offsets[ids]
    assert len(set(columns.tolist())) == len(ids) and columns.max() < p.table_columns
    assert (columns[-2:] >= p.packed_columns).all()  # dropped slots land on the zero columns at the end


def test_collapsed_top1_runs_the_one_expert_on_every_point():
    torch.manual_seed(0)
    experts = Experts(8, 3, 5, 2)
    x = torch.randn(30, 3)
    ids = torch.full((30, 1), 5)
    torch.testing.assert_close(dispatch_packed(experts, x, ids), run_experts(experts, x, ids))
    torch.testing.assert_close(dispatch_packed(experts, x, ids)[:, 0], experts.forward_one(5, x))


def test_several_packs_and_drops_match_the_loop(monkeypatch):
    monkeypatch.setattr(packed, "PACK_COST", 0)  # every difference in load starts a new pack
    torch.manual_seed(0)
    experts = Experts(6, 3, 4, 2, layers=2)
    x = torch.randn(200, 3)
    ids = torch.randint(1, 6, (200, 2))
    ids[:150, 0] = 0  # one busy expert and five light ones
    kept = torch.rand(200, 2) > 0.2
    counts = np.bincount(torch.where(kept, ids, 6).reshape(-1).numpy(), minlength=7)
    assert len(PackPlan(counts, 4).packs) >= 3
    torch.testing.assert_close(dispatch_packed(experts, x, ids, kept), run_experts(experts, x, ids, kept))


def test_a_batch_with_every_slot_dropped_gives_zeros():
    torch.manual_seed(0)
    experts = Experts(3, 2, 4, 2)
    x = torch.randn(5, 2)
    ids = torch.zeros(5, 1, dtype=torch.long)
    out = dispatch_packed(experts, x, ids, torch.zeros(5, 1, dtype=torch.bool))
    torch.testing.assert_close(out, torch.zeros(5, 1, 2))
