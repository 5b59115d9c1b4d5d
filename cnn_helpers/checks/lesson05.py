"""Checks for lesson 05, convolution layers.

Exercise 5.2 asks for a *vectorised* convolution. Whether a function is vectorised is checked by
counting, not by timing: while the learner's function runs on one moderately large batch, a
trace hook counts the lines of Python executed in the learner's own notebook code (frames whose
globals are the learner function's globals; NumPy's internals are not counted). A loop over
output positions runs at least one line per position, thousands here; a vectorised version runs
a few dozen, whatever the image size. The count is the same on every machine and every run,
whereas a timing depends on the laptop, its load and its power settings, so a time limit would
either be flaky or so generous that it proves nothing. A loop over output rows stays under that
limit, so the check also runs the function on a small and a larger image and requires the same
number of lines on both (``check_lines_do_not_grow``).
"""

from __future__ import annotations


import functools

import numpy as np

from cnn_helpers import conv

from ._core import count_python_lines, CheckFailure, call, check_lines_do_not_grow, compare, exercise, passed

# The vectorisation test case of exercise 5.2: 2 images, 3 channels, 66x66 pixels, 4 filters of
# 3x3, so each output map has 64 x 64 = 4,096 positions. A position loop runs at least
# 2 * 4,096 lines; looping over images, filters, channels or kernel offsets stays far below.
_FAST_CASE_SHAPE = dict(n=2, channels=3, size=66, filters=4, kernel=3)
LINE_LIMIT = 2000


# --------------------------------------------------------------------------------------------
# Cases shared by exercises 5.1 and 5.2


def _lecture_cases():
    from cnn_helpers import data

    example = data.lecture_example()
    x = example.image[None, None]
    weight = example.sharpen[None, None]
    bias = np.zeros(1)
    return [
        ("the lecture's 5x5 image with the sharpen kernel", x, weight, bias, 1, 0),
        ("the lecture's 5x5 image, sharpen kernel, padding 1", x, weight, bias, 1, 1),
        ("the lecture's 5x5 image, sharpen kernel, padding 1, stride 2", x, weight, bias, 2, 1),
        ("the lecture's 5x5 image with the 1..9 kernel and bias 10", x, example.one_to_nine[None, None],
         np.array([10.0]), 1, 0),
    ]


def _random_case(rng, n, channels, height, width, filters, kernel_h, kernel_w, stride, padding):
    x = rng.normal(size=(n, channels, height, width)).round(2)
    weight = rng.normal(size=(filters, channels, kernel_h, kernel_w)).round(2)
    bias = rng.normal(size=filters).round(2)
    description = (
        f"x of shape {x.shape}, weight of shape {weight.shape}, stride {stride}, padding {padding}"
    )
    return description, x, weight, bias, stride, padding


def conv_cases(seed=501, count=40):
    """The lecture's numbers, a few hand-picked shapes, then ``count`` seeded random cases."""
    rng = np.random.default_rng(seed)
    cases = _lecture_cases()
    # As many filters as channels, and as many filters as output columns: swapping weight's first
    # two axes, or adding the bias along the width axis, runs without an error only in cases like
    # these, so they come first (later cases would stop such a function with an IndexError).
    cases.append(_random_case(rng, 1, 3, 7, 5, 3, 3, 3, 1, 0))
    cases.append(_random_case(rng, 2, 3, 6, 6, 4, 3, 3, 1, 0))
    cases.append(_random_case(rng, 2, 2, 9, 8, 3, 3, 3, 2, 0))
    cases.append(_random_case(rng, 1, 4, 8, 8, 2, 2, 2, 3, 2))
    for _ in range(count):
        kernel_h, kernel_w = (int(k) for k in rng.integers(1, 5, size=2))
        padding = int(rng.integers(0, 3))
        stride = int(rng.integers(1, 4))
        height = int(rng.integers(max(kernel_h - 2 * padding, 1), 10))
        width = int(rng.integers(max(kernel_w - 2 * padding, 1), 10))
        cases.append(_random_case(
            rng, int(rng.integers(1, 4)), int(rng.integers(1, 5)), height, width,
            int(rng.integers(1, 5)), kernel_h, kernel_w, stride, padding,
        ))
    return cases


