"""Tests for cnn_helpers._validation: pairs, floats, choices and the one labels rule."""

import numpy as np
import pytest

from cnn_helpers._validation import as_choice, as_float, as_labels, as_pair


def test_as_pair_accepts_ints_pairs_and_length_two_integer_arrays():
    assert as_pair("padding", 1) == (1, 1)
    assert as_pair("stride", [2, 1], minimum=1) == (2, 1)
    assert as_pair("kernel_size", np.array([3, 2])) == (3, 2)
    assert as_pair("kernel_size", np.array(np.zeros((7, 5)).shape) // 2) == (3, 2)
    assert all(type(v) is int for v in as_pair("size", np.array([3, 2], dtype=np.int32)))


@pytest.mark.parametrize(
    "value, error, message",
    [
        (np.array([1, 2, 3]), ValueError, r"padding must be an int or an \(h, w\) pair, got \(.*\)"),
        (np.array([1.0, 2.0]), TypeError, r"padding\[0\] must be an integer, got float64"),
        (
            np.ones((2, 2), dtype=int),
            TypeError,
            r"padding must be an int or an \(h, w\) pair, got an array of shape \(2, 2\)",
        ),
        (np.array([1, -1]), ValueError, r"padding\[1\] must be >= 0, got -1"),
    ],
)
def test_as_pair_rejects(value, error, message):
    with pytest.raises(error, match=message):
        as_pair("padding", value, minimum=0)


def test_as_float_accepts_real_numbers_in_range():
    assert as_float("lr", 1) == 1.0 and type(as_float("lr", 1)) is float
    assert as_float("lr", np.float32(0.5), positive=True) == 0.5
    assert as_float("momentum", 0, minimum=0.0, below=1.0) == 0.0
    assert as_float("shift", -3.5) == -3.5  # no range given, any finite number


@pytest.mark.parametrize(
    "value, kwargs, error, message",
    [
        (True, {}, TypeError, r"x must be a real number, got bool True"),
        ("0.1", {}, TypeError, r"x must be a real number, got str '0\.1'"),
        (None, {}, TypeError, r"x must be a real number, got NoneType None"),
        (float("nan"), {}, ValueError, r"x must be finite, got nan"),
        (float("-inf"), {"minimum": 0.0}, ValueError, r"x must be finite, got -inf"),
        (0.0, {"positive": True}, ValueError, r"x must be > 0, got 0\.0"),
        (-0.5, {"minimum": 0.0}, ValueError, r"x must be >= 0\.0, got -0\.5"),
        (1.0, {"below": 1.0}, ValueError, r"x must be < 1\.0, got 1\.0"),
    ],
)
def test_as_float_rejects(value, kwargs, error, message):
    with pytest.raises(error, match=message):
        as_float("x", value, **kwargs)


def test_as_choice_takes_a_tuple_or_a_dicts_keys():
    assert as_choice("mode", "avg", ("max", "avg")) == "avg"
    assert as_choice("kind", "fashion", {"digits": 1, "fashion": 2}) == "fashion"
    with pytest.raises(ValueError, match=r"kind must be one of \('digits', 'fashion'\), got 'Digits'"):
        as_choice("kind", "Digits", {"digits": 1, "fashion": 2})
    with pytest.raises(
        TypeError, match=r"mode must be a string, one of \('max', 'avg'\), got list \['max'\]"
    ):
        as_choice("mode", ["max"], ("max", "avg"))


def test_as_labels_accepts_integers_and_whole_floats():
    for labels in ([0, 2, 1], np.array([0, 2, 1], dtype=np.uint8), [0.0, 2.0, 1.0]):
        out = as_labels("labels", labels, n=3, num_classes=3)
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out, [0, 2, 1])
    assert as_labels("labels", [], n=0).shape == (0,)


@pytest.mark.parametrize(
    "labels, kwargs, error, message",
    [
        ([0, 1.5, 2], {}, TypeError, r"labels must hold integer class indices \(whole numbers\), got 1.5$"),
        ([0, np.nan], {}, TypeError, r"labels must hold integer class indices, got list \[0, nan\]"),
        ([0, np.inf], {}, TypeError, r"got list \[0, inf\]"),
        (
            [0, 1e20, 2],
            {"num_classes": 10},
            ValueError,
            r"labels must be class indices in \[0, 10\), got 1e\+20$",
        ),
        ([0, 1e20, 2], {}, ValueError, r"labels must be class indices in \[0, 2\*\*53\), got 1e\+20$"),
        ([0, 10], {"num_classes": 10}, ValueError, r"got 10$"),
        ([-1, 0], {"num_classes": 10}, ValueError, r"got -1$"),
        (np.array([2**64 - 1], dtype=np.uint64), {}, ValueError, r"got 18446744073709551615$"),
        ([True, False], {}, TypeError, r"labels must hold integer class indices, got list \[True, False\]"),
        (["a"], {}, TypeError, r"labels must hold integer class indices, got list \['a'\]"),
        (None, {}, TypeError, r"labels must hold integer class indices, got NoneType None"),
        ([[0, 1]], {}, ValueError, r"labels must be a 1-D array of class indices, got shape \(1, 2\)"),
        (
            [0, 1],
            {"n": 3},
            ValueError,
            r"labels must have shape \(3,\), one class index per example, got shape \(2,\)",
        ),
    ],
)
def test_as_labels_rejects_with_the_value_as_given(labels, kwargs, error, message):
    with pytest.raises(error, match=message):
        as_labels("labels", labels, **kwargs)
    assert "-9223372036854775808" not in message
