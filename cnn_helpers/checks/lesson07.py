"""Checks for lesson 07, learning kernels: relative error, the backward passes of convolution, max,
sum and average pooling, a vectorised convolution, and three checked questions.

Every gradient is compared on its own (``dx``, ``dweight``, ``dbias``), so a failure says which
one is wrong, where it is worst and the expected and received values there. A mistake is named
only when it reproduces the learner's gradient on every case where it applies, on at least two of
the wrong cases (:func:`diagnose_gradients`, the gradient form of ``_core.diagnose``).
"""

from __future__ import annotations

import numpy as np

from cnn_helpers import conv, pooling

from ._core import (
    CheckFailure,
    call,
    check_lines_do_not_grow,
    diagnose,
    exercise,
    format_array,
    passed,
    question,
)

# --------------------------------------------------------------------------------------------
# Comparing gradients one by one, over every case


def _as_float_array(exercise_id, name, value, case):
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailure(
            f"Exercise {exercise_id}: on {case}, {name} must be a numeric array, got {type(value).__name__}"
        ) from None


def _close(expected, received, rtol=1e-6, atol=1e-8):
    expected, received = np.asarray(expected, dtype=float), np.asarray(received, dtype=float)
    return expected.shape == received.shape and np.allclose(received, expected, rtol=rtol, atol=atol)


def diagnose_gradients(exercise_id, runs, rtol=1e-6, atol=1e-8):
    """Compare the gradients of every case; on a wrong one, name the mistake that explains them all.

    Parameters
    ----------
    runs : list of (case, names, expected, received, mistakes)
        One entry per case: its description, the gradients' names (``("dx", "dweight",
        "dbias")``), the reference arrays, the learner's arrays (already unpacked) and, per name,
        the list of ``(description, what that mistake returns on this case)`` (None where the
        mistake does not apply or gives the right answer).

    Raises
    ------
    CheckFailure
        Naming every gradient of the first wrong case as right or wrong, then for the first wrong
        one its shape problem or its worst entry (index, expected, received), how many cases are
        wrong, and the likely mistake: one whose value equals the learner's gradient on every case
        where it applies, on at least two of the wrong cases (or the only one).
    """
    checked = []
    for case, names, expected, received, mistakes in runs:
        expected = [np.asarray(e, dtype=float) for e in expected]
        received = [_as_float_array(exercise_id, n, r, case) for n, r in zip(names, received, strict=True)]
        right = [_close(e, r, rtol, atol) for e, r in zip(expected, received, strict=True)]
        checked.append((case, names, expected, received, mistakes, right))
    wrong_runs = [k for k, run in enumerate(checked) if not all(run[5])]
    if not wrong_runs:
        return
    case, names, expected, received, mistakes, right = checked[wrong_runs[0]]
    position = right.index(False)
    name = names[position]
    wrong_here = [k for k in wrong_runs if not checked[k][5][position]]
    hint = None
    for description, _ in mistakes.get(name, ()):
        values = [dict(run[4].get(name, ())).get(description) for run in checked]
        applies = [k for k, v in enumerate(values) if v is not None]
        explained = [k for k in wrong_here if values[k] is not None]
        if len(explained) < min(2, len(wrong_here)):
            continue
        if all(_close(values[k], checked[k][3][position], rtol, atol) for k in applies):
            hint = description
            break
    status = ", ".join(f"{n} {'right' if ok else 'WRONG'}" for n, ok in zip(names, right, strict=True))
    count = f"wrong on {len(wrong_runs)} of {len(runs)} cases"
    lines = [f"Exercise {exercise_id}: wrong {name} on {case} ({count}).", f"  ({status})"]
    e, r = expected[position], received[position]
    if e.shape != r.shape:
        lines.append(f"  {name}: expected shape {e.shape}, got shape {r.shape}")
    else:
        error = np.abs(r - e)
        error = np.where(np.isnan(error), np.inf, error)
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), error.shape))
        bad = int(np.count_nonzero(~np.isclose(r, e, rtol=rtol, atol=atol)))
        lines.append(
            f"  worst entry of {name} at index {worst}: expected {e[worst]:.6g}, got "
            f"{r[worst]:.6g} ({bad} of {e.size} entries wrong, largest |error| {float(error.max()):.3g})"
        )
    lines.append(f"  expected {name}:\n{format_array(e)}")
    lines.append(f"  received {name}:\n{format_array(r)}")
    if hint:
        lines.append(f"  Likely mistake: {hint}")
    raise CheckFailure("\n".join(lines))


def _unpack(exercise_id, received, names, case):
    if not isinstance(received, (tuple, list)) or len(received) != len(names):
        got = (
            f"a {type(received).__name__} of length {len(received)}"
            if isinstance(received, (tuple, list))
            else type(received).__name__
        )
        raise CheckFailure(
            f"Exercise {exercise_id}: on {case}, return the tuple ({', '.join(names)}), got {got}"
        )
    return received


# --------------------------------------------------------------------------------------------
# 7.1 relative error


def _relative_error(analytic, numerical):
    from cnn_helpers import gradcheck

    return gradcheck.relative_error(analytic, numerical)


def _entrywise(analytic, numerical, denominator):
    a, n = np.asarray(analytic, dtype=float), np.asarray(numerical, dtype=float)
    scale = denominator(np.abs(a), np.abs(n))
    error = np.abs(a - n)
    # Where this mistake divides a non-zero error by 0 it gives inf, as the learner's code would.
    return np.where(scale > 0, error / np.where(scale > 0, scale, 1), np.where(error > 0, np.inf, 0.0))


