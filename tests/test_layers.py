"""Layers: gradients (numerical, float64), a PyTorch oracle, initialisation, shapes and errors."""

import numpy as np
import pytest

from cnn_helpers.gradcheck import check_layer
from cnn_helpers.layers import (
    AvgPool2D,
    Conv2D,
    Dense,
    Flatten,
    MaxPool2D,
    ReLU,
    SoftmaxCrossEntropy,
    make_rng,
    softmax,
)

# ---------------------------------------------------------------------------------------------
# Numerical gradient checks: every parameter and the input, float64
# ---------------------------------------------------------------------------------------------


def _assert_passes(result):
    assert result.passed, f"\n{result}"
    return result


@pytest.mark.parametrize(
    "in_channels, out_channels, kernel_size, stride, padding, hw",
    [
        (1, 2, 3, 1, 0, (5, 5)),
        (2, 3, 3, 1, 1, (5, 6)),
        (3, 2, 3, 2, 1, (7, 7)),
        (2, 2, (2, 3), (1, 2), (0, 1), (5, 6)),
        (1, 1, 1, 1, 0, (3, 3)),
    ],
)
def test_conv2d_gradients_match_numerical(rng, in_channels, out_channels, kernel_size, stride, padding, hw):
    layer = Conv2D(in_channels, out_channels, kernel_size, stride, padding, rng=1, dtype=np.float64)
    layer.params["b"][...] = rng.standard_normal(out_channels)  # zero biases would hide a bias bug
    x = rng.standard_normal((2, in_channels) + hw)
    result = _assert_passes(check_layer(layer, x))
    assert [c.name for c in result] == ["W", "b", "input"]


def test_conv2d_without_input_grad_still_fills_param_grads(rng):
    layer = Conv2D(1, 2, 3, padding=1, rng=0, dtype=np.float64)
    layer.needs_input_grad = False
    result = _assert_passes(check_layer(layer, rng.standard_normal((2, 1, 4, 4))))
    assert [c.name for c in result] == ["W", "b"]
    assert "not checked" in str(result)


@pytest.mark.parametrize("size, stride", [(2, None), (3, 1), (2, 1), ((2, 3), (2, 1))])
def test_pool_gradients_match_numerical(rng, size, stride):
    # Distinct values (a shuffled range) so no window has a tie that a nudge could flip.
    x = rng.permutation(2 * 3 * 6 * 7).reshape(2, 3, 6, 7) / 10.0
    _assert_passes(check_layer(MaxPool2D(size, stride), x))
    _assert_passes(check_layer(AvgPool2D(size, stride), x))


def test_relu_flatten_dense_gradients_match_numerical(rng):
    x = rng.standard_normal((3, 2, 3, 3))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the kink at 0
    _assert_passes(check_layer(ReLU(), x))
    _assert_passes(check_layer(Flatten(), x))
    dense = Dense(5, 4, rng=2, dtype=np.float64)
    dense.params["b"][...] = rng.standard_normal(4)
    result = _assert_passes(check_layer(dense, rng.standard_normal((6, 5))))
    assert [c.name for c in result] == ["W", "b", "input"]


def test_softmax_cross_entropy_gradient_matches_numerical(rng):
    from cnn_helpers.gradcheck import check_gradient

    logits = rng.standard_normal((5, 4)) * 3
    labels = np.array([0, 3, 1, 1, 2])
    loss = SoftmaxCrossEntropy()
    loss.forward(logits, labels)
    _assert_passes(check_gradient(lambda z: loss.forward(z, labels), logits, loss.backward()))


