"""Optimisers that update a model's parameters in place (lesson 08).

A model's ``backward`` fills every layer's ``grads`` dict; an optimiser's ``step()`` then moves
each array in the layers' ``params`` dicts a little against its gradient. The arrays are updated
in place (``param -= ...``), never rebound, so the layers, the optimiser and any plot that holds
a reference to a weight all see the same numbers.

- :class:`SGD`: plain gradient descent, optionally with momentum.
- :class:`Adam`: per-parameter step sizes from running averages of the gradient and its square.

Both follow the update rules of ``torch.optim`` so the tests can compare them step by step.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from cnn_helpers._validation import as_float, describe

if TYPE_CHECKING:
    from cnn_helpers.layers import Layer

__all__ = ["Optimiser", "SGD", "Adam", "collect_parameters"]


def collect_parameters(model_or_params) -> list[tuple[Layer, str, np.ndarray]]:
    """List the ``(layer, name, array)`` triples an optimiser will update.

    Each triple names a leaf layer (a Conv2D inside a block, say) and a key of its own
    ``params``, so the gradient is ``layer.grads[name]``: read straight from the leaf, with no
    dict rebuilt per step.

    Parameters
    ----------
    model_or_params : Sequential, layer, or iterable of layers or of (layer, name, array)
        Anything with a ``parameters()`` method (a model or a layer), or a list of layers.

    Returns
    -------
    list of (layer, str, ndarray)

    Examples
    --------
    >>> from cnn_helpers.layers import Dense
    >>> [(name, array.shape) for _, name, array in collect_parameters(Dense(3, 2))]
    [('W', (3, 2)), ('b', (2,))]
    """
    if hasattr(model_or_params, "parameters") and callable(model_or_params.parameters):
        triples = list(model_or_params.parameters())
    else:
        try:
            items = list(model_or_params)
        except TypeError:
            raise TypeError(
                "model_or_params must be a model, a layer or a list of layers, "
                f"got {describe(model_or_params)}"
            ) from None
        triples = []
        for item in items:
            if hasattr(item, "parameters") and callable(item.parameters):
                triples.extend(item.parameters())
            elif isinstance(item, tuple) and len(item) == 3 and isinstance(item[2], np.ndarray):
                triples.append(item)
            else:
                raise TypeError(
                    f"model_or_params must hold layers or (layer, name, array) triples, got {describe(item)}"
                )
    for layer, name, array in triples:
        if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
            raise TypeError(f"parameter {name!r} of {layer!r} must be a float array, got {describe(array)}")
    return triples


class Optimiser:
    """What every optimiser shares: the parameter list, ``zero_grad`` and gradient look-up.

    ``step()`` walks the ``(layer, name, array)`` triples of :func:`collect_parameters` and
    reads each gradient as ``layer.grads[name]`` from the leaf layer that owns the parameter.
    """

    def __init__(self, model_or_params, lr: float) -> None:
        self.lr = as_float("lr", lr, positive=True)
        self._triples = collect_parameters(model_or_params)
        if not self._triples:
            raise ValueError("model_or_params has no parameters to optimise")
        self.steps = 0

    def _gradient(self, layer, name, param):
        grad = layer.grads.get(name)
        if grad is None:
            raise RuntimeError(
                f"no gradient for parameter {name!r} of {layer!r}: "
                "call the model's backward(...) before the optimiser's step()"
            )
        if grad.shape != param.shape:
            raise ValueError(
                f"gradient for parameter {name!r} of {layer!r} has shape {grad.shape}, "
                f"expected the parameter's shape {param.shape}"
            )
        return grad

    def zero_grad(self) -> None:
        """Set every gradient to zero in place (``backward`` overwrites them anyway)."""
        for layer, name, _ in self._triples:
            grad = layer.grads.get(name)
            if grad is not None:
                grad[...] = 0

    def step(self) -> None:  # pragma: no cover - each optimiser defines its own
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr:g}, parameters={len(self._triples)})"


class SGD(Optimiser):
    """Stochastic gradient descent with optional momentum (lesson 07).

    Without momentum each step is ``param -= lr * grad``. With momentum a velocity remembers past
    gradients, which smooths the noisy mini-batch directions (PyTorch's form)::

        velocity = momentum * velocity + grad      # velocity starts at the first gradient
        param   -= lr * velocity

    Parameters
    ----------
    model_or_params : Sequential, layer, or list of layers
        Whose ``params`` to update; gradients are read from the matching ``grads``.
    lr : float
        Learning rate, > 0.
    momentum : float, optional
        In [0, 1). 0 (the default) is plain gradient descent.

    Examples
    --------
    >>> from cnn_helpers.layers import Dense
    >>> layer = Dense(1, 1, rng=0)
    >>> layer.params["W"][...] = 1.0
    >>> layer.grads["W"] = np.array([[0.5]], dtype=np.float32)
    >>> layer.grads["b"] = np.array([0.0], dtype=np.float32)
    >>> SGD(layer, lr=0.1).step()
    >>> float(layer.params["W"][0, 0])        # 1 - 0.1 * 0.5
    0.95
    """

    def __init__(self, model_or_params, lr: float, momentum: float = 0.0) -> None:
        super().__init__(model_or_params, lr)
        self.momentum = as_float("momentum", momentum, minimum=0.0, below=1.0)
        self.velocity = [None] * len(self._triples)

    def step(self) -> None:
        """Update every parameter in place from its current gradient."""
        for i, (layer, name, param) in enumerate(self._triples):
            grad = self._gradient(layer, name, param)
            if self.momentum:
                if self.velocity[i] is None:
                    self.velocity[i] = np.array(grad, dtype=param.dtype)  # copy: grads get reused
                else:
                    self.velocity[i] *= self.momentum
                    self.velocity[i] += grad
                grad = self.velocity[i]
            param -= self.lr * grad
        self.steps += 1

    def __repr__(self):
        return f"SGD(lr={self.lr:g}, momentum={self.momentum:g}, parameters={len(self._triples)})"


class Adam(Optimiser):
    """Adam: momentum plus a per-parameter step size (Kingma & Ba, 2015; lesson 08).

    For each parameter, with step count ``t`` starting at 1::

        m = beta1 * m + (1 - beta1) * grad             # running mean of the gradient
        v = beta2 * v + (1 - beta2) * grad**2          # running mean of its square
        param -= lr / (1 - beta1**t) * m / (sqrt(v / (1 - beta2**t)) + eps)

    The ``1 - beta**t`` terms undo the bias of ``m`` and ``v`` starting at zero. Dividing by
    ``sqrt(v)`` makes the step roughly ``lr`` in every coordinate, whatever the gradient's scale.
    This is exactly ``torch.optim.Adam``'s update (without weight decay).

    Parameters
    ----------
    model_or_params : Sequential, layer, or list of layers
    lr : float, optional
        Learning rate, > 0 (default 1e-3).
    betas : (float, float), optional
        Decay rates of the two running averages, each in [0, 1).
    eps : float, optional
        Added to the denominator so it is never zero.

    Examples
    --------
    The first step moves every parameter by about ``lr``, whatever its gradient's size:

    >>> from cnn_helpers.layers import Dense
    >>> layer = Dense(1, 1, rng=0)
    >>> layer.params["W"][...] = 1.0
    >>> layer.grads["W"] = np.array([[250.0]], dtype=np.float32)
    >>> layer.grads["b"] = np.array([-0.001], dtype=np.float32)
    >>> Adam(layer, lr=0.1).step()
    >>> round(float(layer.params["W"][0, 0]), 4), round(float(layer.params["b"][0]), 4)
    (0.9, 0.1)
    """

    def __init__(
        self, model_or_params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        super().__init__(model_or_params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {describe(betas)}")
        self.betas = (
            as_float("betas[0]", betas[0], minimum=0.0, below=1.0),
            as_float("betas[1]", betas[1], minimum=0.0, below=1.0),
        )
        self.eps = as_float("eps", eps, minimum=0.0)
        # All running averages live in one flat array per quantity (m, v, and scratch for the
        # gradient and the step), so a step is a dozen whole-model array operations instead of
        # a dozen per parameter. self.m[i] and self.v[i] are views shaped like parameter i.
        params = [param for _, _, param in self._triples]
        dtype = np.result_type(*params)
        sizes = [param.size for param in params]
        ends = np.cumsum(sizes).tolist()
        self._slices = [slice(end - size, end) for size, end in zip(sizes, ends, strict=True)]
        total = ends[-1]
        self._m_flat, self._v_flat = np.zeros(total, dtype), np.zeros(total, dtype)
        self._grad_flat, self._step_flat = np.empty(total, dtype), np.empty(total, dtype)
        self.m = [self._m_flat[part].reshape(p.shape) for part, p in zip(self._slices, params, strict=True)]
        self.v = [self._v_flat[part].reshape(p.shape) for part, p in zip(self._slices, params, strict=True)]

    def step(self) -> None:
        """Update every parameter in place from its current gradient."""
        beta1, beta2 = self.betas
        t = self.steps + 1
        step_size = self.lr / (1 - beta1**t)
        root_correction = math.sqrt(1 - beta2**t)
        grad, step, m, v = self._grad_flat, self._step_flat, self._m_flat, self._v_flat
        for (layer, name, param), part in zip(self._triples, self._slices, strict=True):
            grad[part].reshape(param.shape)[...] = self._gradient(layer, name, param)
        m *= beta1
        np.multiply(grad, 1 - beta1, out=step)
        m += step  # m = beta1 * m + (1 - beta1) * grad
        v *= beta2
        np.square(grad, out=step)
        step *= 1 - beta2
        v += step  # v = beta2 * v + (1 - beta2) * grad**2
        np.sqrt(v, out=step)
        step /= root_correction
        step += self.eps  # the denominator
        np.divide(m, step, out=step)
        step *= step_size
        for (_, _, param), part in zip(self._triples, self._slices, strict=True):
            param -= step[part].reshape(param.shape)
        self.steps = t

    def __repr__(self):
        return (
            f"Adam(lr={self.lr:g}, betas=({self.betas[0]:g}, {self.betas[1]:g}), eps={self.eps:g}, "
            f"parameters={len(self._triples)})"
        )