def _relative_error_mistakes():
    """Known wrong ``relative_error(analytic, numerical)`` answers, for :func:`diagnose`."""

    def largest(denominator):
        def mistake(analytic, numerical):
            return float(_entrywise(analytic, numerical, denominator).max())

        return mistake

    def mean(analytic, numerical):
        return float(_entrywise(analytic, numerical, np.maximum).mean())

    def norms(analytic, numerical):
        a, n = np.asarray(analytic, dtype=float), np.asarray(numerical, dtype=float)
        scale = max(np.linalg.norm(a), np.linalg.norm(n))
        return 0.0 if scale == 0 else float(np.linalg.norm(a - n) / scale)

    return {
        "absolute error": (
            lambda a, n: float(np.max(np.abs(np.asarray(a, float) - np.asarray(n, float)))),
            "that is the absolute error |a - n|: divide each entry's error by the larger of "
            "|a| and |n|, so that the verdict does not depend on the gradient's scale",
        ),
        "sum of sizes": (
            largest(np.add),
            "you divided by |a| + |n|: a common variant, but the lesson's definition divides by "
            "the larger of the two, max(|a|, |n|) (twice your value when a and n almost agree)",
        ),
        "divided by the numerical": (
            largest(lambda a, n: n),
            "you divided by |n| only: divide by the larger of |a| and |n|, so that "
            "the two gradients are treated alike",
        ),
        "divided by the analytic": (
            largest(lambda a, n: a),
            "you divided by |a| only: divide by the larger of |a| and |n|, so that "
            "the two gradients are treated alike",
        ),
        "mean": (
            mean,
            "you averaged the entries' relative errors: take the largest, or one wrong entry "
            "among thousands of right ones hides in the mean",
        ),
        "norms": (
            norms,
            "you compared whole arrays by their norms: compare entry by entry and take the "
            "largest, or a wrong small entry hides next to large right ones",
        ),
    }


def _relative_error_cases():
    rng = np.random.default_rng(710)
    cases = [
        ("analytic [3, 0, 2], numerical [3, 0, 2.5]", (np.array([3.0, 0.0, 2.0]), np.array([3.0, 0.0, 2.5]))),
        ("two equal gradients", (np.array([[1.5, -2.0], [0.25, 4.0]]),) * 2),
        ("gradients of 1e-7 that disagree by 1e-7", (np.array([1e-7, 2e-7]), np.array([2e-7, 2e-7]))),
        ("gradients of 1e6 that agree to 1e-10", (np.array([1e6, -3e6]), np.array([1e6 + 1e-4, -3e6]))),
        ("a zero against a non-zero entry", (np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.0, 2.0]))),
        ("opposite signs", (np.array([[1.0, -2.0]]), np.array([[1.0, 2.0]]))),
        ("both all zeros", (np.zeros((2, 3)), np.zeros((2, 3)))),
    ]
    for k in range(12):
        shape = tuple(int(v) for v in rng.integers(1, 5, size=int(rng.integers(1, 5))))
        scale = 10.0 ** float(rng.integers(-8, 7))
        analytic = rng.normal(size=shape) * scale
        numerical = analytic * (1 + 10.0 ** float(rng.integers(-10, 0)) * rng.normal(size=shape))
        if k % 3 == 0:
            zeros = rng.random(shape) < 0.3
            analytic[zeros] = numerical[zeros] = 0.0
        cases.append((f"random gradients of shape {shape}, scale {scale:g}", (analytic, numerical)))
    return cases


@exercise(
    "7.1",
    "relative error of two gradients",
    reference="cnn_helpers.gradcheck.relative_error",
    mistakes=_relative_error_mistakes,
)
def check_relative_error(relative_error):
    """``relative_error(analytic, numerical) -> float``: the largest entrywise relative error."""
    zero = call("7.1", relative_error, np.zeros(3), np.zeros(3), case="two all-zero gradients")
    if isinstance(zero, (float, np.floating)) and np.isnan(zero):
        raise CheckFailure(
            "Exercise 7.1: on two all-zero gradients, expected 0.0, got nan.\n  Likely mistake: 0 / 0 gives "
            "nan where both entries are 0; count such an entry as 0 (they agree exactly)"
        )
    cases = _relative_error_cases()
    # rtol 1e-3: a relative error is a magnitude; a tiny number added to the denominator is fine.
    diagnose(
        "7.1",
        relative_error,
        _relative_error,
        cases,
        _relative_error_mistakes(),
        name="relative error",
        rtol=1e-3,
        atol=1e-12,
    )
    passed("7.1", f"the relative error is right on {len(cases)} cases, from gradients of 1e-8 to 1e6")


# --------------------------------------------------------------------------------------------
# 7.2 question: a relative error by hand

check_relative_error_question = question(
    "7.2",
    "the relative error of a small gradient",
    expected=0.333,
    tolerance=0.001,
    misconceptions={
        0.01: "that is the absolute error |a - n|, which looks tiny only because the gradient is small: "
        "divide by the larger of |a| and |n|",
        0.5: "you divided by the smaller value |a| = 0.02; the definition divides by the larger, max(|a|, |n|)",
        0.2: "you divided by |a| + |n|; the lesson's definition divides by max(|a|, |n|)",
        0.0025: "you divided by the largest entry of the whole gradient (4): each entry is judged against "
        "its own size",
        1 / 6: "you averaged the two entries' relative errors (0 and 1/3): take the largest",
    },
    hint="the first entries agree exactly; for the second, divide |0.02 - 0.03| by the larger of the two",
    explanation="|0.02 - 0.03| / 0.03 = 1/3: the second entry is a third off, a bug, although the absolute "
    "error is only 0.01.",
)

