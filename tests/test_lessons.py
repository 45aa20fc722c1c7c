"""Lessons: each builds valid configurations, and its verdict, computed from real runs at a reduced
size, holds on its default seed and on at least 3 of 4 other seeds."""

import math

import pytest

from moe_core.lessons import LESSONS, run_lesson


@pytest.mark.parametrize("name", LESSONS.names())
def test_each_lesson_builds_valid_configurations_and_says_what_to_watch(name):
    lesson = LESSONS[name]
    for small in (False, True):
        cfg = lesson.config(3, small)
        assert cfg.train.seed == 3
        for key, values in lesson.grid.items():
            for value in values:
                cfg.replace(**{key: value})  # raises ConfigError where a side-by-side run is impossible
    assert lesson.label and lesson.help and lesson.formula and lesson.watch and lesson.judge is not None


@pytest.mark.parametrize("name", LESSONS.names())
def test_each_lessons_verdict_holds_on_its_default_seed_and_most_others(name):
    outcomes = [run_lesson(name, seed, small=True) for seed in range(5)]
    assert outcomes[0].verdict.held, outcomes[0].verdict.sentence
    others = [o for o in outcomes[1:] if o.verdict.held]
    assert len(others) >= 3, [o.verdict.sentence for o in outcomes]
    for outcome in outcomes:
        assert outcome.verdict.numbers and all(isinstance(v, float) for v in outcome.verdict.numbers.values())
        assert len(outcome.rows) == math.prod(len(v) for v in LESSONS[name].grid.values())  # every combination
