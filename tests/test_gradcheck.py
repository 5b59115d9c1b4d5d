"""The gradient checker: it passes right gradients and names the wrong one, by how much."""

import numpy as np
import pytest

from cnn_helpers import conv, pooling
from cnn_helpers.gradcheck import (
    GradCheckResult,
    GradientCheckError,
    assert_gradients_correct,
    check_gradient,
    check_layer,
    check_model,
    check_operation,
    compare,
    numerical_gradient,
)
from cnn_helpers.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, SoftmaxCrossEntropy
from cnn_helpers.model import Sequential


class ConvForgotBiasSum(Conv2D):
    """A classic slip: the bias gradient sums over the batch only, not over the positions too."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["b"] = dout.sum(axis=0)[:, 0, 0]
        return dx


class DenseTransposedWeightGrad(Dense):
    """Another slip: dW = dout.T @ x (wrong, but of the right shape when in == out)."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = dout.T @ self._x
        return dx


def test_numerical_gradient_of_known_functions():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(np.sin(v)), x), np.cos(x), rtol=1e-8)
    np.testing.assert_array_equal(x, [[1.0, -2.0], [0.5, 3.0]])  # restored after probing


def test_check_gradient_passes_and_fails():
    x = np.linspace(-1, 1, 7)
    assert check_gradient(lambda v: np.sum(v**4), x, 4 * x**3).passed
    result = check_gradient(lambda v: np.sum(v**4), x, 4 * x**3 + 1e-3 * (x > 0.9), name="v")
    assert not result.passed
    worst = result["v"]
    assert worst.worst_index == (6,) and worst.analytic == pytest.approx(4.001)
    assert worst.numerical == pytest.approx(4.0, rel=1e-8)
    assert worst.max_abs_error == pytest.approx(1e-3, rel=1e-5)


