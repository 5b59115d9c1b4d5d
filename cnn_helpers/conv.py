"""Convolution: correlation and convolution of one map, padding, stride, and the conv layer's math.

Lessons that use this module:

- lesson 02 (convolution): ``correlate2d``, ``convolve2d`` and their ``_loops`` versions;
- lesson 04 (padding and stride): ``pad2d``, ``output_size``, the ``padding`` and ``stride``
  arguments;
- lesson 05 (convolution layers): ``conv2d`` on a batch ``(N, C, H, W)`` with weights
  ``(F, C, KH, KW)``;
- lesson 07 (learning kernels): ``conv2d_backward``, ``im2col``, ``col2im``, and
  ``conv2d_with_cols`` for layers that hand the forward's columns to the backward pass.

Every operation has a readable loop version (``*_loops``, what the lessons teach) and a
vectorised version with the same arguments (what training uses); the tests hold them equal.

Like every deep-learning framework, ``conv2d`` computes a *cross-correlation*: the kernel slides
over the input without being flipped. ``convolve2d`` is the true convolution of mathematics,
which flips the kernel first.

Sizes: along each axis, an input of size ``n`` padded by ``p`` zeros on both sides and scanned
by a kernel of size ``k`` with stride ``s`` gives ``floor((n + 2p - k) / s) + 1`` outputs.
``padding`` and ``stride`` are an int or an ``(h, w)`` pair everywhere.

dtypes: float32 inputs stay float32 (training uses float32); anything else computes in float64.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_array, as_int, as_pair, describe, float_dtype

__all__ = [
    "pad2d", "output_size",
    "correlate2d", "correlate2d_loops", "convolve2d", "convolve2d_loops",
    "conv2d", "conv2d_loops", "conv2d_with_cols",
    "conv2d_backward", "conv2d_backward_loops",
    "im2col", "col2im",
]


# ----------------------------------------------------------------------------------------------
# Input checks shared by the functions below
# ----------------------------------------------------------------------------------------------

def _require_nonempty(name, array):
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")


def _output_hw(name, in_hw, kernel_hw, padding, stride):
    """Output height and width, or a sentence saying why the kernel does not fit."""
    padded = (in_hw[0] + 2 * padding[0], in_hw[1] + 2 * padding[1])
    if kernel_hw[0] > padded[0] or kernel_hw[1] > padded[1]:
        how = f" ({name} of shape {tuple(in_hw)} with padding {padding})" if any(padding) else ""
        raise ValueError(
            f"kernel of shape {tuple(kernel_hw)} does not fit in the padded {name} of shape {padded}{how}"
        )
    return tuple((padded[axis] - kernel_hw[axis]) // stride[axis] + 1 for axis in (0, 1))


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


def _check_conv(x, weight, bias, stride, padding):
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
    dtype = float_dtype(x, weight)
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


def _check_dout(dout, expected_shape, dtype_partners):
    dout = as_array("dout", dout, ndim=4)
    if dout.shape != expected_shape:
        raise ValueError(
            f"dout must have the forward output's shape {expected_shape}, got shape {dout.shape}"
        )
    return dout.astype(float_dtype(dout, *dtype_partners), copy=False)


# ----------------------------------------------------------------------------------------------
# Padding and output size (lesson 04)
# ----------------------------------------------------------------------------------------------

def pad2d(x, padding):
    """Surround the last two axes of ``x`` with zeros (lesson 04).

    Parameters
    ----------
    x : array_like, shape (..., H, W)
        One map ``(H, W)``, a batch ``(N, C, H, W)``, or any array with at least 2 axes.
    padding : int or (int, int)
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
    >>> pad2d([[1, 2]], 1)
    array([[0., 0., 0., 0.],
           [0., 1., 2., 0.],
           [0., 0., 0., 0.]])
    """
    x = as_array("x", x)
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 axes (H, W), got shape {x.shape} ({x.ndim}-D)")
    p_h, p_w = as_pair("padding", padding, minimum=0)
    x = x.astype(float_dtype(x), copy=False)
    height, width = x.shape[-2:]
    padded = np.zeros(x.shape[:-2] + (height + 2 * p_h, width + 2 * p_w), dtype=x.dtype)
    padded[..., p_h:p_h + height, p_w:p_w + width] = x
    return padded


def output_size(n, kernel_size, padding=0, stride=1):
    """Number of outputs along one axis: ``floor((n + 2p - k) / s) + 1`` (lesson 04).

    Parameters
    ----------
    n : int
        Input size along the axis (height or width), at least 1.
    kernel_size : int
        Kernel size ``k`` along the axis, at least 1.
    padding : int, default 0
        Zeros ``p`` added on each side, at least 0.
    stride : int, default 1
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


