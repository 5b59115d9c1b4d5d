"""Checks for lesson 04, padding and stride."""

from __future__ import annotations

import functools
import math

import numpy as np

from ._core import CheckFailure, _LearnerRaised, call, diagnose, exercise, expect_error, passed, question


def _conv():
    from .. import conv

    return conv


def _try(function, *args, **kwargs):
    """What a known mistake returns, or None when that mistake cannot even run on this case."""
    try:
        return function(*args, **kwargs)
    except (ValueError, TypeError, ZeroDivisionError):
        return None


# --------------------------------------------------------------------------------------------
# 4.1 and 4.2 checked questions: predict before the lesson shows it

check_corner_windows = question(
    "4.1",
    "windows that include a corner pixel, with padding 1",
    expected=4,
    misconceptions={
        1: "1 is the count without padding; with one ring of zeros the window can also be centred on the "
        "pixel's neighbours, and on the corner itself",
        9: "9 is the count for a pixel away from the border; a corner pixel has neighbours on only two sides",
        6: "6 is the count for a pixel on an edge (not a corner): it has neighbours on three sides",
        3: "count the window centres: every position within one step of the corner (diagonals included) "
        "that is a pixel of the image",
    },
    hint="a 3x3 window includes the corner pixel when the window's centre is the corner or one of its "
    "neighbours; count those centres that are pixels of the image",
    explanation="Its window centres are the corner and its 3 neighbours inside the image: a 2 x 2 block.",
)

check_bottom_left_entry = question(
    "4.2",
    "the padded map's bottom-left entry",
    expected=4,
    misconceptions={
        5: "5 is what the slide prints; multiply-and-sum every kernel entry with the pixel under it, the "
        "right-hand neighbour (a 1 under a -1) included",
        3: "3 is the bottom-left entry of the map without padding, whose window is centred on row 4, column 2; "
        "with padding 1 the window is centred on the corner pixel itself",
        -1: "the centre weight 5 is missing: the window is centred on the corner pixel, a 1",
        6: "the -1 under the right-hand neighbour counts as -1 x 1 = -1, so it lowers the sum",
    },
    hint="centre the kernel on the bottom-left pixel of the image; the entries that fall outside the image "
    "multiply zeros",
    explanation="5 x 1 for the pixel itself, -1 x 1 for its right-hand neighbour; the other neighbours are "
    "0 or padding.",
)


# --------------------------------------------------------------------------------------------
# 4.3 output size


def _size_cases():
    rng = np.random.default_rng(401)
    valid = [
        (5, 3, 0, 1),
        (5, 3, 1, 1),
        (5, 3, 1, 2),
        (28, 5, 0, 1),
        (6, 3, 0, 2),
        (7, 3, 0, 2),
        (4, 4, 0, 1),
        (1, 3, 1, 1),
        (224, 7, 3, 2),
        (10, 3, 1, 3),
    ]
    while len(valid) < 50:
        n, k, p, s = (
            int(v) for v in (rng.integers(1, 40), rng.integers(1, 8), rng.integers(0, 4), rng.integers(1, 5))
        )
        if k <= n + 2 * p:
            valid.append((n, k, p, s))
    invalid = [
        (3, 5, 0, 1, "the kernel (5) is larger than the input (3) and there is no padding"),
        (2, 7, 2, 1, "the kernel (7) is larger than the padded input (2 + 2·2 = 6)"),
        (1, 4, 1, 2, "the kernel (4) is larger than the padded input (1 + 2·1 = 3)"),
        (5, 3, 1, 0, "stride 0: the window would never move"),
        (5, 3, 1, -1, "a negative stride"),
        (8, 3, 0, -2, "a negative stride"),
    ]
    return valid, invalid


