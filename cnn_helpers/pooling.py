"""Pooling: max, average and sum pooling and their backward passes (lessons 06 and 07).

A pooling window of ``size`` (an int or an ``(h, w)`` pair) slides over the last two axes of a
single map ``(H, W)`` or of every map of a batch ``(N, C, H, W)``, moving ``stride`` pixels at a
time (by default ``stride = size``: windows side by side, no overlap). Each window becomes one
number: its maximum, its mean or its sum. Along each axis an input of size ``n`` gives
``conv.output_size(n, size, stride=stride) = floor((n - size) / stride) + 1`` outputs; there is
no padding. ``stride`` is keyword-only (``max_pool2d(x, 2, stride=1)``), and each backward pass
takes ``dout`` followed by exactly what its forward took (``max_pool2d_backward(dout, x, 2,
stride=1)``). ``pool(x, size, stride=..., mode="max")`` picks one of the three by name.

Each operation has a readable loop version (``*_loops``, what lesson 06 teaches) and a vectorised
version with the same arguments (what training uses); the tests hold them equal.

The vectorised versions visit the ``size_h * size_w`` offsets of a window rather than the
windows themselves: the pixels at offset ``(i, j)`` of every window form one strided view of
the input, ``x[..., i::stride_h, j::stride_w]`` (trimmed to the output size). For the usual 2x2
window with stride 2, max pooling is the elementwise maximum of four such views. This is the
idea of ``conv.correlate2d`` and ``conv.conv2d`` too: loop over the window's offsets, vectorise
over its positions.

NaN: a window holding a NaN pools to NaN in max pooling (as ``np.max`` does), and its gradient
goes to the first NaN in reading order (as ``np.argmax`` picks it), in the loop and the vectorised
version alike.

dtypes: float32 inputs stay float32; anything else computes in float64.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._validation import as_array, as_choice, as_pair, float_dtype
from .conv import output_size

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "pool",
    "POOL_FUNCTIONS",
    "max_pool2d",
    "max_pool2d_loops",
    "max_pool2d_backward",
    "max_pool2d_backward_loops",
    "avg_pool2d",
    "avg_pool2d_loops",
    "avg_pool2d_backward",
    "avg_pool2d_backward_loops",
    "sum_pool2d",
    "sum_pool2d_loops",
    "sum_pool2d_backward",
    "sum_pool2d_backward_loops",
]


# ----------------------------------------------------------------------------------------------
# Shared checks and the window offsets
# ----------------------------------------------------------------------------------------------


def _check_pool(x, size, stride):
    """Checked float ``x``, ``size`` and ``stride`` pairs, and the output's (height, width)."""
    x = as_array("x", x, ndim=(2, 4))
    if x.size == 0:
        raise ValueError(f"x must not be empty, got shape {x.shape}")
    size = as_pair("size", size, minimum=1)
    stride = size if stride is None else as_pair("stride", stride, minimum=1)
    height, width = x.shape[-2:]
    if size[0] > height or size[1] > width:
        raise ValueError(
            f"pool window of size {size} does not fit in x of shape {x.shape} "
            f"(height {height}, width {width})"
        )
    out_hw = (output_size(height, size[0], stride=stride[0]), output_size(width, size[1], stride=stride[1]))
    return x.astype(float_dtype(x), copy=False), size, stride, out_hw


def _check_dout(dout, x, out_hw):
    expected = x.shape[:-2] + out_hw
    dout = as_array("dout", dout, ndim=x.ndim)
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got shape {dout.shape}")
    return dout.astype(float_dtype(dout, x), copy=False)


def _offsets(size, stride, out_hw):
    """For each offset (i, j) inside a window, in reading order, the slices that pick the pixel
    at that offset from every window at once."""
    (size_h, size_w), (stride_h, stride_w), (out_h, out_w) = size, stride, out_hw
    for i in range(size_h):
        for j in range(size_w):
            rows = slice(i, i + stride_h * (out_h - 1) + 1, stride_h)
            cols = slice(j, j + stride_w * (out_w - 1) + 1, stride_w)
            yield rows, cols


def _max(x, size, stride, out_hw):
    out = None
    for rows, cols in _offsets(size, stride, out_hw):
        view = x[..., rows, cols]
        out = view.copy() if out is None else np.maximum(out, view, out=out)
    return out


def _sum(x, size, stride, out_hw):
    out = None
    for rows, cols in _offsets(size, stride, out_hw):
        view = x[..., rows, cols]
        out = view.copy() if out is None else np.add(out, view, out=out)
    return out


