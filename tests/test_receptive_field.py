"""Receptive fields and counts (lesson 10): the formula, every layer's window, the measured footprint."""

import numpy as np
import pytest

from cnn_helpers.blocks import DenseBlock, InceptionBlock, ResidualBlock, VGGBlock
from cnn_helpers.dense_prediction import fully_conv_net
from cnn_helpers.layers import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, ReLU
from cnn_helpers.model import Sequential
from cnn_helpers.receptive_field import (
    footprint,
    inception_params,
    receptive_field,
    window,
)

F64 = np.float64


# ------------------------------------------------------------------------------------------
# Counting


def test_inception_params_matches_the_block():
    for widths in [
        dict(b1=2, b3=3, b5=1),
        dict(b1=2, b3=3, b5=1, pool_proj=4),
        dict(b1=1, b3=5, b5=2, pool_proj=1, b3_reduce=2, b5_reduce=1),
        dict(b1=64, b3=128, b5=32, pool_proj=32, b3_reduce=96, b5_reduce=16),
    ]:
        count, channels = inception_params(192 if widths["b1"] == 64 else 4, **widths)
        block = InceptionBlock(192 if widths["b1"] == 64 else 4, **widths)
        assert (count, channels) == (block.num_params, block.out_channels)


def test_googlenet_inception_3a():
    # GoogLeNet's first Inception module, inception (3a): 256 output channels.
    count, channels = inception_params(192, 64, 128, 32, 32, b3_reduce=96, b5_reduce=16)
    biases = 64 + 96 + 128 + 16 + 32 + 32
    assert channels == 256
    assert count - biases == 163_328  # 192*64 + 192*96 + 96*9*128 + 192*16 + 16*25*32 + 192*32


def test_inception_params_rejects_bad_widths():
    with pytest.raises(ValueError, match="b3 must be >= 1"):
        inception_params(4, 1, 0, 1)
    with pytest.raises(TypeError, match="b5_reduce must be an integer"):
        inception_params(4, 1, 1, 1, b5_reduce=1.5)


@pytest.mark.parametrize(
    "windows, expected",
    [
        ([(3, 1)], 3),
        ([(3, 1), (3, 1)], 5),
        ([(3, 1)] * 3, 7),
        ([(5, 1)], 5),
        ([(3, 1), (2, 2), (3, 1)], 8),
        ([(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)], 16),
        ([(7, 2), (3, 2), (3, 1)], 19),
        ([((3, 1), 1)], (3, 1)),
    ],
)
def test_receptive_field_formula(windows, expected):
    assert receptive_field(windows) == expected


def test_receptive_field_of_layers_and_blocks():
    assert receptive_field([Conv2D(1, 1, 3), MaxPool2D(2), Conv2D(1, 1, 3), ReLU()]) == 8
    assert receptive_field([VGGBlock(1, 1, num_convs=2)]) == 6
    assert receptive_field([InceptionBlock(1, 1, 1, 1, pool_proj=1)]) == 5
    assert receptive_field([ResidualBlock(1)]) == 5
    assert receptive_field([DenseBlock(1, 1, num_layers=4)]) == 9
    assert receptive_field(fully_conv_net(hidden=(2, 2, 2))) == 7
    assert receptive_field([AvgPool2D(2), ResidualBlock(1)]) == 2 + 4 * 2


@pytest.mark.parametrize(
    "make, shape",
    [
        (
            lambda: Sequential(Conv2D(1, 2, 3, padding=1, dtype=F64), Conv2D(2, 1, 3, padding=1, dtype=F64)),
            (1, 11, 11),
        ),
        (lambda: VGGBlock(1, 2, num_convs=2, pool=False, dtype=F64), (1, 11, 11)),
        (lambda: InceptionBlock(1, 1, 1, 2, pool_proj=1, dtype=F64), (1, 11, 11)),
        (lambda: ResidualBlock(2, dtype=F64), (2, 11, 11)),
        (lambda: DenseBlock(1, 2, num_layers=3, dtype=F64), (1, 11, 11)),
        (
            lambda: Sequential(Conv2D(1, 2, 3, dtype=F64), AvgPool2D(2), Conv2D(2, 2, 3, dtype=F64)),
            (1, 16, 16),
        ),
    ],
)
def test_measured_footprint_matches_formula(make, shape):
    model = make()
    seen = footprint(model, shape, trials=4)
    rows, cols = np.flatnonzero(seen.any(axis=1)), np.flatnonzero(seen.any(axis=0))
    expected = receptive_field(model.layers if isinstance(model, Sequential) else [model])
    assert rows[-1] - rows[0] + 1 == expected
    assert cols[-1] - cols[0] + 1 == expected


def test_window_errors():
    with pytest.raises(ValueError, match="whole input"):
        receptive_field([Conv2D(1, 1, 3), Flatten(), Dense(4, 2)])
    with pytest.raises(TypeError, match="must be a layer, a block or a"):
        receptive_field(["conv"])
    with pytest.raises(ValueError, match="kernel_size, stride"):
        receptive_field([(3, 1, 1)])
    with pytest.raises(TypeError, match="layers must be a sequence"):
        receptive_field(3)


def test_window_asks_the_layer_so_a_new_layer_needs_no_change_here():
    from cnn_helpers.layers import Layer

    class Dilated3x3(Layer):  # a layer the package has never heard of
        @property
        def window(self):
            return (5, 5), (1, 1)

        def forward(self, x):
            return x

    assert window(Dilated3x3()) == ((5, 5), (1, 1))
    assert receptive_field([Dilated3x3(), (3, 1)]) == 7
    assert (
        receptive_field(Sequential(Conv2D(1, 1, 3), MaxPool2D(2), Conv2D(1, 1, 3))) == 8
    )  # one model, not a list
