"""Famous CNN building blocks, made from the course's own layers (lesson 10).

Each block behaves like a layer of :mod:`cnn_helpers.layers`: ``forward(x)``, ``backward(dout)``,
``params`` and ``grads`` (dicts with the same keys, e.g. ``"branch3.0.W"``), ``num_params``,
``output_shape(input_shape)``, so blocks go inside a :class:`~cnn_helpers.model.Sequential` and
train with the course's optimisers. Every block also has a ``window``: how large a patch of its
input one output pixel sees, and how far that patch moves per output pixel, which is what
:func:`receptive_field` composes.

- :class:`VGGBlock`: a stack of 3x3 convolutions (each with ReLU), then 2x2 max pooling.
- :class:`InceptionBlock`: parallel 1x1, 3x3, 5x5 and pooling branches, concatenated along
  channels; optional 1x1 "bottleneck" convolutions before the 3x3 and 5x5.
- :class:`ResidualBlock`: ``relu(x + F(x))``; the identity path carries the gradient unchanged.
- :class:`DenseBlock`: every layer sees the concatenation of all earlier feature maps.
- :func:`receptive_field`, :func:`inception_params`, :func:`footprint`: counting.
- :func:`fully_conv_net`, :class:`PixelSoftmaxCrossEntropy`, :func:`heatmap`, :func:`locate`,
  :func:`iou`, :func:`pixel_accuracy`: detection and segmentation with a fully convolutional net.

Blocks are containers: their ``params`` dict is rebuilt from the inner layers on every access
and holds the inner layers' own arrays, so optimisers that update ``params`` in place update
the inner layers.
"""

from __future__ import annotations

import numpy as np

from cnn_helpers._validation import as_array, as_int, as_pair, describe
from cnn_helpers.layers import (
    AvgPool2D,
    Conv2D,
    Dense,
    Flatten,
    MaxPool2D,
    ReLU,
    SoftmaxCrossEntropy,
    make_rng,
    softmax,
)
from cnn_helpers.model import Sequential

__all__ = [
    "Block",
    "Chain",
    "MaxPoolSame",
    "VGGBlock",
    "InceptionBlock",
    "ResidualBlock",
    "DenseBlock",
    "window",
    "receptive_field",
    "inception_params",
    "footprint",
    "fully_conv_net",
    "PixelSoftmaxCrossEntropy",
    "heatmap",
    "locate",
    "iou",
    "pixel_accuracy",
]


# --------------------------------------------------------------------------------------------
# Windows and receptive fields
# --------------------------------------------------------------------------------------------


def _compose(windows):
    """Receptive field and total stride, per axis, of windows applied one after the other.

    Each window ``((kh, kw), (sh, sw))`` grows the field by ``(k - 1)`` times the product of
    the strides before it (the distance, in input pixels, between neighbouring positions at
    that depth).
    """
    field, jump = [1, 1], [1, 1]
    for size, stride in windows:
        for axis in (0, 1):
            field[axis] += (size[axis] - 1) * jump[axis]
            jump[axis] *= stride[axis]
    return tuple(field), tuple(jump)


def window(layer):
    """The ``(size, stride)`` window of one layer, block or ``(kernel_size, stride)`` pair.

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
    >>> window(Conv2D(1, 1, kernel_size=5, stride=2))
    ((5, 5), (2, 2))
    >>> window((3, 1))
    ((3, 3), (1, 1))
    """
    if isinstance(layer, (tuple, list)):
        if len(layer) != 2:
            raise ValueError(f"a window must be a (kernel_size, stride) pair, got {describe(layer)}")
        return as_pair("kernel_size", layer[0], minimum=1), as_pair("stride", layer[1], minimum=1)
    if isinstance(layer, Conv2D):
        return layer.kernel_size, layer.stride
    if isinstance(layer, (MaxPool2D, AvgPool2D)):
        return as_pair("size", layer.size, minimum=1), as_pair("stride", layer.stride, minimum=1)
    if isinstance(layer, ReLU):
        return (1, 1), (1, 1)
    if isinstance(layer, (Flatten, Dense)):
        raise ValueError(
            f"{layer!r} connects every input to every output: its receptive field is the whole input; "
            "compute receptive fields of the convolutional part only"
        )
    if isinstance(layer, Sequential):
        return _compose(window(inner) for inner in layer.layers)
    if hasattr(layer, "window"):
        return layer.window
    raise TypeError(f"layer must be a layer, a block or a (kernel_size, stride) pair, got {describe(layer)}")


