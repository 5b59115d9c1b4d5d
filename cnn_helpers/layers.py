"""Layers of a trainable CNN (lessons 07-08), each a forward pass with its backward pass.

Every layer, block and model is a :class:`Layer`, with

- ``forward(x)``: computes the output and remembers what the backward pass will need;
- ``backward(dout)``: takes ``dout = dL/d(output)``, fills ``grads`` (same keys as ``params``)
  and returns ``dL/d(input)``;
- ``params`` and ``grads``: dicts of arrays. Optimisers update ``params`` arrays in place, so
  never rebind them (``layer.params["W"] = ...`` would cut the optimiser off);
- ``children``: the ``(name, layer)`` pairs a container is made of (empty for a leaf layer);
  a container's ``params`` and ``grads`` gather its children's, keyed ``"<child>.<name>"``;
- ``parameters()``: the list of ``(leaf layer, name, array)`` triples optimisers update, found
  by walking ``children`` down to the leaves;
- ``output_shape(input_shape)`` for the shape of one example, ``num_params``, and ``window``:
  the ``(size, stride)`` of the input patch one output pixel sees (lesson 10).

The losses (:class:`SoftmaxCrossEntropy`, and the per-pixel one in
:mod:`cnn_helpers.dense_prediction`) are not layers: they share the small :class:`Loss` base,
``forward(logits, labels) -> float`` and ``backward(dout=1.0) -> dL/dlogits``.

Layers with weights use He initialisation, ``normal(0, sqrt(2 / fan_in))``, which keeps the
size of activations about the same from layer to layer when followed by ReLU. ``rng`` may be an
int seed, a ``np.random.Generator`` or None (seed 0), so results are reproducible. Parameters
are float32 by default (training speed); pass ``dtype=np.float64`` for gradient checks.

The math of convolution and pooling lives in :mod:`cnn_helpers.conv` and
:mod:`cnn_helpers.pooling`; the layers keep state around those functions (``Conv2D`` calls the
same math through the private fast kernel ``cnn_helpers._fast``).
"""

from __future__ import annotations

import numbers

import numpy as np

from cnn_helpers import _fast, conv, pooling
from cnn_helpers._validation import as_array, as_int, as_labels, as_pair, describe

