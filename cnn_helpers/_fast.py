"""The fast, column-based convolution that ``conv.conv2d`` and ``layers.Conv2D`` run on (private).

Nothing here checks its inputs: the public functions in ``cnn_helpers.conv`` (and the layers)
have already done that once. ``x`` and ``weight`` are float arrays of one dtype, ``bias`` is
None or of shape (F,) in that dtype, ``stride`` and ``padding`` are ``(h, w)`` tuples of ints.

The interface, which faster implementations must keep::

    ConvWorkspace()                                    # buffers a layer may reuse between calls
    conv2d_forward(x, weight, bias, stride, padding, workspace=None) -> (out, cache)
    conv2d_backward(dout, cache, needs_input_grad=True) -> (dx or None, dweight, dbias or None)

``cache`` holds what the backward pass needs from the forward, above all the im2col columns of
``x`` (the most expensive thing to build). ``dbias`` is None when the forward had no bias.

Unlike the public ``conv.col2im``, the backward pass here orders the columns' gradient
(row, column, image), batch last: then every slice added back runs along long contiguous
stretches of memory (OW*N numbers) instead of short image rows, which is about twice as fast.
"""

from __future__ import annotations

import numpy as np


class ConvWorkspace:
    """Reusable buffers a convolution layer keeps between calls.

    Today it holds nothing: every call allocates its own arrays. A faster implementation may
    keep padded inputs or column buffers here, keyed by shape and dtype.
    """

    __slots__ = ()


def _out_hw(x_shape, kernel_hw, stride, padding):
    from .conv import output_size  # the one formula; imported here because conv imports this module

    return tuple(output_size(x_shape[2 + axis], kernel_hw[axis], padding=padding[axis], stride=stride[axis])
                 for axis in (0, 1))


def _im2col(x, kernel_hw, stride, padding, out_hw):
    """Columns ``(C*KH*KW, N*OH*OW)`` of ``x`` (N, C, H, W), in ``conv.im2col``'s layout."""
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
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = source[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
    return cols.reshape(channels * kh * kw, n * oh * ow)


def _col2im_batch_last(dcols, x_shape, kernel_hw, stride, padding, out_hw):
    """Add ``dcols`` of shape (C*KH*KW, OH*OW*N), columns ordered batch last, back onto x's pixels."""
    n, channels, height, width = x_shape
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = kernel_hw, stride, padding, out_hw
    dcols = dcols.reshape(channels, kh, kw, oh, ow, n)
    padded = np.zeros((channels, height + 2 * ph, width + 2 * pw, n), dtype=dcols.dtype)
    # Within one offset the strided pixels are distinct, so ``+=`` on the slice is exact;
    # overlapping windows add up across offsets (no np.add.at needed, which is slow).
    for i in range(kh):
        for j in range(kw):
            padded[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :] += dcols[:, i, j]
    return np.ascontiguousarray(padded[:, ph:ph + height, pw:pw + width, :].transpose(3, 0, 1, 2))


def conv2d_forward(x, weight, bias, stride, padding, workspace=None):
    """``conv.conv2d`` on checked inputs; also returns the cache its backward pass needs."""
    n, filters = x.shape[0], weight.shape[0]
    kernel_hw = weight.shape[-2:]
    out_hw = _out_hw(x.shape, kernel_hw, stride, padding)
    cols = _im2col(x, kernel_hw, stride, padding, out_hw)
    out = weight.reshape(filters, -1) @ cols  # (F, N*OH*OW): every output pixel in one product
    if bias is not None:
        out += bias[:, None]
    out = np.ascontiguousarray(out.reshape((filters, n) + out_hw).transpose(1, 0, 2, 3))
    cache = (x.shape, weight, bias is not None, stride, padding, out_hw, cols)
    return out, cache


def conv2d_backward(dout, cache, needs_input_grad=True):
    """Gradients ``(dx or None, dweight, dbias or None)`` from ``dout`` and a forward's cache."""
    x_shape, weight, has_bias, stride, padding, out_hw, cols = cache
    filters = weight.shape[0]
    dtype = np.result_type(dout.dtype, cols.dtype)
    dout = dout.astype(dtype, copy=False)
    # dout with its columns in the same (image, row, column) order as cols: (F, N*OH*OW)
    dout_matrix = dout.transpose(1, 0, 2, 3).reshape(filters, -1)
    dbias = dout_matrix.sum(axis=1) if has_bias else None
    dweight = (dout_matrix @ cols.astype(dtype, copy=False).T).reshape(weight.shape)
    dx = None
    if needs_input_grad:
        dout_batch_last = dout.transpose(1, 2, 3, 0).reshape(filters, -1)
        dcols = weight.reshape(filters, -1).astype(dtype, copy=False).T @ dout_batch_last  # (C*KH*KW, OH*OW*N)
        dx = _col2im_batch_last(dcols, x_shape, weight.shape[-2:], stride, padding, out_hw)
    return dx, dweight, dbias
