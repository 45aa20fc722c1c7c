"""A catalogue of bad input, each case through the core and through the CLI: the core raises the
product's error naming the problem, and the CLI exits with 2 after one `error:` line, no traceback.
Uploads and links go through the app as well, on a real server over Streamlit's protocol
(devtools/streamlit_client.py): one sentence on the page, no exception, and the session keeps its runs."""

import json
import urllib.error

import pytest

from devtools.browser import streamlit_server
from devtools.cli import run_main
from devtools.load_report import app_errors
from devtools.load_sockets import run_names
from devtools.streamlit_client import AppSession, run
from moe_core.datasets.csv_file import MAX_BYTES, MAX_COLUMNS, MAX_ROWS, read_csv
from moe_core.settings.config import ConfigError

GOOD_ROWS = "".join(f"{i % 7 / 3:.2f},{i % 5 / 2:.2f},{'ab'[i % 2]}\n" for i in range(40))
CSV_CASES = {
    "empty file": (b"", "The CSV file is empty"),
    "header only": (b"x1,x2,y\n", "no data rows"),
    "text in a numeric column": (("x1,x2,y\n" + GOOD_ROWS + "abc,1,a\n").encode(), "Column 'x1'"),
    "NaN": (("x1,x2,y\n" + GOOD_ROWS + "nan,1,a\n").encode(), "Column 'x1'"),
    "infinity": (("x1,x2,y\n" + GOOD_ROWS + "inf,1,a\n").encode(), "infinite value"),
    "one column": (b"y\n" + b"a\nb\n" * 20, "only one column"),
    "ragged rows": (("x1,x2,y\n" + GOOD_ROWS + "1,2\n").encode(), "line"),
    "not UTF-8": ("x1,x2,y\n1,2,é\n".encode("latin-1") + GOOD_ROWS.encode(), "not UTF-8"),
    "binary garbage": (bytes(range(256)) * 4, "not UTF-8"),
    "a NUL byte": (("x1,x2,y\n" + GOOD_ROWS).encode().replace(b"\n1", b"\n\x001", 1), "holds the text"),
    "duplicate column names": (("x1,x1,y\n" + GOOD_ROWS).encode(), "its own"),
    "no target column": (("x1,x2,z\n" + GOOD_ROWS).encode(), "target"),
    "an unnamed column": (("x1,,y\n" + GOOD_ROWS).encode(), "non-empty name"),
    "a target with one class": (("x1,x2,y\n" + GOOD_ROWS.replace(",b\n", ",a\n")).encode(), "only one class"),
    "thousands of classes": (("x1,x2,y\n" + "".join(f"1,2,c{i}\n" for i in range(3000))).encode(), "classes"),
    "too many rows": (b"x1,x2,y\n" + b"1,2,a\n" * (MAX_ROWS + 1), "the limit is"),
    "too many columns": ((",".join(f"c{i}" for i in range(MAX_COLUMNS)) + ",y\n1\n").encode(), "the limit is"),
    "too many bytes": (b"x1,x2,y\n" + b"1" * (MAX_BYTES + 1), "larger than"),
}


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_each_bad_csv_is_refused_by_the_core_and_by_the_cli_in_one_line(case, tmp_path, capsys):
    raw, words = CSV_CASES[case]
    with pytest.raises(ConfigError) as error:
        read_csv(raw, "y")
    assert words in str(error.value), str(error.value)
    path = tmp_path / "bad.csv"
    path.write_bytes(raw)
    code, _, err = run_main(capsys, "train", "--steps", "1", "--set", "data.name=csv", "--set", f"data.csv_path={path}",
                          "--set", "data.target=y")  # fmt: skip
    _one_error_line(code, err, words)


