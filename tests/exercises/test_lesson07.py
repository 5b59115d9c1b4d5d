"""Lesson 07 checks: the stub fails, the solution passes, plausible mistakes fail with the right hint,
unusual correct answers pass, and the questions' answers are what the notebook's cells compute.

The generic parts (stub, solution, reference, every registered mistake and misconception) are in
``test_registry.py``.
"""

import numpy as np
import pytest

from cnn_helpers import conv, gradcheck, pooling
from cnn_helpers.checks import _core, lesson07

from ._tools import assert_fails, assert_passes, load_exercise, solution_notebook


def load(exercise_id, names, edition="solution"):
    return [load_exercise("07", exercise_id, name, edition=edition) for name in names]


# --------------------------------------------------------------------------------------------
# 7.1 relative error


def _cell(cell_id):
    """The source of one (non-exercise) cell of the solution notebook, by its id."""
    return next(cell.source for cell in solution_notebook("07").cells if cell.get("id") == cell_id)


def relative_error_loops(analytic, numerical):
    """Unusual but right: a loop over the flattened entries, in plain Python."""
    worst = 0.0
    for a, n in zip(np.ravel(analytic).tolist(), np.ravel(numerical).tolist(), strict=True):
        scale = max(abs(a), abs(n))
        if scale:
            worst = max(worst, abs(a - n) / scale)
    return worst


def relative_error_tiny_denominator(analytic, numerical):
    """Unusual but right: a tiny number added to the denominator instead of a 0 / 0 test."""
    a, n = np.asarray(analytic, dtype=float), np.asarray(numerical, dtype=float)
    return np.max(np.abs(a - n) / (np.maximum(np.abs(a), np.abs(n)) + 1e-30))


def relative_error_nan_to_num(analytic, numerical):
    a, n = np.asarray(analytic, dtype=float), np.asarray(numerical, dtype=float)
    with np.errstate(invalid="ignore"):
        return float(np.nan_to_num(np.abs(a - n) / np.maximum(np.abs(a), np.abs(n)), nan=0.0).max())


@pytest.mark.parametrize(
    "right", [relative_error_loops, relative_error_tiny_denominator, relative_error_nan_to_num]
)
def test_unusual_relative_errors_pass(right):
    assert_passes(lesson07.check_relative_error, right)


def test_relative_error_mistakes_are_named():
    def no_zero_guard(analytic, numerical):
        a, n = np.asarray(analytic, dtype=float), np.asarray(numerical, dtype=float)
        with np.errstate(invalid="ignore"):
            return float(np.max(np.abs(a - n) / np.maximum(np.abs(a), np.abs(n))))

    def per_entry(analytic, numerical):
        a, n = np.asarray(analytic, dtype=float), np.asarray(numerical, dtype=float)
        return np.divide(
            np.abs(a - n),
            np.maximum(np.abs(a), np.abs(n)),
            out=np.zeros(a.shape),
            where=np.maximum(np.abs(a), np.abs(n)) > 0,
        )

    assert_fails(lesson07.check_relative_error, no_zero_guard, hint="0 / 0 gives nan")
    assert_fails(lesson07.check_relative_error, per_entry, hint="expected a number, got ndarray")
    assert_fails(lesson07.check_relative_error, lambda a, n: 0.0, hint="wrong relative error")
    message = assert_fails(
        lesson07.check_relative_error,
        lambda a, n: float(np.max(np.abs(np.subtract(a, n)))),
        hint="absolute error",
    )
    assert "Likely mistake" in message


def test_a_coincidence_on_one_case_names_no_relative_error_mistake():
    """Right everywhere but on one case, where it happens to give the absolute error: no mistake named."""
    cases = lesson07._relative_error_cases()
    odd = cases[4][1]

    def nearly_right(analytic, numerical):
        if np.array_equal(analytic, odd[0]) and np.array_equal(numerical, odd[1]):
            return float(np.max(np.abs(analytic - numerical)))
        return gradcheck.relative_error(analytic, numerical)

    trusted = _core._called_from_the_package
    try:
        _core._called_from_the_package = lambda frame: (
            trusted(frame) or frame.f_globals.get("__name__") == __name__
        )
        message = assert_fails(lesson07.check_relative_error, nearly_right, hint="wrong relative error")
    finally:
        _core._called_from_the_package = trusted
    assert "wrong on 1 of" in message
    assert "Likely mistake" not in message  # the absolute error contradicts the 18 right answers


# --------------------------------------------------------------------------------------------
# 7.2, 7.4, 7.6 questions: the answers are what the lesson's numbers give