def receptive_field(layers):
    """Receptive field of a stack: how many input pixels one output pixel can see (lesson 10).

    With ``j`` the product of the strides of the layers before a layer (its "jump" in input
    pixels), each layer with kernel ``k`` adds ``(k - 1) * j``::

        field = 1;  jump = 1
        for k, s in layers:  field += (k - 1) * jump;  jump *= s

    Padding does not change it. For blocks with parallel paths (Inception, residual, dense) the
    largest path counts.

    Parameters
    ----------
    layers : sequence of layers, blocks or (kernel_size, stride) pairs, or a Sequential

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
    if isinstance(layers, Sequential):
        layers = layers.layers
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers must be a sequence of layers or (kernel_size, stride) pairs, got {describe(layers)}")
    (field_h, field_w), _ = _compose(window(layer) for layer in layers)
    return field_h if field_h == field_w else (field_h, field_w)


def footprint(model, input_shape, position=None, trials=3, seed=0):
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


def inception_params(in_channels, b1, b3, b5, pool_proj=0, b3_reduce=None, b5_reduce=None):
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


# --------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------


class Block:
    """What every block shares: named inner layers, combined ``params``/``grads``, shapes.

    Subclasses set ``self.children`` to a list of ``(name, layer)`` and define ``forward``,
    ``backward``, ``output_shape`` and ``window``.
    """

    children: list

    def __call__(self, x):
        return self.forward(x)

    @property
    def params(self):
        """Every inner parameter array by ``"<child>.<name>"`` (the arrays themselves, not copies)."""
        return {f"{name}.{key}": array for name, child in self.children for key, array in child.params.items()}

    @property
    def grads(self):
        """Every inner gradient from the last ``backward``, keyed like :attr:`params`."""
        return {f"{name}.{key}": grad for name, child in self.children for key, grad in child.grads.items()}

    def parameters(self):
        """``(layer, name, array)`` for every inner parameter (what optimisers iterate over)."""
        return [(self, key, array) for key, array in self.params.items()]

    @property
    def num_params(self):
        """Total number of trainable numbers."""
        return int(sum(array.size for array in self.params.values()))

    def _check_input(self, x, channels):
        x = as_array("x", x)
        if x.ndim != 4 or x.shape[1] != channels:
            raise ValueError(
                f"{type(self).__name__} expects x of shape (N, {channels}, H, W), got shape {x.shape}"
            )
        return x


class Chain(Block):
    """Layers one after the other, usable inside other blocks (like a small Sequential).

    Examples
    --------
    >>> chain = Chain(Conv2D(1, 2, 3, padding=1), ReLU())
    >>> chain.forward(np.zeros((1, 1, 5, 5), dtype=np.float32)).shape
    (1, 2, 5, 5)
    >>> sorted(chain.params), chain.window
    (['0.W', '0.b'], ((3, 3), (1, 1)))
    """

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            if not all(hasattr(layer, attr) for attr in ("forward", "backward", "params", "grads")):
                raise TypeError(
                    f"layers[{i}] must be a layer with forward, backward, params and grads, got {describe(layer)}"
                )
        self.layers = list(layers)
        self.children = [(str(i), layer) for i, layer in enumerate(self.layers)]

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = tuple(layer.output_shape(shape))
        return shape

    @property
    def window(self):
        return _compose(window(layer) for layer in self.layers)

    def __repr__(self):
        return "Chain(" + ", ".join(repr(layer) for layer in self.layers) + ")"


class MaxPoolSame:
    """Max pooling with stride 1 that keeps the map's size (the Inception pooling branch).

    The border is padded with a value below every input, so it is never the maximum.

    Examples
    --------
    >>> MaxPoolSame(3).forward(np.array([[[[1.0, 5.0, 2.0]]]]))
    array([[[[5., 5., 5.]]]])
    """

    def __init__(self, size=3):
        self.size = as_int("size", size, minimum=1)
        if self.size % 2 == 0:
            raise ValueError(f"size must be odd so the output keeps the input's size, got {self.size}")
        self._pool = MaxPool2D(self.size, stride=1)
        self.params, self.grads = {}, {}

    def forward(self, x):
        x = as_array("x", x)
        if x.ndim != 4:
            raise ValueError(f"MaxPoolSame expects x of shape (N, C, H, W), got shape {x.shape}")
        p = self.size // 2
        low = (x.min() - 1) if x.size else 0
        padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=low)
        return self._pool.forward(padded)

    def backward(self, dout):
        p = self.size // 2
        dpadded = self._pool.backward(dout)
        return dpadded[:, :, p:dpadded.shape[2] - p, p:dpadded.shape[3] - p]

    def output_shape(self, input_shape):
        return tuple(input_shape)

    @property
    def num_params(self):
        return 0

    @property
    def window(self):
        return (self.size, self.size), (1, 1)

    def __repr__(self):
        return f"MaxPoolSame({self.size})"


class VGGBlock(Chain):
    """VGG's idea: several 3x3 convolutions (each + ReLU), then 2x2 max pooling (lesson 10).

    Two stacked 3x3 convolutions see a 5x5 patch, three see 7x7, with fewer weights than one
    large kernel and a ReLU between them.

    Parameters
    ----------
    in_channels, out_channels : int
    num_convs : int, optional
    pool : bool, optional
        End with ``MaxPool2D(2)`` (halves height and width).
    rng : int, np.random.Generator or None, optional
    dtype : float32 or float64, optional

    Examples
    --------
    >>> block = VGGBlock(1, 4, num_convs=2)
    >>> block.output_shape((1, 8, 8)), block.num_params       # (1*9*4 + 4) + (4*9*4 + 4)
    ((4, 4, 4), 188)
    >>> receptive_field([block])                               # 1 + 2 + 2 + 1
    6
    """

    def __init__(self, in_channels, out_channels, num_convs=2, pool=True, rng=None, dtype=np.float32):
        num_convs = as_int("num_convs", num_convs, minimum=1)
        rng = make_rng(rng)
        layers = []
        for i in range(num_convs):
            c_in = in_channels if i == 0 else out_channels
            layers += [Conv2D(c_in, out_channels, 3, padding=1, rng=rng, dtype=dtype), ReLU()]
        if pool:
            layers.append(MaxPool2D(2))
        super().__init__(*layers)
        self.in_channels, self.out_channels, self.num_convs, self.pool = in_channels, out_channels, num_convs, pool

    def __repr__(self):
        return f"VGGBlock({self.in_channels}, {self.out_channels}, num_convs={self.num_convs}, pool={self.pool})"


class InceptionBlock(Block):
    """GoogLeNet's Inception idea: parallel branches, concatenated along channels (lesson 10).

    Branches (each convolution followed by ReLU, "same" padding so sizes match)::

        branch1: 1x1 conv -> b1 channels
        branch3: [1x1 conv -> b3_reduce] -> 3x3 conv -> b3 channels
        branch5: [1x1 conv -> b5_reduce] -> 5x5 conv -> b5 channels
        pool:    3x3 max pool (stride 1) -> 1x1 conv -> pool_proj channels   (if pool_proj > 0)

    The 1x1 "bottleneck" convolutions shrink the channels before the expensive 3x3 and 5x5.
    Output: ``b1 + b3 + b5 + pool_proj`` channels, same height and width.

    Parameters
    ----------
    in_channels, b1, b3, b5 : int
    pool_proj : int, optional
    b3_reduce, b5_reduce : int, optional
        None (the default) for no bottleneck.
    rng : int, np.random.Generator or None, optional
    dtype : float32 or float64, optional

    Examples
    --------
    >>> block = InceptionBlock(4, b1=2, b3=3, b5=1, pool_proj=2, b3_reduce=2, b5_reduce=1)
    >>> block.output_shape((4, 6, 6)), block.num_params == inception_params(4, 2, 3, 1, 2, 2, 1)[0]
    ((8, 6, 6), True)
    """

    def __init__(self, in_channels, b1, b3, b5, pool_proj=0, b3_reduce=None, b5_reduce=None, rng=None,
                 dtype=np.float32):
        self.in_channels = as_int("in_channels", in_channels, minimum=1)
        rng = make_rng(rng)
        self.widths = {"b1": b1, "b3": b3, "b5": b5, "pool_proj": pool_proj,
                       "b3_reduce": b3_reduce, "b5_reduce": b5_reduce}
        inception_params(in_channels, b1, b3, b5, pool_proj, b3_reduce, b5_reduce)  # validates the widths

        def conv(c_in, c_out, k):
            return [Conv2D(c_in, c_out, k, padding=k // 2, rng=rng, dtype=dtype), ReLU()]

        def reduced(width, reduce, k):
            if reduce is None:
                return Chain(*conv(in_channels, width, k))
            return Chain(*conv(in_channels, reduce, 1), *conv(reduce, width, k))

        self.children = [
            ("branch1", Chain(*conv(in_channels, b1, 1))),
            ("branch3", reduced(b3, b3_reduce, 3)),
            ("branch5", reduced(b5, b5_reduce, 5)),
        ]
        if pool_proj:
            self.children.append(("pool", Chain(MaxPoolSame(3), *conv(in_channels, pool_proj, 1))))
        self.split = [b1, b3, b5] + ([pool_proj] if pool_proj else [])
        self.out_channels = sum(self.split)

    def forward(self, x):
        """x shape (N, C, H, W) -> (N, b1 + b3 + b5 + pool_proj, H, W)."""
        x = self._check_input(x, self.in_channels)
        return np.concatenate([branch.forward(x) for _, branch in self.children], axis=1)

    def backward(self, dout):
        """Split ``dout`` by channels, one piece per branch; every branch's ``dx`` adds up."""
        pieces = np.split(dout, np.cumsum(self.split)[:-1], axis=1)
        return sum(branch.backward(piece) for (_, branch), piece in zip(self.children, pieces))

    def output_shape(self, input_shape):
        channels, height, width = input_shape
        return (self.out_channels, height, width)

    @property
    def window(self):
        fields = [branch.window for _, branch in self.children]
        return max(f[0] for f in fields), (1, 1)

    def __repr__(self):
        shown = ", ".join(f"{k}={v}" for k, v in self.widths.items() if v)
        return f"InceptionBlock({self.in_channels}, {shown})"


