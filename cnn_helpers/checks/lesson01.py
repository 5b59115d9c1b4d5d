"""Checks for lesson 01, images as data."""

from __future__ import annotations

import math

import numpy as np

from ._core import CheckFailure, diagnose, exercise, passed, question


def _flatten_mistakes():
    """Each known wrong way to flatten, as a whole function of the image, for :func:`diagnose`."""
    return {
        "column-major": (
            lambda image: np.asarray(image).T.reshape(-1),
            "the columns were read first (column-major order); read row by row, left to right",
        ),
        "still 2-D": (
            lambda image: np.asarray(image).reshape(1, -1),
            "the result is still 2-D; return a 1-D vector of H*W values",
        ),
        "rows in reverse order": (
            lambda image: np.asarray(image)[::-1].reshape(-1),
            "the rows come in reverse order (bottom row first); row 0 is the top row "
            "and goes first: pixel (row, col) lands at row * W + col",
        ),
        "each row right to left": (
            lambda image: np.asarray(image)[:, ::-1].reshape(-1),
            "each row was read right to left; read every row from column 0",
        ),
        "whole vector reversed": (
            lambda image: np.asarray(image).reshape(-1)[::-1],
            "the vector is reversed: it must start with the top-left pixel image[0, 0]",
        ),
    }


@exercise(
    "1.1",
    "flatten an image into a vector",
    reference="cnn_helpers.images.flatten_image",
    mistakes=_flatten_mistakes,
)
def check_flatten(flatten):
    """The learner's ``flatten(image)`` must return the row-major 1-D vector of an (H, W) image."""
    rng = np.random.default_rng(101)
    images = [np.arange(6).reshape(2, 3), np.arange(12).reshape(4, 3)]
    images += [rng.integers(0, 256, size=(rng.integers(1, 9), rng.integers(1, 9))) for _ in range(30)]
    cases = [
        (f"case {number}: an image of shape {image.shape}", (image,)) for number, image in enumerate(images)
    ]
    diagnose(
        "1.1", flatten, lambda image: np.asarray(image).reshape(-1), cases, _flatten_mistakes(), name="vector"
    )
    passed("1.1", f"row-major flattening is right on {len(cases)} images")


def _count_mistakes():
    """Each known wrong way to count, as a whole function of (n, degree), for :func:`diagnose`."""
    return {
        "no constant": (
            lambda n, d: math.comb(n + d, d) - 1,
            "the constant term (degree 0) is missing: count it too",
        ),
        "degree d only": (
            lambda n, d: math.comb(n + d - 1, d),
            "only the monomials of degree exactly d were counted: count every degree "
            "from 0 up to d (the constant, the linear terms, ..., the degree-d terms)",
        ),
        "ordered products": (
            lambda n, d: sum(n**k for k in range(d + 1)),
            "ordered products were counted (x1*x2 and x2*x1 are the same feature)",
        ),
        "no squares": (
            lambda n, d: sum(math.comb(n, k) for k in range(d + 1)),
            "squares such as x1*x1 are missing: a term may repeat a variable",
        ),
        "no constant, no squares": (
            lambda n, d: sum(math.comb(n, k) for k in range(1, d + 1)),
            "squares such as x1*x1 and the constant term are missing: a term "
            "may repeat a variable, and degree 0 counts too",
        ),
    }


@exercise(
    "1.2",
    "count polynomial features up to a degree",
    reference="cnn_helpers.images.count_polynomial_features",
    mistakes=_count_mistakes,
)
def check_count_features(count_features):
    """``count_features(n_inputs, degree)``: monomials of degree 0..degree in n variables."""
    rng = np.random.default_rng(102)
    settings = [(2500, 2), (1, 1), (2, 2), (3, 2), (4, 3)]
    settings += [(int(rng.integers(1, 40)), int(rng.integers(1, 5))) for _ in range(30)]
    cases = [(f"n_inputs={n}, degree={degree}", (n, degree)) for n, degree in settings]
    diagnose("1.2", count_features, lambda n, d: math.comb(n + d, d), cases, _count_mistakes(), name="count")
    passed("1.2", f"feature counts are right on {len(cases)} cases, including 50x50 pixels at degree 2")


def _weight_mistakes():
    """Each known wrong way to count a dense layer's parameters, for :func:`diagnose`."""
    return {
        "no biases": (lambda n, u: n * u, "the biases are missing: each unit has one"),
        "bias per input": (
            lambda n, u: n * u + n,
            "one bias per input was added; a bias belongs to each unit",
        ),
        "added": (lambda n, u: n + u, "inputs and units were added instead of multiplied"),
        "one bias": (lambda n, u: n * u + 1, "only one bias was added: each unit has its own"),
    }


