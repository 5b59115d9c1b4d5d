"""Lesson 05 checks: plausible mistakes fail with the right hint, unusual correct answers pass,
the package's answers are refused. (Stub, solution and registered mistakes: test_registry.py.)"""

import sys

import numpy as np
import pytest

from cnn_helpers import conv
from cnn_helpers.checks import lesson05

from ._tools import assert_fails, assert_passes, load_exercise


def make_conv(
    flip=False,
    bias="per filter",
    channels="all",
    use_stride=True,
    use_padding=True,
    size_offset=1,
    swap_weight_axes=False,
    subscripts="nchwij,fcij->nfhw",
    start="r*s",
):
    """A vectorised convolution with one switchable mistake (the default is right)."""

    def conv_forward(x, weight, b, *, stride=1, padding=0):
        x, weight, b = np.asarray(x, float), np.asarray(weight, float), np.asarray(b, float)
        if swap_weight_axes:
            weight = weight.transpose(1, 0, 2, 3)
        if channels == "last":
            x, weight = x[:, -1:], weight[:, -1:]
        if flip:
            weight = weight[..., ::-1, ::-1]
        step = stride if use_stride else 1
        pad = padding if use_padding else 0
        kh, kw = weight.shape[-2:]
        padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        out_h = (padded.shape[2] - kh) // step + size_offset
        out_w = (padded.shape[3] - kw) // step + size_offset
        windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(2, 3))
        if start == "r*s":
            windows = windows[:, :, ::step, ::step][:, :, :out_h, :out_w]
        else:  # window (r, c) starts at (r, c): the right size, the wrong windows
            windows = windows[:, :, :out_h, :out_w]
        out = np.einsum(subscripts, windows, weight)
        if bias == "per filter":
            out = out + b[None, :, None, None]
        elif bias == "per channel":
            out = out + x.shape[1] * b[None, :, None, None]
        elif bias == "last axis":
            out = out + b
        return out

    return conv_forward


def conv_loops_python(x, weight, b, *, stride=1, padding=0):
    """A right answer written with loops over output positions (too slow for 5.3)."""
    x = np.asarray(x, float)
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    f_count, _, kh, kw = np.shape(weight)
    out_h = (padded.shape[2] - kh) // stride + 1
    out_w = (padded.shape[3] - kw) // stride + 1
    out = np.zeros((x.shape[0], f_count, out_h, out_w))
    for row in range(out_h):
        for col in range(out_w):
            window = padded[:, :, row * stride : row * stride + kh, col * stride : col * stride + kw]
            out[:, :, row, col] = np.einsum("ncij,fcij->nf", window, weight) + b
    return out


def conv_pad_all_axes_loops(x, weight, b, *, stride=1, padding=0):
    """np.pad(x, p) on the batch, then loops over the first N images and C channels: runs, wrong."""
    x, weight = np.asarray(x, float), np.asarray(weight, float)
    n_images, channels = x.shape[:2]
    padded = np.pad(x, padding)
    f_count, _, kh, kw = weight.shape
    out_h = (x.shape[2] + 2 * padding - kh) // stride + 1
    out_w = (x.shape[3] + 2 * padding - kw) // stride + 1
    out = np.zeros((n_images, f_count, out_h, out_w))
    for n in range(n_images):
        for f in range(f_count):
            for row in range(out_h):
                for col in range(out_w):
                    total = b[f]
                    for c in range(channels):
                        window = padded[
                            n, c, row * stride : row * stride + kh, col * stride : col * stride + kw
                        ]
                        total += np.sum(window * weight[f, c])
                    out[n, f, row, col] = total
    return out


def conv_pad_all_axes_vectorised(x, weight, b, *, stride=1, padding=0):
    """np.pad(x, p) on the batch, then an einsum: raises once padding > 0 (channels do not match)."""
    x = np.pad(np.asarray(x, float), padding)
    return (
        make_conv()(x, weight, b, stride=stride, padding=0)
        if padding == 0
        else (
            np.einsum(
                "nchwij,fcij->nfhw",
                np.lib.stride_tricks.sliding_window_view(x, weight.shape[-2:], axis=(2, 3))[
                    :, :, ::stride, ::stride
                ],
                weight,
            )
            + b[None, :, None, None]
        )
    )


