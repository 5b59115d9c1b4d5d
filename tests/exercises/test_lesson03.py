"""Lesson 03 checks: the stub fails, the solution passes, plausible mistakes fail with the right hint."""

import re

import numpy as np
import pytest

from cnn_helpers.checks import lesson03

from ._tools import assert_fails, assert_passes

# --------------------------------------------------------------------------------------------
# 3.1 filter_rgb: plausible wrong answers, written the way a learner might


def _correlate_same(channel, kernel, flip=False, pad=True, swap_padding=False):
    channel, kernel = np.asarray(channel, float), np.asarray(kernel, float)
    if flip:
        kernel = kernel[::-1, ::-1]
    kernel_h, kernel_w = kernel.shape
    p_h, p_w = (kernel_h // 2, kernel_w // 2) if pad else (0, 0)
    if swap_padding:
        p_h, p_w = p_w, p_h
    padded = np.pad(channel, ((p_h, p_h), (p_w, p_w)))
    out_h, out_w = padded.shape[0] - kernel_h + 1, padded.shape[1] - kernel_w + 1
    out = np.zeros((out_h, out_w))
    for row in range(out_h):
        for col in range(out_w):
            out[row, col] = np.sum(padded[row : row + kernel_h, col : col + kernel_w] * kernel)
    return out


def _filter_rgb(**mistake):
    def filter_rgb(image, kernel):
        return np.stack([_correlate_same(image[..., c], kernel, **mistake) for c in range(3)], axis=-1)

    return filter_rgb


def test_filter_rgb_reference_written_here_passes():
    assert_passes(lesson03.check_filter_rgb, _filter_rgb())


def test_filter_rgb_mistakes():
    check = lesson03.check_filter_rgb
    assert_fails(check, _filter_rgb(flip=True), hint="kernel was flipped")
    assert_fails(check, _filter_rgb(pad=False), hint="no padding")

    def summed(image, kernel):
        return sum(_correlate_same(image[..., c], kernel) for c in range(3))

    assert_fails(check, summed, hint="channels were added together")

    def summed_three(image, kernel):
        return np.stack([summed(image, kernel)] * 3, axis=-1)

    assert_fails(check, summed_three, hint="added together and copied")

    def channels_first(image, kernel):
        return np.stack([_correlate_same(image[..., c], kernel) for c in range(3)])

    assert_fails(check, channels_first, hint="channels came out first")


def test_filter_rgb_swapped_padding_is_named():
    # square kernels hide this mistake, so it shows on the first non-square kernel
    message = assert_fails(
        lesson03.check_filter_rgb, _filter_rgb(swap_padding=True), hint="padding per axis is swapped"
    )
    kernel_h, kernel_w = re.search(r"kernel \((\d+), (\d+)\)", message).groups()
    assert kernel_h != kernel_w, message


def test_filter_rgb_hard_coded_answer_fails():
    from cnn_helpers import data, filters

    lecture = data.lecture_example()
    image = np.stack([lecture.image, 1 - lecture.image, lecture.image.T], axis=-1)
    answer = filters.apply_kernel(image, lecture.sharpen)
    assert_fails(lesson03.check_filter_rgb, lambda image, kernel: answer, hint="wrong filtered image")


# --------------------------------------------------------------------------------------------
# 3.2 sobel_magnitude


def _sobel_parts(grey):
    from cnn_helpers.filters import KERNELS

    return _correlate_same(grey, KERNELS["sobel_top"]), _correlate_same(grey, KERNELS["sobel_left"])


def test_sobel_magnitude_mistakes():
    check = lesson03.check_sobel_magnitude

    def abs_sum(grey):
        top, left = _sobel_parts(grey)
        return np.abs(top) + np.abs(left)

    def no_root(grey):
        top, left = _sobel_parts(grey)
        return top**2 + left**2

    def top_only(grey):
        return np.abs(_sobel_parts(grey)[0])

    def left_only(grey):
        return _sobel_parts(grey)[1]

    assert_fails(check, abs_sum, hint="absolute values were added")
    assert_fails(check, no_root, hint="square root is missing")
    assert_fails(check, top_only, hint="only the top sobel kernel")
    assert_fails(check, left_only, hint="only the left sobel kernel")


def test_sobel_magnitude_calling_the_package_fails():
    from cnn_helpers import filters

    def via_apply_kernel(grey):
        return np.hypot(filters.apply_kernel(grey, "sobel_top"), filters.apply_kernel(grey, "sobel_left"))

    assert_fails(lesson03.check_sobel_magnitude, via_apply_kernel, hint="called cnn_helpers")
    assert_fails(lesson03.check_sobel_magnitude, filters.sobel_magnitude, hint="package's own implementation")
    assert_fails(
        lesson03.check_sobel_magnitude,
        lambda grey: filters.sobel_magnitude(grey),
        hint="called cnn_helpers.filters.sobel_magnitude",
    )
    assert filters.sobel_magnitude(np.ones((3, 3))).shape == (3, 3)  # restored afterwards


def test_sobel_magnitude_hard_coded_answer_fails():
    from cnn_helpers import data, filters

    answer = filters.sobel_magnitude(data.lecture_example().image)
    assert_fails(lesson03.check_sobel_magnitude, lambda grey: answer, hint="wrong magnitude")


# --------------------------------------------------------------------------------------------
# 3.3 make_edge_kernel: judged by its effect, so several different kernels pass


@pytest.mark.parametrize(
    "kernel",
    [
        [[-2, -1, 0], [-1, 0, 1], [0, 1, 2]],
        [[-1, -1, 0], [-1, 0, 1], [0, 1, 1]],
        [[0, 0, 0], [0, -1, 0], [0, 0, 1]],
        [[0, -1, 0], [-1, 0, 1], [0, 1, 0]],
        [[-0.2, -0.1, 0], [-0.1, 0, 0.1], [0, 0.1, 0.2]],  # any positive scale
    ],
)
def test_several_edge_kernels_pass(kernel):
    assert_passes(lesson03.check_edge_kernel, lambda: np.array(kernel, dtype=float))


def test_edge_kernel_mistakes():
    from cnn_helpers.filters import KERNELS

    check = lesson03.check_edge_kernel
    assert_fails(check, lambda: np.array(KERNELS["emboss"]), hint="responds to flat areas")
    assert_fails(check, lambda: -np.array([[-2, -1, 0], [-1, 0, 1], [0, 1, 2.0]]), hint="opposite edge")
    assert_fails(check, lambda: -np.array(KERNELS["sobel_left"]), hint="horizontal or vertical edges")
    assert_fails(check, lambda: -np.array(KERNELS["sobel_top"]), hint="horizontal or vertical edges")
    assert_fails(check, lambda: np.array(KERNELS["laplacian"]), hint="both sides of an edge")
    assert_fails(check, lambda: np.zeros((3, 3)), hint="all zeros")
    assert_fails(check, lambda: np.array([[-1, 0], [0, 1.0]]), hint="shape (3, 3)")
    assert_fails(check, lambda: "diagonal", hint="3x3 array of numbers")


def test_edge_kernel_calling_the_package_fails():
    from cnn_helpers import filters

    assert_fails(
        lesson03.check_edge_kernel,
        lambda: filters.apply_kernel(np.eye(3), "identity"),
        hint="called cnn_helpers.filters.apply_kernel",
    )


def test_edge_responses_helper():
    kernel = np.array([[-2, -1, 0], [-1, 0, 1], [0, 1, 2.0]])
    target, turned_90, opposite, turned_270 = lesson03.edge_responses(kernel, lesson03.diagonal_edge(10, 9))
    assert target > 0 and max(turned_90, opposite, turned_270) <= lesson03.WEAK_SHARE * target


def test_filter_rgb_calling_the_package_fails():
    from cnn_helpers import conv, filters

    assert_fails(lesson03.check_filter_rgb, filters.apply_kernel, hint="package's own implementation")
    assert_fails(
        lesson03.check_filter_rgb,
        lambda image, kernel: filters.apply_kernel(image, kernel),
        hint="called cnn_helpers.filters.apply_kernel",
    )

    def per_channel(image, kernel):
        return np.stack(
            [
                conv.correlate2d(image[..., c], kernel, padding=(kernel.shape[0] // 2, kernel.shape[1] // 2))
                for c in range(3)
            ],
            axis=-1,
        )

    assert_fails(lesson03.check_filter_rgb, per_channel, hint="called cnn_helpers.conv.correlate2d")
    assert filters.apply_kernel(np.eye(3), "identity").shape == (3, 3)  # restored afterwards


def test_filter_rgb_kernel_height_for_both_axes_is_not_called_no_padding():
    """KH // 2 rows and KH // 2 columns: on a 1x3 kernel that is no padding at all, on a 3x1 kernel too
    much; the check used to say "no padding" from the first of these cases."""

    def kh_for_both(image, kernel):
        image, kernel = np.asarray(image, float), np.asarray(kernel, float)
        pad = kernel.shape[0] // 2
        padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)))
        kernel_h, kernel_w = kernel.shape
        out = np.zeros((padded.shape[0] - kernel_h + 1, padded.shape[1] - kernel_w + 1, 3))
        for row in range(out.shape[0]):
            for col in range(out.shape[1]):
                out[row, col] = np.sum(
                    padded[row : row + kernel_h, col : col + kernel_w] * kernel[:, :, None], axis=(0, 1)
                )
        return out

    message = assert_fails(lesson03.check_filter_rgb, kh_for_both, hint="KH // 2 was used for both axes")
    assert "no padding" not in message


