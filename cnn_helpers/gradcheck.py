"""Numerical gradient checking (lesson 07).

A backward pass is easy to get subtly wrong. The check is independent of the calculus: nudge
one number of an input by ``±eps``, run the forward pass twice, and the slope
``(f(x + eps) - f(x - eps)) / (2 eps)`` (a *central difference*) approximates ``df/dx`` with an
error of order ``eps**2``. Doing this for every entry gives a numerical gradient to hold the
analytic one against. It costs two forward passes per number, so use it on small inputs, in
float64 (in float32 the rounding error of ``f`` swamps the difference).

Each array (every parameter and the input) is compared on its own and reported with its largest
absolute and relative error, the index where it is worst and both values there, so a failure
says *which* gradient is wrong, not just that something is.

- :func:`numerical_gradient` -- the central-difference gradient of a scalar function.
- :func:`check_gradient` -- compare a plain function's analytic gradient with it.
- :func:`check_operation` -- check ``op_backward`` against ``op`` for every input at once.
- :func:`check_layer`, :func:`check_model` -- the same for a layer, or a model with its loss.
- :func:`assert_gradients_correct` -- raise with a sentence naming the wrong gradient.
- :func:`relative_error` -- the largest relative error of two gradients, one number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cnn_helpers._validation import as_array, describe

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

__all__ = [
    "GradientCheckError",
    "GradientComparison",
    "GradCheckResult",
    "compare",
    "numerical_gradient",
    "check_gradient",
    "check_operation",
    "check_layer",
    "check_model",
    "assert_gradients_correct",
    "relative_error",
]

DEFAULT_EPS = 1e-6
DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-8


class GradientCheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one; the message says where."""


@dataclass
class GradientComparison:
    """How one analytic gradient compares with its numerical estimate.

    Attributes
    ----------
    name : str
        What was differentiated, e.g. ``"W"`` or ``"layers[0].W (Conv2D)"``.
    shape : tuple
        Shape of the gradient.
    max_abs_error : float
        Largest ``|analytic - numerical|``.
    max_rel_error : float
        Largest ``|analytic - numerical| / max(|analytic|, |numerical|)`` (0 where both are 0).
    worst_index : tuple
        Where the check is worst: the entry furthest outside the tolerance.
    analytic, numerical : float
        The two values at ``worst_index``.
    passed : bool
        Whether every entry satisfies ``|a - n| <= atol + rtol * max(|a|, |n|)``.
    """

    name: str
    shape: tuple
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple
    analytic: float
    numerical: float
    passed: bool

    def describe_failure(self):
        """One sentence saying how wrong this gradient is and where."""
        return (
            f"gradient of {self.name} is wrong: at index {self.worst_index} the analytic value is "
            f"{self.analytic:.6g} but the numerical one is {self.numerical:.6g} "
            f"(max abs error {self.max_abs_error:.3g}, max rel error {self.max_rel_error:.3g})"
        )