def _size_mistakes():
    """Each known wrong output-size formula, called like the learner's ``output_size(n, kernel_size, *, padding, stride)``, for :func:`diagnose`."""
    return {
        "true division": (
            lambda n, k, *, padding, stride: (n + 2 * padding - k) / stride + 1,
            "true division: (n + 2p - k) / s is not a whole number here; use floor division //",
        ),
        "padding once": (
            lambda n, k, *, padding, stride: (n + padding - k) // stride + 1,
            "the padding goes on both sides: use n + 2 * padding",
        ),
        "no padding": (
            lambda n, k, *, padding, stride: (n - k) // stride + 1,
            "the padding is missing from the formula",
        ),
        "no plus one": (
            lambda n, k, *, padding, stride: (n + 2 * padding - k) // stride,
            "off by one: the + 1 is missing (the first window counts too)",
        ),
        "plus one inside": (
            lambda n, k, *, padding, stride: (n + 2 * padding - k + 1) // stride,
            "the + 1 went inside the division: (n + 2p - k + 1) // s counts the windows "
            "only for stride 1. Divide first, then add the first window: "
            "(n + 2p - k) // s + 1",
        ),
        "ceil": (
            lambda n, k, *, padding, stride: math.ceil((n + 2 * padding - k) / stride) + 1,
            "rounded up (ceil): a window that would stick out past the padded input does not count; "
            "round down (floor)",
        ),
        "no kernel": (
            lambda n, k, *, padding, stride: (n + 2 * padding) // stride + 1,
            "the kernel size is missing: the last window must fit, so subtract kernel_size",
        ),
        "plus one twice": (
            lambda n, k, *, padding, stride: (n + 2 * padding - k + 1) // stride + 1,
            "off by one: the + 1 was added twice, inside and after the division",
        ),
        "one too many": (
            lambda n, k, *, padding, stride: (n + 2 * padding - k) // stride + 2,
            "off by one: one too many (is the + 1 added twice, or the kernel size left out?)",
        ),
    }


@exercise(
    "4.3",
    "output size of a convolution along one axis",
    reference="cnn_helpers.conv.output_size",
    mistakes=_size_mistakes,
)
def check_output_size(output_size):
    """``output_size(n, kernel_size, *, padding, stride)`` = floor((n + 2p - k) / s) + 1, ValueError when impossible."""
    valid, invalid = _size_cases()
    cases = [
        (f"n={n}, kernel_size={k}, padding={p}, stride={s}", (n, k), {"padding": p, "stride": s})
        for n, k, p, s in valid
    ]
    received = diagnose(
        "4.3",
        output_size,
        lambda n, k, *, padding, stride: (n + 2 * padding - k) // stride + 1,
        cases,
        _size_mistakes(),
        name="output size",
    )
    for (case, *_), value in zip(cases, received, strict=True):
        if not isinstance(value, (int, np.integer)):
            raise CheckFailure(
                f"Exercise 4.3: on {case}, the value {value!r} is right but it is a "
                f"{type(value).__name__}; return a whole number (int): use floor division // rather than "
                "true division /."
            )
    for n, k, p, s, why in invalid:
        case = f"n={n}, kernel_size={k}, padding={p}, stride={s} ({why})"
        hint = (
            "There is no output here: raise ValueError with a sentence saying why."
            if s > 0
            else "A stride must be at least 1: raise ValueError before dividing by it."
        )
        expect_error(
            "4.3", functools.partial(output_size, padding=p, stride=s), (n, k), (ValueError,), case, hint
        )
    passed(
        "4.3",
        f"output sizes are right on {len(valid)} settings, and {len(invalid)} impossible ones raise ValueError",
    )


# --------------------------------------------------------------------------------------------
# 4.4 zero padding


def _pad_cases():
    from .. import data

    rng = np.random.default_rng(402)
    lecture = data.lecture_example().image
    cases = [(lecture, 1, 1), (lecture, 1, 2), (lecture, 0, 0), (lecture, 2, 0), (lecture, 0, 3)]
    for _ in range(25):
        height, width = (int(v) for v in rng.integers(1, 8, size=2))
        image = rng.integers(-9, 10, size=(height, width)).astype(float)
        cases.append((image, int(rng.integers(0, 4)), int(rng.integers(0, 4))))
    return cases


