"""The kinds of expert a heterogeneous layer mixes (`model.expert_mix`), parsed and checked without
torch, so that validating a config stays fast (`moe_core.layer.heterogeneous` builds the experts).

"linear,16,64:tanh,32x2" gives expert 0 a linear map, expert 1 an MLP of width 16, expert 2 width 64
with tanh, expert 3 two hidden layers of 32, expert 4 linear again, and so on; width, depth and
activation default to the model's own (`model.expert_layers`, `model.expert_activation`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from moe_core.errors import ConfigError

_ITEM = re.compile(r"^(linear|(\d+)(?:x(\d+))?(?::(\w+))?)$")


@dataclass(frozen=True)
class ExpertSpec:
    """One kind of expert: linear (no hidden layer), or an MLP of `width` x `depth` with `activation`."""

    width: int  # 0 for linear
    depth: int
    activation: str

    @property
    def label(self) -> str:
        if self.width == 0:
            return "linear"
        shape = f"{self.width}" if self.depth == 1 else f"{self.width}x{self.depth}"
        return f"MLP {shape} {self.activation}"


def parse_mix(text: str, depth: int = 1, activation: str = "relu") -> list[ExpertSpec]:
    """The kinds `model.expert_mix` names, in order; ConfigError with the offending item otherwise."""
    specs = []
    for raw in text.split(","):
        item = raw.strip()
        match = _ITEM.match(item)
        if not match:
            raise ConfigError(
                f"model.expert_mix has '{item}'; write each expert kind as linear, a width (16), a width and "
                "depth (32x2) or either with an activation (16:tanh), separated by commas."
            )
        if match.group(1) == "linear":
            specs.append(ExpertSpec(0, 0, "linear"))
            continue
        width, layers, act = int(match.group(2)), int(match.group(3) or depth), match.group(4) or activation
        if not 1 <= width <= 4096 or not 1 <= layers <= 4:
            raise ConfigError(f"model.expert_mix has '{item}'; widths go from 1 to 4096 and depths from 1 to 4.")
        from moe_core.settings.choices import ACTIVATIONS  # choices checks mixes with this module: imported late

        ACTIVATIONS.get(act, "model.expert_mix's activation")
        specs.append(ExpertSpec(width, layers, act))
    return specs


def check_mix(m) -> str | None:
    """The ModelConfig's mix: parseable, and dividing the experts evenly (so stacked seeds line up)."""
    try:
        specs = parse_mix(m.expert_mix, m.expert_layers, m.expert_activation)
    except ConfigError as error:
        return str(error)
    if m.diversity_coef > 0 and m.diversity_kind == "weights":
        return "Mixed experts have weights of different shapes; set model.diversity_kind to outputs to keep them apart."
    if m.n_experts % len(specs):
        return (
            f"model.expert_mix names {len(specs)} kinds, cycled over the experts; choose a number of experts "
            f"that is a multiple of {len(specs)} (it is {m.n_experts})."
        )
    return None
