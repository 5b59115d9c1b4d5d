"""Lesson 10 checks: plausible mistakes fail with the right hint, unusual correct answers pass.

The registry test (``test_registry.py``) already proves for every exercise and question that the
stub fails, the solution passes, the declared reference is refused and every registered mistake is
named. Here: mistakes written as a learner would write them, unusual correct answers, hard-coded
answers, and the reference guard for the helpers 10.4 may and may not use.
"""

import numpy as np
import pytest

from cnn_helpers.checks import lesson10

from ._tools import assert_fails, assert_passes, load_exercise

# ------------------------------------------------------------------------------------------ questions


@pytest.mark.parametrize(
    "answer, hint",
    [
        (9, "stride was ignored"),
        (12, "kernel sizes were added"),
        (17, "own stride"),
        (14, "off by one"),
        (16, "r = 1, j = 1"),
    ],
)
def test_receptive_field_question(answer, hint):
    assert_fails(lesson10.check_receptive_field, answer, hint=hint)
    assert_passes(lesson10.check_receptive_field, 15)


@pytest.mark.parametrize(
    "answer, hint",
    [
        (69_632, "biases are missing"),
        (45_440, "3 * 3 = 9 weights"),
        (590_080, "the layer the bottleneck replaces"),
        (70_000, "C_in * C_out * k * k + C_out"),
        (70016.5, "whole number"),
    ],
)
def test_bottleneck_question(answer, hint):
    assert_fails(lesson10.check_bottleneck_params, answer, hint=hint)
    assert_passes(lesson10.check_bottleneck_params, 70016)


def test_bottleneck_answer_matches_the_layers():
    from cnn_helpers.layers import Conv2D

    assert sum(Conv2D(a, b, k).num_params for a, b, k in ((256, 64, 1), (64, 64, 3), (64, 256, 1))) == 70_016


def test_plain_stack_question():
    assert_passes(lesson10.check_plain_stack, "(A)")
    assert_fails(lesson10.check_plain_stack, "b", hint="it has to be *trained*")
    assert_fails(lesson10.check_plain_stack, "c", hint="they do not train alike")


# ------------------------------------------------------------------------------------------ 10.4


def _conv():
    from cnn_helpers.conv import conv2d, conv2d_backward

    return conv2d, conv2d_backward


def _learner_residual(*, shortcut="dz", outer="z", inner=True, swap=False):
    """A learner's residual backward written from scratch, with one switchable slip."""

    def backward(dout, x, w1, b1, w2, b2):
        conv2d, conv2d_backward = _conv()
        p = w1.shape[2] // 2
        h = conv2d(x, w1, b1, padding=p)
        a = np.maximum(h, 0)
        f = conv2d(a, w2, b2, padding=p)
        z = x + f
        mask = {"z": z > 0, "f": f > 0, "none": True, "out": np.maximum(z, 0) > 0}[outer]
        dz = dout * mask
        da, dw2, db2 = conv2d_backward(dz, a, w2, b2, padding=p)
        dx, dw1, db1 = conv2d_backward(da * (h > 0) if inner else da, x, w1, b1, padding=p)
        dx = dx + {"dz": dz, "none": 0, "dout": dout}[shortcut]
        return (dx, dw1, db1, dw2, db2) if not swap else (dx, dw2, db2, dw1, db1)

    return backward


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_learner_residual(shortcut="none"), "the shortcut's gradient is missing"),
        (_learner_residual(shortcut="dout"), "must pass the final ReLU too"),
        (_learner_residual(outer="none", shortcut="dout"), "final ReLU is missing"),
        (_learner_residual(outer="f"), "mask was taken from F(x)"),
        (_learner_residual(inner=False), "ReLU between the two convolutions is missing"),
        (_learner_residual(swap=True), "in the order of the arguments"),
        (lambda dout, x, w1, b1, w2, b2: dout, "return the tuple (dx, dw1, db1, dw2, db2)"),
    ],
)
def test_residual_backward_mistakes(wrong, hint):
    assert_fails(lesson10.check_residual_backward, wrong, hint=hint)


