"""Tests for the downloading loaders of cnn_helpers.data.mnist: IDX files, MNIST, Fashion-MNIST.

No test uses the network: they write small IDX files to a pretend server and replace the
downloader with a copy from it.
"""

import gzip
import hashlib
import shutil
import socket
import struct
from pathlib import Path

import numpy as np
import pytest

from cnn_helpers import data
from cnn_helpers.data import mnist

BASE_URL = "https://example.invalid/mnist/"
PER_CLASS_TRAIN, PER_CLASS_TEST = 10, 3  # small pretend data sets: 100 training, 30 test images


@pytest.fixture
def no_network(monkeypatch):
    """Fail any attempt to open a network connection."""

    def refuse(*args, **kwargs):
        raise AssertionError("this test must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def write_idx(path, array):
    """Write ``array`` (uint8) as an IDX file the way the format describes, gzipped if .gz."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    content = header + array.tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        # fixed mtime: the same array always gives the same bytes, hence the same SHA-256
        content = gzip.compress(content, mtime=0)
    path.write_bytes(content)
    return path


# ---------------------------------------------------------------- IDX files


@pytest.mark.parametrize("name", ["plain.idx", "packed.gz"])
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5), (2, 1, 3, 2)])
def test_read_idx_round_trips(tmp_path, rng, name, shape):
    array = rng.integers(0, 256, size=shape, dtype=np.uint8)
    result = data.read_idx(write_idx(tmp_path / name, array))
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(result, array)
    result[...] = 0  # the result is writable


def test_read_idx_rejects_a_bad_magic_number(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + b"\0\0\0\0")  # float32 type code
    with pytest.raises(
        ValueError,
        match=r"bad\.idx is not an IDX file of unsigned bytes: it starts with 0x00000d01, expected 0x000008",
    ):
        data.read_idx(path)
    path.write_bytes(b"PK")
    with pytest.raises(ValueError, match="it starts with 0x504b, expected"):
        data.read_idx(path)


def test_read_idx_rejects_data_that_does_not_match_the_header(tmp_path):
    path = tmp_path / "short.idx"
    path.write_bytes(bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3]))
    with pytest.raises(
        ValueError, match=r"holds 3 values, but its header gives shape \(2, 3\), which needs 6"
    ):
        data.read_idx(path)
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 2]))
    with pytest.raises(ValueError, match="ends inside its header: 3 dimensions need 16 bytes"):
        data.read_idx(path)


# ---------------------------------------------------------------- a pretend server


def _pretend_arrays(rng):
    """MNIST-like arrays: balanced labels (shuffled) and random 28x28 images that carry their index."""

    def split(per_class):
        labels = rng.permutation(np.repeat(np.arange(10, dtype=np.uint8), per_class))
        images = rng.integers(0, 256, size=(len(labels), 28, 28), dtype=np.uint8)
        ids = np.arange(len(labels))  # each image's index, written into its first two pixels
        images[:, 0, 0], images[:, 0, 1] = ids // 256, ids % 256
        return images, labels

    train_images, train_labels = split(PER_CLASS_TRAIN)
    test_images, test_labels = split(PER_CLASS_TEST)
    return {
        "train_images": train_images,
        "train_labels": train_labels,
        "test_images": test_images,
        "test_labels": test_labels,
    }


@pytest.fixture
def fake_server(tmp_path, monkeypatch, rng):
    """Small MNIST- and Fashion-MNIST-like files on a pretend server, with their checksums, and a
    downloader that copies from it and records what it fetched."""
    served = {}
    for kind, files_name, url_name in [
        ("digits", "MNIST_FILES", "MNIST_BASE_URL"),
        ("fashion", "FASHION_MNIST_FILES", "FASHION_MNIST_BASE_URL"),
    ]:
        folder = tmp_path / "server" / kind
        folder.mkdir(parents=True)
        arrays = _pretend_arrays(rng)
        files = {}
        for key, (file_name, _) in getattr(mnist, files_name).items():
            path = write_idx(folder / file_name, arrays[key])
            files[key] = (file_name, hashlib.sha256(path.read_bytes()).hexdigest())
        monkeypatch.setattr(mnist, files_name, files)
        monkeypatch.setattr(mnist, url_name, f"https://example.invalid/{kind}/")
        served[kind] = {"folder": folder, "arrays": arrays, "files": files}

    downloads = []

    def pretend_download(url, path):
        prefix = "https://example.invalid/"
        assert url.startswith(prefix), url
        kind, file_name = url[len(prefix) :].split("/")
        downloads.append((kind, file_name))
        shutil.copy(tmp_path / "server" / kind / file_name, path)

    monkeypatch.setattr(mnist, "download_file", pretend_download)
    return {**served, "downloads": downloads, "cache": tmp_path / "cache", "server": tmp_path / "server"}


def _ids(x):
    """The unique id the pretend server wrote into the first two pixels of every image."""
    pixels = np.round(x[:, 0, 0, :2] * 255).astype(np.int64)
    return pixels[:, 0] * 256 + pixels[:, 1]


# ---------------------------------------------------------------- load_mnist


def test_load_mnist_returns_the_same_type_as_the_sample(fake_server, no_network):
    split = data.load_mnist(cache_dir=fake_server["cache"])
    assert type(split) is type(data.load_mnist_sample()) is data.MnistSample
    assert split._fields == ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
    for x, y in [(split.x_train, split.y_train), (split.x_val, split.y_val), (split.x_test, split.y_test)]:
        assert x.dtype == np.float32 and x.shape[1:] == (1, 28, 28) and x.min() >= 0 and x.max() <= 1
        assert y.dtype == np.int64 and y.shape == (len(x),)


def test_load_mnist_keeps_the_official_test_set_and_its_order(fake_server, no_network):
    arrays = fake_server["digits"]["arrays"]
    split = data.load_mnist(cache_dir=fake_server["cache"])
    np.testing.assert_allclose(split.x_test[:, 0] * 255, arrays["test_images"], rtol=1e-6)
    np.testing.assert_array_equal(split.y_test, arrays["test_labels"])


def test_load_mnist_takes_a_stratified_validation_set_from_the_training_images(fake_server):
    arrays = fake_server["digits"]["arrays"]
    split = data.load_mnist(cache_dir=fake_server["cache"], val_fraction=0.2)
    assert np.bincount(split.y_val, minlength=10).tolist() == [2] * 10
    assert np.bincount(split.y_train, minlength=10).tolist() == [8] * 10
    train_ids, val_ids = _ids(split.x_train), _ids(split.x_val)
    assert not set(train_ids) & set(val_ids)
    assert sorted(np.concatenate([train_ids, val_ids]).tolist()) == list(range(10 * PER_CLASS_TRAIN))
    # every image keeps its own label and pixels
    np.testing.assert_array_equal(split.y_train, arrays["train_labels"][train_ids])
    np.testing.assert_allclose(split.x_val[:, 0] * 255, arrays["train_images"][val_ids], rtol=1e-6)


def test_the_seed_reshuffles_training_and_validation_but_not_test(fake_server):
    first = data.load_mnist(cache_dir=fake_server["cache"], seed=0)
    again = data.load_mnist(cache_dir=fake_server["cache"], seed=0)
    other = data.load_mnist(cache_dir=fake_server["cache"], seed=1)
    for name, a, b in zip(first._fields, first, again, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert set(_ids(first.x_val)) != set(_ids(other.x_val))
    np.testing.assert_array_equal(first.x_test, other.x_test)


def test_load_mnist_downloads_checks_and_caches(fake_server, no_network):
    cache = fake_server["cache"]
    data.load_mnist(cache_dir=cache)
    files = fake_server["digits"]["files"]
    assert sorted(fake_server["downloads"]) == sorted(("digits", f) for f, _ in files.values())
    assert sorted(p.name for p in cache.iterdir()) == sorted(f for f, _ in files.values())

    data.load_mnist(cache_dir=cache)
    assert len(fake_server["downloads"]) == 4  # the second call uses the cache
    data.load_mnist(cache_dir=cache, download=False)


def test_fashion_mnist_is_read_from_its_own_files(fake_server, no_network, tmp_path):
    arrays = fake_server["fashion"]["arrays"]
    fashion = data.load_mnist("fashion", cache_dir=tmp_path / "fashion-cache")
    np.testing.assert_array_equal(fashion.y_test, arrays["test_labels"])
    assert {kind for kind, _ in fake_server["downloads"]} == {"fashion"}
    same = data.load_fashion_mnist(cache_dir=tmp_path / "fashion-cache", seed=0)
    for name, a, b in zip(fashion._fields, fashion, same, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    digits = data.load_mnist(cache_dir=tmp_path / "digits-cache")
    assert not np.array_equal(digits.x_test, fashion.x_test)


def test_the_two_data_sets_have_separate_default_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert data.default_cache_dir() == tmp_path / "cnn_course" / "mnist"
    assert data.default_cache_dir("fashion") == tmp_path / "cnn_course" / "fashion-mnist"


def test_load_mnist_uses_the_default_cache(fake_server, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    data.load_fashion_mnist()
    assert len(list((tmp_path / "xdg" / "cnn_course" / "fashion-mnist").glob("*.gz"))) == 4


def test_a_corrupted_cached_file_is_downloaded_again(fake_server):
    cache = fake_server["cache"]
    data.load_mnist(cache_dir=cache)
    file_name = mnist.MNIST_FILES["test_labels"][0]
    (cache / file_name).write_bytes(b"garbage")
    data.load_mnist(cache_dir=cache)
    assert fake_server["downloads"][4:] == [("digits", file_name)]


def test_a_corrupted_cached_file_without_download_fails_clearly(fake_server):
    cache = fake_server["cache"]
    data.load_mnist(cache_dir=cache)
    file_name, expected = mnist.MNIST_FILES["train_images"]
    (cache / file_name).write_bytes(b"garbage")
    actual = hashlib.sha256(b"garbage").hexdigest()
    with pytest.raises(
        data.ChecksumError, match=f"{file_name} is damaged .* its SHA-256 is {actual}, expected {expected}"
    ):
        data.load_mnist(cache_dir=cache, download=False)


def test_missing_files_without_download_fail_clearly(fake_server):
    with pytest.raises(
        FileNotFoundError, match=r"train-images-idx3-ubyte\.gz is not in the cache and download=False"
    ):
        data.load_mnist(cache_dir=fake_server["cache"], download=False)
    assert fake_server["downloads"] == []


def test_a_wrong_download_is_refused_and_not_cached(fake_server):
    file_name = mnist.MNIST_FILES["train_labels"][0]
    (fake_server["digits"]["folder"] / file_name).write_bytes(b"not mnist")
    with pytest.raises(
        data.ChecksumError,
        match=f"The download from https://example.invalid/digits/{file_name} is not the expected file",
    ):
        data.load_mnist(cache_dir=fake_server["cache"])
    assert not (fake_server["cache"] / file_name).exists()
    assert not list(fake_server["cache"].glob("*.part"))


def test_an_explicit_base_url_is_used_and_its_files_still_checked(fake_server):
    # Fashion-MNIST's checksums with the digits' server: the first download is fetched from the
    # given URL, then refused
    with pytest.raises(data.ChecksumError, match=r"https://example\.invalid/digits/train-images"):
        data.load_mnist("fashion", cache_dir=fake_server["cache"], base_url="https://example.invalid/digits/")
    assert fake_server["downloads"] == [("digits", "train-images-idx3-ubyte.gz")]


def test_load_mnist_refuses_mismatched_files(fake_server, monkeypatch):
    file_name = mnist.MNIST_FILES["train_labels"][0]
    path = write_idx(fake_server["digits"]["folder"] / file_name, np.zeros(5, dtype=np.uint8))
    files = dict(mnist.MNIST_FILES, train_labels=(file_name, hashlib.sha256(path.read_bytes()).hexdigest()))
    monkeypatch.setattr(mnist, "MNIST_FILES", files)
    with pytest.raises(
        ValueError,
        match=r"the MNIST training files do not match: images of shape \(100, 28, 28\), labels of shape \(5,\)",
    ):
        data.load_mnist(cache_dir=fake_server["cache"])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"kind": "letters"}, ValueError, r"kind must be one of \('digits', 'fashion'\), got 'letters'"),
        ({"kind": 1}, TypeError, r"kind must be a string, one of \('digits', 'fashion'\), got int 1"),
        ({"val_fraction": 0}, ValueError, "val_fraction must be strictly between 0 and 1, got 0"),
        ({"seed": -1}, ValueError, "seed must be >= 0, got -1"),
        ({"download": "no"}, TypeError, "download must be True or False"),
    ],
)
def test_load_mnist_validates(fake_server, kwargs, error, match):
    with pytest.raises(error, match=match):
        data.load_mnist(cache_dir=fake_server["cache"], **kwargs)
    assert fake_server["downloads"] == []


def test_download_file_copies_a_url(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"some bytes")
    data.download_file(source.as_uri(), tmp_path / "copy.bin")  # a file:// URL needs no network
    assert (tmp_path / "copy.bin").read_bytes() == b"some bytes"


@pytest.mark.parametrize("files", [data.MNIST_FILES, data.FASHION_MNIST_FILES])
def test_checksums_are_sha256_hex_of_the_usual_file_names(files):
    assert sorted(files) == ["test_images", "test_labels", "train_images", "train_labels"]
    for key, (file_name, sha256) in files.items():
        prefix = "train" if key.startswith("train") else "t10k"
        kind = "images-idx3" if key.endswith("images") else "labels-idx1"
        assert file_name == f"{prefix}-{kind}-ubyte.gz"
        assert len(sha256) == 64 and int(sha256, 16) >= 0
    assert len({sha for _, sha in files.values()}) == 4


def test_mnist_and_fashion_checksums_differ():
    assert not {s for _, s in data.MNIST_FILES.values()} & {s for _, s in data.FASHION_MNIST_FILES.values()}


def test_fashion_classes():
    assert len(data.FASHION_MNIST_CLASSES) == 10 and data.FASHION_MNIST_CLASSES[9] == "Ankle boot"
