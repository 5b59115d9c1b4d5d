"""Layers of a trainable CNN (lessons 07-08), each a forward pass with its backward pass.

Every layer has

- ``forward(x)``: computes the output and remembers what the backward pass will need;
- ``backward(dout)``: takes ``dout = dL/d(output)``, fills ``grads`` (same keys as ``params``)
  and returns ``dL/d(input)``;
- ``params`` and ``grads``: dicts of arrays. Optimisers update ``params`` arrays in place, so
  never rebind them (``layer.params["W"] = ...`` would cut the optimiser off);
- ``output_shape(input_shape)`` for the shape of one example, and ``num_params``.

Layers with weights use He initialisation, ``normal(0, sqrt(2 / fan_in))``, which keeps the
size of activations about the same from layer to layer when followed by ReLU. ``rng`` may be an
int seed, a ``np.random.Generator`` or None (seed 0), so results are reproducible. Parameters
are float32 by default (training speed); pass ``dtype=np.float64`` for gradient checks.

The math of convolution and pooling lives in :mod:`cnn_helpers.conv` and
:mod:`cnn_helpers.pooling`; the layers keep state around those functions.
"""

from __future__ import annotations

import numpy as np

from cnn_helpers import conv, pooling
from cnn_helpers._validation import as_array, as_int, as_pair, describe

__all__ = [
    "Layer",
    "Conv2D",
    "MaxPool2D",
    "AvgPool2D",
    "ReLU",
    "Flatten",
    "Dense",
    "SoftmaxCrossEntropy",
    "softmax",
    "make_rng",
]


def make_rng(rng=None):
    """A ``np.random.Generator`` from a seed, a generator, or None (seed 0, reproducible).

    >>> int(make_rng(3).integers(10)) == int(np.random.default_rng(3).integers(10))
    True
    """
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be an int seed, a np.random.Generator or None, got {describe(rng)}")


def _float_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def _he_normal(rng, shape, fan_in, dtype):
    # Draw in float64 and cast, so float32 and float64 layers with one seed hold the same numbers.
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def _pair_text(pair):
    return str(pair[0]) if pair[0] == pair[1] else str(pair)


class Layer:
    """What all layers share: empty ``params``/``grads``, shape checks and the saved input."""

    def __init__(self):
        self.params = {}
        self.grads = {}
        self._out_shape = None  # shape of the last forward output, to check dout against

    def __call__(self, x):
        return self.forward(x)

    def parameters(self):
        """``(layer, name, array)`` for each parameter (what optimisers iterate over)."""
        return [(self, name, array) for name, array in self.params.items()]

    @property
    def num_params(self):
        """Total number of trainable numbers."""
        return int(sum(array.size for array in self.params.values()))

    def output_shape(self, input_shape):
        """Shape of one example's output given one example's input shape (no batch axis)."""
        return tuple(input_shape)

    def _input(self, x, ndim, layout):
        """``x`` as a numeric array with ``ndim`` axes, or an error naming the layer's layout."""
        x = as_array("x", x)
        if x.ndim != ndim:
            raise ValueError(
                f"{type(self).__name__} expects x of shape {layout} ({ndim}-D), "
                f"got shape {x.shape} ({x.ndim}-D)"
            )
        return x

    def _remember_output(self, out):
        self._out_shape = out.shape
        return out

    def _dout(self, dout):
        """Check ``dout`` against the last forward output; complain if there was no forward."""
        if self._out_shape is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward: run forward(x) first")
        dout = as_array("dout", dout)
        if dout.shape != self._out_shape:
            raise ValueError(
                f"dout must have the shape of {type(self).__name__}'s last forward output, "
                f"{self._out_shape}, got shape {dout.shape}"
            )
        return dout

    def __repr__(self):
        return f"{type(self).__name__}()"


