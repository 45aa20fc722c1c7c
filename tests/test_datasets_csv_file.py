from pathlib import Path

import numpy as np
import pytest
import torch

from moe_core.datasets.csv_file import MAX_BYTES, MAX_ROWS, SAMPLES, load_csv, read_csv, resolve, sample_files
from moe_core.datasets.dataset import make_dataset
from moe_core.errors import ConfigError
from moe_core.settings.table import DataConfig

# Where the samples live in the repository: the package's own copy, which the installed package carries.
REPO_SAMPLES = Path(__file__).resolve().parent.parent / "moe_core" / "sample_data"


def rows(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


GOOD = ["x1,x2,label", "0.1,0.2,0", "0.3,0.1,1", "0.5,0.9,1", "0.7,0.3,0"]


def test_a_good_file_reads_features_target_and_classes():
    table = read_csv(rows(*GOOD))
    assert table.x_ND.shape == (4, 2) and table.feature_names == ("x1", "x2")
    assert table.target_name == "label" and table.class_names == ("0", "1")
    assert table.y_N.tolist() == [0, 1, 1, 0] and table.cluster_N is None


def test_text_classes_and_a_chosen_target():
    table = read_csv(REPO_SAMPLES / "iris.csv", target="species")
    assert table.class_names == ("setosa", "versicolor", "virginica")
    assert table.x_ND.shape == (150, 4) and np.bincount(table.y_N).tolist() == [50, 50, 50]


def test_decimal_targets_make_a_regression_and_cluster_ids_are_read():
    table = read_csv(REPO_SAMPLES / "regression.csv")
    assert table.class_names == () and table.y_N.dtype == np.float32
    assert table.cluster_N is not None and set(table.cluster_N.tolist()) == {0, 1, 2, 3}
    assert "cluster" not in table.feature_names


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            rows("x1,x2,label", "0.1,nan,0", "0.3,0.1,1", "0.5,0.9,1", "0.7,0.3,0"),
            "Column 'x2' has a missing value on line 2",
        ),
        (
            rows("x1,x2,label", "0.1,0.2,0", "0.3,abc,1", "0.5,0.9,1", "0.7,0.3,0"),
            "Column 'x2' holds the text 'abc' on line 3; feature columns must be numbers",
        ),
        (
            rows("x1,x2,label", "0.1,0.2,0", "0.3,0.1,1", "inf,0.9,1", "0.7,0.3,0"),
            "Column 'x1' has an infinite value ('inf') on line 4",
        ),
        (rows("x1,x2,label", "0.1,,0", "0.3,0.1,1", "0.5,0.9,1", "0.7,0.3,0"), "Column 'x2' has a missing value"),
        (rows("label", "0", "1", "1", "0"), "only one column"),
        (rows("x1,x2,label"), "has a header but no data rows"),
        (b"", "The CSV file is empty"),
        (rows("x1,x2,label", "0.1,0.2,0", "0.3,0.1,1"), "has 2 data rows; it needs at least 4"),
        (
            rows("x1,x2,label", "0.1,0.2,0", "0.3,0.1", "0.5,0.9,1", "0.7,0.3,0"),
            "Line 3 has 2 fields but the header has 3",
        ),
        # a line with one field too many is as ragged as one short of it
        (
            rows("x1,x2,label", "0.1,0.2,0", "0.3,0.1,1,7", "0.5,0.9,1", "0.7,0.3,0"),
            "Line 3 has 4 fields but the header has 3",
        ),
        # a ragged short file: the raggedness is the problem, not the count of rows it seems to have
        (rows("x1,x2,label", "0.1,0.2,0", "0.3,0.1", "0.5,0.9,1"), "Line 3 has 2 fields but the header has 3"),
        # two bad cells: the first in reading order (line 2's x2), not the first column's (line 3's x1)
        (rows("x1,x2,label", "0.1,abc,0", "xyz,0.1,1", "0.5,0.9,1", "0.7,0.3,0"), "the text 'abc' on line 2"),
        (rows("x1,x2,label", "0.1,0.2,0", "-Infinity,0.1,1", "0.5,0.9,1", "0.7,0.3,0"), "infinite value ('-Infinity')"),
        (
            rows("x1,x2,colour", "0.1,0.2,0", "0.3,0.1,1", "0.5,0.9,1", "0.7,0.3,0"),
            "No column is named y, label or target; pick the target among x1, x2, colour",
        ),
        (rows("x1,x1,label", "0.1,0.2,0", "0.3,0.1,1", "0.5,0.9,1", "0.7,0.3,0"), "its own non-empty name"),
        (rows("x1,x2,label", "0.1,0.2,0", "0.3,0.1,0", "0.5,0.9,0", "0.7,0.3,0"), "has only one class"),
        (
            rows("x1,x2,y", "0.1,0.2,0.5", "0.3,0.1,oops", "0.5,0.9,1.5", "0.7,0.3,0.1"),
            "mixes numbers with the text 'oops' on line 3",
        ),
        (
            rows("x1,x2,label", "0.1,0.2,", "0.3,0.1,1", "0.5,0.9,1", "0.7,0.3,0"),
            "The target column 'label' has a missing value on line 2",
        ),
        (
            rows("x1,cluster,label", "0.1,a,0", "0.3,1,1", "0.5,0,1", "0.7,1,0"),
            "Column 'cluster' must hold whole numbers",
        ),
        (rows("cluster,label", "1,0", "0,1", "1,1", "0,0"), "no feature column besides the target"),
        ("x1,label\n0.1,0\n".encode("utf-16"), "not UTF-8 text"),
    ],
)
def test_bad_files_get_one_sentence(content, expected):
    with pytest.raises(ConfigError) as err:
        read_csv(content)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_a_named_target_that_is_missing_lists_the_columns():
    with pytest.raises(ConfigError, match="The target column 'kind' is not in the file; its columns are x1, x2, label"):
        read_csv(rows(*GOOD), target="kind")


