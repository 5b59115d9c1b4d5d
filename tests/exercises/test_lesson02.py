"""Lesson 02 checks: the stub fails, the solution passes, plausible mistakes fail with the right hint."""

import numpy as np
import pytest

from cnn_helpers import conv
from cnn_helpers.checks import lesson02

from ._tools import assert_fails, assert_passes, load_exercise


def test_solution_of_2_2_works_with_its_own_2_1():
    """2.2's solution calls the learner's correlate2d_loops; with a stub 2.1 it is not done yet."""
    convolve = load_exercise("02", "2.2", "convolve2d_loops")
    assert np.array_equal(convolve(np.eye(3), [[1, 2], [3, 4]]), conv.convolve2d(np.eye(3), [[1, 2], [3, 4]]))


# ---------------------------------------------------------------------------------------------
# Plausible wrong solutions, written the way a learner would


def correlate_with(kernel_transform, size_error=0):
    """A loop correlation that transforms the kernel first; size_error shrinks the output."""

    def correlate(image, kernel):
        image = np.asarray(image, dtype=float)
        kernel = kernel_transform(np.asarray(kernel, dtype=float))
        kernel_h, kernel_w = kernel.shape
        out = np.zeros(
            (image.shape[0] - kernel_h + 1 - size_error, image.shape[1] - kernel_w + 1 - size_error)
        )
        for r in range(out.shape[0]):
            for c in range(out.shape[1]):
                out[r, c] = np.sum(image[r : r + kernel_h, c : c + kernel_w] * kernel)
        return out

    return correlate


def correlate_rows_and_columns_swapped(image, kernel):
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    kernel_h, kernel_w = kernel.shape
    out = np.zeros((image.shape[0] - kernel_h + 1, image.shape[1] - kernel_w + 1))
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[c, r] = np.sum(image[r : r + kernel_h, c : c + kernel_w] * kernel)  # out[c, r]: swapped
    return out


IDENTITY = lambda k: k  # noqa: E731
ROT180 = lambda k: k[::-1, ::-1]  # noqa: E731


def test_correlate2d_mistakes():
    check = lesson02.check_correlate2d_loops
    assert_fails(check, correlate_with(ROT180), hint="kernel was flipped")
    assert_fails(check, correlate_with(IDENTITY, size_error=1), hint="off by one")
    assert_fails(check, correlate_rows_and_columns_swapped, hint="rows and columns swapped")
    assert_fails(
        check, lambda image, kernel: correlate_with(IDENTITY)(image, np.asarray(kernel).T), hint="transposed"
    )


def test_correlate2d_hard_coded_answer_fails():
    lecture_map = np.array([[3.0, 3, -2], [-3, -3, 4], [3, 3, -4]])
    assert_fails(lesson02.check_correlate2d_loops, lambda image, kernel: lecture_map, hint="1..9 kernel")


def test_convolve2d_mistakes():
    check = lesson02.check_convolve2d_loops
    assert_fails(check, correlate_with(IDENTITY), hint="kernel was not flipped")
    assert_fails(check, correlate_with(lambda k: k[::-1, :]), hint="one axis only (upside down")
    assert_fails(check, correlate_with(lambda k: k[:, ::-1]), hint="one axis only (left to right")
    assert_fails(check, correlate_with(np.transpose), hint="transposed instead of flipped")
    assert_fails(
        check,
        lambda image, kernel: correlate_with(IDENTITY)(np.asarray(image)[::-1, ::-1], kernel),
        hint="image was flipped instead of the kernel",
    )
    assert_fails(check, correlate_with(ROT180, size_error=1), hint="off by one")


def test_convolve2d_hard_coded_answer_fails():
    lecture_map = np.array([[3.0, 3, -2], [-3, -3, 4], [3, 3, -4]])
    assert_fails(lesson02.check_convolve2d_loops, lambda image, kernel: lecture_map, hint="wrong feature map")


def full_with(term, extra=0):
    """A literal full convolution whose term is term(x, h, m, n, i, j); extra adds output rows/columns."""

    def convolve_full(x, h):
        x, h = np.asarray(x, dtype=float), np.asarray(h, dtype=float)
        height, width = x.shape
        kernel_h, kernel_w = h.shape
        y = np.zeros((height + kernel_h - 1 + extra, width + kernel_w - 1 + extra))
        for m in range(y.shape[0]):
            for n in range(y.shape[1]):
                for i in range(height):
                    for j in range(width):
                        y[m, n] += term(x, h, m, n, i, j)
        return y

    return convolve_full