class ResidualBlock(Block):
    """ResNet's idea: ``out = relu(x + F(x))``, with ``F`` = conv - ReLU - conv (lesson 10).

    The block only has to learn the change ``F(x)`` to its input. Backward, the addition copies
    the gradient to both paths, so ``dx = dz + F's backward(dz)`` with ``dz`` the gradient after
    the final ReLU: the identity path carries the gradient past ``F`` unchanged.

    Parameters
    ----------
    channels : int
        Input and output channels (the same, so ``x`` and ``F(x)`` can be added).
    kernel_size : int, optional
        Odd, with "same" padding.
    shortcut : bool, optional
        False gives the same block without the identity path (a "plain" block), for comparison.
    rng : int, np.random.Generator or None, optional
    dtype : float32 or float64, optional

    Examples
    --------
    With ``F``'s last convolution at zero the block passes ``relu(x)`` through:

    >>> block = ResidualBlock(2)
    >>> block.params["branch.2.W"][...] = 0
    >>> x = np.arange(8.0, dtype=np.float32).reshape(1, 2, 2, 2) - 3
    >>> bool(np.array_equal(block.forward(x), np.maximum(x, 0)))
    True
    >>> block.num_params                                  # 2 * (2*9*2 + 2)
    76
    """

    def __init__(self, channels, kernel_size=3, shortcut=True, rng=None, dtype=np.float32):
        self.channels = as_int("channels", channels, minimum=1)
        k = as_int("kernel_size", kernel_size, minimum=1)
        if k % 2 == 0:
            raise ValueError(f"kernel_size must be odd so the output keeps the input's size, got {k}")
        rng = make_rng(rng)
        self.kernel_size, self.shortcut = k, bool(shortcut)
        self.branch = Chain(
            Conv2D(channels, channels, k, padding=k // 2, rng=rng, dtype=dtype),
            ReLU(),
            Conv2D(channels, channels, k, padding=k // 2, rng=rng, dtype=dtype),
        )
        self.relu = ReLU()
        self.children = [("branch", self.branch)]

    def forward(self, x):
        """x shape (N, C, H, W) -> same shape."""
        x = self._check_input(x, self.channels)
        z = self.branch.forward(x)
        if self.shortcut:
            z = z + x
        return self.relu.forward(z)

    def backward(self, dout):
        dz = self.relu.backward(dout)
        dx = self.branch.backward(dz)
        return dx + dz if self.shortcut else dx  # the addition sends dz down both paths

    def output_shape(self, input_shape):
        return tuple(input_shape)

    @property
    def window(self):
        return self.branch.window  # the identity path (1x1) is never the larger one

    def __repr__(self):
        return f"ResidualBlock({self.channels}, kernel_size={self.kernel_size}, shortcut={self.shortcut})"


class DenseBlock(Block):
    """DenseNet's idea: each layer sees every earlier feature map, concatenated (lesson 10).

    Layer ``l`` (a 3x3 convolution + ReLU) takes ``in_channels + l * growth_rate`` channels, all
    earlier outputs stacked, and adds ``growth_rate`` new maps. The block returns them all:
    ``in_channels + num_layers * growth_rate`` channels. Backward, each concatenation splits its
    gradient back to the pieces, and a map used by several later layers sums their gradients.

    Parameters
    ----------
    in_channels, growth_rate, num_layers : int
    kernel_size : int, optional
        Odd, with "same" padding.
    rng : int, np.random.Generator or None, optional
    dtype : float32 or float64, optional

    Examples
    --------
    >>> block = DenseBlock(3, growth_rate=4, num_layers=2)
    >>> block.output_shape((3, 5, 5))                     # 3 + 2 * 4 channels
    (11, 5, 5)
    >>> block.num_params                                  # (3*9*4 + 4) + (7*9*4 + 4)
    368
    """

    def __init__(self, in_channels, growth_rate, num_layers, kernel_size=3, rng=None, dtype=np.float32):
        self.in_channels = as_int("in_channels", in_channels, minimum=1)
        self.growth_rate = as_int("growth_rate", growth_rate, minimum=1)
        self.num_layers = as_int("num_layers", num_layers, minimum=1)
        k = as_int("kernel_size", kernel_size, minimum=1)
        if k % 2 == 0:
            raise ValueError(f"kernel_size must be odd so the output keeps the input's size, got {k}")
        rng = make_rng(rng)
        self.kernel_size = k
        self.layers = [
            Chain(Conv2D(in_channels + i * growth_rate, growth_rate, k, padding=k // 2, rng=rng, dtype=dtype), ReLU())
            for i in range(self.num_layers)
        ]
        self.children = [(f"layer{i}", layer) for i, layer in enumerate(self.layers)]
        self.out_channels = in_channels + self.num_layers * growth_rate

    def channels_per_layer(self):
        """Channels going into each layer, then the block's output channels.

        >>> DenseBlock(3, growth_rate=4, num_layers=3).channels_per_layer()
        [3, 7, 11, 15]
        """
        return [self.in_channels + i * self.growth_rate for i in range(self.num_layers + 1)]

    def forward(self, x):
        """x shape (N, C, H, W) -> (N, C + num_layers * growth_rate, H, W)."""
        features = self._check_input(x, self.in_channels)
        for layer in self.layers:
            features = np.concatenate([features, layer.forward(features)], axis=1)
        return features

    def backward(self, dout):
        grad = np.array(dout, copy=True)  # gradient for every channel of the growing stack
        for i in reversed(range(self.num_layers)):
            start = self.in_channels + i * self.growth_rate
            # Layer i read channels [0, start) and wrote [start, start + growth_rate).
            grad[:, :start] += self.layers[i].backward(grad[:, start:start + self.growth_rate])
            grad = grad[:, :start]
        return grad

    def output_shape(self, input_shape):
        channels, height, width = input_shape
        return (self.out_channels, height, width)

    @property
    def window(self):
        # the longest path goes through every layer
        return _compose(layer.window for layer in self.layers)

    def __repr__(self):
        return f"DenseBlock({self.in_channels}, growth_rate={self.growth_rate}, num_layers={self.num_layers})"


# --------------------------------------------------------------------------------------------
# Fully convolutional nets: heat maps (detection) and masks (segmentation)
# --------------------------------------------------------------------------------------------


def fully_conv_net(in_channels=1, hidden=(8, 8, 8), out_channels=1, kernel_size=3, rng=0, dtype=np.float32):
    """A net of "same" convolutions only, so it outputs one score map per class (lesson 10).

    ``conv k x k (pad k // 2) - ReLU`` for each width in ``hidden``, then a 1x1 convolution to
    ``out_channels`` maps of the input's height and width. No pooling or dense layer: every
    output pixel is computed from the input patch around it (receptive field
    ``1 + len(hidden) * (k - 1)``), so the output is a map of *where* things are.

    Parameters
    ----------
    in_channels : int, optional
    hidden : sequence of int, optional
        Channels of each hidden convolution.
    out_channels : int, optional
        1 for a heat map, number of classes for a segmentation.
    kernel_size : int, optional
        Odd.
    rng : int, np.random.Generator or None, optional
    dtype : float32 or float64, optional

    Returns
    -------
    Sequential
        x shape (N, in_channels, H, W) -> (N, out_channels, H, W)

    Examples
    --------
    >>> net = fully_conv_net(1, hidden=(4, 4), out_channels=2)
    >>> net.forward(np.zeros((3, 1, 10, 12), dtype=np.float32)).shape
    (3, 2, 10, 12)
    >>> receptive_field(net)
    5
    """
    k = as_int("kernel_size", kernel_size, minimum=1)
    if k % 2 == 0:
        raise ValueError(f"kernel_size must be odd so the output keeps the input's size, got {k}")
    if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
        raise TypeError(f"hidden must be a sequence of channel counts, got {describe(hidden)}")
    rng = make_rng(rng)
    layers, channels = [], as_int("in_channels", in_channels, minimum=1)
    for i, width in enumerate(hidden):
        width = as_int(f"hidden[{i}]", width, minimum=1)
        layers += [Conv2D(channels, width, k, padding=k // 2, rng=rng, dtype=dtype), ReLU()]
        channels = width
    layers.append(Conv2D(channels, as_int("out_channels", out_channels, minimum=1), 1, rng=rng, dtype=dtype))
    return Sequential(*layers)


class PixelSoftmaxCrossEntropy:
    """Softmax cross-entropy for every pixel, averaged (segmentation, lesson 10).

    ``forward(logits, labels)`` with logits (N, K, H, W) and integer labels (N, H, W) treats
    each pixel as one example of :class:`~cnn_helpers.layers.SoftmaxCrossEntropy`;
    ``backward()`` returns d(loss)/d(logits) of shape (N, K, H, W).

    Examples
    --------
    >>> loss = PixelSoftmaxCrossEntropy()
    >>> round(loss.forward(np.zeros((1, 2, 2, 2)), np.zeros((1, 2, 2), dtype=int)), 4)   # log 2
    0.6931
    >>> loss.backward().shape
    (1, 2, 2, 2)
    """

    def __init__(self):
        self._loss = SoftmaxCrossEntropy()
        self._shape = None
        self.params, self.grads = {}, {}

    def forward(self, logits, labels):
        logits = as_array("logits", logits)
        if logits.ndim != 4:
            raise ValueError(f"logits must have shape (N, classes, H, W), got shape {logits.shape}")
        labels = np.asarray(labels)
        n, k, h, w = logits.shape
        if labels.shape != (n, h, w):
            raise ValueError(f"labels must have shape {(n, h, w)}, one class per pixel, got shape {labels.shape}")
        self._shape = logits.shape
        flat = logits.transpose(0, 2, 3, 1).reshape(-1, k)  # one row per pixel
        return self._loss.forward(flat, labels.reshape(-1).astype(np.int64))

    __call__ = forward

    def backward(self, dout=1.0):
        if self._shape is None:
            raise RuntimeError("PixelSoftmaxCrossEntropy.backward called before forward")
        n, k, h, w = self._shape
        return self._loss.backward(dout).reshape(n, h, w, k).transpose(0, 3, 1, 2)

    def __repr__(self):
        return "PixelSoftmaxCrossEntropy()"


def heatmap(scores):
    """Turn one score map per image into a probability map over pixels (softmax over pixels).

    Parameters
    ----------
    scores : array_like, shape (N, 1, H, W) or (N, H, W)

    Returns
    -------
    ndarray, shape (N, H, W)
        Non-negative, each image's map sums to 1.

    Examples
    --------
    >>> heatmap(np.zeros((1, 1, 2, 2)))
    array([[[0.25, 0.25],
            [0.25, 0.25]]])
    """
    scores = as_array("scores", scores)
    if scores.ndim == 4 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if scores.ndim != 3:
        raise ValueError(f"scores must have shape (N, 1, H, W) or (N, H, W), got shape {scores.shape}")
    n, h, w = scores.shape
    return softmax(scores.reshape(n, h * w), axis=1).reshape(n, h, w)


def locate(maps):
    """(row, col) of each map's largest value: detection as the argmax of a heat map.

    Parameters
    ----------
    maps : array_like, shape (N, H, W) or (N, 1, H, W)

    Returns
    -------
    ndarray of int64, shape (N, 2)

    Examples
    --------
    >>> locate(np.array([[[0, 1], [5, 2]]]))
    array([[1, 0]])
    """
    maps = as_array("maps", maps)
    if maps.ndim == 4 and maps.shape[1] == 1:
        maps = maps[:, 0]
    if maps.ndim != 3:
        raise ValueError(f"maps must have shape (N, H, W) or (N, 1, H, W), got shape {maps.shape}")
    n, h, w = maps.shape
    flat = maps.reshape(n, h * w).argmax(axis=1)
    return np.stack([flat // w, flat % w], axis=1).astype(np.int64)


def _masks(pred, target):
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {pred.shape} and {target.shape}")
    for name, mask in (("pred", pred), ("target", target)):
        if mask.dtype != bool and not (mask.dtype.kind in "iuf" and np.isin(mask, (0, 1)).all()):
            raise ValueError(f"{name} must be a mask of booleans or 0/1 values, got {describe(mask)}")
    return pred.astype(bool), target.astype(bool)


def iou(pred, target):
    """Intersection over union of two masks: |pred AND target| / |pred OR target| (lesson 10).

    1 when the masks agree exactly, 0 when they do not overlap. Two empty masks agree: 1.

    Parameters
    ----------
    pred, target : array_like of bool or 0/1, same shape (any)

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> iou([1, 1, 0, 0], [0, 1, 1, 0])       # 1 pixel in both, 3 in either
    0.3333333333333333
    """
    pred, target = _masks(pred, target)
    union = np.count_nonzero(pred | target)
    return 1.0 if union == 0 else float(np.count_nonzero(pred & target) / union)


def pixel_accuracy(pred, target):
    """Fraction of pixels where two masks agree.

    >>> pixel_accuracy([1, 1, 0, 0], [0, 1, 1, 0])
    0.5
    """
    pred, target = _masks(pred, target)
    if pred.size == 0:
        raise ValueError("pixel accuracy of empty masks is undefined")
    return float(np.mean(pred == target))