__all__ = [
    "Layer",
    "Loss",
    "Conv2D",
    "MaxPool2D",
    "AvgPool2D",
    "ReLU",
    "Flatten",
    "Dense",
    "SoftmaxCrossEntropy",
    "softmax",
    "make_rng",
    "compose_windows",
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


def compose_windows(windows):
    """Receptive field and total stride, per axis, of windows applied one after the other.

    Each window ``((kh, kw), (sh, sw))`` grows the field by ``(k - 1)`` times the product of
    the strides before it (the distance, in input pixels, between neighbouring positions at
    that depth).

    >>> compose_windows([((3, 3), (1, 1)), ((2, 2), (2, 2)), ((3, 3), (1, 1))])
    ((8, 8), (2, 2))
    """
    field, jump = [1, 1], [1, 1]
    for size, stride in windows:
        for axis in (0, 1):
            field[axis] += (size[axis] - 1) * jump[axis]
            jump[axis] *= stride[axis]
    return tuple(field), tuple(jump)


class Layer:
    """What every layer, block and model shares (the layer protocol).

    A leaf layer (Conv2D, ReLU, ...) keeps its own ``params`` and ``grads`` dicts. A container
    (a block, a :class:`~cnn_helpers.model.Sequential`) lists its parts in ``children``, as
    ``(name, layer)`` pairs; its ``params`` and ``grads`` are then built from the children's,
    keyed ``"<child>.<name>"``, and hold the children's own arrays.

    Attributes
    ----------
    params, grads : dict of str to ndarray
        Leaf layers: their parameters and, after ``backward``, the gradients (same keys).
    children : sequence of (str, Layer)
        Empty for a leaf layer.
    needs_input_grad : bool
        True by default. A layer that honours it (Conv2D) skips ``dx`` when it is False and its
        ``backward`` returns None: set it on a network's first layer, whose ``dx`` nothing uses.

    Examples
    --------
    >>> relu = ReLU()
    >>> relu.children, relu.parameters(), relu.window, relu.output_shape((3, 4, 4))
    ((), [], ((1, 1), (1, 1)), (3, 4, 4))
    """

    children = ()  # containers set a list of (name, layer) pairs; leaves keep the empty tuple
    needs_input_grad = True

    def __init__(self):
        self._params = {}
        self._grads = {}
        self._out_shape = None  # shape of the last forward output, to check dout against

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):  # pragma: no cover - every layer defines its own
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def backward(self, dout):  # pragma: no cover - every layer defines its own
        raise NotImplementedError(f"{type(self).__name__} must define backward(dout)")

    @property
    def params(self):
        """Parameter arrays by name (the arrays themselves, not copies)."""
        if not self.children:
            return self._leaf_dict("_params")
        return {path: array for path, _, _, array in self._named_parameters()}

    @params.setter
    def params(self, value):
        self._params = value

    @property
    def grads(self):
        """Gradients from the last ``backward``, keyed like :attr:`params`."""
        if not self.children:
            return self._leaf_dict("_grads")
        return {
            path: layer.grads[name]
            for path, layer, name, _ in self._named_parameters()
            if name in layer.grads
        }

    @grads.setter
    def grads(self, value):
        self._grads = value

    def _leaf_dict(self, attribute):
        if attribute not in self.__dict__:  # a subclass that did not call Layer.__init__
            setattr(self, attribute, {})
        return self.__dict__[attribute]

    def _named_parameters(self, prefix=""):
        """``(path, leaf layer, name, array)`` for every parameter, depth first, in child order."""
        for name, array in self._leaf_dict("_params").items():
            yield prefix + name, self, name, array
        for child_name, child in self.children:
            if isinstance(child, Layer):
                yield from child._named_parameters(f"{prefix}{child_name}.")
            else:  # a layer-like object written without the base class
                for name, array in child.params.items():
                    yield f"{prefix}{child_name}.{name}", child, name, array

    def parameters(self):
        """``(layer, name, array)`` for every parameter of every leaf layer inside, as a list.

        Found by walking ``children`` recursively. ``layer`` is the leaf that owns the array and
        ``layer.grads[name]`` its gradient after ``backward``: what optimisers read.

        >>> from cnn_helpers.model import Sequential
        >>> [(type(layer).__name__, name) for layer, name, _ in Sequential(Dense(2, 2), ReLU()).parameters()]
        [('Dense', 'W'), ('Dense', 'b')]
        """
        return [(layer, name, array) for _, layer, name, array in self._named_parameters()]

    def clear_caches(self):
        """Forget what the last forward pass kept for the backward pass (and any scratch buffers).

        Inference calls this (``Sequential.predict_logits``), so a model that has been evaluated
        on big batches does not keep their intermediate arrays; a later ``backward`` without a new
        ``forward`` then says so. Containers clear their children.
        """
        self._out_shape = None
        for attribute in ("_cache", "_x", "_positive"):
            if hasattr(self, attribute):
                setattr(self, attribute, None)
        for _, child in self.children:
            clear = getattr(child, "clear_caches", None)
            if callable(clear):
                clear()

    @property
    def num_params(self):
        """Total number of trainable numbers."""
        return int(sum(array.size for _, _, array in self.parameters()))

    def output_shape(self, input_shape):
        """Shape of one example's output given one example's input shape (no batch axis)."""
        return tuple(input_shape)

    @property
    def window(self):
        """``(size, stride)``, each an ``(h, w)`` pair: the input patch one output pixel sees.

        ``size`` is how many input pixels (per axis) one output pixel depends on; ``stride`` is
        how far that patch moves between neighbouring outputs. ``((1, 1), (1, 1))`` for an
        elementwise layer (the default); blocks compose their children's.
        """
        return (1, 1), (1, 1)

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
        if getattr(self, "_out_shape", None) is None:
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
    """A convolution layer: ``F`` learned filters slid over the input (lessons 05, 06, 07, 09, 10).

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
        ``"W"`` shape (F, C, KH, KW), He-initialised; ``"b"`` shape (F,), zeros. Outputs come
        first, as in PyTorch; :class:`Dense` is the other way round, ``(in, out)``.
    needs_input_grad : bool
        Set to False on a network's first layer: ``backward`` then skips ``dx`` (returns None),
        which nothing would use.

    Notes
    -----
    Forward is ``conv2d``: out shape (N, F, OH, OW), ``OH = floor((H + 2 p - KH) / s) + 1``.
    Backward is ``conv2d_backward``. Both run in the private fast kernel ``cnn_helpers._fast``,
    which keeps what forward computed (the im2col columns) for backward in a cache, and
    reuses buffers from step to step in the layer's workspace.

    Examples
    --------
    >>> layer = Conv2D(1, 8, kernel_size=3, padding=1)
    >>> layer
    Conv2D(1, 8, kernel_size=3, stride=1, padding=1)
    >>> layer.forward(np.zeros((2, 1, 8, 8), dtype=np.float32)).shape
    (2, 8, 8, 8)
    >>> layer.num_params, layer.output_shape((1, 8, 8))     # 8 * 1 * 3 * 3 weights + 8 biases
    (80, (8, 8, 8))
    >>> Conv2D(1, 8, kernel_size=5, stride=2).window        # (size, stride) per axis
    ((5, 5), (2, 2))
    """

    def __init__(
        self, in_channels, out_channels, kernel_size, stride=1, padding=0, rng=None, dtype=np.float32
    ):
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
        self.params["W"] = _he_normal(
            make_rng(rng), (self.out_channels, self.in_channels, kh, kw), fan_in, self.dtype
        )
        self.params["b"] = np.zeros(self.out_channels, dtype=self.dtype)
        self._workspace = _fast.ConvWorkspace()
        self._cache = None

    def forward(self, x):
        """x shape (N, C, H, W) -> out shape (N, F, OH, OW)."""
        x = self._input(x, 4, "(N, C, H, W)")
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"x must have {self.in_channels} channels (in_channels of {self!r}), "
                f"got shape {x.shape} with {x.shape[1]}"
            )
        padded = (x.shape[2] + 2 * self.padding[0], x.shape[3] + 2 * self.padding[1])
        if padded[0] < self.kernel_size[0] or padded[1] < self.kernel_size[1]:
            raise ValueError(
                f"kernel_size {self.kernel_size} of {self!r} does not fit in x of shape {x.shape} "
                f"(padded to {padded})"
            )
        x = x.astype(self.dtype, copy=False)
        out, self._cache = _fast.conv2d_forward(
            x, self.params["W"], self.params["b"], self.stride, self.padding, workspace=self._workspace
        )
        return self._remember_output(out)

    def clear_caches(self):
        super().clear_caches()
        self._workspace = _fast.ConvWorkspace()  # its buffers are sized for the last batches

    def backward(self, dout):
        """dout shape (N, F, OH, OW) -> dx shape (N, C, H, W) (None if not needs_input_grad)."""
        dout = self._dout(dout).astype(self.dtype, copy=False)
        dx, self.grads["W"], self.grads["b"] = _fast.conv2d_backward(
            dout, self._cache, needs_input_grad=self.needs_input_grad
        )
        return dx

    def output_shape(self, input_shape):
        channels, height, width = _example_shape(self, input_shape, 3, "(C, H, W)")
        if channels != self.in_channels:
            raise ValueError(
                f"input_shape must have {self.in_channels} channels (in_channels of {self!r}), "
                f"got {tuple(input_shape)}"
            )
        out_h = conv.output_size(height, self.kernel_size[0], padding=self.padding[0], stride=self.stride[0])
        out_w = conv.output_size(width, self.kernel_size[1], padding=self.padding[1], stride=self.stride[1])
        return (self.out_channels, out_h, out_w)

    @property
    def window(self):
        return self.kernel_size, self.stride

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
        out = type(self)._forward(x, self.size, stride=self.stride)
        self._x = x
        return self._remember_output(out)

    def backward(self, dout):
        """dout shape (N, C, OH, OW) -> dx shape (N, C, H, W)."""
        dout = self._dout(dout).astype(self._x.dtype, copy=False)
        return type(self)._backward(dout, self._x, self.size, stride=self.stride)

    def output_shape(self, input_shape):
        channels, height, width = _example_shape(self, input_shape, 3, "(C, H, W)")
        if self.size[0] > height or self.size[1] > width:
            raise ValueError(
                f"pool window of size {self.size} does not fit in input_shape {tuple(input_shape)}"
            )
        return (
            channels,
            conv.output_size(height, self.size[0], stride=self.stride[0]),
            conv.output_size(width, self.size[1], stride=self.stride[1]),
        )

    @property
    def window(self):
        return self.size, self.stride

    def __repr__(self):
        return f"{type(self).__name__}(size={_pair_text(self.size)}, stride={_pair_text(self.stride)})"


