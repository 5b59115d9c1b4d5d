"""Checks for lesson 10, architectures and applications.

- 10.1 (question) the receptive field of a stack with a stride-2 first layer.
- 10.2 (question) the parameters of a ResNet-style 1x1 - 3x3 - 1x1 bottleneck.
- 10.3 (question, predict) where a deep plain stack's training loss ends.
- 10.4 a residual block's backward pass, given the convolution's forward and backward.
- 10.5 spatial batch normalisation, forward (training mode).
- 10.6 spatial batch normalisation, backward.
- 10.7 intersection over union of two masks.

The function checks run many seeded random cases and name a mistake only when it reproduces the
learner's answers on every case (at least two of the wrong ones), so a coincidence on one case never
names the wrong mistake.
"""

from __future__ import annotations

import numpy as np

from ._core import CheckFailure, call, compare, diagnose, exercise, passed, question

__all__ = [
    "check_receptive_field",
    "check_bottleneck_params",
    "check_plain_stack",
    "check_residual_backward",
    "check_batch_norm_forward",
    "check_batch_norm_backward",
    "check_iou",
    "CheckFailure",
]


# --------------------------------------------------------------------------------------------
# 10.1 - 10.3 questions

check_receptive_field = question(
    "10.1",
    "receptive field of a stack",
    expected=15,
    misconceptions={
        9: "the stride was ignored: after the stride-2 layer, each step of a later kernel spans 2 input pixels, "
        "so each later 3x3 layer adds (3 - 1) * 2 = 4, not 2",
        12: "the kernel sizes were added up; each layer adds (k - 1) * jump, starting from a field of 1",
        17: "the first layer's own stride was applied to its own kernel; the jump is the product of the strides "
        "of the layers *below* a layer, so the first layer adds (3 - 1) * 1",
        81: "the kernel sizes were multiplied; fields grow by adding (k - 1) * jump per layer",
        14: "off by one: the field starts at 1 (one pixel sees itself), then adds (k - 1) * jump per layer",
        11: "the jump was doubled only once too late: the three layers above the stride-2 layer each add (3 - 1) * 2",
    },
    hint="go up the stack with r = 1, j = 1; each layer does r += (k - 1) * j, then j *= s",
    explanation="r = 1 + 2·1 = 3 after the stride-2 layer (jump 2), then + 4 three times.",
)

check_bottleneck_params = question(
    "10.2",
    "parameters of a bottleneck",
    expected=70_016,
    misconceptions={
        69_632: "the biases are missing: each convolution has one per output channel (64 + 64 + 256)",
        45_440: "a 3x3 kernel has 3 * 3 = 9 weights per input channel and output channel, not 3",
        36_928: "only the 3x3 convolution was counted; the two 1x1 convolutions have weights too",
        590_080: "that is one 3x3 convolution from 256 to 256 channels, the layer the bottleneck replaces",
        33_088: "the two 1x1 convolutions alone: add the 3x3 convolution (64 * 64 * 9 + 64)",
        70_144: "a bias per *input* channel was counted; a convolution has one bias per output channel",
    },
    hint="count each convolution as C_in * C_out * k * k + C_out and add the three",
    explanation="256·64 + 64 = 16,448; 64·64·9 + 64 = 36,928; 64·256 + 256 = 16,640.",
)

check_plain_stack = question(
    "10.3",
    "predict: a deep plain stack",
    expected="a",
    choices=[
        "it stays at about 2.30 = log 10 (10 % accuracy): the plain stack does not learn",
        "it ends below the residual stack's loss: without shortcuts every layer is free to fit",
        "it ends about where the residual stack's loss ends: the two stacks can represent the same functions",
    ],
    misconceptions={
        "b": "a plain stack could fit at least as well in principle, but it has to be *trained*; through 41 "
        "convolutions at full size the gradient reaching the first layers is tiny (see the next figure)",
        "c": "the two stacks can represent the same functions, but they do not train alike: the shortcut hands "
        "every block's gradient straight down, the plain stack multiplies it by 40 Jacobians",
    },
    hint="think about the gradient that reaches the first convolution of a 41-layer chain",
    explanation="The next cells measure it: the gradient vanishes through the plain stack.",
)


# --------------------------------------------------------------------------------------------
# Functions whose answer is a tuple of arrays (10.4, 10.6)


