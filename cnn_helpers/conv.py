"""Convolution: correlation and convolution of one map, padding, stride, and the conv layer's math.

The module follows the lessons from the top:

- lesson 02 (convolution): ``correlate2d``, ``convolve2d``, their ``_loops`` versions, and
  ``correlation_step`` / ``correlation_steps`` (one multiply-and-sum at a time, for the widget);
- lesson 04 (padding and stride): ``pad2d``, ``output_size``, ``padding_layout`` and the
  ``padding`` and ``stride`` arguments;
- lesson 05 (convolution layers): ``conv2d`` on a batch ``(N, C, H, W)`` with weights
  ``(F, C, KH, KW)``;
- lesson 07 (learning kernels): ``conv2d_backward``, ``im2col`` and ``col2im``.

Every operation has a readable loop version (``*_loops``, what the lessons teach) and a
vectorised version with the same arguments (what training uses); the tests hold them equal.

**One idea behind every vectorised version:** loop over the kernel's offsets ``(i, j)``, and
vectorise over all output positions at once. ``correlate2d`` shifts the padded image by each
offset and adds the shifted copy times that kernel entry (shift and add); ``conv2d`` copies the
pixels at each offset into one block of rows of a matrix and multiplies once (im2col); pooling
(``cnn_helpers.pooling``) takes the maximum or sum of one strided view per offset. A kernel has
few offsets (9 for 3x3) and an image many positions, so the Python loop stays short.

Like every deep-learning framework, ``conv2d`` computes a *cross-correlation*: the kernel slides
over the input without being flipped. ``convolve2d`` is the true convolution of mathematics,
which flips the kernel first.

Arguments: ``stride`` and ``padding`` are keyword-only everywhere (``correlate2d(image, kernel,
padding=1, stride=2)``), each an int or an ``(h, w)`` pair. Sizes: along each axis, an input of
size ``n`` padded by ``p`` zeros on both sides and scanned by a kernel of size ``k`` with stride
``s`` gives ``output_size(n, k, padding=p, stride=s) = floor((n + 2p - k) / s) + 1`` outputs.

Backward passes take the gradient of the output first, then exactly what the forward took:
``conv2d_backward(dout, x, weight, bias, stride=..., padding=...)`` returns
``(dx, dweight, dbias)``; ``needs_input_grad=False`` skips ``dx``.

dtypes: float32 inputs stay float32 (training uses float32); anything else computes in float64.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from . import _fast
from ._validation import as_array, as_int, as_pair, describe, float_dtype

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    # lesson 02
    "correlate2d",
    "correlate2d_loops",
    "convolve2d",
    "convolve2d_loops",
    "CorrelationStep",
    "correlation_step",
    "correlation_steps",
    # lesson 04
    "pad2d",
    "output_size",
    "PaddingLayout",
    "padding_layout",
    # lesson 05
    "conv2d",
    "conv2d_loops",
    # lesson 07
    "conv2d_backward",
    "conv2d_backward_loops",
    "im2col",
    "col2im",
]


# ----------------------------------------------------------------------------------------------
# One map: cross-correlation and true convolution (lessons 02 and 04)
# ----------------------------------------------------------------------------------------------


def correlate2d(
    image: ArrayLike,
    kernel: ArrayLike,
    *,
    padding: int | tuple[int, int] = 0,
    stride: int | tuple[int, int] = 1,
) -> np.ndarray:
    """Slide ``kernel`` over ``image`` and multiply-and-sum at each stop, without flipping (lessons 02, 03, 04, 05, 06, 07, 09, 10).

    This is what deep-learning frameworks call "convolution". Vectorised over all output
    positions at once: for each kernel entry ``(i, j)``, add that entry times the padded image
    shifted by ``(i, j)``. ``correlate2d_loops`` is the same computation written as a double
    loop over output positions.

    Parameters
    ----------
    image : array_like, shape (H, W)
    kernel : array_like, shape (KH, KW)
    padding : int or (int, int), default 0, keyword-only
        Zeros added around the image, ``p`` or ``(p_h, p_w)`` on each side.
    stride : int or (int, int), default 1, keyword-only
        Step between windows, ``s`` or ``(s_h, s_w)``.

    Returns
    -------
    ndarray, shape (OH, OW)
        ``out[r, c] = sum over (i, j) of padded[r*s_h + i, c*s_w + j] * kernel[i, j]``, with
        ``OH = output_size(H, KH, padding=p_h, stride=s_h)`` and the same for ``OW``.

    Raises
    ------
    TypeError
        If ``image`` or ``kernel`` is not numeric, or ``padding`` / ``stride`` are passed by
        position.
    ValueError
        If either is not 2-D, the kernel does not fit in the padded image, ``stride`` < 1 or
        ``padding`` < 0.

    Examples
    --------
    >>> correlate2d([[1, 2, 3], [4, 5, 6]], [[1, 0], [0, 1]])
    array([[6., 8.]])
    >>> correlate2d(np.ones((5, 5)), np.ones((3, 3)), padding=1, stride=2).shape
    (3, 3)
    """
    image, kernel, padding, stride, out_hw = _check_map_and_kernel(image, kernel, padding, stride)
    return _shift_and_add(image, kernel, padding, stride, out_hw)


def correlate2d_loops(
    image: ArrayLike,
    kernel: ArrayLike,
    *,
    padding: int | tuple[int, int] = 0,
    stride: int | tuple[int, int] = 1,
) -> np.ndarray:
    """The loop version of ``correlate2d``: visit each output position and multiply-and-sum.

    Same arguments, result and errors as ``correlate2d`` (lesson 02).

    Examples
    --------
    >>> correlate2d_loops([[1, 2, 3], [4, 5, 6]], [[1, 0], [0, 1]])
    array([[6., 8.]])
    """
    image, kernel, padding, stride, out_hw = _check_map_and_kernel(image, kernel, padding, stride)
    return _correlate_loops(image, kernel, padding, stride, out_hw)


def convolve2d(
    image: ArrayLike,
    kernel: ArrayLike,
    *,
    padding: int | tuple[int, int] = 0,
    stride: int | tuple[int, int] = 1,
) -> np.ndarray:
    """True (mathematical) 2-D convolution: flip the kernel in both axes, then correlate (lessons 02, 05, 07).

    Same arguments, shapes and errors as ``correlate2d``;
    ``out[r, c] = sum over (i, j) of padded[r*s_h + i, c*s_w + j] * kernel[KH-1-i, KW-1-j]``.

    Examples
    --------
    The flip shows with an asymmetric kernel. Flipped, ``[[1, 0], [0, 2]]`` becomes
    ``[[2, 0], [0, 1]]``, so the first output is 2*1 + 1*5 = 7 (correlation gives 1*1 + 2*5 = 11):

    >>> convolve2d([[1, 2, 3], [4, 5, 6]], [[1, 0], [0, 2]])
    array([[ 7., 10.]])
    >>> correlate2d([[1, 2, 3], [4, 5, 6]], [[1, 0], [0, 2]])
    array([[11., 14.]])
    """
    image, kernel, padding, stride, out_hw = _check_map_and_kernel(image, kernel, padding, stride)
    return _shift_and_add(image, kernel[::-1, ::-1], padding, stride, out_hw)  # flipped both ways


def convolve2d_loops(
    image: ArrayLike,
    kernel: ArrayLike,
    *,
    padding: int | tuple[int, int] = 0,
    stride: int | tuple[int, int] = 1,
) -> np.ndarray:
    """The loop version of ``convolve2d``: flip the kernel, then the double loop of ``correlate2d_loops``.

    Examples
    --------
    >>> convolve2d_loops([[1, 2, 3], [4, 5, 6]], [[1, 0], [0, 2]])
    array([[ 7., 10.]])
    """
    image, kernel, padding, stride, out_hw = _check_map_and_kernel(image, kernel, padding, stride)
    return _correlate_loops(image, kernel[::-1, ::-1], padding, stride, out_hw)


def _shift_and_add(image, kernel, padding, stride, out_hw):
    """``correlate2d`` on checked inputs: one pass over the padded image per kernel entry."""
    padded = _pad(image, padding)
    (s_h, s_w), (out_h, out_w) = stride, out_hw
    out = np.zeros((out_h, out_w), dtype=image.dtype)
    # Shift-and-add uses memory for one map only, even for a big kernel on a photograph.
    for (i, j), weight in np.ndenumerate(kernel):
        out += weight * padded[i : i + s_h * (out_h - 1) + 1 : s_h, j : j + s_w * (out_w - 1) + 1 : s_w]
    return out


def _correlate_loops(image, kernel, padding, stride, out_hw):
    """``correlate2d_loops`` on checked inputs: one multiply-and-sum per output position."""
    padded = _pad(image, padding)
    kernel_h, kernel_w = kernel.shape
    out = np.zeros(out_hw, dtype=image.dtype)
    for row in range(out_hw[0]):
        for col in range(out_hw[1]):
            top, left = row * stride[0], col * stride[1]
            window = padded[top : top + kernel_h, left : left + kernel_w]
            out[row, col] = np.sum(window * kernel)
    return out


@dataclass(frozen=True)
class CorrelationStep:
    """One step of a sliding multiply-and-sum (what the lesson 02 widget shows).

    Attributes
    ----------
    step : int
        1-based number of the step (row after row), 1 ... ``n_steps``.
    n_steps : int
        Number of windows, ``OH * OW``.
    position : (int, int)
        Output position ``(row, col)``; also the window's top-left pixel in the image.
    window : ndarray, shape (KH, KW)
        The image pixels under the kernel.
    kernel : ndarray, shape (KH, KW)
        The kernel as multiplied: flipped by 180° when ``flipped``.
    products : ndarray, shape (KH, KW)
        ``window * kernel``, entry by entry.
    value : float
        ``products.sum()``, the feature map's value at ``position``.
    feature_map : ndarray, shape (OH, OW)
        The map after this step; positions not reached yet are ``NaN``.
    flipped : bool
        True for a true convolution (kernel flipped first), False for cross-correlation.
    """

    step: int
    n_steps: int
    position: tuple
    window: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    value: float
    feature_map: np.ndarray
    flipped: bool


def correlation_step(
    image: ArrayLike, kernel: ArrayLike, step: int, *, flip: bool = False
) -> CorrelationStep:
    """The window, products and sum of one step of a sliding multiply-and-sum.

    Windows are visited row after row, stride 1, no padding; step 1 is the top-left window.
    After the last step the feature map equals ``correlate2d(image, kernel)`` (or
    ``convolve2d`` with ``flip=True``).

    Parameters
    ----------
    image : array_like, shape (H, W)
    kernel : array_like, shape (KH, KW)
        With ``flip=True`` the kernel is rotated by 180° before multiplying (true convolution).
    step : int
        1 ... ``(H - KH + 1) * (W - KW + 1)``.
    flip : bool, default False, keyword-only

    Returns
    -------
    CorrelationStep

    Raises
    ------
    ValueError
        If the kernel does not fit in the image or ``step`` is out of range.
    TypeError
        If ``step`` is not an integer or the arrays are not numeric.

    Examples
    --------
    >>> result = correlation_step([[1, 2, 3], [4, 5, 6]], [[1, 0], [0, 1]], step=2)
    >>> result.position, result.value
    ((0, 1), 8.0)
    >>> result.feature_map
    array([[6., 8.]])
    """
    image, kernel = _check_steps(image, kernel)
    step = as_int("step", step, minimum=1)
    return _correlation_step(image, kernel, step, flip)


def correlation_steps(image: ArrayLike, kernel: ArrayLike, *, flip: bool = False) -> list[CorrelationStep]:
    """Every step of the sliding multiply-and-sum, in order (lesson 02).

    Same arguments as ``correlation_step`` without ``step``; returns a list of
    ``CorrelationStep``, one per window.

    Examples
    --------
    >>> [step.value for step in correlation_steps([[1, 2, 3]], [[1, 1]])]
    [3.0, 5.0]
    """
    image, kernel = _check_steps(image, kernel)
    n_steps = (image.shape[0] - kernel.shape[0] + 1) * (image.shape[1] - kernel.shape[1] + 1)
    return [_correlation_step(image, kernel, step, flip) for step in range(1, n_steps + 1)]


def _correlation_step(image, kernel, step, flip):
    out_h, out_w = image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1
    n_steps = out_h * out_w
    if step > n_steps:
        raise ValueError(f"step must be between 1 and {n_steps} (one per window), got {step}")
    used = kernel[::-1, ::-1] if flip else kernel
    kernel_h, kernel_w = used.shape
    feature_map = np.full((out_h, out_w), np.nan)
    for index in range(step):
        row, col = divmod(index, out_w)
        window = image[row : row + kernel_h, col : col + kernel_w]
        products = window * used + 0.0  # + 0.0 turns -0.0 (from 0 * -1) into 0.0
        feature_map[row, col] = products.sum()
    return CorrelationStep(
        step=step,
        n_steps=n_steps,
        position=(row, col),
        window=window.copy(),
        kernel=used.copy(),
        products=products,
        value=float(feature_map[row, col]),
        feature_map=feature_map,
        flipped=bool(flip),
    )


# ----------------------------------------------------------------------------------------------
# Padding and output size (lesson 04)
# ----------------------------------------------------------------------------------------------


def pad2d(x: ArrayLike, *, padding: int | tuple[int, int]) -> np.ndarray:
    """Surround the last two axes of ``x`` with zeros (lessons 04, 07).

    Parameters
    ----------
    x : array_like, shape (..., H, W)
        One map ``(H, W)``, a batch ``(N, C, H, W)``, or any array with at least 2 axes.
    padding : int or (int, int), keyword-only
        Zeros added on each side: ``p`` rows at the top and bottom, ``p`` columns left and right,
        or ``(p_h, p_w)`` for different amounts.

    Returns
    -------
    ndarray, shape (..., H + 2 p_h, W + 2 p_w)
        A new float array (float32 stays float32; everything else becomes float64).

    Raises
    ------
    TypeError
        If ``x`` is not numeric or ``padding`` is not an int or a pair of ints.
    ValueError
        If ``x`` has fewer than 2 axes or ``padding`` is negative.

    Examples
    --------
    >>> pad2d([[1, 2]], padding=1)
    array([[0., 0., 0., 0.],
           [0., 1., 2., 0.],
           [0., 0., 0., 0.]])
    """
    x = as_array("x", x)
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 axes (H, W), got shape {x.shape} ({x.ndim}-D)")
    padding = as_pair("padding", padding, minimum=0)
    return _pad(x.astype(float_dtype(x), copy=False), padding)


def _pad(x, padding):
    """``pad2d`` on a checked float array; returns ``x`` itself when there is no padding."""
    p_h, p_w = padding
    if not (p_h or p_w):
        return x
    height, width = x.shape[-2:]
    padded = np.zeros(x.shape[:-2] + (height + 2 * p_h, width + 2 * p_w), dtype=x.dtype)
    padded[..., p_h : p_h + height, p_w : p_w + width] = x
    return padded


def output_size(n: int, kernel_size: int, *, padding: int = 0, stride: int = 1) -> int:
    """Number of outputs along one axis: ``floor((n + 2p - k) / s) + 1`` (lessons 04, 05, 06).

    The one place this formula lives: convolution, pooling (with ``padding=0``), the layers and
    the figures all call it.

    Parameters
    ----------
    n : int
        Input size along the axis (height or width), at least 1.
    kernel_size : int
        Kernel (or pooling window) size ``k`` along the axis, at least 1.
    padding : int, default 0, keyword-only
        Zeros ``p`` added on each side, at least 0.
    stride : int, default 1, keyword-only
        Step ``s`` between windows, at least 1.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If an argument is out of range or the kernel is larger than the padded input, so there
        is no output at all.

    Examples
    --------
    The lecture's 5x5 image, 3x3 kernel: no padding gives 3, padding 1 gives 5,
    padding 1 and stride 2 gives 3.

    >>> output_size(5, 3), output_size(5, 3, padding=1), output_size(5, 3, padding=1, stride=2)
    (3, 5, 3)
    """
    n = as_int("n", n, minimum=1)
    kernel_size = as_int("kernel_size", kernel_size, minimum=1)
    padding = as_int("padding", padding, minimum=0)
    stride = as_int("stride", stride, minimum=1)
    padded = n + 2 * padding
    if kernel_size > padded:
        raise ValueError(
            f"kernel of size {kernel_size} does not fit in the padded input of size {padded} "
            f"(n={n} with padding {padding} on each side), so there is no output"
        )
    return (padded - kernel_size) // stride + 1


class PaddingLayout(NamedTuple):
    """One setting of the padding explorer and what it gives.

    Attributes
    ----------
    input_shape : (int, int)
        The square input, ``(n, n)``.
    kernel_size : int
        The square kernel's side ``k``.
    padding : (int, int)
        ``(p_h, p_w)``: zero rows added at the top and at the bottom, zero columns on the left
        and on the right.
    stride : int
    padded_shape : (int, int)
        ``(n + 2 p_h, n + 2 p_w)``.
    output_shape : (int, int) or None
        ``(output_size(n, k, padding=p_h, stride=s), output_size(n, k, padding=p_w, stride=s))``;
        None when the kernel does not fit.
    windows : list of (int, int)
        Top-left corner (row, column) in the padded input of every window, in reading order.
    reason : str or None
        Why there is no output, in words; None when there is one.
    unused : (int, int)
        Rows at the bottom and columns on the right of the padded input that no window reaches
        (the stride does not land exactly on the end).
    """

    input_shape: tuple
    kernel_size: int
    padding: tuple
    stride: int
    padded_shape: tuple
    output_shape: tuple | None
    windows: list
    reason: str | None
    unused: tuple


def padding_layout(
    input_size: int, kernel_size: int, *, padding: int | tuple[int, int] = 0, stride: int = 1
) -> PaddingLayout:
    """Padded size, window positions and output shape of one setting (lesson 04).

    Parameters
    ----------
    input_size : int
        Side ``n`` of the square input, at least 1.
    kernel_size : int
        Side ``k`` of the square kernel, at least 1.
    padding : int or (int, int), default 0, keyword-only
        ``p`` or ``(p_h, p_w)``: zero rows added at the top and at the bottom; zero columns on
        the left and on the right.
    stride : int, default 1, keyword-only
        Step ``s`` between windows, in both directions.

    Returns
    -------
    PaddingLayout
        With ``output_shape`` None and ``reason`` set when the kernel is larger than the padded
        input.

    Raises
    ------
    TypeError, ValueError
        If an argument is not an integer or is out of range (sizes and stride at least 1,
        padding at least 0).

    Examples
    --------
    The lecture's 5x5 image, 3x3 kernel, padding 1 and stride 2:

    >>> layout = padding_layout(5, 3, padding=1, stride=2)
    >>> layout.padded_shape, layout.output_shape, layout.windows[:3]
    ((7, 7), (3, 3), [(0, 0), (0, 2), (0, 4)])
    >>> padding_layout(2, 5, padding=1).output_shape is None
    True
    """
    n = as_int("input_size", input_size, minimum=1)
    k = as_int("kernel_size", kernel_size, minimum=1)
    p_h, p_w = as_pair("padding", padding, minimum=0)
    s = as_int("stride", stride, minimum=1)
    padded_shape = (n + 2 * p_h, n + 2 * p_w)
    if k > min(padded_shape):
        return PaddingLayout(
            (n, n), k, (p_h, p_w), s, padded_shape, None, [], _no_output_reason(n, k, p_h, p_w), (0, 0)
        )
    out_h, out_w = output_size(n, k, padding=p_h, stride=s), output_size(n, k, padding=p_w, stride=s)
    windows = [(row * s, col * s) for row in range(out_h) for col in range(out_w)]
    unused = (padded_shape[0] - ((out_h - 1) * s + k), padded_shape[1] - ((out_w - 1) * s + k))
    return PaddingLayout((n, n), k, (p_h, p_w), s, padded_shape, (out_h, out_w), windows, None, unused)


def _no_output_reason(n, kernel_size, p_h, p_w):
    parts = []
    for axis, p, unit in (("tall", p_h, "rows"), ("wide", p_w, "columns")):
        padded = n + 2 * p
        if kernel_size > padded:
            parts.append(
                f"the kernel is {kernel_size} {unit} {axis} but the padded input is only {padded} "
                f"{unit} {axis} ({n} plus {p} {unit} of zeros on each side)"
            )
    return (
        "No output: "
        + " and ".join(parts)
        + ", so the kernel fits nowhere. Add padding or use a smaller kernel."
    )


# ----------------------------------------------------------------------------------------------
# A convolution layer's math on batches (lessons 05 and 07)
# ----------------------------------------------------------------------------------------------


def conv2d(
    x: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """Convolution layer forward pass on a batch: every filter over every image (lessons 02, 05, 07, 09, 10).

    Cross-correlation, like deep-learning frameworks (the kernel is not flipped). Vectorised
    with im2col: one slice copy per kernel offset, then one matrix product.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
        A batch of ``N`` inputs with ``C`` channels.
    weight : array_like, shape (F, C, KH, KW)
        ``F`` filters, each a stack of ``C`` kernels.
    bias : array_like, shape (F,), optional
        One number added to each filter's whole output map.
    stride : int or (int, int), default 1, keyword-only
    padding : int or (int, int), default 0, keyword-only

    Returns
    -------
    out : ndarray, shape (N, F, OH, OW)
        ``out[n, f, r, c] = bias[f] + sum over (ch, i, j) of
        padded_x[n, ch, r*s_h + i, c*s_w + j] * weight[f, ch, i, j]``, with
        ``OH = output_size(H, KH, padding=p_h, stride=s_h)`` and the same for ``OW``.
        float32 when ``x`` and ``weight`` are float32 (``bias`` is cast to match), else float64.

    Raises
    ------
    TypeError
        Non-numeric input, a non-integer stride or padding, or stride / padding by position.
    ValueError
        Wrong number of axes, channel mismatch between ``x`` and ``weight``, ``bias`` not of
        shape (F,), kernel larger than the padded input, ``stride`` < 1 or ``padding`` < 0.

    Examples
    --------
    One 2x2 image, one 2x2 kernel of ones, bias 10: a single output, 1+2+3+4+10.

    >>> conv2d([[[[1, 2], [3, 4]]]], np.ones((1, 1, 2, 2)), bias=[10])
    array([[[[20.]]]])
    """
    x, weight, bias, stride, padding, _ = _check_conv(x, weight, bias, stride, padding)
    return _fast.conv2d_forward(x, weight, bias, stride, padding)[0]


def conv2d_loops(
    x: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """The loop version of ``conv2d``: one multiply-and-sum per (image, filter, row, column).

    Same arguments, result and errors as ``conv2d`` (lesson 05).

    Examples
    --------
    >>> conv2d_loops([[[[1, 2], [3, 4]]]], np.ones((1, 1, 2, 2)), bias=[10])
    array([[[[20.]]]])
    """
    x, weight, bias, stride, padding, (out_h, out_w) = _check_conv(x, weight, bias, stride, padding)
    padded = _pad(x, padding)
    n_images, n_filters = x.shape[0], weight.shape[0]
    kernel_h, kernel_w = weight.shape[-2:]
    out = np.zeros((n_images, n_filters, out_h, out_w), dtype=x.dtype)
    for n in range(n_images):
        for f in range(n_filters):
            for row in range(out_h):
                for col in range(out_w):
                    top, left = row * stride[0], col * stride[1]
                    window = padded[n, :, top : top + kernel_h, left : left + kernel_w]  # (C, KH, KW)
                    out[n, f, row, col] = np.sum(window * weight[f])
            if bias is not None:
                out[n, f] += bias[f]
    return out


def conv2d_backward(
    dout: ArrayLike,
    x: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    needs_input_grad: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Gradients of ``conv2d`` with respect to its input, weights and bias (lessons 07, 09, 10).

    Takes ``dout = dL/dout`` followed by exactly the forward's arguments: with
    ``out = conv2d(x, weight, bias, stride=s, padding=p)``, call
    ``conv2d_backward(dout, x, weight, bias, stride=s, padding=p)``.

    - ``dbias[f]`` is the sum of ``dout[:, f]``;
    - ``dweight`` is one matrix product of ``dout`` with the im2col columns of ``x``;
    - ``dx`` is one matrix product giving the columns' gradient, then col2im adds each back
      onto the pixel it came from (a pixel in several windows gets the sum).

    The forward's columns are rebuilt here. A layer that keeps them between forward and
    backward (``layers.Conv2D``) calls the private fast path directly instead.

    Parameters
    ----------
    dout : array_like, shape (N, F, OH, OW)
        Gradient of the loss with respect to the forward output.
    x, weight, bias, stride, padding
        As given to ``conv2d``. ``bias`` matters only for whether ``dbias`` is computed.
    needs_input_grad : bool, default True, keyword-only
        ``False`` skips computing ``dx`` (returned as ``None``): a network's first layer
        has no use for it.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), or None when ``needs_input_grad`` is False
    dweight : ndarray, shape (F, C, KH, KW)
    dbias : ndarray, shape (F,), or None when ``bias`` is None
        A forward without a bias has no bias to learn, so there is no gradient for it (as in
        PyTorch). Pass ``bias=np.zeros(F)`` to get ``dout.sum(axis=(0, 2, 3))`` anyway.

        float32 when ``dout``, ``x`` and ``weight`` are all float32, else float64.

    Raises
    ------
    TypeError, ValueError
        As for ``conv2d``, and when ``dout`` does not have the forward output's shape.

    Examples
    --------
    ``out = x[0,0,0,0]*w00 + x[0,0,0,1]*w01 + b``, so ``dx = w``, ``dweight = x``, ``dbias = 1``:

    >>> conv2d_backward(np.ones((1, 1, 1, 1)), [[[[2, 3]]]], [[[[5, 7]]]], [0])
    (array([[[[5., 7.]]]]), array([[[[2., 3.]]]]), array([1.]))
    >>> conv2d_backward(np.ones((1, 1, 1, 1)), [[[[2, 3]]]], [[[[5, 7]]]], needs_input_grad=False)
    (None, array([[[[2., 3.]]]]), None)
    """
    dout, x, weight, bias, stride, padding, _ = _check_backward(dout, x, weight, bias, stride, padding)
    cache = _fast.conv2d_cache(x, weight, bias, stride, padding)
    return _fast.conv2d_backward(dout, cache, needs_input_grad=bool(needs_input_grad))


