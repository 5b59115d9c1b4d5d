"""Checks for lesson 02, convolution.

Each check runs the learner's function on the lecture's 5x5 image (with the sharpen and 1..9
kernels) and on many seeded random images and kernels of different, often non-square, shapes,
so that symmetric-kernel coincidences and square-shape coincidences cannot hide a mistake.
"""

from __future__ import annotations

import numpy as np

from .. import conv
from ..data import lecture_example
from ._core import CheckFailure, call, diagnose, exercise, passed, question

__all__ = [
    "check_correlate2d_loops",
    "check_convolve2d_loops",
    "check_convolve_full",
    "check_flip_matters",
    "check_multiply_adds",
    "check_impulse_response",
    "check_framework_kernel",
    "CheckFailure",
]

# Kernels with a name, used by several checks. Sobel kernels are antisymmetric: rotated by 180°
# they change sign, so convolution and cross-correlation give opposite maps.
SOBEL_TOP = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])
SOBEL_LEFT = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])


def _rot180(kernel):
    return np.asarray(kernel)[::-1, ::-1]


def _map_cases(seed, count=36):
    """(description, image, kernel) cases: the lecture's, then seeded random ones."""
    example = lecture_example()
    cases = [
        ("the lecture's 5x5 image with the sharpen kernel", example.image, example.sharpen),
        ("the lecture's 5x5 image with the 1..9 kernel", example.image, example.one_to_nine),
        ("a 4x6 image with a 2x3 kernel", np.arange(24.0).reshape(4, 6), np.array([[1.0, 2, 0], [0, -1, 3]])),
        (
            "a 3x3 image with a 3x3 kernel (one window)",
            np.arange(9.0).reshape(3, 3),
            np.arange(9.0)[::-1].reshape(3, 3) - 4,
        ),
        ("a 4x5 image with a 1x1 kernel", np.arange(20.0).reshape(4, 5), np.array([[3.0]])),
        ("a 5x5 image with the top Sobel kernel", example.image, SOBEL_TOP),
    ]
    rng = np.random.default_rng(seed)
    for _ in range(count):
        height, width = rng.integers(1, 9, size=2)
        kernel_h, kernel_w = rng.integers(1, height + 1), rng.integers(1, width + 1)
        if rng.random() < 0.5:
            image = rng.integers(-5, 6, size=(height, width)).astype(float)
            kernel = rng.integers(-4, 5, size=(kernel_h, kernel_w)).astype(float)
        else:
            image = rng.normal(size=(height, width))
            kernel = rng.normal(size=(kernel_h, kernel_w))
        cases.append((f"a random {height}x{width} image with a {kernel_h}x{kernel_w} kernel", image, kernel))
    return cases


def _smaller(result):
    """The map one row and one column short (``range(H - KH)``), or None where that leaves nothing."""
    return result[:-1, :-1] if min(result.shape) > 1 else None


def _swapped_in_place(result):
    """``out[c, r] = ...`` into an array of the right shape: the transpose where the map is square,
    an IndexError (the mistake cannot run) where it is not."""
    if result.shape[0] != result.shape[1]:
        raise IndexError("out[c, r] leaves a non-square map")
    return result.T


_SWAPPED = (
    "rows and columns swapped: out[r, c] must come from the window whose top-left pixel is "
    "image[r, c] (r counts rows, c counts columns)"
)
_OFF_BY_ONE = (
    "output size off by one: it must be (H - KH + 1, W - KW + 1); range(H - KH) misses the last window"
)