def _explains(values, received, index, wrong):
    """Does a mistake's output ``index`` give the learner's answer on every case, on >= 2 wrong ones?"""
    explained = 0
    for case, (value, answer) in enumerate(zip(values, received, strict=True)):
        if value is None:
            continue
        mine = np.asarray(value[index], dtype=float)
        theirs = np.asarray(answer[index], dtype=float)
        if mine.shape != theirs.shape or not np.allclose(mine, theirs, rtol=1e-6, atol=1e-8):
            return False
        explained += case in wrong
    return explained >= min(2, len(wrong))


def _mistake_outputs(function, args, kwargs):
    try:
        return function(*args, **kwargs)
    except (ArithmeticError, ValueError, TypeError, IndexError):
        return None


def _check_tuple(exercise_id, learner, reference, cases, mistakes, names):
    """Run ``learner`` on every case; compare each returned array, naming the mistake that explains them.

    ``cases`` are ``(description, args, kwargs)``; ``mistakes`` maps a name to ``(function, hint)``,
    each function returning the whole tuple that mistake returns.
    """
    expected, received = [], []
    for description, args, kwargs in cases:
        expected.append(reference(*args, **kwargs))
        answer = call(
            exercise_id,
            learner,
            *[np.copy(a) if isinstance(a, np.ndarray) else a for a in args],
            case=description,
            **kwargs,
        )
        if not isinstance(answer, (tuple, list)) or len(answer) != len(names):
            raise CheckFailure(
                f"Exercise {exercise_id}: on {description}, return the tuple ({', '.join(names)}), "
                f"got {type(answer).__name__}"
                + (f" of length {len(answer)}" if isinstance(answer, (tuple, list)) else "")
            )
        for name, want, got in zip(names, expected[-1], answer, strict=True):
            got_shape = np.shape(got)
            if got_shape != np.shape(want):
                extra = ""
                if name.startswith(("dgamma", "dbeta", "db")) and len(got_shape) > 1:
                    extra = " Sum over every axis except the channel axis: over N, H and W."
                raise CheckFailure(
                    f"Exercise {exercise_id}: on {description}, {name} must have shape {np.shape(want)}, "
                    f"got {got_shape}.{extra}"
                )
        received.append(answer)
    for index, name in enumerate(names):
        wrong = [
            c
            for c, (e, r) in enumerate(zip(expected, received, strict=True))
            if not np.allclose(np.asarray(r[index], dtype=float), e[index], rtol=1e-6, atol=1e-8)
        ]
        if not wrong:
            continue
        hint = None
        for function, text in mistakes.values():
            values = [_mistake_outputs(function, args, kwargs) for _, args, kwargs in cases]
            if _explains(values, received, index, wrong):
                hint = text
                break
        first = wrong[0]
        try:
            compare(exercise_id, expected[first][index], received[first][index], cases[first][0], name=name)
        except CheckFailure as failure:
            head, _, rest = str(failure).partition("\n")
            message = f"{head[:-1]} (wrong on {len(wrong)} of {len(cases)} cases).\n{rest}"
        if hint:
            message += f"\n  Likely mistake: {hint}"
        raise CheckFailure(message)


# --------------------------------------------------------------------------------------------
# 10.4 residual block backward


def _conv():
    from .. import conv

    return conv


def _residual_parts(dout, x, w1, b1, w2, b2):
    conv = _conv()
    p1, p2 = w1.shape[2] // 2, w2.shape[2] // 2
    h = conv.conv2d(x, w1, b1, padding=p1)
    a = np.maximum(h, 0)
    f = conv.conv2d(a, w2, b2, padding=p2)
    return conv, p1, p2, h, a, f


def _residual_variant(dout, x, w1, b1, w2, b2, *, shortcut="dz", outer="z", inner=True):
    conv, p1, p2, h, a, f = _residual_parts(dout, x, w1, b1, w2, b2)
    mask = {"z": x + f > 0, "f": f > 0, "none": np.ones_like(f, dtype=bool)}[outer]
    dz = dout * mask
    da, dw2, db2 = conv.conv2d_backward(dz, a, w2, b2, padding=p2)
    dh = da * (h > 0) if inner else da
    dx, dw1, db1 = conv.conv2d_backward(dh, x, w1, b1, padding=p1)
    extra = {"dz": dz, "none": 0, "dout": dout}[shortcut]
    return dx + extra, dw1, db1, dw2, db2