# ---------------------------------------------------------------------------------------------
# PyTorch as an independent oracle
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stride, padding", [(1, 1), (2, 0), ((2, 1), (1, 2))])
def test_conv2d_matches_torch(rng, stride, padding):
    torch = pytest.importorskip("torch")
    layer = Conv2D(3, 4, (3, 2), stride, padding, rng=0, dtype=np.float64)
    layer.params["b"][...] = rng.standard_normal(4)
    x = rng.standard_normal((2, 3, 7, 6))
    dout_shape = layer.forward(x).shape
    dout = rng.standard_normal(dout_shape)
    dx = layer.backward(dout)

    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(layer.params["W"], requires_grad=True)
    tb = torch.tensor(layer.params["b"], requires_grad=True)
    tout = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(layer.forward(x), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], tw.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], tb.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_conv2d_float32_matches_torch(rng):
    torch = pytest.importorskip("torch")
    layer = Conv2D(8, 16, 3, padding=1, rng=0)
    x = rng.standard_normal((4, 8, 14, 14)).astype(np.float32)
    out = layer.forward(x)
    assert out.dtype == np.float32
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx = layer.backward(dout)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(layer.params["W"], requires_grad=True)
    tout = torch.nn.functional.conv2d(tx, tw, padding=1)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.grads["W"], tw.grad.numpy(), rtol=1e-4, atol=1e-3)
    assert layer.grads["W"].dtype == np.float32 and dx.dtype == np.float32


def test_dense_matches_torch(rng):
    torch = pytest.importorskip("torch")
    layer = Dense(6, 3, rng=0, dtype=np.float64)
    layer.params["b"][...] = rng.standard_normal(3)
    x = rng.standard_normal((5, 6))
    dout = rng.standard_normal((5, 3))
    out = layer.forward(x)
    dx = layer.backward(dout)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(layer.params["W"].T.copy(), requires_grad=True)  # torch stores (out, in)
    tb = torch.tensor(layer.params["b"], requires_grad=True)
    tout = torch.nn.functional.linear(tx, tw, tb)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], tw.grad.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], tb.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_softmax_cross_entropy_matches_torch(rng, scale):
    torch = pytest.importorskip("torch")
    logits = rng.standard_normal((7, 5)) * scale
    labels = rng.integers(0, 5, size=7)
    loss = SoftmaxCrossEntropy()
    value = loss.forward(logits, labels)
    dlogits = loss.backward()
    tz = torch.tensor(logits, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(tz, torch.tensor(labels))
    tloss.backward()
    assert np.isfinite(value)
    np.testing.assert_allclose(value, tloss.item(), rtol=1e-12)
    np.testing.assert_allclose(dlogits, tz.grad.numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(softmax(logits), torch.softmax(tz, dim=1).detach().numpy(), rtol=1e-10, atol=1e-300)


# ---------------------------------------------------------------------------------------------
# Numbers a person can check
# ---------------------------------------------------------------------------------------------


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    loss = SoftmaxCrossEntropy()
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]])
    value = loss.forward(logits, [0, 0])
    # First row: right and certain, loss 0. Second: the right class is 1e4 below two tied ones.
    assert value == pytest.approx((0 + 1e4 + np.log(2)) / 2)
    grad = loss.backward()
    np.testing.assert_allclose(grad, [[0, 0, 0], [-0.5, 0.25, 0.25]], atol=1e-12)
    assert np.all(np.isfinite(softmax(np.array([1e4, -1e4, 3e4]))))


def test_softmax_cross_entropy_float32_stays_float32():
    loss = SoftmaxCrossEntropy()
    loss.forward(np.zeros((2, 3), dtype=np.float32), np.array([0, 2]))
    assert loss.backward().dtype == np.float32


def test_softmax_rows_sum_to_one(rng):
    p = softmax(rng.standard_normal((4, 6)))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    z = rng.standard_normal((3, 5))
    np.testing.assert_allclose(softmax(z, axis=0), softmax(z.T).T)
    np.testing.assert_allclose(softmax([[0.0, 0.0, 0.0, 0.0]]), [[0.25] * 4])


