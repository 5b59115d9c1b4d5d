"""Checks for lesson 04, padding and stride."""

from __future__ import annotations

import functools
import math

import numpy as np

from ._core import CheckFailure, call, compare, diagnose, exercise, expect_error, passed


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
# 4.1 output size


def _size_cases():
    rng = np.random.default_rng(401)
    valid = [(5, 3, 0, 1), (5, 3, 1, 1), (5, 3, 1, 2), (28, 5, 0, 1), (6, 3, 0, 2), (7, 3, 0, 2),
             (4, 4, 0, 1), (1, 3, 1, 1), (224, 7, 3, 2), (10, 3, 1, 3)]
    while len(valid) < 50:
        n, k, p, s = (int(v) for v in (rng.integers(1, 40), rng.integers(1, 8), rng.integers(0, 4), rng.integers(1, 5)))
        if k <= n + 2 * p:
            valid.append((n, k, p, s))
    invalid = [(3, 5, 0, 1, "the kernel (5) is larger than the input (3) and there is no padding"),
               (2, 7, 2, 1, "the kernel (7) is larger than the padded input (2 + 2·2 = 6)"),
               (1, 4, 1, 2, "the kernel (4) is larger than the padded input (1 + 2·1 = 3)"),
               (5, 3, 1, 0, "stride 0: the window would never move"),
               (5, 3, 1, -1, "a negative stride"),
               (8, 3, 0, -2, "a negative stride")]
    return valid, invalid