def _residual_mistakes():
    def variant(**options):
        return lambda dout, x, w1, b1, w2, b2: _residual_variant(dout, x, w1, b1, w2, b2, **options)

    return {
        "no shortcut gradient": (
            variant(shortcut="none"),
            "the shortcut's gradient is missing from dx: the addition x + F(x) sends dz down "
            "both paths, so dx = dz + (the branch's dx)",
        ),
        "shortcut skips the final ReLU": (
            variant(shortcut="dout"),
            "the shortcut's gradient must pass the final ReLU too: add dz = dout * (z > 0), not dout",
        ),
        "no final ReLU mask": (
            variant(outer="none", shortcut="dout"),
            "the final ReLU is missing from the backward pass: dz = dout * (z > 0), with z = x + F(x)",
        ),
        "final mask from F(x)": (
            variant(outer="f"),
            "the final ReLU's mask was taken from F(x); it acts on the sum z = x + F(x), so "
            "the mask is z > 0",
        ),
        "order swapped": (
            lambda *args: (lambda g: (g[0], g[3], g[4], g[1], g[2]))(_residual_variant(*args)),
            "the gradients are in the wrong order: return them in the order of the arguments, "
            "(dx, dw1, db1, dw2, db2)",
        ),
        "no inner ReLU mask": (
            variant(inner=False),
            "the ReLU between the two convolutions is missing: multiply the gradient reaching "
            "it by (h > 0), h = conv(x, w1, b1)",
        ),
    }


def _residual_cases():
    rng = np.random.default_rng(1004)
    cases = []
    for n, c, size, k in [
        (1, 1, 4, 3),
        (2, 2, 5, 3),
        (2, 3, 6, 3),
        (1, 2, 5, 1),
        (3, 2, 4, 5),
        (2, 1, 7, 3),
        (1, 3, 3, 3),
        (2, 2, 6, 5),
    ]:
        x = rng.standard_normal((n, c, size, size))
        w1 = rng.standard_normal((c, c, k, k)) / k
        w2 = rng.standard_normal((c, c, k, k)) / k
        b1, b2 = rng.standard_normal(c) * 0.5, rng.standard_normal(c) * 0.5
        dout = rng.standard_normal(x.shape)
        cases.append((f"x of shape {x.shape}, {k}x{k} kernels", (dout, x, w1, b1, w2, b2), {}))
    return cases


@exercise(
    "10.4",
    "backward pass of a residual block",
    allowed=("conv2d", "conv2d_backward", "pad2d"),
    reference="cnn_helpers.blocks.residual_block_backward",
    mistakes=_residual_mistakes,
)
def check_residual_backward(residual_block_backward):
    """``residual_block_backward(dout, x, w1, b1, w2, b2) -> (dx, dw1, db1, dw2, db2)``."""
    cases = _residual_cases()
    _check_tuple(
        "10.4",
        residual_block_backward,
        _residual_variant,
        cases,
        _residual_mistakes(),
        ("dx", "dw1", "db1", "dw2", "db2"),
    )
    passed("10.4", f"all five gradients of the residual block are right on {len(cases)} blocks")


# --------------------------------------------------------------------------------------------
# 10.5 batch normalisation forward


def _bn_forward(x, gamma, beta, eps=1e-5, *, axes=(0, 2, 3), ddof=0, eps_outside=False, swap=False):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    xhat = (x - mean) / (np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps))
    g, b = (beta, gamma) if swap else (gamma, beta)
    return g[None, :, None, None] * xhat + b[None, :, None, None]