def _correlation_mistakes():
    """Known wrong cross-correlations, each a whole function of (image, kernel), for :func:`diagnose`."""
    return {
        "kernel flipped": (
            lambda image, kernel: conv.correlate2d(image, _rot180(kernel)),
            "the kernel was flipped: that is true convolution (exercise 2.2); cross-correlation "
            "multiplies each window by the kernel as it is",
        ),
        "kernel transposed": (
            lambda image, kernel: conv.correlate2d(image, np.asarray(kernel).T),
            "the kernel was transposed (kernel.T): rows and columns of the kernel swapped",
        ),
        "rows and columns swapped": (lambda image, kernel: conv.correlate2d(image, kernel).T, _SWAPPED),
        "out[c, r] written": (
            lambda image, kernel: _swapped_in_place(conv.correlate2d(image, kernel)),
            _SWAPPED,
        ),
        "off by one": (lambda image, kernel: _smaller(conv.correlate2d(image, kernel)), _OFF_BY_ONE),
    }


@exercise(
    "2.1",
    "cross-correlation with loops",
    reference="cnn_helpers.conv.correlate2d",
    mistakes=_correlation_mistakes,
)
def check_correlate2d_loops(correlate2d_loops):
    """``correlate2d_loops(image, kernel)``: valid cross-correlation, kernel not flipped."""
    cases = [(description, (image, kernel)) for description, image, kernel in _map_cases(seed=201)]
    diagnose("2.1", correlate2d_loops, conv.correlate2d, cases, _correlation_mistakes(), name="feature map")
    passed(
        "2.1",
        f"cross-correlation is right on {len(cases)} image/kernel pairs, "
        "including the lecture's map [[3, 3, -2], [-3, -3, 4], [3, 3, -4]]",
    )


_FLIP_BOTH = "flip rows AND columns: kernel[::-1, ::-1] (or np.rot90(kernel, 2))"


def _convolution_mistakes():
    """Known wrong convolutions, each a whole function of (image, kernel), for :func:`diagnose`."""

    def correlate_with(transform):
        return lambda image, kernel: conv.correlate2d(image, transform(np.asarray(kernel, dtype=float)))

    return {
        "no flip": (
            correlate_with(lambda k: k),
            "the kernel was not flipped: that is cross-correlation; true convolution rotates the "
            "kernel by 180° first (kernel[::-1, ::-1])",
        ),
        "upside down only": (
            correlate_with(lambda k: k[::-1, :]),
            "the kernel was flipped along one axis only (upside down, np.flipud); " + _FLIP_BOTH,
        ),
        "left to right only": (
            correlate_with(lambda k: k[:, ::-1]),
            "the kernel was flipped along one axis only (left to right, np.fliplr); " + _FLIP_BOTH,
        ),
        "transposed": (
            correlate_with(lambda k: k.T),
            "the kernel was transposed instead of flipped: kernel.T mirrors it across the diagonal, "
            "a flip reverses both rows and columns (kernel[::-1, ::-1])",
        ),
        "rot90 once": (
            correlate_with(np.rot90),
            "np.rot90(kernel) turns the kernel by 90° only (anticlockwise); the flip is a 180° turn: "
            "np.rot90(kernel, 2), or kernel[::-1, ::-1]",
        ),
        "reversed rows, transposed": (
            correlate_with(lambda k: k[::-1].T),
            "kernel[::-1].T reverses the rows and then transposes: that turns the "
            "kernel by 90° (clockwise), not 180°; reverse the columns instead of "
            "transposing: kernel[::-1, ::-1]",
        ),
        "image flipped": (
            lambda image, kernel: conv.correlate2d(_rot180(image), kernel),
            "the image was flipped instead of the kernel: the map comes out rotated by 180°; flip "
            "the kernel, not the image",
        ),
        "rows and columns swapped": (lambda image, kernel: conv.convolve2d(image, kernel).T, _SWAPPED),
        "out[c, r] written": (
            lambda image, kernel: _swapped_in_place(conv.convolve2d(image, kernel)),
            _SWAPPED,
        ),
        "off by one": (lambda image, kernel: _smaller(conv.convolve2d(image, kernel)), _OFF_BY_ONE),
    }