def test_filter_rgb_padding_one_axis_only_is_named():
    """A loop solution that pads only the rows (or only the columns), written as a learner would."""

    def one_axis(rows):
        def filter_rgb(image, kernel):
            image, kernel = np.asarray(image, float), np.asarray(kernel, float)
            kernel_h, kernel_w = kernel.shape
            p_h, p_w = (kernel_h // 2, 0) if rows else (0, kernel_w // 2)
            padded = np.pad(image, ((p_h, p_h), (p_w, p_w), (0, 0)))
            out = np.zeros((padded.shape[0] - kernel_h + 1, padded.shape[1] - kernel_w + 1, 3))
            for row in range(out.shape[0]):
                for col in range(out.shape[1]):
                    out[row, col] = np.sum(
                        padded[row : row + kernel_h, col : col + kernel_w] * kernel[:, :, None], axis=(0, 1)
                    )
            return out

        return filter_rgb

    assert_fails(lesson03.check_filter_rgb, one_axis(rows=True), hint="only the rows were padded")
    assert_fails(lesson03.check_filter_rgb, one_axis(rows=False), hint="only the columns were padded")


# --------------------------------------------------------------------------------------------
# 3.1 and 3.2 questions (the registry test runs every misconception; these are the forms)


def test_ramp_questions_accept_the_name_and_name_the_curvature_kernels():
    assert_passes(lesson03.check_ramp_kernel, "Left Sobel")
    assert_passes(lesson03.check_ramp_kernel, "(d)")
    assert_fails(lesson03.check_ramp_kernel, "a", hint="curvature")
    assert_fails(lesson03.check_ramp_kernel, "outline", hint="curvature")
    assert_passes(lesson03.check_ramp_sobel, -0.8000001)
    assert_fails(lesson03.check_ramp_sobel, 0.8, hint="the sign")
    assert_fails(lesson03.check_ramp_sobel, -0.4, hint="two pixels apart")
    assert_fails(lesson03.check_ramp_sobel, -1.6, hint="write three rows")


def test_the_left_sobel_kernel_gives_minus_eight_times_the_slope_on_a_ramp():
    """What question 3.2 asserts, computed: the answer is not just typed in."""
    from cnn_helpers import filters

    ramp = 0.3 + 0.1 * np.indices((5, 7))[1]
    np.testing.assert_allclose(filters.apply_kernel(ramp, "sobel_left", padding="valid"), -0.8)
    np.testing.assert_allclose(filters.apply_kernel(ramp, "laplacian", padding="valid"), 0, atol=1e-12)
    np.testing.assert_allclose(filters.apply_kernel(ramp, "outline", padding="valid"), 0, atol=1e-12)
    np.testing.assert_allclose(filters.apply_kernel(ramp, "sobel_top", padding="valid"), 0, atol=1e-12)


# --------------------------------------------------------------------------------------------
# 3.5 sobel_top_factors


@pytest.mark.parametrize(
    "column, row",
    [
        ([1, 0, -1], [1, 2, 1]),
        ([-1, 0, 1], [-1, -2, -1]),  # both signs flipped
        ([2, 0, -2], [0.5, 1, 0.5]),  # any scale shared between the two
        (np.array([[1.0], [0.0], [-1.0]]), np.array([[1.0, 2.0, 1.0]])),  # a 3x1 column and a 1x3 row
    ],
)
def test_several_sobel_factorisations_pass(column, row):
    assert_passes(lesson03.check_sobel_factors, lambda: (column, row))


def test_sobel_factors_mistakes():
    check = lesson03.check_sobel_factors
    assert_fails(check, lambda: ([1, 2, 1], [1, 0, -1]), hint="column and the row are swapped")
    assert_fails(check, lambda: ([-1, 0, 1], [1, 2, 1]), hint="signs are flipped")
    assert_fails(check, lambda: ([2, 0, -2], [1, 2, 1]), hint="2 times too large")
    assert_fails(check, lambda: ([1, 1, 1], [1, 2, 1]), hint="every row of the top sobel kernel")
    assert_fails(check, lambda: np.outer([1, 0, -1], [1, 2, 1]), hint="return two things")
    assert_fails(check, lambda: ([1, 0, -1], [1, 2]), hint="must hold 3 numbers")


def test_sobel_factors_stub_and_package_calls_fail():
    from cnn_helpers import filters

    def stub():
        raise NotImplementedError("Exercise 3.5")

    assert_fails(lesson03.check_sobel_factors, stub, hint="not done yet")
    assert_fails(
        lesson03.check_sobel_factors,
        lambda: (filters.apply_kernel(np.eye(3), "identity")[0], [1, 2, 1]),
        hint="called cnn_helpers",
    )


# --------------------------------------------------------------------------------------------
# 3.6 make_smoothing_kernel: judged by a measured noise reduction


@pytest.mark.parametrize(
    "kernel",
    [
        np.full((3, 3), 1 / 9),
        np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
        np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]]) / 5,  # a cross: 45 % of the noise survives
        np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]]) / 8,  # the neighbours only
        np.array([[2, 1, 2], [1, 0, 1], [2, 1, 2]]) / 12,
    ],
)
def test_several_smoothing_kernels_pass(kernel):
    assert_passes(lesson03.check_smoothing_kernel, lambda: kernel)


