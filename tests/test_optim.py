"""Optimisers: SGD (with momentum) against a hand-rolled reference, Adam against torch.optim.Adam."""

import numpy as np
import pytest

from cnn_helpers.layers import Conv2D, Dense, ReLU
from cnn_helpers.model import Sequential
from cnn_helpers.optim import SGD, Adam, Optimiser, collect_parameters


def _model(dtype=np.float64):
    return Sequential(Conv2D(1, 2, 3, rng=0, dtype=dtype), ReLU(), Dense(3, 2, rng=1, dtype=dtype))


def _set_random_grads(model, rng):
    for layer, name, param in model.parameters():
        layer.grads[name] = rng.standard_normal(param.shape).astype(param.dtype)


def test_sgd_without_momentum_is_one_subtraction(rng):
    model = _model()
    before = {key: value.copy() for key, value in model.params.items()}
    _set_random_grads(model, rng)
    SGD(model, lr=0.1).step()
    for key, value in model.params.items():
        np.testing.assert_allclose(value, before[key] - 0.1 * model.grads[key], rtol=1e-15)


def test_sgd_momentum_matches_hand_rolled_reference(rng):
    model = _model()
    optimizer = SGD(model, lr=0.05, momentum=0.9)
    reference = {key: value.copy() for key, value in model.params.items()}
    velocity = {key: np.zeros_like(value) for key, value in reference.items()}
    for _ in range(5):
        _set_random_grads(model, rng)
        for key, grad in model.grads.items():
            velocity[key] = 0.9 * velocity[key] + grad
            reference[key] = reference[key] - 0.05 * velocity[key]
        optimizer.step()
    for key, value in model.params.items():
        np.testing.assert_allclose(value, reference[key], rtol=1e-12, atol=1e-15)
    assert optimizer.steps == 5


def test_sgd_momentum_matches_torch(rng):
    torch = pytest.importorskip("torch")
    w = rng.standard_normal((3, 2))
    layer = Dense(3, 2, dtype=np.float64)
    layer.params["W"][...] = w
    tw = torch.tensor(w, requires_grad=True)
    ours = SGD([layer.parameters()[0]], lr=0.1, momentum=0.8)
    theirs = torch.optim.SGD([tw], lr=0.1, momentum=0.8)
    for _ in range(4):
        grad = rng.standard_normal((3, 2))
        layer.grads["W"] = grad
        tw.grad = torch.tensor(grad)
        ours.step()
        theirs.step()
    np.testing.assert_allclose(layer.params["W"], tw.detach().numpy(), rtol=1e-12)


def test_adam_matches_torch_over_several_steps(rng):
    torch = pytest.importorskip("torch")
    model = _model()
    tensors = {key: torch.tensor(value.copy(), requires_grad=True) for key, value in model.params.items()}
    ours = Adam(model, lr=3e-3, betas=(0.8, 0.99), eps=1e-7)
    theirs = torch.optim.Adam(list(tensors.values()), lr=3e-3, betas=(0.8, 0.99), eps=1e-7)
    for _ in range(6):
        _set_random_grads(model, rng)
        for key, grad in model.grads.items():
            tensors[key].grad = torch.tensor(grad)
        ours.step()
        theirs.step()
    for key, value in model.params.items():
        np.testing.assert_allclose(value, tensors[key].detach().numpy(), rtol=1e-12, atol=1e-14)