@exercise(
    "2.2",
    "true convolution: flip, then slide",
    reference="cnn_helpers.conv.convolve2d",
    mistakes=_convolution_mistakes,
)
def check_convolve2d_loops(convolve2d_loops):
    """``convolve2d_loops(image, kernel)``: valid true convolution (kernel rotated by 180°)."""
    cases = [(description, (image, kernel)) for description, image, kernel in _map_cases(seed=202)]
    diagnose("2.2", convolve2d_loops, conv.convolve2d, cases, _convolution_mistakes(), name="feature map")
    passed(
        "2.2",
        f"convolution is right on {len(cases)} image/kernel pairs, "
        "including the lecture's 1..9 kernel, where the flip shows",
    )


def _full_convolution(x, h):
    """y[m, n] = sum_ij x[i, j] h[m - i, n - j], out-of-range terms zero; shape (H+KH-1, W+KW-1)."""
    kernel_h, kernel_w = np.shape(h)
    return conv.convolve2d(x, h, padding=(kernel_h - 1, kernel_w - 1))


def _literal_full(x, h, term_allowed, index=lambda m, n, i, j: (m - i, n - j)):
    """The four loops of the definition, with a mistaken guard or index: a mistake's whole solution."""
    x, h = np.asarray(x, dtype=float), np.asarray(h, dtype=float)
    height, width = x.shape
    kernel_h, kernel_w = h.shape
    out = np.zeros((height + kernel_h - 1, width + kernel_w - 1))
    for m in range(out.shape[0]):
        for n in range(out.shape[1]):
            for i in range(height):
                for j in range(width):
                    a, b = index(m, n, i, j)
                    if term_allowed(a, b, kernel_h, kernel_w):
                        out[m, n] += x[i, j] * h[a, b]
    return out


def _plus_index_form(x, h):
    """The mistake y[m, n] = sum_ij x[i, j] h[m + i, n + j] over the same output range."""
    return _literal_full(
        x, h, lambda a, b, kh, kw: a < kh and b < kw, index=lambda m, n, i, j: (m + i, n + j)
    )


def _no_lower_guard(x, h):
    """The slip ``if m - i < KH and n - j < KW`` without ``0 <= m - i``: negative indices wrap around."""
    return _literal_full(x, h, lambda a, b, kh, kw: a < kh and b < kw)


def _full_mistakes():
    """Known wrong full convolutions, each a whole function of (x, h), for :func:`diagnose`."""

    def full_correlation(x, h):
        kernel_h, kernel_w = np.shape(h)
        return conv.correlate2d(x, h, padding=(kernel_h - 1, kernel_w - 1))

    return {
        "plus index form": (
            _plus_index_form,
            "the definition uses h[m - i, n - j]; you used h[m + i, n + j] (the slide's "
            "correlation form), which only reaches the first KH x KW outputs",
        ),
        "no 0 <= m - i guard": (
            _no_lower_guard,
            "a kernel index m - i (or n - j) below 0 was used: NumPy reads h[-1] as the last "
            "row instead of failing, so the term must be skipped explicitly: add "
            "0 <= m - i and 0 <= n - j to the test",
        ),
        "not flipped": (
            full_correlation,
            "the kernel was not flipped: this is the full cross-correlation. With h[m - i, n - j] "
            "the kernel index runs backwards as i runs forwards",
        ),
        "valid part only": (
            lambda x, h: conv.convolve2d(x, h),
            "only the 'valid' part was returned; the full convolution also keeps the partial "
            "overlaps at the border, shape (H + KH - 1, W + KW - 1)",
        ),
        "one too small": (
            lambda x, h: _smaller(_full_convolution(x, h)),
            "output size off by one: the full convolution has H + KH - 1 rows and W + KW - 1 "
            "columns (m runs from 0 to H + KH - 2)",
        ),
        "one too large": (
            lambda x, h: np.pad(_full_convolution(x, h), ((0, 1), (0, 1))),
            "output size off by one: the full convolution has H + KH - 1 rows and W + KW - 1 "
            "columns, not H + KH and W + KW",
        ),
        "rows and columns swapped": (
            lambda x, h: _full_convolution(x, h).T,
            "rows and columns swapped: m indexes rows (with i and the kernel's rows), n indexes columns",
        ),
    }