def test_relu_and_flatten_by_hand():
    relu = ReLU()
    np.testing.assert_array_equal(relu.forward(np.array([[-1.0, 2.0]])), [[0.0, 2.0]])
    np.testing.assert_array_equal(relu.backward(np.array([[5.0, 5.0]])), [[0.0, 5.0]])
    flatten = Flatten()
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    out = flatten.forward(x)
    np.testing.assert_array_equal(out[1], np.arange(12.0, 24.0))
    np.testing.assert_array_equal(flatten.backward(out), x)


def test_conv2d_by_hand():
    layer = Conv2D(1, 1, 2, rng=0, dtype=np.float64)
    layer.params["W"][...] = [[[[1, 0], [0, -1]]]]
    layer.params["b"][...] = 10
    out = layer.forward(np.arange(9.0).reshape(1, 1, 3, 3))
    np.testing.assert_array_equal(out, [[[[6.0, 6.0], [6.0, 6.0]]]])  # x[i,j] - x[i+1,j+1] + 10 = -4 + 10


# ---------------------------------------------------------------------------------------------
# Initialisation, dtypes, parameters updated in place
# ---------------------------------------------------------------------------------------------


def test_he_initialisation_scale_and_shapes():
    conv = Conv2D(16, 32, 3, rng=0)
    assert conv.params["W"].shape == (32, 16, 3, 3) and conv.params["b"].shape == (32,)
    assert conv.params["W"].std() == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.05)
    np.testing.assert_array_equal(conv.params["b"], 0)
    dense = Dense(400, 300, rng=0)
    assert dense.params["W"].shape == (400, 300) and dense.params["b"].shape == (300,)
    assert dense.params["W"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.05)
    assert abs(dense.params["W"].mean()) < 0.01


def test_initialisation_is_reproducible_and_dtype_independent():
    a, b = Conv2D(2, 3, 3, rng=5), Conv2D(2, 3, 3, rng=5)
    np.testing.assert_array_equal(a.params["W"], b.params["W"])
    np.testing.assert_array_equal(Dense(3, 2).params["W"], Dense(3, 2).params["W"])  # None: seed 0
    assert not np.array_equal(Conv2D(2, 3, 3, rng=5).params["W"], Conv2D(2, 3, 3, rng=6).params["W"])
    wide = Conv2D(2, 3, 3, rng=5, dtype=np.float64)
    assert a.params["W"].dtype == np.float32 and wide.params["W"].dtype == np.float64
    np.testing.assert_allclose(wide.params["W"], a.params["W"], rtol=1e-6)
    generator = np.random.default_rng(1)
    first, second = Dense(2, 2, rng=generator), Dense(2, 2, rng=generator)
    assert not np.array_equal(first.params["W"], second.params["W"])  # one stream, consumed


def test_backward_fills_grads_with_params_keys_and_shapes(rng):
    for layer, x in [
        (Conv2D(2, 3, 3, padding=1), rng.standard_normal((2, 2, 5, 5))),
        (Dense(4, 3), rng.standard_normal((2, 4))),
        (MaxPool2D(), rng.standard_normal((2, 2, 4, 4))),
        (ReLU(), rng.standard_normal((2, 3))),
    ]:
        ids = {name: id(array) for name, array in layer.params.items()}
        out = layer.forward(x)
        dx = layer.backward(np.ones_like(out))
        assert dx.shape == x.shape
        assert set(layer.grads) == set(layer.params)
        for name in layer.params:
            assert layer.grads[name].shape == layer.params[name].shape
            assert id(layer.params[name]) == ids[name]  # params are never rebound


def test_float32_layers_compute_in_float32(rng):
    x = rng.standard_normal((2, 1, 6, 6))  # float64 in, float32 layer: computes in float32
    conv = Conv2D(1, 2, 3)
    out = conv.forward(x)
    assert out.dtype == np.float32
    assert conv.backward(np.ones_like(out)).dtype == np.float32
    assert conv.grads["W"].dtype == np.float32
    assert MaxPool2D().forward(out).dtype == np.float32
    assert Dense(3, 2).forward(rng.standard_normal((1, 3))).dtype == np.float32