class MaxPool2D(_Pool2D):
    """Max pooling: keep the largest value of each ``size`` x ``size`` window (lessons 06, 09, 10).

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

    def forward(self, x):
        """x shape (N, C, H, W) -> out shape (N, C, OH, OW); keeps what the backward needs."""
        x = self._input(x, 4, "(N, C, H, W)")
        if self.size[0] > x.shape[2] or self.size[1] > x.shape[3]:
            self.output_shape(x.shape[1:])  # the window does not fit: raises the error that says so
        out, self._cache = _fast.max_pool2d_forward(x, self.size, self.stride)
        self._x = x
        return self._remember_output(out)

    def backward(self, dout):
        """dout shape (N, C, OH, OW) -> dx shape (N, C, H, W): each window's gradient to its maximum."""
        dout = self._dout(dout).astype(self._x.dtype, copy=False)
        return _fast.max_pool2d_backward(dout, self._cache)


class AvgPool2D(_Pool2D):
    """Average pooling: the mean of each ``size`` x ``size`` window (lesson 10).

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
    """Rectified linear unit, ``max(x, 0)`` elementwise, any shape (lessons 05, 08, 09, 10).

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
        out = np.maximum(x, 0)  # keeps x's memory order (a Conv2D's output is stored image index last)
        self._positive = out > 0  # the same as x > 0 (NaN too), read from the compact output
        return self._remember_output(out)

    def backward(self, dout):
        dout = self._dout(dout)
        return dout * self._positive  # d max(x, 0) / dx is 1 for x > 0, else 0


