"""Checks for lesson 06, pooling."""

from __future__ import annotations

import functools
import math

import numpy as np

from cnn_helpers import pooling

from ._core import call, compare, compare_number, exercise, expect_error, passed


# --------------------------------------------------------------------------------------------
# Cases shared by exercises 6.1 and 6.2


def _lecture_map():
    """The lecture's padded sharpen feature map (5x5), computed rather than copied."""
    from cnn_helpers import conv, data

    example = data.lecture_example()
    return conv.correlate2d(example.image, example.sharpen, padding=1)


def pool_cases(seed):
    """(description, x, size, stride): the lecture's map, hand-picked shapes, seeded random maps."""
    rng = np.random.default_rng(seed)
    lecture = _lecture_map()
    cases = [
        ("the lecture's padded 5x5 feature map, size 2, stride 2", lecture, 2, 2),
        ("the lecture's padded 5x5 feature map, size 3, stride 2", lecture, 3, 2),
        ("the lecture's padded 5x5 feature map, size 2, stride 1", lecture, 2, 1),
        ("a 2x4 map, size 2, stride 2", np.array([[1.0, 2, 5, 0], [3, 4, 1, 1]]), 2, 2),
        # taller than wide, with a square output: indexing x[col, row] runs without an error here
        ("a 5x4 map, size 2, stride 2", rng.integers(-9, 10, size=(5, 4)).astype(float), 2, 2),
        ("a 3x7 map of negative numbers, size 2, stride 2", -rng.integers(1, 10, size=(3, 7)).astype(float), 2, 2),
        ("a 6x9 map of integers, size 3, stride 2", rng.integers(0, 10, size=(6, 9)), 3, 2),
    ]
    for _ in range(30):
        height, width = (int(s) for s in rng.integers(1, 13, size=2))
        size = int(rng.integers(1, min(height, width, 4) + 1))
        stride = int(rng.integers(1, 5))
        x = rng.normal(size=(height, width)).round(2)
        cases.append((f"a {height}x{width} map, size {size}, stride {stride}", x, size, stride))
    return cases


def _partial_windows(x, size, stride, reduce):
    """What a learner gets with ceil for the output size: windows cut off at the border."""
    height, width = x.shape
    out_h = math.ceil((height - size) / stride) + 1
    out_w = math.ceil((width - size) / stride) + 1
    out = np.empty((out_h, out_w))
    for row in range(out_h):
        for col in range(out_w):
            window = x[row * stride:row * stride + size, col * stride:col * stride + size]
            if window.size == 0:  # that learner's code would have crashed here instead
                return None
            out[row, col] = reduce(window)
    return out


def _shape_mistakes(expected, x, size, stride, reference):
    """Mistakes every pooling exercise can make with stride, output size and axes."""
    height, width = x.shape
    ragged = (height - size) % stride or (width - size) % stride
    return [
        ("the stride was ignored (windows moved 1 pixel at a time): the window for output "
         "(r, c) starts at row r * stride, column c * stride",
         reference(x, size, stride=1) if stride != 1 else None),
        ("the stride was taken to be the window size: use the `stride` argument",
         reference(x, size, stride=size) if stride != size and size <= min(height, width) else None),
        ("the output size is off by one: it is (n - size) // stride + 1 along each axis",
         expected[:-1, :-1] if min(expected.shape) > 1 else None),
        ("the output size was rounded up (ceil), so windows at the border were cut short: "
         "use floor, (n - size) // stride + 1, and drop pixels that do not fill a window",
         _partial_windows(x, size, stride, np.max if reference is pooling.max_pool2d else np.mean)
         if ragged else None),
        ("rows and columns were swapped: output (r, c) comes from rows r*stride... and columns "
         "c*stride... of x, and the output has shape (OH, OW)",
         expected.T if expected.shape[0] == expected.shape[1] else None),
        ("rows and columns were swapped: the output must have shape (OH, OW), rows first",
         reference(x.T, size, stride=stride) if height != width and size <= min(height, width) else None),
    ]


def _check_pool(exercise_id, function, reference, mistakes_for, what):
    cases = pool_cases(seed=600 + int(exercise_id.split(".")[1]))
    for description, x, size, stride in cases:
        expected = reference(x, size, stride=stride)
        x_in = x.copy()
        received = call(exercise_id, function, x_in, size, stride=stride, case=description)
        mistakes = mistakes_for(x, size, stride, expected) + _shape_mistakes(expected, x, size, stride, reference)
        compare(exercise_id, expected, received, description, mistakes, name=what)
    return len(cases)