def _pad_mistakes():
    """Each known wrong zero padding, called like the learner's ``pad(image, p_h, p_w)``, for :func:`diagnose`."""

    def corner(image, p_h, p_w):
        out = np.zeros((image.shape[0] + 2 * p_h, image.shape[1] + 2 * p_w))
        out[: image.shape[0], : image.shape[1]] = image
        return out

    return {
        "swapped": (
            lambda image, p_h, p_w: np.pad(image, ((p_w, p_w), (p_h, p_h))),
            "p_h and p_w are swapped: p_h adds rows (top and bottom), p_w adds columns (left and right)",
        ),
        "np.pad pair": (
            lambda image, p_h, p_w: np.pad(image, (p_h, p_w)),
            "np.pad(image, (p_h, p_w)) reads the pair as (before, after) for every axis: p_h zeros "
            "above and to the left, p_w below and to the right. Give one pair per axis: "
            "np.pad(image, ((p_h, p_h), (p_w, p_w)))",
        ),
        "after only": (
            lambda image, p_h, p_w: np.pad(image, ((0, p_h), (0, p_w))),
            "padding on one side only: add p_h rows at the top AND the bottom, p_w columns on the "
            "left AND the right",
        ),
        "before only": (
            lambda image, p_h, p_w: np.pad(image, ((p_h, 0), (p_w, 0))),
            "padding on one side only: add p_h rows at the top AND the bottom, p_w columns on the "
            "left AND the right",
        ),
        "top-left corner": (
            corner,
            "the image sits in the top-left corner: it belongs in the middle, p_h rows "
            "down and p_w columns in",
        ),
        "rows only": (
            lambda image, p_h, p_w: np.pad(image, ((p_h, p_h), (0, 0))),
            "only the rows were padded: add p_w columns of zeros on the left and on the right too",
        ),
        "columns only": (
            lambda image, p_h, p_w: np.pad(image, ((0, 0), (p_w, p_w))),
            "only the columns were padded: add p_h rows of zeros at the top and at the bottom too",
        ),
        "p_h for both": (
            lambda image, p_h, p_w: np.pad(image, p_h),
            "p_h was used on both axes: the columns get p_w zeros on each side",
        ),
    }


#: What the learner is told when ``out[p_h:-p_h, p_w:-p_w] = image`` fails on a zero amount.
MINUS_ZERO_HINT = (
    "with an amount of 0 the slice p:-p is 0:-0, which is 0:0, an empty slice (-0 is 0), so "
    "the image does not fit into it. Slice with the image's size instead: "
    "out[p_h:p_h + H, p_w:p_w + W] = image"
)


def minus_zero_slice_pad(image, p_h, p_w):
    """The slip ``out[p_h:-p_h, p_w:-p_w] = image``: right for positive amounts, wrong or raising at 0."""
    out = np.zeros((image.shape[0] + 2 * p_h, image.shape[1] + 2 * p_w))
    out[p_h:-p_h, p_w:-p_w] = image
    return out


def _matches_minus_zero_slice(pad, cases):
    """True when the learner's ``pad`` raises where :func:`minus_zero_slice_pad` does, and agrees elsewhere."""
    for description, (image, p_h, p_w) in cases:
        try:
            slip = minus_zero_slice_pad(image.copy(), p_h, p_w)
        except ValueError:
            slip = None
        try:
            value = call("4.4", pad, image.copy(), p_h, p_w, case=description)
        except _LearnerRaised:
            value = None
        if (slip is None) != (value is None) or (
            slip is not None and not np.array_equal(np.asarray(value), slip)
        ):
            return False
    return True


