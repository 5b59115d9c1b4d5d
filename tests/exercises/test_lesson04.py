"""Lesson 04 checks: the stub fails, the solution passes, plausible mistakes fail with the right hint."""

import math

import numpy as np

from cnn_helpers.checks import lesson04

from ._tools import assert_fails, assert_passes

# --------------------------------------------------------------------------------------------
# 4.1 output_size


def _keywords(formula):
    """A learner's output_size(n, kernel_size, *, padding, stride) that returns formula(n, k, p, s)."""

    def output_size(n, kernel_size, *, padding, stride):
        return formula(n, kernel_size, padding, stride)

    return output_size


def _guarded(formula):
    """A learner's output_size with correct input checks and a given (maybe wrong) formula."""

    def output_size(n, k, *, padding, stride):
        p, s = padding, stride
        if s <= 0:
            raise ValueError("stride must be positive")
        if k > n + 2 * p:
            raise ValueError("kernel does not fit")
        return formula(n, k, p, s)

    return output_size


def test_output_size_mistakes():
    check = lesson04.check_output_size
    assert_fails(check, _guarded(lambda n, k, p, s: (n + 2 * p - k) // s), hint="+ 1 is missing")
    assert_fails(check, _guarded(lambda n, k, p, s: (n + p - k) // s + 1), hint="padding goes on both sides")
    assert_fails(check, _guarded(lambda n, k, p, s: (n - k) // s + 1), hint="padding is missing")
    assert_fails(check, _guarded(lambda n, k, p, s: math.ceil((n + 2 * p - k) / s) + 1), hint="ceil")
    assert_fails(check, _guarded(lambda n, k, p, s: (n + 2 * p - k) / s + 1), hint="true division")
    assert_fails(
        check, _guarded(lambda n, k, p, s: float((n + 2 * p - k) // s + 1)), hint="return a whole number"
    )
    assert_fails(check, _guarded(lambda n, k, p, s: (n + 2 * p - k) // s + 2), hint="one too many")


def test_output_size_must_reject_impossible_settings():
    check = lesson04.check_output_size
    no_checks = _keywords(lambda n, k, p, s: (n + 2 * p - k) // s + 1)
    assert_fails(check, no_checks, hint="there is no output here: raise ValueError")

    def no_stride_check(n, k, *, padding, stride):
        p, s = padding, stride
        if k > n + 2 * p:
            raise ValueError("kernel does not fit")
        return (n + 2 * p - k) // s + 1

    message = assert_fails(check, no_stride_check, hint="stride must be at least 1")
    assert "ZeroDivisionError" in message

    def wrong_error(n, k, *, padding, stride):
        p, s = padding, stride
        if s <= 0 or k > n + 2 * p:
            raise RuntimeError("impossible")
        return (n + 2 * p - k) // s + 1

    assert_fails(check, wrong_error, hint="expected ValueError, got RuntimeError")


def test_output_size_hard_coded_and_reference_fail():
    from cnn_helpers import conv

    assert_fails(lesson04.check_output_size, _keywords(lambda n, k, p, s: 3), hint="wrong output size")
    assert_fails(lesson04.check_output_size, conv.output_size, hint="package's own implementation")
    assert_fails(
        lesson04.check_output_size,
        lambda n, k, *, padding, stride: conv.output_size(n, k, padding=padding, stride=stride),
        hint="called cnn_helpers.conv.output_size",
    )
    assert conv.output_size(5, 3) == 3  # restored afterwards


# --------------------------------------------------------------------------------------------
# 4.2 pad


def test_pad_mistakes():
    check = lesson04.check_pad
    assert_fails(check, lambda image, p_h, p_w: np.pad(image, ((p_w, p_w), (p_h, p_h))), hint="swapped")
    assert_fails(check, lambda image, p_h, p_w: np.pad(image, ((0, p_h), (0, p_w))), hint="one side only")
    assert_fails(check, lambda image, p_h, p_w: np.pad(image, ((p_h, 0), (p_w, 0))), hint="one side only")

    def top_left(image, p_h, p_w):
        image = np.asarray(image, float)
        out = np.zeros((image.shape[0] + 2 * p_h, image.shape[1] + 2 * p_w))
        out[: image.shape[0], : image.shape[1]] = image
        return out

    assert_fails(check, top_left, hint="top-left corner")
    assert_fails(check, lambda image, p_h, p_w: np.pad(image, ((p_h, p_h), (0, 0))), hint="only the rows")
    assert_fails(check, lambda image, p_h, p_w: np.pad(image, p_h), hint="wrong padded image")
    assert_fails(
        check,
        lambda image, p_h, p_w: np.pad(image, ((p_h, p_h), (p_w, p_w)), constant_values=1),
        hint="wrong padded image",
    )


def test_pad_hard_coded_and_reference_fail():
    from cnn_helpers import conv, data

    answer = np.pad(data.lecture_example().image, 1)
    assert_fails(lesson04.check_pad, lambda image, p_h, p_w: answer, hint="wrong padded image")
    assert_fails(
        lesson04.check_pad,
        lambda image, p_h, p_w: conv.pad2d(image, padding=(p_h, p_w)),
        hint="called cnn_helpers.conv.pad2d",
    )


# --------------------------------------------------------------------------------------------
# 4.3 correlate_strided


def _pair(value):
    return (value, value) if np.isscalar(value) else tuple(value)


def _strided(flip=False, ignore_stride=False, rows_only=False, swap_padding=False, minus_one=False):
    """A loop implementation with one optional, typical mistake."""

    def correlate_strided(image, kernel, *, padding, stride):
        image, kernel = np.asarray(image, float), np.asarray(kernel, float)
        if flip:
            kernel = kernel[::-1, ::-1]
        (p_h, p_w), (s_h, s_w) = _pair(padding), _pair(stride)
        if swap_padding:
            p_h, p_w = p_w, p_h
        if ignore_stride:
            s_h = s_w = 1
        if rows_only:
            s_w = 1
        padded = np.pad(image, ((p_h, p_h), (p_w, p_w)))
        kernel_h, kernel_w = kernel.shape
        out_h = (padded.shape[0] - kernel_h) // s_h + (0 if minus_one else 1)
        out_w = (padded.shape[1] - kernel_w) // s_w + (0 if minus_one else 1)
        out = np.zeros((out_h, out_w))
        for row in range(out_h):
            for col in range(out_w):
                window = padded[row * s_h : row * s_h + kernel_h, col * s_w : col * s_w + kernel_w]
                out[row, col] = np.sum(window * kernel)
        return out

    return correlate_strided


def test_strided_reference_written_here_passes():
    assert_passes(lesson04.check_correlate_strided, _strided())


def test_strided_mistakes():
    check = lesson04.check_correlate_strided
    assert_fails(check, _strided(ignore_stride=True), hint="stride is ignored")
    assert_fails(check, _strided(rows_only=True), hint="only along the rows")
    assert_fails(check, _strided(swap_padding=True), hint="padding went on the wrong axis")
    assert_fails(check, _strided(minus_one=True), hint="off by one")
    assert_fails(check, _strided(flip=True), hint="kernel was flipped")


def test_strided_may_use_pad2d_and_output_size_but_not_correlate2d():
    from cnn_helpers import conv

    def with_package_helpers(image, kernel, *, padding, stride):
        (p_h, p_w), (s_h, s_w) = _pair(padding), _pair(stride)
        kernel = np.asarray(kernel, float)
        padded = conv.pad2d(image, padding=(p_h, p_w))
        out_h = conv.output_size(np.shape(image)[0], kernel.shape[0], padding=p_h, stride=s_h)
        out_w = conv.output_size(np.shape(image)[1], kernel.shape[1], padding=p_w, stride=s_w)
        return np.array(
            [
                [
                    np.sum(
                        padded[r * s_h : r * s_h + kernel.shape[0], c * s_w : c * s_w + kernel.shape[1]]
                        * kernel
                    )
                    for c in range(out_w)
                ]
                for r in range(out_h)
            ]
        )

    assert_passes(lesson04.check_correlate_strided, with_package_helpers)
    assert_fails(lesson04.check_correlate_strided, conv.correlate2d, hint="package's own implementation")
    assert_fails(
        lesson04.check_correlate_strided,
        lambda i, k, *, padding, stride: conv.correlate2d_loops(i, k, padding=padding, stride=stride),
        hint="called cnn_helpers.conv.correlate2d_loops",
    )


def test_strided_hard_coded_answer_fails():
    answer = np.array([[-1, 3, 0], [5, -3, 3], [4, 2, 3]], dtype=float)  # the lecture case, right
    assert_fails(
        lesson04.check_correlate_strided,
        lambda image, kernel, *, padding, stride: answer,
        hint="wrong feature map",
    )


def test_plus_one_inside_the_division_is_named_as_such():
    """(n + 2p - k + 1) // s uses n + 2 * padding; it used to be told to, by a coincidence on one case."""
    message = assert_fails(
        lesson04.check_output_size,
        _guarded(lambda n, k, p, s: (n + 2 * p - k + 1) // s),
        hint="the + 1 went inside the division",
    )
    assert "padding goes on both sides" not in message


def test_np_pad_with_one_pair_is_named():
    """np.pad(image, (p_h, p_w)) pads p_h before and p_w after on *both* axes."""
    message = assert_fails(
        lesson04.check_pad,
        lambda image, p_h, p_w: np.pad(image, (p_h, p_w)),
        hint="np.pad(image, (p_h, p_w)) reads the pair as (before, after)",
    )
    assert "swapped" not in message


def test_minus_zero_slice_is_named():
    """out[p_h:-p_h, p_w:-p_w] = image: right for positive amounts, an empty slice when one is 0."""

    def pad(image, p_h, p_w):
        image = np.asarray(image, float)
        out = np.zeros((image.shape[0] + 2 * p_h, image.shape[1] + 2 * p_w))
        out[p_h:-p_h, p_w:-p_w] = image
        return out

    message = assert_fails(lesson04.check_pad, pad, hint="0:-0, which is 0:0, an empty slice")
    assert "p_h:p_h + H" in message


def test_unusual_pads_pass():
    def with_concatenate(image, p_h, p_w):
        image = np.asarray(image, float)
        side = np.zeros((image.shape[0], p_w))
        wide = np.concatenate([side, image, side], axis=1)
        top = np.zeros((p_h, wide.shape[1]))
        return np.concatenate([top, wide, top], axis=0)

    def with_minus_zero_guard(image, p_h, p_w):
        image = np.asarray(image, float)
        out = np.zeros((image.shape[0] + 2 * p_h, image.shape[1] + 2 * p_w))
        out[p_h : out.shape[0] - p_h or None, p_w : out.shape[1] - p_w or None] = image
        return out

    assert_passes(lesson04.check_pad, with_concatenate)
    assert_passes(lesson04.check_pad, with_minus_zero_guard)
    assert_passes(
        lesson04.check_pad, lambda image, p_h, p_w: np.pad(image, [(p_h, p_h), (p_w, p_w)], mode="constant")
    )


def test_strided_padding_on_one_axis_only_is_named():
    def one_axis(rows):
        def correlate_strided(image, kernel, *, padding, stride):
            (p_h, p_w), (s_h, s_w) = _pair(padding), _pair(stride)
            p_h, p_w = (p_h, 0) if rows else (0, p_w)
            padded = np.pad(np.asarray(image, float), ((p_h, p_h), (p_w, p_w)))
            kernel = np.asarray(kernel, float)
            out_h = (padded.shape[0] - kernel.shape[0]) // s_h + 1
            out_w = (padded.shape[1] - kernel.shape[1]) // s_w + 1
            return np.array(
                [
                    [
                        np.sum(
                            padded[r * s_h : r * s_h + kernel.shape[0], c * s_w : c * s_w + kernel.shape[1]]
                            * kernel
                        )
                        for c in range(out_w)
                    ]
                    for r in range(out_h)
                ]
            )

        return correlate_strided

    assert_fails(lesson04.check_correlate_strided, one_axis(rows=True), hint="only the rows were padded")
    assert_fails(lesson04.check_correlate_strided, one_axis(rows=False), hint="only the columns were padded")


def test_strided_windows_that_start_at_r_c_are_named():
    def at_r_c(image, kernel, *, padding, stride):
        (p_h, p_w), (s_h, s_w) = _pair(padding), _pair(stride)
        padded = np.pad(np.asarray(image, float), ((p_h, p_h), (p_w, p_w)))
        kernel = np.asarray(kernel, float)
        out_h = (padded.shape[0] - kernel.shape[0]) // s_h + 1
        out_w = (padded.shape[1] - kernel.shape[1]) // s_w + 1
        return np.array(
            [
                [
                    np.sum(padded[r : r + kernel.shape[0], c : c + kernel.shape[1]] * kernel)
                    for c in range(out_w)
                ]
                for r in range(out_h)
            ]
        )

    assert_fails(lesson04.check_correlate_strided, at_r_c, hint="starts at row r, column c")


def test_strided_stride1_map_subsampled_passes():
    """An unusual but correct answer: the stride-1 map, every s-th entry."""

    def subsampled(image, kernel, *, padding, stride):
        (p_h, p_w), (s_h, s_w) = _pair(padding), _pair(stride)
        padded = np.pad(np.asarray(image, float), ((p_h, p_h), (p_w, p_w)))
        kernel = np.asarray(kernel, float)
        windows = np.lib.stride_tricks.sliding_window_view(padded, kernel.shape)
        return np.einsum("rcij,ij->rc", windows, kernel)[::s_h, ::s_w]

    assert_passes(lesson04.check_correlate_strided, subsampled)


# --------------------------------------------------------------------------------------------
# 4.6 same_padding: any even split passes; the common slips are named


def test_same_padding_unusual_answers_pass():
    assert_passes(lesson04.check_same_padding, lambda k: ((k - 1) // 2, k // 2))
    assert_passes(lesson04.check_same_padding, lambda k: (k // 2, (k - 1) // 2))  # the extra zero before
    assert_passes(lesson04.check_same_padding, lambda k: [np.int64(k // 2), np.int64((k - 1) // 2)])
    assert_passes(
        lesson04.check_same_padding, lambda k: (int(np.ceil((k - 1) / 2)), int(np.floor((k - 1) / 2)))
    )


def test_same_padding_mistakes():
    check = lesson04.check_same_padding
    assert_fails(check, lambda k: (k // 2, k // 2), hint="one too many for an even kernel")
    assert_fails(check, lambda k: ((k - 1) // 2, (k - 1) // 2), hint="one too few for an even kernel")
    assert_fails(check, lambda k: ((k - 1) / 2, (k - 1) / 2), hint="not a whole number")
    assert_fails(check, lambda k: (0, k - 1), hint="as evenly as possible")
    assert_fails(check, lambda k: k - 1, hint="return a pair")
    assert_fails(check, lambda k: (-1, k), hint="cannot be negative")
    assert_fails(check, lambda k: (1, 1), hint="wrong padding on kernel_size=1")


def test_same_padding_stub_fails():
    def stub(kernel_size):
        raise NotImplementedError("Exercise 4.6")

    assert_fails(lesson04.check_same_padding, stub, hint="not done yet")


def test_output_size_exercise_does_not_give_its_formula_away():
    """Issue 10: 4.3's docstring used to hold the formula; no cell above the exercise may state it."""
    from cnn_helpers.course import editions

    from ._tools import solution_notebook

    notebook = editions.learner_edition(solution_notebook("04"))
    for cell in notebook.cells:
        assert "\\lfloor" not in cell.source and "floor(" not in cell.source, cell.id
        if editions.cell_role(cell) == ("exercise", "4.3"):
            break
    else:
        raise AssertionError("exercise 4.3 not found")


def test_same_padding_calling_the_package_fails():
    from cnn_helpers import conv

    def searched(kernel_size):
        for before in range(kernel_size):
            after = kernel_size - 1 - before
            if abs(before - after) <= 1 and conv.output_size(9, kernel_size, padding=0) + before + after == 9:
                return before, after
        return 0, 0

    assert_fails(lesson04.check_same_padding, searched, hint="called cnn_helpers.conv.output_size")
