"""Synthetic shapes: squares, circles, crosses and triangles with their masks, centres and boxes,
for classification, detection and segmentation (lesson 10).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .._validation import as_array, as_choice, as_int, as_non_negative, as_pair, describe

if TYPE_CHECKING:
    from collections.abc import Sequence

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


def draw_shape(
    kind: str,
    canvas_size: int | tuple[int, int] = 16,
    center: tuple[float, float] | None = None,
    size: int = 7,
) -> np.ndarray:
    """Draw one filled shape, 1 on 0, on an empty canvas.

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
    kind = as_choice("kind", kind, SHAPE_KINDS)
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
    n: int,
    canvas_size: int | tuple[int, int] = 16,
    kinds: Sequence[str] = SHAPE_KINDS,
    size: int = 7,
    seed: int = 0,
    shift_range: int | None = None,
    noise: float = 0.0,
) -> ShapesDataset:
    """A seeded data set of single shapes at random whole-pixel positions (lesson 10).

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
    noise = as_non_negative("noise", noise)
    low, high = _center_limits((height, width), size, shift_range)
    rng = np.random.default_rng(as_int("seed", seed, minimum=0))

    labels = rng.permutation(np.arange(n) % len(kinds))
    centers = rng.integers(low, high + 1, size=(n, 2))
    masks = np.stack(
        [
            draw_shape(kinds[k], (height, width), center, size) > 0
            for k, center in zip(labels, centers, strict=True)
        ]
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
    return tuple(as_choice(f"kinds[{i}]", kind, SHAPE_KINDS) for i, kind in enumerate(kinds))


def _center_limits(canvas, size, shift_range):
    """Lowest and highest whole-pixel centre, per axis, that keeps the shape on the canvas."""
    margin = (size - 1) // 2  # farthest a shape's pixel lies from its centre
    canvas = np.array(canvas)
    if np.any(canvas < 2 * margin + 1):
        raise ValueError(f"a shape of size {size} does not fit in a canvas of size {tuple(canvas.tolist())}")
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