def _spread(dout, x, size, stride, out_hw):
    """Send each output's gradient to every pixel of its window (the backward of a sum)."""
    dx = np.zeros_like(x, dtype=dout.dtype)
    # Within one offset the pixels are distinct, so ``+=`` is exact; overlapping windows
    # (stride < size) add up across offsets.
    for rows, cols in _offsets(size, stride, out_hw):
        dx[..., rows, cols] += dout
    return dx


def _window(array, row, col, size, stride):
    """The window of ``array`` (last two axes) that produces output (row, col)."""
    top, left = row * stride[0], col * stride[1]
    return array[..., top : top + size[0], left : left + size[1]]


# ----------------------------------------------------------------------------------------------
# Max pooling
# ----------------------------------------------------------------------------------------------


def max_pool2d(
    x: ArrayLike, size: int | tuple[int, int] = 2, *, stride: int | tuple[int, int] | None = None
) -> np.ndarray:
    """Max pooling: keep the largest value of each window (lessons 06, 07).

    Parameters
    ----------
    x : array_like, shape (H, W) or (N, C, H, W)
        One map, or a batch whose maps are pooled one by one.
    size : int or (int, int), default 2
        Window height and width.
    stride : int or (int, int), optional
        Step between windows; defaults to ``size`` (no overlap).

    Returns
    -------
    ndarray, shape (OH, OW) or (N, C, OH, OW)
        ``OH = floor((H - size_h) / stride_h) + 1``, and the same for ``OW``.

    Raises
    ------
    TypeError
        If ``x`` is not numeric or ``size`` / ``stride`` are not ints or pairs of ints.
    ValueError
        If ``x`` is not 2-D or 4-D, the window is larger than the map, or ``size`` or
        ``stride`` is below 1.

    Examples
    --------
    >>> max_pool2d([[1, 2, 5, 0],
    ...             [3, 4, 1, 1]])
    array([[4., 5.]])
    """
    x, size, stride, out_hw = _check_pool(x, size, stride)
    return _max(x, size, stride, out_hw)


def max_pool2d_loops(
    x: ArrayLike, size: int | tuple[int, int] = 2, *, stride: int | tuple[int, int] | None = None
) -> np.ndarray:
    """The loop version of ``max_pool2d``: visit each window and take its maximum.

    Same arguments, result and errors as ``max_pool2d`` (lesson 06).

    Examples
    --------
    >>> max_pool2d_loops([[1, 2, 5, 0], [3, 4, 1, 1]])
    array([[4., 5.]])
    """
    x, size, stride, (out_h, out_w) = _check_pool(x, size, stride)
    out = np.zeros(x.shape[:-2] + (out_h, out_w), dtype=x.dtype)
    for row in range(out_h):
        for col in range(out_w):
            out[..., row, col] = _window(x, row, col, size, stride).max(axis=(-2, -1))
    return out


def max_pool2d_backward(
    dout: ArrayLike,
    x: ArrayLike,
    size: int | tuple[int, int] = 2,
    *,
    stride: int | tuple[int, int] | None = None,
) -> np.ndarray:
    """Gradient of ``max_pool2d``: each output's gradient goes to the pixel that was the maximum.

    When a window holds several equal maxima, only the first in reading order (left to right,
    top to bottom) gets the gradient, as in PyTorch. A NaN counts as the maximum (the forward
    pass gives NaN for its window): the first NaN in reading order gets the gradient. Overlapping windows (``stride < size``)
    that share a maximum pixel add their gradients there. Lesson 07.

    Parameters
    ----------
    dout : array_like, shape (OH, OW) or (N, C, OH, OW)
        Gradient of the loss with respect to the pooled output.
    x : array_like, shape (H, W) or (N, C, H, W)
        The forward input.
    size, stride
        As in the forward pass.

    Returns
    -------
    dx : ndarray, same shape as ``x``

    Examples
    --------
    The two 4s tie; the first one in reading order takes the gradient:

    >>> max_pool2d_backward([[10]], [[4, 1], [4, 2]])
    array([[10.,  0.],
           [ 0.,  0.]])
    """
    x, size, stride, out_hw = _check_pool(x, size, stride)
    dout = _check_dout(dout, x, out_hw)
    out = _max(x, size, stride, out_hw)
    dx = np.zeros_like(x, dtype=dout.dtype)
    unclaimed = np.ones(out.shape, dtype=bool)  # windows whose maximum is not found yet
    for rows, cols in _offsets(size, stride, out_hw):
        view = x[..., rows, cols]
        # a NaN pixel makes its window's maximum NaN (np.maximum propagates it), and NaN == NaN
        # is False: so test for NaN separately, to send the gradient there as np.argmax does
        first_max = ((view == out) | np.isnan(view)) & unclaimed
        dx[..., rows, cols] += np.where(first_max, dout, 0)
        unclaimed &= ~first_max
    return dx


