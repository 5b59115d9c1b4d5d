"""Famous CNN building blocks, made from the course's own layers (lesson 10).

Each block is a :class:`~cnn_helpers.layers.Layer`: ``forward(x)``, ``backward(dout)``,
``params`` and ``grads`` (gathered from its ``children``, keyed e.g. ``"branch3.0.W"``),
``parameters()``, ``num_params``, ``output_shape(input_shape)`` and ``window``. So blocks go
inside a :class:`~cnn_helpers.model.Sequential` and train with the course's optimisers.

- :class:`VGGBlock`: a stack of 3x3 convolutions (each with ReLU), then 2x2 max pooling.
- :class:`InceptionBlock`: parallel 1x1, 3x3, 5x5 and pooling branches, concatenated along
  channels; optional 1x1 "bottleneck" convolutions before the 3x3 and 5x5.
- :class:`ResidualBlock`: ``relu(x + F(x))``; the identity path carries the gradient unchanged.
- :class:`DenseBlock`: every layer sees the concatenation of all earlier feature maps.
- :class:`MaxPoolSame`: stride-1 max pooling that keeps the map's size (Inception's pool branch).

A block's ``params`` dict is rebuilt from the inner layers on every access and holds the inner
layers' own arrays; optimisers read the leaf layers through ``parameters()`` instead.
"""

from __future__ import annotations

import numpy as np

from cnn_helpers import conv
from cnn_helpers._validation import as_array, as_int
from cnn_helpers.layers import (
    _WHOLE_INPUT,
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Layer,
    MaxPool2D,
    ReLU,
    compose_windows,
    make_rng,
)
from cnn_helpers.model import Sequential
from cnn_helpers.receptive_field import inception_params

__all__ = [
    "Block",
    "MaxPoolSame",
    "VGGBlock",
    "InceptionBlock",
    "ResidualBlock",
    "DenseBlock",
    "TransitionLayer",
    "GlobalAvgPool",
    "gap_head",
    "residual_block",
    "residual_block_backward",
]


class Block(Layer):
    """What the branching blocks share: an input check. The rest is the :class:`Layer` protocol.

    Subclasses set ``self.children`` to a list of ``(name, layer)`` and define ``forward``,
    ``backward``, ``output_shape`` and ``window``.
    """

    def __init__(self):
        super().__init__()
        self.children = []

    def _check_input(self, x, channels):
        x = as_array("x", x)
        if x.ndim != 4 or x.shape[1] != channels:
            raise ValueError(
                f"{type(self).__name__} expects x of shape (N, {channels}, H, W), got shape {x.shape}"
            )
        return x


class MaxPoolSame(Layer):
    """Max pooling with stride 1 that keeps the map's size (the Inception pooling branch).

    The border is padded with a value below every input, so it is never the maximum.

    Examples
    --------
    >>> MaxPoolSame(3).forward(np.array([[[[1.0, 5.0, 2.0]]]]))
    array([[[[5., 5., 5.]]]])
    >>> MaxPoolSame(3).window
    ((3, 3), (1, 1))
    """

    def __init__(self, size=3):
        super().__init__()
        self.size = as_int("size", size, minimum=1)
        if self.size % 2 == 0:
            raise ValueError(f"size must be odd so the output keeps the input's size, got {self.size}")
        self._pool = MaxPool2D(self.size, stride=1)

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
        return dpadded[:, :, p : dpadded.shape[2] - p, p : dpadded.shape[3] - p]

    @property
    def window(self):
        return (self.size, self.size), (1, 1)

    def __repr__(self):
        return f"MaxPoolSame({self.size})"


