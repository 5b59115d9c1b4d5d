"""Lesson 07 checks: the stub fails, the solution passes, plausible mistakes fail with the right hint."""

import numpy as np
import pytest

from cnn_helpers import conv, pooling
from cnn_helpers.checks import lesson07

from ._tools import assert_fails, assert_passes, load_exercise


def load(exercise_id, names, edition="solution"):
    return [load_exercise("07", exercise_id, name, edition=edition) for name in names]


# --------------------------------------------------------------------------------------------
# 7.1 convolution backward with loops


def conv_backward_with(**mistake):
    """The loop backward pass with one switchable mistake (no switch: right)."""

    def conv_backward(dout, x, weight, bias, *, stride, padding):
        return lesson07.conv_backward_variant(dout, x, weight, stride, padding, **mistake)

    return conv_backward


def with_dbias(dbias_of):
    """The right dx and dweight, with dbias computed by ``dbias_of(dout)``."""

    def conv_backward(dout, x, weight, bias, *, stride, padding):
        dx, dweight, _ = lesson07.conv_backward_variant(dout, x, weight, stride, padding)
        return dx, dweight, dbias_of(np.asarray(dout))

    return conv_backward


def test_the_right_loops_pass():
    assert_passes(lesson07.check_conv_backward, conv_backward_with())


@pytest.mark.parametrize("wrong, hint", [
    (conv_backward_with(ignore_stride=True), "stride was ignored in the backward pass"),
    (conv_backward_with(flip=True), "kernel flipped the wrong way"),
    (conv_backward_with(crop=False), "padding was not removed from dx"),
    (conv_backward_with(overwrite=True), "overwrote each other's gradient"),
    (with_dbias(lambda dout: dout.sum(axis=(2, 3))), "not summed over the batch"),
    (with_dbias(lambda dout: dout.sum(axis=0)), "not summed over positions"),
    (with_dbias(lambda dout: dout.mean(axis=(0, 2, 3))), "mean of dout"),
])
def test_conv_backward_mistakes_are_named(wrong, hint):
    assert_fails(lesson07.check_conv_backward, wrong, hint=hint)


def test_conv_backward_failure_says_which_gradient_is_wrong_and_where():
    message = assert_fails(lesson07.check_conv_backward, conv_backward_with(flip=True), hint="wrong dx")
    assert "dx WRONG, dweight right, dbias right" in message
    assert "worst entry of dx at index" in message and "expected" in message and "got" in message
    message = assert_fails(lesson07.check_conv_backward, with_dbias(lambda dout: dout.sum(axis=(0, 2, 3)) / len(dout)),
                           hint="wrong dbias")
    assert "dx right, dweight right, dbias WRONG" in message


def test_conv_backward_shape_and_type_problems():
    assert_fails(lesson07.check_conv_backward, lambda d, x, w, b, *, stride, padding: conv_backward_with()(d, x, w, b, stride=stride, padding=padding)[:2],
                 hint="return the tuple (dx, dweight, dbias)")
    assert_fails(lesson07.check_conv_backward,
                 lambda d, x, w, b, *, stride, padding: (np.zeros((1, 1, 5, 5)),) * 3, hint="wrong dx")  # hard-coded arrays


def test_conv_backward_calling_the_reference_fails():
    assert_fails(lesson07.check_conv_backward, conv.conv2d_backward, hint="package's own implementation")
    assert_fails(lesson07.check_conv_backward, lambda d, x, w, b, *, stride, padding: conv.conv2d_backward_loops(d, x, w, b, stride=stride, padding=padding),
                 hint="called cnn_helpers.conv.conv2d_backward_loops")
    # the guard puts the reference back afterwards
    assert conv.conv2d_backward(np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1)), [0.0])[2].tolist() == [1.0]


def test_conv_backward_may_use_pad2d():
    def padded_version(dout, x, weight, bias, *, stride, padding):
        assert conv.pad2d(np.ones((1, 1)), padding=1).shape == (3, 3)  # allowed helper, must not trip
        return lesson07.conv_backward_variant(dout, x, weight, stride, padding)

    assert_passes(lesson07.check_conv_backward, padded_version)


# --------------------------------------------------------------------------------------------
# 7.2 max-pool backward


def max_pool_backward_with(**mistake):
    def max_pool_backward(dout, x, size, *, stride):
        return lesson07.max_pool_backward_variant(dout, x, size, stride, **mistake)

    return max_pool_backward