def _conv_mistakes(x, weight, bias, stride, padding, expected):
    """What plausible mistakes return on this case, for the hint (None when not applicable)."""
    n, channels = x.shape[:2]
    filters = weight.shape[0]
    no_bias = conv.conv2d(x, weight, None, stride=stride, padding=padding)
    mistakes = [
        ("the bias is missing: add bias[f] to every position of filter f's map", no_bias),
        ("the bias was added once per input channel (C times): add it once per filter, after "
         "summing over the channels", no_bias + channels * bias[None, :, None, None]),
        ("the bias was added along the last axis (the width) instead of per filter: give it "
         "shape (1, F, 1, 1), or add bias[f] inside the loop over filters",
         no_bias + bias if no_bias.shape[-1] == filters else None),
        ("only the last input channel was counted (`=` instead of `+=` in a loop over channels?): "
         "sum the products over all C channels",
         conv.conv2d(x[:, -1:], weight[:, -1:], bias, stride=stride, padding=padding) if channels > 1 else None),
        ("only the first input channel was counted: sum the products over all C channels",
         conv.conv2d(x[:, :1], weight[:, :1], bias, stride=stride, padding=padding) if channels > 1 else None),
        ("the kernel was flipped (that is true convolution); a convolution layer slides each "
         "kernel as it is, like correlate2d", conv.conv2d(x, weight[..., ::-1, ::-1], bias, stride=stride, padding=padding)),
        ("weight[c, f] was used instead of weight[f, c]: weight's axes are (filters F, channels C, KH, KW)",
         conv.conv2d(x, weight.transpose(1, 0, 2, 3), bias, stride=stride, padding=padding) if filters == channels > 1 else None),
        ("the stride was ignored: move the window by `stride` pixels (top = row * stride)",
         conv.conv2d(x, weight, bias, stride=1, padding=padding) if stride != 1 else None),
        ("the padding was ignored: pad x with `padding` zeros on every side first",
         _conv_or_none(x, weight, bias, stride, 0) if padding else None),
        ("the output size is off by one: OH = (H + 2*padding - KH) // stride + 1, with the + 1",
         expected[..., :-1, :-1] if min(expected.shape[-2:]) > 1 else None),
        ("the output has the height and width swapped: its shape is (N, F, OH, OW)",
         expected.swapaxes(-1, -2) if expected.shape[-1] != expected.shape[-2] else None),
    ]
    return mistakes


def _conv_or_none(x, weight, bias, stride, padding):
    try:
        return conv.conv2d(x, weight, bias, stride=stride, padding=padding)
    except ValueError:  # the kernel does not fit without the padding
        return None


def _check_conv_function(exercise_id, function, cases):
    for description, x, weight, bias, stride, padding in cases:
        expected = conv.conv2d(x, weight, bias, stride=stride, padding=padding)
        x_in, weight_in, bias_in = x.copy(), weight.copy(), bias.copy()
        received = call(exercise_id, function, x_in, weight_in, bias_in, stride=stride, padding=padding, case=description)
        if not (np.array_equal(x_in, x) and np.array_equal(weight_in, weight) and np.array_equal(bias_in, bias)):
            raise CheckFailure(
                f"Exercise {exercise_id}: on {description}, your function changed its input arrays "
                "in place. Work on new arrays (np.pad and np.zeros make new ones)."
            )
        mistakes = _conv_mistakes(x, weight, bias, stride, padding, expected)
        compare(exercise_id, expected, received, description, mistakes, name="output")


@exercise("5.1", "multi-channel convolution with loops", allowed=("pad2d", "output_size"),
          reference="cnn_helpers.conv.conv2d")
def check_conv_forward_loops(conv_forward_loops):
    """``conv_forward_loops(x, weight, bias, *, stride, padding)`` must equal ``conv.conv2d``."""
    cases = conv_cases(seed=501)
    _check_conv_function("5.1", conv_forward_loops, cases)
    passed("5.1", f"the convolution layer's forward pass is right on {len(cases)} batches, "
                  "including the lecture's 5x5 example")


# --------------------------------------------------------------------------------------------
# Exercise 5.2: the same result, vectorised




def fast_case(seed=502):
    """The batch on which exercise 5.2's line count is measured."""
    shape = _FAST_CASE_SHAPE
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(shape["n"], shape["channels"], shape["size"], shape["size"]))
    weight = rng.normal(size=(shape["filters"], shape["channels"], shape["kernel"], shape["kernel"]))
    bias = rng.normal(size=shape["filters"])
    return x, weight, bias


@exercise("5.2", "vectorised multi-channel convolution", allowed=("pad2d", "output_size"),
          reference="cnn_helpers.conv.conv2d")