def test_question_7_2_answer_and_misconceptions_are_the_numbers_they_claim():
    analytic, numerical = np.array([4.0, 0.02]), np.array([4.0, 0.03])
    spec = _core.REGISTRY["7.2"].question
    assert gradcheck.relative_error(analytic, numerical) == pytest.approx(spec.expected, abs=spec.tolerance)
    claimed = {
        0.01: np.abs(analytic - numerical).max(),
        0.5: 0.01 / 0.02,
        0.2: 0.01 / 0.05,
        0.0025: 0.01 / 4.0,
        1 / 6: (0 + 1 / 3) / 2,
    }
    assert set(claimed) == set(spec.misconceptions)
    for wrong, value in claimed.items():
        assert wrong == pytest.approx(value)
        assert abs(wrong - spec.expected) > spec.tolerance


def test_question_7_4_the_suspect_fails_only_in_dweight_and_only_by_relative_error():
    namespace = {"np": np, "conv": conv, "gradcheck": gradcheck, "print": lambda *args, **kwargs: None}
    exec(_cell("l07-026b"), namespace)
    suspect, numerical = namespace["suspect"], namespace["numerical"]
    errors = {name: gradcheck.relative_error(suspect[name], numerical[name]) for name in suspect}
    assert errors["dweight"] > 0.5 and errors["dx"] < 1e-6 and errors["dbias"] < 1e-6
    assert all(np.abs(suspect[name] - numerical[name]).max() < 1e-6 for name in suspect)  # the absolute trap
    assert _core.REGISTRY["7.4"].question.expected == "b"  # (b) dweight


def test_question_7_6_count_is_what_the_notebook_map_gives():
    namespace = {"np": np, "print": lambda *args, **kwargs: None}
    exec(_cell("l07-036b"), namespace)
    question_map = namespace["question_map"]
    np.testing.assert_array_equal(question_map, lesson07.QUESTION_7_6_MAP)
    dx = pooling.max_pool2d_backward(np.ones((3, 3)), question_map, 2, stride=1)
    spec = _core.REGISTRY["7.6"].question
    assert np.count_nonzero(dx) == spec.expected == 4
    spread = pooling.sum_pool2d_backward(np.ones((3, 3)), question_map, 2, stride=1)
    assert np.count_nonzero(spread) == 16 and dx.size == 16 and 9 in spec.misconceptions


# --------------------------------------------------------------------------------------------
# 7.3 convolution backward with loops


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


def test_a_bias_gradient_of_zeros_is_named():
    assert_fails(
        lesson07.check_conv_backward,
        with_dbias(lambda dout: np.zeros(dout.shape[1])),
        hint="dbias is all zeros",
    )


def test_a_mistake_contradicted_by_one_case_is_not_named():
    """Stride ignored only when the stride is 3: wrong on those cases, right at stride 2, so the
    stride mistake does not explain every case and is not named."""

    def conv_backward(dout, x, weight, bias, *, stride, padding):
        return lesson07.conv_backward_variant(dout, x, weight, stride, padding, ignore_stride=stride == 3)

    message = assert_fails(lesson07.check_conv_backward, conv_backward, hint="wrong dx")
    assert "Likely mistake" not in message


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (conv_backward_with(ignore_stride=True), "stride was ignored in the backward pass"),
        (conv_backward_with(flip=True), "kernel flipped the wrong way"),
        (conv_backward_with(crop=False), "padding was not removed from dx"),
        (conv_backward_with(overwrite=True), "overwrote each other's gradient"),
        (with_dbias(lambda dout: dout.sum(axis=(2, 3))), "not summed over the batch"),
        (with_dbias(lambda dout: dout.sum(axis=0)), "not summed over positions"),
        (with_dbias(lambda dout: dout.mean(axis=(0, 2, 3))), "mean of dout"),
    ],
)
def test_conv_backward_mistakes_are_named(wrong, hint):
    assert_fails(lesson07.check_conv_backward, wrong, hint=hint)


def test_conv_backward_failure_says_which_gradient_is_wrong_and_where():
    message = assert_fails(lesson07.check_conv_backward, conv_backward_with(flip=True), hint="wrong dx")
    assert "dx WRONG, dweight right, dbias right" in message
    assert "worst entry of dx at index" in message and "expected" in message and "got" in message
    message = assert_fails(
        lesson07.check_conv_backward,
        with_dbias(lambda dout: dout.sum(axis=(0, 2, 3)) / len(dout)),
        hint="wrong dbias",
    )
    assert "dx right, dweight right, dbias WRONG" in message


