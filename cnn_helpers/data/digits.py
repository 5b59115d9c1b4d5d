"""The 1,797 handwritten 8x8 digits shipped in ``data/digits.npz``.

The UCI "Optical Recognition of Handwritten Digits" images as scikit-learn distributes them
(CC BY 4.0; see ``data/README.md``). The file is checked against its SHA-256 on every load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .files import load_checked_npz
from .splits import DataSplit, stratified_split

if TYPE_CHECKING:
    import numpy as np

DIGITS_FILE = "digits.npz"
# The SHA-256 of data/digits.npz as scripts/make_digits.py writes it (see data/README.md).
DIGITS_SHA256 = "b7769ac155fed8804479beb50ef71dbc8b2f58bed54f7167b26d525acd56e83c"

_DIGITS_REMEDY = (
    "Restore it with `git checkout -- data/digits.npz`, or rebuild it with "
    "`python scripts/make_digits.py` (needs scikit-learn); if the environment variable "
    "CNN_COURSE_DATA is set, check that it points at the course's data folder."
)


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
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
    arrays = load_checked_npz(DIGITS_FILE, DIGITS_SHA256, "the handwritten digits", _DIGITS_REMEDY)
    images = (arrays["images"].astype("float32") / 16)[:, None, :, :]
    return images, arrays["labels"].astype("int64")


def load_digits(test_fraction: float = 0.25, seed: int = 0) -> DataSplit:
    """The 8x8 handwritten digits, split into training and test sets (lessons 01, 06, 07, 10).

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