def _full_cases(seed, count=30):
    example = lecture_example()
    cases = [
        ("the lecture's 5x5 image with the 1..9 kernel", example.image, example.one_to_nine),
        ("the lecture's 5x5 image with the sharpen kernel", example.image, example.sharpen),
        ("x = [[1, 2, 3]] with h = [[1, 1]] (a 1-D example)", np.array([[1.0, 2, 3]]), np.array([[1.0, 1]])),
        (
            "x = [[1, 2]] with h = [[1, 10, 100]] (kernel longer than the image)",
            np.array([[1.0, 2]]),
            np.array([[1.0, 10, 100]]),
        ),
        (
            "a 2x3 image with a 3x2 kernel",
            np.arange(1.0, 7).reshape(2, 3),
            np.array([[1.0, -1], [2, 0], [0, 3]]),
        ),
        ("a 1x1 image with a 3x3 kernel", np.array([[2.0]]), np.arange(9.0).reshape(3, 3)),
    ]
    rng = np.random.default_rng(seed)
    for _ in range(count):
        height, width, kernel_h, kernel_w = rng.integers(1, 7, size=4)
        image = rng.integers(-5, 6, size=(height, width)).astype(float)
        kernel = rng.normal(size=(kernel_h, kernel_w))
        cases.append((f"a random {height}x{width} image with a {kernel_h}x{kernel_w} kernel", image, kernel))
    return cases


@exercise(
    "2.3",
    "the discrete definition, term by term",
    reference="cnn_helpers.conv.convolve2d",
    mistakes=_full_mistakes,
)
def check_convolve_full(convolve_full):
    """``convolve_full(x, h)``: the full convolution of shape (H + KH - 1, W + KW - 1)."""
    cases = [(description, (x, h)) for description, x, h in _full_cases(seed=203)]
    diagnose("2.3", convolve_full, _full_convolution, cases, _full_mistakes(), name="full convolution")
    passed(
        "2.3",
        f"the full convolution is right on {len(cases)} pairs, shape (H + KH - 1, W + KW - 1) every time",
    )


def _flip_kernel_cases(seed):
    """(description, kernel) pairs; flip matters exactly when the kernel differs from its 180° rotation."""
    example = lecture_example()
    cases = [
        ("the sharpen kernel", example.sharpen),
        ("the 1..9 kernel", example.one_to_nine),
        ("the top Sobel kernel (antisymmetric: rotated, it changes sign)", SOBEL_TOP),
        ("the left Sobel kernel", SOBEL_LEFT),
        ("a 3x3 box blur (all ones)", np.ones((3, 3))),
        ("the Laplacian [[0, 1, 0], [1, -4, 1], [0, 1, 0]]", np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])),
        (
            "the emboss kernel (equal to its transpose, not to its rotation)",
            np.array([[-2.0, -1, 0], [-1, 1, 1], [0, 1, 2]]),
        ),
        ("[[1, 2], [2, 3]] (equal to its transpose, not to its rotation)", np.array([[1.0, 2], [2, 3]])),
        (
            "[[1, 2, 1], [3, 4, 3]] (equal to its left-right mirror, not to its rotation)",
            np.array([[1.0, 2, 1], [3, 4, 3]]),
        ),
        (
            "[[1, 3], [2, 4], [1, 3]] (equal to its upside-down mirror, not to its rotation)",
            np.array([[1.0, 3], [2, 4], [1, 3]]),
        ),
        (
            "[[1, 2, 3], [4, 5, 4], [3, 2, 1]] (equal to its rotation, not to its transpose)",
            np.array([[1.0, 2, 3], [4, 5, 4], [3, 2, 1]]),
        ),
        ("the 2x3 kernel [[1, 2, 3], [3, 2, 1]] (equal to its rotation)", np.array([[1.0, 2, 3], [3, 2, 1]])),
        ("a 1x4 kernel [[1, 2, 2, 1]]", np.array([[1.0, 2, 2, 1]])),
        ("a 1x3 kernel [[1, 0, -1]]", np.array([[1.0, 0, -1]])),
        ("a 1x1 kernel [[7]]", np.array([[7.0]])),
        ("a 3x3 kernel of zeros", np.zeros((3, 3))),
    ]
    rng = np.random.default_rng(seed)
    for number in range(24):
        kernel_h, kernel_w = (int(v) for v in rng.integers(1, 6, size=2))
        kernel = rng.integers(-3, 4, size=(kernel_h, kernel_w)).astype(float)
        if number % 2:
            kernel = kernel + _rot180(kernel)  # symmetric under the 180° rotation
            cases.append((f"a random {kernel_h}x{kernel_w} kernel made equal to its rotation", kernel))
        else:
            cases.append((f"a random {kernel_h}x{kernel_w} kernel", kernel))
    return cases


