"""Fixtures shared by the tests under tests/ (the root conftest.py sets the kernels' environment)."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded generator, so every random test case is reproducible."""
    return np.random.default_rng(0)