def test_check_gradient_leaves_callers_array_alone():
    x = np.array([1.0, 2.0], dtype=np.float32)
    check_gradient(lambda v: float(np.sum(v * v)), x, 2 * x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_lesson07_use_conv_backward_dx_through_a_plain_function(rng):
    x, w = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    dout = rng.standard_normal((2, 3, 3, 3))
    dx, dw, _ = conv.conv2d_backward(dout, x, w)
    assert check_gradient(lambda v: np.sum(conv.conv2d(v, w) * dout), x, dx).passed
    assert check_gradient(lambda v: np.sum(conv.conv2d(x, v) * dout), w, dw, name="weight").passed
    # A learner who forgot to flip the weights in dx gets a failure on x.
    wrong_dx = conv.conv2d_backward(dout, x, w[:, :, ::-1, ::-1])[0]
    assert not check_gradient(lambda v: np.sum(conv.conv2d(v, w) * dout), x, wrong_dx).passed


def test_check_operation_names_each_input(rng):
    inputs = {
        "x": rng.standard_normal((2, 2, 5, 5)),
        "weight": rng.standard_normal((3, 2, 3, 3)),
        "bias": rng.standard_normal(3),
    }

    def forward(x, weight, bias):
        return conv.conv2d(x, weight, bias, stride=2, padding=1)

    def backward(dout, x, weight, bias):
        return conv.conv2d_backward(dout, x, weight, bias, stride=2, padding=1)

    def backward_ignoring_stride(dout, x, weight, bias):
        dx, dweight, dbias = conv.conv2d_backward(dout, x, weight, bias, stride=2, padding=1)
        return dx * 2, dweight, dbias  # pretend dx is wrong

    good = check_operation(forward, backward, inputs)
    assert good.passed and [c.name for c in good] == ["x", "weight", "bias"]
    bad = check_operation(forward, backward_ignoring_stride, inputs)
    assert [c.name for c in bad.failures] == ["x"]


def test_detects_max_pool_backward_that_spreads_gradient_to_the_whole_window(rng):
    x = rng.permutation(64).reshape(1, 1, 8, 8) / 8.0

    def wrong_backward(dout, x):  # the average-pooling rule, times 4, instead of routing to the max
        return pooling.avg_pool2d_backward(dout, x) * 4

    good = check_operation(pooling.max_pool2d, pooling.max_pool2d_backward, {"x": x})
    bad = check_operation(pooling.max_pool2d, wrong_backward, {"x": x})
    assert good.passed and not bad.passed
    with pytest.raises(
        GradientCheckError, match=r"gradient of x is wrong: at index \(0, 0, \d, \d\) the analytic value is"
    ):
        assert_gradients_correct(bad)


def test_names_the_wrong_parameter_of_a_layer(rng):
    layer = ConvForgotBiasSum(2, 3, 3, padding=1, rng=0, dtype=np.float64)
    result = check_layer(layer, rng.standard_normal((2, 2, 4, 4)))
    assert [(c.name, c.passed) for c in result] == [("W", True), ("b", False), ("input", True)]
    text = str(result)
    assert "FAIL" in text and "1 gradient(s) FAIL" in text
    with pytest.raises(
        GradientCheckError,
        match=r"1 of 3 gradients failed the check .*\n- gradient of b is wrong: at index \(\d,\) the analytic value is .* \(max abs error .*, max rel error .*\)",
    ):
        assert_gradients_correct(result)


def test_names_the_wrong_layer_and_parameter_of_a_model(rng):
    model = Sequential(
        Conv2D(1, 2, 3, padding=1, rng=0, dtype=np.float64),
        ReLU(),
        MaxPool2D(2),
        Flatten(),
        DenseTransposedWeightGrad(8, 8, rng=1, dtype=np.float64),
        ReLU(),
        Dense(8, 3, rng=2, dtype=np.float64),
    )
    for _layer, name, param in model.parameters():
        if name == "b":
            param[...] = rng.standard_normal(param.shape)
    x = rng.standard_normal((3, 1, 4, 4))
    result = check_model(model, SoftmaxCrossEntropy(), x, [0, 2, 1])
    assert [c.name for c in result.failures] == ["layers[4].W (DenseTransposedWeightGrad)"]
    with pytest.raises(
        GradientCheckError, match=r"gradient of layers\[4\].W \(DenseTransposedWeightGrad\) is wrong"
    ):
        result.raise_if_failed()


def test_result_table_and_lookup():
    result = check_gradient(lambda v: np.sum(v**2), np.array([1.0, 2.0]), np.array([2.0, 4.0]), name="w")
    lines = str(result).splitlines()
    assert lines[0].split() == [
        "gradient",
        "shape",
        "max",
        "abs",
        "err",
        "max",
        "rel",
        "err",
        "worst",
        "index",
        "analytic",
        "numerical",
        "ok",
    ]
    assert lines[2].startswith("w ") and lines[2].endswith("pass")
    assert lines[-1].startswith("all gradients pass")
    assert isinstance(result, GradCheckResult) and bool(result) and len(result) == 1
    assert repr(result) == "<GradCheckResult 1 gradients, passed>"
    with pytest.raises(KeyError, match=r"no gradient named 'x'; checked: \['w'\]"):
        result["x"]


def test_compare_relative_and_absolute_tolerance():
    # Tiny gradients: absolute error below atol passes even with a large relative error.
    assert compare("g", np.array([1e-12]), np.array([3e-12])).passed
    assert not compare("g", np.array([1.0]), np.array([1.001])).passed
    nan = compare("g", np.array([np.nan, 1.0]), np.array([1.0, 1.0]))
    assert not nan.passed and nan.worst_index == (0,)


def test_input_errors():
    with pytest.raises(ValueError, match=r"analytic_grad must have the shape of x, \(2,\), got shape \(3,\)"):
        check_gradient(lambda v: np.sum(v), np.zeros(2), np.zeros(3))
    with pytest.raises(TypeError, match=r"f must return a single real number, got an array of shape \(2,\)"):
        check_gradient(lambda v: v * 2, np.zeros(2), np.zeros(2))
    with pytest.raises(TypeError, match=r"x must be a float64 ndarray \(nudges of 1e-06 vanish in float32\)"):
        numerical_gradient(lambda v: np.sum(v), np.zeros(2, dtype=np.float32))
    with pytest.raises(
        TypeError,
        match=r"parameter W is float32; gradient checks need float64 \(build the layer with dtype=np.float64\)",
    ):
        check_layer(Dense(2, 2), np.zeros((1, 2)))
    with pytest.raises(
        ValueError,
        match=r"analytic gradient of W must have shape \(2, 2\) \(the shape of what it differentiates\), got shape \(4,\)",
    ):
        compare("W", np.zeros(4), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"backward must return one gradient per input \(x, w\), got"):
        check_operation(lambda x, w: x * w, lambda dout, x, w: dout * w, {"x": [1.0], "w": [2.0]})
    with pytest.raises(TypeError, match=r"result must be a GradCheckResult"):
        assert_gradients_correct(True)


# --------------------------------------------------------------------------------------------
# relative_error (lesson 07)


def test_relative_error_is_the_largest_entrywise_relative_error():
    from cnn_helpers.gradcheck import relative_error

    assert relative_error([3.0, 0.0, 2.0], [3.0, 0.0, 2.5]) == pytest.approx(0.2)
    assert relative_error(np.zeros((2, 2)), np.zeros((2, 2))) == 0.0  # 0 / 0 counts as 0
    assert relative_error([1.0, -1.0], [1.0, 1.0]) == pytest.approx(2.0)  # opposite signs
    assert relative_error([np.nan], [1.0]) == np.inf
    # The same relative error at every scale, unlike the absolute error
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 4))
    n = a * (1 + 1e-3 * rng.uniform(-1, 1, size=a.shape))
    assert relative_error(a * 1e-8, n * 1e-8) == pytest.approx(relative_error(a * 1e8, n * 1e8))
    with pytest.raises(
        ValueError, match=r"analytic and numerical must have the same shape, got \(2,\) and \(3,\)"
    ):
        relative_error(np.zeros(2), np.zeros(3))
