"""Load-balancing strategies, one module each, registered by name (the same pattern as the routers).

A strategy may add a loss (weighted by `model.aux_loss_coef`), move the router's selection, or
update state after each optimiser step; `uses` names the options that apply to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from moe_core.settings.registry import Entry, Registry


@dataclass(frozen=True)
class BalanceSpec(Entry):
    citation: str = ""


BALANCE: Registry[BalanceSpec] = Registry(
    "model.balance",
    [
        BalanceSpec(
            "none",
            "none: watch for collapse",
            "No balancing: the router is free to send everything to one expert.",
            "moe_core.layer.balance.base:Balance",
        ),
        BalanceSpec(
            "aux_loss",
            "auxiliary loss (Switch / GShard)",
            "Adds alpha * E * sum_i f_i P_i: 1 at perfect balance, E when one expert takes everything.",
            "moe_core.layer.balance.aux_loss:AuxLoss",
            frozenset({"model.aux_loss_coef"}),
            citation="Fedus et al. 2021, eq. 4; Lepikhin et al. 2020",
        ),
        BalanceSpec(
            "importance",
            "importance + load CV² (Shazeer)",
            "Adds CV² of each expert's summed gate weight, and with gate noise CV² of its smooth load estimate.",
            "moe_core.layer.balance.importance:Importance",
            frozenset({"model.aux_loss_coef"}),
            citation="Shazeer et al. 2017, appendix A",
        ),
        BalanceSpec(
            "bias",
            "bias, loss-free (DeepSeek-V3)",
            "A per-expert bias moves selection only; after each step it rises for underused experts and falls "
            "for busy ones.",
            "moe_core.layer.balance.bias:Bias",
            frozenset({"model.bias_update_rate"}),
            citation="Wang et al. 2024, Auxiliary-Loss-Free Load Balancing; DeepSeek-V3 2024",
        ),
    ],
)
