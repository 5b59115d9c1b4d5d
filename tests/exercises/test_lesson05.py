"""Lesson 05 checks: the stub fails, the solution passes, plausible mistakes fail with the right hint."""

import sys

import numpy as np
import pytest

from cnn_helpers import conv, layers
from cnn_helpers.checks import lesson05

from ._tools import assert_fails, assert_passes, load_exercise


def make_conv(flip=False, bias="per filter", channels="all", use_stride=True, use_padding=True,
              size_offset=1, swap_weight_axes=False):
    """A vectorised convolution with one switchable mistake (the default is right)."""

    def conv_forward(x, weight, b, stride=1, padding=0):
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
        windows = windows[:, :, ::step, ::step][:, :, :out_h, :out_w]
        out = np.einsum("nchwij,fcij->nfhw", windows, weight)
        if bias == "per filter":
            out = out + b[None, :, None, None]
        elif bias == "per channel":
            out = out + x.shape[1] * b[None, :, None, None]
        elif bias == "last axis":
            out = out + b
        return out

    return conv_forward


def conv_loops_python(x, weight, b, stride=1, padding=0):
    """A right answer written with loops over output positions (too slow for 5.2)."""
    x = np.asarray(x, float)
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    f_count, _, kh, kw = np.shape(weight)
    out_h = (padded.shape[2] - kh) // stride + 1
    out_w = (padded.shape[3] - kw) // stride + 1
    out = np.zeros((x.shape[0], f_count, out_h, out_w))
    for row in range(out_h):
        for col in range(out_w):
            window = padded[:, :, row * stride:row * stride + kh, col * stride:col * stride + kw]
            out[:, :, row, col] = np.einsum("ncij,fcij->nf", window, weight) + b
    return out


# --------------------------------------------------------------------------------------------
# Solution and stub


def test_exercise_5_3_solution_passes_and_stub_fails():
    relu = load_exercise("05", "5.3", "relu")
    conv_layer = load_exercise("05", "5.3", "conv_layer")
    assert_passes(lesson05.check_conv_layer, relu, conv_layer)
    stub_relu = load_exercise("05", "5.3", "relu", edition="learner")
    stub_layer = load_exercise("05", "5.3", "conv_layer", edition="learner")
    assert_fails(lesson05.check_conv_layer, stub_relu, stub_layer, hint="not done yet")
    # relu done, the layer not yet
    assert_fails(lesson05.check_conv_layer, relu, stub_layer, hint="not done yet")


def test_the_right_answer_passes_in_every_form():
    assert_passes(lesson05.check_conv_forward_loops, make_conv())
    assert_passes(lesson05.check_conv_forward_loops, conv_loops_python)
    assert_passes(lesson05.check_conv_forward_fast, make_conv())


# --------------------------------------------------------------------------------------------
# Exercise 5.1 and 5.2: mistakes


@pytest.mark.parametrize("check", [lesson05.check_conv_forward_loops, lesson05.check_conv_forward_fast])
@pytest.mark.parametrize("wrong, hint", [
    (make_conv(bias="none"), "bias is missing"),
    (make_conv(bias="per channel"), "once per input channel"),
    (make_conv(bias="last axis"), "along the last axis"),
    (make_conv(channels="last"), "only the last input channel"),
    (make_conv(flip=True), "kernel was flipped"),
    (make_conv(swap_weight_axes=True), "weight[c, f]"),
    (make_conv(use_stride=False), "stride was ignored"),
    (make_conv(use_padding=False), "padding was ignored"),
    (make_conv(size_offset=0), "off by one"),
])
def test_conv_mistakes(check, wrong, hint):
    assert_fails(check, wrong, hint=hint)


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
    exec(compile(
        "def loops(x, w, b, stride=1, padding=0):\n"
        "    out = np.zeros((x.shape[0], w.shape[0], x.shape[2] - w.shape[2] + 1, x.shape[3] - w.shape[3] + 1))\n"
        "    for row in range(out.shape[2]):\n"
        "        for col in range(out.shape[3]):\n"
        "            window = x[:, :, row:row + w.shape[2], col:col + w.shape[3]]\n"
        "            out[:, :, row, col] = np.einsum('ncij,fcij->nf', window, w) + b\n"
        "    return out\n"
        "def fast(x, w, b, stride=1, padding=0):\n"
        "    if stride == 1 and padding == 0:\n"
        "        return loops(x, w, b)\n"
        "    return vectorised(x, w, b, stride, padding)\n", "<cell>", "exec"), namespace)
    namespace["vectorised"] = make_conv()
    assert_fails(lesson05.check_conv_forward_fast, namespace["fast"], hint="not vectorised yet")


def test_calling_the_package_reference_fails():
    assert_fails(lesson05.check_conv_forward_loops, conv.conv2d_loops, hint="package's own implementation")
    assert_fails(lesson05.check_conv_forward_fast, conv.conv2d, hint="package's own implementation")
    assert_fails(lesson05.check_conv_forward_fast, lambda x, w, b, *, stride=1, padding=0: conv.conv2d(x, w, b, stride=stride, padding=padding),
                 hint="called cnn_helpers.conv.conv2d")
    assert_fails(lesson05.check_conv_forward_loops, lambda x, w, b, *, stride=1, padding=0: conv.conv2d_loops(x, w, b, stride=stride, padding=padding),
                 hint="called cnn_helpers.conv.conv2d_loops")
    assert conv.conv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2))).item() == 4.0  # restored


