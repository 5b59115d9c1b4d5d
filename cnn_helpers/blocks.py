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

from cnn_helpers._validation import as_array, as_int
from cnn_helpers.layers import Conv2D, Layer, MaxPool2D, ReLU, compose_windows, make_rng
from cnn_helpers.model import Sequential
from cnn_helpers.receptive_field import inception_params

__all__ = ["Block", "MaxPoolSame", "VGGBlock", "InceptionBlock", "ResidualBlock", "DenseBlock"]


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
        return dpadded[:, :, p:dpadded.shape[2] - p, p:dpadded.shape[3] - p]

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
        super().__init__()
        self.in_channels = as_int("in_channels", in_channels, minimum=1)
        rng = make_rng(rng)
        self.widths = {"b1": b1, "b3": b3, "b5": b5, "pool_proj": pool_proj,
                       "b3_reduce": b3_reduce, "b5_reduce": b5_reduce}
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
        super().__init__()
        self.channels = as_int("channels", channels, minimum=1)
        k = as_int("kernel_size", kernel_size, minimum=1)
        if k % 2 == 0:
            raise ValueError(f"kernel_size must be odd so the output keeps the input's size, got {k}")
        rng = make_rng(rng)
        self.kernel_size, self.shortcut = k, bool(shortcut)
        self.branch = Sequential(
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
            Sequential(Conv2D(in_channels + i * growth_rate, growth_rate, k, padding=k // 2, rng=rng, dtype=dtype), ReLU())
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
        return compose_windows(layer.window for layer in self.layers)

    def __repr__(self):
        return f"DenseBlock({self.in_channels}, growth_rate={self.growth_rate}, num_layers={self.num_layers})"
