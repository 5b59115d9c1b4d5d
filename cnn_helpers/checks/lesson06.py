"""Checks for lesson 06, pooling.

6.1 pools one map with loops; 6.2 pools a whole batch ``(N, C, H, W)`` map by map without a Python
loop over images, channels or positions (a line budget over two sizes, as in lesson 05); 6.3
inverts the output-size formula; 6.4 and 6.5 are checked questions.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from cnn_helpers import pooling

from ._core import call, check_lines_do_not_grow, diagnose, exercise, expect_error, passed, question


def _needs(condition):
    """Stop a mistake on a case where it could not even run (diagnose then ignores the case)."""
    if not condition:
        raise ValueError("this mistake cannot run on this case")


# --------------------------------------------------------------------------------------------
# Exercise 6.1: max pooling of one map


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
        (
            "a 3x7 map of negative numbers, size 2, stride 2",
            -rng.integers(1, 10, size=(3, 7)).astype(float),
            2,
            2,
        ),
        ("a 6x9 map of integers, size 3, stride 2", rng.integers(0, 10, size=(6, 9)), 3, 2),
        ("an 8x8 map, size 2, stride 3", rng.normal(size=(8, 8)).round(2), 2, 3),
        ("a 9x7 map, size 3, stride 3", rng.normal(size=(9, 7)).round(2), 3, 3),
    ]
    for _ in range(30):
        height, width = (int(s) for s in rng.integers(1, 13, size=2))
        size = int(rng.integers(1, min(height, width, 4) + 1))
        stride = int(rng.integers(1, 5))
        x = rng.normal(size=(height, width)).round(2)
        cases.append((f"a {height}x{width} map, size {size}, stride {stride}", x, size, stride))
    return cases


def _max(x, size, *, stride):
    return pooling.max_pool2d(x, size, stride=stride)


def _partial_windows(x, size, stride, reduce):
    """What a learner gets with ceil for the output size: windows cut off at the border."""
    height, width = x.shape
    out_h = math.ceil((height - size) / stride) + 1
    out_w = math.ceil((width - size) / stride) + 1
    out = np.empty((out_h, out_w))
    for row in range(out_h):
        for col in range(out_w):
            window = x[row * stride : row * stride + size, col * stride : col * stride + size]
            _needs(window.size)  # that learner's code would have crashed here instead
            out[row, col] = reduce(window)
    return out


def _max_pool_mistakes():
    """Each known wrong max pooling, called like the learner's ``max_pool(x, size, *, stride)``."""

    def averaged(x, size, *, stride):
        return pooling.avg_pool2d(x, size, stride=stride)

    def summed(x, size, *, stride):
        return pooling.sum_pool2d(x, size, stride=stride)

    def started_at_zero(x, size, *, stride):
        return np.maximum(_max(x, size, stride=stride), 0)

    def smallest(x, size, *, stride):
        return -_max(-np.asarray(x, dtype=float), size, stride=stride)

    def start_at_r_c(x, size, *, stride):
        out_h, out_w = _max(x, size, stride=stride).shape
        return _max(x, size, stride=1)[:out_h, :out_w]

    def no_stride(x, size, *, stride):
        return _max(x, size, stride=1)

    def stride_is_size(x, size, *, stride):
        return _max(x, size, stride=size)

    def one_short(x, size, *, stride):
        right = _max(x, size, stride=stride)
        _needs(min(right.shape) > 1)
        return right[:-1, :-1]

    def ceil(x, size, *, stride):
        return _partial_windows(np.asarray(x, dtype=float), size, stride, np.max)

    def transposed(x, size, *, stride):  # out[r, c] from the window at (c, r): runs when OH == OW
        right = _max(x, size, stride=stride)
        _needs(right.shape[0] == right.shape[1])
        return right.T

    return {
        "averaged": (averaged, "the windows were averaged: max pooling keeps each window's largest value"),
        "summed": (summed, "the windows were summed: max pooling keeps each window's largest value"),
        "started at 0": (
            started_at_zero,
            "the running maximum started at 0, so windows of negative numbers give "
            "0: start from the window's first value (or use window.max())",
        ),
        "smallest": (smallest, "each window's smallest value was kept: max pooling keeps the largest"),
        "windows start at (r, c)": (
            start_at_r_c,
            "the output has the right size, but the window of output (r, c) "
            "starts at row r, column c: it starts at row r * stride, column c * stride",
        ),
        "stride ignored": (
            no_stride,
            "the stride was ignored (windows moved 1 pixel at a time): the window for "
            "output (r, c) starts at row r * stride, column c * stride",
        ),
        "stride is the size": (
            stride_is_size,
            "the stride was taken to be the window size: use the `stride` argument",
        ),
        "one short": (
            one_short,
            "the output size is off by one: it is (n - size) // stride + 1 along each axis",
        ),
        "ceil": (
            ceil,
            "the output size was rounded up (ceil), so windows at the border were cut short: use "
            "floor, (n - size) // stride + 1, and drop pixels that do not fill a window",
        ),
        "rows and columns swapped": (
            transposed,
            "rows and columns were swapped: output (r, c) comes from rows "
            "r*stride... and columns c*stride... of x, and the output has shape (OH, OW)",
        ),
    }


