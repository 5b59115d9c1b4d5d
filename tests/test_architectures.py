"""The lesson-10 blocks: shapes, parameter counts, receptive fields, gradients and a torch oracle."""

import numpy as np
import pytest

from cnn_helpers import architectures as arch
from cnn_helpers.gradcheck import check_layer, check_operation
from cnn_helpers.layers import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, ReLU, SoftmaxCrossEntropy
from cnn_helpers.model import Sequential
from cnn_helpers.optim import SGD, Adam

F64 = np.float64


def small_input(rng, shape):
    # away from 0 so no ReLU sits on its kink during numerical differentiation
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < 0.05, 0.1, x)


BLOCKS = {
    "vgg": lambda: arch.VGGBlock(2, 3, num_convs=2, rng=1, dtype=F64),
    "vgg-no-pool": lambda: arch.VGGBlock(2, 3, num_convs=3, pool=False, rng=1, dtype=F64),
    "inception": lambda: arch.InceptionBlock(3, b1=2, b3=2, b5=1, pool_proj=2, rng=2, dtype=F64),
    "inception-bottleneck": lambda: arch.InceptionBlock(
        4, b1=1, b3=3, b5=2, pool_proj=1, b3_reduce=2, b5_reduce=1, rng=3, dtype=F64
    ),
    "residual": lambda: arch.ResidualBlock(3, rng=4, dtype=F64),
    "plain": lambda: arch.ResidualBlock(3, shortcut=False, rng=4, dtype=F64),
    "dense": lambda: arch.DenseBlock(2, growth_rate=3, num_layers=3, rng=5, dtype=F64),
}
IN_CHANNELS = {"vgg": 2, "vgg-no-pool": 2, "inception": 3, "inception-bottleneck": 4, "residual": 3, "plain": 3, "dense": 2}


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_block_gradients_match_numerical(name, rng):
    block = BLOCKS[name]()
    x = small_input(rng, (2, IN_CHANNELS[name], 6, 6))
    result = check_layer(block, x, seed=7)
    assert result.passed, str(result)
    assert {c.name for c in result} == set(block.params) | {"input"}


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_block_shapes_and_counts(name, rng):
    block = BLOCKS[name]()
    x = rng.standard_normal((3, IN_CHANNELS[name], 6, 6))
    out = block.forward(x)
    assert out.shape[1:] == block.output_shape(x.shape[1:])
    assert block.num_params == sum(a.size for a in block.params.values())
    assert set(block.params) == set(block.grads) or not block.grads  # before backward: no grads yet
    block.backward(np.ones_like(out))
    assert set(block.params) == set(block.grads)
    for key in block.params:
        assert block.grads[key].shape == block.params[key].shape


def test_params_are_the_inner_arrays_so_optimisers_train_them(rng):
    block = arch.ResidualBlock(2, rng=0, dtype=F64)
    inner = block.branch.layers[0].params["W"]
    assert block.params["branch.0.W"] is inner
    before = inner.copy()
    block.forward(rng.standard_normal((2, 2, 4, 4)))
    block.backward(np.ones((2, 2, 4, 4)))
    SGD(block, lr=0.1).step()
    assert not np.allclose(inner, before)
    np.testing.assert_allclose(inner, before - 0.1 * block.grads["branch.0.W"])


def test_blocks_inside_sequential_train(rng):
    model = Sequential(
        Conv2D(1, 4, 3, padding=1, rng=0),
        ReLU(),
        arch.ResidualBlock(4, rng=1),
        arch.InceptionBlock(4, b1=2, b3=2, b5=2, pool_proj=2, b3_reduce=2, b5_reduce=1, rng=2),
        arch.DenseBlock(8, growth_rate=2, num_layers=2, rng=3),
        MaxPool2D(2),
        Flatten(),
        Dense(12 * 2 * 2, 3, rng=4),
    )
    assert "InceptionBlock" in model.summary((1, 4, 4))
    x = rng.standard_normal((12, 1, 4, 4)).astype(np.float32)
    y = np.arange(12) % 3
    loss, optimizer = SoftmaxCrossEntropy(), Adam(model, lr=0.01)
    losses = []
    for _ in range(40):
        losses.append(loss.forward(model.forward(x), y))
        model.backward(loss.backward())
        optimizer.step()
    assert losses[-1] < 0.5 * losses[0]