def test_make_rng_accepts_seed_generator_none():
    generator = np.random.default_rng(3)
    assert make_rng(generator) is generator
    assert make_rng(None).integers(1000) == np.random.default_rng(0).integers(1000)
    with pytest.raises(TypeError, match=r"rng must be an int seed, a np.random.Generator or None, got str 'abc'"):
        make_rng("abc")
    with pytest.raises(TypeError, match="rng must be an int seed"):
        Dense(2, 2, rng=1.5)


# ---------------------------------------------------------------------------------------------
# Shapes, counts and how layers print
# ---------------------------------------------------------------------------------------------


def test_output_shape_num_params_and_repr():
    conv = Conv2D(3, 8, 5, stride=2, padding=2)
    assert conv.output_shape((3, 32, 32)) == (8, 16, 16)
    assert conv.num_params == 8 * 3 * 25 + 8
    assert repr(conv) == "Conv2D(3, 8, kernel_size=5, stride=2, padding=2)"
    assert repr(Conv2D(1, 1, (1, 3), padding=(0, 1))) == "Conv2D(1, 1, kernel_size=(1, 3), stride=1, padding=(0, 1))"
    assert MaxPool2D(2).output_shape((8, 7, 7)) == (8, 3, 3)
    assert AvgPool2D(3, 1).output_shape((2, 5, 5)) == (2, 3, 3)
    assert repr(MaxPool2D()) == "MaxPool2D(size=2, stride=2)" and repr(AvgPool2D(3, 1)) == "AvgPool2D(size=3, stride=1)"
    assert ReLU().output_shape((4, 2, 2)) == (4, 2, 2) and repr(ReLU()) == "ReLU()"
    assert Flatten().output_shape((16, 2, 2)) == (64,) and repr(Flatten()) == "Flatten()"
    dense = Dense(64, 10)
    assert dense.output_shape((64,)) == (10,) and dense.num_params == 650 and repr(dense) == "Dense(64, 10)"
    assert ReLU().num_params == 0 and ReLU().params == {} and MaxPool2D().grads == {}
    for layer in (conv, dense):
        out = layer.forward(np.zeros((2,) + ((3, 32, 32) if layer is conv else (64,))))
        assert out.shape[1:] == layer.output_shape((3, 32, 32) if layer is conv else (64,))