def test_smoothing_kernel_mistakes():
    from cnn_helpers.filters import KERNELS

    check = lesson03.check_smoothing_kernel
    assert_fails(check, lambda: np.ones((3, 3)), hint="add up to 9")
    assert_fails(check, lambda: np.ones((3, 3)) / 8, hint="make them add up to 1")
    assert_fails(check, lambda: np.array(KERNELS["laplacian"]), hint="edge detector")
    assert_fails(check, lambda: np.array(KERNELS["sharpen"]), hint="makes the noise stronger")
    assert_fails(check, lambda: np.array(KERNELS["identity"]), hint="spread the weight")
    assert_fails(
        check, lambda: np.array([[0, 0.1, 0], [0.1, 0.6, 0.1], [0, 0.1, 0]]), hint="spread the weight"
    )
    assert_fails(check, lambda: np.full((5, 5), 1 / 25), hint="shape (3, 3)")
    assert_fails(check, lambda: "blur", hint="3x3 array of numbers")


def test_smoothing_kernel_calling_the_package_fails():
    from cnn_helpers import filters

    def searched():
        kernel = np.full((3, 3), 1 / 9)
        assert filters.remaining_noise(kernel) < 0.5
        return kernel

    assert_fails(lesson03.check_smoothing_kernel, searched, hint="called cnn_helpers.filters.remaining_noise")