@exercise("4.4", "zero padding with p_h and p_w", reference="cnn_helpers.conv.pad2d", mistakes=_pad_mistakes)
def check_pad(pad):
    """``pad(image, p_h, p_w)``: p_h zero rows above and below, p_w zero columns left and right."""
    cases = [
        (f"an image of shape {image.shape}, p_h={p_h}, p_w={p_w}", (image, p_h, p_w))
        for image, p_h, p_w in _pad_cases()
    ]
    try:
        diagnose(
            "4.4",
            pad,
            lambda image, p_h, p_w: np.pad(image, ((p_h, p_h), (p_w, p_w))),
            cases,
            _pad_mistakes(),
            name="padded image",
        )
    except CheckFailure as failure:
        # raising (or wrong) exactly where out[p_h:-p_h, p_w:-p_w] = image does: the -0 slice
        if "Likely mistake" not in str(failure) and _matches_minus_zero_slice(pad, cases):
            raise CheckFailure(f"{failure}\n  Likely mistake: {MINUS_ZERO_HINT}") from None
        raise
    passed("4.4", f"zero padding is right on {len(cases)} images")


# --------------------------------------------------------------------------------------------
# 4.5 strided correlation


def _strided_cases():
    from .. import data

    rng = np.random.default_rng(403)
    lecture = data.lecture_example()
    cases = [
        (lecture.image, lecture.sharpen, 1, 2),
        (lecture.image, lecture.sharpen, 1, 1),
        (lecture.image, lecture.sharpen, 0, 1),
        (lecture.image, lecture.one_to_nine, 1, 2),
    ]
    while len(cases) < 40:
        height, width = (int(v) for v in rng.integers(3, 11, size=2))
        kernel_h, kernel_w = (int(v) for v in rng.integers(1, 5, size=2))
        padding = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        if len(cases) % 3 == 0:  # some plain ints, as the lecture writes them
            padding, stride = padding[0], stride[0]
        pair_p = padding if isinstance(padding, tuple) else (padding, padding)
        if kernel_h > height + 2 * pair_p[0] or kernel_w > width + 2 * pair_p[1]:
            continue
        image = rng.integers(-3, 4, size=(height, width)).astype(float)
        kernel = rng.integers(-2, 3, size=(kernel_h, kernel_w)).astype(float)
        cases.append((image, kernel, padding, stride))
    return cases


def _pair(value):
    return value if isinstance(value, tuple) else (value, value)


