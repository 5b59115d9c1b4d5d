"""Layers: the layer protocol, gradients (numerical, float64), a PyTorch oracle, initialisation, shapes and errors."""

import numpy as np
import pytest

from cnn_helpers.gradcheck import check_layer
from cnn_helpers.layers import (
    AvgPool2D,
    Conv2D,
    Dense,
    Flatten,
    Layer,
    Loss,
    MaxPool2D,
    ReLU,
    SoftmaxCrossEntropy,
    make_rng,
    softmax,
)
from cnn_helpers.model import Sequential
from cnn_helpers.training import fit
from tests._oracles import numerical_gradient

# ---------------------------------------------------------------------------------------------
# The layer protocol: one base class, children, recursive parameters(), output_shape, window
# ---------------------------------------------------------------------------------------------


def test_every_layer_is_a_layer_with_children_parameters_and_window():
    conv, pool, relu, avg = Conv2D(2, 3, (3, 1), stride=(2, 1)), MaxPool2D(2), ReLU(), AvgPool2D(3, stride=1)
    for layer in (conv, pool, relu, avg, Flatten(), Dense(4, 2), Sequential(conv, relu)):
        assert isinstance(layer, Layer)
    assert conv.children == () and relu.children == ()
    assert [(name, array.shape) for _, name, array in conv.parameters()] == [("W", (3, 2, 3, 1)), ("b", (3,))]
    assert relu.parameters() == [] and relu.num_params == 0
    assert conv.window == ((3, 1), (2, 1))
    assert (
        pool.window == ((2, 2), (2, 2)) and avg.window == ((3, 3), (1, 1)) and relu.window == ((1, 1), (1, 1))
    )
    with pytest.raises(ValueError, match=r"Flatten\(\) connects every input to every output"):
        _ = Flatten().window
    with pytest.raises(ValueError, match=r"Dense\(4, 2\) connects every input to every output"):
        _ = Dense(4, 2).window


def test_parameters_walk_down_to_the_leaves_and_params_keep_their_paths():
    inner = Sequential(Conv2D(1, 2, 3), ReLU())
    dense = Dense(8, 2)
    model = Sequential(inner, MaxPool2D(2), Flatten(), dense)
    triples = list(model.parameters())
    # Leaf layers, never a container: optimisers read layer.grads[name] straight from them.
    assert [(layer, name) for layer, name, _ in triples] == [
        (inner.layers[0], "W"),
        (inner.layers[0], "b"),
        (dense, "W"),
        (dense, "b"),
    ]
    assert all(layer.params[name] is array for layer, name, array in triples)
    assert list(model.params) == ["0.0.W", "0.0.b", "3.W", "3.b"]
    assert model.params["0.0.W"] is inner.layers[0].params["W"]
    assert model.num_params == (2 * 9 + 2) + (8 * 2 + 2)
    assert inner.window == ((3, 3), (1, 1)) and Sequential(inner, MaxPool2D(2)).window == ((4, 4), (2, 2))
    assert model.output_shape((1, 6, 6)) == (2,)


def test_a_layer_written_without_the_base_class_still_joins_a_model():
    class Scale:  # duck-typed: forward, backward, params, grads
        def __init__(self):
            self.params = {"s": np.array([2.0])}
            self.grads = {}

        def forward(self, x):
            self.x = x
            return x * self.params["s"]

        def backward(self, dout):
            self.grads["s"] = np.array([np.sum(dout * self.x)])
            return dout * self.params["s"]

        def output_shape(self, shape):
            return shape

    scale = Scale()
    model = Sequential(Dense(2, 2, dtype=np.float64), scale)
    assert [(layer, name) for layer, name, _ in model.parameters()][-1] == (scale, "s")
    model.backward(np.ones_like(model.forward(np.ones((3, 2)))))
    assert model.grads["1.s"] is scale.grads["s"]