# ----------------------------------------------------------------------------------------------
# im2col and col2im: the trick that makes convolution one matrix product (lesson 07)
# ----------------------------------------------------------------------------------------------

def _im2col(x, kernel_hw, stride, padding, out_hw):
    """Columns ``(C*KH*KW, N*OH*OW)`` of already checked float ``x`` of shape (N, C, H, W)."""
    n, channels, height, width = x.shape
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = kernel_hw, stride, padding, out_hw
    # Channels first, so that every slice copied below is a block of the (C, ..., N, OH, OW)
    # result; padding and this transpose happen in the same single copy.
    if ph or pw:
        source = np.zeros((channels, n, height + 2 * ph, width + 2 * pw), dtype=x.dtype)
        source[:, :, ph:ph + height, pw:pw + width] = x.transpose(1, 0, 2, 3)
    else:
        source = x.transpose(1, 0, 2, 3)
    cols = np.empty((channels, kh, kw, n, oh, ow), dtype=x.dtype)
    # One slice copy per kernel offset (i, j): the pixel that the kernel's (i, j) entry
    # multiplies, for every output position at once.
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = source[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
    return cols.reshape(channels * kh * kw, n * oh * ow)


def _col2im(cols, x_shape, kernel_hw, stride, padding, out_hw):
    """Inverse bookkeeping of ``_im2col``: add every column entry back onto its pixel.

    ``cols`` has shape (C*KH*KW, OH*OW*N): unlike ``_im2col``'s columns, these are ordered
    (row, column, image), batch last. Then every slice added below runs along long contiguous
    stretches of memory (OW*N numbers) instead of short image rows, which is about twice as fast.
    """
    n, channels, height, width = x_shape
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = kernel_hw, stride, padding, out_hw
    cols = cols.reshape(channels, kh, kw, oh, ow, n)
    padded = np.zeros((channels, height + 2 * ph, width + 2 * pw, n), dtype=cols.dtype)
    # Within one offset the strided pixels are distinct, so ``+=`` on the slice is exact;
    # overlapping windows add up across offsets (no np.add.at needed, which is slow).
    for i in range(kh):
        for j in range(kw):
            padded[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :] += cols[:, i, j]
    return np.ascontiguousarray(padded[:, ph:ph + height, pw:pw + width, :].transpose(3, 0, 1, 2))


def im2col(x, kernel_size, stride=1, padding=0):
    """Unroll every kernel-sized window of a batch into one column of a matrix (lesson 07).

    Row ``(c, i, j)`` of the result, in that order, holds the pixel that a kernel's entry
    ``[c, i, j]`` multiplies; column ``(n, r, s)`` is output position ``(r, s)`` of image ``n``.
    So ``weight.reshape(F, -1) @ im2col(x, ...)`` is the whole convolution in one matrix product.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
    kernel_size : int or (int, int)
        ``(KH, KW)``.
    stride, padding : int or (int, int)

    Returns
    -------
    cols : ndarray, shape (C * KH * KW, N * OH * OW)
        With ``OH = floor((H + 2 p_h - KH) / s_h) + 1`` and the same for ``OW``.

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
    out_hw = _output_hw("x", x.shape[-2:], kernel_hw, padding, stride)
    x = x.astype(float_dtype(x), copy=False)
    return _im2col(x, kernel_hw, stride, padding, out_hw)


def col2im(cols, x_shape, kernel_size, stride=1, padding=0):
    """Add each column entry back onto the input pixel it came from: the adjoint of ``im2col``.

    A pixel that sits in several windows receives the sum of their entries, which is exactly
    what the backward pass of a convolution needs (lesson 07).

    Parameters
    ----------
    cols : array_like, shape (C * KH * KW, N * OH * OW)
    x_shape : tuple of 4 ints
        ``(N, C, H, W)`` of the input that ``im2col`` unrolled.
    kernel_size, stride, padding : int or (int, int)
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
    out_hw = _output_hw("x", x_shape[-2:], kernel_hw, padding, stride)
    expected = (x_shape[1] * kernel_hw[0] * kernel_hw[1], x_shape[0] * out_hw[0] * out_hw[1])
    if cols.shape != expected:
        raise ValueError(f"cols must have shape {expected} for x_shape {x_shape}, got shape {cols.shape}")
    cols = cols.astype(float_dtype(cols), copy=False)
    # im2col orders columns (image, row, column); _col2im wants the image last
    batch_last = cols.reshape(expected[0], x_shape[0], -1).transpose(0, 2, 1)
    return _col2im(batch_last, x_shape, kernel_hw, stride, padding, out_hw)


# ----------------------------------------------------------------------------------------------
# One map: cross-correlation and true convolution (lessons 02 and 04)
# ----------------------------------------------------------------------------------------------

def correlate2d(image, kernel, padding=0, stride=1):
    """Slide ``kernel`` over ``image`` and multiply-and-sum at each stop, without flipping (lesson 02).

    This is what deep-learning frameworks call "convolution". Vectorised over all output
    positions at once: for each kernel entry ``(i, j)``, add that entry times the padded image
    shifted by ``(i, j)``. ``correlate2d_loops`` is the same computation written as a double
    loop over output positions.

    Parameters
    ----------
    image : array_like, shape (H, W)
    kernel : array_like, shape (KH, KW)
    padding : int or (int, int), default 0
        Zeros added around the image, ``p`` or ``(p_h, p_w)`` on each side.
    stride : int or (int, int), default 1
        Step between windows, ``s`` or ``(s_h, s_w)``.

    Returns
    -------
    ndarray, shape (OH, OW)
        ``out[r, c] = sum over (i, j) of padded[r*s_h + i, c*s_w + j] * kernel[i, j]``, with
        ``OH = floor((H + 2 p_h - KH) / s_h) + 1`` and the same for ``OW``.

    Raises
    ------
    TypeError
        If ``image`` or ``kernel`` is not numeric.
    ValueError
        If either is not 2-D, the kernel does not fit in the padded image, ``stride`` < 1 or
        ``padding`` < 0.

    Examples
    --------
    >>> correlate2d([[1, 2, 3], [4, 5, 6]], [[1, 0], [0, 1]])
    array([[6., 8.]])
    """
    image, kernel, padding, stride, (out_h, out_w) = _check_map_and_kernel(image, kernel, padding, stride)
    padded = pad2d(image, padding)
    s_h, s_w = stride
    out = np.zeros((out_h, out_w), dtype=image.dtype)
    # Shift-and-add uses memory for one map only, even for a big kernel on a photograph.
    for (i, j), weight in np.ndenumerate(kernel):
        out += weight * padded[i:i + s_h * (out_h - 1) + 1:s_h, j:j + s_w * (out_w - 1) + 1:s_w]
    return out


def correlate2d_loops(image, kernel, padding=0, stride=1):
    """The loop version of ``correlate2d``: visit each output position and multiply-and-sum.

    Same arguments, result and errors as ``correlate2d`` (lesson 02).

    Examples
    --------
    >>> correlate2d_loops([[1, 2, 3], [4, 5, 6]], [[1, 0], [0, 1]])
    array([[6., 8.]])
    """
    image, kernel, padding, stride, (out_h, out_w) = _check_map_and_kernel(image, kernel, padding, stride)
    padded = pad2d(image, padding)
    kernel_h, kernel_w = kernel.shape
    out = np.zeros((out_h, out_w), dtype=image.dtype)
    for row in range(out_h):
        for col in range(out_w):
            top, left = row * stride[0], col * stride[1]
            window = padded[top:top + kernel_h, left:left + kernel_w]
            out[row, col] = np.sum(window * kernel)
    return out


def convolve2d(image, kernel, padding=0, stride=1):
    """True (mathematical) 2-D convolution: flip the kernel in both axes, then correlate (lesson 02).

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
    return correlate2d(image, _flipped("kernel", kernel), padding, stride)


def convolve2d_loops(image, kernel, padding=0, stride=1):
    """The loop version of ``convolve2d``: flip the kernel, then the double loop of ``correlate2d_loops``.

    Examples
    --------
    >>> convolve2d_loops([[1, 2, 3], [4, 5, 6]], [[1, 0], [0, 2]])
    array([[ 7., 10.]])
    """
    return correlate2d_loops(image, _flipped("kernel", kernel), padding, stride)


def _flipped(name, kernel):
    kernel = as_array(name, kernel, ndim=2)
    return kernel[::-1, ::-1]  # upside down and left to right


# ----------------------------------------------------------------------------------------------
# A convolution layer's math on batches (lessons 05 and 07)
# ----------------------------------------------------------------------------------------------

def conv2d_with_cols(x, weight, bias=None, stride=1, padding=0):
    """``conv2d`` that also returns its im2col columns, so a layer can reuse them in backward.

    A layer calls ``out, cols = conv2d_with_cols(x, w, b, stride, padding)`` in ``forward``,
    keeps ``cols``, and passes it as ``conv2d_backward(dout, x, w, stride, padding, cols=cols)``,
    which then skips rebuilding the columns (the most expensive step).

    Parameters
    ----------
    x, weight, bias, stride, padding
        As for ``conv2d``.

    Returns
    -------
    out : ndarray, shape (N, F, OH, OW)
    cols : ndarray, shape (C * KH * KW, N * OH * OW)
        ``im2col(x, (KH, KW), stride, padding)``, in the computation dtype.

    Examples
    --------
    >>> out, cols = conv2d_with_cols(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))
    >>> out.shape, cols.shape
    ((1, 1, 1, 1), (4, 1))
    """
    x, weight, bias, stride, padding, out_hw = _check_conv(x, weight, bias, stride, padding)
    n, filters = x.shape[0], weight.shape[0]
    cols = _im2col(x, weight.shape[-2:], stride, padding, out_hw)
    out = weight.reshape(filters, -1) @ cols  # (F, N*OH*OW): every output pixel in one product
    if bias is not None:
        out += bias[:, None]
    out = out.reshape((filters, n) + out_hw).transpose(1, 0, 2, 3)
    return np.ascontiguousarray(out), cols


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """Convolution layer forward pass on a batch: every filter over every image (lesson 05).

    Cross-correlation, like deep-learning frameworks (the kernel is not flipped). Vectorised
    with ``im2col``: one slice copy per kernel offset, then one matrix product.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
        A batch of ``N`` inputs with ``C`` channels.
    weight : array_like, shape (F, C, KH, KW)
        ``F`` filters, each a stack of ``C`` kernels.
    bias : array_like, shape (F,), optional
        One number added to each filter's whole output map.
    stride : int or (int, int), default 1
    padding : int or (int, int), default 0

    Returns
    -------
    out : ndarray, shape (N, F, OH, OW)
        ``out[n, f, r, c] = bias[f] + sum over (ch, i, j) of
        padded_x[n, ch, r*s_h + i, c*s_w + j] * weight[f, ch, i, j]``, with
        ``OH = floor((H + 2 p_h - KH) / s_h) + 1`` and the same for ``OW``.
        float32 when ``x`` and ``weight`` are float32 (``bias`` is cast to match), else float64.

    Raises
    ------
    TypeError
        Non-numeric input, or a non-integer stride or padding.
    ValueError
        Wrong number of axes, channel mismatch between ``x`` and ``weight``, ``bias`` not of
        shape (F,), kernel larger than the padded input, ``stride`` < 1 or ``padding`` < 0.

    Examples
    --------
    One 2x2 image, one 2x2 kernel of ones, bias 10: a single output, 1+2+3+4+10.

    >>> conv2d([[[[1, 2], [3, 4]]]], np.ones((1, 1, 2, 2)), bias=[10])
    array([[[[20.]]]])
    """
    return conv2d_with_cols(x, weight, bias, stride, padding)[0]


def conv2d_loops(x, weight, bias=None, stride=1, padding=0):
    """The loop version of ``conv2d``: one multiply-and-sum per (image, filter, row, column).

    Same arguments, result and errors as ``conv2d`` (lesson 05).

    Examples
    --------
    >>> conv2d_loops([[[[1, 2], [3, 4]]]], np.ones((1, 1, 2, 2)), bias=[10])
    array([[[[20.]]]])
    """
    x, weight, bias, stride, padding, (out_h, out_w) = _check_conv(x, weight, bias, stride, padding)
    padded = pad2d(x, padding)
    n_images, n_filters = x.shape[0], weight.shape[0]
    kernel_h, kernel_w = weight.shape[-2:]
    out = np.zeros((n_images, n_filters, out_h, out_w), dtype=x.dtype)
    for n in range(n_images):
        for f in range(n_filters):
            for row in range(out_h):
                for col in range(out_w):
                    top, left = row * stride[0], col * stride[1]
                    window = padded[n, :, top:top + kernel_h, left:left + kernel_w]  # (C, KH, KW)
                    out[n, f, row, col] = np.sum(window * weight[f])
            if bias is not None:
                out[n, f] += bias[f]
    return out


def conv2d_backward(dout, x, weight, stride=1, padding=0, *, cols=None, need_dx=True):
    """Gradients of ``conv2d`` with respect to its input, weights and bias (lesson 07).

    With ``out = conv2d(x, weight, bias, stride, padding)`` and ``dout = dL/dout``:

    - ``dbias[f]`` is the sum of ``dout[:, f]``;
    - ``dweight`` is one matrix product of ``dout`` with the im2col columns of ``x``;
    - ``dx`` is one matrix product giving the columns' gradient, then ``col2im`` adds each back
      onto the pixel it came from (a pixel in several windows gets the sum).

    Parameters
    ----------
    dout : array_like, shape (N, F, OH, OW)
        Gradient of the loss with respect to the forward output.
    x : array_like, shape (N, C, H, W)
        The forward input.
    weight : array_like, shape (F, C, KH, KW)
        The forward weights.
    stride, padding : int or (int, int)
        As in the forward pass.
    cols : ndarray, shape (C * KH * KW, N * OH * OW), optional
        The columns returned by ``conv2d_with_cols(x, weight, ...)`` for this same ``x``,
        ``stride`` and ``padding``. Given, they are reused instead of rebuilt; only their shape
        is checked, so they must really come from this ``x``.
    need_dx : bool, default True
        ``False`` skips computing ``dx`` (returned as ``None``): a network's first layer
        has no use for it.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), or None
    dweight : ndarray, shape (F, C, KH, KW)
    dbias : ndarray, shape (F,)
        float32 when ``dout``, ``x`` and ``weight`` are all float32, else float64.

    Raises
    ------
    TypeError, ValueError
        As for ``conv2d``, and when ``dout`` or ``cols`` does not have the forward's shape.

    Examples
    --------
    ``out = x[0,0,0,0]*w00 + x[0,0,0,1]*w01``, so ``dx = w`` and ``dweight = x``:

    >>> dx, dweight, dbias = conv2d_backward(np.ones((1, 1, 1, 1)), [[[[2, 3]]]], [[[[5, 7]]]])
    >>> dx, dweight, dbias
    (array([[[[5., 7.]]]]), array([[[[2., 3.]]]]), array([1.]))
    """
    x, weight, _, stride, padding, out_hw = _check_conv(x, weight, None, stride, padding)
    n, filters = x.shape[0], weight.shape[0]
    dout = _check_dout(dout, (n, filters) + out_hw, (x, weight))
    dtype = dout.dtype
    x, weight = x.astype(dtype, copy=False), weight.astype(dtype, copy=False)
    kernel_hw = weight.shape[-2:]
    if cols is None:
        cols = _im2col(x, kernel_hw, stride, padding, out_hw)
    else:
        cols = _check_cols(cols, x.shape, weight.shape, out_hw).astype(dtype, copy=False)
    # dout with its columns in the same (image, row, column) order as cols: (F, N*OH*OW)
    dout_matrix = dout.transpose(1, 0, 2, 3).reshape(filters, -1)
    dbias = dout_matrix.sum(axis=1)
    dweight = (dout_matrix @ cols.T).reshape(weight.shape)
    dx = None
    if need_dx:
        # columns ordered (row, column, image), the batch-last order _col2im adds fastest
        dout_batch_last = dout.transpose(1, 2, 3, 0).reshape(filters, -1)
        dcols = weight.reshape(filters, -1).T @ dout_batch_last  # (C*KH*KW, OH*OW*N)
        dx = _col2im(dcols, x.shape, kernel_hw, stride, padding, out_hw)
    return dx, dweight, dbias


def _check_cols(cols, x_shape, weight_shape, out_hw):
    cols = as_array("cols", cols, ndim=2)
    expected = (x_shape[1] * weight_shape[2] * weight_shape[3], x_shape[0] * out_hw[0] * out_hw[1])
    if cols.shape != expected:
        raise ValueError(
            f"cols must have shape {expected} (from conv2d_with_cols with the same x, weight, "
            f"stride and padding), got shape {cols.shape}"
        )
    return cols


def conv2d_backward_loops(dout, x, weight, stride=1, padding=0):
    """The loop version of ``conv2d_backward``: walk the forward loops again, sending gradient back.

    Each forward step ``out[n, f, r, c] += window * weight[f]`` sends ``dout[n, f, r, c]``
    back to both factors: ``dweight[f] += dout * window`` and ``dwindow += dout * weight[f]``.
    Same arguments and results as ``conv2d_backward`` (its ``cols`` and ``need_dx`` shortcuts
    are speed options of the fast version only). Lesson 07.

    Examples
    --------
    >>> conv2d_backward_loops(np.ones((1, 1, 1, 1)), [[[[2, 3]]]], [[[[5, 7]]]])
    (array([[[[5., 7.]]]]), array([[[[2., 3.]]]]), array([1.]))
    """
    x, weight, _, stride, padding, (out_h, out_w) = _check_conv(x, weight, None, stride, padding)
    n_images, n_filters = x.shape[0], weight.shape[0]
    dout = _check_dout(dout, (n_images, n_filters, out_h, out_w), (x, weight))
    x, weight = x.astype(dout.dtype, copy=False), weight.astype(dout.dtype, copy=False)
    padded = pad2d(x, padding)
    dpadded = np.zeros_like(padded)
    dweight = np.zeros_like(weight)
    dbias = np.zeros(n_filters, dtype=dout.dtype)
    kernel_h, kernel_w = weight.shape[-2:]
    for n in range(n_images):
        for f in range(n_filters):
            for row in range(out_h):
                for col in range(out_w):
                    top, left = row * stride[0], col * stride[1]
                    window = padded[n, :, top:top + kernel_h, left:left + kernel_w]
                    grad = dout[n, f, row, col]
                    dbias[f] += grad
                    dweight[f] += grad * window
                    dpadded[n, :, top:top + kernel_h, left:left + kernel_w] += grad * weight[f]
    p_h, p_w = padding
    dx = dpadded[:, :, p_h:p_h + x.shape[2], p_w:p_w + x.shape[3]]  # drop the padding's gradient
    return dx, dweight, dbias