class Flatten(Layer):
    """Turn each example into one vector: (N, C, H, W) -> (N, C*H*W) (lessons 08, 09, 10).

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

    @property
    def window(self):
        raise ValueError(_WHOLE_INPUT.format(layer=self))


_WHOLE_INPUT = (
    "{layer!r} connects every input to every output: its receptive field is the whole input; "
    "compute receptive fields of the convolutional part only"
)


class Dense(Layer):
    """Fully connected layer ``out = x @ W + b`` (lessons 05, 06, 08, 09, 10).

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
        Inputs come first, so the forward pass reads ``x @ W`` as in the lessons. PyTorch's
        ``nn.Linear`` and :class:`Conv2D` put outputs first: this ``W`` is ``linear.weight.T``.

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
            raise ValueError(
                f"Dense expects x of shape (N, in_features) (2-D), got shape {x.shape} ({x.ndim}-D){hint}"
            )
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
            raise ValueError(
                f"input_shape must be ({self.in_features},) for {self!r}, got {tuple(input_shape)}"
            )
        return (self.out_features,)

    @property
    def window(self):
        raise ValueError(_WHOLE_INPUT.format(layer=self))

    def __repr__(self):
        return f"Dense({self.in_features}, {self.out_features})"


def _log_softmax(name, logits, axis):
    """``log(softmax(logits))`` along ``axis``, with errors for what has no softmax.

    Subtracting the largest score first keeps ``exp`` from overflowing. A ``+inf`` score takes
    all the probability (shared equally if several are ``+inf``): the limit, not ``nan``.
    """
    if logits.ndim == 0:
        raise ValueError(f"{name} must have at least one axis, got a scalar")
    if logits.shape[axis] == 0:
        raise ValueError(f"{name} must hold at least one score along axis {axis}, got shape {logits.shape}")
    if np.isnan(logits).any():
        raise ValueError(
            f"{name} must not contain NaN, got {describe(logits)} with {int(np.isnan(logits).sum())} NaN"
        )
    top = logits.max(axis=axis, keepdims=True)
    if np.isneginf(top).any():
        raise ValueError(
            f"{name} needs a score above -inf in every row along axis {axis}, got a row of -inf only"
        )
    with np.errstate(invalid="ignore"):
        shifted = logits - top  # inf - inf is nan, replaced just below
    infinite = np.isposinf(top)
    if infinite.any():
        limit = np.where(np.isposinf(logits), 0.0, -np.inf).astype(logits.dtype)
        shifted = np.where(infinite, limit, shifted)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(logits, axis=-1):
    """Turn scores into probabilities: ``exp(z) / sum(exp(z))`` along ``axis`` (lessons 08, 10).

    Subtracting the largest score first changes nothing mathematically but keeps ``exp`` from
    overflowing, so logits like 1e4 work. A ``+inf`` score gets probability 1 (the limit).

    Parameters
    ----------
    logits : array_like, shape (N, K) (any shape)
        At least one score along ``axis``, none NaN.
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
    >>> softmax(np.zeros((2, 0)))
    Traceback (most recent call last):
    ...
    ValueError: logits must hold at least one score along axis -1, got shape (2, 0)
    """
    logits = as_array("logits", logits)
    if (
        not isinstance(axis, numbers.Integral)
        or isinstance(axis, bool)
        or not -max(logits.ndim, 1) <= axis < max(logits.ndim, 1)
    ):
        raise ValueError(
            f"axis must be an integer axis of logits (shape {logits.shape}), got {describe(axis)}"
        )
    return np.exp(_log_softmax("logits", logits, int(axis)))


