"""A model as a list of layers, run in order forward and in reverse backward (lesson 08).

:class:`Sequential` chains layers (it is the package's only chain: blocks use it too);
:func:`small_cnn` builds the course's classifier, for 8x8 digits by default::

    Conv2D(1 -> 32, 3x3, pad 1) - ReLU - MaxPool 2   (1, 8, 8)   -> (32, 4, 4)
    Conv2D(32 -> 64, 3x3, pad 1) - ReLU - MaxPool 2  (32, 4, 4)  -> (64, 2, 2)
    Flatten - Dense(256 -> 10)                        (64, 2, 2)  -> (10,) class scores
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cnn_helpers._validation import as_array, as_int, describe
from cnn_helpers.layers import Conv2D, Dense, Flatten, Layer, MaxPool2D, ReLU, compose_windows, make_rng

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike

__all__ = ["Sequential", "small_cnn"]


class Sequential(Layer):
    """Layers applied one after the other (lessons 06, 08, 09, 10).

    Parameters
    ----------
    *layers : layers
        Each with ``forward``, ``backward``, ``params`` and ``grads``. A single list also works.

    Attributes
    ----------
    layers : list
        The layers, in order.

    Notes
    -----
    Forward feeds each layer's output to the next. Backward is the chain rule: the loss's
    gradient goes through the layers in reverse, each turning d(its output) into d(its input)
    and filling its own ``grads`` on the way.

    Examples
    --------
    >>> model = Sequential(Flatten(), Dense(4, 3), ReLU(), Dense(3, 2))
    >>> model.forward(np.ones((5, 1, 2, 2), dtype=np.float32)).shape
    (5, 2)
    >>> model.num_params                                     # (4*3 + 3) + (3*2 + 2)
    23
    >>> sorted(model.params)
    ['1.W', '1.b', '3.W', '3.b']
    >>> Sequential(Conv2D(1, 2, 3), ReLU(), MaxPool2D(2)).window     # one 3x3 conv, then 2x2 pool
    ((4, 4), (2, 2))
    """

    def __init__(self, *layers: Layer) -> None:
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer) and not all(
                hasattr(layer, a) for a in ("forward", "backward", "params", "grads")
            ):
                raise TypeError(
                    f"layers[{i}] must be a layer with forward, backward, params and grads, got {describe(layer)}"
                )
        self.layers = list(layers)

    @property
    def children(self) -> list[tuple[str, Layer]]:
        """``(str(index), layer)`` for every layer, in order."""
        return [(str(i), layer) for i, layer in enumerate(self.layers)]

    def forward(self, x: ArrayLike) -> np.ndarray:
        """Run every layer in order: x shape (N, ...) -> the last layer's output."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, dout: ArrayLike) -> np.ndarray | None:
        """Chain rule in reverse: d(loss)/d(output) -> d(loss)/d(input), filling every ``grads``.

        Returns None when the first layer skips its input gradient (``needs_input_grad=False``).
        """
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    # params ("0.W", ...), grads, parameters() and num_params come from Layer, through children.

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one example's output: every layer's ``output_shape`` in turn."""
        shape = tuple(input_shape)
        for i, layer in enumerate(self.layers):
            shape = self._one_shape(i, layer, shape)
        return shape

    @property
    def window(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """The windows of the layers composed: field and total stride of the whole chain."""
        return compose_windows(layer.window for layer in self.layers)

    def feature_maps(self, x: ArrayLike) -> list[np.ndarray]:
        """Every layer's output for the batch ``x``, in order (lesson 08's look inside a CNN).

        Parameters
        ----------
        x : array_like, shape (N, ...)

        Returns
        -------
        list of ndarray
            ``len(self)`` arrays: the output of ``layers[0]``, then of ``layers[1]``, ...; the
            last is the model's output.

        Examples
        --------
        >>> maps = small_cnn(channels=(8, 16)).feature_maps(np.zeros((2, 1, 8, 8), dtype=np.float32))
        >>> [out.shape for out in maps][:3], maps[-1].shape
        ([(2, 8, 8, 8), (2, 8, 8, 8), (2, 8, 4, 4)], (2, 10))
        """
        outputs = []
        for layer in self.layers:
            x = layer.forward(x)
            outputs.append(x)
        return outputs

    def predict_logits(self, x: ArrayLike, batch_size: int = 256) -> np.ndarray:
        """Class scores for many examples, a batch at a time to bound memory.

        Parameters
        ----------
        x : array_like, shape (N, ...)
        batch_size : int, optional

        Returns
        -------
        ndarray, shape (N, K)
        """
        x = as_array("x", x)
        batch_size = as_int("batch_size", batch_size, minimum=1)
        if x.ndim < 1 or len(x) == 0:
            raise ValueError(f"x must hold at least one example, got shape {x.shape}")
        scores = np.concatenate([self.forward(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
        self.clear_caches()  # inference keeps nothing for a backward pass
        return scores

    def predict(self, x: ArrayLike, batch_size: int = 256) -> np.ndarray:
        """Predicted class of each example: the index of its largest score.

        Parameters
        ----------
        x : array_like, shape (N, ...)
        batch_size : int, optional

        Returns
        -------
        ndarray of int, shape (N,)

        Examples
        --------
        >>> model = Sequential(Dense(2, 2))
        >>> model.layers[0].params["W"][...] = np.eye(2)
        >>> model.predict(np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 5.0]]))
        array([0, 1, 1])
        """
        return self.predict_logits(x, batch_size).argmax(axis=1)

    def summary(self, input_shape: tuple[int, ...]) -> str:
        """A table of every layer's output shape and parameter count.

        Parameters
        ----------
        input_shape : tuple of int
            Shape of one example, without the batch axis, e.g. ``(1, 8, 8)``.

        Returns
        -------
        str

        Examples
        --------
        >>> print(Sequential(Flatten(), Dense(4, 3)).summary((1, 2, 2)))
        layer        output shape  parameters
        -----------  ------------  ----------
        input        (1, 2, 2)              0
        Flatten()    (4,)                   0
        Dense(4, 3)  (3,)                  15
        -----------  ------------  ----------
        total                              15
        """
        shape = tuple(as_int("input_shape entry", s, minimum=1) for s in input_shape)
        rows = [("input", str(shape), "0")]
        for i, layer in enumerate(self.layers):
            shape = self._one_shape(i, layer, shape)
            count = sum(array.size for array in layer.params.values())
            rows.append((repr(layer), str(shape), f"{count:,}"))
        header = ("layer", "output shape", "parameters")
        total = ("total", "", f"{self.num_params:,}")
        widths = [max(len(row[k]) for row in rows + [header, total]) for k in range(3)]
        rule = "  ".join("-" * w for w in widths)

        def line(row):
            return f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2].rjust(widths[2])}".rstrip()

        return "\n".join([line(header), rule] + [line(row) for row in rows] + [rule, line(total)])

    @staticmethod
    def _one_shape(i, layer, shape):
        try:
            return tuple(layer.output_shape(shape))
        except ValueError as error:
            raise ValueError(f"layers[{i}] {layer!r} cannot take input of shape {shape}: {error}") from None

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, index):
        return self.layers[index]

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        # a nested Sequential is indented one step further
        inner = "".join(
            f"\n  ({i}): " + repr(layer).replace("\n", "\n  ") for i, layer in enumerate(self.layers)
        )
        return f"Sequential({inner}\n)" if self.layers else "Sequential()"


def small_cnn(
    input_shape: tuple[int, int, int] = (1, 8, 8),
    channels: tuple[int, ...] = (32, 64),
    num_classes: int = 10,
    *,
    seed: int = 0,
    dtype: DTypeLike = np.float32,
) -> Sequential:
    """The course's small CNN: two convolution stages, then one Dense layer (lesson 08).

    ``conv 3x3 (pad 1) - ReLU - max pool 2`` for each entry of ``channels``, then
    ``Flatten - Dense`` to ``num_classes`` scores. The Dense layer's input size comes from the
    layers' ``output_shape``, so any ``input_shape`` of at least 4x4 works. The first
    convolution skips its input gradient (``needs_input_grad=False``): nothing uses it.

    The networks the lessons use (parameter counts in the examples below):

    - the 8x8 digits: ``small_cnn()`` (the benchmark's 8x8 epoch);
    - lesson 09, digits on a 14x14 canvas: its ``make_cnn`` has the layers of
      ``small_cnn(input_shape=(1, 14, 14), channels=(8, 16))``;
    - lesson 08's capstone, 28x28 digits: ``small_cnn(input_shape=(1, 28, 28), channels=(16, 32),
      num_classes=128)`` followed by ``ReLU`` and ``Dense(128, 10)`` (its ``capstone_cnn``).

    Parameters
    ----------
    input_shape : (C, H, W), optional
        Shape of one input example.
    channels : (int, int), optional
        Filters in the two convolution layers.
    num_classes : int, optional
    seed : int or np.random.Generator, optional
        Seed for the initial weights.
    dtype : float32 or float64, optional

    Returns
    -------
    Sequential

    Examples
    --------
    >>> model = small_cnn()
    >>> model.forward(np.zeros((3, 1, 8, 8), dtype=np.float32)).shape
    (3, 10)
    >>> model.num_params                     # (32*9 + 32) + (64*32*9 + 64) + (64*2*2*10 + 10)
    21386
    >>> small_cnn(channels=(16, 32)).num_params          # 8x8 digits, fewer channels
    6090
    >>> small_cnn(input_shape=(1, 14, 14), channels=(8, 16)).layers[-1]   # lesson 09: 16 maps of 3x3
    Dense(144, 10)
    >>> capstone = small_cnn(input_shape=(1, 28, 28), channels=(16, 32))
    >>> capstone.layers[-1], capstone.num_params   # 10 classes straight away: (16*9 + 16) + (32*16*9 + 32) + (32*7*7*10 + 10)
    (Dense(1568, 10), 20490)
    """
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(
            f"input_shape must be the shape of one example (C, H, W), got {describe(input_shape)}"
        )
    in_channels, height, width = (
        as_int(f"input_shape[{i}]", s, minimum=1) for i, s in enumerate(input_shape)
    )
    if min(height, width) < 4:
        raise ValueError(
            f"input_shape must be at least 4x4 to survive two 2x2 poolings, got {tuple(input_shape)}"
        )
    if not isinstance(channels, (tuple, list)) or len(channels) != 2:
        raise ValueError(f"channels must be a pair (c1, c2), got {describe(channels)}")
    c1 = as_int("channels[0]", channels[0], minimum=1)
    c2 = as_int("channels[1]", channels[1], minimum=1)
    num_classes = as_int("num_classes", num_classes, minimum=2)
    rng = make_rng(seed)
    features = Sequential(
        Conv2D(in_channels, c1, 3, padding=1, rng=rng, dtype=dtype),
        ReLU(),
        MaxPool2D(2),
        Conv2D(c1, c2, 3, padding=1, rng=rng, dtype=dtype),
        ReLU(),
        MaxPool2D(2),
        Flatten(),
    )
    (flat,) = features.output_shape((in_channels, height, width))
    model = Sequential(*features.layers, Dense(flat, num_classes, rng=rng, dtype=dtype))
    model.layers[0].needs_input_grad = False
    return model