def test_whole_model_gradient_with_blocks(rng):
    from cnn_helpers.gradcheck import check_model

    model = Sequential(
        arch.ResidualBlock(2, rng=1, dtype=F64),
        arch.DenseBlock(2, growth_rate=1, num_layers=2, rng=2, dtype=F64),
        Flatten(),
        Dense(4 * 3 * 3, 3, rng=3, dtype=F64),
    )
    for key, array in model.params.items():
        if key.endswith(".b"):  # zero biases put ReLUs on their kink where a window is all zeros
            array[...] = rng.uniform(0.1, 0.3, size=array.shape)
    result = check_model(model, SoftmaxCrossEntropy(), small_input(rng, (3, 2, 3, 3)), [0, 1, 2])
    assert result.passed, str(result)


# ------------------------------------------------------------------------------------------
# Counting


def test_inception_params_matches_the_block():
    for widths in [
        dict(b1=2, b3=3, b5=1),
        dict(b1=2, b3=3, b5=1, pool_proj=4),
        dict(b1=1, b3=5, b5=2, pool_proj=1, b3_reduce=2, b5_reduce=1),
        dict(b1=64, b3=128, b5=32, pool_proj=32, b3_reduce=96, b5_reduce=16),
    ]:
        count, channels = arch.inception_params(192 if widths["b1"] == 64 else 4, **widths)
        block = arch.InceptionBlock(192 if widths["b1"] == 64 else 4, **widths)
        assert (count, channels) == (block.num_params, block.out_channels)


def test_googlenet_inception_3a():
    # GoogLeNet's first Inception module, inception (3a): 256 output channels.
    count, channels = arch.inception_params(192, 64, 128, 32, 32, b3_reduce=96, b5_reduce=16)
    biases = 64 + 96 + 128 + 16 + 32 + 32
    assert channels == 256
    assert count - biases == 163_328  # 192*64 + 192*96 + 96*9*128 + 192*16 + 16*25*32 + 192*32


def test_inception_params_rejects_bad_widths():
    with pytest.raises(ValueError, match="b3 must be >= 1"):
        arch.inception_params(4, 1, 0, 1)
    with pytest.raises(TypeError, match="b5_reduce must be an integer"):
        arch.inception_params(4, 1, 1, 1, b5_reduce=1.5)


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
    assert arch.receptive_field(windows) == expected


def test_receptive_field_of_layers_and_blocks():
    assert arch.receptive_field([Conv2D(1, 1, 3), MaxPool2D(2), Conv2D(1, 1, 3), ReLU()]) == 8
    assert arch.receptive_field([arch.VGGBlock(1, 1, num_convs=2)]) == 6
    assert arch.receptive_field([arch.InceptionBlock(1, 1, 1, 1, pool_proj=1)]) == 5
    assert arch.receptive_field([arch.ResidualBlock(1)]) == 5
    assert arch.receptive_field([arch.DenseBlock(1, 1, num_layers=4)]) == 9
    assert arch.receptive_field(arch.fully_conv_net(hidden=(2, 2, 2))) == 7
    assert arch.receptive_field([AvgPool2D(2), arch.ResidualBlock(1)]) == 2 + 4 * 2


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: Sequential(Conv2D(1, 2, 3, padding=1, dtype=F64), Conv2D(2, 1, 3, padding=1, dtype=F64)), (1, 11, 11)),
        (lambda: arch.VGGBlock(1, 2, num_convs=2, pool=False, dtype=F64), (1, 11, 11)),
        (lambda: arch.InceptionBlock(1, 1, 1, 2, pool_proj=1, dtype=F64), (1, 11, 11)),
        (lambda: arch.ResidualBlock(2, dtype=F64), (2, 11, 11)),
        (lambda: arch.DenseBlock(1, 2, num_layers=3, dtype=F64), (1, 11, 11)),
        (lambda: Sequential(Conv2D(1, 2, 3, dtype=F64), AvgPool2D(2), Conv2D(2, 2, 3, dtype=F64)), (1, 16, 16)),
    ],
)
def test_measured_footprint_matches_formula(make, shape):
    model = make()
    seen = arch.footprint(model, shape, trials=4)
    rows, cols = np.flatnonzero(seen.any(axis=1)), np.flatnonzero(seen.any(axis=0))
    expected = arch.receptive_field(model.layers if isinstance(model, Sequential) else [model])
    assert rows[-1] - rows[0] + 1 == expected
    assert cols[-1] - cols[0] + 1 == expected


