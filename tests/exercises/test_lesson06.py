"""Lesson 06 checks: plausible mistakes fail with the right hint, unusual correct answers pass,
the package's answers are refused. (Stub, solution and registered mistakes: test_registry.py.)"""

import math

import numpy as np
import pytest

from cnn_helpers import conv, layers, pooling
from cnn_helpers.checks import lesson06

from ._tools import assert_fails, assert_passes


def make_pool(
    reduce="max",
    stride_rule="given",
    size_offset=1,
    rounding="floor",
    transpose=False,
    start=None,
    window_start="r*s",
):
    """A loop max pooling of one map with one switchable mistake (the default is right)."""

    def pool(x, size, *, stride):
        x = np.asarray(x)
        step = {"given": stride, "one": 1, "size": size}[stride_rule]
        height, width = x.shape
        round_ = math.floor if rounding == "floor" else math.ceil
        out_h = round_((height - size) / step) + size_offset
        out_w = round_((width - size) / step) + size_offset
        out = np.zeros((out_h, out_w))
        jump = step if window_start == "r*s" else 1
        for row in range(out_h):
            for col in range(out_w):
                r, c = (col, row) if transpose else (row, col)
                window = x[r * jump : r * jump + size, c * jump : c * jump + size]
                if reduce == "max":
                    best = window.flat[0] if start is None else start
                    for value in window.flat:
                        best = max(best, value)
                    out[row, col] = best
                elif reduce == "mean":
                    out[row, col] = window.sum() / (size * size)
                elif reduce == "sum":
                    out[row, col] = window.sum()
                elif reduce == "min":
                    out[row, col] = window.min()
        return out

    return pool


def max_pool_by_views(x, size, *, stride):
    """Unusual but right for 6.1: NumPy's window view and one max."""
    views = np.lib.stride_tricks.sliding_window_view(np.asarray(x, float), (size, size))
    return views[::stride, ::stride].max(axis=(-1, -2))


def test_max_pool_right_answers_pass():
    assert_passes(lesson06.check_max_pool, make_pool("max"))
    assert_passes(lesson06.check_max_pool, max_pool_by_views)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (make_pool("mean"), "averaged"),
        (make_pool("sum"), "summed"),
        (make_pool("min"), "smallest"),
        (make_pool("max", start=0.0), "started at 0"),
        (make_pool("max", stride_rule="one"), "stride was ignored"),
        (make_pool("max", window_start="r"), "starts at row r, column c"),
        (make_pool("max", stride_rule="size"), "stride was taken to be the window size"),
        (make_pool("max", size_offset=0), "off by one"),
        (make_pool("max", rounding="ceil"), "rounded up"),
        (make_pool("max", transpose=True), "rows and columns were swapped"),
    ],
)
def test_max_pool_mistakes(wrong, hint):
    message = assert_fails(lesson06.check_max_pool, wrong, hint=hint)
    assert "Likely mistake" in message


def test_max_pool_hard_coded_answer_fails():
    lecture_answer = np.array([[3.0, 3.0], [5.0, 4.0]])
    assert_fails(lesson06.check_max_pool, lambda x, size, *, stride: lecture_answer, hint="wrong pooled map")


# --------------------------------------------------------------------------------------------
# Exercise 6.2: a batch, map by map


def make_batch_pool(
    mode_rule="given", start="first", window_start="r*s", divide="size*size", across_channels=False
):
    """Offset-slice pooling of a batch with one switchable mistake (the default is right)."""

    def pool_batch(x, size=2, *, stride=2, mode="max"):
        x = np.asarray(x, float)
        mode = {"given": mode, "max": "max", "avg": "avg"}[mode_rule]
        out_h = (x.shape[2] - size) // stride + 1
        out_w = (x.shape[3] - size) // stride + 1
        jump = stride if window_start == "r*s" else 1
        result = np.zeros(x.shape[:2] + (out_h, out_w)) if start == "zeros" or mode == "avg" else None
        for i in range(size):
            for j in range(size):
                values = x[:, :, i : i + jump * out_h : jump, j : j + jump * out_w : jump]
                if result is None:
                    result = values.copy()
                elif mode == "max":
                    result = np.maximum(result, values)
                else:
                    result = result + values
        if mode == "avg":
            result = result / (size * size if divide == "size*size" else size)
        if across_channels:
            result = (
                result.max(axis=1, keepdims=True) if mode == "max" else result.mean(axis=1, keepdims=True)
            )
        return result

    return pool_batch


def pool_batch_integral_image(x, size=2, *, stride=2, mode="max"):
    """Unusual but right: max by reshaping window offsets, average by an integral image (cumulative sums)."""
    x = np.asarray(x, float)
    out_h = (x.shape[2] - size) // stride + 1
    out_w = (x.shape[3] - size) // stride + 1
    if mode == "max":
        views = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))
        return views[:, :, ::stride, ::stride][:, :, :out_h, :out_w].max(axis=(-1, -2))
    integral = np.pad(x.cumsum(axis=2).cumsum(axis=3), ((0, 0), (0, 0), (1, 0), (1, 0)))
    top = np.arange(out_h) * stride
    left = np.arange(out_w) * stride
    t, b = top[:, None], top[:, None] + size
    le, r = left[None, :], left[None, :] + size
    sums = integral[:, :, b, r] - integral[:, :, t, r] - integral[:, :, b, le] + integral[:, :, t, le]
    return sums / (size * size)


