"""Lesson 10 checks: the stub fails, the solution passes, plausible mistakes fail with the right hint."""

import math

import numpy as np
import pytest

from cnn_helpers.checks import lesson10

from ._tools import assert_fails


# ------------------------------------------------------------------------------------------ 10.1


def field_ignoring_strides(kernels, strides):
    return 1 + sum(k - 1 for k in kernels)


def field_own_stride(kernels, strides):
    field, jump = 1, 1
    for k, s in zip(kernels, strides):
        jump *= s
        field += (k - 1) * jump
    return field


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (field_ignoring_strides, "strides were ignored"),
        (lambda kernels, strides: sum(kernels), "kernel sizes were added up"),
        (field_own_stride, "own stride was applied"),
        (lambda kernels, strides: math.prod(kernels), "kernel sizes were multiplied"),
        (lambda kernels, strides: field_own_stride(kernels, [1] * len(kernels)) - 1, "starts at 1"),
        (lambda kernels, strides: 5, "wrong receptive field"),  # hard-coded: two 3x3 layers
    ],
)
def test_receptive_field_mistakes(wrong, hint):
    assert_fails(lesson10.check_receptive_field, wrong, hint=hint)


def test_receptive_field_reference_is_blocked():
    from cnn_helpers import receptive_field as fields

    def via_package(kernels, strides):
        return fields.receptive_field(list(zip(kernels, strides)))

    assert_fails(lesson10.check_receptive_field, via_package, hint="called cnn_helpers.receptive_field.receptive_field")
    assert fields.receptive_field([(3, 1), (3, 1)]) == 5


# ------------------------------------------------------------------------------------------ 10.2


def conv(c_in, c_out, k, bias=True):
    return c_in * c_out * k * k + (c_out if bias else 0)


def inception(c, b1, r3, b3, r5, b5, pp, bias=True, bottleneck=True, pool_conv=True, channels=None):
    total = conv(c, b1, 1, bias)
    if bottleneck:
        total += conv(c, r3, 1, bias) + conv(r3, b3, 3, bias) + conv(c, r5, 1, bias) + conv(r5, b5, 5, bias)
    else:
        total += conv(c, b3, 3, bias) + conv(c, b5, 5, bias)
    if pool_conv:
        total += conv(c, pp, 1, bias)
    out = b1 + b3 + b5 + pp if channels is None else channels(b1, r3, b3, r5, b5, pp)
    return total, out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda *w: inception(*w, bottleneck=False), "bottlenecks were left out"),
        (lambda *w: inception(*w, bias=False), "biases are missing"),
        (lambda *w: inception(*w, pool_conv=False), "pooling branch's 1x1 convolution"),
        (lambda *w: inception(*w, channels=lambda b1, r3, b3, r5, b5, pp: b1), "concatenated"),
        (lambda *w: inception(*w, channels=lambda b1, r3, b3, r5, b5, pp: b1 + r3 + b3 + r5 + b5 + pp),
         "bottleneck widths were counted as output channels"),
        (lambda *w: inception(*w, channels=lambda b1, r3, b3, r5, b5, pp: b1 + b3 + b5), "pooling branch's channels"),
        (lambda *w: inception(*w)[0], "expected shape (2,)"),  # only the count, not the pair
        (lambda *w: (163_696, 256), "wrong (num_params, out_channels)"),  # hard-coded inception (3a)
    ],
)
def test_inception_params_mistakes(wrong, hint):
    assert_fails(lesson10.check_inception_params, wrong, hint=hint)


def test_inception_params_reference_is_blocked():
    from cnn_helpers import blocks, receptive_field

    def via_package(c, b1, r3, b3, r5, b5, pp):
        return receptive_field.inception_params(c, b1, b3, b5, pp, b3_reduce=r3, b5_reduce=r5)

    assert_fails(lesson10.check_inception_params, via_package, hint="called cnn_helpers.receptive_field.inception_params")

    def via_block(c, b1, r3, b3, r5, b5, pp):
        block = blocks.InceptionBlock(c, b1, b3, b5, pp, b3_reduce=r3, b5_reduce=r5)
        return block.num_params, block.out_channels

    assert_fails(lesson10.check_inception_params, via_block, hint="called cnn_helpers.blocks.InceptionBlock")


# ------------------------------------------------------------------------------------------ 10.3


def counts(pred, target):
    pred, target = np.asarray(pred, bool), np.asarray(target, bool)
    return int(np.count_nonzero(pred & target)), int(np.count_nonzero(pred)), int(np.count_nonzero(target))


def safe(function):
    def wrapped(pred, target):
        inter, p, t = counts(pred, target)
        return 1.0 if p + t == 0 else function(inter, p, t)

    return wrapped


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (safe(lambda i, p, t: i / t), "divided by the target's area"),
        (safe(lambda i, p, t: i / p), "divided by the prediction's area"),
        (safe(lambda i, p, t: i / (p + t)), "counted the shared pixels twice"),
        (safe(lambda i, p, t: 2 * i / (p + t)), "dice coefficient"),
        (lambda pred, target: float(np.mean(np.asarray(pred) == np.asarray(target))), "pixel accuracy"),
        (lambda pred, target: counts(pred, target)[0] / (counts(pred, target)[1] + counts(pred, target)[2]
                                                        - counts(pred, target)[0]), "ZeroDivisionError"),
        (lambda pred, target: np.float64("nan") if not np.any(pred) and not np.any(target)
         else counts(pred, target)[0] / np.count_nonzero(np.asarray(pred) | np.asarray(target)), "got nan"),
        (lambda pred, target: 0.0 if not (np.any(pred) or np.any(target))
         else counts(pred, target)[0] / np.count_nonzero(np.asarray(pred) | np.asarray(target)), "two empty masks agree"),
        (lambda pred, target: 1 / 9, "wrong IoU"),  # hard-coded answer of the first case
    ],
)
def test_iou_mistakes(wrong, hint):
    assert_fails(lesson10.check_iou, wrong, hint=hint)


def test_iou_reference_is_blocked():
    from cnn_helpers import dense_prediction

    assert_fails(lesson10.check_iou, dense_prediction.iou, hint="package's own implementation")
    assert_fails(lesson10.check_iou, lambda p, t: dense_prediction.iou(p, t), hint="called cnn_helpers.dense_prediction.iou")
    assert dense_prediction.iou([1, 0], [1, 0]) == 1.0