class Loss:
    """What the losses share: ``forward(logits, labels) -> float`` and ``backward(dout=1.0)``.

    A loss is the end of the chain: its ``backward`` returns ``dL/dlogits`` to hand to the
    model's ``backward``. ``dout`` is the gradient of something with respect to the loss
    itself, a number (1.0 unless the loss is scaled). Losses have no parameters.
    """

    @property
    def params(self):
        """Always empty: a loss has no parameters."""
        return {}

    @property
    def grads(self):
        """Always empty, like :attr:`params`."""
        return {}

    def __call__(self, logits, labels):
        return self.forward(logits, labels)

    def forward(self, logits, labels):  # pragma: no cover - every loss defines its own
        raise NotImplementedError

    def backward(self, dout=1.0):  # pragma: no cover - every loss defines its own
        raise NotImplementedError

    def _dout(self, dout):
        """``dout`` as a float, or an error: it is the gradient of a number, so it is a number."""
        if isinstance(dout, np.ndarray) and dout.ndim == 0:
            dout = dout.item()
        if isinstance(dout, bool) or not isinstance(dout, numbers.Real):
            raise TypeError(
                f"dout of {type(self).__name__}.backward must be a number, d(objective)/d(loss) "
                f"(default 1.0), because the loss is one number; got {describe(dout)}"
            )
        return float(dout)

    def __repr__(self):
        return f"{type(self).__name__}()"