def test_a_subclass_that_sets_params_itself_works():
    class Bias(Layer):
        def __init__(self):
            self.params = {"b": np.zeros(3)}  # no super().__init__(): a learner's layer
            self.grads = {}

        def forward(self, x):
            return x + self.params["b"]

        def backward(self, dout):
            self.grads["b"] = dout.sum(axis=0)
            return dout

    layer = Bias()
    assert [name for _, name, _ in layer.parameters()] == ["b"] and layer.num_params == 3
    assert Sequential(layer).params["0.b"] is layer.params["b"]


# ---------------------------------------------------------------------------------------------
# The independent oracle (tests/_oracles.py): finite differences written apart from gradcheck
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: Conv2D(2, 3, 3, stride=2, padding=1, rng=1, dtype=np.float64), (2, 2, 5, 6)),
        (lambda: Conv2D(1, 2, (2, 3), stride=(1, 2), rng=2, dtype=np.float64), (2, 1, 4, 7)),
        (lambda: Dense(5, 3, rng=3, dtype=np.float64), (4, 5)),
        (lambda: MaxPool2D(2), (2, 2, 4, 6)),
        (lambda: AvgPool2D(3, stride=2), (1, 2, 7, 7)),
        (lambda: ReLU(), (3, 4)),
        (lambda: Flatten(), (2, 3, 2, 2)),
    ],
)
def test_layer_gradients_match_the_independent_oracle(rng, make, shape):
    layer = make()
    for _, _, array in layer.parameters():
        array[...] = rng.standard_normal(array.shape)
    x = rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 1.05  # distinct values, none at 0
    dout = rng.standard_normal(layer.forward(x).shape)
    dx = layer.backward(dout)
    analytic = {name: np.array(layer.grads[name]) for _, name, _ in layer.parameters()}

    def objective():
        return float(np.sum(layer.forward(x) * dout))

    # finite differences of a sum of ~100 terms are good to about 1e-7: a wrong gradient is off by far more
    np.testing.assert_allclose(dx, numerical_gradient(objective, x), rtol=1e-5, atol=1e-6)
    for _, name, array in layer.parameters():
        np.testing.assert_allclose(analytic[name], numerical_gradient(objective, array), rtol=1e-5, atol=1e-6)


def test_softmax_cross_entropy_gradient_matches_the_independent_oracle(rng):
    logits = rng.standard_normal((4, 3)) * 2
    labels = np.array([2, 0, 1, 2])
    loss = SoftmaxCrossEntropy()
    loss.forward(logits, labels)
    analytic = loss.backward(2.5)
    oracle = numerical_gradient(lambda: 2.5 * loss.forward(logits, labels), logits)
    np.testing.assert_allclose(analytic, oracle, rtol=1e-6, atol=1e-9)


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
    np.testing.assert_allclose(
        softmax(logits), torch.softmax(tz, dim=1).detach().numpy(), rtol=1e-10, atol=1e-300
    )


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
    with pytest.raises(
        TypeError, match=r"rng must be an int seed, a np.random.Generator or None, got str 'abc'"
    ):
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
    assert (
        repr(Conv2D(1, 1, (1, 3), padding=(0, 1)))
        == "Conv2D(1, 1, kernel_size=(1, 3), stride=1, padding=(0, 1))"
    )
    assert MaxPool2D(2).output_shape((8, 7, 7)) == (8, 3, 3)
    assert AvgPool2D(3, 1).output_shape((2, 5, 5)) == (2, 3, 3)
    assert (
        repr(MaxPool2D()) == "MaxPool2D(size=2, stride=2)"
        and repr(AvgPool2D(3, 1)) == "AvgPool2D(size=3, stride=1)"
    )
    assert ReLU().output_shape((4, 2, 2)) == (4, 2, 2) and repr(ReLU()) == "ReLU()"
    assert Flatten().output_shape((16, 2, 2)) == (64,) and repr(Flatten()) == "Flatten()"
    dense = Dense(64, 10)
    assert dense.output_shape((64,)) == (10,) and dense.num_params == 650 and repr(dense) == "Dense(64, 10)"
    assert ReLU().num_params == 0 and ReLU().params == {} and MaxPool2D().grads == {}
    for layer in (conv, dense):
        out = layer.forward(np.zeros((2,) + ((3, 32, 32) if layer is conv else (64,))))
        assert out.shape[1:] == layer.output_shape((3, 32, 32) if layer is conv else (64,))