class Conv2D(Layer):
    """A convolution layer: ``F`` learned filters slid over the input (lessons 05, 07, 08).

    Parameters
    ----------
    in_channels : int
        ``C``, channels of the input.
    out_channels : int
        ``F``, number of filters, so channels of the output.
    kernel_size : int or (int, int)
        ``(KH, KW)``.
    stride : int or (int, int), optional
    padding : int or (int, int), optional
    rng : int, np.random.Generator or None, optional
        Source of the initial weights (None means seed 0).
    dtype : float32 or float64, optional

    Attributes
    ----------
    params : dict
        ``"W"`` shape (F, C, KH, KW), He-initialised; ``"b"`` shape (F,), zeros.
    needs_input_grad : bool
        Set to False on a network's first layer: ``backward`` then skips ``dx`` (returns None),
        which nothing would use.

    Notes
    -----
    Forward is ``conv2d``: out shape (N, F, OH, OW), ``OH = floor((H + 2 p - KH) / s) + 1``.
    Backward is ``conv2d_backward``, reusing the im2col columns that forward built.

    Examples
    --------
    >>> layer = Conv2D(1, 8, kernel_size=3, padding=1)
    >>> layer
    Conv2D(1, 8, kernel_size=3, stride=1, padding=1)
    >>> layer.forward(np.zeros((2, 1, 8, 8), dtype=np.float32)).shape
    (2, 8, 8, 8)
    >>> layer.num_params, layer.output_shape((1, 8, 8))     # 8 * 1 * 3 * 3 weights + 8 biases
    (80, (8, 8, 8))
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, rng=None, dtype=np.float32):
        super().__init__()
        self.in_channels = as_int("in_channels", in_channels, minimum=1)
        self.out_channels = as_int("out_channels", out_channels, minimum=1)
        self.kernel_size = as_pair("kernel_size", kernel_size, minimum=1)
        self.stride = as_pair("stride", stride, minimum=1)
        self.padding = as_pair("padding", padding, minimum=0)
        self.dtype = _float_dtype(dtype)
        self.needs_input_grad = True
        kh, kw = self.kernel_size
        fan_in = self.in_channels * kh * kw  # numbers each output pixel sums over
        self.params["W"] = _he_normal(make_rng(rng), (self.out_channels, self.in_channels, kh, kw), fan_in, self.dtype)
        self.params["b"] = np.zeros(self.out_channels, dtype=self.dtype)
        self._x = self._cols = None

    def forward(self, x):
        """x shape (N, C, H, W) -> out shape (N, F, OH, OW)."""
        x = self._input(x, 4, "(N, C, H, W)")
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"x must have {self.in_channels} channels (in_channels of {self!r}), "
                f"got shape {x.shape} with {x.shape[1]}"
            )
        x = x.astype(self.dtype, copy=False)
        out, self._cols = conv.conv2d_with_cols(x, self.params["W"], self.params["b"], self.stride, self.padding)
        self._x = x
        return self._remember_output(out)

    def backward(self, dout):
        """dout shape (N, F, OH, OW) -> dx shape (N, C, H, W) (None if not needs_input_grad)."""
        dout = self._dout(dout).astype(self.dtype, copy=False)
        # Reusing the forward's columns saves rebuilding them, the most expensive step.
        dx, self.grads["W"], self.grads["b"] = conv.conv2d_backward(
            dout, self._x, self.params["W"], self.stride, self.padding,
            cols=self._cols, need_dx=self.needs_input_grad,
        )
        return dx

    def output_shape(self, input_shape):
        channels, height, width = _example_shape(self, input_shape, 3, "(C, H, W)")
        if channels != self.in_channels:
            raise ValueError(
                f"input_shape must have {self.in_channels} channels (in_channels of {self!r}), "
                f"got {tuple(input_shape)}"
            )
        out_h = conv.output_size(height, self.kernel_size[0], self.padding[0], self.stride[0])
        out_w = conv.output_size(width, self.kernel_size[1], self.padding[1], self.stride[1])
        return (self.out_channels, out_h, out_w)

    def __repr__(self):
        return (
            f"Conv2D({self.in_channels}, {self.out_channels}, kernel_size={_pair_text(self.kernel_size)}, "
            f"stride={_pair_text(self.stride)}, padding={_pair_text(self.padding)})"
        )


class _Pool2D(Layer):
    """Shared by the pooling layers: window size, stride, saved input."""

    _forward = _backward = None  # set by subclasses to the pooling functions

    def __init__(self, size=2, stride=None):
        super().__init__()
        self.size = as_pair("size", size, minimum=1)
        self.stride = self.size if stride is None else as_pair("stride", stride, minimum=1)
        self._x = None

    def forward(self, x):
        """x shape (N, C, H, W) -> out shape (N, C, OH, OW), ``OH = floor((H - size_h) / stride_h) + 1``."""
        x = self._input(x, 4, "(N, C, H, W)")
        out = type(self)._forward(x, self.size, self.stride)
        self._x = x
        return self._remember_output(out)

    def backward(self, dout):
        """dout shape (N, C, OH, OW) -> dx shape (N, C, H, W)."""
        dout = self._dout(dout).astype(self._x.dtype, copy=False)
        return type(self)._backward(dout, self._x, self.size, self.stride)

    def output_shape(self, input_shape):
        channels, height, width = _example_shape(self, input_shape, 3, "(C, H, W)")
        if self.size[0] > height or self.size[1] > width:
            raise ValueError(f"pool window of size {self.size} does not fit in input_shape {tuple(input_shape)}")
        return (
            channels,
            (height - self.size[0]) // self.stride[0] + 1,
            (width - self.size[1]) // self.stride[1] + 1,
        )

    def __repr__(self):
        return f"{type(self).__name__}(size={_pair_text(self.size)}, stride={_pair_text(self.stride)})"


class MaxPool2D(_Pool2D):
    """Max pooling: keep the largest value of each ``size`` x ``size`` window (lesson 06).

    Backward sends each window's gradient to the position that held the maximum.

    Parameters
    ----------
    size : int or (int, int), optional
        Window height and width.
    stride : int or (int, int), optional
        Step between windows; defaults to ``size`` (windows that tile without overlap).

    Examples
    --------
    >>> pool = MaxPool2D(2)
    >>> pool.forward(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    >>> pool.output_shape((8, 8, 8))
    (8, 4, 4)
    """

    _forward = staticmethod(pooling.max_pool2d)
    _backward = staticmethod(pooling.max_pool2d_backward)


class AvgPool2D(_Pool2D):
    """Average pooling: the mean of each ``size`` x ``size`` window (lesson 06).

    Backward spreads each window's gradient equally over its ``size**2`` inputs.

    Parameters
    ----------
    size : int or (int, int), optional
    stride : int or (int, int), optional
        Defaults to ``size``.

    Examples
    --------
    >>> AvgPool2D(2).forward(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    """

    _forward = staticmethod(pooling.avg_pool2d)
    _backward = staticmethod(pooling.avg_pool2d_backward)


class ReLU(Layer):
    """Rectified linear unit, ``max(x, 0)`` elementwise, any shape (lesson 05).

    Backward: the gradient passes where the input was positive and is zero elsewhere.

    Examples
    --------
    >>> relu = ReLU()
    >>> relu.forward(np.array([[-2.0, 0.0, 3.0]]))
    array([[0., 0., 3.]])
    >>> relu.backward(np.array([[10.0, 10.0, 10.0]]))
    array([[ 0.,  0., 10.]])
    """

    def __init__(self):
        super().__init__()
        self._positive = None

    def forward(self, x):
        x = as_array("x", x)
        self._positive = x > 0
        return self._remember_output(np.maximum(x, 0))

    def backward(self, dout):
        dout = self._dout(dout)
        return dout * self._positive  # d max(x, 0) / dx is 1 for x > 0, else 0


class Flatten(Layer):
    """Turn each example into one vector: (N, C, H, W) -> (N, C*H*W) (lesson 08).

    Backward reshapes the gradient back. The order is NumPy's (channel, row, column).

    Examples
    --------
    >>> Flatten().forward(np.zeros((2, 16, 2, 2))).shape
    (2, 64)
    >>> Flatten().output_shape((16, 2, 2))
    (64,)
    """

    def __init__(self):
        super().__init__()
        self._in_shape = None

    def forward(self, x):
        x = as_array("x", x)
        if x.ndim < 2:
            raise ValueError(f"Flatten expects x with a batch axis, shape (N, ...), got shape {x.shape}")
        self._in_shape = x.shape
        return self._remember_output(x.reshape(x.shape[0], -1))

    def backward(self, dout):
        return self._dout(dout).reshape(self._in_shape)

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)


class Dense(Layer):
    """Fully connected layer ``out = x @ W + b`` (lessons 05, 08).

    Parameters
    ----------
    in_features : int
    out_features : int
    rng : int, np.random.Generator or None, optional
    dtype : float32 or float64, optional

    Attributes
    ----------
    params : dict
        ``"W"`` shape (in_features, out_features), He-initialised; ``"b"`` shape (out_features,).

    Notes
    -----
    Forward: x shape (N, in) -> out shape (N, out). Backward, with ``dout`` shape (N, out)::

        dW = x.T @ dout      db = dout summed over the batch      dx = dout @ W.T

    Examples
    --------
    >>> layer = Dense(3, 2)
    >>> layer.params["W"][...] = [[1, 0], [0, 1], [1, 1]]
    >>> layer.forward(np.array([[1.0, 2.0, 3.0]]))
    array([[4., 5.]], dtype=float32)
    >>> layer
    Dense(3, 2)
    """

    def __init__(self, in_features, out_features, rng=None, dtype=np.float32):
        super().__init__()
        self.in_features = as_int("in_features", in_features, minimum=1)
        self.out_features = as_int("out_features", out_features, minimum=1)
        self.dtype = _float_dtype(dtype)
        shape = (self.in_features, self.out_features)
        self.params["W"] = _he_normal(make_rng(rng), shape, self.in_features, self.dtype)
        self.params["b"] = np.zeros(self.out_features, dtype=self.dtype)
        self._x = None

    def forward(self, x):
        x = as_array("x", x)
        if x.ndim != 2:
            hint = "; put a Flatten() layer before Dense" if x.ndim > 2 else ""
            raise ValueError(f"Dense expects x of shape (N, in_features) (2-D), got shape {x.shape} ({x.ndim}-D){hint}")
        if x.shape[1] != self.in_features:
            raise ValueError(
                f"x must have {self.in_features} features (in_features of {self!r}), "
                f"got shape {x.shape} with {x.shape[1]}"
            )
        self._x = x.astype(self.dtype, copy=False)
        return self._remember_output(self._x @ self.params["W"] + self.params["b"])

    def backward(self, dout):
        dout = self._dout(dout).astype(self.dtype, copy=False)
        self.grads["W"] = self._x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T

    def output_shape(self, input_shape):
        (features,) = _example_shape(self, input_shape, 1, "(in_features,)")
        if features != self.in_features:
            raise ValueError(f"input_shape must be ({self.in_features},) for {self!r}, got {tuple(input_shape)}")
        return (self.out_features,)

    def __repr__(self):
        return f"Dense({self.in_features}, {self.out_features})"


def softmax(logits, axis=-1):
    """Turn scores into probabilities: ``exp(z) / sum(exp(z))`` along ``axis`` (lesson 08).

    Subtracting the largest score first changes nothing mathematically but keeps ``exp`` from
    overflowing, so logits like 1e4 work.

    Parameters
    ----------
    logits : array_like, shape (N, K) (any shape)
    axis : int, optional

    Returns
    -------
    ndarray, same shape, non-negative, summing to 1 along ``axis``

    Examples
    --------
    >>> softmax(np.array([[0.0, np.log(3.0)]]))
    array([[0.25, 0.75]])
    >>> softmax(np.array([1e4, 0.0]))
    array([1., 0.])
    """
    logits = as_array("logits", logits)
    shifted = logits - logits.max(axis=axis, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=axis, keepdims=True)


class SoftmaxCrossEntropy:
    """Softmax followed by the mean cross-entropy loss (lesson 08).

    ``forward(logits, labels)`` returns ``L = mean_n(-log p[n, labels[n]])`` with
    ``p = softmax(logits)``, computed as ``logsumexp(z) - z[label]`` so huge logits stay finite.
    ``backward()`` returns ``dL/dlogits = (p - onehot(labels)) / N``: the two steps combined have
    this simple gradient, which is why they are one layer.

    Examples
    --------
    Two classes with equal scores: the loss is ``log 2`` and the gradient pushes the right class up.

    >>> loss = SoftmaxCrossEntropy()
    >>> round(loss.forward(np.zeros((1, 2)), np.array([1])), 4)
    0.6931
    >>> loss.backward()
    array([[ 0.5, -0.5]])
    """

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.probs = None
        self._labels = None

    def forward(self, logits, labels):
        """logits shape (N, K), labels int shape (N,) in [0, K) -> mean loss (float)."""
        logits = as_array("logits", logits)
        if logits.ndim != 2:
            raise ValueError(f"logits must be a 2-D array of shape (N, classes), got shape {logits.shape}")
        labels = _labels("labels", labels, logits.shape[0], logits.shape[1])
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_sum = np.log(np.exp(shifted).sum(axis=1))
        rows = np.arange(len(labels))
        self.probs = np.exp(shifted - log_sum[:, None])
        self._labels = labels
        return float(np.mean(log_sum - shifted[rows, labels]))

    __call__ = forward

    def backward(self, dout=1.0):
        """d(loss)/d(logits), shape (N, K): ``dout * (p - onehot) / N``."""
        if self.probs is None:
            raise RuntimeError("SoftmaxCrossEntropy.backward called before forward: run forward(logits, labels) first")
        dlogits = self.probs.copy()
        dlogits[np.arange(len(self._labels)), self._labels] -= 1
        dlogits *= dout / len(self._labels)
        return dlogits

    def __repr__(self):
        return "SoftmaxCrossEntropy()"


def _labels(name, labels, n, num_classes):
    """Integer class labels of shape (n,) in [0, num_classes), or an error saying what is wrong."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind == "f" and labels.size and np.all(labels == np.round(labels)):
            labels = labels.astype(np.int64)  # 3.0 is a fine label; 2.5 is not
        elif labels.size or labels.dtype.kind not in "f":
            raise TypeError(f"{name} must hold integer class indices, got {describe(labels)}")
    if labels.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one class index per row of logits, got shape {labels.shape}")
    if n and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)][0]
        raise ValueError(f"{name} must be class indices in [0, {num_classes}), got {int(bad)}")
    return labels.astype(np.intp, copy=False)


def _example_shape(layer, input_shape, ndim, layout):
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != ndim:
        raise ValueError(
            f"input_shape for {layer!r} must be the shape of one example {layout}, "
            f"without the batch axis, got {shape}"
        )
    return shape