def _at(h, a, b):
    return h[a, b] if 0 <= a < h.shape[0] and 0 <= b < h.shape[1] else 0.0


def test_convolve_full_mistakes():
    check = lesson02.check_convolve_full
    plus_form = full_with(lambda x, h, m, n, i, j: x[i, j] * _at(h, m + i, n + j))
    assert_fails(check, plus_form, hint="h[m + i, n + j]")
    assert_fails(
        check, full_with(lambda x, h, m, n, i, j: x[i, j] * _at(h, m - i, n - j), extra=-1), hint="off by one"
    )
    assert_fails(
        check, full_with(lambda x, h, m, n, i, j: x[i, j] * _at(h, m - i, n - j), extra=1), hint="not H + KH"
    )
    assert_fails(check, _full_correlation, hint="not flipped")
    assert_fails(check, lambda x, h: _full_convolution(x, h).T, hint="rows and columns swapped")
    assert_fails(check, _valid_only, hint="'valid' part")


def _full_correlation(x, h):
    x, h = np.asarray(x, dtype=float), np.asarray(h, dtype=float)
    padded = np.pad(x, ((h.shape[0] - 1,) * 2, (h.shape[1] - 1,) * 2))
    return correlate_with(IDENTITY)(padded, h)


def _full_convolution(x, h):
    return _full_correlation(x, np.asarray(h, dtype=float)[::-1, ::-1])


def _valid_only(x, h):
    full = _full_convolution(x, h)
    kernel_h, kernel_w = np.shape(h)
    return full[kernel_h - 1 : full.shape[0] - kernel_h + 1, kernel_w - 1 : full.shape[1] - kernel_w + 1]


def test_convolve_full_hard_coded_answer_fails():
    answer = _full_convolution(np.eye(5), np.arange(9.0).reshape(3, 3))
    assert_fails(lesson02.check_convolve_full, lambda x, h: answer, hint="wrong full convolution")


def test_flip_matters_mistakes():
    check = lesson02.check_flip_matters
    assert_fails(check, lambda k: not np.array_equal(k, np.asarray(k).T), hint="transpose")
    assert_fails(check, lambda k: not np.array_equal(k, np.asarray(k)[::-1, :]), hint="upside down")
    assert_fails(check, lambda k: not np.array_equal(k, np.asarray(k)[:, ::-1]), hint="left to right")
    assert_fails(check, lambda k: np.array_equal(k, np.asarray(k)[::-1, ::-1]), hint="the opposite")
    assert_fails(check, lambda k: 1, hint="expected True or False")


def test_flip_matters_hard_coded_answers_fail():
    assert_fails(lesson02.check_flip_matters, lambda k: True, hint="the sharpen kernel")
    assert_fails(lesson02.check_flip_matters, lambda k: False, hint="the 1..9 kernel")


def test_calling_the_package_reference_fails():
    assert_fails(
        lesson02.check_correlate2d_loops, conv.correlate2d_loops, hint="package's own implementation"
    )
    assert_fails(
        lesson02.check_correlate2d_loops,
        lambda image, kernel: conv.correlate2d(image, kernel),
        hint="called cnn_helpers.conv.correlate2d",
    )
    assert_fails(
        lesson02.check_convolve2d_loops,
        lambda image, kernel: conv.convolve2d(image, kernel),
        hint="called cnn_helpers.conv.convolve2d",
    )
    assert_fails(
        lesson02.check_convolve_full,
        lambda x, h: conv.convolve2d(x, h, padding=(len(h) - 1, len(h[0]) - 1)),
        hint="called cnn_helpers.conv.convolve2d",
    )
    assert_fails(
        lesson02.check_flip_matters,
        lambda k: not np.allclose(conv.convolve2d(np.eye(4), k), conv.correlate2d(np.eye(4), k)),
        hint="called cnn_helpers.conv",
    )
    # the guard restores the references afterwards
    assert conv.correlate2d([[1, 2, 3]], [[1, 1]]).tolist() == [[3.0, 5.0]]


