"""Checks for lesson 05, convolution layers.

Exercises 5.2 and 5.3 ask for *vectorised* code. Whether a function is vectorised is checked by
counting, not by timing: while the learner's function runs, a trace hook counts the lines of
Python executed in the learner's own notebook code (frames whose globals are the learner
function's globals; NumPy's internals are not counted). A loop over output positions runs at
least one line per position; a vectorised version runs the same few lines whatever the image
size. The count is the same on every machine and every run, whereas a timing depends on the
laptop, its load and its power settings. Each check runs the function on a small and a larger
image and requires the same number of lines on both (``check_lines_do_not_grow``); 5.3 also has a
fixed limit on one large batch (``LINE_LIMIT``).
"""

from __future__ import annotations

import functools

import numpy as np

from cnn_helpers import conv

from ._core import (
    CheckFailure,
    _LearnerRaised,
    call,
    check_lines_do_not_grow,
    count_python_lines,
    diagnose,
    exercise,
    passed,
    question,
)

# The vectorisation test case of exercise 5.3: 2 images, 3 channels, 66x66 pixels, 4 filters of
# 3x3, so each output map has 64 x 64 = 4,096 positions. A position loop runs at least
# 2 * 4,096 lines; looping over images, filters, channels or kernel offsets stays far below.
_FAST_CASE_SHAPE = dict(n=2, channels=3, size=66, filters=4, kernel=3)
LINE_LIMIT = 2000

# NumPy's ready-made window views: exercise 5.2 asks the learner to build the windows themselves.
_WINDOW_VIEWS = ("numpy.lib.stride_tricks.sliding_window_view", "numpy.lib.stride_tricks.as_strided")


# --------------------------------------------------------------------------------------------
# Cases shared by exercises 5.1 and 5.3


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
        (
            "the lecture's 5x5 image with the 1..9 kernel and bias 10",
            x,
            example.one_to_nine[None, None],
            np.array([10.0]),
            1,
            0,
        ),
    ]


def _random_case(rng, n, channels, height, width, filters, kernel_h, kernel_w, stride, padding):
    x = rng.normal(size=(n, channels, height, width)).round(2)
    weight = rng.normal(size=(filters, channels, kernel_h, kernel_w)).round(2)
    bias = rng.normal(size=filters).round(2)
    description = f"x of shape {x.shape}, weight of shape {weight.shape}, stride {stride}, padding {padding}"
    return description, x, weight, bias, stride, padding


def conv_cases(seed=501, count=40):
    """The lecture's numbers, a few hand-picked shapes, then ``count`` seeded random cases."""
    rng = np.random.default_rng(seed)
    cases = _lecture_cases()
    # As many filters as channels, and as many filters as output columns: swapping weight's first
    # two axes, or adding the bias along the width axis, runs without an error only in cases like
    # these. Square kernels with padding: the mistakes that only run there are seen several times.
    cases.append(_random_case(rng, 1, 3, 7, 5, 3, 3, 3, 1, 0))
    cases.append(_random_case(rng, 2, 3, 6, 6, 4, 3, 3, 1, 0))
    cases.append(_random_case(rng, 2, 2, 9, 8, 3, 3, 3, 2, 0))
    cases.append(_random_case(rng, 1, 4, 8, 8, 2, 2, 2, 3, 2))
    cases.append(_random_case(rng, 2, 2, 6, 7, 2, 3, 3, 1, 1))
    cases.append(_random_case(rng, 1, 3, 5, 5, 3, 2, 2, 2, 1))
    for _ in range(count):
        kernel_h, kernel_w = (int(k) for k in rng.integers(1, 5, size=2))
        padding = int(rng.integers(0, 3))
        stride = int(rng.integers(1, 4))
        height = int(rng.integers(max(kernel_h - 2 * padding, 1), 10))
        width = int(rng.integers(max(kernel_w - 2 * padding, 1), 10))
        cases.append(
            _random_case(
                rng,
                int(rng.integers(1, 4)),
                int(rng.integers(1, 5)),
                height,
                width,
                int(rng.integers(1, 5)),
                kernel_h,
                kernel_w,
                stride,
                padding,
            )
        )
    return cases


