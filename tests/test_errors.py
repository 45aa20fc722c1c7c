"""The product's error: one sentence on one line, whatever it quotes."""

import pickle

from moe_core.errors import ConfigError, did_you_mean, one_line


def test_quoted_control_characters_are_shown_escaped_and_the_rest_as_it_is():
    error = ConfigError("Override 'a\nb\x00' needs the form section.key=value; é stays.")
    assert str(error) == "Override 'a\\nb\\x00' needs the form section.key=value; é stays."
    assert one_line("tab\there\u2028") == "tab\\there\\u2028"


def test_the_error_survives_a_trip_to_a_worker_process_and_back():
    error = pickle.loads(pickle.dumps(ConfigError("bad\nvalue")))
    assert isinstance(error, ConfigError) and str(error) == "bad\\nvalue"


def test_a_close_name_is_suggested_and_a_far_one_is_not():
    assert did_you_mean("topkk", ["topk", "dense"]) == " (did you mean topk?)"
    assert did_you_mean("gshard", ["topk", "dense"]) == ""