def test_calling_scipy_fails_when_imported():
    signal = pytest.importorskip("scipy.signal")
    assert_fails(
        lesson02.check_correlate2d_loops,
        lambda image, kernel: signal.correlate2d(image, kernel, mode="valid"),
        hint="called scipy.signal.correlate2d",
    )


# ---------------------------------------------------------------------------------------------
# The slips issue 10 lists for lesson 02, and unusual answers that are right


def test_a_90_degree_turn_is_not_a_flip():
    check = lesson02.check_convolve2d_loops
    message = assert_fails(check, correlate_with(np.rot90), hint="np.rot90(kernel) turns the kernel by 90°")
    assert "transposed" not in message
    assert_fails(check, correlate_with(lambda k: k[::-1].T), hint="kernel[::-1].T reverses the rows")


def test_a_missing_lower_guard_is_named():
    """``if m - i < KH and n - j < KW`` without ``0 <=``: h[-1] silently reads the last row."""

    def term(x, h, m, n, i, j):
        return x[i, j] * h[m - i, n - j] if m - i < h.shape[0] and n - j < h.shape[1] else 0.0

    message = assert_fails(lesson02.check_convolve_full, full_with(term), hint="0 <= m - i")
    assert "NumPy reads h[-1]" in message


def test_a_missing_upper_guard_raises_and_is_reported():
    def term(x, h, m, n, i, j):
        return x[i, j] * h[m - i, n - j] if m - i >= 0 and n - j >= 0 else 0.0

    assert_fails(lesson02.check_convolve_full, full_with(term), hint="raised IndexError")


def _sliding_einsum(image, kernel):
    from numpy.lib.stride_tricks import sliding_window_view

    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    return np.einsum("rcij,ij->rc", sliding_window_view(image, kernel.shape), kernel)


def _fft_full(x, h):
    x, h = np.asarray(x, dtype=float), np.asarray(h, dtype=float)
    shape = (x.shape[0] + h.shape[0] - 1, x.shape[1] + h.shape[1] - 1)
    return np.fft.irfft2(np.fft.rfft2(x, shape) * np.fft.rfft2(h, shape), shape)


def _stamp_full(x, h):
    """Scatter ("stamp") convolution: add a copy of h, scaled by each pixel, at that pixel."""
    x, h = np.asarray(x, dtype=float), np.asarray(h, dtype=float)
    out = np.zeros((x.shape[0] + h.shape[0] - 1, x.shape[1] + h.shape[1] - 1))
    for (i, j), value in np.ndenumerate(x):
        out[i : i + h.shape[0], j : j + h.shape[1]] += value * h
    return out


def _valid_part(full, h):
    kernel_h, kernel_w = np.shape(h)
    return full[kernel_h - 1 : full.shape[0] - kernel_h + 1, kernel_w - 1 : full.shape[1] - kernel_w + 1]


def test_unusual_but_correct_answers_pass():
    assert_passes(lesson02.check_correlate2d_loops, _sliding_einsum)
    assert_passes(
        lesson02.check_convolve2d_loops, lambda image, kernel: _sliding_einsum(image, np.rot90(kernel, 2))
    )
    assert_passes(
        lesson02.check_convolve2d_loops, lambda image, kernel: _valid_part(_fft_full(image, kernel), kernel)
    )
    assert_passes(
        lesson02.check_convolve2d_loops, lambda image, kernel: _valid_part(_stamp_full(image, kernel), kernel)
    )
    assert_passes(lesson02.check_convolve_full, _fft_full)
    assert_passes(lesson02.check_convolve_full, _stamp_full)
    assert_passes(lesson02.check_flip_matters, lambda k: bool((np.asarray(k) != np.rot90(k, 2)).any()))


def test_the_questions_name_their_misconceptions():
    assert "cross-correlation" in assert_fails(
        lesson02.check_impulse_response, "b", hint="Likely misconception"
    )
    assert_passes(lesson02.check_impulse_response, "(A)")
    assert "180° rotation" in assert_fails(lesson02.check_framework_kernel, "a", hint="Likely misconception")
    assert "one axis only" in assert_fails(lesson02.check_framework_kernel, "d", hint="Likely misconception")
    assert "8 additions" in assert_fails(lesson02.check_multiply_adds, 72, hint="Likely misconception")