def _reference(x, weight, bias, *, stride=1, padding=0):
    return conv.conv2d(x, weight, bias, stride=stride, padding=padding)


def _needs(condition):
    """Stop a mistake on a case where it could not even run (diagnose then ignores the case)."""
    if not condition:
        raise ValueError("this mistake cannot run on this case")


def _pad_all_axes(x, weight, bias, *, stride=1, padding=0):
    """``np.pad(x, p)`` pads images and channels too; a loop over the first N images and C channels."""
    n, channels = x.shape[:2]
    padded = np.pad(x, padding)[:n, :channels]
    return conv.conv2d(padded, weight, bias, stride=stride, padding=0)


def _einsum_kernel_swapped(x, weight, bias, *, stride=1, padding=0):
    """``np.einsum("nchwij,fcji->nfhw", ...)``: runs only for square kernels, which it transposes."""
    _needs(weight.shape[-1] == weight.shape[-2])
    return conv.conv2d(x, weight.swapaxes(-1, -2), bias, stride=stride, padding=padding)


def _conv_mistakes():
    """Each known wrong forward pass, called like the learner's ``f(x, weight, bias, *, stride, padding)``."""

    def no_bias(x, weight, bias, *, stride=1, padding=0):
        return conv.conv2d(x, weight, None, stride=stride, padding=padding)

    def bias_per_channel(x, weight, bias, *, stride=1, padding=0):
        return (
            no_bias(x, weight, bias, stride=stride, padding=padding) + x.shape[1] * bias[None, :, None, None]
        )

    def bias_last_axis(x, weight, bias, *, stride=1, padding=0):
        out = no_bias(x, weight, bias, stride=stride, padding=padding)
        _needs(out.shape[-1] == len(bias) or len(bias) == 1)  # NumPy broadcasting runs only then
        return out + bias

    def last_channel(x, weight, bias, *, stride=1, padding=0):
        return conv.conv2d(x[:, -1:], weight[:, -1:], bias, stride=stride, padding=padding)

    def first_channel(x, weight, bias, *, stride=1, padding=0):
        return conv.conv2d(x[:, :1], weight[:, :1], bias, stride=stride, padding=padding)

    def flipped(x, weight, bias, *, stride=1, padding=0):
        return conv.conv2d(x, weight[..., ::-1, ::-1], bias, stride=stride, padding=padding)

    def weight_axes_swapped(x, weight, bias, *, stride=1, padding=0):
        _needs(weight.shape[0] == weight.shape[1])  # other shapes stop with an error
        return conv.conv2d(x, weight.transpose(1, 0, 2, 3), bias, stride=stride, padding=padding)

    def no_stride(x, weight, bias, *, stride=1, padding=0):
        return conv.conv2d(x, weight, bias, stride=1, padding=padding)

    def start_at_r_c(x, weight, bias, *, stride=1, padding=0):
        out_h, out_w = _reference(x, weight, bias, stride=stride, padding=padding).shape[-2:]
        return conv.conv2d(x, weight, bias, stride=1, padding=padding)[..., :out_h, :out_w]

    def no_padding(x, weight, bias, *, stride=1, padding=0):
        return conv.conv2d(x, weight, bias, stride=stride, padding=0)

    def one_short(x, weight, bias, *, stride=1, padding=0):
        out = _reference(x, weight, bias, stride=stride, padding=padding)
        _needs(min(out.shape[-2:]) > 1)
        return out[..., :-1, :-1]

    def height_width_swapped(x, weight, bias, *, stride=1, padding=0):
        return _reference(x, weight, bias, stride=stride, padding=padding).swapaxes(-1, -2)

    return {
        "no bias": (no_bias, "the bias is missing: add bias[f] to every position of filter f's map"),
        "bias per channel": (
            bias_per_channel,
            "the bias was added once per input channel (C times): add it "
            "once per filter, after summing over the channels",
        ),
        "bias on the last axis": (
            bias_last_axis,
            "the bias was added along the last axis (the width) instead of "
            "per filter: give it shape (1, F, 1, 1), or add bias[f] inside the loop over filters",
        ),
        "last channel only": (
            last_channel,
            "only the last input channel was counted (`=` instead of `+=` in a "
            "loop over channels?): sum the products over all C channels",
        ),
        "first channel only": (
            first_channel,
            "only the first input channel was counted: sum the products over all C channels",
        ),
        "kernel flipped": (
            flipped,
            "the kernel was flipped (that is true convolution); a convolution layer "
            "slides each kernel as it is, like correlate2d",
        ),
        "weight axes swapped": (
            weight_axes_swapped,
            "weight[c, f] was used instead of weight[f, c]: weight's "
            "axes are (filters F, channels C, KH, KW)",
        ),
        "einsum kernel indices swapped": (
            _einsum_kernel_swapped,
            "the kernel's two offsets are swapped (einsum "
            "with 'fcji' where the windows say 'ij'?): window offset (i, j) "
            "multiplies weight[f, c, i, j], so every kernel came out transposed",
        ),
        "windows start at (r, c)": (
            start_at_r_c,
            "the output has the right size, but window (r, c) starts at "
            "row r, column c: with a stride it starts at row r * stride, column c * stride",
        ),
        "stride ignored": (
            no_stride,
            "the stride was ignored: move the window by `stride` pixels (top = row * stride)",
        ),
        "padding ignored": (
            no_padding,
            "the padding was ignored: pad x with `padding` zeros on every side first",
        ),
        "np.pad on all four axes": (
            _pad_all_axes,
            "np.pad(x, p) pads all four axes of an (N, C, H, W) batch, so "
            "images and channels of zeros came in too: pad only the height and the width, "
            "np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))",
        ),
        "one short": (
            one_short,
            "the output size is off by one: OH = (H + 2*padding - KH) // stride + 1, with the + 1",
        ),
        "height and width swapped": (
            height_width_swapped,
            "the output has the height and width swapped: its shape is (N, F, OH, OW)",
        ),
    }