def test_changing_the_input_in_place_is_reported():
    right = make_conv()

    def in_place(x, weight, b, stride=1, padding=0):
        out = right(x, weight, b, stride, padding)
        x[...] = 0
        return out

    assert_fails(lesson05.check_conv_forward_loops, in_place, hint="in place")


# --------------------------------------------------------------------------------------------
# Exercise 5.3


def _layer(relu_rule, order="bias first", use_activation=True):
    conv_forward = make_conv()

    def conv_layer(x, weight, b, activation=None, stride=1, padding=0):
        g = activation if use_activation else (lambda z: z)
        if relu_rule == "hard-coded":
            g = lambda z: np.maximum(z, 0)  # noqa: E731
        if order == "bias after":
            return g(conv_forward(x, weight, np.zeros_like(b), stride, padding)) + np.asarray(b)[None, :, None, None]
        if order == "no bias":
            return g(conv_forward(x, weight, np.zeros_like(b), stride, padding))
        return g(conv_forward(x, weight, b, stride, padding))

    return conv_layer


def right_relu(z):
    return np.maximum(z, 0)


@pytest.mark.parametrize("relu, hint", [
    (lambda z: np.abs(z), "|z|"),
    (lambda z: np.minimum(z, 0), "kept the negative part"),
    (lambda z: (np.asarray(z) > 0).astype(float), "mask"),
    (lambda z: np.where(z > 0, z, 0.01 * z), "leaky"),
])
def test_relu_mistakes(relu, hint):
    assert_fails(lesson05.check_conv_layer, relu, _layer("given"), hint=hint)


def test_relu_in_place_is_reported():
    def relu_in_place(z):
        z[z < 0] = 0
        return z

    assert_fails(lesson05.check_conv_layer, relu_in_place, _layer("given"), hint="in place")


@pytest.mark.parametrize("layer, hint", [
    (_layer("given", use_activation=False), "activation was ignored"),
    (_layer("given", order="bias after"), "before adding the bias"),
    (_layer("given", order="no bias"), "bias is missing"),
    (_layer("hard-coded"), "ReLU was used whatever activation"),
])
def test_conv_layer_mistakes(layer, hint):
    assert_fails(lesson05.check_conv_layer, right_relu, layer, hint=hint)


def test_the_right_layer_passes_and_references_are_refused():
    assert_passes(lesson05.check_conv_layer, right_relu, _layer("given"))
    assert_fails(lesson05.check_conv_layer, lambda z: layers.ReLU()(z), _layer("given"),
                 hint="called cnn_helpers.layers.ReLU")
    assert_fails(lesson05.check_conv_layer, right_relu,
                 lambda x, w, b, g, *, stride=1, padding=0: g(conv.conv2d(x, w, b, stride=stride, padding=padding)),
                 hint="called cnn_helpers.conv.conv2d")


def test_exercise_5_3_hard_coded_answers_fail():
    assert_fails(lesson05.check_conv_layer, lambda z: np.array([0.0, 0.0, 0.0, 0.5, 3.0]), _layer("given"),
                 hint="wrong relu output")
    fixed = np.zeros((1, 1, 3, 3))
    assert_fails(lesson05.check_conv_layer, right_relu, lambda *args, **kwargs: fixed, hint="wrong layer output")


# --------------------------------------------------------------------------------------------
# The line counter behind exercise 5.2


def test_count_python_lines_counts_only_the_learners_code_and_restores_tracing():
    previous = sys.gettrace()
    vectorised = make_conv()
    x, weight, b = lesson05.fast_case()
    result, lines = lesson05.count_python_lines(vectorised, x, weight, b, 1, 0)
    assert np.allclose(result, conv.conv2d(x, weight, b))
    assert lines < 40  # NumPy's own Python code is not counted
    result, lines = lesson05.count_python_lines(conv_loops_python, x, weight, b, 1, 0, limit=500)
    assert result is None and lines == 501
    assert sys.gettrace() is previous


def test_the_speed_case_separates_loops_from_vectorised_code_by_a_wide_margin():
    x, weight, b = lesson05.fast_case()
    _, loop_lines = lesson05.count_python_lines(conv_loops_python, x, weight, b, 1, 0)
    _, fast_lines = lesson05.count_python_lines(make_conv(), x, weight, b, 1, 0)
    assert loop_lines > 4 * lesson05.LINE_LIMIT
    assert fast_lines * 50 < lesson05.LINE_LIMIT


def test_a_loop_over_output_rows_is_not_vectorised():
    """One einsum per output row runs few lines on 64 rows, under the fixed limit; it grows with the image."""
    namespace = {"np": np}
    exec(compile(
        "def fast_rows(x, weight, bias, stride=1, padding=0):\n"
        "    x = np.pad(np.asarray(x, float), ((0, 0), (0, 0), (padding, padding), (padding, padding)))\n"
        "    kernel_h, kernel_w = weight.shape[2:]\n"
        "    windows = np.lib.stride_tricks.sliding_window_view(x, (kernel_h, kernel_w), axis=(2, 3))[:, :, ::stride, ::stride]\n"
        "    rows = []\n"
        "    for r in range(windows.shape[2]):\n"
        "        rows.append(np.einsum('ncwij,fcij->nfw', windows[:, :, r], weight))\n"
        "    return np.stack(rows, axis=2) + np.asarray(bias)[None, :, None, None]\n",
        "<learner cell>", "exec"), namespace)
    assert_fails(lesson05.check_conv_forward_fast, namespace["fast_rows"], hint="right but not vectorised")