def conv2d_backward_loops(
    dout: ArrayLike,
    x: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    needs_input_grad: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """The loop version of ``conv2d_backward``: walk the forward loops again, sending gradient back.

    Each forward step ``out[n, f, r, c] += window * weight[f]`` sends ``dout[n, f, r, c]``
    back to both factors: ``dweight[f] += dout * window`` and ``dwindow += dout * weight[f]``.
    Same arguments and results as ``conv2d_backward`` (lesson 07).

    Examples
    --------
    >>> conv2d_backward_loops(np.ones((1, 1, 1, 1)), [[[[2, 3]]]], [[[[5, 7]]]], [0])
    (array([[[[5., 7.]]]]), array([[[[2., 3.]]]]), array([1.]))
    """
    dout, x, weight, bias, stride, padding, (out_h, out_w) = _check_backward(
        dout, x, weight, bias, stride, padding
    )
    n_images, n_filters = x.shape[0], weight.shape[0]
    padded = _pad(x, padding)
    dpadded = np.zeros_like(padded)
    dweight = np.zeros_like(weight)
    dbias = np.zeros(n_filters, dtype=dout.dtype)
    kernel_h, kernel_w = weight.shape[-2:]
    for n in range(n_images):
        for f in range(n_filters):
            for row in range(out_h):
                for col in range(out_w):
                    top, left = row * stride[0], col * stride[1]
                    window = padded[n, :, top : top + kernel_h, left : left + kernel_w]
                    grad = dout[n, f, row, col]
                    dbias[f] += grad
                    dweight[f] += grad * window
                    dpadded[n, :, top : top + kernel_h, left : left + kernel_w] += grad * weight[f]
    p_h, p_w = padding
    dx = dpadded[:, :, p_h : p_h + x.shape[2], p_w : p_w + x.shape[3]]  # drop the padding's gradient
    return (dx if needs_input_grad else None), dweight, (dbias if bias is not None else None)


# ----------------------------------------------------------------------------------------------
# im2col and col2im: the trick that makes convolution one matrix product (lesson 07)
# ----------------------------------------------------------------------------------------------


def im2col(
    x: ArrayLike,
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """Unroll every kernel-sized window of a batch into one column of a matrix (lesson 07).

    Row ``(c, i, j)`` of the result, in that order, holds the pixel that a kernel's entry
    ``[c, i, j]`` multiplies; column ``(n, r, s)`` is output position ``(r, s)`` of image ``n``.
    So ``weight.reshape(F, -1) @ im2col(x, (KH, KW), ...)`` is the whole convolution in one
    matrix product, and ``col2im`` is its adjoint (transpose).

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
    kernel_size : int or (int, int)
        ``(KH, KW)``.
    stride, padding : int or (int, int), keyword-only

    Returns
    -------
    cols : ndarray, shape (C * KH * KW, N * OH * OW)
        With ``OH = output_size(H, KH, padding=p_h, stride=s_h)`` and the same for ``OW``.

    Examples
    --------
    >>> im2col(np.arange(6).reshape(1, 1, 2, 3), kernel_size=2)
    array([[0., 1.],
           [1., 2.],
           [3., 4.],
           [4., 5.]])
    """
    x = as_array("x", x, ndim=4)
    _require_nonempty("x", x)
    kernel_hw = as_pair("kernel_size", kernel_size, minimum=1)
    stride = as_pair("stride", stride, minimum=1)
    padding = as_pair("padding", padding, minimum=0)
    (oh, ow) = _output_hw("x", x.shape[-2:], kernel_hw, padding, stride)
    padded = _pad(x.astype(float_dtype(x), copy=False), padding)
    n, channels = x.shape[:2]
    (kh, kw), (sh, sw) = kernel_hw, stride
    cols = np.empty((channels, kh, kw, n, oh, ow), dtype=padded.dtype)
    # One slice copy per kernel offset (i, j): the pixel that the kernel's (i, j) entry
    # multiplies, for every image and output position at once.
    for i in range(kh):
        for j in range(kw):
            window_pixels = padded[:, :, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw]
            cols[:, i, j] = window_pixels.transpose(1, 0, 2, 3)  # (C, N, OH, OW)
    return cols.reshape(channels * kh * kw, n * oh * ow)


def col2im(
    cols: ArrayLike,
    x_shape: tuple[int, int, int, int],
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """Add each column entry back onto the input pixel it came from: the adjoint of ``im2col``.

    The same loop as ``im2col`` with the copy turned around: where ``im2col`` reads the pixels
    at kernel offset ``(i, j)`` into rows ``(c, i, j)``, ``col2im`` adds those rows back onto
    the same pixels (``+=``). A pixel that sits in several windows receives the sum of their
    entries, which is exactly what the backward pass of a convolution needs (lesson 07).

    Parameters
    ----------
    cols : array_like, shape (C * KH * KW, N * OH * OW)
        In ``im2col``'s layout.
    x_shape : tuple of 4 ints
        ``(N, C, H, W)`` of the input that ``im2col`` unrolled.
    kernel_size : int or (int, int)
    stride, padding : int or (int, int), keyword-only
        As given to ``im2col``.

    Returns
    -------
    ndarray, shape (N, C, H, W)

    Examples
    --------
    Pixel 1 sits in both 1x2 windows of ``[[0, 1, 2]]``, so it receives 1 + 1:

    >>> col2im(np.ones((2, 2)), (1, 1, 1, 3), kernel_size=(1, 2))
    array([[[[1., 2., 1.]]]])
    """
    cols = as_array("cols", cols, ndim=2)
    if not (isinstance(x_shape, (tuple, list)) and len(x_shape) == 4):
        raise ValueError(f"x_shape must be a tuple (N, C, H, W), got {describe(x_shape)}")
    x_shape = tuple(as_int(f"x_shape[{axis}]", size, minimum=1) for axis, size in enumerate(x_shape))
    kernel_hw = as_pair("kernel_size", kernel_size, minimum=1)
    stride = as_pair("stride", stride, minimum=1)
    padding = as_pair("padding", padding, minimum=0)
    oh, ow = _output_hw("x", x_shape[-2:], kernel_hw, padding, stride)
    n, channels, height, width = x_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel_hw, stride, padding
    expected = (channels * kh * kw, n * oh * ow)
    if cols.shape != expected:
        raise ValueError(f"cols must have shape {expected} for x_shape {x_shape}, got shape {cols.shape}")
    cols = cols.astype(float_dtype(cols), copy=False).reshape(channels, kh, kw, n, oh, ow)
    padded = np.zeros((n, channels, height + 2 * ph, width + 2 * pw), dtype=cols.dtype)
    # Within one offset the strided pixels are distinct, so ``+=`` on the slice is exact;
    # overlapping windows add up across offsets.
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw] += cols[
                :, i, j
            ].transpose(1, 0, 2, 3)
    return padded[:, :, ph : ph + height, pw : pw + width].copy()  # drop the padding's gradient


# ----------------------------------------------------------------------------------------------
# Input checks: each public function above calls one of these once
# ----------------------------------------------------------------------------------------------


def _require_nonempty(name, array):
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")


def _output_hw(name, in_hw, kernel_hw, padding, stride):
    """Output height and width (``output_size`` on each axis), or a sentence saying why the
    kernel does not fit."""
    padded = (in_hw[0] + 2 * padding[0], in_hw[1] + 2 * padding[1])
    if kernel_hw[0] > padded[0] or kernel_hw[1] > padded[1]:
        how = f" ({name} of shape {tuple(in_hw)} with padding {padding})" if any(padding) else ""
        raise ValueError(
            f"kernel of shape {tuple(kernel_hw)} does not fit in the padded {name} of shape {padded}{how}"
        )
    return tuple(
        output_size(in_hw[axis], kernel_hw[axis], padding=padding[axis], stride=stride[axis])
        for axis in (0, 1)
    )


def _check_map_and_kernel(image, kernel, padding, stride):
    image = as_array("image", image, ndim=2)
    kernel = as_array("kernel", kernel, ndim=2)
    _require_nonempty("image", image)
    _require_nonempty("kernel", kernel)
    padding = as_pair("padding", padding, minimum=0)
    stride = as_pair("stride", stride, minimum=1)
    out_hw = _output_hw("image", image.shape, kernel.shape, padding, stride)
    dtype = float_dtype(image, kernel)
    return image.astype(dtype, copy=False), kernel.astype(dtype, copy=False), padding, stride, out_hw


def _check_steps(image, kernel):
    image = as_array("image", image, ndim=2).astype(float)
    kernel = as_array("kernel", kernel, ndim=2).astype(float)
    if image.size == 0 or kernel.size == 0:
        raise ValueError(f"image and kernel must not be empty, got shapes {image.shape} and {kernel.shape}")
    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError(f"kernel of shape {kernel.shape} does not fit in the image of shape {image.shape}")
    return image, kernel


def _check_conv(x, weight, bias, stride, padding, dtype_partners=()):
    """Checked ``x``, ``weight``, ``bias`` (all in one float dtype), stride and padding pairs,
    and the output's (height, width)."""
    x = as_array("x", x, ndim=4)
    weight = as_array("weight", weight, ndim=4)
    _require_nonempty("x", x)
    _require_nonempty("weight", weight)
    stride = as_pair("stride", stride, minimum=1)
    padding = as_pair("padding", padding, minimum=0)
    if weight.shape[1] != x.shape[1]:
        raise ValueError(
            f"weight of shape {weight.shape} expects {weight.shape[1]} input channels, "
            f"but x of shape {x.shape} has {x.shape[1]}"
        )
    dtype = float_dtype(x, weight, *dtype_partners)
    if bias is not None:
        bias = as_array("bias", bias, ndim=1)
        if bias.shape != (weight.shape[0],):
            raise ValueError(
                f"bias must have shape ({weight.shape[0]},), one value per filter of weight "
                f"{weight.shape}, got shape {bias.shape}"
            )
        # bias follows x and weight: a float64 np.zeros bias must not turn float32 training into float64
        bias = bias.astype(dtype, copy=False)
    out_hw = _output_hw("x", x.shape[-2:], weight.shape[-2:], padding, stride)
    return x.astype(dtype, copy=False), weight.astype(dtype, copy=False), bias, stride, padding, out_hw


def _check_backward(dout, x, weight, bias, stride, padding):
    """``_check_conv`` plus ``dout`` of the forward output's shape, everything in one dtype."""
    dout = as_array("dout", dout, ndim=4)
    x, weight, bias, stride, padding, out_hw = _check_conv(x, weight, bias, stride, padding, (dout,))
    expected = (x.shape[0], weight.shape[0]) + out_hw
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got shape {dout.shape}")
    return dout.astype(x.dtype, copy=False), x, weight, bias, stride, padding, out_hw