def _mirror_test(mirror):
    def answer(kernel):
        mirrored = mirror(kernel)
        return not (mirrored.shape == kernel.shape and np.array_equal(mirrored, kernel))

    return answer


FLIP_MISTAKES = [
    (
        "True must mean that the flip matters; your answers are the opposite on every kernel",
        lambda kernel: not _mirror_test(_rot180)(kernel),
    ),
    (
        "you compared the kernel with its transpose (kernel.T); the flip is a 180° rotation, "
        "kernel[::-1, ::-1], which is not the same mirror",
        _mirror_test(np.transpose),
    ),
    (
        "you compared the kernel with only one axis flipped (upside down); the flip reverses rows "
        "AND columns, kernel[::-1, ::-1]",
        _mirror_test(lambda kernel: kernel[::-1, :]),
    ),
    (
        "you compared the kernel with only one axis flipped (left to right); the flip reverses rows "
        "AND columns, kernel[::-1, ::-1]",
        _mirror_test(lambda kernel: kernel[:, ::-1]),
    ),
    (
        "you tested for symmetric kernels in every sense (transpose, each mirror); only the 180° "
        "rotation matters",
        lambda kernel: any(
            _mirror_test(m)(kernel)
            for m in (np.transpose, lambda k: k[::-1, :], lambda k: k[:, ::-1], _rot180)
        ),
    ),
]


@exercise("2.4", "when does the flip matter?", reference=None)
def check_flip_matters(flip_matters):
    """``flip_matters(kernel)``: True exactly when the kernel differs from its 180° rotation."""
    cases = _flip_kernel_cases(seed=204)
    answers = []
    for description, kernel in cases:
        received = call("2.4", flip_matters, kernel.copy(), case=description)
        if not isinstance(received, (bool, np.bool_)):
            raise CheckFailure(
                f"Exercise 2.4: on {description}, expected True or False, got "
                f"{type(received).__name__} {received!r}"
            )
        answers.append(bool(received))
    for (description, kernel), received in zip(cases, answers, strict=True):
        expected = _mirror_test(_rot180)(kernel)
        if received == expected:
            continue
        message = (
            f"Exercise 2.4: wrong answer on {description}:\n{kernel}\n"
            f"  expected {expected}, got {received}. Rotated by 180° the kernel is\n{_rot180(kernel)}"
        )
        hint = _likely_flip_mistake(cases, answers)
        if hint:
            message += f"\n  Likely mistake: {hint}"
        raise CheckFailure(message)
    differ = sum(answers)
    passed(
        "2.4",
        f"right on {len(cases)} kernels ({differ} where the flip matters, "
        f"{len(cases) - differ} where it does not)",
    )


def _likely_flip_mistake(cases, answers):
    """The known mistake that agrees with every answer the learner gave (else on the most)."""
    best, best_agreement = None, 0
    for description, mistaken in FLIP_MISTAKES:
        agreement = sum(
            mistaken(kernel) == answer for (_, kernel), answer in zip(cases, answers, strict=True)
        )
        if agreement > best_agreement:
            best, best_agreement = description, agreement
    return best if best_agreement >= len(cases) - 2 else None


