"""Input checks shared by every public function.

Each helper raises a ``TypeError`` or ``ValueError`` whose message names the argument, says
what was expected and what came in, so a learner reads a sentence instead of a traceback from
deep inside NumPy.

Each public function checks its arguments once, at the top; the private helpers it calls trust
them and check nothing again.
"""

from __future__ import annotations

import math
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
# Class labels: the one rule every module follows (layers, training, metrics)
# ----------------------------------------------------------------------------------------------


def as_labels(name: str, labels, n=None, num_classes=None) -> np.ndarray:
    """Class labels as an int array of shape ``(n,)``, each in ``[0, num_classes)``.

    The one rule for labels, shared by the losses, ``fit`` and the metrics: integers, or floats
    that are whole numbers (``3.0`` is a fine label, ``2.5`` is not); never booleans. A value
    out of range is printed as it was given.

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    labels : array_like
    n : int, optional
        The number of examples the labels belong to; any length when None.
    num_classes : int, optional
        When given, every label must be below it; otherwise only ``>= 0`` is checked.

    Examples
    --------
    >>> as_labels("y", [2.0, 0], 2, num_classes=3)
    array([2, 0])
    >>> as_labels("y", [0, 1e20, 2], 3, num_classes=3)
    Traceback (most recent call last):
    ...
    ValueError: y must be class indices in [0, 3), got 1e+20
    """
    given = labels
    try:
        labels = np.asarray(labels)
    except ValueError as error:  # ragged nested lists
        raise TypeError(f"{name} must be a 1-D array of class indices, got {describe(given)}") from error
    kind = labels.dtype.kind
    if kind not in "iuf" or (kind == "f" and labels.size and not np.all(np.isfinite(labels))):
        raise TypeError(f"{name} must hold integer class indices, got {describe(given)}")
    if labels.ndim != 1 or (n is not None and labels.shape != (n,)):
        if n is None:
            raise ValueError(f"{name} must be a 1-D array of class indices, got shape {labels.shape}")
        raise ValueError(
            f"{name} must have shape ({n},), one class index per example, got shape {labels.shape}"
        )
    if kind == "f" and np.any(labels != np.round(labels)):
        bad = labels[labels != np.round(labels)][0]
        raise TypeError(f"{name} must hold integer class indices (whole numbers), got {bad.item()!r}")
    upper = np.inf if num_classes is None else num_classes
    out_of_range = (labels < 0) | (labels >= upper)
    if kind == "f":
        out_of_range |= np.abs(labels) >= 2**53  # beyond that, floats are no longer exact integers
    elif kind == "u" and labels.dtype.itemsize >= np.dtype(np.intp).itemsize:
        out_of_range |= labels > np.iinfo(np.intp).max  # would wrap round to a negative index
    if np.any(out_of_range):
        bad = labels[out_of_range][0].item()
        # without num_classes, the limit is what an index can hold exactly
        limit = num_classes if num_classes is not None else ("2**53" if kind == "f" else "2**63")
        wanted = f"in [0, {limit})"
        raise ValueError(f"{name} must be class indices {wanted}, got {bad!r}")
    return labels.astype(np.intp, copy=False)


# ----------------------------------------------------------------------------------------------
# Flags, numbers and images (data sets, image transforms and optimisers)
# ----------------------------------------------------------------------------------------------


def as_bool(name: str, value) -> bool:
    """Return ``value`` as a bool, accepting only True and False (also NumPy's).

    >>> as_bool("grey", True)
    True
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {describe(value)}")
    return bool(value)


def as_fraction(name: str, value) -> float:
    """Return ``value`` as a float strictly between 0 and 1.

    >>> as_fraction("test_fraction", 0.25)
    0.25
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number between 0 and 1, got {describe(value)}")
    if not 0 < value < 1:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value}")
    return float(value)


def as_non_negative(name: str, value) -> float:
    """Return ``value`` as a float of at least 0 (NaN is refused).

    >>> as_non_negative("noise", 0.1)
    0.1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number >= 0, got {describe(value)}")
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return float(value)


def as_float(name: str, value, minimum=None, below=None, positive=False) -> float:
    """Return ``value`` as a finite float, checking its range: ``minimum <= value < below``.

    ``positive=True`` also requires ``value > 0``. Booleans, strings, NaN and infinity are refused.

    >>> as_float("lr", 0.1, positive=True)
    0.1
    >>> as_float("momentum", 1.0, minimum=0.0, below=1.0)
    Traceback (most recent call last):
    ...
    ValueError: momentum must be < 1.0, got 1.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if below is not None and value >= below:
        raise ValueError(f"{name} must be < {below}, got {value}")
    return value


def as_choice(name: str, value, choices) -> str:
    """Return ``value`` when it is one of the strings ``choices`` (a tuple, or a dict's keys).

    >>> as_choice("kind", "circle", ("square", "circle"))
    'circle'
    >>> as_choice("kind", "hexagon", ("square", "circle"))
    Traceback (most recent call last):
    ...
    ValueError: kind must be one of ('square', 'circle'), got 'hexagon'
    """
    choices = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {choices}, got {describe(value)}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def as_images(name: str, value) -> np.ndarray:
    """Return ``value`` as an array of one image (H, W) or a batch (..., H, W).

    >>> as_images("x", [[1, 2]]).shape
    (1, 2)
    """
    array = as_array(name, value)
    if array.ndim < 2:
        raise ValueError(f"{name} must be an image (H, W) or a batch (..., H, W), got shape {array.shape}")
    return array
