"""What the page says after a setting changed: the live change and when its effect will show, or
which settings needed a new model. No Streamlit in here (`moe_explorer_app.state.runs` builds the sentences).

A live change moves no weight by itself: most act through the gradient, so on a run that has already
trained their effect shows over many steps, or never. `SLOW_CHANGES` says so, one sentence per
(setting, how it moved), with what to do instead.
"""

from __future__ import annotations

from typing import Any

from moe_core.settings.table import LIVE_KEYS, OPTIONS

Changes = dict[str, tuple[Any, Any]]

_BALANCE_OFF = (
    "Balancing off moves no weight by itself: the router keeps the load as it has learnt it, and without "
    "the balance loss it may drift slowly, or never. Press Reset to watch a run train without balancing "
    "from step 0."
)
_DECAY = "Weight decay shrinks the weights a little each step: its effect shows over many steps, not at once."
_RULES = (
    "The split and remove rules look at the load only every 'Check experts every' steps: nothing changes "
    "before the next check."
)

# (setting, how it moved) -> why its effect will not show soon, and what to do. A move is "off" (to
# 0, none or null), "on" (from one of those), "down", "up" or "any"; the most particular one listed wins.
SLOW_CHANGES: dict[tuple[str, str], str] = {
    ("model.balance", "off"): _BALANCE_OFF,
    ("model.aux_loss_coef", "off"): _BALANCE_OFF,
    ("model.balance", "any"): (
        "A new balance strategy moves no weight by itself: the load shifts, if at all, over many steps. Press "
        "Reset to watch a run train with it from step 0."
    ),
    ("model.aux_loss_coef", "down"): (
        "A lighter balance loss moves no weight by itself: the load drifts, if at all, over many steps. Press "
        "Reset to watch a run train with this weight from step 0."
    ),
    ("model.gate_noise", "down"): (
        "Less gate noise explores less from now on; the routing the router has settled on stays as it is. "
        "Press Reset to watch a run train with this noise from step 0."
    ),
    ("model.z_loss_coef", "any"): (
        "The z-loss shrinks the router's logits over many steps and does not move the load: watch router z "
        "in the collapse watch."
    ),
    ("model.diversity_coef", "up"): (
        "The diversity penalty pushes the experts apart over many steps: watch likeness fall in "
        "Specialisation over time, or press Reset to see it from step 0."
    ),
    ("model.entropy_loss_coef", "any"): (
        "The router entropy loss changes how sure the gate is over many steps; the map changes slowly."
    ),
    ("model.bias_update_rate", "any"): (
        "The balancing bias moves by this rate each step: the load evens out over many steps, not at once."
    ),
    ("model.expert_decay", "any"): _DECAY,
    ("train.weight_decay", "any"): _DECAY,
    ("train.split_above", "any"): _RULES,
    ("train.remove_below", "any"): _RULES,
    ("train.steps", "any"): "Steps is how far the command line trains; on this page a run trains until Pause.",
}

_OFF = (None, 0, "none")
_LONG = 20  # characters: a value longer than this (a file's path) is named by its setting alone


def moves(old: Any, new: Any) -> tuple[str, ...]:
    """How a setting moved, the most particular first: e.g. ("off", "down", "any")."""
    found = []
    if new in _OFF and old not in _OFF:
        found.append("off")
    elif old in _OFF and new not in _OFF:
        found.append("on")
    numbers = all(isinstance(v, int | float) for v in (old, new))
    if numbers and new != old:
        found.append("down" if new < old else "up")
    return (*found, "any")


def slow_notes(changes: Changes) -> list[str]:
    """One sentence per change whose effect will not show soon (each sentence once)."""
    notes = []
    for key, (old, new) in changes.items():
        note = next((SLOW_CHANGES[key, move] for move in moves(old, new) if (key, move) in SLOW_CHANGES), None)
        if note is not None and note not in notes:
            notes.append(note)
    return notes


def live_notice(step: int, texts: list[str], changes: Changes) -> str:
    """What a live change did at `step` (the trainer's texts), and when its effect will show."""
    done = f"Applied at step {step:,} without restarting" + (f": {'; '.join(texts)}." if texts else ".")
    return " ".join([done, *slow_notes(changes)])


def _value(value: Any) -> str:
    return "none" if value is None else str(value)


def new_model_changes(changes: Changes, baseline: tuple[bool, bool] | None = None) -> str:
    """The settings that need a new model, in words: "Experts 4 → 8 needs", "A and B need"."""
    parts = []
    for key, (old, new) in changes.items():
        if key in LIVE_KEYS:
            continue  # it rides along with the new model
        before, after = _value(old), _value(new)
        label = OPTIONS[key].label
        parts.append(label if max(len(before), len(after)) > _LONG else f"{label} {before} → {after}")
    if baseline is not None:
        parts.append("Dense baseline " + " → ".join("on" if on else "off" for on in baseline))
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f"{listed} {'needs' if len(parts) == 1 else 'need'}"


def new_model_notice(changes: Changes, baseline: tuple[bool, bool] | None, number: int, kept: int | None) -> str:
    """A new run for settings a model cannot take live: `kept` is the trained run kept beside it,
    None where the untrained run was replaced (it keeps its number)."""
    what = new_model_changes(changes, baseline)
    if kept is None:
        return f"Started run {number} again at step 0: {what} a new model."
    return f"{what} a new model: started run {number} at step 0 (run {kept} is kept)."