@exercise("6.1", "max pooling", reference="cnn_helpers.pooling.max_pool2d", mistakes=_max_pool_mistakes)
def check_max_pool(max_pool):
    """``max_pool(x, size, *, stride)`` on one map (H, W) must equal ``pooling.max_pool2d``."""
    cases = [(description, (x, size), {"stride": stride}) for description, x, size, stride in pool_cases(601)]
    diagnose("6.1", max_pool, _max, cases, _max_pool_mistakes(), name="pooled map", rtol=1e-6, atol=1e-8)
    passed("6.1", f"max pooling is right on {len(cases)} maps, including the lecture's feature map")


# --------------------------------------------------------------------------------------------
# Exercise 6.2: a batch, map by map, vectorised


def _pool(x, size, *, stride, mode):
    return pooling.pool(x, size, stride=stride, mode=mode)


def _batch_mistakes():
    """Each known wrong batch pooling, called like the learner's ``pool_batch(x, size, *, stride, mode)``."""

    def always_max(x, size, *, stride, mode):
        return _pool(x, size, stride=stride, mode="max")

    def always_avg(x, size, *, stride, mode):
        return _pool(x, size, stride=stride, mode="avg")

    def across_channels(x, size, *, stride, mode):
        _needs(x.shape[1] > 1)
        pooled = _pool(x, size, stride=stride, mode=mode)
        return pooled.max(axis=1, keepdims=True) if mode == "max" else pooled.mean(axis=1, keepdims=True)

    def start_at_r_c(x, size, *, stride, mode):
        out_h, out_w = _pool(x, size, stride=stride, mode=mode).shape[-2:]
        return _pool(x, size, stride=1, mode=mode)[..., :out_h, :out_w]

    def no_stride(x, size, *, stride, mode):
        return _pool(x, size, stride=1, mode=mode)

    def started_at_zero(x, size, *, stride, mode):
        pooled = _pool(x, size, stride=stride, mode=mode)
        return np.maximum(pooled, 0) if mode == "max" else pooled

    def divided_by_size(x, size, *, stride, mode):
        pooled = _pool(x, size, stride=stride, mode=mode)
        return pooled * size if mode == "avg" else pooled

    def one_short(x, size, *, stride, mode):
        right = _pool(x, size, stride=stride, mode=mode)
        _needs(min(right.shape[-2:]) > 1)
        return right[..., :-1, :-1]

    return {
        "mode ignored (always max)": (
            always_max,
            "`mode` was ignored: every batch was max-pooled; mode='avg' takes each window's mean",
        ),
        "mode ignored (always average)": (
            always_avg,
            "`mode` was ignored: every batch was averaged; mode='max' keeps each window's largest value",
        ),
        "pooled across channels": (
            across_channels,
            "the channels were pooled together: a pooling layer pools "
            "every map (every n and c) on its own, so the output keeps all C channels",
        ),
        "windows start at (r, c)": (
            start_at_r_c,
            "the output has the right size, but the window of output (r, c) "
            "starts at row r, column c: it starts at row r * stride, column c * stride "
            "(slice with step `stride`)",
        ),
        "stride ignored": (no_stride, "the stride was ignored: keep every stride-th window along each axis"),
        "max started at 0": (
            started_at_zero,
            "the running maximum started at 0 (np.zeros), so windows of "
            "negative numbers give 0: start from the first offset's values (or -inf)",
        ),
        "divided by size": (
            divided_by_size,
            "the window sums were divided by `size`: a window holds size * size values",
        ),
        "one short": (one_short, "one window too few along each axis: OH = (H - size) // stride + 1"),
    }