class SoftmaxCrossEntropy(Loss):
    """Softmax followed by the mean cross-entropy loss (lessons 08, 09, 10).

    ``forward(logits, labels)`` returns ``L = mean_n(-log p[n, labels[n]])`` with
    ``p = softmax(logits)``, computed as ``logsumexp(z) - z[label]`` so huge logits stay finite.
    ``backward()`` returns ``dL/dlogits = (p - onehot(labels)) / N``: the two steps combined have
    this simple gradient, which is why they are one layer.

    Labels follow the package's one rule (:func:`cnn_helpers._validation.as_labels`): integers,
    or whole-number floats, in ``[0, K)``; ``fit`` accepts exactly the same.

    Examples
    --------
    Two classes with equal scores: the loss is ``log 2`` and the gradient pushes the right class up.

    >>> loss = SoftmaxCrossEntropy()
    >>> round(loss.forward(np.zeros((1, 2)), np.array([1])), 4)
    0.6931
    >>> loss.backward()
    array([[ 0.5, -0.5]])

    An infinitely confident right answer costs nothing (the limit of the loss):

    >>> loss.forward(np.array([[np.inf, 0.0]]), [0])
    0.0
    """

    def __init__(self):
        self.probs = None
        self._labels = None

    def forward(self, logits, labels):
        """logits shape (N, K), labels int shape (N,) in [0, K) -> mean loss (float)."""
        logits = as_array("logits", logits)
        if logits.ndim != 2:
            raise ValueError(f"logits must be a 2-D array of shape (N, classes), got shape {logits.shape}")
        if logits.shape[0] == 0:
            raise ValueError(f"the mean loss of an empty batch is undefined: logits has shape {logits.shape}")
        labels = as_labels("labels", labels, logits.shape[0], logits.shape[1])
        log_probs = _log_softmax("logits", logits, 1)
        self.probs = np.exp(log_probs)
        self._labels = labels
        return float(-np.mean(log_probs[np.arange(len(labels)), labels]))

    def backward(self, dout=1.0):
        """d(loss)/d(logits), shape (N, K): ``dout * (p - onehot) / N``; ``dout`` a number."""
        if self.probs is None:
            raise RuntimeError(
                "SoftmaxCrossEntropy.backward called before forward: run forward(logits, labels) first"
            )
        dout = self._dout(dout)
        dlogits = self.probs.copy()
        dlogits[np.arange(len(self._labels)), self._labels] -= 1
        dlogits *= dout / len(self._labels)
        return dlogits


def _example_shape(layer, input_shape, ndim, layout):
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != ndim:
        raise ValueError(
            f"input_shape for {layer!r} must be the shape of one example {layout}, "
            f"without the batch axis, got {shape}"
        )
    return shape


# --------------------------------------------------------------------------------------------
# Batch normalisation (lesson 10). Appended as its own section: the functions, the layer, and
# the train/eval switch that walks a model's children.

__all__ += ["batch_norm2d", "batch_norm2d_backward", "BatchNorm2D", "set_training"]


def _batch_norm_inputs(x, gamma, beta):
    x = as_array("x", x)
    if x.ndim != 4:
        raise ValueError(f"batch normalisation expects x of shape (N, C, H, W), got shape {x.shape}")
    gamma, beta = as_array("gamma", gamma), as_array("beta", beta)
    for name, value in (("gamma", gamma), ("beta", beta)):
        if value.shape != (x.shape[1],):
            raise ValueError(
                f"{name} must have shape (C,) = ({x.shape[1]},) for x of shape {x.shape}, "
                f"got shape {value.shape}"
            )
    return x, gamma, beta


def _normalised(x, eps):
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + eps)
    return (x - mean) * inv_std, inv_std