def _bn_forward_mistakes():
    def variant(**options):
        return lambda x, gamma, beta, eps=1e-5: _bn_forward(x, gamma, beta, eps, **options)

    return {
        "whole batch": (
            variant(axes=None),
            "one mean and variance for the whole batch: batch normalisation normalises each channel "
            "separately, over N, H and W (axis=(0, 2, 3))",
        ),
        "batch axis only": (
            variant(axes=0),
            "the statistics were taken over the batch axis only (one per pixel, as for a Dense "
            "layer); spatial batch normalisation shares them across H and W: axis=(0, 2, 3)",
        ),
        "per example": (
            variant(axes=(1, 2, 3)),
            "each example was normalised over its own values (that is layer normalisation); batch "
            "normalisation uses each channel's statistics over the batch, axis=(0, 2, 3)",
        ),
        "unbiased variance": (
            variant(ddof=1),
            "the unbiased variance (ddof=1) was used; the normalisation uses the batch's own "
            "variance, the mean of (x - mean) ** 2",
        ),
        "eps outside the root": (
            variant(eps_outside=True),
            "eps was added to the standard deviation; it goes inside the root, sqrt(var + eps)",
        ),
        "gamma and beta swapped": (
            variant(swap=True),
            "gamma and beta were swapped: out = gamma * xhat + beta (gamma scales, beta shifts)",
        ),
    }


def _bn_cases(seed):
    rng = np.random.default_rng(seed)
    cases = []
    for n, c, h, w, eps in [
        (2, 1, 2, 2, 1e-5),
        (4, 3, 3, 3, 1e-5),
        (3, 2, 4, 5, 0.5),
        (5, 4, 2, 3, 1e-5),
        (2, 3, 1, 1, 0.1),
        (1, 2, 4, 4, 1e-5),
        (6, 2, 3, 2, 2.0),
        (3, 5, 2, 2, 1e-5),
    ]:
        scale = rng.uniform(0.2, 4.0, size=c)[None, :, None, None]
        offset = rng.uniform(-3, 3, size=c)[None, :, None, None]
        x = rng.standard_normal((n, c, h, w)) * scale + offset
        gamma, beta = rng.uniform(0.5, 2.0, size=c), rng.uniform(-1.0, 1.0, size=c)
        cases.append((f"x of shape {x.shape}, eps={eps}", (x, gamma, beta), {"eps": eps}))
    return cases


@exercise(
    "10.5",
    "batch normalisation, forward",
    reference="cnn_helpers.layers.batch_norm2d",
    mistakes=_bn_forward_mistakes,
)
def check_batch_norm_forward(batch_norm_forward):
    """``batch_norm_forward(x, gamma, beta, eps=1e-5)``: spatial batch normalisation in training mode."""
    cases = _bn_cases(1005)
    diagnose(
        "10.5",
        batch_norm_forward,
        _bn_forward,
        cases,
        _bn_forward_mistakes(),
        name="output",
        rtol=1e-7,
        atol=1e-9,
    )
    passed("10.5", f"batch normalisation is right on {len(cases)} batches, with several eps")


# --------------------------------------------------------------------------------------------
# 10.6 batch normalisation backward