def test_conv_backward_shape_and_type_problems():
    assert_fails(
        lesson07.check_conv_backward,
        lambda d, x, w, b, *, stride, padding: conv_backward_with()(
            d, x, w, b, stride=stride, padding=padding
        )[:2],
        hint="return the tuple (dx, dweight, dbias)",
    )
    assert_fails(
        lesson07.check_conv_backward,
        lambda d, x, w, b, *, stride, padding: (np.zeros((1, 1, 5, 5)),) * 3,
        hint="wrong dx",
    )  # hard-coded arrays


def test_conv_backward_calling_the_reference_fails():
    assert_fails(lesson07.check_conv_backward, conv.conv2d_backward, hint="package's own implementation")
    assert_fails(
        lesson07.check_conv_backward,
        lambda d, x, w, b, *, stride, padding: conv.conv2d_backward_loops(
            d, x, w, b, stride=stride, padding=padding
        ),
        hint="called cnn_helpers.conv.conv2d_backward_loops",
    )
    # the guard puts the reference back afterwards
    assert conv.conv2d_backward(np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1)), [0.0])[
        2
    ].tolist() == [1.0]


def test_conv_backward_may_use_pad2d():
    def padded_version(dout, x, weight, bias, *, stride, padding):
        assert conv.pad2d(np.ones((1, 1)), padding=1).shape == (3, 3)  # allowed helper, must not trip
        return lesson07.conv_backward_variant(dout, x, weight, stride, padding)

    assert_passes(lesson07.check_conv_backward, padded_version)


# --------------------------------------------------------------------------------------------
# 7.5 max-pool backward


def max_pool_backward_with(**mistake):
    def max_pool_backward(dout, x, size, *, stride):
        return lesson07.max_pool_backward_variant(dout, x, size, stride, **mistake)

    return max_pool_backward


def spread_to_window(dout, x, size, *, stride):
    """Every element of the window gets the gradient (sum pooling's backward)."""
    dout, x = np.asarray(dout), np.asarray(x)
    dx = np.zeros_like(x, dtype=float)
    for n, c, row, col in np.ndindex(*dout.shape):
        dx[n, c, row * stride : row * stride + size, col * stride : col * stride + size] += dout[
            n, c, row, col
        ]
    return dx


def test_the_right_max_pool_backward_passes():
    assert_passes(lesson07.check_max_pool_backward, max_pool_backward_with())


def max_pool_backward_add_at(dout, x, size, *, stride):
    """Unusual but right: argmax of every window at once, then np.add.at scatters dout (ties: first)."""
    x, dout = np.asarray(x, dtype=float), np.asarray(dout, dtype=float)
    n, c, out_h, out_w = dout.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride][:, :, :out_h, :out_w].reshape(n, c, out_h, out_w, size * size)
    i, j = np.divmod(windows.argmax(axis=-1), size)
    rows = np.arange(out_h)[:, None] * stride + i
    cols = np.arange(out_w)[None, :] * stride + j
    dx = np.zeros_like(x)
    np.add.at(dx, (np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols), dout)
    return dx


def test_np_add_at_max_pool_backward_passes():
    assert_passes(lesson07.check_max_pool_backward, max_pool_backward_add_at)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (spread_to_window, "spread to every element of the window"),
        (max_pool_backward_with(ties="last"), "went to the last maximum"),
        (max_pool_backward_with(ties="all"), "every tied maximum got the gradient"),
        (max_pool_backward_with(overwrite=True), "overwrote each other's gradient"),
        (max_pool_backward_with(ignore_stride=True), "stride was ignored"),
    ],
)
def test_max_pool_backward_mistakes_are_named(wrong, hint):
    assert_fails(lesson07.check_max_pool_backward, wrong, hint=hint)


def test_max_pool_backward_hard_coded_and_reference_fail():
    hard_coded = np.array([[[[0.0, 0, 0, 0], [1, 0, 2, 0], [0, 3, 0, 0], [0, 0, 0, 4]]]])
    assert_fails(lesson07.check_max_pool_backward, lambda d, x, s, *, stride: hard_coded, hint="wrong dx")
    assert_fails(
        lesson07.check_max_pool_backward, pooling.max_pool2d_backward, hint="package's own implementation"
    )
    assert_fails(
        lesson07.check_max_pool_backward,
        lambda d, x, s, *, stride: pooling.max_pool2d_backward(d, x, s, stride=stride),
        hint="called cnn_helpers.pooling.max_pool2d_backward",
    )


# --------------------------------------------------------------------------------------------
# 7.7 sum- and average-pooling backward