def spread_to_window(dout, x, size, *, stride):
    """Every element of the window gets the gradient (sum pooling's backward)."""
    dout, x = np.asarray(dout), np.asarray(x)
    dx = np.zeros_like(x, dtype=float)
    for n, c, row, col in np.ndindex(*dout.shape):
        dx[n, c, row * stride:row * stride + size, col * stride:col * stride + size] += dout[n, c, row, col]
    return dx


def test_the_right_max_pool_backward_passes():
    assert_passes(lesson07.check_max_pool_backward, max_pool_backward_with())


@pytest.mark.parametrize("wrong, hint", [
    (spread_to_window, "spread to every element of the window"),
    (max_pool_backward_with(ties="last"), "went to the last maximum"),
    (max_pool_backward_with(ties="all"), "every tied maximum got the gradient"),
    (max_pool_backward_with(overwrite=True), "overwrote each other's gradient"),
    (max_pool_backward_with(ignore_stride=True), "stride was ignored"),
])
def test_max_pool_backward_mistakes_are_named(wrong, hint):
    assert_fails(lesson07.check_max_pool_backward, wrong, hint=hint)


def test_max_pool_backward_hard_coded_and_reference_fail():
    hard_coded = np.array([[[[0.0, 0, 0, 0], [1, 0, 2, 0], [0, 3, 0, 0], [0, 0, 0, 4]]]])
    assert_fails(lesson07.check_max_pool_backward, lambda d, x, s, *, stride: hard_coded, hint="wrong dx")
    assert_fails(lesson07.check_max_pool_backward, pooling.max_pool2d_backward, hint="package's own implementation")
    assert_fails(lesson07.check_max_pool_backward, lambda d, x, s, *, stride: pooling.max_pool2d_backward(d, x, s, stride=stride),
                 hint="called cnn_helpers.pooling.max_pool2d_backward")


# --------------------------------------------------------------------------------------------
# 7.3 vectorised convolution


@pytest.fixture(scope="module")
def fast_solution():
    return load("7.3", ("conv_forward_fast", "conv_backward_fast"))


def test_forward_mistakes_are_named(fast_solution):
    forward, backward = fast_solution

    def no_bias(x, w, b, *, stride, padding):
        return forward(x, w, np.zeros_like(b), stride=stride, padding=padding)

    def axes_swapped(x, w, b, *, stride, padding):
        out = forward(x, w, b, stride=stride, padding=padding)
        return out.transpose(1, 0, 2, 3).reshape(out.shape)

    assert_fails(lesson07.check_conv_fast, no_bias, backward, hint="bias is missing")
    assert_fails(lesson07.check_conv_fast, axes_swapped, backward, hint="output axes are in the wrong order")


def test_backward_mistakes_are_named(fast_solution):
    forward, backward = fast_solution

    def col2im_overwrites(dout, x, w, b, *, stride, padding):
        _, dweight, dbias = backward(dout, x, w, b, stride=stride, padding=padding)
        return lesson07._col2im_overwrite(dout, x, w, stride, padding), dweight, dbias

    def no_stride(dout, x, w, b, *, stride, padding):
        return lesson07.conv_backward_variant(dout, x, w, stride, padding, ignore_stride=True)

    assert_fails(lesson07.check_conv_fast, forward, col2im_overwrites, hint="col2im overwrote values")
    assert_fails(lesson07.check_conv_fast, forward, no_stride, hint="stride was ignored")


def test_loops_are_right_but_not_vectorised(fast_solution):
    forward, _ = fast_solution
    loops = load_exercise("07", "7.1", "conv_backward")  # the learner's own loop version
    message = assert_fails(lesson07.check_conv_fast, forward, loops, hint="right but not vectorised")
    assert "lines of Python" in message


def test_fast_calling_the_reference_fails(fast_solution):
    forward, backward = fast_solution
    assert_fails(lesson07.check_conv_fast, lambda x, w, b, *, stride, padding: conv.conv2d(x, w, b, stride=stride, padding=padding), backward,
                 hint="called cnn_helpers.conv.conv2d")
    assert_fails(lesson07.check_conv_fast, forward, conv.conv2d_backward, hint="package's own implementation")
    assert_fails(lesson07.check_conv_fast, forward,
                 lambda d, x, w, b, *, stride, padding: (conv.col2im(np.zeros((1, 1)), (1, 1, 1, 1), 1),) * 3,
                 hint="called cnn_helpers.conv.col2im")


def test_fast_hard_coded_forward_fails(fast_solution):
    _, backward = fast_solution
    assert_fails(lesson07.check_conv_fast, lambda x, w, b, *, stride, padding: np.zeros((1, 1, 3, 3)), backward, hint="wrong output")


# --------------------------------------------------------------------------------------------
# The helpers the checks use