_PAD_HINT = (
    "np.pad(x, p) pads all four axes of an (N, C, H, W) batch (images and channels too), so the "
    "windows hold more channels than the kernels: pad only the height and the width, "
    "np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))"
)


def _padding_probe(exercise_id, function):
    """When the function raises only once there is padding, although it is right on an input padded
    beforehand (on two cases), say that the padding step is what breaks, naming the np.pad slip."""
    rng = np.random.default_rng(5050)
    for channels, padding in ((3, 1), (2, 2)):
        x = rng.normal(size=(2, channels, 5, 6))
        weight, bias = rng.normal(size=(2, channels, 3, 3)), rng.normal(size=2)
        try:
            call(
                exercise_id,
                function,
                x.copy(),
                weight.copy(),
                bias.copy(),
                stride=1,
                padding=padding,
                case="probe",
            )
            return
        except _LearnerRaised as raised:
            error = str(raised)
        except CheckFailure:
            return
        padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        try:
            received = call(
                exercise_id, function, padded, weight.copy(), bias.copy(), stride=1, padding=0, case="probe"
            )
        except CheckFailure:
            return
        if not np.allclose(np.asarray(received, dtype=float), _reference(padded, weight, bias)):
            return
    raise CheckFailure(
        f"Exercise {exercise_id}: your function is right on inputs we pad beforehand, but raises as soon as "
        f"padding > 0 ({error.splitlines()[0]}).\n  Likely mistake: {_PAD_HINT}"
    )


def _check_conv_function(exercise_id, function):
    cases = conv_cases(seed=501 if exercise_id == "5.1" else 511)
    for description, x, weight, bias, stride, padding in cases[:3]:
        x_in, weight_in, bias_in = x.copy(), weight.copy(), bias.copy()
        try:
            call(
                exercise_id,
                function,
                x_in,
                weight_in,
                bias_in,
                stride=stride,
                padding=padding,
                case=description,
            )
        except _LearnerRaised:  # diagnosed with every other case below
            continue
        if not (
            np.array_equal(x_in, x) and np.array_equal(weight_in, weight) and np.array_equal(bias_in, bias)
        ):
            raise CheckFailure(
                f"Exercise {exercise_id}: on {description}, your function changed its input arrays "
                "in place. Work on new arrays (np.pad and np.zeros make new ones)."
            )
    _padding_probe(exercise_id, function)
    diagnose(
        exercise_id,
        function,
        _reference,
        [
            (description, (x, weight, bias), {"stride": stride, "padding": padding})
            for description, x, weight, bias, stride, padding in cases
        ],
        _conv_mistakes(),
        name="output",
        rtol=1e-6,
        atol=1e-8,
    )
    return len(cases)