def spread_with(**switch):
    def backward(dout, x, size, *, stride):
        return lesson07.spread_backward_variant(dout, x, size, stride, **switch)

    return backward


def avg_with(**switch):
    def backward(dout, x, size, *, stride):
        return lesson07.spread_backward_variant(dout, x, size, stride, share=1 / size**2, **switch)

    return backward


def test_the_right_spread_backward_passes():
    assert_passes(lesson07.check_spread_backward, spread_with(), avg_with())


def sum_pool_backward_add_at(dout, x, size, *, stride):
    """Unusual but right: every window's pixel indices at once, np.add.at adds dout onto them."""
    x, dout = np.asarray(x, dtype=float), np.asarray(dout, dtype=float)
    out_h, out_w = dout.shape[2:]
    i, j = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    rows = (np.arange(out_h) * stride)[:, None, None, None] + i
    cols = (np.arange(out_w) * stride)[None, :, None, None] + j
    dx = np.zeros_like(x)
    np.add.at(dx, (slice(None), slice(None), rows, cols), dout[:, :, :, :, None, None])
    return dx


def test_unusual_spread_backwards_pass():
    solution_sum = load_exercise("07", "7.7", "sum_pool_backward")
    assert_passes(
        lesson07.check_spread_backward,
        sum_pool_backward_add_at,
        lambda dout, x, size, *, stride: sum_pool_backward_add_at(dout, x, size, stride=stride) / size**2,
    )
    assert_passes(
        lesson07.check_spread_backward, spread_with(), load_exercise("07", "7.7", "avg_pool_backward")
    )
    assert_passes(lesson07.check_spread_backward, solution_sum, avg_with())


@pytest.mark.parametrize(
    "functions, hint",
    [
        ((avg_with(), avg_with()), "sum pooling's gradient was divided by the window size"),
        ((spread_with(), spread_with()), "average pooling's gradient was not divided"),
        (
            (
                spread_with(),
                lambda d, x, s, *, stride: lesson07.spread_backward_variant(d, x, s, stride, share=1 / s),
            ),
            "divided by size, not by size**2",
        ),
        ((spread_with(overwrite=True), avg_with()), "overwrote each other's gradient"),
        ((spread_with(), avg_with(overwrite=True)), "overwrote each other's gradient"),
        ((spread_with(ignore_stride=True), avg_with()), "stride was ignored"),
        (
            (lambda d, x, s, *, stride: lesson07.max_pool_backward_variant(d, x, s, stride), avg_with()),
            "that is max pooling's backward",
        ),
        (
            (
                spread_with(),
                lambda d, x, s, *, stride: lesson07.max_pool_backward_variant(
                    np.asarray(d) / s**2, x, s, stride
                ),
            ),
            "that is max pooling's backward",
        ),
    ],
)
def test_spread_backward_mistakes_are_named(functions, hint):
    message = assert_fails(lesson07.check_spread_backward, *functions, hint=hint)
    assert "Likely mistake" in message


# --------------------------------------------------------------------------------------------
# 7.8 vectorised convolution


@pytest.fixture(scope="module")
def fast_solution():
    return load("7.8", ("conv_forward_fast", "conv_backward_fast"))


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
    loops = load_exercise("07", "7.3", "conv_backward")  # the learner's own loop version
    message = assert_fails(lesson07.check_conv_fast, forward, loops, hint="right but not vectorised")
    assert "lines of Python" in message


def test_fast_calling_the_reference_fails(fast_solution):
    forward, backward = fast_solution
    assert_fails(
        lesson07.check_conv_fast,
        lambda x, w, b, *, stride, padding: conv.conv2d(x, w, b, stride=stride, padding=padding),
        backward,
        hint="called cnn_helpers.conv.conv2d",
    )
    assert_fails(lesson07.check_conv_fast, forward, conv.conv2d_backward, hint="package's own implementation")
    assert_fails(
        lesson07.check_conv_fast,
        forward,
        lambda d, x, w, b, *, stride, padding: (conv.col2im(np.zeros((1, 1)), (1, 1, 1, 1), 1),) * 3,
        hint="called cnn_helpers.conv.col2im",
    )