@exercise("6.1", "max pooling")
def check_max_pool(max_pool):
    """``max_pool(x, size, *, stride)`` on one map (H, W) must equal ``pooling.max_pool2d``."""

    def mistakes(x, size, stride, expected):
        return [
            ("the windows were averaged: max pooling keeps each window's largest value",
             pooling.avg_pool2d(x, size, stride=stride)),
            ("the windows were summed: max pooling keeps each window's largest value",
             pooling.sum_pool2d(x, size, stride=stride)),
            ("the running maximum started at 0, so windows of negative numbers give 0: start from "
             "the window's first value (or use window.max())", np.maximum(expected, 0)),
            ("each window's smallest value was kept: max pooling keeps the largest",
             -pooling.max_pool2d(-x, size, stride=stride)),
        ]

    count = _check_pool("6.1", max_pool, pooling.max_pool2d, mistakes, "pooled map")
    passed("6.1", f"max pooling is right on {count} maps, including the lecture's feature map")


@exercise("6.2", "average pooling")
def check_avg_pool(avg_pool):
    """``avg_pool(x, size, *, stride)`` on one map (H, W) must equal ``pooling.avg_pool2d``."""

    def mistakes(x, size, stride, expected):
        sums = pooling.sum_pool2d(x, size, stride=stride)
        return [
            ("each window was summed but not divided: the average is the sum / (size * size)", sums),
            ("the sum was divided by `size`: a window holds size * size values", sums / size),
            ("the sum was divided by stride * stride: a window holds size * size values, whatever the stride",
             sums / stride**2 if stride != size else None),
            ("the sum was divided by the number of values in the whole map: divide each window's "
             "sum by the size * size values in that window", sums / x.size if x.size != size * size else None),
            ("integer division (//) rounded the averages down: use / ", np.floor(sums / size**2)),
            ("each window's maximum was kept: average pooling takes the mean",
             pooling.max_pool2d(x, size, stride=stride)),
        ]

    count = _check_pool("6.2", avg_pool, pooling.avg_pool2d, mistakes, "pooled map")
    passed("6.2", f"average pooling is right on {count} maps, including the lecture's feature map")


@exercise("6.3", "the output size of pooling")
def check_pool_output_size(pool_output_size):
    """``pool_output_size(n, size, *, stride)`` is floor((n - size) / stride) + 1; bad input raises ValueError."""
    rng = np.random.default_rng(603)
    # (4, 2, 2) first: there rounding up changes nothing, so a "+ 2" is told apart from a ceil
    cases = [(4, 2, 2), (5, 2, 2), (5, 3, 2), (5, 2, 1), (5, 5, 1), (1, 1, 1), (85, 2, 2), (600, 2, 2), (7, 3, 3)]
    for _ in range(40):
        n = int(rng.integers(1, 120))
        cases.append((n, int(rng.integers(1, min(n, 9) + 1)), int(rng.integers(1, 6))))
    for n, size, stride in cases:
        case = f"n={n}, size={size}, stride={stride}"
        expected = (n - size) // stride + 1
        received = call("6.3", pool_output_size, n, size, stride=stride, case=case)
        mistakes = [
            ("the + 1 is missing: the first window counts too, (n - size) // stride + 1", expected - 1),
            ("the size was rounded up (ceil): a window that does not fit is dropped, so round down "
             "with //", math.ceil((n - size) / stride) + 1),
            ("the result is not a whole number: use floor division //", (n - size) / stride + 1),
            ("the window size was left out: the last window must fit, (n - size) // stride + 1",
             n // stride),
            ("the output size is off by one: (n - size) // stride + 1", expected + 1),
        ]
        compare_number("6.3", expected, received, case, mistakes, name="output size")
    invalid = [
        ((3, 4, 1), "a window of 4 on a map of 3 (the window does not fit)"),
        ((10, 11, 2), "a window of 11 on a map of 10 (the window does not fit)"),
        ((5, 0, 1), "a window of size 0"),
        ((5, 2, 0), "stride 0"),
        ((5, 2, -1), "a negative stride"),
        ((0, 1, 1), "a map of size 0"),
    ]
    for args, description in invalid:
        n, size, stride = args
        expect_error("6.3", functools.partial(pool_output_size, stride=stride), (n, size), (ValueError,),
                     f"{description}, n={n}, size={size}, stride={stride}",
                     "Raise ValueError when the window does not fit or an argument is below 1.")
    passed("6.3", f"the output size is right on {len(cases)} cases and {len(invalid)} invalid ones raise ValueError")


__all__ = ["check_max_pool", "check_avg_pool", "check_pool_output_size", "pool_cases"]