@exercise(
    "5.1",
    "multi-channel convolution with loops",
    allowed=("pad2d", "output_size"),
    reference="cnn_helpers.conv.conv2d",
    mistakes=_conv_mistakes,
)
def check_conv_forward_loops(conv_forward_loops):
    """``conv_forward_loops(x, weight, bias, *, stride, padding)`` must equal ``conv.conv2d``."""
    count = _check_conv_function("5.1", conv_forward_loops)
    passed(
        "5.1",
        f"the convolution layer's forward pass is right on {count} batches, "
        "including the lecture's 5x5 example",
    )


# --------------------------------------------------------------------------------------------
# Exercise 5.2: the window array


def _windows_reference(x, kernel_h, kernel_w, *, stride=1, padding=0):
    padded = np.pad(np.asarray(x, dtype=float), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    views = np.lib.stride_tricks.sliding_window_view(padded, (kernel_h, kernel_w), axis=(2, 3))
    return np.ascontiguousarray(views[:, :, ::stride, ::stride])


def _window_mistakes():
    """Each known wrong window array, called like the learner's ``f(x, kernel_h, kernel_w, *, stride, padding)``."""

    def start_at_r_c(x, kernel_h, kernel_w, *, stride=1, padding=0):
        right = _windows_reference(x, kernel_h, kernel_w, stride=stride, padding=padding)
        every = _windows_reference(x, kernel_h, kernel_w, stride=1, padding=padding)
        return every[:, :, : right.shape[2], : right.shape[3]]

    def no_stride(x, kernel_h, kernel_w, *, stride=1, padding=0):
        return _windows_reference(x, kernel_h, kernel_w, stride=1, padding=padding)

    def no_padding(x, kernel_h, kernel_w, *, stride=1, padding=0):
        _needs(kernel_h <= x.shape[2] and kernel_w <= x.shape[3])
        return _windows_reference(x, kernel_h, kernel_w, stride=stride, padding=0)

    def pad_all_axes(x, kernel_h, kernel_w, *, stride=1, padding=0):
        right = _windows_reference(x, kernel_h, kernel_w, stride=stride, padding=padding)
        padded = np.pad(np.asarray(x, dtype=float), padding)
        out = np.empty(padded.shape[:2] + right.shape[2:])
        for i in range(kernel_h):
            for j in range(kernel_w):
                out[..., i, j] = padded[
                    :, :, i : i + stride * right.shape[2] : stride, j : j + stride * right.shape[3] : stride
                ]
        return out

    def offsets_swapped(x, kernel_h, kernel_w, *, stride=1, padding=0):
        _needs(kernel_h == kernel_w)
        return _windows_reference(x, kernel_h, kernel_w, stride=stride, padding=padding).swapaxes(-1, -2)

    def kernel_axes_first(x, kernel_h, kernel_w, *, stride=1, padding=0):
        return _windows_reference(x, kernel_h, kernel_w, stride=stride, padding=padding).transpose(
            0, 1, 4, 5, 2, 3
        )

    def one_short(x, kernel_h, kernel_w, *, stride=1, padding=0):
        right = _windows_reference(x, kernel_h, kernel_w, stride=stride, padding=padding)
        _needs(min(right.shape[2:4]) > 1)
        return right[:, :, :-1, :-1]

    return {
        "windows start at (r, c)": (
            start_at_r_c,
            "the array has the right shape, but window (r, c) starts at "
            "row r, column c: with a stride it starts at row r * stride, column "
            "c * stride (slice with step `stride`)",
        ),
        "stride ignored": (
            no_stride,
            "the stride was ignored: keep only every stride-th window along each axis",
        ),
        "padding ignored": (
            no_padding,
            "the padding is missing: pad the height and the width with `padding` zeros first",
        ),
        "np.pad on all four axes": (
            pad_all_axes,
            "np.pad(x, p) pads all four axes of an (N, C, H, W) batch, so "
            "images and channels of zeros came in too: pad only the height and the width, "
            "np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))",
        ),
        "offsets swapped": (
            offsets_swapped,
            "the two kernel offsets are swapped: windows[n, c, r, s, i, j] holds "
            "row offset i and column offset j",
        ),
        "kernel axes first": (
            kernel_axes_first,
            "the axes are in the wrong order: the shape is "
            "(N, C, OH, OW, KH, KW), the output position before the kernel offset",
        ),
        "one short": (
            one_short,
            "one window too few along each axis: OH = (H + 2*padding - KH) // stride + 1",
        ),
    }


def _window_cases():
    rng = np.random.default_rng(520)
    cases = []
    for _, x, weight, _, stride, padding in conv_cases(seed=520, count=30):
        kernel_h, kernel_w = weight.shape[-2:]
        cases.append(
            (
                f"x of shape {x.shape}, kernel {kernel_h}x{kernel_w}, stride {stride}, padding {padding}",
                (x, int(kernel_h), int(kernel_w)),
                {"stride": stride, "padding": padding},
            )
        )
    x = rng.integers(-9, 10, size=(1, 2, 7, 9)).astype(float)
    cases.insert(
        0,
        (
            "x of shape (1, 2, 7, 9) (integers), kernel 3x2, stride 2, padding 1",
            (x, 3, 2),
            {"stride": 2, "padding": 1},
        ),
    )
    return cases


@exercise(
    "5.2",
    "the window array (im2col)",
    allowed=("output_size",),
    forbidden=_WINDOW_VIEWS,
    reference=None,
    mistakes=_window_mistakes,
)
def check_window_array(window_array):
    """``window_array(x, kernel_h, kernel_w, *, stride, padding)`` -> (N, C, OH, OW, KH, KW), no loop over positions."""
    cases = _window_cases()
    diagnose("5.2", window_array, _windows_reference, cases, _window_mistakes(), name="window array")

    def run(x):
        call("5.2", window_array, x, 3, 3, stride=1, padding=1, case=f"x of shape {x.shape}")

    rng = np.random.default_rng(5021)
    check_lines_do_not_grow(
        "5.2",
        run,
        (rng.normal(size=(1, 2, 6, 6)),),
        (rng.normal(size=(3, 4, 12, 14)),),
        watch=window_array,
        describe=lambda arguments: f"x of shape {arguments[0].shape}",
        advice="It loops over images, channels or output positions: loop only over the KH x KW kernel "
        "offsets (i, j), and take all windows' entry (i, j) in one slice of the padded batch.",
    )
    passed(
        "5.2",
        f"the window array is right on {len(cases)} batches and is built without a Python loop "
        "over images, channels or positions",
    )


# --------------------------------------------------------------------------------------------
# Exercise 5.3: the layer, vectorised


def fast_case(seed=502):
    """The batch on which exercise 5.3's fixed line limit is measured."""
    shape = _FAST_CASE_SHAPE
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(shape["n"], shape["channels"], shape["size"], shape["size"]))
    weight = rng.normal(size=(shape["filters"], shape["channels"], shape["kernel"], shape["kernel"]))
    bias = rng.normal(size=shape["filters"])
    return x, weight, bias