def _strided_mistakes():
    """Each known wrong strided correlation, called like ``correlate_strided(image, kernel, *, padding, stride)``."""
    conv = _conv()

    def mistake(transform):
        def wrong(image, kernel, *, padding, stride):
            (p_h, p_w), (s_h, s_w) = _pair(padding), _pair(stride)
            return transform(image, kernel, p_h, p_w, s_h, s_w)

        return wrong

    def correlate(image, kernel, p_h, p_w, s_h, s_w):
        return conv.correlate2d(image, kernel, padding=(p_h, p_w), stride=(s_h, s_w))

    def output_size_hint(what):
        return f"off by one: {what} of the output is missing; the output size is floor((n + 2p - k) / s) + 1"

    return {
        "stride ignored": (
            mistake(lambda i, k, p_h, p_w, s_h, s_w: correlate(i, k, p_h, p_w, 1, 1)),
            "the stride is ignored: step s_h rows and s_w columns between windows, i.e. window "
            "(r, c) starts at row r * s_h, column c * s_w",
        ),
        "windows at (r, c)": (
            mistake(
                lambda i, k, p_h, p_w, s_h, s_w: correlate(i, k, p_h, p_w, 1, 1)[
                    : conv.output_size(i.shape[0], k.shape[0], padding=p_h, stride=s_h),
                    : conv.output_size(i.shape[1], k.shape[1], padding=p_w, stride=s_w),
                ]
            ),
            "the output size is right but window (r, c) starts at row r, column c: it "
            "starts at row r * s_h, column c * s_w",
        ),
        "stride on rows only": (
            mistake(lambda i, k, p_h, p_w, s_h, s_w: correlate(i, k, p_h, p_w, s_h, 1)),
            "the stride is applied only along the rows: columns must step by s_w too",
        ),
        "stride on columns only": (
            mistake(lambda i, k, p_h, p_w, s_h, s_w: correlate(i, k, p_h, p_w, 1, s_w)),
            "the stride is applied only along the columns: rows must step by s_h too",
        ),
        "strides swapped": (
            mistake(lambda i, k, p_h, p_w, s_h, s_w: correlate(i, k, p_h, p_w, s_w, s_h)),
            "the strides are swapped: s_h steps down the rows, s_w across the columns",
        ),
        "padding swapped": (
            mistake(lambda i, k, p_h, p_w, s_h, s_w: correlate(i, k, p_w, p_h, s_h, s_w)),
            "the padding went on the wrong axis: p_h rows at the top and bottom, p_w columns left and right",
        ),
        "no padding": (
            mistake(lambda i, k, p_h, p_w, s_h, s_w: correlate(i, k, 0, 0, s_h, s_w)),
            "the padding is missing: surround the image with zeros first",
        ),
        "rows padded only": (
            mistake(lambda i, k, p_h, p_w, s_h, s_w: correlate(i, k, p_h, 0, s_h, s_w)),
            "only the rows were padded (p_h at the top and bottom): pad p_w columns on the left "
            "and right too",
        ),
        "columns padded only": (
            mistake(lambda i, k, p_h, p_w, s_h, s_w: correlate(i, k, 0, p_w, s_h, s_w)),
            "only the columns were padded (p_w on the left and right): pad p_h rows at the top "
            "and bottom too",
        ),
        "last row and column missing": (
            mistake(lambda *a: correlate(*a)[:-1, :-1]),
            output_size_hint("the last row and column"),
        ),
        "last row missing": (mistake(lambda *a: correlate(*a)[:-1, :]), output_size_hint("the last row")),
        "last column missing": (
            mistake(lambda *a: correlate(*a)[:, :-1]),
            output_size_hint("the last column"),
        ),
        "flipped": (
            mistake(
                lambda i, k, p_h, p_w, s_h, s_w: conv.convolve2d(i, k, padding=(p_h, p_w), stride=(s_h, s_w))
            ),
            "the kernel was flipped: that is true convolution; slide it as it is",
        ),
    }


@exercise(
    "4.5",
    "strided correlation with padding",
    allowed=("pad2d", "output_size"),
    reference="cnn_helpers.conv.correlate2d",
    mistakes=_strided_mistakes,
)
def check_correlate_strided(correlate_strided):
    """``correlate_strided(image, kernel, *, padding, stride)`` with int or (h, w) padding and stride."""
    conv = _conv()
    cases = [
        (
            f"an image of shape {image.shape}, kernel of shape {kernel.shape}, padding={padding}, stride={stride}",
            (image, kernel),
            {"padding": padding, "stride": stride},
        )
        for image, kernel, padding, stride in _strided_cases()
    ]
    diagnose(
        "4.5",
        correlate_strided,
        lambda image, kernel, *, padding, stride: conv.correlate2d(
            image, kernel, padding=padding, stride=stride
        ),
        cases,
        _strided_mistakes(),
        name="feature map",
    )
    passed("4.5", f"strided correlation is right on {len(cases)} cases, the lecture's stride-2 map included")


# --------------------------------------------------------------------------------------------
# 4.6 design "same" padding for any kernel size, even ones included


