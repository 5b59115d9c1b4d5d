"""Tests for cnn_helpers.pooling: known values, loops vs vectorised, PyTorch, gradients, ties, errors."""

import itertools

import numpy as np
import pytest

from cnn_helpers import pooling
from cnn_helpers.pooling import (
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_backward_loops,
    sum_pool2d,
    sum_pool2d_backward,
)

from _oracles import numerical_gradient

KINDS = ("max", "avg", "sum")


def pool_functions(kind):
    """(forward, forward_loops, backward, backward_loops) of one kind of pooling."""
    name = f"{kind}_pool2d"
    return tuple(getattr(pooling, name + suffix) for suffix in ("", "_loops", "_backward", "_backward_loops"))


SIZES = [1, 2, 3, (2, 3), (3, 1)]
STRIDES = [None, 1, 2, 3, (2, 1), (1, 2)]  # 1 and (2, 1) with size >= 2 overlap
SHAPES = [(7, 8), (2, 3, 7, 8)]
SWEEP = list(itertools.product(KINDS, SIZES, STRIDES, SHAPES))


# ----------------------------------------------------------------------------------------------
# Known values
# ----------------------------------------------------------------------------------------------

FOUR_BY_FOUR = np.array(
    [
        [1, 3, 2, 1],
        [4, 6, 5, 0],
        [7, 2, 9, 8],
        [1, 0, 3, 4],
    ]
)


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("max", [[6, 5], [7, 9]]),
        ("avg", [[3.5, 2], [2.5, 6]]),
        ("sum", [[14, 8], [10, 24]]),
    ],
)
def test_two_by_two_pooling_by_hand(kind, expected):
    forward, forward_loops, _, _ = pool_functions(kind)
    for pool in (forward, forward_loops):
        np.testing.assert_array_equal(pool(FOUR_BY_FOUR), expected)
        np.testing.assert_array_equal(pool(FOUR_BY_FOUR[None, None])[0, 0], expected)


def test_overlapping_max_pool_by_hand():
    expected = [[6, 6, 5], [7, 9, 9], [7, 9, 9]]
    for pool in (max_pool2d, pooling.max_pool2d_loops):
        np.testing.assert_array_equal(pool(FOUR_BY_FOUR, size=2, stride=1), expected)


def test_non_square_window_and_default_stride():
    out = max_pool2d(FOUR_BY_FOUR, size=(1, 4))
    np.testing.assert_array_equal(out, [[3], [6], [9], [4]])
    assert max_pool2d(np.zeros((7, 9)), size=(2, 3)).shape == (3, 3)  # stride defaults to size
    assert max_pool2d(np.zeros((7, 9)), size=3, stride=(1, 2)).shape == (5, 4)


def test_pooling_halves_a_batch_and_keeps_maps_apart(rng):
    x = rng.standard_normal((4, 3, 8, 6))
    out = max_pool2d(x)
    assert out.shape == (4, 3, 4, 3)
    for n, c in itertools.product(range(4), range(3)):
        np.testing.assert_array_equal(out[n, c], max_pool2d(x[n, c]))