# --------------------------------------------------------------------------------------------
# Convolution: cases and what the usual mistakes would return


def _lecture_arrays():
    from cnn_helpers import data

    example = data.lecture_example()
    return np.asarray(example.image, dtype=float)[None, None], np.asarray(example.sharpen, dtype=float)[
        None, None
    ]


def conv_cases(seed, count=30):
    """(description, dout, x, weight, bias, stride, padding): lecture, hand-picked and random cases."""
    rng = np.random.default_rng(seed)
    image, sharpen = _lecture_arrays()
    cases = []

    def add(description, x, weight, stride, padding, dout=None):
        out_h = conv.output_size(x.shape[2], weight.shape[2], padding=padding, stride=stride)
        out_w = conv.output_size(x.shape[3], weight.shape[3], padding=padding, stride=stride)
        shape = (x.shape[0], weight.shape[0], out_h, out_w)
        if dout is None:
            dout = rng.normal(size=shape).round(2)
        bias = rng.normal(size=weight.shape[0]).round(2)
        cases.append((description, dout, x, weight, bias, stride, padding))

    add(
        "the lecture's 5x5 image and sharpen kernel, no padding, stride 1, dout all ones",
        image,
        sharpen,
        1,
        0,
        dout=np.ones((1, 1, 3, 3)),
    )
    add("the lecture's 5x5 image and sharpen kernel, padding 1, stride 1", image, sharpen, 1, 1)
    add("the lecture's 5x5 image and sharpen kernel, padding 1, stride 2", image, sharpen, 2, 1)
    add(
        "2 images, 2 channels, 3 filters, 4x4, 2x2 kernels, stride 1",
        rng.normal(size=(2, 2, 4, 4)).round(2),
        rng.normal(size=(3, 2, 2, 2)).round(2),
        1,
        0,
    )
    add(
        "2 images, 3 channels, 2 filters, 6x5, 3x3 kernels, stride 2, padding 1",
        rng.normal(size=(2, 3, 6, 5)).round(2),
        rng.normal(size=(2, 3, 3, 3)).round(2),
        2,
        1,
    )
    add(
        "3 images, 1 channel, 2 filters, 7x7, 3x2 kernels, stride 3, padding 2",
        rng.normal(size=(3, 1, 7, 7)).round(2),
        rng.normal(size=(2, 1, 3, 2)).round(2),
        3,
        2,
    )
    for _ in range(count):
        n, channels, filters = (int(v) for v in rng.integers(1, 4, size=3))
        kernel_h, kernel_w = (int(v) for v in rng.integers(1, 4, size=2))
        stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        height = int(rng.integers(max(1, kernel_h - 2 * padding), 9))
        width = int(rng.integers(max(1, kernel_w - 2 * padding), 9))
        x = rng.normal(size=(n, channels, height, width)).round(2)
        weight = rng.normal(size=(filters, channels, kernel_h, kernel_w)).round(2)
        add(
            f"x {x.shape}, weight {weight.shape}, stride {stride}, padding {padding}",
            x,
            weight,
            stride,
            padding,
        )
    return cases


def conv_backward_variant(
    dout, x, weight, stride, padding, *, ignore_stride=False, flip=False, overwrite=False, crop=True
):
    """The loop backward pass, with one of the usual mistakes switched on (for the hints)."""
    dout, x, weight = (np.asarray(a, dtype=float) for a in (dout, x, weight))
    padded = conv.pad2d(x, padding=padding)
    dpadded = np.zeros_like(padded)
    dweight = np.zeros_like(weight)
    dbias = np.zeros(weight.shape[0])
    kernel_h, kernel_w = weight.shape[2:]
    n_images, n_filters, out_h, out_w = dout.shape
    for n in range(n_images):
        for f in range(n_filters):
            kernel = weight[f, :, ::-1, ::-1] if flip else weight[f]
            for row in range(out_h):
                for col in range(out_w):
                    top, left = (row, col) if ignore_stride else (row * stride, col * stride)
                    window = padded[n, :, top : top + kernel_h, left : left + kernel_w]
                    grad = dout[n, f, row, col]
                    dbias[f] += grad
                    dweight[f] += grad * window
                    target = dpadded[n, :, top : top + kernel_h, left : left + kernel_w]
                    if overwrite:
                        target[...] = grad * kernel
                    else:
                        target += grad * kernel
    if crop:
        height, width = x.shape[2:]
        dpadded = dpadded[:, :, padding : padding + height, padding : padding + width]
    return dpadded, dweight, dbias


def _col2im_overwrite(dout, x, weight, stride, padding):
    """dx of an im2col backward whose col2im assigns (=) instead of adding (+=)."""
    dout, x, weight = (np.asarray(a, dtype=float) for a in (dout, x, weight))
    n, channels, height, width = x.shape
    filters, _, kernel_h, kernel_w = weight.shape
    out_h, out_w = dout.shape[2:]
    dcols = weight.reshape(filters, -1).T @ dout.transpose(1, 0, 2, 3).reshape(filters, -1)
    dcols = dcols.reshape(channels, kernel_h, kernel_w, n, out_h, out_w)
    padded = np.zeros((n, channels, height + 2 * padding, width + 2 * padding))
    for i in range(kernel_h):
        for j in range(kernel_w):
            rows = slice(i, i + stride * (out_h - 1) + 1, stride)
            cols = slice(j, j + stride * (out_w - 1) + 1, stride)
            padded[:, :, rows, cols] = dcols[:, i, j].transpose(1, 0, 2, 3)
    return padded[:, :, padding : padding + height, padding : padding + width]


