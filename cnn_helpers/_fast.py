"""The convolution layer's private fast kernel: forward with a cache, backward from it.

Placeholder with the agreed interface, wrapping :func:`cnn_helpers.conv.conv2d_with_cols` and
:func:`cnn_helpers.conv.conv2d_backward`; the speed task's version replaces it at merge. Only
:class:`cnn_helpers.layers.Conv2D` calls it, with inputs it has already validated::

    out, cache = conv2d_forward(x, w, b, stride, padding, workspace=workspace)
    dx, dw, db = conv2d_backward(dout, cache, needs_input_grad=True)

``stride`` and ``padding`` are ``(h, w)`` int tuples.
"""

from __future__ import annotations

from . import conv

__all__ = ["ConvWorkspace", "conv2d_forward", "conv2d_backward"]


class ConvWorkspace:
    """Buffers a layer may reuse from step to step (none yet in this version)."""


def conv2d_forward(x, weight, bias, stride, padding, *, workspace=None):
    """``(out, cache)``: ``conv2d(x, weight, bias)`` and what the backward pass needs."""
    out, cols = conv.conv2d_with_cols(x, weight, bias, stride, padding)
    return out, (x, weight, stride, padding, cols)


def conv2d_backward(dout, cache, *, needs_input_grad=True):
    """``(dx, dweight, dbias)`` from the forward's cache; ``dx`` is None without ``needs_input_grad``."""
    x, weight, stride, padding, cols = cache
    return conv.conv2d_backward(dout, x, weight, stride, padding, cols=cols, need_dx=needs_input_grad)