# ----------------------------------------------------------------------------------------------
# Loops and vectorised versions agree (forward and backward, overlapping windows included)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, size, stride, shape", SWEEP)
def test_loops_match_vectorised(rng, kind, size, stride, shape):
    forward, forward_loops, backward, backward_loops = pool_functions(kind)
    x = rng.standard_normal(shape)
    out = forward(x, size, stride=stride)
    np.testing.assert_allclose(out, forward_loops(x, size, stride=stride), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(
        backward(dout, x, size, stride=stride),
        backward_loops(dout, x, size, stride=stride),
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size, stride", [(2, None), (2, 1), (3, 2), ((2, 3), (1, 2))])
def test_loops_match_vectorised_with_many_ties(rng, kind, size, stride):
    forward, forward_loops, backward, backward_loops = pool_functions(kind)
    x = rng.integers(0, 3, (2, 2, 6, 7)).astype(float)  # small integers: many tied maxima
    dout = rng.standard_normal(forward(x, size, stride=stride).shape)
    np.testing.assert_array_equal(forward(x, size, stride=stride), forward_loops(x, size, stride=stride))
    np.testing.assert_allclose(
        backward(dout, x, size, stride=stride),
        backward_loops(dout, x, size, stride=stride),
        rtol=1e-12,
        atol=1e-12,
    )


# ----------------------------------------------------------------------------------------------
# PyTorch as an oracle
# ----------------------------------------------------------------------------------------------

TORCH_CASES = [(2, None), (2, 1), (3, 2), ((2, 3), (1, 2)), ((3, 1), (2, 1)), (1, None), (3, 3)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size, stride", TORCH_CASES)
def test_forward_and_backward_match_torch(rng, kind, size, stride):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    forward, forward_loops, backward, backward_loops = pool_functions(kind)
    x = rng.standard_normal((2, 3, 9, 8))
    x_t = torch.tensor(x, requires_grad=True)
    torch_stride = size if stride is None else stride
    if kind == "max":
        out_t = functional.max_pool2d(x_t, size, torch_stride)
    else:
        area = np.prod(size if isinstance(size, tuple) else (size, size))
        out_t = functional.avg_pool2d(x_t, size, torch_stride) * (area if kind == "sum" else 1)
    dout = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.from_numpy(dout))
    for pool in (forward, forward_loops):
        np.testing.assert_allclose(
            pool(x, size, stride=stride), out_t.detach().numpy(), rtol=1e-12, atol=1e-12
        )
    for pool_backward in (backward, backward_loops):
        np.testing.assert_allclose(
            pool_backward(dout, x, size, stride=stride), x_t.grad.numpy(), rtol=1e-12, atol=1e-12
        )


# ----------------------------------------------------------------------------------------------
# Numerical gradient checks (float64 central differences)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size, stride", [(2, None), (3, 1), ((2, 3), (2, 1))])
def test_backward_numerical_gradients(rng, kind, size, stride):
    forward, _, backward, backward_loops = pool_functions(kind)
    x = rng.standard_normal((2, 2, 6, 7))  # distinct values: max pooling is differentiable here
    dout = rng.standard_normal(forward(x, size, stride=stride).shape)

    def loss():
        return np.sum(forward(x, size, stride=stride) * dout)

    expected = numerical_gradient(loss, x)
    np.testing.assert_allclose(backward(dout, x, size, stride=stride), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(backward_loops(dout, x, size, stride=stride), expected, rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------------------------
# Ties in max pooling: only the first maximum (reading order) gets the gradient
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backward", [max_pool2d_backward, max_pool2d_backward_loops])
def test_max_backward_sends_ties_to_the_first_maximum_only(backward):
    x = np.ones((4, 4))
    dx = backward(np.array([[1.0, 2.0], [3.0, 4.0]]), x)
    expected = np.zeros((4, 4))
    expected[0, 0], expected[0, 2], expected[2, 0], expected[2, 2] = 1, 2, 3, 4
    np.testing.assert_array_equal(dx, expected)
    # reading order is row by row: the tied 3s at (0, 1) and (1, 0) -> (0, 1) wins
    np.testing.assert_array_equal(backward([[5.0]], [[1, 3], [3, 2]]), [[0, 5], [0, 0]])


@pytest.mark.parametrize("backward", [max_pool2d_backward, max_pool2d_backward_loops])
def test_max_backward_with_ties_and_overlapping_windows(backward):
    # 2x2 windows, stride 1, all equal: each window's first pixel is its top-left one
    dx = backward(np.ones((2, 2)), np.zeros((3, 3)), size=2, stride=1)
    np.testing.assert_array_equal(dx, [[1, 1, 0], [1, 1, 0], [0, 0, 0]])
    # one shared maximum collects the gradient of every window that contains it
    x = np.zeros((3, 3))
    x[1, 1] = 9
    dx = backward(np.array([[1.0, 2.0], [3.0, 4.0]]), x, size=2, stride=1)
    np.testing.assert_array_equal(dx, [[0, 0, 0], [0, 10, 0], [0, 0, 0]])


def test_max_backward_gradient_total_is_conserved(rng):
    x = rng.integers(0, 2, (3, 2, 8, 8)).astype(float)
    dout = rng.standard_normal((3, 2, 4, 4))
    dx = max_pool2d_backward(dout, x)
    assert np.isclose(dx.sum(), dout.sum())
    assert np.count_nonzero(dx) == dout.size  # exactly one pixel per window


# ----------------------------------------------------------------------------------------------
# dtypes
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32(rng, kind):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    for function in pool_functions(kind)[:2]:
        assert function(x).dtype == np.float32
    dout = np.ones((2, 3, 3, 3), dtype=np.float32)
    for function in pool_functions(kind)[2:]:
        assert function(dout, x).dtype == np.float32
    assert pool_functions(kind)[0](x.astype(int)).dtype == np.float64


def test_inputs_are_not_modified(rng):
    x = rng.standard_normal((2, 2, 4, 4))
    saved = x.copy()
    for kind in KINDS:
        for function in pool_functions(kind)[:2]:
            function(x, 2, stride=1)
        for function in pool_functions(kind)[2:]:
            function(np.ones((2, 2, 3, 3)), x, 2, stride=1)
    np.testing.assert_array_equal(x, saved)


# ----------------------------------------------------------------------------------------------
# Bad input gets a sentence
# ----------------------------------------------------------------------------------------------

FORWARDS = [function for kind in KINDS for function in pool_functions(kind)[:2]]
BACKWARDS = [function for kind in KINDS for function in pool_functions(kind)[2:]]


@pytest.mark.parametrize("pool", FORWARDS)
@pytest.mark.parametrize(
    "args, error, message",
    [
        (
            (np.ones((2, 2)), 3),
            ValueError,
            r"pool window of size \(3, 3\) does not fit in x of shape \(2, 2\) \(height 2, width 2\)",
        ),
        (
            (np.ones((1, 1, 4, 2)), (2, 3)),
            ValueError,
            r"pool window of size \(2, 3\) does not fit in x of shape \(1, 1, 4, 2\)",
        ),
        ((np.ones((3, 4, 4)),), ValueError, r"x must be a 2-D or 4-D array, got shape \(3, 4, 4\) \(3-D\)"),
        ((np.ones(4),), ValueError, r"x must be a 2-D or 4-D array, got shape \(4,\) \(1-D\)"),
        ((np.ones((4, 4)), 0), ValueError, r"size must be >= 1, got 0"),
        ((np.ones((4, 4)), 2, {"stride": 0}), ValueError, r"stride must be >= 1, got 0"),
        ((np.ones((4, 4)), 2, {"stride": (1, -1)}), ValueError, r"stride\[1\] must be >= 1, got -1"),
        ((np.ones((4, 4)), 2.0), TypeError, r"size must be an integer, got float 2.0"),
        ((np.ones((4, 4)), (2, 2, 2)), ValueError, r"size must be an int or an \(h, w\) pair"),
        (([["a", "b"], ["c", "d"]],), TypeError, r"x must hold real numbers"),
        (
            (np.ones((2, 2), dtype=complex),),
            TypeError,
            r"x must hold real numbers, got an array of dtype complex128",
        ),
        ((np.zeros((0, 4)),), ValueError, r"x must not be empty, got shape \(0, 4\)"),
    ],
)
def test_forward_rejects(pool, args, error, message):
    keywords = args[-1] if isinstance(args[-1], dict) else {}
    positional = args[:-1] if keywords else args
    with pytest.raises(error, match=message):
        pool(*positional, **keywords)


@pytest.mark.parametrize("function", FORWARDS + [pooling.pool])
def test_stride_is_keyword_only(function):
    with pytest.raises(TypeError, match=r"positional argument"):
        function(np.ones((4, 4)), 2, 1)
    for backward in BACKWARDS:
        with pytest.raises(TypeError, match=r"positional argument"):
            backward(np.ones((3, 3)), np.ones((4, 4)), 2, 1)


# ----------------------------------------------------------------------------------------------
# NaN in a max-pooling window: loops and vectorised agree (issue 13, item 9)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size, stride", [(2, None), (2, 1), (3, 2), ((2, 3), (1, 2))])
def test_max_pool_with_nan_loops_match_vectorised(rng, size, stride):
    x = rng.standard_normal((2, 3, 7, 8))
    x[rng.random(x.shape) < 0.15] = np.nan
    x[0, 0, :2, :2] = np.nan  # a window of NaNs only
    x[0, 1, 2:4, 2:4] = [[np.inf, np.nan], [np.nan, 1]]
    out = max_pool2d(x, size, stride=stride)
    np.testing.assert_array_equal(out, pooling.max_pool2d_loops(x, size, stride=stride))
    dout = rng.standard_normal(out.shape)
    dx = max_pool2d_backward(dout, x, size, stride=stride)
    # same pixels get the gradient; overlapping windows may add in another order
    np.testing.assert_allclose(
        dx, max_pool2d_backward_loops(dout, x, size, stride=stride), rtol=1e-12, atol=1e-12
    )
    assert np.isclose(dx.sum(), dout.sum())  # no window's gradient is dropped


@pytest.mark.parametrize("backward", [max_pool2d_backward, max_pool2d_backward_loops])
def test_max_backward_sends_the_gradient_to_the_first_nan(backward):
    x = [[1.0, np.nan], [np.nan, 9.0]]
    assert np.isnan(max_pool2d(x)).all()  # NaN counts as the maximum, as in np.max
    np.testing.assert_array_equal(backward([[5.0]], x), [[0, 5], [0, 0]])


def test_pool_by_mode_name(rng):
    x = rng.standard_normal((2, 1, 6, 6))
    for mode, function in pooling.POOL_FUNCTIONS.items():
        np.testing.assert_array_equal(pooling.pool(x, 3, stride=1, mode=mode), function(x, 3, stride=1))
    with pytest.raises(ValueError, match=r"mode must be one of \('max', 'avg', 'sum'\), got 'min'"):
        pooling.pool(x, mode="min")
    with pytest.raises(
        TypeError, match=r"mode must be a string, one of \('max', 'avg', 'sum'\), got NoneType None"
    ):
        pooling.pool(x, mode=None)


@pytest.mark.parametrize("backward", BACKWARDS)
def test_backward_rejects(backward):
    x = np.ones((1, 2, 4, 4))
    with pytest.raises(
        ValueError,
        match=r"dout must have the forward output's shape \(1, 2, 3, 3\), got shape \(1, 2, 2, 2\)",
    ):
        backward(np.ones((1, 2, 2, 2)), x, 2, stride=1)  # the dout of stride 2, passed with stride 1
    with pytest.raises(ValueError, match=r"dout must be a 4-D array, got shape \(2, 2\)"):
        backward(np.ones((2, 2)), x)
    with pytest.raises(TypeError, match=r"dout must hold real numbers"):
        backward(np.ones((1, 2, 2, 2), dtype=complex), x)
    with pytest.raises(ValueError, match=r"pool window of size \(5, 5\) does not fit"):
        backward(np.ones((1, 2, 1, 1)), x, 5)


def test_sum_is_avg_times_window_area(rng):
    x = rng.standard_normal((2, 2, 7, 7))
    np.testing.assert_allclose(sum_pool2d(x, (2, 3), stride=1), 6 * avg_pool2d(x, (2, 3), stride=1))
    dout = rng.standard_normal((2, 2, 6, 5))
    np.testing.assert_allclose(
        sum_pool2d_backward(dout, x, (2, 3), stride=1), 6 * avg_pool2d_backward(dout, x, (2, 3), stride=1)
    )
