"""The lesson-10 blocks: shapes, parameter counts, gradients, the layer protocol and a torch oracle."""

import numpy as np
import pytest

from cnn_helpers.blocks import DenseBlock, InceptionBlock, MaxPoolSame, ResidualBlock, VGGBlock
from cnn_helpers.dense_prediction import heatmap
from cnn_helpers.gradcheck import check_layer
from cnn_helpers.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, SoftmaxCrossEntropy
from cnn_helpers.model import Sequential
from cnn_helpers.optim import SGD, Adam
from cnn_helpers.receptive_field import receptive_field
from tests._oracles import numerical_gradient

F64 = np.float64


def small_input(rng, shape):
    # away from 0 so no ReLU sits on its kink during numerical differentiation
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < 0.05, 0.1, x)


BLOCKS = {
    "vgg": lambda: VGGBlock(2, 3, num_convs=2, rng=1, dtype=F64),
    "vgg-no-pool": lambda: VGGBlock(2, 3, num_convs=3, pool=False, rng=1, dtype=F64),
    "inception": lambda: InceptionBlock(3, b1=2, b3=2, b5=1, pool_proj=2, rng=2, dtype=F64),
    "inception-bottleneck": lambda: InceptionBlock(
        4, b1=1, b3=3, b5=2, pool_proj=1, b3_reduce=2, b5_reduce=1, rng=3, dtype=F64
    ),
    "residual": lambda: ResidualBlock(3, rng=4, dtype=F64),
    "plain": lambda: ResidualBlock(3, shortcut=False, rng=4, dtype=F64),
    "dense": lambda: DenseBlock(2, growth_rate=3, num_layers=3, rng=5, dtype=F64),
}
IN_CHANNELS = {
    "vgg": 2,
    "vgg-no-pool": 2,
    "inception": 3,
    "inception-bottleneck": 4,
    "residual": 3,
    "plain": 3,
    "dense": 2,
}


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
    block = ResidualBlock(2, rng=0, dtype=F64)
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
        ResidualBlock(4, rng=1),
        InceptionBlock(4, b1=2, b3=2, b5=2, pool_proj=2, b3_reduce=2, b5_reduce=1, rng=2),
        DenseBlock(8, growth_rate=2, num_layers=2, rng=3),
        MaxPool2D(2),
        Flatten(),
        Dense(12 * 2 * 2, 3, rng=4),
    )
    assert "InceptionBlock" in model.summary((1, 4, 4))
    x = rng.standard_normal((12, 1, 4, 4)).astype(np.float32)
    y = np.arange(12) % 3
    loss, optimiser = SoftmaxCrossEntropy(), Adam(model, lr=0.01)
    losses = []
    for _ in range(40):
        losses.append(loss.forward(model.forward(x), y))
        model.backward(loss.backward())
        optimiser.step()
    assert losses[-1] < 0.5 * losses[0]


def test_whole_model_gradient_with_blocks(rng):
    from cnn_helpers.gradcheck import check_model

    model = Sequential(
        ResidualBlock(2, rng=1, dtype=F64),
        DenseBlock(2, growth_rate=1, num_layers=2, rng=2, dtype=F64),
        Flatten(),
        Dense(4 * 3 * 3, 3, rng=3, dtype=F64),
    )
    for key, array in model.params.items():
        if key.endswith(".b"):  # zero biases put ReLUs on their kink where a window is all zeros
            array[...] = rng.uniform(0.1, 0.3, size=array.shape)
    result = check_model(model, SoftmaxCrossEntropy(), small_input(rng, (3, 2, 3, 3)), [0, 1, 2])
    assert result.passed, str(result)


def test_dense_block_channel_growth():
    block = DenseBlock(16, growth_rate=12, num_layers=4)
    assert block.channels_per_layer() == [16, 28, 40, 52, 64]
    assert block.output_shape((16, 8, 8)) == (64, 8, 8)
    x = np.random.default_rng(0).standard_normal((1, 16, 3, 3)).astype(np.float32)
    out = block.forward(x)
    np.testing.assert_array_equal(out[:, :16], x)  # the input is passed on untouched