def _size_mistakes():
    """Each known wrong output-size formula, called like the learner's ``output_size(n, kernel_size, *, padding, stride)``, for :func:`diagnose`."""
    return {
        "true division": (lambda n, k, *, padding, stride: (n + 2 * padding - k) / stride + 1,
                          "true division: (n + 2p - k) / s is not a whole number here; use floor division //"),
        "padding once": (lambda n, k, *, padding, stride: (n + padding - k) // stride + 1,
                         "the padding goes on both sides: use n + 2 * padding"),
        "no padding": (lambda n, k, *, padding, stride: (n - k) // stride + 1, "the padding is missing from the formula"),
        "no plus one": (lambda n, k, *, padding, stride: (n + 2 * padding - k) // stride,
                        "off by one: the + 1 is missing (the first window counts too)"),
        "plus one inside": (lambda n, k, *, padding, stride: (n + 2 * padding - k + 1) // stride,
                            "the + 1 went inside the division: (n + 2p - k + 1) // s counts the windows "
                            "only for stride 1. Divide first, then add the first window: "
                            "(n + 2p - k) // s + 1"),
        "ceil": (lambda n, k, *, padding, stride: math.ceil((n + 2 * padding - k) / stride) + 1,
                 "rounded up (ceil): a window that would stick out past the padded input does not count; "
                 "round down (floor)"),
        "no kernel": (lambda n, k, *, padding, stride: (n + 2 * padding) // stride + 1,
                      "the kernel size is missing: the last window must fit, so subtract kernel_size"),
        "plus one twice": (lambda n, k, *, padding, stride: (n + 2 * padding - k + 1) // stride + 1,
                           "off by one: the + 1 was added twice, inside and after the division"),
        "one too many": (lambda n, k, *, padding, stride: (n + 2 * padding - k) // stride + 2,
                         "off by one: one too many (is the + 1 added twice, or the kernel size left out?)"),
    }


@exercise("4.1", "output size of a convolution along one axis", reference="cnn_helpers.conv.output_size",
          mistakes=_size_mistakes)
def check_output_size(output_size):
    """``output_size(n, kernel_size, *, padding, stride)`` = floor((n + 2p - k) / s) + 1, ValueError when impossible."""
    valid, invalid = _size_cases()
    cases = [(f"n={n}, kernel_size={k}, padding={p}, stride={s}", (n, k), {"padding": p, "stride": s})
             for n, k, p, s in valid]
    received = diagnose("4.1", output_size, lambda n, k, *, padding, stride: (n + 2 * padding - k) // stride + 1, cases,
                        _size_mistakes(), name="output size")
    for (case, *_), value in zip(cases, received):
        if not isinstance(value, (int, np.integer)):
            raise CheckFailure(
                f"Exercise 4.1: on {case}, the value {value!r} is right but it is a "
                f"{type(value).__name__}; return a whole number (int): use floor division // rather than "
                "true division /."
            )
    for n, k, p, s, why in invalid:
        case = f"n={n}, kernel_size={k}, padding={p}, stride={s} ({why})"
        hint = ("There is no output here: raise ValueError with a sentence saying why." if s > 0 else
                "A stride must be at least 1: raise ValueError before dividing by it.")
        expect_error("4.1", functools.partial(output_size, padding=p, stride=s), (n, k), (ValueError,), case, hint)
    passed("4.1", f"output sizes are right on {len(valid)} settings, and {len(invalid)} impossible ones raise ValueError")


# --------------------------------------------------------------------------------------------
# 4.2 zero padding


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


@exercise("4.2", "zero padding with p_h and p_w", reference="cnn_helpers.conv.pad2d")
def check_pad(pad):
    """``pad(image, p_h, p_w)``: p_h zero rows above and below, p_w zero columns left and right."""
    cases = _pad_cases()
    for image, p_h, p_w in cases:
        case = f"an image of shape {image.shape}, p_h={p_h}, p_w={p_w}"
        height, width = image.shape
        expected = np.pad(image, ((p_h, p_h), (p_w, p_w)))
        corner = np.zeros_like(expected)
        corner[:height, :width] = image
        mistakes = [
            ("p_h and p_w are swapped: p_h adds rows (top and bottom), p_w adds columns (left and right)",
             np.pad(image, ((p_w, p_w), (p_h, p_h)))),
            ("padding on one side only: add p_h rows at the top AND the bottom, p_w columns on the left "
             "AND the right", np.pad(image, ((0, p_h), (0, p_w)))),
            ("padding on one side only: add p_h rows at the top AND the bottom, p_w columns on the left "
             "AND the right", np.pad(image, ((p_h, 0), (p_w, 0)))),
            ("the image sits in the top-left corner: it belongs in the middle, p_h rows down and p_w "
             "columns in", corner),
            ("only the rows were padded: add p_w columns of zeros on the left and on the right too",
             np.pad(image, ((p_h, p_h), (0, 0)))),
            ("only the columns were padded: add p_h rows of zeros at the top and at the bottom too",
             np.pad(image, ((0, 0), (p_w, p_w)))),
        ]
        received = call("4.2", pad, image.copy(), p_h, p_w, case=case)
        compare("4.2", expected, received, case, mistakes, name="padded image")
    passed("4.2", f"zero padding is right on {len(cases)} images")


# --------------------------------------------------------------------------------------------
# 4.3 strided correlation


def _strided_cases():
    from .. import data

    rng = np.random.default_rng(403)
    lecture = data.lecture_example()
    cases = [(lecture.image, lecture.sharpen, 1, 2), (lecture.image, lecture.sharpen, 1, 1),
             (lecture.image, lecture.sharpen, 0, 1), (lecture.image, lecture.one_to_nine, 1, 2)]
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


@exercise("4.3", "strided correlation with padding", allowed=("pad2d", "output_size"),
          reference="cnn_helpers.conv.correlate2d")
def check_correlate_strided(correlate_strided):
    """``correlate_strided(image, kernel, *, padding, stride)`` with int or (h, w) padding and stride."""
    conv = _conv()
    cases = _strided_cases()
    for image, kernel, padding, stride in cases:
        case = (f"an image of shape {image.shape}, kernel of shape {kernel.shape}, "
                f"padding={padding}, stride={stride}")
        (p_h, p_w), (s_h, s_w) = _pair(padding), _pair(stride)
        expected = conv.correlate2d(image, kernel, padding=padding, stride=stride)
        mistakes = [
            ("the stride is ignored: step s_h rows and s_w columns between windows, "
             "i.e. window (r, c) starts at row r * s_h, column c * s_w",
             conv.correlate2d(image, kernel, padding=padding, stride=1)),
            ("the stride is applied only along the rows: columns must step by s_w too",
             conv.correlate2d(image, kernel, padding=padding, stride=(s_h, 1))),
            ("the stride is applied only along the columns: rows must step by s_h too",
             conv.correlate2d(image, kernel, padding=padding, stride=(1, s_w))),
            ("the strides are swapped: s_h steps down the rows, s_w across the columns",
             _try(conv.correlate2d, image, kernel, padding=padding, stride=(s_w, s_h))),
            ("the padding went on the wrong axis: p_h rows at the top and bottom, p_w columns left and right",
             _try(conv.correlate2d, image, kernel, padding=(p_w, p_h), stride=stride)),
            ("the padding is missing: surround the image with zeros first",
             _try(conv.correlate2d, image, kernel, padding=0, stride=stride)),
            ("off by one: the last row and column of the output are missing; "
             "the output size is floor((n + 2p - k) / s) + 1", expected[:-1, :-1]),
            ("off by one: the last row of the output is missing; the output size is floor((n + 2p - k) / s) + 1",
             expected[:-1, :]),
            ("off by one: the last column of the output is missing; the output size is floor((n + 2p - k) / s) + 1",
             expected[:, :-1]),
            ("the kernel was flipped: that is true convolution; slide it as it is",
             conv.convolve2d(image, kernel, padding=padding, stride=stride)),
        ]
        received = call("4.3", correlate_strided, image.copy(), kernel.copy(), padding=padding, stride=stride, case=case)
        compare("4.3", expected, received, case, mistakes, name="feature map")
    passed("4.3", f"strided correlation is right on {len(cases)} cases, the lecture's stride-2 map included")


__all__ = ["check_output_size", "check_pad", "check_correlate_strided", "CheckFailure"]