def test_output_shape_errors():
    with pytest.raises(
        ValueError,
        match=r"input_shape for Conv2D\(3, 8, .*\) must be the shape of one example \(C, H, W\), without the batch axis, got \(1, 3, 32, 32\)",
    ):
        Conv2D(3, 8, 3).output_shape((1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"input_shape must have 3 channels \(in_channels of Conv2D\(3, 8"):
        Conv2D(3, 8, 3).output_shape((1, 32, 32))
    with pytest.raises(ValueError, match=r"kernel of size 5 does not fit in the padded input of size 4"):
        Conv2D(1, 1, 5).output_shape((1, 4, 4))
    with pytest.raises(ValueError, match=r"input_shape must be \(64,\) for Dense\(64, 10\), got \(32,\)"):
        Dense(64, 10).output_shape((32,))
    with pytest.raises(
        ValueError, match=r"pool window of size \(3, 3\) does not fit in input_shape \(1, 2, 2\)"
    ):
        MaxPool2D(3).output_shape((1, 2, 2))


# ---------------------------------------------------------------------------------------------
# Bad input gets a sentence
# ---------------------------------------------------------------------------------------------


def test_conv2d_input_errors():
    conv = Conv2D(3, 8, 3)
    with pytest.raises(
        ValueError, match=r"Conv2D expects x of shape \(N, C, H, W\) \(4-D\), got shape \(3, 8, 8\) \(3-D\)"
    ):
        conv.forward(np.zeros((3, 8, 8)))
    with pytest.raises(
        ValueError,
        match=r"x must have 3 channels \(in_channels of Conv2D\(3, 8, kernel_size=3, stride=1, padding=0\)\), got shape \(2, 1, 8, 8\) with 1",
    ):
        conv.forward(np.zeros((2, 1, 8, 8)))
    with pytest.raises(
        ValueError,
        match=r"kernel_size \(3, 3\) of Conv2D\(3, 8, .*\) does not fit in x of shape \(1, 3, 2, 2\) \(padded to \(2, 2\)\)",
    ):
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
    with pytest.raises(
        ValueError,
        match=r"x must have 64 features \(in_features of Dense\(64, 10\)\), got shape \(5, 32\) with 32",
    ):
        dense.forward(np.zeros((5, 32)))
    with pytest.raises(
        ValueError,
        match=r"Dense expects x of shape \(N, in_features\) \(2-D\), got shape \(5, 16, 2, 2\) \(4-D\); put a Flatten\(\) layer before Dense",
    ):
        dense.forward(np.zeros((5, 16, 2, 2)))


def test_pool_input_errors():
    with pytest.raises(
        ValueError, match=r"MaxPool2D expects x of shape \(N, C, H, W\) \(4-D\), got shape \(4, 4\) \(2-D\)"
    ):
        MaxPool2D().forward(np.zeros((4, 4)))
    with pytest.raises(
        ValueError, match=r"pool window of size \(3, 3\) does not fit in x of shape \(1, 1, 2, 2\)"
    ):
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
    with pytest.raises(
        ValueError,
        match=r"dout must have the shape of Conv2D's last forward output, \(2, 2, 3, 3\), got shape \(2, 2, 5, 5\)",
    ):
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
    with pytest.raises(
        ValueError, match=r"labels must have shape \(3,\), one class index per example, got shape \(2,\)"
    ):
        loss.forward(logits, [0, 1])
    with pytest.raises(
        ValueError, match=r"labels must have shape \(3,\), one class index per example, got shape \(3, 4\)"
    ):
        loss.forward(logits, np.eye(4)[[0, 1, 2]].astype(int))  # one-hot instead of indices
    with pytest.raises(TypeError, match=r"labels must hold integer class indices \(whole numbers\), got 0.5"):
        loss.forward(logits, [0.5, 1.0, 2.0])
    with pytest.raises(
        TypeError, match=r"labels must hold integer class indices, got list \[True, False, True\]"
    ):
        loss.forward(logits, [True, False, True])
    with pytest.raises(
        ValueError, match=r"logits must be a 2-D array of shape \(N, classes\), got shape \(4,\)"
    ):
        loss.forward(np.zeros(4), [0])
    assert loss.forward(logits, np.array([0.0, 1.0, 3.0])) == pytest.approx(
        np.log(4)
    )  # whole floats are fine


# ---------------------------------------------------------------------------------------------
# Edge cases of the loss and softmax (issue 13, item 9)
# ---------------------------------------------------------------------------------------------


def test_loss_of_an_empty_batch_is_a_clear_error():
    with pytest.raises(
        ValueError, match=r"the mean loss of an empty batch is undefined: logits has shape \(0, 3\)"
    ):
        SoftmaxCrossEntropy().forward(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_an_infinite_logit_on_the_right_class_costs_nothing():
    loss = SoftmaxCrossEntropy()
    logits = np.array([[np.inf, 1.0, -2.0], [0.0, 0.0, 0.0]])
    assert loss.forward(logits, [0, 1]) == pytest.approx(np.log(3) / 2)  # row 0 adds the limit, 0
    grad = loss.backward()
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad[0], [0.0, 0.0, 0.0])  # p = onehot: nothing left to learn
    np.testing.assert_allclose(softmax(logits)[0], [1.0, 0.0, 0.0])
    # on the wrong class the limit is an infinite loss, still not nan
    assert loss.forward(np.array([[np.inf, 0.0]]), [1]) == np.inf
    # two infinite scores share the probability
    np.testing.assert_allclose(softmax(np.array([np.inf, np.inf, 0.0])), [0.5, 0.5, 0.0])


def test_nan_and_all_minus_inf_logits_are_refused():
    with pytest.raises(ValueError, match=r"logits must not contain NaN"):
        SoftmaxCrossEntropy().forward(np.array([[np.nan, 0.0]]), [0])
    with pytest.raises(ValueError, match=r"logits needs a score above -inf in every row"):
        softmax(np.array([[-np.inf, -np.inf], [0.0, 1.0]]))


def test_softmax_of_no_scores_is_a_clear_error():
    with pytest.raises(
        ValueError, match=r"logits must hold at least one score along axis -1, got shape \(2, 0\)"
    ):
        softmax(np.zeros((2, 0)))
    assert softmax(np.zeros((0, 3))).shape == (0, 3)  # no rows is fine: nothing to normalise
    with pytest.raises(
        ValueError, match=r"axis must be an integer axis of logits \(shape \(2, 3\)\), got int 2"
    ):
        softmax(np.zeros((2, 3)), axis=2)


def test_loss_backward_takes_a_number_not_an_array():
    loss = SoftmaxCrossEntropy()
    loss.forward(np.zeros((2, 3)), [0, 1])
    with pytest.raises(
        TypeError,
        match=r"dout of SoftmaxCrossEntropy.backward must be a number, .*got an array of shape \(2, 3\)",
    ):
        loss.backward(dout=np.ones((2, 3)))
    np.testing.assert_allclose(loss.backward(np.float64(2.0)), 2 * loss.backward())
    np.testing.assert_allclose(loss.backward(np.array(3.0)), 3 * loss.backward())
    assert isinstance(loss, Loss)


def test_huge_labels_are_printed_as_given():
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 3\), got 1e\+20"):
        SoftmaxCrossEntropy().forward(np.zeros((3, 3)), [0, 1e20, 2])
    with pytest.raises(
        ValueError, match=r"labels must be class indices in \[0, 3\), got 9223372036854775807"
    ):
        SoftmaxCrossEntropy().forward(np.zeros((3, 3)), np.array([0, 2**63 - 1, 2]))
    model = Sequential(Dense(2, 2))
    from cnn_helpers.optim import SGD

    for y, limit, shown in (
        ([0, 1e20], "53", r"1e\+20"),
        (np.array([0, 2**64 - 1], dtype=np.uint64), "63", "18446744073709551615"),
    ):
        with pytest.raises(
            ValueError, match=rf"y_train must be class indices in \[0, 2\*\*{limit}\), got {shown}"
        ):
            fit(
                model,
                SoftmaxCrossEntropy(),
                SGD(model, lr=0.1),
                np.zeros((2, 2)),
                y,
                epochs=1,
                progress=False,
            )


