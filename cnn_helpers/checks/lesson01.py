"""Checks for lesson 01, images as data."""

from __future__ import annotations

import math

import numpy as np

from ._core import CheckFailure, call, compare, compare_number, exercise, passed


@exercise("1.1", "flatten an image into a vector")
def check_flatten(flatten):
    """The learner's ``flatten(image)`` must return the row-major 1-D vector of an (H, W) image."""
    rng = np.random.default_rng(101)
    cases = [np.arange(6).reshape(2, 3), np.arange(12).reshape(4, 3)]
    cases += [rng.integers(0, 256, size=(rng.integers(1, 9), rng.integers(1, 9))) for _ in range(30)]
    for number, image in enumerate(cases):
        case = f"case {number}: an image of shape {image.shape}"
        received = call("1.1", flatten, image.copy(), case=case)
        mistakes = [
            ("the columns were read first (column-major order); read row by row, left to right", image.T.reshape(-1)),
            ("the result is still 2-D; return a 1-D vector of H*W values", image.reshape(1, -1)),
        ]
        compare("1.1", image.reshape(-1), received, case, mistakes, name="vector")
    passed("1.1", f"row-major flattening is right on {len(cases)} images")


@exercise("1.2", "count polynomial features up to a degree")
def check_count_features(count_features):
    """``count_features(n_inputs, degree)``: monomials of degree 0..degree in n variables."""
    rng = np.random.default_rng(102)
    cases = [(2500, 2), (1, 1), (2, 2), (3, 2), (4, 3)]
    cases += [(int(rng.integers(1, 40)), int(rng.integers(1, 5))) for _ in range(30)]
    for n, degree in cases:
        case = f"n_inputs={n}, degree={degree}"
        expected = math.comb(n + degree, degree)
        received = call("1.2", count_features, n, degree, case=case)
        mistakes = [
            ("the constant term (degree 0) is missing: count it too", expected - 1),
            ("ordered products were counted (x1*x2 and x2*x1 are the same feature)", sum(n ** d for d in range(degree + 1))),
            ("squares such as x1*x1 are missing: a term may repeat a variable",
             sum(math.comb(n, d) for d in range(degree + 1))),
        ]
        compare_number("1.2", expected, received, case, mistakes, name="count")
    passed("1.2", f"feature counts are right on {len(cases)} cases, including 50x50 pixels at degree 2")


@exercise("1.3", "count the weights of a dense layer")
def check_dense_weights(dense_weight_count):
    """``dense_weight_count(n_inputs, n_units)``: weights plus one bias per unit."""
    rng = np.random.default_rng(103)
    cases = [(2500, 100), (784, 10), (3, 1)] + [(int(rng.integers(1, 5000)), int(rng.integers(1, 500))) for _ in range(30)]
    for n_inputs, n_units in cases:
        case = f"n_inputs={n_inputs}, n_units={n_units}"
        expected = n_inputs * n_units + n_units
        received = call("1.3", dense_weight_count, n_inputs, n_units, case=case)
        mistakes = [
            ("the biases are missing: each unit has one", n_inputs * n_units),
            ("one bias per input was added; a bias belongs to each unit", n_inputs * n_units + n_inputs),
            ("inputs and units were added instead of multiplied", n_inputs + n_units),
        ]
        compare_number("1.3", expected, received, case, mistakes, name="count")
    passed("1.3", f"dense-layer parameter counts are right on {len(cases)} cases")


__all__ = ["check_flatten", "check_count_features", "check_dense_weights", "CheckFailure"]
