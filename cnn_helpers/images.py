"""Images as data (lesson 01), and the transforms lessons apply to whole images.

An image is a grid of numbers, and a dense network sees a vector:

- ``flatten_image`` and ``unflatten``: a 50x50 image becomes a vector of 2,500 pixel values,
  row after row, and back.
- ``count_polynomial_features``: how many features polynomial terms up to a degree make
  (the lecture's question of the day).
- ``dense_weight_count``: how many weights a dense layer on those pixels needs.
- ``shuffle_pixels``: the same fixed reordering of pixels for every image; a dense layer learns
  just as well from it, though no person can read the pictures any more.

Moving and shrinking images:

- ``pad_to``: place images in the middle of a larger zero canvas (lessons 06 and 09).
- ``shift_images``: move images by whole pixels (lessons 06 and 09).
- ``block_average``: shrink an image by averaging blocks of pixels (lesson 07, and
  ``cnn_helpers.data.load_photo``).
"""

from __future__ import annotations

import math

import numpy as np

from ._validation import as_array, as_bool, as_images, as_int, as_pair, describe


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
    include_bias = as_bool("include_bias", include_bias)
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
    bias = as_bool("bias", bias)
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


# --------------------------------------------------------------------------------------------
# Moving and shrinking images (lessons 06, 07 and 09)
# --------------------------------------------------------------------------------------------


def pad_to(x, size) -> np.ndarray:
    """Place images in the middle of a larger zero canvas (lessons 06 and 09).

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
    x = as_images("x", x)
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
    """Shift images by whole pixels, filling the uncovered border with zeros (lessons 06 and 09).

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
    x = as_images("x", x)
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


def block_average(image, factor) -> np.ndarray:
    """Shrink an image by averaging non-overlapping ``factor x factor`` blocks (lesson 07).

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
