"""Lesson 01 checks: the stub fails, the solution passes, plausible mistakes fail with the right hint."""

import math

import numpy as np
import pytest

from cnn_helpers.checks import lesson01

from ._tools import assert_fails, assert_passes


def test_flatten_mistakes():
    assert_fails(lesson01.check_flatten, lambda image: np.asarray(image).T.reshape(-1), hint="column-major")
    assert_fails(lesson01.check_flatten, lambda image: np.asarray(image).reshape(1, -1), hint="still 2-D")
    assert_fails(
        lesson01.check_flatten, lambda image: np.asarray(image).reshape(-1)[:-1], hint="expected shape"
    )


def test_count_features_mistakes():
    assert_fails(lesson01.check_count_features, lambda n, d: math.comb(n + d, d) - 1, hint="constant term")
    assert_fails(
        lesson01.check_count_features, lambda n, d: sum(n**k for k in range(d + 1)), hint="ordered products"
    )
    assert_fails(
        lesson01.check_count_features, lambda n, d: sum(math.comb(n, k) for k in range(d + 1)), hint="squares"
    )
    assert_fails(
        lesson01.check_count_features, lambda n, d: 3_128_751, hint="wrong count"
    )  # hard-coded answer


def test_dense_weight_mistakes():
    assert_fails(lesson01.check_dense_weights, lambda n, u: n * u, hint="biases are missing")
    assert_fails(lesson01.check_dense_weights, lambda n, u: n * u + n, hint="one bias per input")
    assert_fails(lesson01.check_dense_weights, lambda n, u: "2501000", hint="expected a number")


def test_calling_the_package_reference_fails():
    from cnn_helpers import images

    assert_fails(lesson01.check_flatten, images.flatten_image, hint="package's own implementation")
    assert_fails(
        lesson01.check_flatten,
        lambda image: images.flatten_image(image),
        hint="called cnn_helpers.images.flatten_image",
    )
    assert_fails(
        lesson01.check_count_features,
        lambda n, d: images.count_polynomial_features(n, d),
        hint="called cnn_helpers.images",
    )
    # the guard restores the reference afterwards
    assert images.flatten_image(np.eye(2)).tolist() == [1.0, 0.0, 0.0, 1.0]


def test_an_allowed_package_function_may_use_blocked_ones_internally():
    """The guard trips on calls from the learner's code, not on the package calling its helpers."""
    from cnn_helpers import conv, filters
    from cnn_helpers.checks._core import CheckFailure, reference_guard

    image, kernel = np.arange(25.0).reshape(5, 5), np.ones((3, 3))

    def learner_uses_allowed(img):
        return filters.apply_kernel(img, kernel)  # apply_kernel calls conv.correlate2d and pad2d

    expected = conv.correlate2d(image, kernel, padding=1)
    with reference_guard(learner_uses_allowed, allowed=("apply_kernel",), exercise_id="9.9"):
        received = learner_uses_allowed(image)
    np.testing.assert_allclose(received, expected)

    def learner_calls_blocked(img):
        return conv.correlate2d(img, kernel)

    with (
        reference_guard(learner_calls_blocked, allowed=("apply_kernel",), exercise_id="9.9"),
        pytest.raises(CheckFailure, match=r"called cnn_helpers\.conv\.correlate2d"),
    ):
        learner_calls_blocked(image)


def test_counting_only_degree_d_is_not_told_squares_are_missing():
    """C(n + d - 1, d) counts the monomials of degree exactly d: 3,126,250 for 2,500 inputs at degree 2,
    one less than the "no squares" mistake's 3,126,251 is far from; a tolerance used to confuse them."""
    message = assert_fails(
        lesson01.check_count_features, lambda n, d: math.comb(n + d - 1, d), hint="degree exactly d"
    )
    assert "squares" not in message
    assert "3126250" in message.replace(",", "")


def test_a_count_one_off_on_a_large_case_is_wrong():
    """Integers are compared exactly: 3,126,252 is not 3,126,251, although the ratio is 1 + 3e-7."""

    def almost(n, d):
        return math.comb(n + d, d) + (1 if n == 2500 else 0)

    message = assert_fails(lesson01.check_count_features, almost, hint="wrong count on n_inputs=2500")
    assert "Likely mistake" not in message  # no known mistake explains one wrong case among right ones


def test_flatten_rows_in_reverse_order_is_named():
    """The slip issue 10 lists for 1.1: reading the bottom row first."""
    message = assert_fails(
        lesson01.check_flatten,
        lambda image: np.asarray(image)[::-1].reshape(-1),
        hint="rows come in reverse order",
    )
    assert "column-major" not in message
    assert_fails(
        lesson01.check_flatten, lambda image: np.asarray(image)[:, ::-1].reshape(-1), hint="right to left"
    )


def test_unusual_but_correct_flattening_passes():
    assert_passes(lesson01.check_flatten, lambda image: [value for row in image for value in row])
    assert_passes(lesson01.check_flatten, lambda image: np.concatenate(list(np.asarray(image))).astype(float))
    assert_passes(lesson01.check_flatten, lambda image: np.asarray(image).flatten(order="C"))


def test_pixel_position_mistakes():
    check = lesson01.check_pixel_position
    assert_fails(check, lambda index, height, width: divmod(index, height), hint="divided by the height")
    assert_fails(check, lambda index, height, width: (index % width, index // width), hint="swapped")
    assert_fails(check, lambda index, height, width: (index % height, index // height), hint="column-major")
    assert_fails(
        check, lambda index, height, width: (index // width + 1, index % width + 1), hint="counted from 0"
    )
    assert_fails(check, lambda index, height, width: index // width, hint="expected shape")  # one number
    assert_fails(check, lambda index, height, width: (0, 2), hint="wrong (row, col)")  # hard-coded


def test_unusual_but_correct_pixel_positions_pass():
    def by_counting(index, height, width):
        for row in range(height):
            for col in range(width):
                if row * width + col == index:
                    return row, col

    assert_passes(lesson01.check_pixel_position, lambda index, height, width: divmod(index, width))
    assert_passes(
        lesson01.check_pixel_position, lambda index, height, width: np.unravel_index(index, (height, width))
    )
    assert_passes(lesson01.check_pixel_position, lambda index, height, width: [index // width, index % width])
    assert_passes(lesson01.check_pixel_position, by_counting)


def test_questions_name_the_misconceptions():
    assert "its own weight" in assert_fails(
        lesson01.check_shuffled_accuracy, "a", hint="Likely misconception"
    )
    assert "pixel by pixel" in assert_fails(
        lesson01.check_shifted_accuracy, "(A)", hint="Likely misconception"
    )
    assert_passes(lesson01.check_shifted_accuracy, "below 80 %")