# --------------------------------------------------------------------------------------------
# Unusual but correct forward passes


def conv_fft(x, weight, b, *, stride=1, padding=0):
    """Correlation through the FFT, the stride-1 map subsampled afterwards."""
    x, weight = np.asarray(x, float), np.asarray(weight, float)
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    height, width = padded.shape[2:]
    kh, kw = weight.shape[2:]
    flipped = weight[..., ::-1, ::-1]  # correlation = convolution with the flipped kernel
    spectrum = (
        np.fft.rfft2(padded, s=(height, width))[:, None] * np.fft.rfft2(flipped, s=(height, width))[None]
    )
    full = np.fft.irfft2(spectrum.sum(axis=2), s=(height, width))  # (N, F, H, W), circular
    valid = full[:, :, kh - 1 :, kw - 1 :]
    return valid[:, :, ::stride, ::stride] + np.asarray(b, float)[None, :, None, None]


def conv_stamp(x, weight, b, *, stride=1, padding=0):
    """Scatter ("stamp") convolution: one shifted, weighted copy of the input per kernel entry."""
    x, weight = np.asarray(x, float), np.asarray(weight, float)
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    kh, kw = weight.shape[2:]
    out_h, out_w = padded.shape[2] - kh + 1, padded.shape[3] - kw + 1
    out = np.zeros((x.shape[0], weight.shape[0], out_h, out_w))
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("nchw,fc->nfhw", padded[:, :, i : i + out_h, j : j + out_w], weight[:, :, i, j])
    return out[:, :, ::stride, ::stride] + np.asarray(b, float)[None, :, None, None]


def conv_im2col_matmul(x, weight, b, *, stride=1, padding=0):
    """The learner's own window array, reshaped into a matrix: im2col and one matrix product."""
    windows = load_exercise("05", "5.2", "window_array")(
        x, weight.shape[2], weight.shape[3], stride=stride, padding=padding
    )
    n, c, oh, ow, kh, kw = windows.shape
    columns = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
    out = columns @ np.asarray(weight, float).reshape(len(weight), -1).T
    return out.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2) + np.asarray(b, float)[None, :, None, None]


@pytest.mark.parametrize(
    "answer",
    [make_conv(), conv_fft, conv_stamp, conv_im2col_matmul],
    ids=["sliding_window_view + einsum", "FFT", "stamp", "im2col + matmul"],
)
def test_unusual_correct_forward_passes_pass(answer):
    assert_passes(lesson05.check_conv_forward_loops, answer)
    assert_passes(lesson05.check_conv_forward_fast, answer)


def test_a_loop_version_passes_5_1():
    assert_passes(lesson05.check_conv_forward_loops, conv_loops_python)


# --------------------------------------------------------------------------------------------
# Exercises 5.1 and 5.3: mistakes


@pytest.mark.parametrize("check", [lesson05.check_conv_forward_loops, lesson05.check_conv_forward_fast])
@pytest.mark.parametrize(
    "wrong, hint",
    [
        (make_conv(bias="none"), "bias is missing"),
        (make_conv(bias="per channel"), "once per input channel"),
        (make_conv(bias="last axis"), "along the last axis"),
        (make_conv(channels="last"), "only the last input channel"),
        (make_conv(flip=True), "kernel was flipped"),
        (make_conv(swap_weight_axes=True), "weight[c, f]"),
        (make_conv(use_stride=False), "stride was ignored"),
        (make_conv(start="r"), "starts at row r, column c"),
        (make_conv(use_padding=False), "padding was ignored"),
        (make_conv(size_offset=0), "off by one"),
        (make_conv(subscripts="nchwij,fcji->nfhw"), "kernel's two offsets are swapped"),
        (conv_pad_all_axes_loops, "pads all four axes"),
        (conv_pad_all_axes_vectorised, "pads all four axes"),
    ],
)
def test_conv_mistakes(check, wrong, hint):
    message = assert_fails(check, wrong, hint=hint)
    assert "Likely mistake" in message