@pytest.mark.parametrize(
    "labels, error",
    [
        ([1.0, 0.0], None),
        (np.array([1, 0], dtype=np.uint8), None),
        ([1.5, 0.0], TypeError),
        ([True, False], TypeError),
        (["1", "0"], TypeError),
        ([1, 2], ValueError),
    ],
)
def test_the_loss_and_fit_accept_and_refuse_the_same_labels(labels, error):
    """One rule for labels: what SoftmaxCrossEntropy takes, fit takes, and the other way round."""
    x = np.array([[1.0, -1.0], [-1.0, 1.0]])

    def with_loss():
        return SoftmaxCrossEntropy().forward(x, labels)

    def with_fit():
        model = Sequential(Dense(2, 2, rng=0, dtype=np.float64))
        from cnn_helpers.optim import SGD

        return fit(model, SoftmaxCrossEntropy(), SGD(model, lr=0.1), x, labels, epochs=1, progress=False)

    for run in (with_loss, with_fit):
        if error is None:
            run()
        else:
            with pytest.raises(error, match=r"y_train|labels"):
                run()


# ---------------------------------------------------------------------------------------------
# Batch normalisation (lesson 10): numerical gradients, running statistics, train vs eval, PyTorch
# ---------------------------------------------------------------------------------------------