def test_residual_backward_unusual_answers_pass():
    # the mask read off the block's output (relu(z) > 0 is z > 0), the gradients in another order of work
    assert_passes(lesson10.check_residual_backward, _learner_residual(outer="out"))

    def with_loops_for_the_bias(dout, x, w1, b1, w2, b2):
        conv2d, conv2d_backward = _conv()
        p = w1.shape[2] // 2
        h = conv2d(x, w1, b1, padding=p)
        z = x + conv2d(np.maximum(h, 0), w2, b2, padding=p)
        dz = np.where(z > 0, dout, 0.0)
        da, dw2, _ = conv2d_backward(dz, np.maximum(h, 0), w2, b2, padding=p)
        dh = np.where(h > 0, da, 0.0)
        dx, dw1, _ = conv2d_backward(dh, x, w1, b1, padding=p)
        db1 = np.array([dh[:, c].sum() for c in range(len(b1))])
        db2 = np.array([dz[:, c].sum() for c in range(len(b2))])
        return [dz + dx, dw1, db1, dw2, db2]  # a list instead of a tuple

    assert_passes(lesson10.check_residual_backward, with_loops_for_the_bias)


def test_residual_backward_may_not_use_the_block():
    import cnn_helpers.blocks  # noqa: F401  (imported by the lesson before any check runs)

    def via_layer(dout, x, w1, b1, w2, b2):
        from cnn_helpers.blocks import ResidualBlock

        block = ResidualBlock(x.shape[1], kernel_size=w1.shape[2], dtype=np.float64)
        return block

    assert_fails(lesson10.check_residual_backward, via_layer, hint="called cnn_helpers.blocks.ResidualBlock")


# ------------------------------------------------------------------------------------------ 10.5


def _learner_bn(axes=(0, 2, 3), ddof=0, eps_outside=False, swap=False):
    def forward(x, gamma, beta, eps=1e-5):
        mean = x.mean(axis=axes, keepdims=True)
        std = x.std(axis=axes, keepdims=True, ddof=ddof)
        xhat = (x - mean) / (std + eps if eps_outside else np.sqrt(std**2 + eps))
        g, b = (beta, gamma) if swap else (gamma, beta)
        return g.reshape(1, -1, 1, 1) * xhat + b.reshape(1, -1, 1, 1)

    return forward


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_learner_bn(axes=None), "one mean and variance for the whole batch"),
        (_learner_bn(axes=0), "over the batch axis only"),
        (_learner_bn(axes=(1, 2, 3)), "layer normalisation"),
        (_learner_bn(ddof=1), "unbiased variance"),
        (_learner_bn(eps_outside=True), "eps was added to the standard deviation"),
        (_learner_bn(swap=True), "gamma and beta were swapped"),
        (lambda x, gamma, beta, eps=1e-5: (x - x.mean()) / x.std(), "wrong output"),
    ],
)
def test_batch_norm_forward_mistakes(wrong, hint):
    assert_fails(lesson10.check_batch_norm_forward, wrong, hint=hint)


def test_batch_norm_forward_unusual_answers_pass():
    def by_channel_loop(x, gamma, beta, eps=1e-5):
        out = np.empty_like(x)
        for c in range(x.shape[1]):
            values = x[:, c]
            out[:, c] = (
                gamma[c] * (values - values.mean()) / np.sqrt(((values - values.mean()) ** 2).mean() + eps)
                + beta[c]
            )
        return out

    def by_transpose(x, gamma, beta, eps=1e-5):
        columns = x.transpose(1, 0, 2, 3).reshape(x.shape[1], -1)
        normal = (columns - columns.mean(axis=1, keepdims=True)) / np.sqrt(
            columns.var(axis=1, keepdims=True) + eps
        )
        out = gamma[:, None] * normal + beta[:, None]
        return out.reshape(x.shape[1], x.shape[0], *x.shape[2:]).transpose(1, 0, 2, 3)

    assert_passes(lesson10.check_batch_norm_forward, by_channel_loop)
    assert_passes(lesson10.check_batch_norm_forward, by_transpose)


# ------------------------------------------------------------------------------------------ 10.6