def test_hard_coded_lecture_answer_fails():
    lecture_map = np.array([[[[3.0, 3, -2], [-3, -3, 4], [3, 3, -4]]]])
    assert_fails(lesson05.check_conv_forward_loops, lambda *args, **kwargs: lecture_map, hint="wrong output")
    assert_fails(lesson05.check_conv_forward_fast, lambda *args, **kwargs: lecture_map, hint="wrong output")


def test_a_correct_loop_version_is_not_accepted_as_vectorised():
    message = assert_fails(lesson05.check_conv_forward_fast, conv_loops_python, hint="not vectorised yet")
    assert "4,096 positions" in message
    solution_loops = load_exercise("05", "5.1", "conv_forward_loops")
    assert_fails(lesson05.check_conv_forward_fast, solution_loops, hint="not vectorised yet")


def test_a_fast_version_that_calls_the_loop_version_is_caught():
    # Every cell of a notebook shares one namespace: helpers defined there are counted too.
    namespace = {"np": np}
    exec(
        compile(
            "def loops(x, w, b, stride=1, padding=0):\n"
            "    out = np.zeros((x.shape[0], w.shape[0], x.shape[2] - w.shape[2] + 1, x.shape[3] - w.shape[3] + 1))\n"
            "    for row in range(out.shape[2]):\n"
            "        for col in range(out.shape[3]):\n"
            "            window = x[:, :, row:row + w.shape[2], col:col + w.shape[3]]\n"
            "            out[:, :, row, col] = np.einsum('ncij,fcij->nf', window, w) + b\n"
            "    return out\n"
            "def fast(x, w, b, *, stride=1, padding=0):\n"
            "    if stride == 1 and padding == 0:\n"
            "        return loops(x, w, b)\n"
            "    return vectorised(x, w, b, stride=stride, padding=padding)\n",
            "<cell>",
            "exec",
        ),
        namespace,
    )
    namespace["vectorised"] = make_conv()
    assert_fails(lesson05.check_conv_forward_fast, namespace["fast"], hint="not vectorised yet")


def test_a_loop_over_output_rows_is_not_vectorised():
    """One einsum per output row runs few lines on 64 rows, under the fixed limit; it grows with the image."""
    namespace = {"np": np}
    exec(
        compile(
            "def fast_rows(x, weight, bias, *, stride=1, padding=0):\n"
            "    x = np.pad(np.asarray(x, float), ((0, 0), (0, 0), (padding, padding), (padding, padding)))\n"
            "    kernel_h, kernel_w = weight.shape[2:]\n"
            "    windows = np.lib.stride_tricks.sliding_window_view(x, (kernel_h, kernel_w), axis=(2, 3))[:, :, ::stride, ::stride]\n"
            "    rows = []\n"
            "    for r in range(windows.shape[2]):\n"
            "        rows.append(np.einsum('ncwij,fcij->nfw', windows[:, :, r], weight))\n"
            "    return np.stack(rows, axis=2) + np.asarray(bias)[None, :, None, None]\n",
            "<learner cell>",
            "exec",
        ),
        namespace,
    )
    assert_fails(lesson05.check_conv_forward_fast, namespace["fast_rows"], hint="right but not vectorised")


def test_calling_the_package_reference_fails():
    assert_fails(lesson05.check_conv_forward_loops, conv.conv2d_loops, hint="package's own implementation")
    assert_fails(
        lesson05.check_conv_forward_fast,
        lambda x, w, b, *, stride=1, padding=0: conv.conv2d(x, w, b, stride=stride, padding=padding),
        hint="called cnn_helpers.conv.conv2d",
    )
    assert conv.conv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2))).item() == 4.0  # restored


def test_changing_the_input_in_place_is_reported():
    right = make_conv()

    def in_place(x, weight, b, *, stride=1, padding=0):
        out = right(x, weight, b, stride=stride, padding=padding)
        x[...] = 0
        return out

    assert_fails(lesson05.check_conv_forward_loops, in_place, hint="in place")


# --------------------------------------------------------------------------------------------
# Exercise 5.2: the window array