STRIDE_HINT = (
    "the stride was ignored in the backward pass: output (r, c) read the window starting "
    "at row r * stride, column c * stride, so its gradient goes back to that same window"
)
UNCROPPED_HINT = (
    "padding was not removed from dx: compute the gradient of the padded input, then cut "
    "away the padding border (the zeros are not part of x)"
)
FLIP_HINT = (
    "dx used the kernel flipped the wrong way: in loop form add dout * weight[f] onto the "
    "same window the forward pass read (in full-convolution form, convolve dout with the "
    "kernel, which flips it; correlating would not)"
)
OVERWRITE_HINT = (
    "overlapping windows overwrote each other's gradient in dx: add (+=) the contribution of "
    "every window, a pixel under several windows receives the sum"
)
ZERO_BIAS_HINT = (
    "dbias is all zeros: the bias is added to every output of its filter, so every "
    "dout[n, f, r, c] adds into dbias[f] (dbias[f] += dout[n, f, r, c], or dout.sum(axis=(0, 2, 3)))"
)
BIAS_BATCH_HINT = (
    "dbias was not summed over the batch: the bias is added to every image, so sum over "
    "images too, dbias[f] = dout[:, f].sum()"
)
BIAS_POSITIONS_HINT = (
    "dbias was not summed over positions: the bias is added at every output position, so "
    "dbias[f] = dout[:, f].sum()"
)
BIAS_MEAN_HINT = (
    "dbias is the mean of dout, not its sum: each output adds bias[f] once, so the gradients add up"
)
AVERAGED_HINT = "averaged over the batch: the gradient of a sum is the sum, do not divide by N"
FIRST_IMAGE_HINT = "holds only the first image's contribution: sum over every image of the batch"


def _conv_mistakes(dout, x, weight, stride, padding, reference):
    """Per-gradient mistakes: {"dx": [...], "dweight": [...], "dbias": [...]} of (hint, value or None)."""
    dx, dweight, dbias = reference
    overlapping = stride < max(weight.shape[2:])
    several = len(x) > 1
    no_stride = (
        conv_backward_variant(dout, x, weight, stride, padding, ignore_stride=True)
        if stride > 1
        else (None,) * 3
    )
    flipped = conv_backward_variant(dout, x, weight, stride, padding, flip=True)
    uncropped = conv_backward_variant(dout, x, weight, stride, padding, crop=False)[0] if padding else None
    overwritten = (
        conv_backward_variant(dout, x, weight, stride, padding, overwrite=True)[0] if overlapping else None
    )
    first_image = conv_backward_variant(dout[:1], x[:1], weight, stride, padding)
    return {
        "dx": [
            (STRIDE_HINT, no_stride[0]),
            (UNCROPPED_HINT, uncropped),
            (FLIP_HINT, flipped[0] if not _close(flipped[0], dx) else None),
            (
                OVERWRITE_HINT,
                overwritten if overwritten is not None and not _close(overwritten, dx) else None,
            ),
            (
                "dx is all zeros: every dout[n, f, r, c] * weight[f] adds onto the window of the padded input "
                "that output read",
                np.zeros_like(dx) if np.any(dx) else None,
            ),
        ],
        "dweight": [
            (STRIDE_HINT, no_stride[1]),
            (f"dweight {FIRST_IMAGE_HINT}", first_image[1] if several else None),
            (f"dweight was {AVERAGED_HINT}", dweight / len(x) if several else None),
            (
                "dweight is all zeros: every dout[n, f, r, c] times its window adds into dweight[f]",
                np.zeros_like(dweight) if np.any(dweight) else None,
            ),
        ],
        "dbias": [
            (ZERO_BIAS_HINT, np.zeros_like(dbias) if np.any(dbias) else None),
            (BIAS_BATCH_HINT, dout.sum(axis=(2, 3))),
            (f"dbias {FIRST_IMAGE_HINT}", first_image[2] if several else None),
            (BIAS_POSITIONS_HINT, dout.sum(axis=0)),
            (f"dbias was {AVERAGED_HINT}", dout.sum(axis=(0, 2, 3)) / len(dout) if several else None),
            (BIAS_MEAN_HINT, dout.mean(axis=(0, 2, 3)) if dout[0, 0].size > 1 or several else None),
        ],
    }


def _conv_backward_mistakes():
    """Whole wrong loop backward passes, each making one mistake, for the registry test."""

    def variant(**switch):
        def conv_backward(dout, x, weight, bias, *, stride, padding):
            return conv_backward_variant(dout, x, weight, stride, padding, **switch)

        return conv_backward

    def bias(dbias_of):
        def conv_backward(dout, x, weight, bias, *, stride, padding):
            dx, dweight, _ = conv_backward_variant(dout, x, weight, stride, padding)
            return dx, dweight, dbias_of(np.asarray(dout, dtype=float))

        return conv_backward

    return {
        "stride ignored": (variant(ignore_stride=True), STRIDE_HINT),
        "flipped kernel": (variant(flip=True), FLIP_HINT),
        "padding kept": (variant(crop=False), UNCROPPED_HINT),
        "overwritten": (variant(overwrite=True), OVERWRITE_HINT),
        "zero bias gradient": (bias(lambda dout: np.zeros(dout.shape[1])), ZERO_BIAS_HINT),
        "bias not summed over the batch": (bias(lambda dout: dout.sum(axis=(2, 3))), BIAS_BATCH_HINT),
        "bias not summed over positions": (bias(lambda dout: dout.sum(axis=0)), BIAS_POSITIONS_HINT),
        "bias mean": (bias(lambda dout: dout.mean(axis=(0, 2, 3))), BIAS_MEAN_HINT),
    }


