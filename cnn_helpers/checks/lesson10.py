"""Checks for lesson 10, architectures and applications.

- 10.1 receptive fields of stacks from VGG-like designs and many random ones, with strides, so
  that ignoring strides or using the wrong stride at each step shows.
- 10.2 Inception parameter counts and output channels, GoogLeNet's first module included.
- 10.3 intersection over union on hand-made masks, the course's synthetic shapes and random
  masks, including two empty masks.
"""

from __future__ import annotations

import numpy as np

from ._core import CheckFailure, call, compare, compare_number, exercise, passed

__all__ = ["check_receptive_field", "check_inception_params", "check_iou", "CheckFailure"]


# --------------------------------------------------------------------------------------------
# 10.1


def _field(kernels, strides, own_stride=False):
    field, jump = 1, 1
    for k, s in zip(kernels, strides):
        if own_stride:
            jump *= s  # the slip: this layer's stride applied to its own kernel
        field += (k - 1) * jump
        if not own_stride:
            jump *= s
    return field


@exercise("10.1", "receptive field of a stack")
def check_receptive_field(receptive_field):
    """``receptive_field(kernel_sizes, strides)``: input pixels seen by one output pixel."""
    cases = [
        ([3], [1]), ([3, 3], [1, 1]), ([3, 3, 3], [1, 1, 1]), ([5], [1]), ([1, 1], [1, 1]),
        ([3, 3, 2], [1, 1, 2]), ([3, 3, 2, 3, 3, 2], [1, 1, 2, 1, 1, 2]), ([3, 2, 3, 2], [1, 2, 1, 2]),
        ([7, 3, 3], [2, 2, 1]), ([11, 3, 5], [4, 2, 1]),
    ]
    rng = np.random.default_rng(1001)
    for _ in range(30):
        depth = int(rng.integers(1, 7))
        cases.append(([int(k) for k in rng.choice([1, 2, 3, 5, 7], size=depth)],
                      [int(s) for s in rng.choice([1, 1, 2, 3], size=depth)]))
    for kernels, strides in cases:
        case = f"kernel_sizes={kernels}, strides={strides}"
        expected = _field(kernels, strides)
        received = call("10.1", receptive_field, list(kernels), list(strides), case=case)
        mistakes = [
            ("the strides were ignored: after a stride-s layer, each later kernel step spans s times as many "
             "input pixels",
             _field(kernels, [1] * len(kernels))),
            ("the kernel sizes were added up; each layer adds (k - 1) times the jump, not k",
             sum(kernels)),
            ("a layer's own stride was applied to its own kernel; the jump is the product of the strides *before* it",
             _field(kernels, strides, own_stride=True)),
            ("the kernel sizes were multiplied; fields grow by adding (k - 1) * jump", int(np.prod(kernels))),
            ("the field starts at 1 (one pixel sees itself), then adds (k - 1) * jump per layer", expected - 1),
        ]
        compare_number("10.1", expected, received, case, mistakes, name="receptive field")
    passed("10.1", f"receptive fields are right on {len(cases)} stacks")


# --------------------------------------------------------------------------------------------
# 10.2


def _conv(c_in, c_out, k, bias=True, k_area=None):
    area = k * k if k_area is None else k_area
    return c_in * c_out * area + (c_out if bias else 0)


def _inception(c, b1, r3, b3, r5, b5, pp, bias=True, bottleneck=True, pool_conv=True, area=None):
    def a(k):
        return None if area is None else area(k)

    total = _conv(c, b1, 1, bias, a(1))
    if bottleneck:
        total += _conv(c, r3, 1, bias, a(1)) + _conv(r3, b3, 3, bias, a(3))
        total += _conv(c, r5, 1, bias, a(1)) + _conv(r5, b5, 5, bias, a(5))
    else:
        total += _conv(c, b3, 3, bias, a(3)) + _conv(c, b5, 5, bias, a(5))
    if pool_conv:
        total += _conv(c, pp, 1, bias, a(1))
    return total