from cnn_helpers.layers import BatchNorm2D, batch_norm2d, batch_norm2d_backward, set_training  # noqa: E402


def test_batch_norm2d_normalises_each_channel(rng):
    x = rng.standard_normal((4, 3, 5, 5)) * np.array([1.0, 5.0, 0.1])[None, :, None, None] + 3
    out = batch_norm2d(x, np.ones(3), np.zeros(3), eps=0.0)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=1e-10)
    shifted = batch_norm2d(x, np.array([2.0, 1.0, 0.5]), np.array([1.0, -1.0, 0.0]), eps=0.0)
    np.testing.assert_allclose(shifted.mean(axis=(0, 2, 3)), [1.0, -1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(shifted.std(axis=(0, 2, 3)), [2.0, 1.0, 0.5], atol=1e-10)


def test_batch_norm2d_backward_matches_numerical(rng):
    x = rng.standard_normal((3, 2, 4, 3))
    gamma, beta = rng.standard_normal(2), rng.standard_normal(2)
    dout = rng.standard_normal(x.shape)

    def loss():
        return float(np.sum(batch_norm2d(x, gamma, beta) * dout))

    dx, dgamma, dbeta = batch_norm2d_backward(dout, x, gamma, beta)
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dgamma, numerical_gradient(loss, gamma), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dbeta, numerical_gradient(loss, beta), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_layer_gradients_match_numerical(rng, training):
    layer = BatchNorm2D(3, dtype=np.float64)
    layer.params["gamma"][...] = rng.standard_normal(3)
    layer.params["beta"][...] = rng.standard_normal(3)
    layer.running_mean[...] = rng.standard_normal(3)
    layer.running_var[...] = rng.uniform(0.5, 2.0, 3)
    layer.momentum = 0.0  # so repeated forwards during the numerical check leave the statistics alone
    layer.train(training)
    result = check_layer(layer, rng.standard_normal((2, 3, 3, 4)), seed=3)
    assert result.passed, str(result)


def test_batchnorm_running_statistics_and_eval_mode(rng):
    layer = BatchNorm2D(2, momentum=0.5, dtype=np.float64)
    x = rng.standard_normal((4, 2, 3, 3)) + np.array([1.0, -2.0])[None, :, None, None]
    layer.forward(x)
    m = 4 * 3 * 3
    np.testing.assert_allclose(layer.running_mean, 0.5 * x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(layer.running_var, 0.5 + 0.5 * x.var(axis=(0, 2, 3)) * m / (m - 1))
    layer.eval()
    one = x[:1]
    expected = (one - layer.running_mean[None, :, None, None]) / np.sqrt(layer.running_var + layer.eps)[
        None, :, None, None
    ]
    np.testing.assert_allclose(layer.forward(one), expected)
    before = layer.running_mean.copy()
    layer.forward(x)
    np.testing.assert_array_equal(layer.running_mean, before)  # eval mode never updates them
    # in eval mode one example's output does not depend on the rest of its batch
    np.testing.assert_allclose(layer.forward(x)[:1], layer.forward(one))


def test_set_training_reaches_nested_layers():
    from cnn_helpers.blocks import ResidualBlock

    net = Sequential(Conv2D(1, 2, 3, padding=1), BatchNorm2D(2), ResidualBlock(2, batch_norm=True))
    set_training(net, False)
    norms = list(
        {id(layer): layer for layer, _, _ in net.parameters() if isinstance(layer, BatchNorm2D)}.values()
    )
    assert len(norms) == 3 and not any(layer.training for layer in norms)
    set_training(net, True)
    assert all(layer.training for layer in norms)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_matches_torch(rng, training):
    torch = pytest.importorskip("torch")
    layer = BatchNorm2D(3, momentum=0.1, dtype=np.float64)
    reference = torch.nn.BatchNorm2d(3, momentum=0.1, eps=layer.eps).double()
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(gamma))
        reference.bias.copy_(torch.tensor(beta))
    warm = rng.standard_normal((5, 3, 4, 4)) * 2 + 1
    layer.forward(warm)
    reference(torch.tensor(warm))
    np.testing.assert_allclose(layer.running_mean, reference.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, reference.running_var.numpy(), rtol=1e-12)
    layer.train(training)
    reference.train(training)
    x = rng.standard_normal((2, 3, 4, 5))
    dout = rng.standard_normal(x.shape)
    tx = torch.tensor(x, requires_grad=True)
    tout = reference(tx)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(layer.forward(x), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.backward(dout), tx.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(layer.grads["gamma"], reference.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(layer.grads["beta"], reference.bias.grad.numpy(), rtol=1e-10)


def test_batchnorm_errors():
    with pytest.raises(
        ValueError, match=r"x must have 2 channels \(channels of BatchNorm2D\(2\)\), got shape \(1, 3, 2, 2\)"
    ):
        BatchNorm2D(2).forward(np.zeros((1, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"training mode needs more than one value per channel"):
        BatchNorm2D(2).forward(np.zeros((1, 2, 1, 1)))
    with pytest.raises(ValueError, match=r"gamma must have shape \(C,\) = \(2,\)"):
        batch_norm2d(np.zeros((1, 2, 2, 2)), np.ones(3), np.zeros(2))
    with pytest.raises(ValueError, match=r"batch normalisation expects x of shape \(N, C, H, W\)"):
        batch_norm2d(np.zeros((2, 2)), np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match=r"momentum must be between 0 and 1"):
        BatchNorm2D(2, momentum=2)


# ---------------------------------------------------------------------------------------------
# Inference keeps nothing for a backward pass


def test_predicting_frees_what_training_and_big_batches_left_behind():
    from cnn_helpers.model import small_cnn

    model = small_cnn(input_shape=(1, 28, 28), channels=(16, 32), seed=0)
    x = np.random.default_rng(0).random((300, 1, 28, 28), dtype=np.float32)
    before = model.forward(x[:4])
    conv = model.layers[0]
    conv.backward(np.ones_like(conv.forward(x[:4])))  # a training step leaves a cache behind
    model.predict_logits(x, batch_size=256)
    assert conv._cache is None and conv._workspace._buffers == {}
    with pytest.raises(RuntimeError, match="backward called before forward"):
        conv.backward(np.ones((4, 16, 28, 28), dtype=np.float32))
    # and the model still computes the same scores afterwards
    np.testing.assert_allclose(model.forward(x[:4]), before, rtol=1e-6)
