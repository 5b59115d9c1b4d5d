"""Lesson 06 checks: the stub fails, the solution passes, plausible mistakes fail with the right hint."""

import math

import numpy as np
import pytest

from cnn_helpers import conv, layers, pooling
from cnn_helpers.checks import lesson06

from ._tools import assert_fails, assert_passes


def make_pool(reduce="max", stride_rule="given", size_offset=1, rounding="floor", transpose=False,
              divide_by="size*size", start=None):
    """A loop pooling of one map with one switchable mistake (the default is max pooling, right)."""

    def pool(x, size, stride):
        x = np.asarray(x)
        step = {"given": stride, "one": 1, "size": size}[stride_rule]
        height, width = x.shape
        round_ = math.floor if rounding == "floor" else math.ceil
        out_h = round_((height - size) / step) + size_offset
        out_w = round_((width - size) / step) + size_offset
        out = np.zeros((out_h, out_w))
        for row in range(out_h):
            for col in range(out_w):
                r, c = (col, row) if transpose else (row, col)
                window = x[r * step:r * step + size, c * step:c * step + size]
                if reduce == "max":
                    best = window.flat[0] if start is None else start
                    for value in window.flat:
                        best = max(best, value)
                    out[row, col] = best
                elif reduce == "mean":
                    count = {"size*size": size * size, "size": size, "stride*stride": stride * stride}[divide_by]
                    out[row, col] = window.sum() / count
                elif reduce == "int mean":
                    out[row, col] = window.sum() // (size * size)
                elif reduce == "sum":
                    out[row, col] = window.sum()
                elif reduce == "min":
                    out[row, col] = window.min()
        return out

    return pool


def test_the_right_loops_pass():
    assert_passes(lesson06.check_max_pool, make_pool("max"))
    assert_passes(lesson06.check_avg_pool, make_pool("mean"))


@pytest.mark.parametrize("wrong, hint", [
    (make_pool("mean"), "averaged"),
    (make_pool("sum"), "summed"),
    (make_pool("min"), "smallest"),
    (make_pool("max", start=0.0), "started at 0"),
    (make_pool("max", stride_rule="one"), "stride was ignored"),
    (make_pool("max", stride_rule="size"), "stride was taken to be the window size"),
    (make_pool("max", size_offset=0), "off by one"),
    (make_pool("max", rounding="ceil"), "rounded up"),
    (make_pool("max", transpose=True), "rows and columns were swapped"),
])
def test_max_pool_mistakes(wrong, hint):
    assert_fails(lesson06.check_max_pool, wrong, hint=hint)


@pytest.mark.parametrize("wrong, hint", [
    (make_pool("sum"), "not divided"),
    (make_pool("mean", divide_by="size"), "divided by `size`"),
    (make_pool("mean", divide_by="stride*stride"), "stride * stride"),
    (make_pool("int mean"), "integer division"),
    (make_pool("max"), "maximum was kept"),
    (make_pool("mean", stride_rule="one"), "stride was ignored"),
    (make_pool("mean", size_offset=0), "off by one"),
])
def test_avg_pool_mistakes(wrong, hint):
    assert_fails(lesson06.check_avg_pool, wrong, hint=hint)


def test_dividing_by_the_whole_map_is_named():
    summed = make_pool("sum")
    assert_fails(lesson06.check_avg_pool, lambda x, size, stride: summed(x, size, stride) / np.asarray(x).size,
                 hint="whole map")


def test_pooling_hard_coded_answers_fail():
    lecture_answer = np.array([[3.0, 3.0], [5.0, 4.0]])
    assert_fails(lesson06.check_max_pool, lambda x, size, stride: lecture_answer, hint="wrong pooled map")
    assert_fails(lesson06.check_avg_pool, lambda x, size, stride: lecture_answer / 4, hint="wrong pooled map")


def right_size(n, size, stride):
    if n < 1 or size < 1 or stride < 1 or size > n:
        raise ValueError("bad pooling setting")
    return (n - size) // stride + 1


def checked(rule):
    """Wrap a size rule with the right input checks, so only the rule is wrong."""

    def pool_output_size(n, size, stride):
        right_size(n, size, stride)
        return rule(n, size, stride)

    return pool_output_size


@pytest.mark.parametrize("wrong, hint", [
    (checked(lambda n, k, s: (n - k) // s), "+ 1 is missing"),
    (checked(lambda n, k, s: math.ceil((n - k) / s) + 1), "rounded up"),
    (checked(lambda n, k, s: (n - k) / s + 1), "not a whole number"),
    (checked(lambda n, k, s: n // s), "window size was left out"),
    (checked(lambda n, k, s: (n - k) // s + 2), "off by one"),
    (checked(lambda n, k, s: 2), "wrong output size"),  # hard-coded answer
])
def test_pool_output_size_mistakes(wrong, hint):
    assert_fails(lesson06.check_pool_output_size, wrong, hint=hint)


def test_pool_output_size_must_reject_bad_settings():
    assert_fails(lesson06.check_pool_output_size, lambda n, size, stride: (n - size) // stride + 1,
                 hint="expected an error")

    def no_stride_check(n, size, stride):
        if size > n or size < 1 or n < 1:
            raise ValueError("window does not fit")
        return (n - size) // stride + 1

    assert_fails(lesson06.check_pool_output_size, no_stride_check, hint="ZeroDivisionError")

    def wrong_error_type(n, size, stride):
        if n < 1 or size < 1 or stride < 1 or size > n:
            raise TypeError("bad")
        return (n - size) // stride + 1

    assert_fails(lesson06.check_pool_output_size, wrong_error_type, hint="expected ValueError")


def test_calling_the_package_reference_fails():
    assert_fails(lesson06.check_max_pool, pooling.max_pool2d, hint="package's own implementation")
    assert_fails(lesson06.check_max_pool, lambda x, size, stride: pooling.max_pool2d_loops(x, size, stride),
                 hint="called cnn_helpers.pooling.max_pool2d_loops")
    assert_fails(lesson06.check_avg_pool, lambda x, size, stride: pooling.avg_pool2d(x, size, stride),
                 hint="called cnn_helpers.pooling.avg_pool2d")
    assert_fails(lesson06.check_avg_pool,
                 lambda x, size, stride: layers.AvgPool2D(size, stride).forward(np.asarray(x)[None, None])[0, 0],
                 hint="called cnn_helpers.layers.AvgPool2D")
    assert_fails(lesson06.check_pool_output_size, lambda n, size, stride: conv.output_size(n, size, 0, stride),
                 hint="called cnn_helpers.conv.output_size")
    assert pooling.max_pool2d(np.eye(2)).item() == 1.0  # restored afterwards