@exercise(
    "1.4",
    "count the weights of a dense layer",
    reference="cnn_helpers.images.dense_weight_count",
    mistakes=_weight_mistakes,
)
def check_dense_weights(dense_weight_count):
    """``dense_weight_count(n_inputs, n_units)``: weights plus one bias per unit."""
    rng = np.random.default_rng(103)
    settings = [(2500, 100), (784, 10), (3, 1)] + [
        (int(rng.integers(1, 5000)), int(rng.integers(1, 500))) for _ in range(30)
    ]
    cases = [
        (f"n_inputs={n_inputs}, n_units={n_units}", (n_inputs, n_units)) for n_inputs, n_units in settings
    ]
    diagnose("1.4", dense_weight_count, lambda n, u: n * u + u, cases, _weight_mistakes(), name="count")
    passed("1.4", f"dense-layer parameter counts are right on {len(cases)} cases")


def _position_mistakes():
    """Each known wrong way to invert ``row * W + col``, for :func:`diagnose`."""
    return {
        "height for width": (
            lambda index, height, width: (index // height, index % height),
            "you divided by the height; each row holds W pixels, so divide by the width: "
            "row = index // W, col = index % W",
        ),
        "row and column swapped": (
            lambda index, height, width: (index % width, index // width),
            "row and column are swapped: the quotient index // W is the row, the "
            "remainder index % W the column",
        ),
        "column-major": (
            lambda index, height, width: (index % height, index // height),
            "that inverts column-major order (col * H + row); the vector was filled row by row, "
            "index = row * W + col",
        ),
        "counted from 1": (
            lambda index, height, width: (index // width + 1, index % width + 1),
            "rows and columns are counted from 0 in NumPy: position 0 is pixel (0, 0)",
        ),
    }


def _pixel_position(index, height, width):
    return (index // width, index % width)


@exercise("1.5", "which pixel is at position k?", reference=None, mistakes=_position_mistakes)
def check_pixel_position(pixel_position):
    """``pixel_position(index, height, width)``: the (row, col) whose pixel lands at ``index``."""
    rng = np.random.default_rng(104)
    settings = [
        (2, 8, 8),
        (63, 8, 8),
        (5, 2, 3),
        (3, 2, 3),
        (4, 3, 2),
        (2499, 50, 50),
        (130, 50, 50),
        (5, 3, 7),
        (20, 3, 7),
    ]
    for _ in range(30):
        height, width = (int(v) for v in rng.integers(1, 12, size=2))
        settings.append((int(rng.integers(0, height * width)), height, width))
    cases = [
        (f"index={index} in a {height}x{width} image", (index, height, width))
        for index, height, width in settings
    ]
    answers = diagnose("1.5", pixel_position, _pixel_position, cases, _position_mistakes(), name="(row, col)")
    for (description, _), answer in zip(cases, answers, strict=True):
        if np.ndim(answer) != 1 or len(answer) != 2:
            raise CheckFailure(f"Exercise 1.5: on {description}, return a pair (row, col), got {answer!r}")
    passed("1.5", f"(row, col) is right for {len(cases)} positions, in square and non-square images")


check_shuffled_accuracy = question(
    "1.6",
    "predict: a dense classifier on shuffled pixels",
    choices=[
        "clearly lower than on the real images (the pictures are destroyed)",
        "exactly the same as on the real images",
        "clearly higher than on the real images",
    ],
    expected="b",
    misconceptions={
        "a": "the pictures are destroyed for our eyes, not for the classifier: a dense layer gives every "
        "pixel its own weight and never uses which pixels are neighbours, so the same shuffle of its "
        "weights gives the same model",
        "c": "nothing is gained either: the shuffled problem is the real one with the inputs renamed, so "
        "gradient descent from zero weights follows the same path, weights shuffled",
    },
    hint="ask what a dense layer knows about where a pixel is",
    explanation="A dense layer has no notion of neighbouring pixels: it learns the same weights, reordered.",
)

check_shifted_accuracy = question(
    "1.3",
    "predict: nearest neighbours on digits shifted by one pixel",
    choices=["above 95 %: a one-pixel shift is too small to matter", "between 80 % and 95 %", "below 80 %"],
    expected="c",
    misconceptions={
        "a": "to our eyes the digit is the same, but raw pixel vectors compare pixel by pixel: a one-pixel "
        "shift moves the ink onto different pixels, and the vector lands far from its own training "
        "digits",
        "b": "the drop is larger: an 8x8 digit's strokes are only one or two pixels wide, so after a "
        "one-pixel shift much of the ink sits on pixels the unshifted digits leave empty, and the "
        "nearest training digit is often a different digit",
    },
    hint="strokes are one or two pixels wide: how much of a stroke still covers its own pixels after a shift?",
    explanation="Raw pixel vectors compare pixel by pixel, so a one-pixel shift moves a digit far from its own "
    "training examples.",
)


__all__ = [
    "check_flatten",
    "check_count_features",
    "check_dense_weights",
    "check_pixel_position",
    "check_shuffled_accuracy",
    "check_shifted_accuracy",
    "CheckFailure",
]
