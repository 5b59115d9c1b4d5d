"""Checks for lesson 09, why convolution.

- 9.1 counts a convolution layer's parameters on the course's layers and many random ones.
- 9.2 first checks the learner's ``shift_right`` on random batches (so a wrong direction, a
  wrong axis or wrap-around shows up before anything else), then ``shift_accuracy`` with a
  simple, fixed classifier whose accuracy really does depend on where things are.
- 9.3 gives ``equivariance_error`` functions that are equivariant (a "same" correlation) and
  functions that are not (pooling then upsampling, a position-dependent weighting), on images
  whose content touches the border, so that forgetting the margin or the output shift shows;
  last come cases with ``margin = 0`` (the whole map), where ``d[margin:-margin]`` is empty.
- 9.4 asks what a global max pool does to a shifted input (a choice), 9.5 for a ratio of error
  rates.

The functions the checks hand to the learner's code use NumPy only, since the package's own
convolution is blocked while a check runs.
"""

from __future__ import annotations

import numpy as np

from ._core import CheckFailure, call, compare, compare_number, exercise, passed, question

__all__ = [
    "check_conv_params",
    "check_shift_accuracy",
    "check_equivariance_error",
    "check_global_pool",
    "check_error_ratio",
    "CheckFailure",
]


# --------------------------------------------------------------------------------------------
# 9.1


@exercise("9.1", "count the parameters of a convolution layer", reference="cnn_helpers.layers.Conv2D")
def check_conv_params(conv_params):
    """``conv_params(in_channels, out_channels, kernel_size)``: F * C * k * k weights + F biases."""
    rng = np.random.default_rng(901)
    cases = [(1, 8, 3), (8, 16, 3), (3, 64, 3), (64, 64, 3), (1, 1, 1), (16, 4, 5), (2, 3, 7)]
    cases += [
        (int(rng.integers(1, 65)), int(rng.integers(1, 65)), int(rng.choice([1, 2, 3, 5, 7])))
        for _ in range(30)
    ]
    for c, f, k in cases:
        case = f"in_channels={c}, out_channels={f}, kernel_size={k}"
        expected = c * f * k * k + f
        received = call("9.1", conv_params, c, f, k, case=case)
        mistakes = [
            ("the biases are missing: each filter (output channel) has one", c * f * k * k),
            (
                "the input channels are missing: each filter has a k x k kernel for every input channel",
                f * k * k + f,
            ),
            (
                "one bias per input channel was counted; a bias belongs to each filter (output channel)",
                c * f * k * k + c,
            ),
            ("a k x k kernel has k * k weights, not k", c * f * k + f),
            ("the bias was counted once per weight; it is one number per filter", 2 * c * f * k * k),
        ]
        compare_number("9.1", expected, received, case, mistakes, name="count")
    passed("9.1", f"convolution parameter counts are right on {len(cases)} layers")


# --------------------------------------------------------------------------------------------
# 9.2


def _shift(x, dy, dx):
    """Reference shift (zeros fill in), written here so it is not blocked during a check."""
    x = np.asarray(x)
    out = np.zeros_like(x)
    h, w = x.shape[-2:]
    rows_src = slice(max(-dy, 0), h - max(dy, 0)) if abs(dy) < h else slice(0, 0)
    rows_dst = slice(max(dy, 0), h - max(-dy, 0)) if abs(dy) < h else slice(0, 0)
    cols_src = slice(max(-dx, 0), w - max(dx, 0)) if abs(dx) < w else slice(0, 0)
    cols_dst = slice(max(dx, 0), w - max(-dx, 0)) if abs(dx) < w else slice(0, 0)
    out[..., rows_dst, cols_dst] = x[..., rows_src, cols_src]
    return out


def _band_classifier(images):
    """A fixed "classifier": which third of the columns (left, middle, right) holds the most ink."""
    images = np.asarray(images)
    column_ink = images.sum(axis=tuple(range(1, images.ndim - 1))) if images.ndim > 2 else images
    bands = np.array_split(np.arange(images.shape[-1]), 3)
    ink = np.stack([column_ink[:, band].sum(axis=1) for band in bands], axis=1)
    return ink.argmax(axis=1)