def test_window_errors():
    with pytest.raises(ValueError, match="whole input"):
        arch.receptive_field([Conv2D(1, 1, 3), Flatten(), Dense(4, 2)])
    with pytest.raises(TypeError, match="must be a layer, a block or a"):
        arch.receptive_field(["conv"])
    with pytest.raises(ValueError, match="kernel_size, stride"):
        arch.receptive_field([(3, 1, 1)])
    with pytest.raises(TypeError, match="layers must be a sequence"):
        arch.receptive_field(3)


def test_dense_block_channel_growth():
    block = arch.DenseBlock(16, growth_rate=12, num_layers=4)
    assert block.channels_per_layer() == [16, 28, 40, 52, 64]
    assert block.output_shape((16, 8, 8)) == (64, 8, 8)
    x = np.random.default_rng(0).standard_normal((1, 16, 3, 3)).astype(np.float32)
    out = block.forward(x)
    np.testing.assert_array_equal(out[:, :16], x)  # the input is passed on untouched


def test_residual_block_with_zero_branch_is_identity_after_relu(rng):
    block = arch.ResidualBlock(3, dtype=F64)
    block.params["branch.2.W"][...] = 0
    x = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_array_equal(block.forward(x), np.maximum(x, 0))
    dout = rng.standard_normal(x.shape)
    np.testing.assert_array_equal(block.backward(dout), dout * (x > 0))


def test_block_input_errors():
    with pytest.raises(ValueError, match=r"ResidualBlock expects x of shape \(N, 3, H, W\), got shape \(1, 2, 4, 4\)"):
        arch.ResidualBlock(3).forward(np.zeros((1, 2, 4, 4)))
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        arch.ResidualBlock(3, kernel_size=4)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        arch.DenseBlock(3, 2, 2, kernel_size=2)
    with pytest.raises(ValueError, match="size must be odd"):
        arch.MaxPoolSame(2)
    with pytest.raises(TypeError, match="must be a layer with forward"):
        arch.Chain(Conv2D(1, 1, 3), "relu")
    with pytest.raises(ValueError, match="num_convs must be >= 1"):
        arch.VGGBlock(1, 2, num_convs=0)


# ------------------------------------------------------------------------------------------
# Detection and segmentation helpers


def test_fully_conv_net_keeps_size_and_is_translation_equivariant(rng):
    net = arch.fully_conv_net(1, hidden=(3, 3), out_channels=2, dtype=F64)
    x = np.zeros((1, 1, 12, 12))
    x[0, 0, 3:6, 3:6] = rng.standard_normal((3, 3))
    shifted = np.roll(x, (2, 3), axis=(2, 3))
    out, out_shifted = net.forward(x), net.forward(shifted)
    assert out.shape == (1, 2, 12, 12)
    np.testing.assert_allclose(np.roll(out, (2, 3), axis=(2, 3)), out_shifted, atol=1e-12)


def test_fully_conv_net_errors():
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        arch.fully_conv_net(kernel_size=4)
    with pytest.raises(TypeError, match="hidden must be a sequence"):
        arch.fully_conv_net(hidden=8)