def test_pool_batch_right_answers_pass():
    assert_passes(lesson06.check_pool_batch, make_batch_pool())
    assert_passes(lesson06.check_pool_batch, pool_batch_integral_image)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (make_batch_pool(mode_rule="max"), "`mode` was ignored"),
        (make_batch_pool(mode_rule="avg"), "`mode` was ignored"),
        (make_batch_pool(start="zeros"), "started at 0"),
        (make_batch_pool(window_start="r"), "starts at row r, column c"),
        (make_batch_pool(divide="size"), "divided by `size`"),
        (make_batch_pool(across_channels=True), "channels were pooled together"),
    ],
)
def test_pool_batch_mistakes(wrong, hint):
    assert_fails(lesson06.check_pool_batch, wrong, hint=hint)


def test_pool_batch_with_a_loop_over_maps_is_not_vectorised():
    namespace = {"np": np}
    exec(
        compile(
            "def pool_batch(x, size=2, *, stride=2, mode='max'):\n"
            "    x = np.asarray(x, float)\n"
            "    out_h = (x.shape[2] - size) // stride + 1\n"
            "    out_w = (x.shape[3] - size) // stride + 1\n"
            "    out = np.empty(x.shape[:2] + (out_h, out_w))\n"
            "    for n in range(x.shape[0]):\n"
            "        for c in range(x.shape[1]):\n"
            "            v = np.lib.stride_tricks.sliding_window_view(x[n, c], (size, size))[::stride, ::stride]\n"
            "            out[n, c] = v.max(axis=(-1, -2)) if mode == 'max' else v.mean(axis=(-1, -2))\n"
            "    return out\n",
            "<learner cell>",
            "exec",
        ),
        namespace,
    )
    assert_fails(lesson06.check_pool_batch, namespace["pool_batch"], hint="right but not vectorised")


def test_pool_batch_refuses_the_package():
    assert_fails(
        lesson06.check_pool_batch,
        lambda x, size=2, *, stride=2, mode="max": (
            pooling.max_pool2d if mode == "max" else pooling.avg_pool2d
        )(x, size, stride=stride),
        hint="called cnn_helpers.pooling",
    )
    assert_fails(
        lesson06.check_pool_batch,
        lambda x, size=2, *, stride=2, mode="max": layers.MaxPool2D(size, stride=stride).forward(x),
        hint="called cnn_helpers.layers.MaxPool2D",
    )
    assert pooling.max_pool2d(np.eye(2)).item() == 1.0  # restored afterwards


# --------------------------------------------------------------------------------------------
# Exercise 6.3: the input sizes behind an output size


def checked(rule):
    """Wrap a rule with the right input checks, so only the rule is wrong."""

    def input_sizes(out, size, *, stride):
        if out < 1 or size < 1 or stride < 1:
            raise ValueError("bad setting")
        return rule(out, size, stride)

    return input_sizes


def test_input_sizes_right_answers_pass():
    assert_passes(lesson06.check_input_sizes, checked(lambda o, k, s: ((o - 1) * s + k, o * s + k - 1)))

    def by_search(out, size, *, stride):  # unusual but right: try every n
        if out < 1 or size < 1 or stride < 1:
            raise ValueError("bad setting")
        found = [n for n in range(size, out * stride + size + 1) if (n - size) // stride + 1 == out]
        return min(found), max(found)

    assert_passes(lesson06.check_input_sizes, by_search)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (checked(lambda o, k, s: ((o - 1) * s + k,) * 2), "several sizes give the same output"),
        (checked(lambda o, k, s: ((o - 1) * s + k, (o - 1) * s + k + s)), "one too big"),
        (checked(lambda o, k, s: (o * s, o * s + s - 1)), "not out * stride"),
        (checked(lambda o, k, s: (o * k, o * k + s - 1)), "overlap"),
        (checked(lambda o, k, s: ((o - 1) * s + k - 1, (o - 1) * s + k + s - 2)), "one pixel short"),
        (checked(lambda o, k, s: (2, 3)), "wrong"),  # hard-coded
    ],
)
def test_input_sizes_mistakes(wrong, hint):
    assert_fails(lesson06.check_input_sizes, wrong, hint=hint)


def test_input_sizes_must_reject_bad_settings():
    assert_fails(
        lesson06.check_input_sizes,
        lambda out, size, *, stride: ((out - 1) * stride + size, out * stride + size - 1),
        hint="expected an error",
    )


def test_input_sizes_refuses_the_package():
    def through_output_size(out, size, *, stride):
        if out < 1 or size < 1 or stride < 1:
            raise ValueError("bad setting")
        found = [
            n for n in range(size, out * stride + size + 1) if conv.output_size(n, size, stride=stride) == out
        ]
        return min(found), max(found)

    assert_fails(lesson06.check_input_sizes, through_output_size, hint="called cnn_helpers.conv.output_size")