def _run_conv_backward(exercise_id, conv_backward, cases, label=""):
    runs = []
    names = ("dx", "dweight", "dbias")
    for description, dout, x, weight, bias, stride, padding in cases:
        case = f"{label}{description}"
        reference = conv.conv2d_backward(dout, x, weight, bias, stride=stride, padding=padding)
        received = call(
            exercise_id,
            conv_backward,
            dout.copy(),
            x.copy(),
            weight.copy(),
            bias.copy(),
            stride=stride,
            padding=padding,
            case=case,
        )
        received = _unpack(exercise_id, received, names, case)
        runs.append(
            (case, names, reference, received, _conv_mistakes(dout, x, weight, stride, padding, reference))
        )
    return runs


# --------------------------------------------------------------------------------------------
# 7.3 convolution backward pass with loops


@exercise(
    "7.3",
    "convolution backward pass with loops",
    allowed=("pad2d", "output_size"),
    reference="cnn_helpers.conv.conv2d_backward",
    mistakes=_conv_backward_mistakes,
)
def check_conv_backward(conv_backward):
    """``conv_backward(dout, x, weight, bias, *, stride, padding) -> (dx, dweight, dbias)``."""
    cases = conv_cases(seed=701)
    diagnose_gradients("7.3", _run_conv_backward("7.3", conv_backward, cases))
    passed(
        "7.3",
        f"dx, dweight and dbias match the reference on {len(cases)} cases, "
        "including the lecture's image with padding and stride 2",
    )


# --------------------------------------------------------------------------------------------
# 7.4 question: which gradient of the suspect backward pass is wrong?

check_suspect_gradient = question(
    "7.4",
    "find the wrong gradient by gradient checking",
    expected="dweight",
    choices=["dx", "dweight", "dbias", "none of them"],
    misconceptions={
        "none of them": "with dout this small every gradient is below 1e-6, so an absolute threshold of "
        "1e-6 passes anything; judge each gradient by its relative error",
        "dx": "dx agrees with its numerical gradient to rounding: nudge x for dx, the weights for dweight, "
        "the bias for dbias, and compare each pair with your relative_error",
        "dbias": "dbias agrees with its numerical gradient to rounding: nudge x for dx, the weights for "
        "dweight, the bias for dbias, and compare each pair with your relative_error",
    },
    hint="compare each of dx, dweight and dbias with the numerical gradient of its own argument",
    explanation="Its relative error is of order 1, the others' are at rounding level: its windows ignore "
    "the stride along the rows.",
)

# --------------------------------------------------------------------------------------------
# Pooling: cases and what the usual mistakes would return


def max_pool_backward_variant(dout, x, size, stride, *, ties="first", overwrite=False, ignore_stride=False):
    """Loop max-pool backward with one of the usual mistakes switched on (for the hints).

    ``ties``: "first" (right), "last" or "all" tied maxima get the gradient.
    """
    dout, x = np.asarray(dout, dtype=float), np.asarray(x, dtype=float)
    dx = np.zeros_like(x)
    n_images, channels, out_h, out_w = dout.shape
    for n, c, row, col in np.ndindex(n_images, channels, out_h, out_w):
        top, left = (row, col) if ignore_stride else (row * stride, col * stride)
        window = x[n, c, top : top + size, left : left + size]
        is_max = window == window.max()
        if ties != "all":
            flat = np.flatnonzero(is_max)
            is_max = np.zeros(window.size, dtype=bool)
            is_max[flat[0] if ties == "first" else flat[-1]] = True
            is_max = is_max.reshape(window.shape)
        target = dx[n, c, top : top + size, left : left + size]
        if overwrite:
            target[is_max] = dout[n, c, row, col]
        else:
            target[is_max] += dout[n, c, row, col]
    return dx


def spread_backward_variant(dout, x, size, stride, *, share=1.0, overwrite=False, ignore_stride=False):
    """Loop sum-pool backward (``share=1``) or average-pool backward (``share=1/size**2``), with one
    of the usual mistakes switched on (for the hints)."""
    dout, x = np.asarray(dout, dtype=float), np.asarray(x, dtype=float)
    dx = np.zeros_like(x)
    for n, c, row, col in np.ndindex(*dout.shape):
        top, left = (row, col) if ignore_stride else (row * stride, col * stride)
        target = dx[n, c, top : top + size, left : left + size]
        if overwrite:
            target[...] = share * dout[n, c, row, col]
        else:
            target += share * dout[n, c, row, col]
    return dx