def batch_norm2d(x, gamma, beta, *, eps=1e-5):
    """Spatial batch normalisation in training mode.

    Each channel ``c`` is normalised with the mean and (biased) variance of its ``N * H * W``
    values in the batch, then scaled and shifted:
    ``out = gamma[c] * (x - mean_c) / sqrt(var_c + eps) + beta[c]``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    gamma, beta : ndarray, shape (C,)
    eps : float, optional

    Returns
    -------
    ndarray, shape (N, C, H, W)

    Examples
    --------
    >>> x = np.array([1.0, 3.0]).reshape(2, 1, 1, 1)           # one channel: mean 2, variance 1
    >>> batch_norm2d(x, np.ones(1), np.zeros(1), eps=0.0).ravel()
    array([-1.,  1.])
    """
    x, gamma, beta = _batch_norm_inputs(x, gamma, beta)
    xhat, _ = _normalised(x, eps)
    return gamma[None, :, None, None] * xhat + beta[None, :, None, None]


def batch_norm2d_backward(dout, x, gamma, beta, *, eps=1e-5):
    """Gradients of :func:`batch_norm2d` (training mode): ``(dx, dgamma, dbeta)``.

    With ``m = N * H * W`` values per channel, ``xhat`` the normalised input and
    ``g = dout * gamma``, the mean and the variance depend on every input, so
    ``dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)``, the means taken per
    channel; ``dgamma = sum(dout * xhat)`` and ``dbeta = sum(dout)`` per channel.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    x, gamma, beta, eps : as for :func:`batch_norm2d`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (C,)

    Examples
    --------
    A gradient that is the same everywhere only shifts the output, which normalising undoes:

    >>> x = np.arange(4.0).reshape(1, 1, 2, 2)
    >>> dx, dgamma, dbeta = batch_norm2d_backward(np.ones((1, 1, 2, 2)), x, np.ones(1), np.zeros(1))
    >>> bool(np.allclose(dx, 0)), dbeta
    (True, array([4.]))
    """
    x, gamma, beta = _batch_norm_inputs(x, gamma, beta)
    dout = as_array("dout", dout)
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x, {x.shape}, got shape {dout.shape}")
    xhat, inv_std = _normalised(x, eps)
    g = dout * gamma[None, :, None, None]
    axes = (0, 2, 3)
    dx = (g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True)) * inv_std
    return dx, (dout * xhat).sum(axis=axes), dout.sum(axis=axes)


