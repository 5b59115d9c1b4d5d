"""Splitting labelled images into training, validation and test sets, class by class.

- ``DataSplit``: training and test sets (the 8x8 digits' ``load_digits``).
- ``MnistSample``: training, validation and test sets (``load_mnist_sample`` and ``load_mnist``).
- ``stratified_split``: seeded indices that keep each class's share in both parts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .._validation import as_array, as_fraction, as_int

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


class DataSplit(NamedTuple):
    """Images and labels split into a training and a test set.

    Images are float32 of shape (N, 1, H, W) in [0, 1]; labels are int64 of shape (N,).
    Unpacks as ``x_train, y_train, x_test, y_test = split``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


class MnistSample(NamedTuple):
    """Images and labels split into training, validation and test sets.

    Images are float32 of shape (N, 1, 28, 28) in [0, 1]; labels are int64 of shape (N,).
    Unpacks as ``x_train, y_train, x_val, y_val, x_test, y_test = split``. Choose
    hyperparameters and the number of epochs on the validation set; use the test set once, at
    the end. ``load_mnist_sample`` and ``load_mnist`` both return this type, so a lesson
    switches from the 5,000 shipped digits to the full MNIST with one call.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def stratified_split(
    labels: ArrayLike, test_fraction: float = 0.25, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
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
    test_fraction = as_fraction("test_fraction", test_fraction)
    rng = np.random.default_rng(as_int("seed", seed, minimum=0))
    train, test = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_test = round(test_fraction * len(members))
        test.append(members[:n_test])
        train.append(members[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