# --------------------------------------------------------------------------------------------
# 2.5 a checked question (the worked example of the pattern: see _core.question)

check_multiply_adds = question(
    "2.5",
    "multiply-adds of a valid correlation",
    expected=81,
    misconceptions={
        225: "25 x 9 puts the kernel on every one of the 25 pixels; without padding it sits only where "
        "it lies wholly inside the image. Count those positions first",
        25: "25 is the number of pixels; count the positions where the kernel fits, then the "
        "multiply-adds at each position",
        9: "9 is the number of positions, or the multiply-adds at one position; every position does "
        "one multiply-add per kernel entry",
        72: "72 counts 8 additions per position (summing 9 products takes 8 additions); a multiply-add "
        "pairs each product with its addition, one per kernel entry",
    },
    hint="count the positions where the 3x3 kernel fits inside the 5x5 image, then the multiply-adds "
    "at each position",
    explanation="The kernel fits at (5 - 3 + 1) x (5 - 3 + 1) = 9 positions, with 3 x 3 = 9 multiply-adds at each.",
)


# --------------------------------------------------------------------------------------------
# 2.6 predict: the impulse response

check_impulse_response = question(
    "2.6",
    "predict: convolve a one-pixel image",
    choices=[
        "the kernel as it is: 1 2 3 / 4 5 6 / 7 8 9",
        "the kernel rotated by 180°: 9 8 7 / 6 5 4 / 3 2 1",
        "the kernel transposed: 1 4 7 / 2 5 8 / 3 6 9",
        "one value, 45 (the sum of the kernel), and zeros around it",
    ],
    expected="a",
    misconceptions={
        "b": "that is what cross-correlation (sliding the kernel as it is) gives: the window whose kernel entry "
        "(i, j) meets the 1 writes h[i, j] on the mirrored side. Convolution's flip undoes that mirror: "
        "with x = 1 only at (i0, j0), y[m, n] = h[m - i0, n - j0]",
        "c": "a transpose mirrors the kernel across its diagonal; neither convolution nor cross-correlation "
        "does that. Put x = 1 only at (i0, j0) into y[m, n] = sum x[i, j] h[m - i, n - j]",
        "d": "each output sums products with one non-zero pixel only, so each output is a single kernel entry "
        "times 1; 45 would need nine pixels equal to 1 under the kernel",
    },
    hint="put x = 1 only at (i0, j0) into y[m, n] = sum over i, j of x[i, j] h[m - i, n - j]: one term is left",
    explanation="With one pixel equal to 1, y[m, n] = h[m - i0, n - j0]: the kernel reappears, the right way round.",
)


# --------------------------------------------------------------------------------------------
# 2.7 frameworks compute cross-correlation

check_framework_kernel = question(
    "2.7",
    "a learned kernel in a true-convolution library",
    choices=[
        "nothing: convolution and cross-correlation are the same operation",
        "rotate each kernel by 180° (reverse its rows and its columns)",
        "transpose each kernel",
        "reverse the rows of the input image instead (upside down)",
    ],
    expected="b",
    misconceptions={
        "a": "they agree only for kernels equal to their 180° rotation, such as the sharpen kernel; a learned "
        "kernel almost never is (the 1..9 kernel gives different maps)",
        "c": "a transpose mirrors across the diagonal, not through the centre: correlating with k equals "
        "convolving with k rotated by 180°, and k.T is that only for special kernels",
        "d": "reversing the image's rows mirrors the problem along one axis only: the maps come out upside "
        "down and correlated with the kernel mirrored left to right",
    },
    hint="cross-correlation with k equals true convolution with which kernel?",
    explanation="Cross-correlating with k is convolving with k rotated by 180°, so rotated kernels give the same maps.",
)
