"""Oracles the tests share, written independently of the package they check."""

import numpy as np


def numerical_gradient(f, array, eps=1e-6):
    """Central differences of the scalar function f() with respect to every entry of array (in place).

    Deliberately separate from ``cnn_helpers.gradcheck``, which is itself under test.
    """
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + eps
        plus = f()
        array[index] = saved - eps
        minus = f()
        array[index] = saved
        grad[index] = (plus - minus) / (2 * eps)
    return grad
