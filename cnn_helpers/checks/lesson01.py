"""Checks for lesson 01, images as data."""

from __future__ import annotations

import math

import numpy as np

from ._core import CheckFailure, call, compare, diagnose, exercise, passed


@exercise("1.1", "flatten an image into a vector", reference="cnn_helpers.images.flatten_image")
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


def _count_mistakes():
    """Each known wrong way to count, as a whole function of (n, degree), for :func:`diagnose`."""
    return {
        "no constant": (lambda n, d: math.comb(n + d, d) - 1,
                        "the constant term (degree 0) is missing: count it too"),
        "degree d only": (lambda n, d: math.comb(n + d - 1, d),
                          "only the monomials of degree exactly d were counted: count every degree "
                          "from 0 up to d (the constant, the linear terms, ..., the degree-d terms)"),
        "ordered products": (lambda n, d: sum(n ** k for k in range(d + 1)),
                             "ordered products were counted (x1*x2 and x2*x1 are the same feature)"),
        "no squares": (lambda n, d: sum(math.comb(n, k) for k in range(d + 1)),
                       "squares such as x1*x1 are missing: a term may repeat a variable"),
        "no constant, no squares": (lambda n, d: sum(math.comb(n, k) for k in range(1, d + 1)),
                                    "squares such as x1*x1 and the constant term are missing: a term "
                                    "may repeat a variable, and degree 0 counts too"),
    }


@exercise("1.2", "count polynomial features up to a degree", reference="cnn_helpers.images.count_polynomial_features",
          mistakes=_count_mistakes)
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
        "bias per input": (lambda n, u: n * u + n, "one bias per input was added; a bias belongs to each unit"),
        "added": (lambda n, u: n + u, "inputs and units were added instead of multiplied"),
        "one bias": (lambda n, u: n * u + 1, "only one bias was added: each unit has its own"),
    }


@exercise("1.3", "count the weights of a dense layer", reference="cnn_helpers.images.dense_weight_count",
          mistakes=_weight_mistakes)
def check_dense_weights(dense_weight_count):
    """``dense_weight_count(n_inputs, n_units)``: weights plus one bias per unit."""
    rng = np.random.default_rng(103)
    settings = [(2500, 100), (784, 10), (3, 1)] + [(int(rng.integers(1, 5000)), int(rng.integers(1, 500))) for _ in range(30)]
    cases = [(f"n_inputs={n_inputs}, n_units={n_units}", (n_inputs, n_units)) for n_inputs, n_units in settings]
    diagnose("1.3", dense_weight_count, lambda n, u: n * u + u, cases, _weight_mistakes(), name="count")
    passed("1.3", f"dense-layer parameter counts are right on {len(cases)} cases")


__all__ = ["check_flatten", "check_count_features", "check_dense_weights", "CheckFailure"]