def test_pixel_softmax_cross_entropy_gradient(rng):
    labels = rng.integers(0, 3, size=(2, 4, 5))
    loss = arch.PixelSoftmaxCrossEntropy()

    def forward(logits):
        return np.array(loss.forward(logits, labels))

    def backward(dout, logits):
        loss.forward(logits, labels)
        return loss.backward(float(dout))

    result = check_operation(forward, backward, {"logits": rng.standard_normal((2, 3, 4, 5))}, dout=np.array(1.3))
    assert result.passed, str(result)
    with pytest.raises(ValueError, match="labels must have shape"):
        loss.forward(np.zeros((2, 3, 4, 5)), np.zeros((2, 4)))
    with pytest.raises(RuntimeError, match="before forward"):
        arch.PixelSoftmaxCrossEntropy().backward()


def test_heatmap_and_locate():
    scores = np.full((2, 1, 3, 4), -5.0)
    scores[0, 0, 1, 2] = 5.0
    scores[1, 0, 2, 0] = 5.0
    heat = arch.heatmap(scores)
    np.testing.assert_allclose(heat.sum(axis=(1, 2)), 1.0)
    assert arch.locate(heat).tolist() == [[1, 2], [2, 0]]
    assert arch.locate(scores).tolist() == [[1, 2], [2, 0]]
    with pytest.raises(ValueError, match="maps must have shape"):
        arch.locate(np.zeros((3, 4)))


def test_iou_and_pixel_accuracy():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[:2, :2] = True  # 4 pixels
    b[1:3, 1:3] = True  # 4 pixels, 1 shared
    assert arch.iou(a, b) == pytest.approx(1 / 7)
    assert arch.iou(a, a) == 1.0
    assert arch.iou(np.zeros(3), np.zeros(3)) == 1.0
    assert arch.pixel_accuracy(a, b) == pytest.approx(10 / 16)
    with pytest.raises(ValueError, match="same shape"):
        arch.iou(a, b[:3])
    with pytest.raises(ValueError, match="pred must be a mask"):
        arch.iou(np.full((4, 4), 0.5), b)


# ------------------------------------------------------------------------------------------
# torch oracle: the same weights in PyTorch give the same outputs and gradients


def _torch_conv(torch, x, layer):
    import torch.nn.functional as F

    weight = torch.tensor(layer.params["W"], requires_grad=True)
    bias = torch.tensor(layer.params["b"], requires_grad=True)
    return F.conv2d(x, weight, bias, stride=layer.stride, padding=layer.padding), (weight, bias)