def pool_cases(seed, count=30):
    """(description, x, size, stride): hand-picked ties and overlaps, then random batches."""
    rng = np.random.default_rng(seed)
    cases = [
        (
            "one 4x4 map of distinct values, size 2, stride 2",
            np.array([[1.0, 3, 2, 0], [4, 2, 7, 1], [0, 5, 3, 3], [1, 2, 6, 8]])[None, None],
            2,
            2,
        ),
        (
            "a batch of 2 images with 2 channels, 4x6, size 2, stride 2",
            rng.normal(size=(2, 2, 4, 6)).round(3),
            2,
            2,
        ),
        (
            "one 5x5 map, size 3, stride 2 (overlapping windows share a maximum)",
            np.array([[0.0, 1, 2, 1, 0], [1, 2, 3, 2, 1], [2, 3, 9, 3, 2], [1, 2, 3, 2, 1], [0, 1, 2, 1, 0]])[
                None, None
            ],
            3,
            2,
        ),
        (
            "one 4x4 map with ties inside the windows, size 2, stride 2",
            np.array([[5.0, 5, 1, 2], [0, 5, 2, 2], [3, 1, 4, 0], [1, 3, 0, 4]])[None, None],
            2,
            2,
        ),
        (
            "one 3x4 map, size 2, stride 1 (every inner pixel is in several windows)",
            np.array([[1.0, 2, 3, 4], [8, 7, 6, 5], [9, 1, 1, 2]])[None, None],
            2,
            1,
        ),
        (
            "one 5x7 map, size 2, stride 3 (gaps between the windows)",
            rng.normal(size=(1, 1, 5, 7)).round(3),
            2,
            3,
        ),
    ]
    for k in range(count):
        n, channels = (int(v) for v in rng.integers(1, 4, size=2))
        height, width = (int(v) for v in rng.integers(1, 10, size=2))
        size = int(rng.integers(1, min(height, width, 4) + 1))
        stride = int(rng.integers(1, 4))
        if k % 2:  # small integers: plenty of ties
            x = rng.integers(0, 4, size=(n, channels, height, width)).astype(float)
            kind = "integers with ties"
        else:
            x = rng.normal(size=(n, channels, height, width)).round(3)
            kind = "random values"
        cases.append((f"x of shape {x.shape} ({kind}), size {size}, stride {stride}", x, size, stride))
    return cases


SPREAD_HINT = (
    "the gradient was spread to every element of the window: only the maximum changed the "
    "output, so only it gets dout"
)
SHARED_HINT = (
    "the gradient was shared equally over the window (that is average pooling's backward): "
    "max pooling sends all of it to the maximum"
)
LAST_TIE_HINT = (
    "on ties the gradient went to the last maximum: give it to the first one in reading "
    "order (left to right, then top to bottom), as np.argmax does"
)
ALL_TIES_HINT = (
    "on ties every tied maximum got the gradient: only one pixel produced the output, give "
    "it to the first maximum in reading order"
)
POOL_OVERWRITE_HINT = (
    "overlapping windows overwrote each other's gradient: a pixel that is the maximum of "
    "several windows receives the sum of their gradients (+=, not =)"
)
POOL_STRIDE_HINT = (
    "the stride was ignored: output (r, c) came from the window starting at row r * stride, column c * stride"
)


def _differs(value, reference):
    return value if not _close(value, reference) else None


def _max_pool_mistakes(dout, x, size, stride, expected):
    overlapping = stride < size
    return {
        "dx": [
            (SPREAD_HINT, _differs(pooling.sum_pool2d_backward(dout, x, size, stride=stride), expected)),
            (SHARED_HINT, _differs(pooling.avg_pool2d_backward(dout, x, size, stride=stride), expected)),
            (
                LAST_TIE_HINT,
                _differs(max_pool_backward_variant(dout, x, size, stride, ties="last"), expected),
            ),
            (ALL_TIES_HINT, _differs(max_pool_backward_variant(dout, x, size, stride, ties="all"), expected)),
            (
                POOL_OVERWRITE_HINT,
                _differs(max_pool_backward_variant(dout, x, size, stride, overwrite=True), expected)
                if overlapping
                else None,
            ),
            (
                POOL_STRIDE_HINT,
                _differs(max_pool_backward_variant(dout, x, size, stride, ignore_stride=True), expected)
                if stride > 1
                else None,
            ),
        ]
    }


def _max_pool_backward_mistakes():
    """Whole wrong max-pool backward passes, each making one mistake, for the registry test."""

    def variant(**switch):
        def max_pool_backward(dout, x, size, *, stride):
            return max_pool_backward_variant(dout, x, size, stride, **switch)

        return max_pool_backward

    def spread(share):
        def max_pool_backward(dout, x, size, *, stride):
            return spread_backward_variant(dout, x, size, stride, share=share(size))

        return max_pool_backward

    return {
        "spread to the window": (spread(lambda size: 1.0), SPREAD_HINT),
        "shared over the window": (spread(lambda size: 1 / size**2), SHARED_HINT),
        "last maximum": (variant(ties="last"), LAST_TIE_HINT),
        "every tied maximum": (variant(ties="all"), ALL_TIES_HINT),
        "overwritten": (variant(overwrite=True), POOL_OVERWRITE_HINT),
        "stride ignored": (variant(ignore_stride=True), POOL_STRIDE_HINT),
    }


def _pool_douts(seed, cases):
    rng = np.random.default_rng(seed)
    return [
        rng.integers(1, 10, size=pooling.max_pool2d(x, size, stride=stride).shape).astype(float)
        for _, x, size, stride in cases
    ]


# --------------------------------------------------------------------------------------------
# 7.5 max-pooling backward pass