@exercise(
    "5.3",
    "vectorised multi-channel convolution",
    allowed=("pad2d", "output_size"),
    reference="cnn_helpers.conv.conv2d",
    mistakes=_conv_mistakes,
)
def check_conv_forward_fast(conv_forward_fast):
    """Same results as exercise 5.1, and no Python loop over output positions."""
    count = _check_conv_function("5.3", conv_forward_fast)

    x, weight, bias = fast_case()
    out_h, out_w = _reference(x, weight, bias).shape[-2:]
    description = f"x of shape {x.shape}, weight of shape {weight.shape} (the speed test)"

    def counted(*args, **kwargs):
        return count_python_lines(functools.partial(conv_forward_fast, **kwargs), *args, limit=LINE_LIMIT)

    counted.__wrapped__ = conv_forward_fast  # so the reference guard watches the learner's globals
    _, lines = call(
        "5.3", counted, x.copy(), weight.copy(), bias.copy(), stride=1, padding=0, case=description
    )
    if lines > LINE_LIMIT:
        raise CheckFailure(
            f"Exercise 5.3: your function is right but not vectorised yet. On {description}, each output map "
            f"has {out_h} x {out_w} = {out_h * out_w:,} positions, and your code ran more than "
            f"{LINE_LIMIT:,} lines of Python before the check stopped it: it still loops over "
            "output positions (or calls the loop version). Build all windows at once (your "
            "window_array) and multiply-and-sum them with every kernel in one step; loops over images, "
            "filters, channels or kernel offsets are fine."
        )

    # A loop over rows (or columns) of the output stays under LINE_LIMIT; it still runs more lines
    # on a taller, wider image, whereas a vectorised version runs the same lines.
    def run(x, weight, bias):
        call("5.3", conv_forward_fast, x, weight, bias, stride=1, padding=0, case=f"x of shape {x.shape}")

    rng = np.random.default_rng(5020)
    weight, bias = rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2)
    check_lines_do_not_grow(
        "5.3",
        run,
        (rng.normal(size=(2, 3, 6, 6)), weight, bias),
        (rng.normal(size=(2, 3, 12, 12)), weight, bias),
        watch=conv_forward_fast,
        describe=lambda arguments: f"x of shape {arguments[0].shape}",
        advice="It still loops over output rows, columns or positions: build all windows at once and "
        "multiply-and-sum them in one step; loops over images, filters, channels or kernel "
        "offsets are fine.",
    )
    passed(
        "5.3",
        f"the vectorised forward pass is right on {count + 1} batches and runs "
        f"without a Python loop over output positions",
    )


