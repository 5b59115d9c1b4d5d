"""Lesson 09 checks: the stub fails, the solution passes, plausible mistakes fail with the right hint."""

import numpy as np
import pytest

from cnn_helpers.checks import lesson09

from ._tools import assert_fails, assert_passes, load_exercise


def solution(exercise_id, name, edition="solution"):
    return load_exercise("09", exercise_id, name, edition=edition)


def test_solutions_pass():
    assert_passes(lesson09.check_conv_params, solution("9.1", "conv_params"))
    assert_passes(
        lesson09.check_shift_accuracy, solution("9.2", "shift_right"), solution("9.2", "shift_accuracy")
    )
    assert_passes(lesson09.check_equivariance_error, solution("9.3", "equivariance_error"))


def test_learner_stubs_fail():
    assert_fails(lesson09.check_conv_params, solution("9.1", "conv_params", "learner"), hint="not done yet")
    shift_right = solution("9.2", "shift_right", "learner")
    shift_accuracy = solution("9.2", "shift_accuracy", "learner")
    assert_fails(lesson09.check_shift_accuracy, shift_right, shift_accuracy, hint="not done yet")
    # a finished shift_right with an unfinished shift_accuracy still fails
    assert_fails(
        lesson09.check_shift_accuracy, solution("9.2", "shift_right"), shift_accuracy, hint="not done yet"
    )
    assert_fails(
        lesson09.check_equivariance_error,
        solution("9.3", "equivariance_error", "learner"),
        hint="not done yet",
    )


# ------------------------------------------------------------------------------------------ 9.1


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda c, f, k: c * f * k * k, "biases are missing"),
        (lambda c, f, k: f * k * k + f, "input channels are missing"),
        (lambda c, f, k: c * f * k * k + c, "one bias per input channel"),
        (lambda c, f, k: c * f * k + f, "k * k weights"),
        (lambda c, f, k: 80, "wrong count"),  # hard-coded: right for the first case only
        (lambda c, f, k: str(c * f * k * k + f), "expected a number"),
    ],
)
def test_conv_params_mistakes(wrong, hint):
    assert_fails(lesson09.check_conv_params, wrong, hint=hint)


def test_conv_params_reference_is_blocked():
    from cnn_helpers import layers

    assert_fails(
        lesson09.check_conv_params,
        lambda c, f, k: layers.Conv2D(c, f, k).num_params,
        hint="called cnn_helpers.layers.Conv2D",
    )
    assert layers.Conv2D(1, 8, 3).num_params == 80  # restored afterwards


# ------------------------------------------------------------------------------------------ 9.2


def right_shift(images, s):
    images = np.asarray(images)
    out = np.zeros_like(images)
    if s < images.shape[-1]:
        out[..., s:] = images[..., : images.shape[-1] - s]
    return out


def accuracy_with(shift):
    def shift_accuracy(predict, images, labels, shifts):
        return np.array([np.mean(predict(shift(images, s)) == labels) for s in shifts])

    return shift_accuracy


def left_shift(images, s):
    images = np.asarray(images)
    out = np.zeros_like(images)
    if s < images.shape[-1]:
        out[..., : images.shape[-1] - s] = images[..., s:]
    return out


def down_shift(images, s):
    images = np.asarray(images)
    out = np.zeros_like(images)
    if s < images.shape[-2]:
        out[..., s:, :] = images[..., : images.shape[-2] - s, :]
    return out


def rolled(images, s):
    return np.roll(images, s, axis=-1)


def in_place(images, s):
    images[..., s:] = images[..., : images.shape[-1] - s].copy() if s else images
    images[..., :s] = 0
    return images


def batch_only(images, s):  # indexes four axes, so single (H, W) images break
    out = np.zeros_like(images)
    out[:, :, :, s:] = images[:, :, :, : images.shape[-1] - s]
    return out


@pytest.mark.parametrize(
    "wrong_shift, hint",
    [
        (left_shift, "moved left"),
        (down_shift, "moved down"),
        (rolled, "came back on the left"),
        (in_place, "changed the images"),
        (batch_only, "raised IndexError"),
    ],
)
def test_shift_right_mistakes(wrong_shift, hint):
    assert_fails(lesson09.check_shift_accuracy, wrong_shift, accuracy_with(wrong_shift), hint=hint)


@pytest.mark.parametrize(
    "wrong_accuracy, hint",
    [
        (accuracy_with(left_shift), "shifted left instead of right"),
        (accuracy_with(down_shift), "shifted down instead of right"),
        (accuracy_with(rolled), "np.roll wraps"),
        (
            lambda predict, images, labels, shifts: np.array(
                [np.sum(predict(right_shift(images, s)) == labels) for s in shifts]
            ),
            "counts of correct",
        ),
        (
            lambda predict, images, labels, shifts: np.array(
                [np.mean(predict(right_shift(images, s)) == labels) for s in sorted(shifts)]
            ),
            "wrong accuracies",
        ),
        (lambda predict, images, labels, shifts: np.ones(len(shifts)), "wrong accuracies"),  # hard-coded
    ],
)
def test_shift_accuracy_mistakes(wrong_accuracy, hint):
    assert_fails(lesson09.check_shift_accuracy, right_shift, wrong_accuracy, hint=hint)