def test_output_shape_errors():
    with pytest.raises(ValueError, match=r"input_shape for Conv2D\(3, 8, .*\) must be the shape of one example \(C, H, W\), without the batch axis, got \(1, 3, 32, 32\)"):
        Conv2D(3, 8, 3).output_shape((1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"input_shape must have 3 channels \(in_channels of Conv2D\(3, 8"):
        Conv2D(3, 8, 3).output_shape((1, 32, 32))
    with pytest.raises(ValueError, match=r"kernel of size 5 does not fit in the padded input of size 4"):
        Conv2D(1, 1, 5).output_shape((1, 4, 4))
    with pytest.raises(ValueError, match=r"input_shape must be \(64,\) for Dense\(64, 10\), got \(32,\)"):
        Dense(64, 10).output_shape((32,))
    with pytest.raises(ValueError, match=r"pool window of size \(3, 3\) does not fit in input_shape \(1, 2, 2\)"):
        MaxPool2D(3).output_shape((1, 2, 2))


# ---------------------------------------------------------------------------------------------
# Bad input gets a sentence
# ---------------------------------------------------------------------------------------------


def test_conv2d_input_errors():
    conv = Conv2D(3, 8, 3)
    with pytest.raises(ValueError, match=r"Conv2D expects x of shape \(N, C, H, W\) \(4-D\), got shape \(3, 8, 8\) \(3-D\)"):
        conv.forward(np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match=r"x must have 3 channels \(in_channels of Conv2D\(3, 8, kernel_size=3, stride=1, padding=0\)\), got shape \(2, 1, 8, 8\) with 1"):
        conv.forward(np.zeros((2, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"kernel of shape \(3, 3\) does not fit in the padded x of shape \(2, 2\)"):
        conv.forward(np.zeros((1, 3, 2, 2)))
    with pytest.raises(TypeError, match=r"x must hold real numbers, got an array of dtype <U1"):
        conv.forward(np.array(["a"]))


def test_constructor_errors():
    with pytest.raises(ValueError, match=r"in_channels must be >= 1, got 0"):
        Conv2D(0, 8, 3)
    with pytest.raises(TypeError, match=r"kernel_size must be an integer, got float 3.0"):
        Conv2D(1, 8, 3.0)
    with pytest.raises(ValueError, match=r"padding must be >= 0, got -1"):
        Conv2D(1, 8, 3, padding=-1)
    with pytest.raises(TypeError, match=r"dtype must be float32 or float64, got int64"):
        Dense(2, 2, dtype=np.int64)
    with pytest.raises(ValueError, match=r"size must be >= 1, got 0"):
        MaxPool2D(0)
    with pytest.raises(TypeError, match=r"out_features must be an integer, got str '10'"):
        Dense(64, "10")


def test_dense_input_errors():
    dense = Dense(64, 10)
    with pytest.raises(ValueError, match=r"x must have 64 features \(in_features of Dense\(64, 10\)\), got shape \(5, 32\) with 32"):
        dense.forward(np.zeros((5, 32)))
    with pytest.raises(ValueError, match=r"Dense expects x of shape \(N, in_features\) \(2-D\), got shape \(5, 16, 2, 2\) \(4-D\); put a Flatten\(\) layer before Dense"):
        dense.forward(np.zeros((5, 16, 2, 2)))


def test_pool_input_errors():
    with pytest.raises(ValueError, match=r"MaxPool2D expects x of shape \(N, C, H, W\) \(4-D\), got shape \(4, 4\) \(2-D\)"):
        MaxPool2D().forward(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"pool window of size \(3, 3\) does not fit in x of shape \(1, 1, 2, 2\)"):
        AvgPool2D(3).forward(np.zeros((1, 1, 2, 2)))


@pytest.mark.parametrize(
    "layer", [Conv2D(1, 1, 1), MaxPool2D(), AvgPool2D(), ReLU(), Flatten(), Dense(2, 2)], ids=repr
)
def test_backward_before_forward_is_a_runtime_error(layer):
    name = type(layer).__name__
    with pytest.raises(RuntimeError, match=rf"{name}.backward called before forward: run forward\(x\) first"):
        layer.backward(np.zeros((1, 1, 1, 1)))


def test_backward_with_wrong_dout_shape():
    conv = Conv2D(1, 2, 3)
    conv.forward(np.zeros((2, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"dout must have the shape of Conv2D's last forward output, \(2, 2, 3, 3\), got shape \(2, 2, 5, 5\)"):
        conv.backward(np.zeros((2, 2, 5, 5)))


def test_loss_errors():
    loss = SoftmaxCrossEntropy()
    with pytest.raises(RuntimeError, match=r"SoftmaxCrossEntropy.backward called before forward"):
        loss.backward()
    logits = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 4\), got 4"):
        loss.forward(logits, [0, 1, 4])
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 4\), got -1"):
        loss.forward(logits, [0, -1, 2])
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\), one class index per row of logits, got shape \(2,\)"):
        loss.forward(logits, [0, 1])
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\), one class index per row of logits, got shape \(3, 4\)"):
        loss.forward(logits, np.eye(4)[[0, 1, 2]].astype(int))  # one-hot instead of indices
    with pytest.raises(TypeError, match=r"labels must hold integer class indices, got an array of shape \(3,\) and dtype float64"):
        loss.forward(logits, [0.5, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"logits must be a 2-D array of shape \(N, classes\), got shape \(4,\)"):
        loss.forward(np.zeros(4), [0])
    assert loss.forward(logits, np.array([0.0, 1.0, 3.0])) == pytest.approx(np.log(4))  # whole floats are fine