def max_pool2d_backward_loops(
    dout: ArrayLike,
    x: ArrayLike,
    size: int | tuple[int, int] = 2,
    *,
    stride: int | tuple[int, int] | None = None,
) -> np.ndarray:
    """The loop version of ``max_pool2d_backward``: find each window's first maximum, send it the gradient.

    Same arguments and result as ``max_pool2d_backward`` (lesson 07).

    Examples
    --------
    >>> max_pool2d_backward_loops([[10]], [[4, 1], [4, 2]])
    array([[10.,  0.],
           [ 0.,  0.]])
    """
    x, size, stride, (out_h, out_w) = _check_pool(x, size, stride)
    dout = _check_dout(dout, x, (out_h, out_w))
    dx = np.zeros_like(x, dtype=dout.dtype)
    for maps in np.ndindex(x.shape[:-2]):  # every (n, c) of a batch; just () for one map
        for row in range(out_h):
            for col in range(out_w):
                window = _window(x[maps], row, col, size, stride)
                # argmax returns the first maximum in reading order (or the first NaN): that is
                # the tie rule
                i, j = np.unravel_index(np.argmax(window), window.shape)
                dx[maps + (row * stride[0] + i, col * stride[1] + j)] += dout[maps + (row, col)]
    return dx


# ----------------------------------------------------------------------------------------------
# Sum and average pooling
# ----------------------------------------------------------------------------------------------


def sum_pool2d(
    x: ArrayLike, size: int | tuple[int, int] = 2, *, stride: int | tuple[int, int] | None = None
) -> np.ndarray:
    """Sum pooling: add up each window (lesson 06).

    Same arguments, shapes and errors as ``max_pool2d``.

    Examples
    --------
    >>> sum_pool2d([[1, 2, 5, 0],
    ...             [3, 4, 1, 1]])
    array([[10.,  7.]])
    """
    x, size, stride, out_hw = _check_pool(x, size, stride)
    return _sum(x, size, stride, out_hw)


def sum_pool2d_loops(
    x: ArrayLike, size: int | tuple[int, int] = 2, *, stride: int | tuple[int, int] | None = None
) -> np.ndarray:
    """The loop version of ``sum_pool2d``.

    Examples
    --------
    >>> sum_pool2d_loops([[1, 2, 5, 0], [3, 4, 1, 1]])
    array([[10.,  7.]])
    """
    x, size, stride, (out_h, out_w) = _check_pool(x, size, stride)
    out = np.zeros(x.shape[:-2] + (out_h, out_w), dtype=x.dtype)
    for row in range(out_h):
        for col in range(out_w):
            out[..., row, col] = _window(x, row, col, size, stride).sum(axis=(-2, -1))
    return out


def sum_pool2d_backward(
    dout: ArrayLike,
    x: ArrayLike,
    size: int | tuple[int, int] = 2,
    *,
    stride: int | tuple[int, int] | None = None,
) -> np.ndarray:
    """Gradient of ``sum_pool2d``: every pixel of a window gets the window's whole gradient.

    Same arguments and shapes as ``max_pool2d_backward`` (lesson 07).

    Examples
    --------
    >>> sum_pool2d_backward([[1, 10]], [[1, 2, 5, 0], [3, 4, 1, 1]])
    array([[ 1.,  1., 10., 10.],
           [ 1.,  1., 10., 10.]])
    """
    x, size, stride, out_hw = _check_pool(x, size, stride)
    dout = _check_dout(dout, x, out_hw)
    return _spread(dout, x, size, stride, out_hw)


def sum_pool2d_backward_loops(
    dout: ArrayLike,
    x: ArrayLike,
    size: int | tuple[int, int] = 2,
    *,
    stride: int | tuple[int, int] | None = None,
) -> np.ndarray:
    """The loop version of ``sum_pool2d_backward``.

    Examples
    --------
    >>> sum_pool2d_backward_loops([[1, 10]], [[1, 2, 5, 0], [3, 4, 1, 1]])
    array([[ 1.,  1., 10., 10.],
           [ 1.,  1., 10., 10.]])
    """
    x, size, stride, (out_h, out_w) = _check_pool(x, size, stride)
    dout = _check_dout(dout, x, (out_h, out_w))
    dx = np.zeros_like(x, dtype=dout.dtype)
    for row in range(out_h):
        for col in range(out_w):
            # a view into dx: adding to it adds to dx
            _window(dx, row, col, size, stride)[...] += dout[..., row, col, None, None]
    return dx