@exercise(
    "7.5",
    "max-pooling backward pass",
    reference="cnn_helpers.pooling.max_pool2d_backward",
    mistakes=_max_pool_backward_mistakes,
)
def check_max_pool_backward(max_pool_backward):
    """``max_pool_backward(dout, x, size, *, stride) -> dx``; ties go to the first maximum."""
    cases = pool_cases(seed=702)
    runs = []
    for (description, x, size, stride), dout in zip(cases, _pool_douts(702, cases), strict=True):
        expected = pooling.max_pool2d_backward(dout, x, size, stride=stride)
        received = call(
            "7.5", max_pool_backward, dout.copy(), x.copy(), size, stride=stride, case=description
        )
        runs.append(
            (
                description,
                ("dx",),
                (expected,),
                (received,),
                _max_pool_mistakes(dout, x, size, stride, expected),
            )
        )
    diagnose_gradients("7.5", runs)
    passed("7.5", f"dx matches the reference on {len(cases)} cases, with ties and overlapping windows")


# --------------------------------------------------------------------------------------------
# 7.6 question: predict the non-zero entries of a max-pool backward pass

#: The map of question 7.6 (2x2 windows, stride 1, dout all ones).
QUESTION_7_6_MAP = np.array([[1.0, 2, 0, 3], [4, 9, 1, 2], [0, 5, 8, 7], [6, 1, 2, 3]])

check_nonzero_count = question(
    "7.6",
    "how many entries of dx are non-zero?",
    expected=4,
    misconceptions={
        9: "one per window counts 9, but windows that share a maximum send their gradients to the same "
        "pixel, where they add up",
        16: "every pixel of a window gets a gradient only in sum or average pooling; max pooling sends it to "
        "the window's maximum alone",
        1: "each window sends its gradient to its own maximum, not to the largest value of the whole map",
    },
    hint="find the maximum of each of the 9 windows, then count the distinct pixels among them",
    explanation="The 9 windows have only 4 distinct maxima: the 9 wins 4 windows, the 8 three, the 3 and "
    "the 6 one each.",
)


# --------------------------------------------------------------------------------------------
# 7.7 sum- and average-pooling backward passes


SUM_MAX_HINT = (
    "the gradient went to the window's maximum only (that is max pooling's backward): in sum "
    "pooling every pixel of the window adds into the output, so each gets dout"
)
AVG_MAX_HINT = (
    "the gradient went to the window's maximum only (that is max pooling's backward): in average "
    "pooling every pixel of the window counts, so each gets dout / size**2"
)
SUM_DIVIDED_HINT = (
    "sum pooling's gradient was divided by the window size (that is average pooling's "
    "backward): each pixel adds into the sum with weight 1, so each gets all of dout"
)
AVG_UNDIVIDED_HINT = (
    "average pooling's gradient was not divided (that is sum pooling's backward): the mean "
    "weighs each pixel by 1 / size**2, so each gets dout / size**2"
)
AVG_SIZE_HINT = (
    "average pooling's gradient was divided by size, not by size**2: a size x size window holds "
    "size**2 pixels"
)
SPREAD_OVERWRITE_HINT = (
    "overlapping windows overwrote each other's gradient: a pixel in several windows "
    "receives the sum of their shares (+=, not =)"
)


def _spread_mistakes(dout, x, size, stride, expected, share):
    overlapping = stride < size
    is_sum = share == 1
    undivided = spread_backward_variant(dout, x, size, stride)
    return {
        "dx": [
            (
                SUM_MAX_HINT if is_sum else AVG_MAX_HINT,
                _differs(pooling.max_pool2d_backward(dout * share, x, size, stride=stride), expected),
            ),
            (
                SUM_DIVIDED_HINT if is_sum else AVG_UNDIVIDED_HINT,
                _differs(undivided / size**2 if is_sum else undivided, expected),
            ),
            (AVG_SIZE_HINT, None if is_sum else _differs(undivided / size, expected)),
            (
                SPREAD_OVERWRITE_HINT,
                _differs(
                    spread_backward_variant(dout, x, size, stride, share=share, overwrite=True), expected
                )
                if overlapping
                else None,
            ),
            (
                POOL_STRIDE_HINT,
                _differs(
                    spread_backward_variant(dout, x, size, stride, share=share, ignore_stride=True), expected
                )
                if stride > 1
                else None,
            ),
        ]
    }


@exercise(
    "7.7",
    "sum- and average-pooling backward passes",
    reference=("cnn_helpers.pooling.sum_pool2d_backward", "cnn_helpers.pooling.avg_pool2d_backward"),
)
def check_spread_backward(sum_pool_backward, avg_pool_backward):
    """``sum_pool_backward(dout, x, size, *, stride)`` and ``avg_pool_backward(...)``, each ``-> dx``."""
    cases = pool_cases(seed=707)
    douts = _pool_douts(707, cases)
    for label, learner, reference, share in (
        ("sum pooling", sum_pool_backward, pooling.sum_pool2d_backward, lambda size: 1.0),
        ("average pooling", avg_pool_backward, pooling.avg_pool2d_backward, lambda size: 1 / size**2),
    ):
        runs = []
        for (description, x, size, stride), dout in zip(cases, douts, strict=True):
            case = f"{label}, {description}"
            expected = reference(dout, x, size, stride=stride)
            received = call("7.7", learner, dout.copy(), x.copy(), size, stride=stride, case=case)
            runs.append(
                (
                    case,
                    ("dx",),
                    (expected,),
                    (received,),
                    _spread_mistakes(dout, x, size, stride, expected, share(size)),
                )
            )
        diagnose_gradients("7.7", runs)
    passed(
        "7.7",
        f"both backward passes match the reference on {len(cases)} cases each, "
        "with overlapping windows and gaps",
    )