def _same_padding_mistakes():
    return {
        "k // 2 each side": (
            lambda k: (k // 2, k // 2),
            "k // 2 zeros on each side is one too many for an even kernel (the output grows by "
            "1): the two sides must add up to k - 1, which is odd, so one side gets one zero "
            "more than the other",
        ),
        "(k - 1) // 2 each side": (
            lambda k: ((k - 1) // 2, (k - 1) // 2),
            "(k - 1) // 2 zeros on each side is one too few for an even kernel (the output "
            "shrinks by 1): the two sides must add up to k - 1, so one side gets one more",
        ),
        "k - 1 each side": (
            lambda k: (k - 1, k - 1),
            "k - 1 is the total number of zeros the axis needs, not the number on each side",
        ),
        "halves": (
            lambda k: ((k - 1) / 2, (k - 1) / 2),
            "(k - 1) / 2 is not a whole number for an even kernel: you cannot add half a row; split k - 1 "
            "into two whole numbers",
        ),
    }


@exercise("4.6", "same padding for an even kernel", reference=None, mistakes=_same_padding_mistakes)
def check_same_padding(same_padding):
    """``same_padding(k)`` -> ``(before, after)`` whole numbers with stride-1 output size equal to the input's.

    Any split passes whose parts are non-negative whole numbers adding up to ``k - 1`` and differing by at most
    one (either side may take the extra zero: both pass).
    """
    from ..conv import correlate2d

    rng = np.random.default_rng(406)
    sizes = (1, 2, 3, 4, 5, 6, 7, 8, 11, 12)
    answers = [call("4.6", same_padding, k, case=f"kernel_size={k}") for k in sizes]
    for k, answer in zip(sizes, answers, strict=True):
        problem = _same_padding_problem(k, answer, rng, correlate2d)
        if problem:
            message = f"Exercise 4.6: wrong padding on kernel_size={k}: got {answer!r}; {problem}."
            named = _name_same_padding_mistake(sizes, answers)
            if named:
                message += f"\n  Likely mistake: {named}"
            raise CheckFailure(message)
    passed(
        "4.6",
        f"the padding keeps the size at stride 1 for kernel sizes {sizes[0]} to {sizes[-1]}, even "
        "ones included",
    )


def _same_padding_problem(k, answer, rng, correlate2d):
    """What is wrong with ``answer`` for kernel size ``k``, or None."""
    try:
        before, after = answer
    except (TypeError, ValueError):
        return "return a pair (before, after)"
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (before, after)):
        return "the amounts must be whole numbers of zeros (int): use // rather than /"
    if before < 0 or after < 0:
        return "an amount of padding cannot be negative"
    n = int(rng.integers(k, k + 10))
    out = correlate2d(np.pad(rng.random((n, 3)), ((int(before), int(after)), (0, 0))), np.ones((k, 1)))
    if out.shape[0] != n:
        return (
            f"with {before} zeros before and {after} after, an input of {n} gives {out.shape[0]} outputs at "
            f"stride 1, not {n}"
        )
    if abs(before - after) > 1:
        return (
            "the output size is right, but split the zeros as evenly as possible (the two sides differ by "
            "at most one), or the map shifts against the image"
        )
    return None


def same_padding_reference(k):
    """``(before, after)`` zeros that keep the size at stride 1: ``((k - 1) // 2, k // 2)`` (lesson 04)."""
    return (k - 1) // 2, k // 2


def _name_same_padding_mistake(sizes, answers):
    """The mistake that gives the learner's answer, values and types, on every kernel size."""

    def same(expected, answer):
        try:
            return len(answer) == 2 and all(
                e == a and isinstance(e, float) == isinstance(a, float)
                for e, a in zip(expected, answer, strict=False)
            )
        except TypeError:
            return False

    for function, text in _same_padding_mistakes().values():
        if all(same(function(k), answer) for k, answer in zip(sizes, answers, strict=True)):
            return text
    return None


__all__ = [
    "check_corner_windows",
    "check_bottom_left_entry",
    "check_output_size",
    "check_pad",
    "check_correlate_strided",
    "check_same_padding",
    "same_padding_reference",
    "MINUS_ZERO_HINT",
    "CheckFailure",
]