@exercise("10.2", "parameters of an Inception block")
def check_inception_params(inception_params):
    """``inception_params(in_channels, b1, b3_reduce, b3, b5_reduce, b5, pool_proj)`` -> (params, channels)."""
    cases = [
        (192, 64, 96, 128, 16, 32, 32),   # GoogLeNet inception (3a)
        (256, 128, 128, 192, 32, 96, 64),  # GoogLeNet inception (3b)
        (4, 2, 2, 3, 1, 1, 2),
        (1, 1, 1, 1, 1, 1, 1),
    ]
    rng = np.random.default_rng(1002)
    for _ in range(30):
        cases.append(tuple(int(v) for v in rng.integers(1, 40, size=7)))
    for widths in cases:
        c, b1, r3, b3, r5, b5, pp = widths
        case = (f"in_channels={c}, b1={b1}, b3_reduce={r3}, b3={b3}, b5_reduce={r5}, b5={b5}, pool_proj={pp}")
        channels = b1 + b3 + b5 + pp
        expected = np.array([_inception(*widths), channels])
        received = call("10.2", inception_params, *widths, case=case)
        params = _inception(*widths)
        mistakes = [
            ("the 1x1 bottlenecks were left out: the 3x3 and 5x5 branches start with a 1x1 convolution "
             "from in_channels to b3_reduce / b5_reduce, and the big kernels see only those channels",
             [_inception(*widths, bottleneck=False), channels]),
            ("the biases are missing: every convolution has one per output channel",
             [_inception(*widths, bias=False), channels]),
            ("the pooling branch's 1x1 convolution (in_channels -> pool_proj) is missing",
             [_inception(*widths, pool_conv=False), channels]),
            ("a k x k kernel has k * k weights per input channel, not k",
             [_inception(*widths, area=lambda k: k), channels]),
            ("the branch outputs were added; they are concatenated, so their channel counts add up "
             "(b1 + b3 + b5 + pool_proj)", [params, b1]),
            ("the bottleneck widths were counted as output channels; only each branch's last convolution "
             "reaches the output", [params, channels + r3 + r5]),
            ("the pooling branch's channels are missing from the output", [params, b1 + b3 + b5]),
        ]
        compare("10.2", expected, received, case, mistakes, name="(num_params, out_channels)")
    passed("10.2", f"Inception counts are right on {len(cases)} blocks, GoogLeNet's (3a) and (3b) included")


# --------------------------------------------------------------------------------------------
# 10.3


def _iou(a, b):
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


def _mask_cases():
    a = np.zeros((4, 4), bool)
    a[:2, :2] = True
    b = np.zeros((4, 4), bool)
    b[1:4, 1:3] = True
    cases = [
        ("a 2x2 square and a 3x2 rectangle overlapping in one pixel", a, b),
        ("a mask and itself", a, a.copy()),
        ("two masks that do not touch", a, np.roll(a, 2, axis=(0, 1))),
        ("a mask inside a larger one", np.pad(np.ones((2, 2), bool), 1), np.ones((4, 4), bool)),
        ("a 1-D pair of masks", np.array([True, True, False, False]), np.array([False, True, True, False])),
    ]
    from ..data import make_shapes_dataset

    shapes = make_shapes_dataset(12, canvas_size=16, seed=1003)
    for i in range(0, 12, 2):
        description = f"two shapes from make_shapes_dataset (images {i} and {i + 1})"
        cases.append((description, shapes.masks[i], shapes.masks[i + 1]))
    rng = np.random.default_rng(1003)
    for _ in range(20):
        shape = tuple(int(v) for v in rng.integers(2, 10, size=int(rng.integers(2, 4))))
        cases.append((f"random masks of shape {shape}", rng.random(shape) < rng.uniform(0.2, 0.8),
                      rng.random(shape) < rng.uniform(0.2, 0.8)))
    return cases


@exercise("10.3", "intersection over union of two masks")
def check_iou(iou):
    """``iou(pred, target)`` for boolean masks of the same shape; 1.0 when both are empty."""
    cases = _mask_cases()
    for description, pred, target in cases:
        inter, p, t = np.count_nonzero(pred & target), np.count_nonzero(pred), np.count_nonzero(target)
        expected = _iou(pred, target)
        received = call("10.3", iou, pred.copy(), target.copy(), case=description)
        mistakes = [
            ("divided by the target's area: IoU divides by the union (pixels in either mask)",
             inter / t if t else None),
            ("divided by the prediction's area: IoU divides by the union (pixels in either mask)",
             inter / p if p else None),
            ("the union counted the shared pixels twice (|A| + |B|); subtract the intersection once",
             inter / (p + t) if p + t else None),
            ("that is the Dice coefficient 2|A and B| / (|A| + |B|), not IoU", 2 * inter / (p + t) if p + t else None),
            ("that is pixel accuracy (fraction of pixels that agree); IoU ignores pixels outside both masks",
             float(np.mean(pred == target))),
        ]
        compare_number("10.3", expected, received, f"{description}", mistakes, name="IoU")
    empty = np.zeros((3, 3), bool)
    case = "two empty masks (define IoU as 1.0 when the union is empty: the masks agree)"
    received = call("10.3", iou, empty, empty.copy(), case=case)
    if isinstance(received, (float, np.floating)) and np.isnan(received):
        raise CheckFailure(f"Exercise 10.3: on {case}, got nan (0 / 0). Return 1.0 when the union is empty.")
    mistakes = [("two empty masks agree perfectly: return 1.0 when the union is empty", 0.0)]
    compare_number("10.3", 1.0, received, case, mistakes, name="IoU")
    passed("10.3", f"IoU is right on {len(cases) + 1} pairs of masks, two empty ones included")
