"""Input checks shared by every public function.

Each helper raises a ``TypeError`` or ``ValueError`` whose message names the argument, says
what was expected and what came in, so a learner reads a sentence instead of a traceback from
deep inside NumPy.

Each public function checks its arguments once, at the top; the private helpers it calls trust
them and check nothing again.
"""

from __future__ import annotations

import numbers

import numpy as np


def describe(value) -> str:
    """A short description of a value for error messages: shape for arrays, type otherwise."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:120]


def as_array(name: str, value, ndim=None, dtype=None) -> np.ndarray:
    """Return ``value`` as a real numeric ndarray, checking its number of dimensions.

    Parameters
    ----------
    name : str
        The argument's name, used in error messages.
    value : array_like
        What the caller passed.
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    dtype : numpy dtype, optional
        Convert to this dtype. By default floats keep their precision and everything else
        (bool, int) becomes float64.

    Raises
    ------
    TypeError
        If ``value`` is not numeric (strings, objects, complex numbers, None).
    ValueError
        If ``value`` has the wrong number of dimensions.

    Examples
    --------
    >>> as_array("image", [[1, 2], [3, 4]], ndim=2).dtype
    dtype('float64')
    """
    if value is None:
        raise TypeError(f"{name} must be a numeric array, got None")
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nested lists
        raise TypeError(f"{name} must be a rectangular numeric array, got {describe(value)}") from error
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers, got an array of dtype {array.dtype}"
            + (f" ({describe(value)})" if not isinstance(value, np.ndarray) else "")
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            wanted = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be a {wanted} array, got shape {array.shape} ({array.ndim}-D)")
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    return array


def as_int(name: str, value, minimum=None) -> int:
    """Return ``value`` as a Python int, checking that it is an integer of at least ``minimum``.

    >>> as_int("stride", 2, minimum=1)
    2
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def as_pair(name: str, value, minimum=None) -> tuple[int, int]:
    """Return an int or an (h, w) pair as a pair of ints, each at least ``minimum``.

    >>> as_pair("padding", 1)
    (1, 1)
    >>> as_pair("stride", (2, 1), minimum=1)
    (2, 1)
    >>> as_pair("kernel_size", np.array([3, 2]))
    (3, 2)
    """
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = tuple(value)  # a length-2 integer array, e.g. np.array(image.shape) // 2
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        return (as_int(f"{name}[0]", value[0], minimum), as_int(f"{name}[1]", value[1], minimum))
    if isinstance(value, np.ndarray) and value.ndim > 0:
        raise TypeError(f"{name} must be an int or an (h, w) pair, got {describe(value)}")
    single = as_int(name, value, minimum)
    return (single, single)


def float_dtype(*arrays) -> type:
    """The dtype to compute in: float32 when every given array is float32, else float64.

    Training runs in float32 for speed; everything else (ints, bools, float64, a mix) computes
    in float64 so that lesson numbers are exact. ``None`` entries are skipped.

    >>> float_dtype(np.zeros(2, np.float32), np.zeros(2, np.float32)).__name__
    'float32'
    >>> float_dtype(np.zeros(2, np.float32), np.zeros(2)).__name__
    'float64'
    """
    given = [array for array in arrays if array is not None]
    if given and all(array.dtype == np.float32 for array in given):
        return np.float32
    return np.float64


# ----------------------------------------------------------------------------------------------
# Class labels: the one rule every module follows (layers, training, data)
# ----------------------------------------------------------------------------------------------

def _show(value) -> str:
    """A value as the learner wrote it: ``1e+20`` and ``1.5``, never a wrapped or cast number."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def as_labels(name: str, labels, n=None, num_classes=None) -> np.ndarray:
    """Return class labels as a 1-D int64 array, checking every value is a class index.

    The rule: integer dtypes, and floats that are whole numbers (``[1.0, 2.0]`` is accepted,
    ``1.5`` is not), each at least 0 and below ``num_classes`` when it is given (else within
    int64). Booleans, strings, NaN and infinities are refused. A refused value is printed as it
    was given (``1e+20``), never as what a cast would make of it.

    Parameters
    ----------
    name : str
        The argument's name, used in error messages.
    labels : array_like, shape (N,)
    n : int, optional
        The number of examples the labels must match (``len(x)`` or ``len(logits)``).
    num_classes : int, optional
        Labels must be in ``0 .. num_classes - 1``.

    Raises
    ------
    TypeError
        If ``labels`` is not numeric, or holds booleans.
    ValueError
        Wrong shape or length, a non-whole number, or a value out of range.

    Examples
    --------
    >>> as_labels("labels", [0, 2.0, 1], n=3, num_classes=3)
    array([0, 2, 1])
    >>> as_labels("labels", [0, 1e20, 2], num_classes=10)
    Traceback (most recent call last):
    ...
    ValueError: labels must be class indices 0..9 (10 classes), got 1e+20 at index 1
    """
    if labels is None:
        raise TypeError(f"{name} must be an array of integer class indices, got None")
    try:
        array = np.asarray(labels)
    except ValueError as error:  # ragged nested lists
        raise TypeError(f"{name} must be a flat array of integer class indices, got {describe(labels)}") from error
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold integer class indices, got an array of dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class indices, got shape {array.shape} ({array.ndim}-D)")
    if n is not None and array.shape[0] != n:
        raise ValueError(f"{name} must have one label per example ({n}), got {array.shape[0]}")
    if array.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            not_whole = ~np.isfinite(array) | (array != np.floor(array))
        if not_whole.any():
            index = int(np.argmax(not_whole))
            raise ValueError(
                f"{name} must be whole numbers (class indices), got {_show(array[index])} at index {index}"
            )
    if num_classes is not None:
        num_classes = as_int("num_classes", num_classes, minimum=1)
        high, wanted = num_classes - 1, f"class indices 0..{num_classes - 1} ({num_classes} classes)"
    else:
        high, wanted = np.iinfo(np.int64).max, "class indices >= 0 that fit in int64"
    outside = (array < 0) | (array > high)
    if outside.any():
        index = int(np.argmax(outside))
        raise ValueError(f"{name} must be {wanted}, got {_show(array[index])} at index {index}")
    return array.astype(np.int64)


# ----------------------------------------------------------------------------------------------
# Validators from the other modules: merge api-layers' (optim, layers, training,
# architectures) and the data helper's (data, images) checks below this line.
# ----------------------------------------------------------------------------------------------