class BatchNorm2D(Layer):
    """Spatial batch normalisation as a layer, with running statistics (lesson 10).

    In training mode (``training`` True, the default) each channel is normalised with its batch
    mean and variance (:func:`batch_norm2d`), and the running statistics move towards them:
    ``running = (1 - momentum) * running + momentum * batch``, with the *unbiased* batch variance,
    as PyTorch's ``BatchNorm2d`` does. In evaluation mode (``eval()``) the layer uses the running
    statistics instead, so one example's output no longer depends on the rest of its batch.

    Parameters
    ----------
    channels : int
    momentum : float, optional
    eps : float, optional
    gamma_init : float, optional
        Starting value of every ``gamma`` (1, as in the original ResNet; 0 starts a residual
        branch that ends in this layer at zero, Goyal et al., 2017).
    dtype : float32 or float64, optional

    Attributes
    ----------
    params : dict
        ``"gamma"`` shape (C,), ``"beta"`` shape (C,).
    running_mean, running_var : ndarray, shape (C,)
    training : bool

    Examples
    --------
    >>> bn = BatchNorm2D(1, dtype=np.float64)
    >>> bn.forward(np.array([1.0, 3.0]).reshape(2, 1, 1, 1)).ravel().round(3)
    array([-1.,  1.])
    >>> bn.running_mean, bn.running_var                  # 0.9 * 0 + 0.1 * 2, 0.9 * 1 + 0.1 * 2
    (array([0.2]), array([1.1]))
    >>> bn.eval().forward(np.full((1, 1, 1, 1), 0.2)).ravel()
    array([0.])
    """

    def __init__(self, channels, momentum=0.1, eps=1e-5, gamma_init=1.0, dtype=np.float32):
        super().__init__()
        self.channels = as_int("channels", channels, minimum=1)
        self.momentum, self.eps = float(momentum), float(eps)
        if not 0.0 <= self.momentum <= 1.0:
            raise ValueError(f"momentum must be between 0 and 1, got {momentum!r}")
        if not self.eps > 0.0:
            raise ValueError(f"eps must be positive, got {eps!r}")
        self.dtype = _float_dtype(dtype)
        self.params["gamma"] = np.full(self.channels, gamma_init, dtype=self.dtype)
        self.params["beta"] = np.zeros(self.channels, dtype=self.dtype)
        self.running_mean = np.zeros(self.channels, dtype=self.dtype)
        self.running_var = np.ones(self.channels, dtype=self.dtype)
        self.training = True
        self._x = None
        self._used_batch = True

    def train(self, mode=True):
        """Switch to training mode (batch statistics); returns the layer."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Switch to evaluation mode (running statistics); returns the layer."""
        return self.train(False)

    def forward(self, x):
        """x shape (N, C, H, W) -> same shape."""
        x = self._input(x, 4, "(N, C, H, W)")
        if x.shape[1] != self.channels:
            raise ValueError(
                f"x must have {self.channels} channels (channels of {self!r}), got shape {x.shape}"
            )
        x = x.astype(self.dtype, copy=False)
        gamma, beta = self.params["gamma"], self.params["beta"]
        self._x, self._used_batch = x, self.training
        if self.training:
            m = x.shape[0] * x.shape[2] * x.shape[3]
            if m < 2:
                raise ValueError(
                    f"training mode needs more than one value per channel, got x of shape {x.shape}"
                )
            self.running_mean *= 1 - self.momentum
            self.running_mean += self.momentum * x.mean(axis=(0, 2, 3))
            self.running_var *= 1 - self.momentum
            self.running_var += self.momentum * x.var(axis=(0, 2, 3)) * (m / (m - 1))
            out = batch_norm2d(x, gamma, beta, eps=self.eps)
        else:
            scale = gamma / np.sqrt(self.running_var + self.eps)
            out = (x - self.running_mean[None, :, None, None]) * scale[None, :, None, None] + beta[
                None, :, None, None
            ]
        return self._remember_output(out.astype(self.dtype, copy=False))

    def backward(self, dout):
        """dout shape (N, C, H, W) -> dx; fills ``grads["gamma"]`` and ``grads["beta"]``."""
        dout = self._dout(dout)
        gamma = self.params["gamma"]
        if self._used_batch:
            dx, dgamma, dbeta = batch_norm2d_backward(dout, self._x, gamma, self.params["beta"], eps=self.eps)
        else:  # the running statistics are constants: a per-channel affine map
            inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
            xhat = (self._x - self.running_mean[None, :, None, None]) * inv_std[None, :, None, None]
            dx = dout * (gamma * inv_std)[None, :, None, None]
            dgamma, dbeta = (dout * xhat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))
        self.grads["gamma"], self.grads["beta"] = dgamma.astype(self.dtype), dbeta.astype(self.dtype)
        return dx.astype(self.dtype, copy=False)

    def output_shape(self, input_shape):
        shape = _example_shape(self, input_shape, 3, "(C, H, W)")
        if shape[0] != self.channels:
            raise ValueError(
                f"input_shape must have {self.channels} channels (channels of {self!r}), "
                f"got {tuple(input_shape)}"
            )
        return shape

    def __repr__(self):
        return f"BatchNorm2D({self.channels})"


def set_training(model, training=True):
    """Put every layer inside ``model`` that has a train/eval switch into one mode (lesson 10).

    Walks ``children`` recursively (like ``parameters()``) and calls ``train(training)`` on each
    layer that has one, such as :class:`BatchNorm2D`. Returns ``model``.

    >>> from cnn_helpers.model import Sequential
    >>> net = set_training(Sequential(Conv2D(1, 2, 3), BatchNorm2D(2)), False)
    >>> net[1].training
    False
    """
    if hasattr(model, "train") and callable(model.train) and hasattr(model, "training"):
        model.train(training)
    for _, child in getattr(model, "children", ()):
        set_training(child, training)
    return model
