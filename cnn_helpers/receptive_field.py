"""Receptive fields: how much of the input one output pixel sees (lesson 10).

- :func:`window`: the ``(size, stride)`` of one layer, block or ``(kernel_size, stride)`` pair;
- :func:`receptive_field`: the windows of a stack composed into one field;
- :func:`footprint`: the same field measured by backpropagation;
- :func:`inception_params`: parameter and channel counts of an Inception block.

Every layer of :mod:`cnn_helpers.layers` and every block of :mod:`cnn_helpers.blocks` knows its
own ``window``, so these functions need no list of layer types.
"""

from __future__ import annotations

import numpy as np

from cnn_helpers._validation import as_int, as_pair, describe
from cnn_helpers.layers import compose_windows

__all__ = ["window", "receptive_field", "footprint", "inception_params"]


def window(layer) -> tuple[tuple[int, int], tuple[int, int]]:
    """The ``(size, stride)`` window of one layer, block or ``(kernel_size, stride)`` pair.

    A layer answers with its own :attr:`~cnn_helpers.layers.Layer.window`; a pair is read as
    ``(kernel_size, stride)``.

    ``size`` is how many input pixels (per axis) one output pixel depends on; ``stride`` is how
    far that patch moves between neighbouring outputs. Elementwise layers (ReLU) are ``(1, 1)``.

    Parameters
    ----------
    layer : layer, block, or (kernel_size, stride) pair
        Kernel size and stride may be ints or ``(h, w)`` pairs.

    Returns
    -------
    size, stride : (int, int) pairs

    Raises
    ------
    ValueError
        For Flatten and Dense layers, whose outputs depend on the whole input.
    TypeError
        For anything else that is not a known layer.

    Examples
    --------
    >>> from cnn_helpers.layers import Conv2D
    >>> window(Conv2D(1, 1, kernel_size=5, stride=2))
    ((5, 5), (2, 2))
    >>> window((3, 1))
    ((3, 3), (1, 1))
    """
    if isinstance(layer, (tuple, list)):
        if len(layer) != 2:
            raise ValueError(f"a window must be a (kernel_size, stride) pair, got {describe(layer)}")
        return as_pair("kernel_size", layer[0], minimum=1), as_pair("stride", layer[1], minimum=1)
    if hasattr(type(layer), "window") and hasattr(layer, "forward"):
        return layer.window  # every Layer has one; Flatten and Dense raise the ValueError above
    raise TypeError(f"layer must be a layer, a block or a (kernel_size, stride) pair, got {describe(layer)}")


def receptive_field(layers) -> int | tuple[int, int]:
    """Receptive field of a stack: how many input pixels one output pixel can see (lessons 06, 10).

    With ``j`` the product of the strides of the layers before a layer (its "jump" in input
    pixels), each layer with kernel ``k`` adds ``(k - 1) * j``::

        field = 1;  jump = 1
        for k, s in layers:  field += (k - 1) * jump;  jump *= s

    Padding does not change it. For blocks with parallel paths (Inception, residual, dense) the
    largest path counts.

    Parameters
    ----------
    layers : sequence of layers, blocks or (kernel_size, stride) pairs, or one layer (a Sequential)

    Returns
    -------
    int, or (int, int) when the field is not square

    Examples
    --------
    Two 3x3 convolutions see as far as one 5x5; a 2x2 pool with stride 2 doubles later growth:

    >>> receptive_field([(3, 1), (3, 1)])
    5
    >>> receptive_field([(3, 1), (2, 2), (3, 1)])
    8
    """
    if hasattr(type(layers), "window") and hasattr(layers, "forward"):
        layers = [layers]  # one layer, block or Sequential: its own window
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(
            f"layers must be a sequence of layers or (kernel_size, stride) pairs, got {describe(layers)}"
        )
    (field_h, field_w), _ = compose_windows(window(layer) for layer in layers)
    return field_h if field_h == field_w else (field_h, field_w)