def avg_pool2d(
    x: ArrayLike, size: int | tuple[int, int] = 2, *, stride: int | tuple[int, int] | None = None
) -> np.ndarray:
    """Average pooling: the mean of each window (lesson 06).

    Same arguments, shapes and errors as ``max_pool2d``; equals ``sum_pool2d`` divided by
    ``size_h * size_w``.

    Examples
    --------
    >>> avg_pool2d([[1, 2, 5, 0],
    ...             [3, 4, 1, 1]])
    array([[2.5 , 1.75]])
    """
    x, size, stride, out_hw = _check_pool(x, size, stride)
    return _sum(x, size, stride, out_hw) / (size[0] * size[1])


def avg_pool2d_loops(
    x: ArrayLike, size: int | tuple[int, int] = 2, *, stride: int | tuple[int, int] | None = None
) -> np.ndarray:
    """The loop version of ``avg_pool2d``.

    Examples
    --------
    >>> avg_pool2d_loops([[1, 2, 5, 0], [3, 4, 1, 1]])
    array([[2.5 , 1.75]])
    """
    x, size, stride, (out_h, out_w) = _check_pool(x, size, stride)
    out = np.zeros(x.shape[:-2] + (out_h, out_w), dtype=x.dtype)
    for row in range(out_h):
        for col in range(out_w):
            out[..., row, col] = _window(x, row, col, size, stride).mean(axis=(-2, -1))
    return out


def avg_pool2d_backward(
    dout: ArrayLike,
    x: ArrayLike,
    size: int | tuple[int, int] = 2,
    *,
    stride: int | tuple[int, int] | None = None,
) -> np.ndarray:
    """Gradient of ``avg_pool2d``: every pixel of a window gets ``1 / (size_h * size_w)`` of its gradient.

    Same arguments and shapes as ``max_pool2d_backward`` (lesson 07).

    Examples
    --------
    >>> avg_pool2d_backward([[4, 8]], [[1, 2, 5, 0], [3, 4, 1, 1]])
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.]])
    """
    x, size, stride, out_hw = _check_pool(x, size, stride)
    dout = _check_dout(dout, x, out_hw)
    return _spread(dout / (size[0] * size[1]), x, size, stride, out_hw)


def avg_pool2d_backward_loops(
    dout: ArrayLike,
    x: ArrayLike,
    size: int | tuple[int, int] = 2,
    *,
    stride: int | tuple[int, int] | None = None,
) -> np.ndarray:
    """The loop version of ``avg_pool2d_backward``.

    Examples
    --------
    >>> avg_pool2d_backward_loops([[4, 8]], [[1, 2, 5, 0], [3, 4, 1, 1]])
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.]])
    """
    x, size, stride, (out_h, out_w) = _check_pool(x, size, stride)
    dout = _check_dout(dout, x, (out_h, out_w))
    dx = np.zeros_like(x, dtype=dout.dtype)
    share = 1 / (size[0] * size[1])
    for row in range(out_h):
        for col in range(out_w):
            _window(dx, row, col, size, stride)[...] += share * dout[..., row, col, None, None]
    return dx


# ----------------------------------------------------------------------------------------------
# Any of the three by name (what the lesson 06 figures and widget call)
# ----------------------------------------------------------------------------------------------

#: The pooling function of each mode.
POOL_FUNCTIONS = {"max": max_pool2d, "avg": avg_pool2d, "sum": sum_pool2d}


def pool(
    x: ArrayLike,
    size: int | tuple[int, int] = 2,
    *,
    stride: int | tuple[int, int] | None = None,
    mode: str = "max",
) -> np.ndarray:
    """Pool with ``max_pool2d``, ``avg_pool2d`` or ``sum_pool2d``, chosen by name (lesson 06).

    Parameters
    ----------
    x : array_like, shape (H, W) or (N, C, H, W)
    size : int or (int, int), default 2
    stride : int or (int, int), optional, keyword-only
        Defaults to ``size``.
    mode : {"max", "avg", "sum"}, default "max", keyword-only

    Returns
    -------
    ndarray, shape (OH, OW) or (N, C, OH, OW)

    Raises
    ------
    ValueError
        For an unknown ``mode`` (the message lists the valid ones), and as ``max_pool2d``.
    TypeError
        For a ``mode`` that is not a string, and as ``max_pool2d``.

    Examples
    --------
    >>> pool([[1, 2, 5, 0], [3, 4, 1, 1]], 2, mode="sum")
    array([[10.,  7.]])
    """
    return POOL_FUNCTIONS[as_choice("mode", mode, POOL_FUNCTIONS)](x, size, stride=stride)