# --------------------------------------------------------------------------------------------
# Questions 5.5 and 5.6


check_multiply_adds = question(
    "5.6",
    "multiply-adds of a convolution layer",
    expected=388_800,
    misconceptions={
        432: "432 is the number of weights; each weight is used once at every position of its map",
        448: "448 is the number of parameters; each weight is used once at every position of its map",
        14_400: "14,400 is the number of outputs; each output adds up the products of a whole kernel",
        24_300: "that is one kernel's work; the layer has 16 kernels",
        129_600: "each kernel covers all three colour channels: 3 x 3 x 3 = 27 products per output, not 9",
        442_368: "a 3x3 kernel without padding fits at 30 x 30 positions of a 32x32 image, not at all 32 x 32 "
        "pixels",
        49_152: "49,152 is the dense layer's count (one multiply-add per weight); a kernel's weights are used "
        "again at every position",
    },
    hint="count the outputs (kernels x positions), then the products that make each output",
    explanation="16 kernels x 30 x 30 positions x 27 products: 110 times fewer parameters than the dense "
    "layer, but about 8 times more multiply-adds.",
)

check_second_layer_parameters = question(
    "5.5",
    "parameters of a second convolution layer",
    expected=12_832,
    misconceptions={
        12_800: "the biases are missing: one per kernel",
        832: "each kernel has one 5x5 slice per input channel, and A1 has 16 channels",
        2_432: "the second layer's input is A1, with 16 channels, not the photo's 3",
        800: "each kernel has one 5x5 slice per input channel (16 of them), and a bias",
    },
    hint="one kernel has one 5x5 slice per channel of its input, plus a bias; the padding changes no weight",
    explanation="32 kernels x (16 x 5 x 5 + 1): the kernels' depth is the number of maps they read.",
)


# --------------------------------------------------------------------------------------------
# Exercise 5.4: one kernel for two layers


def _combine_reference(first, second):
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    out = np.zeros((first.shape[0] + second.shape[0] - 1, first.shape[1] + second.shape[1] - 1))
    for a in range(second.shape[0]):
        for b in range(second.shape[1]):
            out[a : a + first.shape[0], b : b + first.shape[1]] += second[a, b] * first
    return out