def _batch_cases():
    rng = np.random.default_rng(602)
    lecture = _lecture_map()[None, None]
    cases = [
        ("the lecture's 5x5 map as a batch (1, 1, 5, 5), size 2, stride 2, max", lecture, 2, 2, "max"),
        ("the lecture's 5x5 map as a batch (1, 1, 5, 5), size 2, stride 2, avg", lecture, 2, 2, "avg"),
        ("the lecture's 5x5 map as a batch (1, 1, 5, 5), size 3, stride 2, max", lecture, 3, 2, "max"),
    ]
    for index in range(36):
        n, channels = (int(v) for v in rng.integers(1, 4, size=2))
        height, width = (int(v) for v in rng.integers(2, 11, size=2))
        size = int(rng.integers(1, min(height, width, 4) + 1))
        stride = int(rng.integers(1, 4)) if index % 3 else max(size, 2)
        mode = ("max", "avg")[index % 2]
        x = rng.normal(size=(n, channels, height, width)).round(2)
        if index % 5 == 0:
            x = -np.abs(x)  # all negative: a maximum that starts at 0 shows
        cases.append(
            (f"x of shape {x.shape}, size {size}, stride {stride}, mode {mode!r}", x, size, stride, mode)
        )
    return [
        (description, (x, size), {"stride": stride, "mode": mode})
        for description, x, size, stride, mode in cases
    ]


@exercise(
    "6.2", "pooling a batch, map by map", reference="cnn_helpers.pooling.pool", mistakes=_batch_mistakes
)
def check_pool_batch(pool_batch):
    """``pool_batch(x, size, *, stride, mode)`` on (N, C, H, W), mode "max" or "avg", without position loops."""
    cases = _batch_cases()
    diagnose("6.2", pool_batch, _pool, cases, _batch_mistakes(), name="pooled batch", rtol=1e-6, atol=1e-8)

    def run(x):
        for mode in ("max", "avg"):
            call("6.2", pool_batch, x, 2, stride=2, mode=mode, case=f"x of shape {x.shape}, mode {mode!r}")

    rng = np.random.default_rng(6020)
    check_lines_do_not_grow(
        "6.2",
        run,
        (rng.normal(size=(1, 2, 6, 6)),),
        (rng.normal(size=(3, 4, 14, 12)),),
        watch=pool_batch,
        describe=lambda arguments: f"x of shape {arguments[0].shape}",
        advice="It loops over images, channels or output positions: loop only over the size x size offsets "
        "inside a window, and take that offset of every window of every map in one slice.",
    )
    passed(
        "6.2",
        f"batch pooling is right on {len(cases)} batches (max and average) and runs without a Python "
        "loop over images, channels or positions",
    )


# --------------------------------------------------------------------------------------------
# Exercise 6.3: which input sizes give this output size?


def _sizes_reference(out, size, *, stride):
    smallest = (out - 1) * stride + size
    return (smallest, smallest + stride - 1)


