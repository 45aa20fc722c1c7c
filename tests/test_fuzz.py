"""Bad input, generated: any bytes or text where a CSV file, a configuration (a file, --set, a link, an
upload), a sweep grid or a weights file enters either loads or raises the product's own error, one
sentence; nothing else escapes. The counts of cases tried and rejected are written to
test-artifacts/fuzz-counts.json for the session's note."""

import json
import string
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moe_core.datasets.csv_file import MAX_ROWS, read_csv
from moe_core.experiments.sweep import parse_grid, plan
from moe_core.layer.build import Build
from moe_core.models import weights
from moe_core.models.points import build_model
from moe_core.settings.config import ConfigError, RunConfig, parse_assignment
from moe_explorer_app.state import url_state

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CASES = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COUNTS: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def _write_counts():
    yield
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fuzz-counts.json").write_text(json.dumps(dict(sorted(COUNTS.items())), indent=1))


def attempt(kind: str, action) -> bool:
    """Run `action`: it may load (True), or raise ConfigError with one plain sentence (False); anything
    else fails the test."""
    COUNTS[f"{kind} tried"] += 1
    try:
        action()
    except ConfigError as error:
        message = str(error)
        assert message and "\n" not in message and "Traceback" not in message, message
        COUNTS[f"{kind} rejected"] += 1
        return False
    return True


CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "NaN", "1e999", "abc", "yes", "0x1F", '"', "1,5", "é"]),
    st.text(alphabet=string.printable, max_size=8),
)


@st.composite
def csv_texts(draw) -> bytes:
    """CSV-shaped text: a header (duplicates, blanks and a target name sometimes) and ragged rows of odd cells."""
    width = draw(st.integers(0, 6))
    names = draw(st.lists(st.sampled_from(["x1", "x2", "y", "label", "target", "cluster", "", "x1 "]), min_size=width,
                          max_size=width))  # fmt: skip
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=width + 2), max_size=12))
    lines = [",".join(names), *(",".join(row) for row in rows)]
    return "\n".join(lines).encode()


IRIS = (Path(__file__).resolve().parent.parent / "moe_core" / "sample_data" / "iris.csv").read_bytes()


def edited(base: bytes):
    """`base` with one byte changed, inserted or removed, or cut short: inputs near a valid file."""
    at = st.integers(0, len(base) - 1)
    return st.one_of(
        st.tuples(at, st.integers(0, 255)).map(lambda p: base[: p[0]] + bytes([p[1]]) + base[p[0] + 1 :]),
        st.tuples(at, st.binary(min_size=1, max_size=4)).map(lambda p: base[: p[0]] + p[1] + base[p[0] :]),
        at.map(lambda i: base[:i] + base[i + 1 :]),
        at.map(lambda i: base[:i]),
    )


@CASES
@given(
    raw=st.one_of(st.binary(max_size=400), csv_texts(), edited(IRIS)),
    target=st.sampled_from([None, "species", "y", "label", "nope", ""]),
)
def test_any_csv_bytes_load_or_are_refused_in_one_sentence(raw, target):
    attempt("csv", lambda: read_csv(raw, target or None))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
KEYS = st.sampled_from(["data", "model", "train", "extra"])
SECTION_KEYS = st.sampled_from(["name", "n_train", "n_experts", "top_k", "router", "lr", "steps", "noise", "dim",
                                "batch_size", "gate_noise", "shift_step", "expert_mix", "unknown"])  # fmt: skip


@CASES
@given(doc=st.one_of(JSON, st.dictionaries(KEYS, st.dictionaries(SECTION_KEYS, JSON, max_size=4), max_size=3)))
def test_any_configuration_document_loads_or_is_refused_in_one_sentence(doc):
    attempt("config document", lambda: RunConfig.from_dict(doc))
    attempt("config JSON", lambda: RunConfig.from_json(json.dumps(doc, allow_nan=True)))


ASSIGNMENT_KEYS = st.sampled_from(
    ["model.n_experts", "model.top_k", "data.n_train", "train.lr", "model.router", "data.name",
     "model.capacity_factor", "nothing.here", "model", "", "train.steps"]
)  # fmt: skip


@CASES
@given(key=ASSIGNMENT_KEYS, value=st.one_of(CELLS, st.text(max_size=10)), raw=st.text(max_size=20))
def test_any_set_assignment_applies_or_is_refused_in_one_sentence(key, value, raw):
    attempt("--set", lambda: RunConfig().with_overrides([f"{key}={value}"]))
    attempt("--set", lambda: parse_assignment(raw))


@CASES
@given(
    params=st.dictionaries(st.one_of(ASSIGNMENT_KEYS, st.text(max_size=10)), st.one_of(CELLS, st.text()), max_size=6)
)
def test_any_link_opens_with_what_it_can_and_names_the_rest(params):
    COUNTS["link tried"] += 1
    values, _, problems = url_state.decode(params)
    RunConfig.from_flat(values)  # what the link kept always makes a valid run
    COUNTS["link rejected"] += bool(problems)


@CASES
@given(texts=st.lists(st.one_of(st.text(max_size=30), st.builds(lambda k, v: f"{k}={v}", ASSIGNMENT_KEYS,
                                                                 st.text(max_size=15))), max_size=3),
       seeds=st.integers(-3, 40))  # fmt: skip
def test_any_sweep_grid_plans_or_is_refused_in_one_sentence(texts, seeds):
    attempt("sweep grid", lambda: plan(RunConfig(), parse_grid(texts), seeds))


MODEL = build_model(RunConfig().model, Build(2, 2, True))
GOOD = weights.to_bytes(MODEL, RunConfig())


@CASES
@given(raw=st.one_of(st.binary(max_size=300), st.just(GOOD), edited(GOOD)))
def test_any_weights_file_loads_or_is_refused_in_one_sentence(raw):
    before = {key: value.clone() for key, value in MODEL.state_dict().items()}

    def load():
        weights.load_into(MODEL, raw, RunConfig())
        weights.saved_config(raw)

    if not attempt("weights", load):  # a refused file changes nothing
        assert all(torch.equal(value, before[key]) for key, value in MODEL.state_dict().items())
    MODEL.load_state_dict(before)


VALID = RunConfig().to_dict()


@st.composite
def near_valid_documents(draw) -> dict:
    """The default configuration with one setting replaced by an arbitrary value."""
    section = draw(st.sampled_from(sorted(VALID)))
    key = draw(st.sampled_from(sorted(VALID[section])))
    return {**VALID, section: {**VALID[section], key: draw(JSON)}}


@CASES
@given(doc=near_valid_documents())
def test_a_configuration_with_one_odd_value_loads_or_names_that_value(doc):
    attempt("config document", lambda: RunConfig.from_dict(doc))


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"data.n_train": 10**9}, "data.n_train"),
        ({"data.n_test": 10**12}, "data.n_test"),
        ({"model.n_experts": 10**6}, "model.n_experts"),
        ({"model.expert_hidden": 10**7}, "model.expert_hidden"),
        ({"data.dim": 10**6}, "data.dim"),
        ({"train.batch_size": 10**8}, "train.batch_size"),
    ],
)
def test_absurd_sizes_are_refused_before_anything_is_allocated(changes, words):
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
            RunConfig().replace(**changes)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20  # under 2 MB: the refusal reads the number, never builds the data or the model


def test_a_csv_of_too_many_rows_is_refused_before_its_numbers_are_read():
    rows = b"x1,x2,y\n" + b"1,2,0\n" * (MAX_ROWS + 1)
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError, match="data rows; the limit is"):
            read_csv(rows)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * len(rows)  # the text and its rows, not a float array built first