def make_windows(
    start="r*s", use_stride=True, pad_axes=2, order="positions first", swap_offsets=False, size_offset=1
):
    """Windows built by kernel-offset slices, with one switchable mistake (the default is right)."""

    def window_array(x, kernel_h, kernel_w, *, stride=1, padding=0):
        x = np.asarray(x, float)
        step = stride if use_stride else 1
        if pad_axes == 4:
            padded = np.pad(x, padding)
        else:
            padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        out_h = (x.shape[2] + 2 * padding - kernel_h) // step + size_offset
        out_w = (x.shape[3] + 2 * padding - kernel_w) // step + size_offset
        jump = step if start == "r*s" else 1
        windows = np.empty(padded.shape[:2] + (out_h, out_w, kernel_h, kernel_w))
        for i in range(kernel_h):
            for j in range(kernel_w):
                windows[..., i, j] = padded[:, :, i : i + jump * out_h : jump, j : j + jump * out_w : jump]
        if swap_offsets:
            windows = windows.swapaxes(-1, -2)
        if order == "kernel first":
            windows = windows.transpose(0, 1, 4, 5, 2, 3)
        return windows

    return window_array


def windows_by_index_arrays(x, kernel_h, kernel_w, *, stride=1, padding=0):
    """Unusual but right: fancy indexing with broadcast row and column index arrays."""
    padded = np.pad(np.asarray(x, float), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out_h = (padded.shape[2] - kernel_h) // stride + 1
    out_w = (padded.shape[3] - kernel_w) // stride + 1
    rows = (np.arange(out_h) * stride)[:, None, None, None] + np.arange(kernel_h)[None, None, :, None]
    cols = (np.arange(out_w) * stride)[None, :, None, None] + np.arange(kernel_w)[None, None, None, :]
    return padded[:, :, rows, cols]


def test_window_array_right_answers_pass():
    assert_passes(lesson05.check_window_array, make_windows())
    assert_passes(lesson05.check_window_array, windows_by_index_arrays)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (make_windows(start="r"), "starts at row r, column c"),
        (make_windows(use_stride=False), "stride was ignored"),
        (make_windows(pad_axes=4), "pads all four axes"),
        (make_windows(swap_offsets=True), "offsets are swapped"),
        (make_windows(order="kernel first"), "wrong order"),
        (make_windows(size_offset=0), "one window too few"),
    ],
)
def test_window_array_mistakes(wrong, hint):
    assert_fails(lesson05.check_window_array, wrong, hint=hint)


def test_window_array_missing_padding_is_named():
    right = make_windows()
    assert_fails(
        lesson05.check_window_array,
        lambda x, kh, kw, *, stride=1, padding=0: right(x, kh, kw, stride=stride, padding=0),
        hint="padding is missing",
    )


def test_window_array_refuses_numpy_window_views_and_im2col():
    assert_fails(
        lesson05.check_window_array,
        lambda x, kh, kw, *, stride=1, padding=0: np.lib.stride_tricks.sliding_window_view(
            np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))), (kh, kw), axis=(2, 3)
        )[:, :, ::stride, ::stride],
        hint="called numpy.lib.stride_tricks.sliding_window_view",
    )
    assert_fails(
        lesson05.check_window_array,
        lambda x, kh, kw, *, stride=1, padding=0: conv.im2col(x, (kh, kw), stride=stride, padding=padding),
        hint="called cnn_helpers.conv.im2col",
    )
    assert np.lib.stride_tricks.sliding_window_view(np.arange(3), 2).shape == (2, 2)  # restored


def test_window_array_with_a_loop_over_positions_is_not_vectorised():
    namespace = {"np": np}
    exec(
        compile(
            "def window_array(x, kernel_h, kernel_w, *, stride=1, padding=0):\n"
            "    padded = np.pad(np.asarray(x, float), ((0, 0), (0, 0), (padding, padding), (padding, padding)))\n"
            "    out_h = (padded.shape[2] - kernel_h) // stride + 1\n"
            "    out_w = (padded.shape[3] - kernel_w) // stride + 1\n"
            "    windows = np.empty(padded.shape[:2] + (out_h, out_w, kernel_h, kernel_w))\n"
            "    for r in range(out_h):\n"
            "        for c in range(out_w):\n"
            "            windows[:, :, r, c] = padded[:, :, r * stride:r * stride + kernel_h, c * stride:c * stride + kernel_w]\n"
            "    return windows\n",
            "<learner cell>",
            "exec",
        ),
        namespace,
    )
    assert_fails(lesson05.check_window_array, namespace["window_array"], hint="right but not vectorised")


