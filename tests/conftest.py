"""Fixtures shared by the tests under tests/ (the root conftest.py sets the kernels' environment)."""

import socket

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded generator, so every random test case is reproducible."""
    return np.random.default_rng(0)


@pytest.fixture
def no_network(monkeypatch):
    """Fail any attempt to open a network connection (the data loaders' offline tests)."""

    def refuse(*args, **kwargs):
        raise AssertionError("this test must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