def _blob_images(rng, n, size=12):
    """Images (n, 1, size, size) with a 3x3 blob at a random place; labels from the blob's band."""
    images = np.zeros((n, 1, size, size))
    for image in images:
        row, col = rng.integers(0, size - 2, size=2)
        image[0, row : row + 3, col : col + 3] = rng.uniform(0.5, 1.0, size=(3, 3))
    return images, _band_classifier(images)


def _accuracies(images, labels, shifts, dy_sign=0, dx_sign=1, wrap=False):
    result = []
    for s in shifts:
        moved = np.roll(images, s, axis=-1) if wrap else _shift(images, dy_sign * s, dx_sign * s)
        result.append(float(np.mean(_band_classifier(moved) == labels)))
    return np.array(result)


@exercise(
    "9.2",
    "accuracy on shifted images",
    forbidden=("cnn_helpers.images.shift_images",),
    reference=("cnn_helpers.images.shift_images", None),
)
def check_shift_accuracy(shift_right, shift_accuracy):
    """``shift_right(images, s)`` then ``shift_accuracy(predict, images, labels, shifts)``."""
    rng = np.random.default_rng(902)
    shift_cases = [
        ("a 1x1x3x4 batch shifted by 1", np.arange(1.0, 13.0).reshape(1, 1, 3, 4), 1),
        ("a 2x1x4x5 batch shifted by 0", rng.uniform(0.1, 1, size=(2, 1, 4, 5)), 0),
    ]
    for _ in range(20):
        n, c, h, w = (
            int(v) for v in (rng.integers(1, 4), rng.integers(1, 3), rng.integers(2, 9), rng.integers(2, 9))
        )
        s = int(rng.integers(0, w + 1))
        images = rng.uniform(0.1, 1, size=(n, c, h, w))
        shift_cases.append((f"a random batch of shape {(n, c, h, w)} shifted by {s}", images, s))
    for _ in range(4):  # single (H, W) images too: exercise 9.3 shifts those
        h, w = (int(v) for v in rng.integers(2, 9, size=2))
        s = int(rng.integers(1, w))
        image = rng.uniform(0.1, 1, size=(h, w))
        shift_cases.append((f"a single image of shape {(h, w)} (2-D) shifted by {s}", image, s))
    for description, images, s in shift_cases:
        original = images.copy()
        received = call("9.2", shift_right, images, s, case=f"shift_right on {description}")
        if not np.array_equal(images, original):
            raise CheckFailure(
                f"Exercise 9.2: shift_right changed the images it was given ({description}). "
                "Build the shifted images in a new array (np.zeros_like(images)) and leave the input alone."
            )
        mistakes = [
            (
                "the images moved left; pixel (r, c) must move to (r, c + s), to the right",
                _shift(images, 0, -s),
            ),
            (
                "the images moved down (along the rows); shift along the last axis, the columns",
                _shift(images, s, 0),
            ),
            (
                "pixels pushed out on the right came back on the left (np.roll wraps around); "
                "the s leftmost columns must be zeros",
                np.roll(images, s, axis=-1),
            ),
        ]
        compare(
            "9.2",
            _shift(images, 0, s),
            received,
            f"shift_right on {description}",
            mistakes,
            name="shifted images",
        )

    for trial, shifts in enumerate([(0, 1, 2, 3, 4), (3, 0, 5), (2,), (0, 6, 1)]):
        images, labels = _blob_images(np.random.default_rng(920 + trial), 80)
        case = f"shift_accuracy with shifts={shifts} on 80 images with a blob (a fixed classifier)"
        original = images.copy()
        received = call("9.2", shift_accuracy, _band_classifier, images, labels, list(shifts), case=case)
        if not np.array_equal(images, original):
            raise CheckFailure(f"Exercise 9.2: shift_accuracy changed the images it was given ({case}).")
        mistakes = [
            (
                "the images were shifted left instead of right",
                _accuracies(images, labels, shifts, dx_sign=-1),
            ),
            (
                "the images were shifted down instead of right",
                _accuracies(images, labels, shifts, dy_sign=1, dx_sign=0),
            ),
            (
                "counts of correct predictions were returned; accuracy is the fraction correct",
                _accuracies(images, labels, shifts) * len(labels),
            ),
            (
                "np.roll wraps pixels around the edge; shifted-out pixels must be lost",
                _accuracies(images, labels, shifts, wrap=True),
            ),
        ]
        compare("9.2", _accuracies(images, labels, shifts), received, case, mistakes, name="accuracies")
    passed("9.2", f"shift_right is right on {len(shift_cases)} batches and shift_accuracy on 4 experiments")