def compare(
    name: str,
    analytic: ArrayLike,
    numerical: ArrayLike,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> GradientComparison:
    """Compare two gradients of the same shape entry by entry.

    Parameters
    ----------
    name : str
        Used in reports.
    analytic, numerical : ndarray, same shape

    Returns
    -------
    GradientComparison

    Examples
    --------
    >>> c = compare("w", np.array([1.0, 2.0]), np.array([1.0, 2.5]))
    >>> c.passed, c.worst_index, c.max_abs_error, c.max_rel_error
    (False, (1,), 0.5, 0.2)
    """
    analytic = as_array(f"analytic gradient of {name}", analytic, dtype=np.float64)
    numerical = np.asarray(numerical, dtype=np.float64)
    if analytic.shape != numerical.shape:
        raise ValueError(
            f"analytic gradient of {name} must have shape {numerical.shape} "
            f"(the shape of what it differentiates), got shape {analytic.shape}"
        )
    if analytic.size == 0:
        return GradientComparison(name, analytic.shape, 0.0, 0.0, (), 0.0, 0.0, True)
    error = np.abs(analytic - numerical)
    scale = np.maximum(np.abs(analytic), np.abs(numerical))
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(scale > 0, error / scale, 0.0)
    relative = np.where(np.isnan(error), np.inf, relative)  # a NaN gradient is never right
    # The worst entry is the one furthest outside its tolerance, not merely the largest error:
    # a 1e-6 error on a gradient of 1e-9 matters more than on a gradient of 100.
    excess = error / (atol + rtol * scale)
    excess = np.where(np.isnan(excess), np.inf, excess)
    flat = int(np.argmax(excess))
    index = tuple(int(i) for i in np.unravel_index(flat, analytic.shape))
    return GradientComparison(
        name=name,
        shape=analytic.shape,
        max_abs_error=float(np.nanmax(error)) if not np.isnan(error).all() else float("nan"),
        max_rel_error=float(np.max(relative)),
        worst_index=index,
        analytic=float(analytic[index]),
        numerical=float(numerical[index]),
        passed=bool(excess.max() <= 1.0),
    )


class GradCheckResult:
    """The comparisons of one gradient check, one per array.

    ``str(result)`` is a table; ``result.passed`` is True when every gradient passed;
    ``result["W"]`` looks a comparison up by name; :meth:`raise_if_failed` raises
    :class:`GradientCheckError` naming the first wrong gradient.
    """

    def __init__(self, comparisons, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL, notes=()):
        self.comparisons = list(comparisons)
        self.rtol = rtol
        self.atol = atol
        self.notes = list(notes)

    @property
    def passed(self):
        return all(c.passed for c in self.comparisons)

    @property
    def failures(self):
        """The comparisons that failed, in order."""
        return [c for c in self.comparisons if not c.passed]

    def __getitem__(self, name):
        for comparison in self.comparisons:
            if comparison.name == name:
                return comparison
        raise KeyError(f"no gradient named {name!r}; checked: {[c.name for c in self.comparisons]}")

    def __iter__(self):
        return iter(self.comparisons)

    def __len__(self):
        return len(self.comparisons)

    def __bool__(self):
        return self.passed

    def raise_if_failed(self):
        """Raise :class:`GradientCheckError` naming every wrong gradient; return self otherwise."""
        failures = self.failures
        if failures:
            lines = [f.describe_failure() for f in failures]
            raise GradientCheckError(
                f"{len(failures)} of {len(self.comparisons)} gradients failed the check "
                f"(tolerance |a - n| <= {self.atol:g} + {self.rtol:g} * max(|a|, |n|)):\n- "
                + "\n- ".join(lines)
            )
        return self

    def __str__(self):
        header = [
            "gradient",
            "shape",
            "max abs err",
            "max rel err",
            "worst index",
            "analytic",
            "numerical",
            "ok",
        ]
        rows = [
            [
                c.name,
                str(c.shape),
                f"{c.max_abs_error:.2e}",
                f"{c.max_rel_error:.2e}",
                str(c.worst_index),
                f"{c.analytic:.6g}",
                f"{c.numerical:.6g}",
                "pass" if c.passed else "FAIL",
            ]
            for c in self.comparisons
        ]
        widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in [header] + rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        verdict = "all gradients pass" if self.passed else f"{len(self.failures)} gradient(s) FAIL"
        lines.append(f"{verdict} (|a - n| <= {self.atol:g} + {self.rtol:g} * max(|a|, |n|))")
        lines.extend(self.notes)
        return "\n".join(lines)

    def __repr__(self):
        status = "passed" if self.passed else f"failed: {[c.name for c in self.failures]}"
        return f"<GradCheckResult {len(self.comparisons)} gradients, {status}>"


def _scalar(f, name):
    value = f()
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must return a single real number, got {describe(value)}")
    return float(array.reshape(()))


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = DEFAULT_EPS
) -> np.ndarray:
    """Central-difference gradient of a scalar function, one entry at a time.

    ``x`` is changed in place while probing and restored afterwards, so ``f`` may read it
    either as its argument or through a closure (how :func:`check_layer` probes weights).

    Parameters
    ----------
    f : callable
        ``f(x) -> float``.
    x : ndarray of float64, any shape
        The point to differentiate at. Must be float64 so that nudges of ``eps`` register.
    eps : float, optional
        Step size.

    Returns
    -------
    ndarray, same shape as ``x``
        ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every entry ``i``.

    Examples
    --------
    The gradient of ``sum(x**2)`` is ``2x``:

    >>> numerical_gradient(lambda x: np.sum(x**2), np.array([1.0, -3.0])).round(6)
    array([ 2., -6.])
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(
            f"x must be a float64 ndarray (nudges of {eps:g} vanish in float32), got {describe(x)}"
        )
    grad = np.zeros_like(x)
    flat_x = x.reshape(-1)  # a view, so writing to it moves x
    if not np.shares_memory(flat_x, x):
        raise ValueError("x must be contiguous so it can be nudged in place; pass np.ascontiguousarray(x)")
    flat_grad = grad.reshape(-1)
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + eps
        plus = _scalar(lambda: f(x), "f")
        flat_x[i] = original - eps
        minus = _scalar(lambda: f(x), "f")
        flat_x[i] = original
        flat_grad[i] = (plus - minus) / (2 * eps)
    return grad


def check_gradient(
    f: Callable[[np.ndarray], float],
    x: ArrayLike,
    analytic_grad: ArrayLike,
    name: str = "x",
    eps: float = DEFAULT_EPS,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> GradCheckResult:
    """Compare an analytic gradient of a plain function with the numerical one.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``, a scalar function of the array.
    x : array_like, any shape
        Where to differentiate; converted to float64 (a copy, yours is left alone).
    analytic_grad : array_like, same shape as ``x``
        Your gradient of ``f`` at ``x``.
    name : str, optional
        What to call ``x`` in the report.
    eps, rtol, atol : float, optional
        Step size and tolerance: an entry passes when ``|a - n| <= atol + rtol * max(|a|, |n|)``.

    Returns
    -------
    GradCheckResult

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> check_gradient(lambda x: np.sum(x**3), x, 3 * x**2).passed
    True
    >>> check_gradient(lambda x: np.sum(x**3), x, 2 * x**2).passed
    False

    A typical lesson 07 use: is my ``conv2d_backward``'s ``dx`` right? Multiply the output by a
    fixed random ``dout`` so the function is a scalar whose gradient is exactly ``dx``::

        f = lambda x: np.sum(conv2d(x, w) * dout)
        print(check_gradient(f, x, my_conv2d_backward(dout, x, w)[0]))
    """
    x = np.array(as_array("x", x), dtype=np.float64)  # a private copy: we nudge it
    analytic_grad = as_array("analytic_grad", analytic_grad, dtype=np.float64)
    if analytic_grad.shape != x.shape:
        raise ValueError(
            f"analytic_grad must have the shape of x, {x.shape}, got shape {analytic_grad.shape}"
        )
    numerical = numerical_gradient(f, x, eps=eps)
    return GradCheckResult([compare(name, analytic_grad, numerical, rtol, atol)], rtol, atol)


def check_operation(
    forward: Callable[..., ArrayLike],
    backward: Callable[..., ArrayLike | tuple[ArrayLike, ...]],
    inputs: dict[str, ArrayLike],
    dout: ArrayLike | None = None,
    seed: int = 0,
    eps: float = DEFAULT_EPS,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> GradCheckResult:
    """Check an ``op_backward`` against its ``op`` for every input at once.

    Uses the package convention ``op(*inputs) -> out`` and
    ``op_backward(dout, *inputs) -> (d input_1, d input_2, ...)``. The scalar checked is
    ``sum(op(*inputs) * dout)`` for a fixed random ``dout``, whose gradient with respect to each
    input is exactly what ``op_backward(dout, ...)`` should return.

    Parameters
    ----------
    forward : callable
        ``forward(*arrays) -> ndarray``.
    backward : callable
        ``backward(dout, *arrays)`` returning one gradient per input, in order (a single array
        when there is one input).
    inputs : dict of str to array_like
        The inputs by name, in the order ``forward`` takes them; names appear in the report.
    dout : array_like, optional
        Upstream gradient, shape of the output; random normal (seeded) by default.
    seed : int, optional
        Seed for ``dout``.

    Returns
    -------
    GradCheckResult

    Examples
    --------
    Elementwise product: ``d(x*w)/dx = w * dout`` and ``d/dw = x * dout``. Swapping them is a
    classic slip, and the report names both inputs:

    >>> def times(x, w): return x * w
    >>> def times_backward(dout, x, w): return dout * x, dout * w      # swapped!
    >>> result = check_operation(times, times_backward, {"x": [1.0, 2.0], "w": [3.0, 5.0]})
    >>> [(c.name, c.passed) for c in result]
    [('x', False), ('w', False)]
    """
    if not isinstance(inputs, dict) or not inputs:
        raise TypeError(f"inputs must be a non-empty dict of name -> array, got {describe(inputs)}")
    names = list(inputs)
    arrays = [np.array(as_array(name, value), dtype=np.float64) for name, value in inputs.items()]
    out = np.asarray(forward(*arrays))
    if dout is None:
        dout = np.random.default_rng(seed).standard_normal(out.shape)
    dout = as_array("dout", dout, dtype=np.float64)
    if dout.shape != out.shape:
        raise ValueError(f"dout must have the output's shape {out.shape}, got shape {dout.shape}")
    grads = backward(dout, *[a.copy() for a in arrays])
    if len(arrays) == 1 and not isinstance(grads, (tuple, list)):
        grads = (grads,)
    if not isinstance(grads, (tuple, list)) or len(grads) < len(arrays):
        raise ValueError(
            f"backward must return one gradient per input ({', '.join(names)}), got {describe(grads)}"
        )
    comparisons = []
    for k, (name, array) in enumerate(zip(names, arrays, strict=True)):

        def scalar(_):
            return float(np.sum(np.asarray(forward(*arrays)) * dout))

        numerical = numerical_gradient(scalar, array, eps=eps)
        comparisons.append(compare(name, grads[k], numerical, rtol, atol))
    return GradCheckResult(comparisons, rtol, atol)


def check_layer(
    layer,
    x: ArrayLike,
    dout: ArrayLike | None = None,
    seed: int = 0,
    check_input: bool = True,
    eps: float = DEFAULT_EPS,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> GradCheckResult:
    """Check a layer's ``backward`` for every parameter and for its input.

    The scalar checked is ``sum(layer.forward(x) * dout)`` for a fixed random ``dout``: its
    gradient with respect to the input is what ``layer.backward(dout)`` returns, and with respect
    to each parameter it is ``layer.grads[name]``. Make the layer with ``dtype=np.float64``.

    Parameters
    ----------
    layer : layer with ``forward``, ``backward``, ``params`` and ``grads``
    x : array_like
        A small input, e.g. shape (2, 3, 5, 5).
    dout : array_like, optional
        Upstream gradient (random normal, seeded, by default).
    check_input : bool, optional
        Also check the gradient with respect to ``x``.

    Returns
    -------
    GradCheckResult
        One comparison per parameter (named by its key) and one named ``"input"``.

    Examples
    --------
    >>> from cnn_helpers.layers import Dense
    >>> result = check_layer(Dense(3, 2, rng=0, dtype=np.float64), np.ones((4, 3)))
    >>> [(c.name, c.passed) for c in result]
    [('W', True), ('b', True), ('input', True)]
    """
    _require_float64(layer.params.items())
    x = np.array(as_array("x", x), dtype=np.float64)
    out = np.asarray(layer.forward(x.copy()))
    if dout is None:
        dout = np.random.default_rng(seed).standard_normal(out.shape)
    dout = as_array("dout", dout, dtype=np.float64)
    if dout.shape != out.shape:
        raise ValueError(f"dout must have the layer's output shape {out.shape}, got shape {dout.shape}")
    # Analytic gradients first (and copied): the probing forwards below overwrite the caches.
    dx = layer.backward(dout.copy())
    analytic = {name: _copy_grad(layer, name) for name in layer.params}
    dx = None if dx is None else np.array(dx, dtype=np.float64)

    def scalar(_):
        return float(np.sum(np.asarray(layer.forward(x)) * dout))

    comparisons = [
        compare(name, analytic[name], numerical_gradient(scalar, param, eps), rtol, atol)
        for name, param in layer.params.items()
    ]
    notes = []
    if check_input:
        if dx is None:
            notes.append("input gradient not checked: backward returned None (needs_input_grad=False)")
        else:
            comparisons.append(compare("input", dx, numerical_gradient(scalar, x, eps), rtol, atol))
    return GradCheckResult(comparisons, rtol, atol, notes)


def check_model(
    model,
    loss,
    x: ArrayLike,
    y: ArrayLike,
    check_input: bool = True,
    eps: float = DEFAULT_EPS,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> GradCheckResult:
    """Check a whole model's backward pass through its loss.

    Parameters
    ----------
    model : Sequential
        Built with float64 layers.
    loss : SoftmaxCrossEntropy or similar
        ``loss.forward(logits, y) -> float`` and ``loss.backward() -> dlogits``.
    x : array_like, shape (N, ...)
        A small batch.
    y : array_like of int, shape (N,)
        Its labels.
    check_input : bool, optional
        Also check the gradient with respect to ``x`` (skipped, with a note, when the first
        layer does not compute it).

    Returns
    -------
    GradCheckResult
        One comparison per parameter, named like ``"layers[0].W (Conv2D)"``, and ``"input"``.

    Examples
    --------
    >>> from cnn_helpers.layers import Dense, ReLU, SoftmaxCrossEntropy
    >>> from cnn_helpers.model import Sequential
    >>> model = Sequential(Dense(4, 5, rng=0, dtype=np.float64), ReLU(), Dense(5, 3, rng=1, dtype=np.float64))
    >>> x = np.random.default_rng(0).standard_normal((6, 4))
    >>> check_model(model, SoftmaxCrossEntropy(), x, [0, 1, 2, 0, 1, 2]).passed
    True
    """
    # Leaf parameters (inside blocks too), each labelled by its path: "layers[2].branch.0.W (Conv2D)".
    triples = [
        (f"layers[{i}].{path}", leaf, name, param)
        for i, layer in enumerate(model.layers)
        for path, leaf, name, param in _named_parameters(layer)
    ]
    label = {id(param): f"{path} ({type(leaf).__name__})" for path, leaf, _, param in triples}
    _require_float64((label[id(p)], p) for _, _, _, p in triples)
    x = np.array(as_array("x", x), dtype=np.float64)

    loss.forward(model.forward(x.copy()), y)
    dx = model.backward(loss.backward())
    analytic = {id(param): np.array(layer.grads[name], dtype=np.float64) for _, layer, name, param in triples}

    def scalar(_):
        return float(loss.forward(model.forward(x), y))

    comparisons = [
        compare(label[id(param)], analytic[id(param)], numerical_gradient(scalar, param, eps), rtol, atol)
        for _, _, _, param in triples
    ]
    notes = []
    if check_input:
        if dx is None:
            notes.append("input gradient not checked: the first layer skips it (needs_input_grad=False)")
        else:
            comparisons.append(compare("input", dx, numerical_gradient(scalar, x, eps), rtol, atol))
    return GradCheckResult(comparisons, rtol, atol, notes)


def assert_gradients_correct(result: GradCheckResult) -> GradCheckResult:
    """Raise :class:`GradientCheckError` unless every gradient in ``result`` passed.

    The message names each wrong gradient, the index where it is worst, the analytic and
    numerical values there, and the largest absolute and relative errors.

    Parameters
    ----------
    result : GradCheckResult
        From :func:`check_gradient`, :func:`check_operation`, :func:`check_layer` or
        :func:`check_model`.

    Returns
    -------
    GradCheckResult
        The same result, when it passed.

    Examples
    --------
    >>> x = np.array([1.0, 2.0])
    >>> assert_gradients_correct(check_gradient(lambda x: np.sum(x**2), x, 2 * x)).passed
    True
    >>> assert_gradients_correct(check_gradient(lambda x: np.sum(x**2), x, x, name="x"))
    Traceback (most recent call last):
    ...
    cnn_helpers.gradcheck.GradientCheckError: 1 of 1 gradients failed the check (tolerance |a - n| <= 1e-08 + 1e-05 * max(|a|, |n|)):
    - gradient of x is wrong: at index (1,) the analytic value is 2 but the numerical one is 4 (max abs error 2, max rel error 0.5)
    """
    if not isinstance(result, GradCheckResult):
        raise TypeError(
            f"result must be a GradCheckResult (from check_layer, check_gradient, ...), got {describe(result)}"
        )
    return result.raise_if_failed()


def _require_float64(named_params):
    for name, param in named_params:
        if param.dtype != np.float64:
            raise TypeError(
                f"parameter {name} is {param.dtype}; gradient checks need float64 "
                "(build the layer with dtype=np.float64)"
            )


def _named_parameters(layer):
    """``(path, leaf, name, array)`` for a layer's parameters, walking into blocks."""
    if hasattr(layer, "_named_parameters"):
        yield from layer._named_parameters()
    else:  # a layer written without the package's base class
        for name, array in layer.params.items():
            yield name, layer, name, array


