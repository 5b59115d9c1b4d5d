"""Shared pytest fixtures and oracle imports that skip cleanly when an oracle is missing."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded generator, so every random test case is reproducible."""
    return np.random.default_rng(0)