def test_variants_without_mistakes_match_the_reference():
    for _, dout, x, weight, bias, stride, padding in lesson07.conv_cases(seed=5, count=5):
        for mine, reference in zip(lesson07.conv_backward_variant(dout, x, weight, stride, padding),
                                   conv.conv2d_backward(dout, x, weight, bias, stride=stride, padding=padding)):
            np.testing.assert_allclose(mine, reference, atol=1e-12)
    for _, x, size, stride in lesson07.pool_cases(seed=5, count=5):
        dout = np.ones(pooling.max_pool2d(x, size, stride=stride).shape)
        np.testing.assert_allclose(lesson07.max_pool_backward_variant(dout, x, size, stride),
                                   pooling.max_pool2d_backward(dout, x, size, stride=stride))


def test_the_line_counter_stops_a_long_loop_early():
    from cnn_helpers.checks._core import count_python_lines

    def slow():
        total = 0
        for k in range(10_000):
            total += k
        return total

    assert count_python_lines(slow, limit=100) == (None, 101)
    assert count_python_lines(lambda: int(np.arange(10_000).sum())) == (49_995_000, 1)


def test_exercise_7_3_names_loops_as_not_vectorised():
    forward = load_exercise("07", "7.3", "conv_forward_fast")
    backward = load_exercise("07", "7.3", "conv_backward_fast")
    loops_namespace = {}
    exec(
        "def slow_forward(x, weight, bias, *, stride, padding):\n"
        "    out = forward(x, weight, bias, stride=stride, padding=padding)\n"
        "    for value in range(out.size):\n"
        "        pass\n"
        "    return out\n",
        {"forward": forward, **loops_namespace}, loops_namespace,
    )
    assert_fails(lesson07.check_conv_fast, loops_namespace["slow_forward"], backward, hint="not vectorised")


def _in_a_notebook(source, **names):
    """Define the functions of ``source`` in a fresh namespace, as a notebook cell would."""
    namespace = {"np": np, **names}
    exec(compile(source, "<learner cell>", "exec"), namespace)
    return namespace


def test_a_forward_pass_that_loops_over_images_is_not_vectorised(fast_solution):
    """One im2col per image: few lines on a batch of 32, but more on each larger batch."""
    forward, backward = fast_solution
    namespace = _in_a_notebook(
        "def forward_per_image(x, weight, bias, *, stride, padding):\n"
        "    outs = []\n"
        "    for n in range(len(x)):\n"
        "        outs.append(forward(x[n:n + 1], weight, bias, stride=stride, padding=padding))\n"
        "    return np.concatenate(outs)\n",
        forward=forward,
    )
    message = assert_fails(lesson07.check_conv_fast, namespace["forward_per_image"], backward,
                           hint="right but not vectorised")
    assert "grows with the input" in message


def test_a_backward_pass_that_loops_over_positions_is_not_vectorised(fast_solution):
    """The matrix products are vectorised, but dx is scattered back one output position at a time."""
    forward, backward = fast_solution
    namespace = _in_a_notebook(
        "def backward_positions(dout, x, weight, bias, *, stride, padding):\n"
        "    _, dweight, dbias = backward(dout, x, weight, bias, stride=stride, padding=padding)\n"
        "    kernel_h, kernel_w = weight.shape[2:]\n"
        "    padded = np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * padding, x.shape[3] + 2 * padding))\n"
        "    for r in range(dout.shape[2]):\n"
        "        for c in range(dout.shape[3]):\n"
        "            padded[:, :, r * stride:r * stride + kernel_h, c * stride:c * stride + kernel_w] += "
        "np.einsum('nf,fcij->ncij', dout[:, :, r, c], weight)\n"
        "    dx = padded[:, :, padding:padding + x.shape[2], padding:padding + x.shape[3]]\n"
        "    return dx, dweight, dbias\n",
        backward=backward,
    )
    assert_fails(lesson07.check_conv_fast, forward, namespace["backward_positions"], hint="right but not vectorised")


def test_the_vectorised_solution_runs_the_same_lines_on_both_sizes(fast_solution):
    from cnn_helpers.checks._core import count_python_lines

    forward, backward = fast_solution
    counts = []
    for n, size in ((2, 5), (5, 9)):
        rng = np.random.default_rng(n)
        x, weight = rng.normal(size=(n, 3, size, size)), rng.normal(size=(4, 3, 3, 3))
        counts.append(count_python_lines(lambda *args: forward(*args, stride=1, padding=1), x, weight, np.zeros(4))[1])
    assert counts[0] == counts[1] > 0