def test_one_adam_step_matches_torch_in_float32(rng):
    torch = pytest.importorskip("torch")
    model = _model(np.float32)
    tensors = [torch.tensor(param.copy(), requires_grad=True) for _, _, param in model.parameters()]
    _set_random_grads(model, rng)
    for tensor, (layer, name, _) in zip(tensors, model.parameters(), strict=True):
        tensor.grad = torch.tensor(layer.grads[name])
    Adam(model).step()
    torch.optim.Adam(tensors).step()
    for tensor, (_, _, param) in zip(tensors, model.parameters(), strict=True):
        assert param.dtype == np.float32
        np.testing.assert_allclose(param, tensor.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_updates_are_in_place(rng):
    model = _model()
    arrays = [param for _, _, param in model.parameters()]
    _set_random_grads(model, rng)
    for optimizer in (SGD(model, lr=0.1, momentum=0.5), Adam(model)):
        optimizer.step()
    assert all(a is b for a, b in zip(arrays, [param for _, _, param in model.parameters()], strict=True))
    assert all(a is b for a, b in zip(arrays, model.params.values(), strict=True))


def test_accepts_model_layer_or_list_of_layers():
    conv, dense = Conv2D(1, 2, 3), Dense(3, 2)
    assert len(collect_parameters(Sequential(conv, dense))) == 4
    assert len(collect_parameters(conv)) == 2
    assert len(collect_parameters([conv, dense])) == 4
    assert len(collect_parameters([(dense, "W", dense.params["W"])])) == 1
    assert repr(Adam(dense, lr=0.01)) == "Adam(lr=0.01, betas=(0.9, 0.999), eps=1e-08, parameters=2)"
    assert repr(SGD(dense, lr=0.1, momentum=0.9)) == "SGD(lr=0.1, momentum=0.9, parameters=2)"


def test_zero_grad_fills_zeros_in_place(rng):
    model = _model()
    _set_random_grads(model, rng)
    grads = list(model.grads.values())
    SGD(model, lr=0.1).zero_grad()
    assert all(np.all(g == 0) for g in model.grads.values())
    assert all(a is b for a, b in zip(grads, model.grads.values(), strict=True))


def test_step_before_backward_is_a_runtime_error():
    with pytest.raises(
        RuntimeError,
        match=r"no gradient for parameter 'W' of Dense\(2, 2\): call the model's backward\(...\) before the optimiser's step\(\)",
    ):
        Adam(Dense(2, 2)).step()


def test_gradient_of_wrong_shape():
    dense = Dense(2, 2)
    dense.grads = {"W": np.zeros((3, 3)), "b": np.zeros(2)}
    with pytest.raises(
        ValueError,
        match=r"gradient for parameter 'W' of Dense\(2, 2\) has shape \(3, 3\), expected the parameter's shape \(2, 2\)",
    ):
        SGD(dense, lr=0.1).step()


def test_hyperparameter_errors():
    dense = Dense(2, 2)
    with pytest.raises(ValueError, match=r"lr must be > 0, got 0.0"):
        SGD(dense, lr=0)
    with pytest.raises(TypeError, match=r"lr must be a real number, got str '0.1'"):
        SGD(dense, lr="0.1")
    with pytest.raises(ValueError, match=r"momentum must be < 1.0, got 1.0"):
        SGD(dense, lr=0.1, momentum=1)
    with pytest.raises(ValueError, match=r"momentum must be >= 0.0, got -0.5"):
        SGD(dense, lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match=r"betas\[1\] must be < 1.0, got 1.5"):
        Adam(dense, betas=(0.9, 1.5))
    with pytest.raises(ValueError, match=r"betas must be a pair \(beta1, beta2\), got float 0.9"):
        Adam(dense, betas=0.9)
    with pytest.raises(ValueError, match=r"lr must be finite, got nan"):
        Adam(dense, lr=float("nan"))
    with pytest.raises(ValueError, match=r"model_or_params has no parameters to optimise"):
        SGD(ReLU(), lr=0.1)
    with pytest.raises(
        TypeError, match=r"model_or_params must be a model, a layer or a list of layers, got int 3"
    ):
        SGD(3, lr=0.1)
    with pytest.raises(
        TypeError, match=r"model_or_params must hold layers or \(layer, name, array\) triples, got str 'W'"
    ):
        SGD(["W"], lr=0.1)


@pytest.mark.parametrize("make", [lambda m: SGD(m, lr=0.1, momentum=0.5), lambda m: Adam(m, lr=0.1)])
def test_step_reads_each_gradient_from_its_leaf_layer(rng, make):
    """No container's grads dict is rebuilt per parameter per step: reading one would fail here."""
    from cnn_helpers.blocks import ResidualBlock

    class NoGrads(ResidualBlock):
        @property
        def grads(self):
            raise AssertionError("the optimiser rebuilt a block's grads dict")

    block = NoGrads(2, rng=0, dtype=np.float64)
    model = Sequential(block)
    optimiser = make(model)
    assert isinstance(optimiser, Optimiser)
    assert all(not layer.children for layer, _, _ in optimiser._triples)  # leaves only
    before = [array.copy() for _, _, array in model.parameters()]
    model.backward(np.ones_like(model.forward(rng.standard_normal((1, 2, 4, 4)))))
    optimiser.step()
    assert all(
        not np.array_equal(b, a)
        for b, (_, _, a) in zip(before, model.parameters(), strict=True)
        if b.ndim == 4
    )