def _sizes_mistakes():
    """Each known wrong inversion, called like the learner's ``input_sizes(out, size, *, stride)``."""

    def one_size(out, size, *, stride):
        smallest = (out - 1) * stride + size
        _needs(stride > 1)
        return (smallest, smallest)

    def one_too_far(out, size, *, stride):
        smallest = (out - 1) * stride + size
        return (smallest, smallest + stride)

    def window_forgotten(out, size, *, stride):
        return (out * stride, out * stride + stride - 1)

    def one_window_per_stride(out, size, *, stride):
        _needs(size != stride)
        return (out * size, out * size + stride - 1)

    def one_short(out, size, *, stride):
        smallest = (out - 1) * stride + size - 1
        return (smallest, smallest + stride - 1)

    return {
        "one size only": (
            one_size,
            "several sizes give the same output: the floor in (n - size) // stride + 1 "
            "drops up to stride - 1 leftover pixels, so the largest n is stride - 1 more",
        ),
        "one too far": (
            one_too_far,
            "the largest size is one too big: with stride more pixels a whole extra window fits",
        ),
        "window forgotten": (
            window_forgotten,
            "out windows need the first window's size pixels, then stride more "
            "per extra window: (out - 1) * stride + size, not out * stride",
        ),
        "windows side by side": (
            one_window_per_stride,
            "windows overlap (or leave gaps) when stride differs "
            "from size: out windows span (out - 1) * stride + size pixels",
        ),
        "one short": (
            one_short,
            "one pixel short: with (out - 1) * stride + size - 1 pixels the last window does not fit",
        ),
    }


@exercise("6.3", "the input sizes behind an output size", reference=None, mistakes=_sizes_mistakes)
def check_input_sizes(input_sizes):
    """``input_sizes(out, size, *, stride)`` -> (smallest n, largest n) with (n - size) // stride + 1 == out."""
    rng = np.random.default_rng(603)
    settings = [
        (2, 2, 2),
        (7, 2, 2),
        (2, 3, 2),
        (4, 2, 1),
        (1, 5, 1),
        (1, 1, 1),
        (15, 2, 2),
        (3, 3, 3),
        (5, 2, 3),
    ]
    while len(settings) < 45:
        settings.append((int(rng.integers(1, 40)), int(rng.integers(1, 8)), int(rng.integers(1, 6))))
    cases = [
        (f"out={out}, size={size}, stride={stride}", (out, size), {"stride": stride})
        for out, size, stride in settings
    ]
    diagnose(
        "6.3", input_sizes, _sizes_reference, cases, _sizes_mistakes(), name="(smallest, largest) input size"
    )
    invalid = [
        ((0, 2, 2), "no output at all (out=0)"),
        ((3, 0, 2), "a window of size 0"),
        ((3, 2, 0), "stride 0"),
        ((-1, 2, 1), "a negative output size"),
    ]
    for (out, size, stride), description in invalid:
        expect_error(
            "6.3",
            functools.partial(input_sizes, stride=stride),
            (out, size),
            (ValueError,),
            f"{description}, out={out}, size={size}, stride={stride}",
            "Raise ValueError when out, size or stride is below 1.",
        )
    passed(
        "6.3",
        f"the input sizes are right on {len(cases)} settings, and {len(invalid)} impossible ones "
        "raise ValueError",
    )


# --------------------------------------------------------------------------------------------
# Questions 6.4 and 6.5


check_receptive_field = question(
    "6.5",
    "the receptive field of conv, pool, conv, pool, conv",
    expected=18,
    misconceptions={
        7: "the poolings were left out: each adds (2 - 1) j pixels itself and doubles j for the layers after it",
        9: "the jumps were left out: after a stride-2 pooling one step of the next layer spans 2 input pixels, "
        "after two poolings 4",
        15: "the pooling windows add to the field too: a 2x2 window adds (2 - 1) j pixels",
        12: "the field grows by adding (k - 1) j per layer, not by doubling at each pooling",
    },
    hint="go layer by layer: start at 1 pixel, add (k - 1) j for each layer (pooling too), and double j after "
    "each stride-2 layer",
    explanation="1 + 2 + 1 + 2*2 + 1*2 + 2*4 = 18: the poolings double the jump, so the last 3x3 layer adds 8.",
)

check_final_map_size = question(
    "6.4",
    "map size after two conv-pool blocks",
    expected=7,
    misconceptions={
        5: "a 3x3 convolution with padding 1 keeps the map's size: only the poolings shrink it",
        14: "there are two poolings: each halves the map",
        28: "each 2x2 pooling with stride 2 halves the height and the width",
    },
    hint="follow the width through each layer: (n + 2p - k) // s + 1",
    explanation="28 -> 28 (3x3, padding 1) -> 14 (pool) -> 14 -> 7.",
)


__all__ = [
    "check_max_pool",
    "check_pool_batch",
    "check_input_sizes",
    "check_receptive_field",
    "check_final_map_size",
    "pool_cases",
]