def _copy_grad(layer, name):
    grad = layer.grads.get(name)
    if grad is None:
        raise RuntimeError(f"backward did not fill grads[{name!r}] of {layer!r}")
    return np.array(grad, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Relative error (lesson 07): the number a gradient check reports


def relative_error(analytic: ArrayLike, numerical: ArrayLike) -> float:
    """Largest relative error between two gradients, the number a gradient check judges (lesson 07).

    For each entry ``|a - n| / max(|a|, |n|)``, counted as 0 where both are 0; the result is the
    largest over all entries. Unlike an absolute threshold it does not depend on the gradients'
    scale: an error of 1e-7 is rounding on a gradient of 100 but a bug on a gradient of 1e-7.
    It is the ``max_rel_error`` that :func:`compare` reports.

    Parameters
    ----------
    analytic, numerical : array_like, same shape
        The formula's gradient and the central-difference one.

    Returns
    -------
    float
        Between 0 (equal) and 2 (opposite signs); ``inf`` if an entry is NaN.

    Examples
    --------
    >>> relative_error([3.0, 0.0, 2.0], [3.0, 0.0, 2.5])
    0.2
    """
    analytic = as_array("analytic", analytic, dtype=np.float64)
    numerical = as_array("numerical", numerical, dtype=np.float64)
    if analytic.shape != numerical.shape:
        raise ValueError(
            f"analytic and numerical must have the same shape, got {analytic.shape} and {numerical.shape}"
        )
    if analytic.size == 0:
        return 0.0
    return compare("gradient", analytic, numerical).max_rel_error