# --------------------------------------------------------------------------------------------
# 7.8 vectorised convolution, forward and backward

COL2IM_OVERWRITE_HINT = (
    "col2im overwrote values instead of adding them: a pixel covered by several kernel "
    "offsets must receive the sum (use +=)"
)


def _forward_mistakes(x, weight, bias, stride, padding, expected):
    flat = weight.reshape(weight.shape[0], -1)
    ijc_weight = flat.reshape(weight.shape[0], weight.shape[2], weight.shape[3], weight.shape[1]).transpose(
        0, 3, 1, 2
    )
    return {
        "output": [
            (
                "the bias is missing: add bias[f] to every output of filter f",
                _differs(expected - bias[None, :, None, None], expected),
            ),
            (
                "the bias was not broadcast over the filter axis: reshape it to (1, F, 1, 1) (or add "
                "bias[:, None] to the (F, N*OH*OW) product)",
                _differs(expected - bias[None, :, None, None] + bias, expected)
                if expected.shape[-1] == len(bias)
                else None,
            ),
            (
                "the output axes are in the wrong order: the product is (F, N*OH*OW); reshape it to "
                "(F, N, OH, OW), then transpose to (N, F, OH, OW)",
                _differs(expected.transpose(1, 0, 2, 3).reshape(expected.shape), expected),
            ),
            (
                "the rows of the column matrix are not in weight.reshape(F, -1)'s order: it is "
                "(channel, kernel row, kernel column), channel slowest",
                _differs(conv.conv2d(x, ijc_weight, bias, stride=stride, padding=padding), expected)
                if weight.shape[1] > 1
                else None,
            ),
            (
                "the stride was ignored: windows start every `stride` pixels",
                conv.conv2d(x, weight, bias, stride=1, padding=padding) if stride > 1 else None,
            ),
        ]
    }


@exercise(
    "7.8",
    "vectorised convolution, forward and backward",
    allowed=("pad2d", "output_size"),
    reference=("cnn_helpers.conv.conv2d", "cnn_helpers.conv.conv2d_backward"),
)
def check_conv_fast(conv_forward_fast, conv_backward_fast):
    """``conv_forward_fast(x, weight, bias, *, stride, padding)`` and
    ``conv_backward_fast(dout, x, weight, bias, *, stride, padding)``: right, and vectorised (the same
    lines of Python run on a small and a larger batch)."""
    cases = conv_cases(seed=703)
    forward_runs = []
    for description, _dout, x, weight, bias, stride, padding in cases:
        case = f"the forward pass on {description}"
        expected = conv.conv2d(x, weight, bias, stride=stride, padding=padding)
        received = call(
            "7.8",
            conv_forward_fast,
            x.copy(),
            weight.copy(),
            bias.copy(),
            stride=stride,
            padding=padding,
            case=case,
        )
        forward_runs.append(
            (
                case,
                ("output",),
                (expected,),
                (received,),
                _forward_mistakes(x, weight, bias, stride, padding, expected),
            )
        )
    diagnose_gradients("7.8", forward_runs)

    backward_runs = _run_conv_backward("7.8", conv_backward_fast, cases, label="the backward pass on ")
    for (_, dout, x, weight, _bias, stride, padding), run in zip(cases, backward_runs, strict=True):
        overwritten = _col2im_overwrite(dout, x, weight, stride, padding)
        run[4]["dx"].insert(0, (COL2IM_OVERWRITE_HINT, _differs(overwritten, run[2][0])))
    diagnose_gradients("7.8", backward_runs)

    # Vectorised? The same lines of Python must run on a small and a larger batch (more images,
    # filters and positions; the same 3x3 kernel, so a loop over kernel offsets stays allowed).
    # A loop over images, filters or output positions runs more lines on the larger one.
    def sizes(seed, n, filters, size):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(n, 3, size, size))
        weight = rng.normal(size=(filters, 3, 3, 3))
        return x, weight, rng.normal(size=filters), rng.normal(size=(n, filters, size, size))

    def forward_and_backward(x, weight, bias, dout):
        call(
            "7.8", conv_forward_fast, x, weight, bias, stride=1, padding=1, case=f"a batch of shape {x.shape}"
        )
        call(
            "7.8",
            conv_backward_fast,
            dout,
            x,
            weight,
            bias,
            stride=1,
            padding=1,
            case=f"a batch of shape {x.shape}",
        )

    check_lines_do_not_grow(
        "7.8",
        forward_and_backward,
        sizes(7030, 2, 2, 5),
        sizes(7031, 5, 5, 9),
        watch=(conv_forward_fast, conv_backward_fast),
        describe=lambda arguments: f"x of shape {arguments[0].shape} with weight {arguments[1].shape}",
        advice="Build the column matrix with one slice per kernel offset (i, j) and do one matrix "
        "product; avoid Python loops over images, filters and output positions.",
    )
    passed(
        "7.8",
        f"forward and backward match the reference on {len(cases)} cases, vectorised "
        "(the same lines of Python run whatever the batch size)",
    )


__all__ = [
    "check_relative_error",
    "check_relative_error_question",
    "check_conv_backward",
    "check_suspect_gradient",
    "check_max_pool_backward",
    "check_nonzero_count",
    "check_spread_backward",
    "check_conv_fast",
    "diagnose_gradients",
    "conv_cases",
    "pool_cases",
    "conv_backward_variant",
    "max_pool_backward_variant",
    "spread_backward_variant",
    "QUESTION_7_6_MAP",
]