def _bn_backward(
    dout, x, gamma, beta, eps=1e-5, *, mean_term=True, var_term=True, use_gamma=True, dgamma_plain=False
):
    axes = (0, 2, 3)
    mean = x.mean(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    xhat = (x - mean) * inv_std
    g = dout * gamma[None, :, None, None] if use_gamma else dout
    dx = g
    if mean_term:
        dx = dx - g.mean(axis=axes, keepdims=True)
    if var_term:
        dx = dx - xhat * (g * xhat).mean(axis=axes, keepdims=True)
    dgamma = dout.sum(axis=axes) if dgamma_plain else (dout * xhat).sum(axis=axes)
    return dx * inv_std, dgamma, dout.sum(axis=axes)


def _bn_backward_mistakes():
    def variant(**options):
        return lambda dout, x, gamma, beta, eps=1e-5: _bn_backward(dout, x, gamma, beta, eps, **options)

    return {
        "constant statistics": (
            variant(mean_term=False, var_term=False),
            "the mean and the variance were treated as constants (dx = dout * gamma / std); "
            "both depend on every input of the channel, which adds two terms",
        ),
        "no variance term": (
            variant(var_term=False),
            "the path through the variance is missing: subtract xhat * mean(g * xhat) too, g = dout * gamma",
        ),
        "no mean term": (
            variant(mean_term=False),
            "the path through the mean is missing: subtract mean(g) too, g = dout * gamma",
        ),
        "no gamma in dx": (
            variant(use_gamma=False),
            "gamma is missing from dx: the gradient reaching xhat is dout * gamma",
        ),
        "dgamma without xhat": (
            variant(dgamma_plain=True),
            "dgamma summed dout; out = gamma * xhat + beta, so dgamma = sum(dout * xhat)",
        ),
    }


@exercise(
    "10.6",
    "batch normalisation, backward",
    reference="cnn_helpers.layers.batch_norm2d_backward",
    mistakes=_bn_backward_mistakes,
)
def check_batch_norm_backward(batch_norm_backward):
    """``batch_norm_backward(dout, x, gamma, beta, eps=1e-5) -> (dx, dgamma, dbeta)``."""
    rng = np.random.default_rng(1006)
    cases = [
        (description, (rng.standard_normal(args[0].shape) * rng.uniform(0.5, 2), *args), kwargs)
        for description, args, kwargs in _bn_cases(1016)
    ]
    _check_tuple(
        "10.6", batch_norm_backward, _bn_backward, cases, _bn_backward_mistakes(), ("dx", "dgamma", "dbeta")
    )
    passed("10.6", f"dx, dgamma and dbeta are right on {len(cases)} batches")


# --------------------------------------------------------------------------------------------
# 10.7 IoU of masks


def _iou(pred, target):
    pred, target = np.asarray(pred, bool), np.asarray(target, bool)
    union = np.count_nonzero(pred | target)
    return 1.0 if union == 0 else np.count_nonzero(pred & target) / union


def _counts(pred, target):
    pred, target = np.asarray(pred, bool), np.asarray(target, bool)
    return np.count_nonzero(pred & target), np.count_nonzero(pred), np.count_nonzero(target)


def _ratio(top, bottom):
    if bottom == 0:
        raise ZeroDivisionError("empty")
    return top / bottom


def _iou_mistakes():
    return {
        "target area": (
            lambda p, t: _ratio(_counts(p, t)[0], _counts(p, t)[2]),
            "divided by the target's area: IoU divides by the union (pixels in either mask)",
        ),
        "prediction area": (
            lambda p, t: _ratio(_counts(p, t)[0], _counts(p, t)[1]),
            "divided by the prediction's area: IoU divides by the union (pixels in either mask)",
        ),
        "union counted twice": (
            lambda p, t: _ratio(_counts(p, t)[0], _counts(p, t)[1] + _counts(p, t)[2]),
            "the union counted the shared pixels twice (|A| + |B|); subtract the intersection once",
        ),
        "dice": (
            lambda p, t: _ratio(2 * _counts(p, t)[0], _counts(p, t)[1] + _counts(p, t)[2]),
            "that is the Dice coefficient 2|A and B| / (|A| + |B|), not IoU",
        ),
        "pixel accuracy": (
            lambda p, t: float(np.mean(np.asarray(p, bool) == np.asarray(t, bool))),
            "that is pixel accuracy (fraction of pixels that agree); IoU ignores pixels outside both masks",
        ),
    }


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
        cases.append(
            (
                f"random masks of shape {shape}",
                rng.random(shape) < rng.uniform(0.2, 0.8),
                rng.random(shape) < rng.uniform(0.2, 0.8),
            )
        )
    return [(description, (p, t)) for description, p, t in cases]


@exercise(
    "10.7",
    "intersection over union of two masks",
    reference="cnn_helpers.dense_prediction.iou",
    mistakes=_iou_mistakes,
)
def check_iou(iou):
    """``iou(pred, target)`` for boolean masks of the same shape; 1.0 when both are empty."""
    cases = _mask_cases()
    diagnose("10.7", iou, _iou, cases, _iou_mistakes(), name="IoU")
    empty = np.zeros((3, 3), bool)
    case = "two empty masks (define IoU as 1.0 when the union is empty: the masks agree)"
    received = call("10.7", iou, empty, empty.copy(), case=case)
    if isinstance(received, (float, np.floating)) and np.isnan(received):
        raise CheckFailure(f"Exercise 10.7: on {case}, got nan (0 / 0). Return 1.0 when the union is empty.")
    if received != 1.0:
        hint = (
            "\n  Likely mistake: two empty masks agree perfectly: return 1.0 when the union is empty"
            if received == 0
            else ""
        )
        raise CheckFailure(f"Exercise 10.7: wrong IoU on {case}: expected 1.0, got {received}.{hint}")
    passed("10.7", f"IoU is right on {len(cases) + 1} pairs of masks, two empty ones included")