def test_shift_images_is_blocked_in_9_2():
    from cnn_helpers import images as image_transforms

    def via_package(images, s):
        return image_transforms.shift_images(images, 0, s)

    assert_fails(
        lesson09.check_shift_accuracy,
        via_package,
        accuracy_with(via_package),
        hint="called cnn_helpers.images.shift_images",
    )
    assert image_transforms.shift_images(np.ones((2, 2)), 0, 1).tolist() == [[0.0, 1.0], [0.0, 1.0]]


# ------------------------------------------------------------------------------------------ 9.3


def error_with(
    shift_output=True,
    output_shift=right_shift,
    margin_rows=True,
    margin_cols=True,
    reduce=np.max,
    absolute=True,
):
    def equivariance_error(f, image, s, margin):
        a = f(right_shift(image, s))
        b = output_shift(f(image), s) if shift_output else f(image)
        d = np.abs(a - b) if absolute else a - b
        h, w = d.shape
        rows = slice(margin, h - margin) if margin_rows else slice(None)
        cols = slice(margin, w - margin) if margin_cols else slice(None)
        return float(reduce(d[rows, cols]))

    return equivariance_error


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (error_with(margin_rows=False, margin_cols=False), "border was compared too"),
        (error_with(shift_output=False), "shift f(x) as well"),
        (error_with(output_shift=left_shift), "shifted left"),
        (error_with(margin_cols=False), "border was compared too"),
        (error_with(margin_rows=False), "only the columns were trimmed"),
        (error_with(reduce=np.mean), "mean difference"),
        (error_with(absolute=False), "absolute value"),
        (
            lambda f, image, s, margin: float(
                np.max(  # b - a without abs
                    (right_shift(f(image), s) - f(right_shift(image, s)))[margin:-margin, margin:-margin]
                )
            ),
            "absolute value",
        ),
        (lambda f, image, s, margin: 0.0, "wrong largest difference"),  # "everything is equivariant"
    ],
)
def test_equivariance_error_mistakes(wrong, hint):
    assert_fails(lesson09.check_equivariance_error, wrong, hint=hint)


def negative_margin_slice(f, image, s, margin):
    """The slip the issue found: d[margin:-margin] is empty at margin = 0."""
    d = np.abs(f(right_shift(image, s)) - right_shift(f(image), s))
    return float(d[margin:-margin, margin:-margin].max())


def negative_margin_slice_with_default(f, image, s, margin):
    d = np.abs(f(right_shift(image, s)) - right_shift(f(image), s))
    return float(np.max(d[margin:-margin, margin:-margin], initial=0.0))


@pytest.mark.parametrize("wrong", [negative_margin_slice, negative_margin_slice_with_default])
def test_equivariance_error_whole_map_slice_fails_at_margin_0(wrong):
    message = assert_fails(lesson09.check_equivariance_error, wrong, hint="slice that ends at -0 ends at 0")
    assert "margin=0" in message


def test_equivariance_error_unusual_answers_pass():
    def by_mask(f, image, s, margin):  # a boolean mask instead of slicing
        d = np.abs(f(right_shift(image, s)) - right_shift(f(image), s))
        h, w = d.shape
        rows, cols = np.arange(h)[:, None], np.arange(w)[None, :]
        inside = (rows >= margin) & (rows < h - margin) & (cols >= margin) & (cols < w - margin)
        return float(d[inside].max())

    def trimmed_first(f, image, s, margin):  # trim both maps, then compare
        a, b = f(right_shift(image, s)), right_shift(f(image), s)
        h, w = a.shape
        return float(
            np.max(
                np.abs(
                    b[margin : h - margin, margin : w - margin] - a[margin : h - margin, margin : w - margin]
                )
            )
        )

    assert_passes(lesson09.check_equivariance_error, by_mask)
    assert_passes(lesson09.check_equivariance_error, trimmed_first)


# ------------------------------------------------------------------------------------------ 9.4, 9.5


@pytest.mark.parametrize("answer", ["b", "B", "(b)", "exactly the same", "Exactly the same"])
def test_global_pool_answer_forms_pass(answer):
    assert_passes(lesson09.check_global_pool, answer)


@pytest.mark.parametrize(
    "answer, hint",
    [
        ("a", "what the feature maps do before the pooling"),
        ("(c)", "commute with the shift"),
        (None, "not done yet"),
    ],
)
def test_global_pool_misconceptions(answer, hint):
    assert_fails(lesson09.check_global_pool, answer, hint=hint)


@pytest.mark.parametrize("answer", [3.44, 3.444, (1 - 0.907) / (1 - 0.973), 3.4444])
def test_error_ratio_right_answers_pass(answer):
    assert_passes(lesson09.check_error_ratio, answer)


@pytest.mark.parametrize(
    "answer, hint",
    [
        (0.973 / 0.907, "ratio of the accuracies (97.3 / 90.7)"),
        (0.907 / 0.973, "ratio of the accuracies (90.7 / 97.3)"),
        (6.6, "percentage points"),
        (0.027 / 0.093, "upside down"),
        (2.44, "minus one"),
        (3.4, "how many times B's share"),  # rounded too far: 3.44 is asked to two decimals
    ],
)
def test_error_ratio_misconceptions(answer, hint):
    assert_fails(lesson09.check_error_ratio, answer, hint=hint)