def test_unusual_fast_answers_pass(fast_solution):
    """A stride-1 map subsampled, and dx by dilation + full convolution: both right, both vectorised."""
    forward, _backward = fast_solution

    def forward_subsampled(x, weight, bias, *, stride, padding):
        return forward(x, weight, bias, stride=1, padding=padding)[:, :, ::stride, ::stride]

    def backward_dilated(dout, x, weight, bias, *, stride, padding):
        dout, x, weight = (np.asarray(a, dtype=float) for a in (dout, x, weight))
        n, channels, height, width = x.shape
        _, _, kernel_h, kernel_w = weight.shape
        out_h, out_w = dout.shape[2:]
        dilated = np.zeros((n, weight.shape[0], (out_h - 1) * stride + 1, (out_w - 1) * stride + 1))
        dilated[:, :, ::stride, ::stride] = dout
        full = np.pad(dilated, ((0, 0), (0, 0), (kernel_h - 1, kernel_h - 1), (kernel_w - 1, kernel_w - 1)))
        rows, cols = dilated.shape[2] + kernel_h - 1, dilated.shape[3] + kernel_w - 1
        dpadded = np.zeros((n, channels, height + 2 * padding, width + 2 * padding))
        padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        dweight = np.zeros_like(weight)
        for i in range(kernel_h):
            for j in range(kernel_w):  # the full convolution flips the kernel
                dpadded[:, :, :rows, :cols] += np.einsum(
                    "nfhw,fc->nchw",
                    full[:, :, i : i + rows, j : j + cols],
                    weight[:, :, kernel_h - 1 - i, kernel_w - 1 - j],
                )
                dweight[:, :, i, j] = np.einsum(
                    "nfhw,nchw->fc", dilated, padded[:, :, i : i + dilated.shape[2], j : j + dilated.shape[3]]
                )
        dx = dpadded[:, :, padding : padding + height, padding : padding + width]
        return dx, dweight, dout.sum(axis=(0, 2, 3))

    assert_passes(lesson07.check_conv_fast, forward_subsampled, backward_dilated)


def test_fast_hard_coded_forward_fails(fast_solution):
    _, backward = fast_solution
    assert_fails(
        lesson07.check_conv_fast,
        lambda x, w, b, *, stride, padding: np.zeros((1, 1, 3, 3)),
        backward,
        hint="wrong output",
    )


# --------------------------------------------------------------------------------------------
# The helpers the checks use


def test_variants_without_mistakes_match_the_reference():
    for _, dout, x, weight, bias, stride, padding in lesson07.conv_cases(seed=5, count=5):
        for mine, reference in zip(
            lesson07.conv_backward_variant(dout, x, weight, stride, padding),
            conv.conv2d_backward(dout, x, weight, bias, stride=stride, padding=padding),
            strict=True,
        ):
            np.testing.assert_allclose(mine, reference, atol=1e-12)
    for _, x, size, stride in lesson07.pool_cases(seed=5, count=5):
        dout = np.ones(pooling.max_pool2d(x, size, stride=stride).shape)
        np.testing.assert_allclose(
            lesson07.max_pool_backward_variant(dout, x, size, stride),
            pooling.max_pool2d_backward(dout, x, size, stride=stride),
        )


def test_the_line_counter_stops_a_long_loop_early():
    from cnn_helpers.checks._core import count_python_lines

    def slow():
        total = 0
        for k in range(10_000):
            total += k
        return total

    assert count_python_lines(slow, limit=100) == (None, 101)
    assert count_python_lines(lambda: int(np.arange(10_000).sum())) == (49_995_000, 1)


def test_exercise_7_8_names_loops_as_not_vectorised():
    forward = load_exercise("07", "7.8", "conv_forward_fast")
    backward = load_exercise("07", "7.8", "conv_backward_fast")
    loops_namespace = {}
    exec(
        "def slow_forward(x, weight, bias, *, stride, padding):\n"
        "    out = forward(x, weight, bias, stride=stride, padding=padding)\n"
        "    for value in range(out.size):\n"
        "        pass\n"
        "    return out\n",
        {"forward": forward, **loops_namespace},
        loops_namespace,
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
    message = assert_fails(
        lesson07.check_conv_fast, namespace["forward_per_image"], backward, hint="right but not vectorised"
    )
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
    assert_fails(
        lesson07.check_conv_fast, forward, namespace["backward_positions"], hint="right but not vectorised"
    )


def test_the_vectorised_solution_runs_the_same_lines_on_both_sizes(fast_solution):
    from cnn_helpers.checks._core import count_python_lines

    forward, _backward = fast_solution
    counts = []
    for n, size in ((2, 5), (5, 9)):
        rng = np.random.default_rng(n)
        x, weight = rng.normal(size=(n, 3, size, size)), rng.normal(size=(4, 3, 3, 3))
        counts.append(
            count_python_lines(lambda *args: forward(*args, stride=1, padding=1), x, weight, np.zeros(4))[1]
        )
    assert counts[0] == counts[1] > 0
