"""Root pytest configuration: applies to tests/ and to the package's doctests."""

import os
import sys

import pytest

from cnn_helpers.course import DETERMINISTIC_ENV

# The same environment the course's kernels get (one BLAS thread, fixed hash seed), set before
# NumPy loads: trained numbers and the training bar then match on every machine.
os.environ.update(DETERMINISTIC_ENV)


@pytest.fixture(autouse=True)
def _close_figures():
    """Close figures a test or doctest opened, so hundreds of plotting tests don't pile them up."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