class VGGBlock(Sequential):
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
    >>> block.window                           # field 1 + 2 + 2 + 1, stride 2 from the pool
    ((6, 6), (2, 2))
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
        self.in_channels, self.out_channels, self.num_convs, self.pool = (
            in_channels,
            out_channels,
            num_convs,
            pool,
        )

    def __repr__(self):
        return (
            f"VGGBlock({self.in_channels}, {self.out_channels}, num_convs={self.num_convs}, pool={self.pool})"
        )


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

    def __init__(
        self, in_channels, b1, b3, b5, pool_proj=0, b3_reduce=None, b5_reduce=None, rng=None, dtype=np.float32
    ):
        super().__init__()
        self.in_channels = as_int("in_channels", in_channels, minimum=1)
        rng = make_rng(rng)
        self.widths = {
            "b1": b1,
            "b3": b3,
            "b5": b5,
            "pool_proj": pool_proj,
            "b3_reduce": b3_reduce,
            "b5_reduce": b5_reduce,
        }
        inception_params(in_channels, b1, b3, b5, pool_proj, b3_reduce, b5_reduce)  # validates the widths

        def conv(c_in, c_out, k):
            return [Conv2D(c_in, c_out, k, padding=k // 2, rng=rng, dtype=dtype), ReLU()]

        def reduced(width, reduce, k):
            if reduce is None:
                return Sequential(*conv(in_channels, width, k))
            return Sequential(*conv(in_channels, reduce, 1), *conv(reduce, width, k))

        self.children = [
            ("branch1", Sequential(*conv(in_channels, b1, 1))),
            ("branch3", reduced(b3, b3_reduce, 3)),
            ("branch5", reduced(b5, b5_reduce, 5)),
        ]
        if pool_proj:
            self.children.append(("pool", Sequential(MaxPoolSame(3), *conv(in_channels, pool_proj, 1))))
        self.split = [b1, b3, b5] + ([pool_proj] if pool_proj else [])
        self.out_channels = sum(self.split)

    def forward(self, x):
        """x shape (N, C, H, W) -> (N, b1 + b3 + b5 + pool_proj, H, W)."""
        x = self._check_input(x, self.in_channels)
        return np.concatenate([branch.forward(x) for _, branch in self.children], axis=1)

    def backward(self, dout):
        """Split ``dout`` by channels, one piece per branch; every branch's ``dx`` adds up."""
        pieces = np.split(dout, np.cumsum(self.split)[:-1], axis=1)
        return sum(branch.backward(piece) for (_, branch), piece in zip(self.children, pieces, strict=True))

    def output_shape(self, input_shape):
        _, height, width = input_shape
        return (self.out_channels, height, width)

    @property
    def window(self):
        fields = [branch.window for _, branch in self.children]
        return max(f[0] for f in fields), (1, 1)

    def __repr__(self):
        shown = ", ".join(f"{k}={v}" for k, v in self.widths.items() if v)
        return f"InceptionBlock({self.in_channels}, {shown})"


class ResidualBlock(Block):
    """ResNet's idea: ``out = relu(shortcut(x) + F(x))``, with ``F`` = conv - ReLU - conv (lesson 10).

    The block only has to learn the change ``F(x)`` to its input. Backward, the addition copies
    the gradient to both paths, so ``dx = dz + F's backward(dz)`` with ``dz`` the gradient after
    the final ReLU: the identity path carries the gradient past ``F`` unchanged.

    Where the block changes the shape (``out_channels`` differs from ``channels``, or
    ``stride`` > 1) ``x`` cannot be added as it is: a **projection shortcut**, a 1x1 convolution
    with that stride, maps it to the output's shape (He et al., 2015, option B).

    ``F`` starts small: its last convolution's He-initialised weights are multiplied by
    ``branch_scale`` (0.1 by default), so a new block is close to ``relu(x)`` and a deep stack of
    them starts close to the identity, and gradients reach the first block at about the size
    they have at the top. With ``batch_norm=True`` every convolution is followed by a
    :class:`~cnn_helpers.layers.BatchNorm2D`, and ``branch_scale`` is the starting ``gamma`` of
    the branch's last one (the original ResNet starts it at 1; 0 is a later refinement, Goyal et
    al., 2017).

    Parameters
    ----------
    channels : int
        Input channels.
    kernel_size : int, optional
        Odd, with "same" padding.
    shortcut : bool, optional
        False gives the same block without the shortcut path (a "plain" block), for comparison.
    rng : int, np.random.Generator or None, optional
    dtype : float32 or float64, optional
    out_channels : int, optional
        Output channels (default: ``channels``).
    stride : int, optional
        Stride of the branch's first convolution (and of the projection).
    branch_scale : float, optional
    batch_norm : bool, optional

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
    >>> down = ResidualBlock(2, out_channels=4, stride=2)   # + a 1x1 projection, 2*4 + 4
    >>> down.output_shape((2, 8, 8)), down.num_params     # (2*9*4 + 4) + (4*9*4 + 4) + 12
    ((4, 4, 4), 236)
    """

    def __init__(
        self,
        channels,
        kernel_size=3,
        shortcut=True,
        rng=None,
        dtype=np.float32,
        *,
        out_channels=None,
        stride=1,
        branch_scale=0.1,
        batch_norm=False,
    ):
        super().__init__()
        self.channels = as_int("channels", channels, minimum=1)
        self.out_channels = (
            self.channels if out_channels is None else as_int("out_channels", out_channels, minimum=1)
        )
        self.stride = as_int("stride", stride, minimum=1)
        k = as_int("kernel_size", kernel_size, minimum=1)
        if k % 2 == 0:
            raise ValueError(f"kernel_size must be odd so the output keeps the input's size, got {k}")
        rng = make_rng(rng)
        self.kernel_size, self.shortcut, self.batch_norm = k, bool(shortcut), bool(batch_norm)
        self.branch_scale = float(branch_scale)
        c_in, c_out = self.channels, self.out_channels

        def norm(gamma_init=1.0):
            return [BatchNorm2D(c_out, gamma_init=gamma_init, dtype=dtype)] if self.batch_norm else []

        first = Conv2D(c_in, c_out, k, stride=self.stride, padding=k // 2, rng=rng, dtype=dtype)
        last = Conv2D(c_out, c_out, k, padding=k // 2, rng=rng, dtype=dtype)
        if self.batch_norm:
            layers = [first, *norm(), ReLU(), last, *norm(self.branch_scale)]
        else:
            last.params["W"] *= np.asarray(self.branch_scale, dtype=last.params["W"].dtype)
            layers = [first, ReLU(), last]
        self.branch = Sequential(*layers)
        self.relu = ReLU()
        self.children = [("branch", self.branch)]
        self.projection = None
        if self.shortcut and (c_out != c_in or self.stride != 1):
            self.projection = Sequential(
                Conv2D(c_in, c_out, 1, stride=self.stride, rng=rng, dtype=dtype), *norm()
            )
            self.children.append(("projection", self.projection))

    def forward(self, x):
        """x shape (N, C, H, W) -> (N, out_channels, OH, OW); OH = H for stride 1."""
        x = self._check_input(x, self.channels)
        z = self.branch.forward(x)
        if self.shortcut:
            z = z + (x if self.projection is None else self.projection.forward(x))
        return self.relu.forward(z)

    def backward(self, dout):
        dz = self.relu.backward(dout)
        dx = self.branch.backward(dz)
        if not self.shortcut:
            return dx
        # the addition sends dz down both paths
        return dx + (dz if self.projection is None else self.projection.backward(dz))

    def output_shape(self, input_shape):
        return self.branch.output_shape(tuple(input_shape))

    @property
    def window(self):
        return self.branch.window  # the shortcut (1x1) is never the larger one

    def __repr__(self):
        extra = ""
        if self.out_channels != self.channels:
            extra += f", out_channels={self.out_channels}"
        if self.stride != 1:
            extra += f", stride={self.stride}"
        if self.batch_norm:
            extra += ", batch_norm=True"
        return (
            f"ResidualBlock({self.channels}, kernel_size={self.kernel_size}, shortcut={self.shortcut}{extra})"
        )


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
        super().__init__()
        self.in_channels = as_int("in_channels", in_channels, minimum=1)
        self.growth_rate = as_int("growth_rate", growth_rate, minimum=1)
        self.num_layers = as_int("num_layers", num_layers, minimum=1)
        k = as_int("kernel_size", kernel_size, minimum=1)
        if k % 2 == 0:
            raise ValueError(f"kernel_size must be odd so the output keeps the input's size, got {k}")
        rng = make_rng(rng)
        self.kernel_size = k
        self.layers = [
            Sequential(
                Conv2D(in_channels + i * growth_rate, growth_rate, k, padding=k // 2, rng=rng, dtype=dtype),
                ReLU(),
            )
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
            grad[:, :start] += self.layers[i].backward(grad[:, start : start + self.growth_rate])
            grad = grad[:, :start]
        return grad

    def output_shape(self, input_shape):
        _, height, width = input_shape
        return (self.out_channels, height, width)

    @property
    def window(self):
        # the longest path goes through every layer
        return compose_windows(layer.window for layer in self.layers)

    def __repr__(self):
        return f"DenseBlock({self.in_channels}, growth_rate={self.growth_rate}, num_layers={self.num_layers})"


# --------------------------------------------------------------------------------------------
# DenseNet's transition layer and the global-average-pooling head (lesson 10)


class TransitionLayer(Sequential):
    """DenseNet's transition: a 1x1 convolution (+ ReLU) to fewer channels, then 2x2 average pooling.

    A dense block's output has ``C + L * k`` channels; without a transition the next block would
    start from all of them, and the channels would keep growing. The 1x1 convolution cuts them
    (DenseNet-BC halves them, ``compression=0.5``) and the pooling halves height and width.
    Parameters: ``in_channels * out_channels + out_channels``.

    Parameters
    ----------
    in_channels : int
    out_channels : int, optional
        Default ``floor(compression * in_channels)``.
    compression : float, optional
    rng : int, np.random.Generator or None, optional
    dtype : float32 or float64, optional

    Examples
    --------
    >>> t = TransitionLayer(24)                         # 24 -> 12 channels, 8x8 -> 4x4
    >>> t.output_shape((24, 8, 8)), t.num_params        # 24 * 12 + 12
    ((12, 4, 4), 300)
    """

    def __init__(self, in_channels, out_channels=None, compression=0.5, rng=None, dtype=np.float32):
        in_channels = as_int("in_channels", in_channels, minimum=1)
        if out_channels is None:
            if not 0.0 < compression <= 1.0:
                raise ValueError(f"compression must be in (0, 1], got {compression!r}")
            out_channels = max(1, int(compression * in_channels))
        out_channels = as_int("out_channels", out_channels, minimum=1)
        super().__init__(
            Conv2D(in_channels, out_channels, 1, rng=make_rng(rng), dtype=dtype), ReLU(), AvgPool2D(2)
        )
        self.in_channels, self.out_channels = in_channels, out_channels

    def __repr__(self):
        return f"TransitionLayer({self.in_channels}, {self.out_channels})"


class GlobalAvgPool(Layer):
    """Global average pooling: each channel's map becomes its mean, (N, C, H, W) -> (N, C).

    How GoogLeNet, ResNet and DenseNet end: one number per channel, whatever the map's size,
    then one :class:`~cnn_helpers.layers.Dense` layer of ``C * classes + classes`` parameters,
    instead of flattening ``C * H * W`` numbers into the dense layer. Backward spreads each
    gradient evenly over its ``H * W`` pixels.

    Examples
    --------
    >>> GlobalAvgPool().forward(np.arange(8.0).reshape(1, 2, 2, 2))
    array([[1.5, 5.5]])
    >>> GlobalAvgPool().output_shape((16, 7, 7))
    (16,)
    """

    def __init__(self):
        super().__init__()
        self._in_shape = None

    def forward(self, x):
        x = self._input(x, 4, "(N, C, H, W)")
        self._in_shape = x.shape
        return self._remember_output(x.mean(axis=(2, 3)))

    def backward(self, dout):
        dout = self._dout(dout)
        *_, h, w = self._in_shape
        return np.broadcast_to(dout[:, :, None, None] / (h * w), self._in_shape).copy()

    def output_shape(self, input_shape):
        channels, _, _ = (int(v) for v in input_shape)
        return (channels,)

    @property
    def window(self):
        raise ValueError(_WHOLE_INPUT.format(layer=self))


def gap_head(channels, num_classes, rng=None, dtype=np.float32):
    """Global average pooling then one Dense layer: ``(N, channels, H, W) -> (N, num_classes)``.

    >>> head = gap_head(16, 10)
    >>> head.num_params, head.output_shape((16, 7, 7))    # 16 * 10 + 10, the same for any H, W
    (170, (10,))
    """
    return Sequential(GlobalAvgPool(), Dense(channels, num_classes, rng=rng, dtype=dtype))


# --------------------------------------------------------------------------------------------
# A residual block as two functions, forward and backward (lesson 10, the exercise's reference)


def _residual_inputs(x, w1, b1, w2, b2):
    x, w1, w2 = as_array("x", x), as_array("w1", w1), as_array("w2", w2)
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got shape {x.shape}")
    c = x.shape[1]
    for name, w in (("w1", w1), ("w2", w2)):
        if w.ndim != 4 or w.shape[:2] != (c, c) or w.shape[2] != w.shape[3] or w.shape[2] % 2 == 0:
            raise ValueError(
                f"{name} must have shape (C, C, k, k) with C = {c} and k odd, got shape {w.shape}"
            )
    return x, w1, as_array("b1", b1), w2, as_array("b2", b2)


def residual_block(x, w1, b1, w2, b2):
    """``relu(x + conv(relu(conv(x, w1, b1)), w2, b2))``, "same" padding.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w1, w2 : ndarray, shape (C, C, k, k), k odd
    b1, b2 : ndarray, shape (C,)

    Returns
    -------
    ndarray, shape (N, C, H, W)

    Examples
    --------
    >>> x = np.array([-1.0, 2.0]).reshape(1, 1, 1, 2)
    >>> zero = np.zeros((1, 1, 1, 1))
    >>> residual_block(x, zero, np.zeros(1), zero, np.zeros(1))     # F = 0: relu(x)
    array([[[[0., 2.]]]])
    """
    x, w1, b1, w2, b2 = _residual_inputs(x, w1, b1, w2, b2)
    p = w1.shape[2] // 2
    a = np.maximum(conv.conv2d(x, w1, b1, padding=p), 0)
    return np.maximum(x + conv.conv2d(a, w2, b2, padding=w2.shape[2] // 2), 0)


def residual_block_backward(dout, x, w1, b1, w2, b2):
    """Gradients of :func:`residual_block`: ``(dx, dw1, db1, dw2, db2)``.

    With ``h = conv(x, w1, b1)``, ``a = relu(h)``, ``z = x + conv(a, w2, b2)`` and ``out = relu(z)``:
    ``dz = dout * (z > 0)``; the addition sends ``dz`` both ways, so ``dx = dz + (the branch's dx)``.

    Examples
    --------
    >>> x = np.array([-1.0, 2.0]).reshape(1, 1, 1, 2)
    >>> zero = np.zeros((1, 1, 1, 1))
    >>> residual_block_backward(np.ones((1, 1, 1, 2)), x, zero, np.zeros(1), zero, np.zeros(1))[0]
    array([[[[0., 1.]]]])
    """
    x, w1, b1, w2, b2 = _residual_inputs(x, w1, b1, w2, b2)
    p1, p2 = w1.shape[2] // 2, w2.shape[2] // 2
    h = conv.conv2d(x, w1, b1, padding=p1)
    a = np.maximum(h, 0)
    z = x + conv.conv2d(a, w2, b2, padding=p2)
    dz = as_array("dout", dout) * (z > 0)
    da, dw2, db2 = conv.conv2d_backward(dz, a, w2, b2, padding=p2)
    dx_branch, dw1, db1 = conv.conv2d_backward(da * (h > 0), x, w1, b1, padding=p1)
    return dz + dx_branch, dw1, db1, dw2, db2
