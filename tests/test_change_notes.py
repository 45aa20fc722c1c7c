"""What the page says after a setting changed: when a live change's effect will show, and which
settings needed a new model."""

import pytest

from moe_core.settings.table import LIVE_KEYS, OPTIONS
from moe_explorer_app.state import change_notes
from moe_explorer_app.state.change_notes import SLOW_CHANGES, live_notice, moves, new_model_notice, slow_notes


def test_every_slow_change_is_a_live_setting_with_a_move_the_table_knows():
    # a key that cannot change live would never reach the table: a typo or a renamed option
    assert {key for key, _ in SLOW_CHANGES} <= LIVE_KEYS
    assert {move for _, move in SLOW_CHANGES} <= {"off", "on", "down", "up", "any"}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("aux_loss", "none", ("off", "any")),
        ("none", "bias", ("on", "any")),
        ("aux_loss", "bias", ("any",)),
        (0.1, 0.0, ("off", "down", "any")),
        (0.0, 0.5, ("on", "up", "any")),
        (0.1, 0.03, ("down", "any")),
        (None, 2.0, ("on", "any")),
    ],
)
def test_a_move_is_named_from_the_most_particular_to_any(old, new, expected):
    assert moves(old, new) == expected


def test_balancing_off_says_why_nothing_moves_and_to_press_reset_once_for_its_two_settings():
    changes = {"model.balance": ("aux_loss", "none"), "model.aux_loss_coef": (0.1, 0.0)}
    (note,) = slow_notes(changes)
    assert "may drift slowly, or never" in note and "Press Reset" in note
    assert slow_notes({"model.aux_loss_coef": (0.1, 0.03)}) == [SLOW_CHANGES["model.aux_loss_coef", "down"]]
    assert slow_notes({"model.gate_noise": (0.0, 1.0), "train.lr": (0.01, 0.003)}) == []  # both show at once


def test_the_live_notice_says_the_step_the_change_and_when_it_shows():
    text = live_notice(1234, ["balance aux_loss → none"], {"model.balance": ("aux_loss", "none")})
    assert text.startswith("Applied at step 1,234 without restarting: balance aux_loss → none. Balancing off")
    only_steps = live_notice(5, [], {"train.steps": (2000, 500)})  # the trainer says nothing for steps
    assert only_steps == f"Applied at step 5 without restarting. {SLOW_CHANGES['train.steps', 'any']}"


def test_a_new_model_is_said_with_the_settings_in_words_and_long_values_by_name():
    assert new_model_notice({"model.n_experts": (4, 8)}, None, 1, None) == (
        "Started run 1 again at step 0: Experts 4 → 8 needs a new model."
    )
    changes = {
        "data.name": ("clusters", "csv"),
        "data.csv_path": (None, "/tmp/moe-explorer-uploads/0123456789abcdef.csv"),
        "train.lr": (0.01, 0.003),  # live: it rides along, unnamed
    }
    assert new_model_notice(changes, (False, True), 3, 2) == (
        f"Dataset clusters → csv, {OPTIONS['data.csv_path'].label} and Dense baseline off → on need a new "
        "model: started run 3 at step 0 (run 2 is kept)."
    )
    assert change_notes.new_model_changes({}, (True, False)) == "Dense baseline on → off needs"