# --------------------------------------------------------------------------------------------
# 9.3


def _same_correlation(kernel):
    kernel = np.asarray(kernel, dtype=float)
    p = kernel.shape[0] // 2

    def f(image):
        padded = np.pad(np.asarray(image, dtype=float), p)
        windows = np.lib.stride_tricks.sliding_window_view(padded, kernel.shape)
        return np.einsum("ijkl,kl->ij", windows, kernel)

    f.description = f"a 'same' {kernel.shape[0]}x{kernel.shape[1]} correlation with zero padding"
    return f


def _pool_then_upsample(image):
    image = np.asarray(image, dtype=float)
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    pooled = image[:h, :w].reshape(h // 2, 2, w // 2, 2).max(axis=(1, 3))
    out = np.zeros_like(image)
    out[:h, :w] = np.kron(pooled, np.ones((2, 2)))
    return out


_pool_then_upsample.description = "2x2 max pooling, then each pooled value copied back to its 2x2 window"


def _column_weighted(image):
    image = np.asarray(image, dtype=float)
    return image * (1.0 + np.arange(image.shape[1]))


_column_weighted.description = "each pixel times (1 + its column index), which depends on position"


def _column_weighted_down(image):
    image = np.asarray(image, dtype=float)
    return image * (image.shape[1] - np.arange(image.shape[1]))


_column_weighted_down.description = "each pixel times (W - its column index), which depends on position"


def _error(
    f,
    image,
    s,
    margin,
    output_sign=1,
    shift_output=True,
    trim_rows=True,
    trim_cols=True,
    reduce=np.max,
    absolute=True,
):
    a = f(_shift(image, 0, s))
    b = _shift(f(image), 0, output_sign * s) if shift_output else f(image)
    h, w = image.shape
    rows = slice(margin, h - margin) if trim_rows else slice(None)
    cols = slice(margin, w - margin) if trim_cols else slice(None)
    difference = np.abs(a - b) if absolute else a - b
    return float(reduce(difference[rows, cols]))


_EMPTY_SLICE = (
    "with margin = 0, d[margin:-margin] is empty, because a slice that ends at -0 ends at 0; "
    "slice up to H - margin and W - margin instead, so that margin = 0 keeps the whole map"
)


@exercise("9.3", "measure how far a function is from equivariance", reference=None)
def check_equivariance_error(equivariance_error):
    """``equivariance_error(f, image, s, margin)``: max |f(shift(x)) - shift(f(x))| away from the edges."""
    rng = np.random.default_rng(903)
    functions = [
        _same_correlation([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
        _same_correlation(rng.normal(size=(5, 5))),
        _pool_then_upsample,
        _column_weighted,
        _column_weighted_down,
    ]
    cases = []
    for f in functions:
        for s, margin in ((1, 2), (2, 4), (3, 4)):
            image = rng.uniform(0.2, 1.0, size=(int(rng.integers(10, 14)), int(rng.integers(10, 14))))
            cases.append((f, image, s, margin))
    for f in functions[:3]:  # the whole map: margin 0, with content at the borders
        image = rng.uniform(0.2, 1.0, size=(int(rng.integers(10, 14)), int(rng.integers(10, 14))))
        cases.append((f, image, 1, 0))
    checked_zero = checked_nonzero = 0
    for f, image, s, margin in cases:
        size = f"{image.shape[0]}x{image.shape[1]}"
        case = f"f = {f.description}, a {size} image filled to the edges, s={s}, margin={margin}"
        expected = _error(f, image, s, margin)
        try:
            received = call("9.3", equivariance_error, f, image.copy(), s, margin, case=case)
        except CheckFailure as failure:
            if margin == 0 and "your function raised" in str(failure):
                raise CheckFailure(f"{failure}\n  Likely mistake: {_EMPTY_SLICE}") from None
            raise
        mistakes = [
            (
                "the border was compared too: leave out `margin` rows and columns on every side",
                _error(f, image, s, 0),
            ),
            (
                "f(shift(x)) was compared with f(x); shift f(x) as well before comparing",
                _error(f, image, s, margin, shift_output=False),
            ),
            (
                "f(x) was shifted left; both must move the same way, to the right",
                _error(f, image, s, margin, output_sign=-1),
            ),
            (
                "only the columns were trimmed: drop `margin` rows at the top and bottom too",
                _error(f, image, s, margin, trim_rows=False),
            ),
            (
                "the mean difference was returned; return the largest absolute difference",
                _error(f, image, s, margin, reduce=np.mean),
            ),
            ("differences were not taken in absolute value", _error(f, image, s, margin, absolute=False)),
            (
                "differences were not taken in absolute value",
                -_error(f, image, s, margin, absolute=False, reduce=np.min),
            ),
        ]
        if margin == 0:
            mistakes = [(_EMPTY_SLICE, 0.0), (_EMPTY_SLICE, -np.inf)] + mistakes
        compare_number(
            "9.3",
            expected,
            received,
            case,
            [(h, v) for h, v in mistakes if not np.isclose(v, expected)],
            name="largest difference",
        )
        checked_zero += expected < 1e-12
        checked_nonzero += expected >= 1e-12
    passed(
        "9.3",
        f"equivariance errors are right for {checked_zero} equivariant and "
        f"{checked_nonzero} non-equivariant cases",
    )


# --------------------------------------------------------------------------------------------
# 9.4 and 9.5: checked questions


check_global_pool = question(
    "9.4",
    "equivariant or invariant? (predict)",
    expected="exactly the same",
    choices=["shifted by one position", "exactly the same", "changed in a way that depends on the kernels"],
    misconceptions={
        "a": "shifted by one position is what the feature maps do before the pooling (equivariance). A max over "
        "the whole map keeps the largest value, not where it was, so there is no position left to shift",
        "c": "away from the borders, stride-1 convolutions and ReLUs commute with the shift: every map holds the "
        "same values, moved by one pixel. Their maxima are the same numbers, whatever the kernels",
    },
    hint="what do the feature maps do when the digit moves, and what does a max over a whole map keep?",
    explanation="The maps move with the digit and a global max forgets where, so the pooled numbers stay "
    "exactly the same (invariance)",
)

check_error_ratio = question(
    "9.5",
    "error rates, not accuracies",
    expected=3.44,
    tolerance=0.01,
    misconceptions={
        1.07: "that is the ratio of the accuracies (97.3 / 90.7); compare the error rates, 100 % minus accuracy",
        0.93: "that is the ratio of the accuracies (90.7 / 97.3); compare the error rates, 100 % minus accuracy",
        6.6: "that is the difference in percentage points; the question asks how many times as many errors",
        0.29: "the ratio is upside down: A's error rate (9.3 %) over B's (2.7 %)",
        2.44: "that is how many times *more* errors, minus one; give the ratio itself",
    },
    hint="model A gets 9.3 % of the digits wrong; how many times B's share of wrong digits is that?",
    explanation="9.3 % of errors against 2.7 %: 3.44 times as many, a difference the accuracies 90.7 % and "
    "97.3 % hide",
)