def _learner_bn_backward(mean_term=True, var_term=True, use_gamma=True, dgamma_plain=False, keep_axes=False):
    def backward(dout, x, gamma, beta, eps=1e-5):
        axes = (0, 2, 3)
        m = x.size // x.shape[1]
        mu = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        xhat = (x - mu) / np.sqrt(var + eps)
        dxhat = dout * gamma[None, :, None, None] if use_gamma else dout
        terms = m * dxhat
        if mean_term:
            terms = terms - dxhat.sum(axis=axes, keepdims=True)
        if var_term:
            terms = terms - xhat * (dxhat * xhat).sum(axis=axes, keepdims=True)
        dx = terms / (m * np.sqrt(var + eps))
        dgamma = dout.sum(axis=axes) if dgamma_plain else (dout * xhat).sum(axis=axes)
        if keep_axes:
            dgamma = (dout * xhat).sum(axis=0)
        return dx, dgamma, dout.sum(axis=axes)

    return backward


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_learner_bn_backward(mean_term=False, var_term=False), "treated as constants"),
        (_learner_bn_backward(var_term=False), "path through the variance is missing"),
        (_learner_bn_backward(mean_term=False), "path through the mean is missing"),
        (_learner_bn_backward(use_gamma=False), "gamma is missing from dx"),
        (_learner_bn_backward(dgamma_plain=True), "dgamma = sum(dout * xhat)"),
        (_learner_bn_backward(keep_axes=True), "sum over every axis except the channel axis"),
    ],
)
def test_batch_norm_backward_mistakes(wrong, hint):
    assert_fails(lesson10.check_batch_norm_backward, wrong, hint=hint)


def test_batch_norm_backward_unusual_answers_pass():
    """The compact three-term formula (the notebook's solution goes step by step)."""
    assert_passes(lesson10.check_batch_norm_backward, _learner_bn_backward())


def test_batch_norm_backward_matches_numerical_gradients():
    """The check's reference is the exact gradient: central differences of the solution's forward agree."""
    from tests._oracles import numerical_gradient

    forward = load_exercise("10", "10.5", "batch_norm_forward")
    backward = load_exercise("10", "10.6", "batch_norm_backward")
    rng = np.random.default_rng(0)
    x, gamma, beta = rng.standard_normal((3, 2, 2, 3)), rng.standard_normal(2), rng.standard_normal(2)
    dout = rng.standard_normal(x.shape)
    dx, dgamma, dbeta = backward(dout, x, gamma, beta)
    for array, grad in ((x, dx), (gamma, dgamma), (beta, dbeta)):
        np.testing.assert_allclose(
            grad,
            numerical_gradient(lambda: float(np.sum(forward(x, gamma, beta) * dout)), array),
            rtol=1e-5,
            atol=1e-7,
        )


# ------------------------------------------------------------------------------------------ 10.7


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
        (
            lambda pred, target: (
                counts(pred, target)[0]
                / (counts(pred, target)[1] + counts(pred, target)[2] - counts(pred, target)[0])
            ),
            "ZeroDivisionError",
        ),
        (
            lambda pred, target: (
                np.float64("nan")
                if not np.any(pred) and not np.any(target)
                else counts(pred, target)[0] / np.count_nonzero(np.asarray(pred) | np.asarray(target))
            ),
            "got nan",
        ),
        (
            lambda pred, target: (
                0.0
                if not (np.any(pred) or np.any(target))
                else counts(pred, target)[0] / np.count_nonzero(np.asarray(pred) | np.asarray(target))
            ),
            "two empty masks agree",
        ),
        (lambda pred, target: 1 / 9, "wrong IoU"),  # hard-coded answer of the first case
    ],
)
def test_iou_mistakes(wrong, hint):
    assert_fails(lesson10.check_iou, wrong, hint=hint)


def test_iou_unusual_answers_pass():
    def by_sums(pred, target):
        pred, target = np.asarray(pred, bool), np.asarray(target, bool)
        inter = np.logical_and(pred, target).sum()
        union = pred.sum() + target.sum() - inter
        return 1.0 if union == 0 else float(inter / union)

    def by_sets(pred, target):
        a = set(zip(*np.nonzero(pred), strict=True))
        b = set(zip(*np.nonzero(target), strict=True))
        return len(a & b) / len(a | b) if a | b else 1

    assert_passes(lesson10.check_iou, by_sums)
    assert_passes(lesson10.check_iou, by_sets)


def test_iou_reference_is_blocked():
    from cnn_helpers import dense_prediction

    assert_fails(lesson10.check_iou, dense_prediction.iou, hint="package's own implementation")
    assert_fails(
        lesson10.check_iou,
        lambda p, t: dense_prediction.iou(p, t),
        hint="called cnn_helpers.dense_prediction.iou",
    )
    assert dense_prediction.iou([1, 0], [1, 0]) == 1.0