def _combine_mistakes():
    """Each known wrong combined kernel, called like the learner's ``combine_kernels(first, second)``."""

    def mirrored(first, second):
        return _combine_reference(first, np.asarray(second, dtype=float)[::-1, ::-1])

    def mirrored_first(first, second):
        return _combine_reference(np.asarray(first, dtype=float)[::-1, ::-1], second)

    def entrywise(first, second):
        first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
        _needs(first.shape == second.shape)
        return first * second

    def matrix_product(first, second):
        first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
        _needs(first.shape[1] == second.shape[0])
        return first @ second

    def added(first, second):
        first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
        _needs(first.shape == second.shape)
        return first + second

    def valid_only(first, second):
        right = _combine_reference(first, second)
        _needs(min(right.shape) > 2)
        return right[1:-1, 1:-1]

    return {
        "mirrored": (
            mirrored,
            "the copies of the first kernel were placed at mirrored offsets: output row "
            "r + a reads the first layer's row r + a, so second[a, b] weights a copy of the first "
            "kernel shifted down a rows and right b columns",
        ),
        "mirrored first": (
            mirrored_first,
            "the first kernel was flipped: the layers correlate (no flip), so copy the first kernel as it is",
        ),
        "entry by entry": (
            entrywise,
            "multiplying the kernels entry by entry gives a 3x3 kernel, but two 3x3 "
            "layers see a 5x5 patch: every entry of the second kernel weights a whole copy of "
            "the first",
        ),
        "matrix product": (
            matrix_product,
            "the matrix product first @ second mixes rows with columns; "
            "stacking layers adds shifted copies of the first kernel, one per entry of the second",
        ),
        "added": (
            added,
            "adding the kernels is two layers side by side whose maps are added, not one after the other",
        ),
        "the middle only": (
            valid_only,
            "the combined kernel was cut to the first kernel's size: two stacked "
            "3x3 layers see 5x5 pixels, so the kernel is (KH1 + KH2 - 1) x (KW1 + KW2 - 1)",
        ),
    }


def _combine_cases():
    from cnn_helpers import data, filters

    example = data.lecture_example()
    cases = [
        ("the lecture's sharpen kernel, then the 1..9 kernel", (example.sharpen, example.one_to_nine)),
        ("the 1..9 kernel, then the top Sobel kernel", (example.one_to_nine, filters.KERNELS["sobel_top"])),
        (
            "a 3x3 and a 3x3 kernel of integers",
            (np.arange(9.0).reshape(3, 3) - 4, np.array([[0.0, 1, 2], [3, 0, -1], [1, 1, 0]])),
        ),
    ]
    rng = np.random.default_rng(560)
    for _ in range(20):
        shapes = [tuple(int(s) for s in rng.integers(1, 5, size=2)) for _ in range(2)]
        if rng.random() < 0.4:
            shapes[1] = shapes[0]
        first, second = (rng.integers(-4, 5, size=shape).astype(float) for shape in shapes)
        cases.append(
            (
                f"a {shapes[0][0]}x{shapes[0][1]} kernel, then a {shapes[1][0]}x{shapes[1][1]} kernel",
                (first, second),
            )
        )
    return cases


@exercise("5.4", "one kernel for two stacked layers", reference=None, mistakes=_combine_mistakes)
def check_combine_kernels(combine_kernels):
    """``combine_kernels(first, second)``: correlating with it = correlating with first, then with second."""
    cases = _combine_cases()
    diagnose("5.4", combine_kernels, _combine_reference, cases, _combine_mistakes(), name="combined kernel")
    passed(
        "5.4",
        f"the combined kernel is right on {len(cases)} pairs of kernels: one correlation with it "
        "equals the two correlations in a row",
    )


__all__ = [
    "check_conv_forward_loops",
    "check_window_array",
    "check_conv_forward_fast",
    "check_multiply_adds",
    "check_second_layer_parameters",
    "check_combine_kernels",
    "count_python_lines",
    "conv_cases",
    "fast_case",
    "LINE_LIMIT",
    "CheckFailure",
]
