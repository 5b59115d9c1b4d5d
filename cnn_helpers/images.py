"""Lesson 01, images as data: an image is a grid of numbers, and a dense network sees a vector.

- ``flatten_image`` and ``unflatten``: a 50x50 image becomes a vector of 2,500 pixel values,
  row after row, and back.
- ``count_polynomial_features``: how many features polynomial terms up to a degree make
  (the lecture's question of the day).
- ``dense_weight_count``: how many weights a dense layer on those pixels needs.
- ``shuffle_pixels``: the same fixed reordering of pixels for every image; a dense layer learns
  just as well from it, though no person can read the pictures any more.
"""

from __future__ import annotations

import math

import numpy as np

from ._validation import as_array, as_int, describe


def flatten_image(image) -> np.ndarray:
    """The pixels of an image as one vector, row after row (row-major order).

    Parameters
    ----------
    image : array_like, shape (H, W) or (C, H, W)

    Returns
    -------
    ndarray, shape (H * W,) or (C * H * W,)
        A new array: changing it does not change ``image``.

    Examples
    --------
    >>> flatten_image([[1, 2, 3], [4, 5, 6]])
    array([1., 2., 3., 4., 5., 6.])
    """
    return as_array("image", image, ndim=(2, 3)).flatten()


def unflatten(vector, shape) -> np.ndarray:
    """Turn a vector back into an image of the given shape, undoing ``flatten_image``.

    Parameters
    ----------
    vector : array_like, shape (n,)
    shape : tuple of int
        The image's shape, e.g. (H, W); the product must equal ``n``.

    Returns
    -------
    ndarray, shape ``shape``

    Examples
    --------
    >>> unflatten([1, 2, 3, 4, 5, 6], (2, 3))
    array([[1., 2., 3.],
           [4., 5., 6.]])
    """
    vector = as_array("vector", vector, ndim=1)
    if not isinstance(shape, (tuple, list)) or not shape:
        raise TypeError(f"shape must be a tuple of ints such as (50, 50), got {describe(shape)}")
    shape = tuple(as_int(f"shape[{i}]", side, minimum=1) for i, side in enumerate(shape))
    if math.prod(shape) != vector.size:
        raise ValueError(
            f"vector of length {vector.size} cannot become an image of shape {shape}, "
            f"which needs {math.prod(shape)} values"
        )
    return vector.reshape(shape).copy()


def count_polynomial_features(n_inputs, degree=2, include_bias=True) -> int:
    """How many polynomial features of degree at most ``degree`` ``n_inputs`` variables make.

    A feature is a product of inputs such as x1, x1*x2 or x3**2. Choosing ``degree`` factors
    from the inputs plus a "1" (which stands for a missing factor) with repetition gives
    ``C(n_inputs + degree, degree)`` features, counting the constant 1 (the bias). For degree 2
    this is ``1 + n + n(n + 1) / 2``.

    Parameters
    ----------
    n_inputs : int
        Number of input variables, e.g. 2,500 pixels.
    degree : int, optional
        Highest total degree, at least 0.
    include_bias : bool, optional
        Count the constant feature 1.

    Returns
    -------
    int

    Examples
    --------
    Two inputs, degree 2: 1, x1, x2, x1**2, x1*x2, x2**2.

    >>> count_polynomial_features(2, degree=2)
    6
    >>> count_polynomial_features(2500, degree=2)   # a 50x50 image
    3128751
    """
    n_inputs = as_int("n_inputs", n_inputs, minimum=1)
    degree = as_int("degree", degree, minimum=0)
    include_bias = _as_bool("include_bias", include_bias)
    return math.comb(n_inputs + degree, degree) - (0 if include_bias else 1)


def dense_weight_count(n_inputs, n_units, bias=True) -> int:
    """Number of parameters of a dense layer: one weight per input per unit, plus a bias each.

    Parameters
    ----------
    n_inputs : int
        Inputs to the layer, e.g. 2,500 pixels.
    n_units : int
        Units (neurons) in the layer.
    bias : bool, optional
        Count one bias per unit.

    Returns
    -------
    int
        ``n_inputs * n_units + n_units`` (without the last term if ``bias`` is False).

    Examples
    --------
    >>> dense_weight_count(2500, 100)
    250100
    """
    n_inputs = as_int("n_inputs", n_inputs, minimum=1)
    n_units = as_int("n_units", n_units, minimum=1)
    bias = _as_bool("bias", bias)
    return n_inputs * n_units + (n_units if bias else 0)


def shuffle_pixels(images, seed=0):
    """Reorder the pixels of every image with one fixed, seeded permutation.

    The same permutation is used for every image and every channel, so a dense layer trained
    on the shuffled images learns exactly as well (it only needs the same weights, reordered),
    while the pictures become unreadable to a person.

    Parameters
    ----------
    images : array_like, shape (H, W), (N, H, W) or (N, C, H, W)
    seed : int, optional

    Returns
    -------
    shuffled : ndarray, same shape as ``images``
        Flattened, the new pixel ``i`` of each image is the old pixel ``permutation[i]``.
    permutation : ndarray, shape (H * W,), int64
        ``np.argsort(permutation)`` undoes the shuffle.

    Examples
    --------
    A dense unit ``w @ x`` gives the same value on shuffled pixels with shuffled weights:

    >>> x = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> shuffled, permutation = shuffle_pixels(x, seed=0)
    >>> w = np.array([1.0, 10.0, 100.0, 1000.0])
    >>> float(w @ x.flatten()), float(w[permutation] @ shuffled.flatten())
    (4321.0, 4321.0)
    """
    images = as_array("images", images)
    if images.ndim < 2:
        raise ValueError(f"images must be (H, W), (N, H, W) or (N, C, H, W), got shape {images.shape}")
    height, width = images.shape[-2:]
    permutation = np.random.default_rng(as_int("seed", seed, minimum=0)).permutation(height * width)
    flat = images.reshape(*images.shape[:-2], height * width)
    return flat[..., permutation].reshape(images.shape), permutation


def _as_bool(name, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {describe(value)}")
    return bool(value)