def check_conv_forward_fast(conv_forward_fast):
    """Same results as exercise 5.1, and no Python loop over output positions."""
    cases = conv_cases(seed=511)
    _check_conv_function("5.2", conv_forward_fast, cases)

    x, weight, bias = fast_case()
    expected = conv.conv2d(x, weight, bias, stride=1, padding=0)
    out_h, out_w = expected.shape[-2:]
    description = f"x of shape {x.shape}, weight of shape {weight.shape} (the speed test)"

    def counted(*args, **kwargs):
        return count_python_lines(functools.partial(conv_forward_fast, **kwargs), *args, limit=LINE_LIMIT)

    counted.__wrapped__ = conv_forward_fast  # so the reference guard watches the learner's globals
    received, lines = call("5.2", counted, x.copy(), weight.copy(), bias.copy(), stride=1, padding=0, case=description)
    if lines > LINE_LIMIT:
        raise CheckFailure(
            f"Exercise 5.2: your function is not vectorised yet. On {description}, each output map "
            f"has {out_h} x {out_w} = {out_h * out_w:,} positions, and your code ran more than "
            f"{LINE_LIMIT:,} lines of Python before the check stopped it: it still loops over "
            "output positions (or calls the loop version). Build all windows at once "
            "(np.lib.stride_tricks.sliding_window_view, or im2col) and multiply-and-sum them with "
            "one np.einsum / np.tensordot / matrix product; loops over images, filters, channels "
            "or kernel offsets are fine."
        )
    compare("5.2", expected, received, description, name="output")

    # A loop over rows (or columns) of the output stays under LINE_LIMIT; it still runs more lines
    # on a taller, wider image, whereas a vectorised version runs the same lines.
    def run(x, weight, bias):
        call("5.2", conv_forward_fast, x, weight, bias, stride=1, padding=0, case=f"x of shape {x.shape}")

    rng = np.random.default_rng(5020)
    weight, bias = rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2)
    check_lines_do_not_grow(
        "5.2", run, (rng.normal(size=(2, 3, 6, 6)), weight, bias), (rng.normal(size=(2, 3, 12, 12)), weight, bias),
        watch=conv_forward_fast, describe=lambda arguments: f"x of shape {arguments[0].shape}",
        advice="It still loops over output rows, columns or positions: build all windows at once and "
               "multiply-and-sum them in one step; loops over images, filters, channels or kernel "
               "offsets are fine.")
    passed("5.2", f"the vectorised forward pass is right on {len(cases) + 1} batches and runs "
                  f"without a Python loop over output positions")


# --------------------------------------------------------------------------------------------
# Exercise 5.3: the activation and the whole layer


def _identity(z):
    return z


def _check_relu(relu):
    rng = np.random.default_rng(531)
    cases = [np.array([-2.0, -0.5, 0.0, 0.5, 3.0]), np.array([[-1.0, 2.0], [3.0, -4.0]])]
    cases += [rng.normal(size=tuple(int(s) for s in rng.integers(1, 6, size=rng.integers(1, 5))))
              for _ in range(20)]
    for number, z in enumerate(cases):
        case = f"relu case {number}: z of shape {z.shape}"
        z_in = z.copy()
        received = call("5.3", relu, z_in, case=case)
        if not np.array_equal(z_in, z):
            raise CheckFailure(
                f"Exercise 5.3: on {case}, relu changed its input in place. Return a new array "
                "(np.maximum(z, 0) does), so the pre-activation z stays available."
            )
        mistakes = [
            ("relu kept the negative part: it is max(z, 0), which keeps the positive values",
             np.minimum(z, 0)),
            ("relu returned |z|: negative values must become 0, not positive", np.abs(z)),
            ("relu returned a mask of where z > 0: return the values max(z, 0) themselves",
             (z > 0).astype(float)),
            ("relu scaled the negative values instead of zeroing them (that is a leaky ReLU)",
             np.where(z > 0, z, 0.01 * z)),
        ]
        compare("5.3", np.maximum(z, 0), received, case, mistakes, name="relu output")
    return len(cases)


@exercise("5.3", "a convolution layer with an activation", allowed=("pad2d", "output_size"),
          reference=(None, "cnn_helpers.conv.conv2d"))
def check_conv_layer(relu, conv_layer):
    """``relu(z)`` is max(z, 0); ``conv_layer(x, weight, bias, activation, *, stride, padding)`` is
    ``activation(conv2d(x, weight, bias, stride=stride, padding=padding))``."""
    relu_cases = _check_relu(relu)
    activations = [("relu", lambda z: np.maximum(z, 0)), ("np.tanh", np.tanh), ("the identity", _identity)]
    cases = conv_cases(seed=533, count=12)
    for number, (description, x, weight, bias, stride, padding) in enumerate(cases):
        name, activation = activations[number % len(activations)]
        case = f"{description}, activation {name}"
        z = conv.conv2d(x, weight, bias, stride=stride, padding=padding)
        z_no_bias = conv.conv2d(x, weight, None, stride=stride, padding=padding)
        expected = activation(z)
        received = call("5.3", conv_layer, x.copy(), weight.copy(), bias.copy(), activation,
                        stride=stride, padding=padding, case=case)
        mistakes = [
            ("the activation was ignored: return activation(W * A + b)", z),
            ("the activation was applied before adding the bias: the bias goes inside, g(W * A + b)",
             activation(z_no_bias) + bias[None, :, None, None]),
            ("the bias is missing: g(W * A + b) adds bias[f] to filter f's map before the activation",
             activation(z_no_bias)),
            ("ReLU was used whatever activation was passed: call the `activation` argument",
             np.maximum(z, 0)),
        ]
        compare("5.3", expected, received, case, mistakes, name="layer output")
    passed("5.3", f"relu is right on {relu_cases} arrays and the layer g(W * A + b) on "
                  f"{len(cases)} batches with three different activations")


__all__ = [
    "check_conv_forward_loops", "check_conv_forward_fast", "check_conv_layer",
    "count_python_lines", "conv_cases", "fast_case", "LINE_LIMIT", "CheckFailure",
]