def test_residual_block_with_zero_branch_is_identity_after_relu(rng):
    block = ResidualBlock(3, dtype=F64)
    block.params["branch.2.W"][...] = 0
    x = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_array_equal(block.forward(x), np.maximum(x, 0))
    dout = rng.standard_normal(x.shape)
    np.testing.assert_array_equal(block.backward(dout), dout * (x > 0))


def test_block_input_errors():
    with pytest.raises(
        ValueError, match=r"ResidualBlock expects x of shape \(N, 3, H, W\), got shape \(1, 2, 4, 4\)"
    ):
        ResidualBlock(3).forward(np.zeros((1, 2, 4, 4)))
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        ResidualBlock(3, kernel_size=4)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        DenseBlock(3, 2, 2, kernel_size=2)
    with pytest.raises(ValueError, match="size must be odd"):
        MaxPoolSame(2)
    with pytest.raises(TypeError, match="must be a layer with forward"):
        Sequential(Conv2D(1, 1, 3), "relu")
    with pytest.raises(ValueError, match="num_convs must be >= 1"):
        VGGBlock(1, 2, num_convs=0)


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
        elif isinstance(layer, MaxPoolSame):
            x = F.max_pool2d(x, layer.size, 1, padding=layer.size // 2)
        else:  # pragma: no cover
            raise AssertionError(layer)
    return x


def _torch_block(torch, block, x):
    """The block's forward in torch, with its weights; returns (out, leaves in params order)."""
    leaves = []
    if isinstance(block, Sequential):  # VGGBlock
        out = _torch_chain(torch, x, block, leaves)
    elif isinstance(block, InceptionBlock):
        out = torch.cat([_torch_chain(torch, x, branch, leaves) for _, branch in block.children], dim=1)
    elif isinstance(block, ResidualBlock):
        z = _torch_chain(torch, x, block.branch, leaves)
        out = torch.relu(z + x if block.shortcut else z)
    elif isinstance(block, DenseBlock):
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
    for key, leaf in zip(block.params, leaves, strict=True):
        np.testing.assert_allclose(block.grads[key], leaf.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=key)


# ------------------------------------------------------------------------------------------
# Figures


@pytest.fixture
def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.mark.parametrize(
    "block, words",
    [
        (VGGBlock(2, 4), ["3×3 conv, 2→4", "2×2 max pool"]),
        (
            InceptionBlock(6, 2, 3, 1, pool_proj=2, b3_reduce=2, b5_reduce=1),
            ["5×5 conv, 1→1", "2 + 3 + 1 + 2 = 8"],
        ),
        (ResidualBlock(3), ["identity", "relu(x + F(x))"]),
        (DenseBlock(4, growth_rate=2, num_layers=2), ["4 + 2 = 6 ch", "6 + 2 = 8 ch"]),
    ],
)
def test_draw_block_shows_what_is_inside(plt, block, words):
    from cnn_helpers.plotting import architecture_plots as plots

    ax = plots.draw_block(block)
    texts = " | ".join(t.get_text() for t in ax.texts)
    for word in words:
        assert word in texts, texts
    assert f"{block.num_params:,} parameters" in ax.get_title()
    assert f"receptive field {receptive_field([block])}" in ax.get_title()


def test_draw_block_rejects_other_things(plt):
    from cnn_helpers.plotting import architecture_plots as plots

    with pytest.raises(TypeError, match="block must be one of the blocks"):
        plots.draw_block(Conv2D(1, 1, 3))


def test_gradient_heatmap_and_mask_plots(plt):
    from cnn_helpers.plotting import architecture_plots as plots

    ax = plots.plot_gradient_norms({"plain": [0.1, 0.5, 1.0], "residual": [0.9, 1.0, 1.0]})
    assert ax.get_yscale() == "log" and ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert [line.get_label() for line in ax.get_lines()][:2] == ["plain", "residual"]
    ax.figure.canvas.draw()
    ticks = [t for t in ax.get_xticks() if 1 <= t <= 3]
    assert ticks and all(float(t).is_integer() for t in ticks)  # blocks are whole numbers
    heat = heatmap(np.zeros((1, 1, 4, 4)))[0]
    ax = plots.show_heatmap(heat, true_centre=(1, 2), predicted=(1, 2), title="t")
    assert ax.get_title() == "t" and len(ax.get_lines()) == 2
    ax = plots.show_mask(np.array([[0, 1], [2, 0]]), title="mask")
    assert ax.get_title() == "mask" and not ax.get_xticks().size
    assert plots.layer_label(MaxPool2D(2, stride=1)) == "2×2 max pool, stride 1"
    assert plots.layer_label(MaxPoolSame(3)) == "3×3 max pool, stride 1"


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_block_gradients_match_the_independent_oracle(name, rng):
    block = BLOCKS[name]()
    x = small_input(rng, (2, IN_CHANNELS[name], 5, 5))
    dout = rng.standard_normal(block.forward(x).shape)
    dx = block.backward(dout)
    analytic = [np.array(layer.grads[key]) for layer, key, _ in block.parameters()]

    def objective():
        return float(np.sum(block.forward(x) * dout))

    np.testing.assert_allclose(dx, numerical_gradient(objective, x), rtol=1e-5, atol=1e-6)
    for grad, (_, _, array) in zip(analytic, block.parameters(), strict=True):
        np.testing.assert_allclose(grad, numerical_gradient(objective, array), rtol=1e-5, atol=1e-6)


def test_blocks_are_layers_whose_parameters_are_leaves():
    from cnn_helpers.layers import Layer

    for name, make in BLOCKS.items():
        block = make()
        assert isinstance(block, Layer), name
        assert block.children, name
        assert all(not layer.children for layer, _, _ in block.parameters()), name
        assert [layer.params[key] is array for layer, key, array in block.parameters()] == [True] * len(
            block.params
        )
        assert [id(a) for a in block.params.values()] == [id(a) for _, _, a in block.parameters()], name
    assert isinstance(VGGBlock(1, 2), Sequential) and isinstance(MaxPoolSame(3), Layer)
    assert MaxPoolSame(3).window == ((3, 3), (1, 1)) and MaxPoolSame(3).parameters() == []


# ------------------------------------------------------------------------------------------
# Projection shortcut, small branches, batch norm, transition layer, GAP head, the functional block


from cnn_helpers.blocks import (  # noqa: E402
    GlobalAvgPool,
    TransitionLayer,
    gap_head,
    residual_block,
    residual_block_backward,
)
from cnn_helpers.layers import BatchNorm2D  # noqa: E402


@pytest.mark.parametrize(
    "make, channels",
    [
        (lambda: ResidualBlock(2, out_channels=3, stride=2, rng=1, dtype=F64), 2),
        (lambda: ResidualBlock(2, out_channels=3, rng=1, dtype=F64, branch_scale=1.0), 2),
        (lambda: ResidualBlock(3, rng=1, dtype=F64, batch_norm=True, branch_scale=0.5), 3),
        (lambda: TransitionLayer(4, 2, rng=1, dtype=F64), 4),
        (lambda: Sequential(Conv2D(3, 2, 3, rng=0, dtype=F64), GlobalAvgPool()), 3),
    ],
)
def test_new_blocks_gradients_match_numerical(make, channels, rng):
    block = make()
    for layer, _, _ in block.parameters():
        if isinstance(layer, BatchNorm2D):
            layer.momentum = 0.0  # repeated forwards of the numerical check leave the statistics alone
    result = check_layer(block, small_input(rng, (2, channels, 6, 6)), seed=5)
    assert result.passed, str(result)


def test_projection_shortcut_shapes_counts_and_torch(rng):
    block = ResidualBlock(2, out_channels=4, stride=2, rng=0, dtype=F64)
    assert block.output_shape((2, 7, 7)) == (4, 4, 4)
    assert block.num_params == (2 * 9 * 4 + 4) + (4 * 9 * 4 + 4) + (2 * 4 + 4)
    assert "projection.0.W" in block.params
    assert (
        ResidualBlock(2).projection is None and ResidualBlock(2, shortcut=False, stride=2).projection is None
    )
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = rng.standard_normal((2, 2, 7, 7))
    p = {k: torch.tensor(v) for k, v in block.params.items()}
    tx = torch.tensor(x)
    branch = F.conv2d(
        F.relu(F.conv2d(tx, p["branch.0.W"], p["branch.0.b"], stride=2, padding=1)),
        p["branch.2.W"],
        p["branch.2.b"],
        padding=1,
    )
    expected = F.relu(branch + F.conv2d(tx, p["projection.0.W"], p["projection.0.b"], stride=2))
    np.testing.assert_allclose(block.forward(x), expected.numpy(), rtol=1e-12, atol=1e-12)


def test_branch_starts_small_by_default():
    small, full = ResidualBlock(4, rng=3), ResidualBlock(4, rng=3, branch_scale=1.0)
    np.testing.assert_allclose(small.params["branch.2.W"], 0.1 * full.params["branch.2.W"], rtol=1e-6)
    np.testing.assert_array_equal(small.params["branch.0.W"], full.params["branch.0.W"])
    bn = ResidualBlock(4, batch_norm=True, branch_scale=0.0)
    assert np.all(bn.params["branch.4.gamma"] == 0) and np.all(bn.params["branch.1.gamma"] == 1)


def test_transition_layer_and_gap_head_counts():
    t = TransitionLayer(40, rng=0)
    assert (t.out_channels, t.num_params, t.output_shape((40, 8, 8))) == (20, 40 * 20 + 20, (20, 4, 4))
    assert TransitionLayer(40, 10).num_params == 410
    head = gap_head(32, 10)
    assert head.num_params == 32 * 10 + 10 and head.output_shape((32, 5, 9)) == (10,)
    x = np.arange(2 * 3 * 2 * 2, dtype=F64).reshape(2, 3, 2, 2)
    np.testing.assert_allclose(GlobalAvgPool().forward(x), x.mean(axis=(2, 3)))
    with pytest.raises(ValueError, match="receptive field is the whole input"):
        _ = GlobalAvgPool().window
    with pytest.raises(ValueError, match=r"compression must be in \(0, 1\]"):
        TransitionLayer(4, compression=0)


def test_functional_residual_block_matches_the_layer_and_numerical(rng):
    block = ResidualBlock(3, rng=2, dtype=F64, branch_scale=1.0)
    w1, b1, w2, b2 = (
        block.params[k].copy() for k in ("branch.0.W", "branch.0.b", "branch.2.W", "branch.2.b")
    )
    b1[:], b2[:] = rng.standard_normal(3), rng.standard_normal(3)
    block.params["branch.0.b"][...], block.params["branch.2.b"][...] = b1, b2
    x = small_input(rng, (2, 3, 5, 5))
    dout = rng.standard_normal(x.shape)
    np.testing.assert_allclose(residual_block(x, w1, b1, w2, b2), block.forward(x), rtol=1e-12)
    dx, dw1, db1, dw2, db2 = residual_block_backward(dout, x, w1, b1, w2, b2)
    np.testing.assert_allclose(dx, block.backward(dout), rtol=1e-10)
    np.testing.assert_allclose(dw1, block.grads["branch.0.W"], rtol=1e-10)
    np.testing.assert_allclose(db2, block.grads["branch.2.b"], rtol=1e-10)
    for array, grad in ((x, dx), (w1, dw1), (b1, db1), (w2, dw2), (b2, db2)):
        numeric = numerical_gradient(lambda: float(np.sum(residual_block(x, w1, b1, w2, b2) * dout)), array)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match=r"w2 must have shape \(C, C, k, k\) with C = 3 and k odd"):
        residual_block(x, w1, b1, np.zeros((3, 3, 2, 2)), b2)