CONFIG_CASES = {
    "a wrong type": (["--set", "model.n_experts=four"], "model.n_experts"),
    "out of range": (["--set", "model.n_experts=0"], "model.n_experts"),
    "an unknown key": (["--set", "model.experts=4"], "Unknown configuration key 'model.experts'"),
    "a setting without a value": (["--set", "model.n_experts"], "section.key=value"),
    "an unknown name": (["--set", "model.router=gshard"], "model.router 'gshard' is unknown"),
    "absurd sizes": (["--set", "data.n_train=1000000000"], "data.n_train"),
    "a million experts": (["--set", "model.n_experts=1000000"], "model.n_experts"),
    "an impossible pair": (["--set", "model.top_k=8"], "at most model.n_experts"),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_each_bad_setting_is_one_error_line(case, capsys):
    args, words = CONFIG_CASES[case]
    code, _, err = run_main(capsys, "train", "--steps", "1", *args)
    _one_error_line(code, err, words)


@pytest.mark.parametrize(
    ("text", "words"),
    [("{not json", "JSON"), ("[1, 2]", "object"), ('{"model": {"n_experts": "x"}}', "model.n_experts"),
     ('{"modle": {}}', "modle"), ("", "JSON")],
)  # fmt: skip
def test_each_bad_configuration_file_is_one_error_line(text, words, tmp_path, capsys):
    path = tmp_path / "run.json"
    path.write_text(text)
    code, _, err = run_main(capsys, "train", "--steps", "1", "--config", str(path))
    _one_error_line(code, err, words)


def test_a_bad_sweep_grid_is_one_error_line(capsys):
    code, _, err = run_main(capsys, "sweep", "--steps", "1", "--grid", "model.top_k=1,1")
    _one_error_line(code, err, "same value twice")
    code, _, err = run_main(capsys, "sweep", "--steps", "1", "--grid", json.dumps("model.n_experts"))
    _one_error_line(code, err, "section.key=a,b,c")


def _one_error_line(code: int, err: str, words: str) -> None:
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert words in err, err


async def _upload_each(url: str, folder) -> dict[str, str]:
    """Each bad CSV uploaded in turn into one session that has trained a run; what the page said of each."""
    app = AppSession(url)
    said = {}
    await app.open()
    try:
        await app.wait_for(lambda: app.button("Play"), 180, "the Play button")
        await app.click("Play")
        await app.wait_for(lambda: app.step() > 0, 90, "training")
        await app.click("Pause")
        runs = run_names(app)
        for number, (case, (raw, _)) in enumerate(CSV_CASES.items()):
            path = folder / f"case-{number}.csv"
            path.write_bytes(raw)
            try:
                await app.upload("CSV file", path)
            except urllib.error.URLError:  # the server's upload limit: a 413, or the connection closed mid-send
                said[case] = "refused by the server"
                continue
            texts = await app.wait_for(lambda name=path.name: [t for t in app.texts() if name in t], 30, case)
            said[case] = texts[0]
            assert app.exceptions() == 0, case
            assert run_names(app) == runs, f"{case} changed the runs"
        # a file still waiting for its target column (the case without one) holds the page at its
        # sentence until a target is picked or a file that reads arrives: then the session trains on
        good = folder / "good.csv"
        good.write_bytes(("x1,x2,y\n" + GOOD_ROWS).encode())
        await app.upload("CSV file", good)
        await app.wait_for(lambda: any("Loaded good.csv" in t for t in app.texts()) and app.button("Play"), 30, "good")
        await app.click("Play")
        await app.wait_for(lambda: app.step() > 0 and app.button("Pause"), 90, "training after the bad files")
        return said
    finally:
        await app.close()


def test_each_bad_csv_uploaded_to_the_app_gets_one_sentence_and_the_session_keeps_its_runs(tmp_path):
    with streamlit_server() as server:
        said = run(_upload_each(server.url, tmp_path))
        assert app_errors(server) == []
    assert said.pop("too many bytes") == "refused by the server"  # maxUploadSize is the reader's own limit
    for case, text in said.items():
        assert CSV_CASES[case][1] in text and "Traceback" not in text, (case, text)
        assert text.count(". ") <= 3, text  # a sentence or two, not a dump


LINK_CASES = {
    "a wrong type": ("model.n_experts=four", "model.n_experts 'four'"),
    "an unknown key": ("model.experts=4", "'model.experts'"),
    "absurd sizes": ("data.n_train=1000000000", "data.n_train '1000000000'"),
    "a million experts": ("model.n_experts=1000000", "model.n_experts '1000000'"),
    "an unknown name": ("model.router=gshard", "model.router 'gshard'"),
    "syntax junk": ("%ZZ=%%&=&&model.top_k", "could not be used"),
}


async def _open_each(url: str) -> dict[str, tuple[str, list[str], int]]:
    said = {}
    for case, (query, _) in LINK_CASES.items():
        app = AppSession(url, query)
        await app.open()
        try:
            await app.wait_for(lambda app=app: app.button("Play"), 180, "the Play button")
            notice = next((t for t in app.texts() if "could not be used" in t), "")
            said[case] = (notice, run_names(app), app.exceptions())
        finally:
            await app.close()
    return said


def test_each_bad_link_opens_the_app_with_defaults_and_one_sentence_on_what_was_wrong():
    with streamlit_server() as server:
        said = run(_open_each(server.url))
        assert app_errors(server) == []
    for case, (notice, runs, exceptions) in said.items():
        assert LINK_CASES[case][1] in notice and notice.endswith("keep their defaults."), (case, notice)
        assert exceptions == 0 and len(runs) == 1 and "4 experts" in runs[0], (case, runs)