def _torch_chain(torch, x, chain, leaves):
    import torch.nn.functional as F

    for layer in chain.layers:
        if isinstance(layer, Conv2D):
            x, params = _torch_conv(torch, x, layer)
            leaves.append(params)
        elif isinstance(layer, ReLU):
            x = torch.relu(x)
        elif isinstance(layer, MaxPool2D):
            x = F.max_pool2d(x, layer.size, layer.stride)
        elif isinstance(layer, arch.MaxPoolSame):
            x = F.max_pool2d(x, layer.size, 1, padding=layer.size // 2)
        else:  # pragma: no cover
            raise AssertionError(layer)
    return x


def _torch_block(torch, block, x):
    """The block's forward in torch, with its weights; returns (out, leaves in params order)."""
    leaves = []
    if isinstance(block, arch.Chain):
        out = _torch_chain(torch, x, block, leaves)
    elif isinstance(block, arch.InceptionBlock):
        out = torch.cat([_torch_chain(torch, x, branch, leaves) for _, branch in block.children], dim=1)
    elif isinstance(block, arch.ResidualBlock):
        z = _torch_chain(torch, x, block.branch, leaves)
        out = torch.relu(z + x if block.shortcut else z)
    elif isinstance(block, arch.DenseBlock):
        features = x
        for layer in block.layers:
            features = torch.cat([features, _torch_chain(torch, features, layer, leaves)], dim=1)
        out = features
    else:  # pragma: no cover
        raise AssertionError(block)
    return out, [t for pair in leaves for t in pair]


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_blocks_match_torch(name, rng):
    torch = pytest.importorskip("torch")
    block = BLOCKS[name]()
    x = rng.standard_normal((2, IN_CHANNELS[name], 7, 7))
    dout = rng.standard_normal(block.output_shape(x.shape[1:]))[None].repeat(2, axis=0)
    out = block.forward(x)
    dx = block.backward(dout)

    x_torch = torch.tensor(x, requires_grad=True)
    out_torch, leaves = _torch_block(torch, block, x_torch)
    (out_torch * torch.tensor(dout)).sum().backward()
    np.testing.assert_allclose(out, out_torch.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, x_torch.grad.numpy(), rtol=1e-9, atol=1e-11)
    assert len(leaves) == len(block.grads)
    for key, leaf in zip(block.params, leaves):
        np.testing.assert_allclose(block.grads[key], leaf.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=key)


def test_pixel_loss_matches_torch(rng):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    logits = rng.standard_normal((3, 4, 5, 6))
    labels = rng.integers(0, 4, size=(3, 5, 6))
    loss = arch.PixelSoftmaxCrossEntropy()
    value = loss.forward(logits, labels)
    grad = loss.backward()
    logits_torch = torch.tensor(logits, requires_grad=True)
    expected = F.cross_entropy(logits_torch, torch.tensor(labels))
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(grad, logits_torch.grad.numpy(), rtol=1e-10, atol=1e-14)


# ------------------------------------------------------------------------------------------
# Figures


@pytest.fixture
def plt():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.mark.parametrize(
    "block, words",
    [
        (arch.VGGBlock(2, 4), ["3×3 conv, 2→4", "2×2 max pool"]),
        (arch.InceptionBlock(6, 2, 3, 1, pool_proj=2, b3_reduce=2, b5_reduce=1), ["5×5 conv, 1→1", "2 + 3 + 1 + 2 = 8"]),
        (arch.ResidualBlock(3), ["identity", "relu(x + F(x))"]),
        (arch.DenseBlock(4, growth_rate=2, num_layers=2), ["4 + 2 = 6 ch", "6 + 2 = 8 ch"]),
    ],
)
def test_draw_block_shows_what_is_inside(plt, block, words):
    from cnn_helpers.plotting import architectures as plots

    ax = plots.draw_block(block)
    texts = " | ".join(t.get_text() for t in ax.texts)
    for word in words:
        assert word in texts, texts
    assert f"{block.num_params:,} parameters" in ax.get_title()
    assert f"receptive field {arch.receptive_field([block])}" in ax.get_title()


def test_draw_block_rejects_other_things(plt):
    from cnn_helpers.plotting import architectures as plots

    with pytest.raises(TypeError, match="block must be one of the blocks"):
        plots.draw_block(Conv2D(1, 1, 3))


def test_gradient_heatmap_and_mask_plots(plt):
    from cnn_helpers.plotting import architectures as plots

    ax = plots.plot_gradient_norms({"plain": [0.1, 0.5, 1.0], "residual": [0.9, 1.0, 1.0]})
    assert ax.get_yscale() == "log" and ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert [line.get_label() for line in ax.get_lines()][:2] == ["plain", "residual"]
    heat = arch.heatmap(np.zeros((1, 1, 4, 4)))[0]
    ax = plots.show_heatmap(heat, true_center=(1, 2), predicted=(1, 2), title="t")
    assert ax.get_title() == "t" and len(ax.get_lines()) == 2
    ax = plots.show_mask(np.array([[0, 1], [2, 0]]), title="mask")
    assert ax.get_title() == "mask" and not ax.get_xticks().size
    assert plots.layer_label(MaxPool2D(2, stride=1)) == "2×2 max pool, stride 1"
    assert plots.layer_label(arch.MaxPoolSame(3)) == "3×3 max pool, stride 1"
