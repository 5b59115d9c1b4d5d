"""Checks for lesson 02, convolution.

Each check runs the learner's function on the lecture's 5x5 image (with the sharpen and 1..9
kernels) and on many seeded random images and kernels of different, often non-square, shapes,
so that symmetric-kernel coincidences and square-shape coincidences cannot hide a mistake.
"""

from __future__ import annotations

import numpy as np

from .. import conv
from ..data import lecture_example
from ._core import CheckFailure, call, compare, exercise, passed, question

__all__ = [
    "check_correlate2d_loops", "check_convolve2d_loops", "check_convolve_full", "check_flip_matters",
    "check_multiply_adds", "CheckFailure",
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
        ("a 3x3 image with a 3x3 kernel (one window)", np.arange(9.0).reshape(3, 3), np.arange(9.0)[::-1].reshape(3, 3) - 4),
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


def _size_mistakes(expected):
    """What an output one row and one column too small or too large would hold."""
    too_small = expected[:-1, :-1] if min(expected.shape) > 1 else None
    return [
        ("output size off by one: it must be (H - KH + 1, W - KW + 1); range(H - KH) misses the last window",
         too_small),
    ]


@exercise("2.1", "cross-correlation with loops", reference="cnn_helpers.conv.correlate2d")
def check_correlate2d_loops(correlate2d_loops):
    """``correlate2d_loops(image, kernel)``: valid cross-correlation, kernel not flipped."""
    cases = _map_cases(seed=201)
    for description, image, kernel in cases:
        expected = conv.correlate2d(image, kernel)
        received = call("2.1", correlate2d_loops, image.copy(), kernel.copy(), case=description)
        mistakes = [
            ("the kernel was flipped: that is true convolution (exercise 2.2); cross-correlation "
             "multiplies each window by the kernel as it is", conv.correlate2d(image, _rot180(kernel))),
            ("the kernel was transposed (kernel.T): rows and columns of the kernel swapped",
             conv.correlate2d(image, kernel.T) if kernel.shape[::-1] == kernel.shape else None),
            ("rows and columns swapped: out[r, c] must come from the window whose top-left pixel is "
             "image[r, c] (r counts rows, c counts columns)", expected.T),
            *_size_mistakes(expected),
        ]
        compare("2.1", expected, received, description, mistakes, name="feature map")
    passed("2.1", f"cross-correlation is right on {len(cases)} image/kernel pairs, "
                  "including the lecture's map [[3, 3, -2], [-3, -3, 4], [3, 3, -4]]")


def _flip_mistakes(image, kernel, expected):
    """What a convolution with a wrong flip (or none) would return."""
    square = kernel.shape[0] == kernel.shape[1]
    return [
        ("the kernel was not flipped: that is cross-correlation; true convolution rotates the "
         "kernel by 180° first (kernel[::-1, ::-1])", conv.correlate2d(image, kernel)),
        ("the kernel was flipped along one axis only (upside down, np.flipud); flip rows AND "
         "columns: kernel[::-1, ::-1]", conv.correlate2d(image, kernel[::-1, :])),
        ("the kernel was flipped along one axis only (left to right, np.fliplr); flip rows AND "
         "columns: kernel[::-1, ::-1]", conv.correlate2d(image, kernel[:, ::-1])),
        ("the kernel was transposed instead of flipped: kernel.T mirrors it across the diagonal, "
         "a flip reverses both rows and columns (kernel[::-1, ::-1])",
         conv.correlate2d(image, kernel.T) if square else None),
        ("the image was flipped instead of the kernel: the map comes out rotated by 180°; flip "
         "the kernel, not the image", _rot180(expected)),
        ("rows and columns swapped: out[r, c] must come from the window whose top-left pixel is "
         "image[r, c]", expected.T),
        *_size_mistakes(expected),
    ]


@exercise("2.2", "true convolution: flip, then slide", reference="cnn_helpers.conv.convolve2d")
def check_convolve2d_loops(convolve2d_loops):
    """``convolve2d_loops(image, kernel)``: valid true convolution (kernel rotated by 180°)."""
    cases = _map_cases(seed=202)
    for description, image, kernel in cases:
        expected = conv.convolve2d(image, kernel)
        received = call("2.2", convolve2d_loops, image.copy(), kernel.copy(), case=description)
        compare("2.2", expected, received, description, _flip_mistakes(image, kernel, expected),
                name="feature map")
    passed("2.2", f"convolution is right on {len(cases)} image/kernel pairs, "
                  "including the lecture's 1..9 kernel, where the flip shows")


def _full_convolution(x, h):
    """y[m, n] = sum_ij x[i, j] h[m - i, n - j], out-of-range terms zero; shape (H+KH-1, W+KW-1)."""
    kernel_h, kernel_w = h.shape
    return conv.convolve2d(x, h, padding=(kernel_h - 1, kernel_w - 1))


def _plus_index_form(x, h):
    """The mistake y[m, n] = sum_ij x[i, j] h[m + i, n + j] over the same output range."""
    height, width = x.shape
    kernel_h, kernel_w = h.shape
    out = np.zeros((height + kernel_h - 1, width + kernel_w - 1))
    for m in range(out.shape[0]):
        for n in range(out.shape[1]):
            for i in range(height):
                for j in range(width):
                    if m + i < kernel_h and n + j < kernel_w:
                        out[m, n] += x[i, j] * h[m + i, n + j]
    return out


def _full_cases(seed, count=30):
    example = lecture_example()
    cases = [
        ("the lecture's 5x5 image with the 1..9 kernel", example.image, example.one_to_nine),
        ("the lecture's 5x5 image with the sharpen kernel", example.image, example.sharpen),
        ("x = [[1, 2, 3]] with h = [[1, 1]] (a 1-D example)", np.array([[1.0, 2, 3]]), np.array([[1.0, 1]])),
        ("x = [[1, 2]] with h = [[1, 10, 100]] (kernel longer than the image)",
         np.array([[1.0, 2]]), np.array([[1.0, 10, 100]])),
        ("a 2x3 image with a 3x2 kernel", np.arange(1.0, 7).reshape(2, 3), np.array([[1.0, -1], [2, 0], [0, 3]])),
        ("a 1x1 image with a 3x3 kernel", np.array([[2.0]]), np.arange(9.0).reshape(3, 3)),
    ]
    rng = np.random.default_rng(seed)
    for _ in range(count):
        height, width, kernel_h, kernel_w = rng.integers(1, 7, size=4)
        image = rng.integers(-5, 6, size=(height, width)).astype(float)
        kernel = rng.normal(size=(kernel_h, kernel_w))
        cases.append((f"a random {height}x{width} image with a {kernel_h}x{kernel_w} kernel", image, kernel))
    return cases


@exercise("2.3", "the discrete definition, term by term", reference="cnn_helpers.conv.convolve2d")
def check_convolve_full(convolve_full):
    """``convolve_full(x, h)``: the full convolution of shape (H + KH - 1, W + KW - 1)."""
    cases = _full_cases(seed=203)
    for description, x, h in cases:
        expected = _full_convolution(x, h)
        received = call("2.3", convolve_full, x.copy(), h.copy(), case=description)
        kernel_h, kernel_w = h.shape
        full_correlation = conv.correlate2d(x, h, padding=(kernel_h - 1, kernel_w - 1))
        valid = conv.convolve2d(x, h) if h.shape[0] <= x.shape[0] and h.shape[1] <= x.shape[1] else None
        mistakes = [
            ("the definition uses h[m - i, n - j]; you used h[m + i, n + j] (the slide's correlation "
             "form), which only reaches the first KH x KW outputs", _plus_index_form(x, h)),
            ("the kernel was not flipped: this is the full cross-correlation. With h[m - i, n - j] "
             "the kernel index runs backwards as i runs forwards", full_correlation),
            ("only the 'valid' part was returned; the full convolution also keeps the partial "
             "overlaps at the border, shape (H + KH - 1, W + KW - 1)", valid),
            ("output size off by one: the full convolution has H + KH - 1 rows and W + KW - 1 "
             "columns (m runs from 0 to H + KH - 2)",
             expected[:-1, :-1] if min(expected.shape) > 1 else None),
            ("output size off by one: the full convolution has H + KH - 1 rows and W + KW - 1 "
             "columns, not H + KH and W + KW", np.pad(expected, ((0, 1), (0, 1)))),
            ("rows and columns swapped: m indexes rows (with i and the kernel's rows), n indexes "
             "columns", expected.T),
        ]
        compare("2.3", expected, received, description, mistakes, name="full convolution")
    passed("2.3", f"the full convolution is right on {len(cases)} pairs, "
                  "shape (H + KH - 1, W + KW - 1) every time")


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
        ("the emboss kernel (equal to its transpose, not to its rotation)",
         np.array([[-2.0, -1, 0], [-1, 1, 1], [0, 1, 2]])),
        ("[[1, 2], [2, 3]] (equal to its transpose, not to its rotation)", np.array([[1.0, 2], [2, 3]])),
        ("[[1, 2, 1], [3, 4, 3]] (equal to its left-right mirror, not to its rotation)",
         np.array([[1.0, 2, 1], [3, 4, 3]])),
        ("[[1, 3], [2, 4], [1, 3]] (equal to its upside-down mirror, not to its rotation)",
         np.array([[1.0, 3], [2, 4], [1, 3]])),
        ("[[1, 2, 3], [4, 5, 4], [3, 2, 1]] (equal to its rotation, not to its transpose)",
         np.array([[1.0, 2, 3], [4, 5, 4], [3, 2, 1]])),
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
    ("True must mean that the flip matters; your answers are the opposite on every kernel",
     lambda kernel: not _mirror_test(_rot180)(kernel)),
    ("you compared the kernel with its transpose (kernel.T); the flip is a 180° rotation, "
     "kernel[::-1, ::-1], which is not the same mirror", _mirror_test(np.transpose)),
    ("you compared the kernel with only one axis flipped (upside down); the flip reverses rows "
     "AND columns, kernel[::-1, ::-1]", _mirror_test(lambda kernel: kernel[::-1, :])),
    ("you compared the kernel with only one axis flipped (left to right); the flip reverses rows "
     "AND columns, kernel[::-1, ::-1]", _mirror_test(lambda kernel: kernel[:, ::-1])),
    ("you tested for symmetric kernels in every sense (transpose, each mirror); only the 180° "
     "rotation matters", lambda kernel: any(_mirror_test(m)(kernel) for m in
                                           (np.transpose, lambda k: k[::-1, :], lambda k: k[:, ::-1], _rot180))),
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
    for (description, kernel), received in zip(cases, answers):
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
    passed("2.4", f"right on {len(cases)} kernels ({differ} where the flip matters, "
                  f"{len(cases) - differ} where it does not)")


def _likely_flip_mistake(cases, answers):
    """The known mistake that agrees with every answer the learner gave (else on the most)."""
    best, best_agreement = None, 0
    for description, mistaken in FLIP_MISTAKES:
        agreement = sum(mistaken(kernel) == answer for (_, kernel), answer in zip(cases, answers))
        if agreement > best_agreement:
            best, best_agreement = description, agreement
    return best if best_agreement >= len(cases) - 2 else None


# --------------------------------------------------------------------------------------------
# 2.5 a checked question (the worked example of the pattern: see _core.question)

check_multiply_adds = question(
    "2.5", "multiply-adds of a valid correlation",
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