def test_size_and_row_limits_are_stated():
    with pytest.raises(ConfigError, match="larger than 10 MB"):
        read_csv(b"x" * (MAX_BYTES + 1))
    too_many = rows("x1,label", *(f"{i},{i % 2}" for i in range(MAX_ROWS + 1)))
    with pytest.raises(ConfigError, match=f"the limit is {MAX_ROWS}"):
        read_csv(too_many)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_csv(tmp_path / "nope.csv")


def test_a_csv_dataset_is_standardised_split_and_seeded():
    cfg = DataConfig(name="csv", csv_path=str(REPO_SAMPLES / "clusters.csv"), seed=4)
    data = make_dataset(cfg)
    assert data.task == "classification" and data.dim == 2 and data.n_clusters == 4
    assert len(data.x_train) == 400 and len(data.x_test) == 200  # the default 2000 : 1000 share
    everything = torch.cat([data.x_train, data.x_test])
    assert torch.allclose(everything.mean(0), torch.zeros(2), atol=1e-5)
    assert torch.equal(make_dataset(cfg).x_test, data.x_test)


def test_the_bundled_samples_ship_inside_the_package():
    # Inside moe_core/, so that an installed package has them (pyproject's package-data lists them).
    assert SAMPLES == REPO_SAMPLES
    assert sample_files() == ["clusters.csv", "iris.csv", "regression.csv"]


def test_a_bare_sample_name_resolves_to_the_bundled_file_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no iris.csv here
    assert resolve("iris.csv") == SAMPLES / "iris.csv"
    assert read_csv("iris.csv", target="species").x_ND.shape == (150, 4)


def test_a_file_that_exists_wins_over_a_sample_of_the_same_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("iris.csv").write_bytes(rows(*GOOD))
    assert resolve("iris.csv") == Path("iris.csv")
    assert read_csv("iris.csv").x_ND.shape == (4, 2)
    assert resolve(tmp_path / "iris.csv") == tmp_path / "iris.csv"


@pytest.mark.parametrize("path", ["nope.csv", "elsewhere/iris.csv"])
def test_only_a_bare_name_falls_back_and_a_missing_file_lists_the_samples(path, tmp_path, monkeypatch):
    # A path with a folder names that file: falling back to the sample would read a file the user did not mean.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as err:
        resolve(path)
    message = str(err.value)
    assert f"The CSV file '{path}' does not exist" in message
    assert "the bundled samples are clusters.csv, iris.csv, regression.csv." in message


def test_a_regression_file_loads_with_standardised_features_and_target():
    cfg = DataConfig(name="csv", csv_path="regression.csv", n_train=3, n_test=1, seed=2)
    data = load_csv(cfg)
    assert data.task == "regression" and not data.classification and data.value_kind == "value"
    assert len(data.x_train) == 300 and len(data.x_test) == 100  # the file's 400 rows at 3 : 1
    assert data.feature_names == ("x1", "x2") and data.n_clusters == 4
    x, y = torch.cat([data.x_train, data.x_test]), torch.cat([data.y_train, data.y_test])
    torch.testing.assert_close(x.mean(0), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(x.std(0, correction=0), torch.ones(2), atol=1e-5, rtol=0)
    assert abs(float(y.mean())) < 1e-5 and float(y.std(correction=0)) == pytest.approx(1.0, abs=1e-5)
    # The same split through the registry; another seed draws another one.
    assert torch.equal(make_dataset(cfg).y_test, data.y_test)
    assert not torch.equal(load_csv(DataConfig(**{**vars(cfg), "seed": 3})).y_test, data.y_test)


def test_named_classes_keep_their_names():
    iris = load_csv(DataConfig(name="csv", csv_path="iris.csv", target="species", n_train=100, n_test=50))
    assert iris.class_names == ("setosa", "versicolor", "virginica") and iris.value_kind == "class"
    assert iris.n_classes == 3 and len(iris.x_train) == 100 and len(iris.x_test) == 50
    assert iris.cluster_train is None  # iris has no cluster column


@pytest.mark.parametrize(("n_train", "n_test", "kept"), [(1, 200_000, 1), (200_000, 1, 599)])
def test_a_lopsided_split_still_leaves_a_row_on_each_side(n_train, n_test, kept):
    # clusters.csv has 600 rows; the share asked for would round one side to nothing.
    data = load_csv(DataConfig(name="csv", csv_path="clusters.csv", n_train=n_train, n_test=n_test))
    assert len(data.x_train) == kept and len(data.x_test) == 600 - kept


@pytest.mark.parametrize("raw", [b"\r\x00", b'x1,y\n"1,0\n2,1', b"x1,y\n1\x00,0\n"])
def test_bytes_the_csv_reader_chokes_on_are_one_sentence(raw):
    with pytest.raises(ConfigError) as error:
        read_csv(raw)
    assert "\n" not in str(error.value) and str(error.value).endswith(".")