def footprint(
    model,
    input_shape: tuple[int, int, int],
    position: tuple[int, int] | None = None,
    trials: int = 3,
    seed: int = 0,
) -> np.ndarray:
    """Which input pixels one output pixel actually depends on, measured by backpropagation.

    Sends a gradient of 1 from one output position (all channels) back through ``model`` and
    marks every input pixel that receives a non-zero gradient. A ReLU that is off cuts a path,
    so the union over ``trials`` random positive inputs is taken. The result's extent is the
    measured receptive field, to set beside :func:`receptive_field`'s formula.

    Parameters
    ----------
    model : Sequential, block or layer
        Convolutional layers only (no Flatten or Dense), with ``needs_input_grad`` left True.
    input_shape : (C, H, W)
        Shape of one input example.
    position : (row, col), optional
        Output pixel to trace; default the middle of the output.
    trials : int, optional
    seed : int, optional

    Returns
    -------
    ndarray of bool, shape (H, W)
        True where the input pixel influences the chosen output pixel.

    Examples
    --------
    >>> from cnn_helpers.layers import Conv2D
    >>> conv = Conv2D(1, 1, kernel_size=3, padding=1, dtype=np.float64)
    >>> int(footprint(conv, (1, 7, 7)).sum())
    9
    """
    channels, height, width = (as_int("input_shape entry", s, minimum=1) for s in input_shape)
    trials = as_int("trials", trials, minimum=1)
    rng = np.random.default_rng(as_int("seed", seed, minimum=0))
    seen = np.zeros((height, width), dtype=bool)
    for _ in range(trials):
        x = rng.uniform(0.5, 1.5, size=(1, channels, height, width))
        out = model.forward(x)
        if out.ndim != 4:
            raise ValueError(f"model must output feature maps (N, C, H, W), got shape {out.shape}")
        row, col = (out.shape[2] // 2, out.shape[3] // 2) if position is None else position
        dout = np.zeros_like(out)
        dout[0, :, row, col] = 1.0
        dx = model.backward(dout)
        if dx is None:
            raise ValueError("model's first layer skips its input gradient (needs_input_grad=False)")
        seen |= np.any(np.asarray(dx)[0] != 0, axis=0)
    return seen


def inception_params(
    in_channels: int,
    b1: int,
    b3: int,
    b5: int,
    pool_proj: int = 0,
    b3_reduce: int | None = None,
    b5_reduce: int | None = None,
) -> tuple[int, int]:
    """Parameters and output channels of an :class:`InceptionBlock` (lesson 10).

    Every convolution has ``in * out * k * k`` weights and ``out`` biases. With a bottleneck,
    the 3x3 branch is a 1x1 convolution ``in -> b3_reduce`` then a 3x3 ``b3_reduce -> b3``
    (likewise the 5x5). The branches' outputs are concatenated, so channels add up.

    Parameters
    ----------
    in_channels, b1, b3, b5 : int
    pool_proj : int, optional
        Channels of the pooling branch's 1x1 convolution; 0 for no pooling branch.
    b3_reduce, b5_reduce : int, optional
        Bottleneck widths; None for no bottleneck.

    Returns
    -------
    num_params : int
    out_channels : int

    Examples
    --------
    >>> inception_params(4, b1=2, b3=3, b5=1)        # (4*2+2) + (4*9*3+3) + (4*25*1+1)
    (222, 6)
    """

    def conv(c_in, c_out, k):
        return c_in * c_out * k * k + c_out

    in_channels = as_int("in_channels", in_channels, minimum=1)
    b1, b3, b5 = as_int("b1", b1, minimum=1), as_int("b3", b3, minimum=1), as_int("b5", b5, minimum=1)
    pool_proj = as_int("pool_proj", pool_proj, minimum=0)
    total = conv(in_channels, b1, 1)
    for width, reduce, k in ((b3, b3_reduce, 3), (b5, b5_reduce, 5)):
        if reduce is None:
            total += conv(in_channels, width, k)
        else:
            reduce = as_int("b3_reduce" if k == 3 else "b5_reduce", reduce, minimum=1)
            total += conv(in_channels, reduce, 1) + conv(reduce, width, k)
    if pool_proj:
        total += conv(in_channels, pool_proj, 1)
    return total, b1 + b3 + b5 + pool_proj