# --------------------------------------------------------------------------------------------
# Exercise 5.4: one kernel for two layers


def combine_by_fft(first, second):
    """Unusual but right: the full convolution through the FFT."""
    first, second = np.asarray(first, float), np.asarray(second, float)
    shape = (first.shape[0] + second.shape[0] - 1, first.shape[1] + second.shape[1] - 1)
    return np.fft.irfft2(np.fft.rfft2(first, s=shape) * np.fft.rfft2(second, s=shape), s=shape)


def combine_by_impulse(first, second):
    """Unusual but right: send a one-pixel image through both correlations (NumPy only)."""
    first, second = np.asarray(first, float), np.asarray(second, float)
    kh, kw = first.shape[0] + second.shape[0] - 1, first.shape[1] + second.shape[1] - 1

    def correlate(image, kernel):
        oh, ow = image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1
        return np.array(
            [
                [np.sum(image[r : r + kernel.shape[0], c : c + kernel.shape[1]] * kernel) for c in range(ow)]
                for r in range(oh)
            ]
        )

    impulse = np.zeros((2 * kh - 1, 2 * kw - 1))
    impulse[kh - 1, kw - 1] = 1.0
    response = correlate(correlate(impulse, first), second)  # the combined kernel, flipped
    return response[::-1, ::-1]


def test_combine_kernels_unusual_answers_pass():
    assert_passes(lesson05.check_combine_kernels, combine_by_fft)
    assert_passes(lesson05.check_combine_kernels, combine_by_impulse)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda first, second: combine_by_fft(first, np.asarray(second)[::-1, ::-1]), "mirrored offsets"),
        (
            lambda first, second: combine_by_fft(np.asarray(first)[::-1, ::-1], second),
            "first kernel was flipped",
        ),
        (lambda first, second: np.asarray(first) * np.asarray(second), "entry by entry"),
        (lambda first, second: np.asarray(first) @ np.asarray(second), "matrix product"),
        (lambda first, second: np.asarray(first) + np.asarray(second), "side by side"),
    ],
)
def test_combine_kernels_mistakes(wrong, hint):
    assert_fails(lesson05.check_combine_kernels, wrong, hint=hint)


def test_combine_kernels_refuses_the_package():
    assert_fails(
        lesson05.check_combine_kernels,
        lambda first, second: conv.convolve2d(
            first, second, padding=(len(second) - 1, np.shape(second)[1] - 1)
        ),
        hint="called cnn_helpers.conv.convolve2d",
    )


# --------------------------------------------------------------------------------------------
# The line counter behind exercises 5.2 and 5.3


def test_count_python_lines_counts_only_the_learners_code_and_restores_tracing():
    previous = sys.gettrace()
    vectorised = make_conv()
    x, weight, b = lesson05.fast_case()
    result, lines = lesson05.count_python_lines(lambda *a: vectorised(*a), x, weight, b)
    assert np.allclose(result, conv.conv2d(x, weight, b))
    assert lines < 40  # NumPy's own Python code is not counted
    result, lines = lesson05.count_python_lines(
        lambda *a: conv_loops_python(*a), x, weight, b, limit=500, watch=conv_loops_python
    )
    assert result is None and lines == 501
    assert sys.gettrace() is previous


def test_the_speed_case_separates_loops_from_vectorised_code_by_a_wide_margin():
    x, weight, b = lesson05.fast_case()
    _, loop_lines = lesson05.count_python_lines(conv_loops_python, x, weight, b)
    _, fast_lines = lesson05.count_python_lines(make_conv(), x, weight, b)
    assert loop_lines > 4 * lesson05.LINE_LIMIT
    assert fast_lines * 50 < lesson05.LINE_LIMIT
