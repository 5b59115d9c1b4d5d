"""Lesson 08 checks: the stub fails, the solution passes, plausible mistakes fail with the right hint."""

import numpy as np
import pytest

from cnn_helpers import training
from cnn_helpers.checks import lesson08
from cnn_helpers.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from cnn_helpers.model import Sequential, small_cnn

from ._tools import assert_fails, load_exercise


# --------------------------------------------------------------------------------------------
# 8.1 assembling the model


def cnn(*layers):
    return Sequential(*layers)


def standard(seed, dense_in=128, relu=True, order="conv relu pool"):
    rng = np.random.default_rng(seed)
    blocks = []
    for c_in, c_out in ((1, 16), (16, 32)):
        parts = {"conv": Conv2D(c_in, c_out, 3, padding=1, rng=rng), "relu": ReLU(), "pool": MaxPool2D(2)}
        blocks += [parts[name] for name in order.split() if relu or name != "relu"]
    return cnn(*blocks, Flatten(), Dense(dense_in, 10, rng=rng))


@pytest.mark.parametrize("wrong, hint", [
    (lambda seed: standard(seed, dense_in=32 * 8 * 8), "wrong flatten size"),
    (lambda seed: standard(seed, dense_in=32 * 4 * 4), "wrong flatten size"),
    (lambda seed: standard(seed, relu=False), "a ReLU is missing"),
    (lambda seed: standard(seed, order="conv pool relu"), "in the wrong place"),
    (lambda seed: cnn(MaxPool2D(2), Conv2D(1, 16, 3, padding=1, rng=seed), ReLU(), Conv2D(16, 32, 3, padding=1, rng=seed),
                      ReLU(), MaxPool2D(2), Flatten(), Dense(128, 10, rng=seed)), "in the wrong place"),
])
def test_build_model_mistakes_are_named(wrong, hint):
    message = assert_fails(lesson08.check_build_model, wrong, hint=hint)
    assert "expected 8 layers" in message  # the failure shows both layer tables


def test_build_model_other_differences_show_the_tables():
    def five_by_five(seed):
        rng = np.random.default_rng(seed)
        return cnn(Conv2D(1, 16, 5, padding=2, rng=rng), ReLU(), MaxPool2D(2), Conv2D(16, 32, 3, padding=1, rng=rng),
                   ReLU(), MaxPool2D(2), Flatten(), Dense(128, 10, rng=rng))

    message = assert_fails(lesson08.check_build_model, five_by_five, hint="first difference at layer 0")
    assert "416 parameters" in message and "160 parameters" in message


def test_build_model_must_use_the_seed():
    def ignores_seed(seed):  # a hard-coded model: the same weights whatever the seed
        return standard(0)

    def unseeded(seed):
        return standard(np.random.default_rng().integers(1 << 30))

    assert_fails(lesson08.check_build_model, ignores_seed, hint="the seed is ignored")
    assert_fails(lesson08.check_build_model, unseeded, hint="different weights on two calls")


def test_build_model_must_return_a_model():
    assert_fails(lesson08.check_build_model, lambda seed: [Conv2D(1, 16, 3)], hint="must return a Sequential")


def test_build_model_calling_the_reference_fails():
    assert_fails(lesson08.check_build_model, lambda seed: small_cnn(channels=(16, 32), seed=seed),
                 hint="called cnn_helpers.model.small_cnn")
    assert small_cnn(channels=(8, 16), seed=0).num_params == 1898  # restored afterwards


# --------------------------------------------------------------------------------------------
# 8.2 one training step


def no_step(model, loss, optimizer, x, y):
    value = loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    return value


def no_backward(model, loss, optimizer, x, y):
    value = loss.forward(model.forward(x), y)
    optimizer.step()
    return value


def step_before_backward(model, loss, optimizer, x, y):
    value = loss.forward(model.forward(x), y)
    optimizer.step()
    model.backward(loss.backward())
    return value


def ones_gradient(model, loss, optimizer, x, y):
    logits = model.forward(x)
    value = loss.forward(logits, y)
    model.backward(np.ones_like(logits))
    optimizer.step()
    return value


def loss_after(model, loss, optimizer, x, y):
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    optimizer.step()
    return loss.forward(model.forward(x), y)


@pytest.mark.parametrize("wrong, hint", [
    (no_step, "call optimizer.step()"),
    (no_backward, "used old gradients"),
    (step_before_backward, "used old gradients"),
    (ones_gradient, "did not start from the loss's gradient"),
    (loss_after, "computed after the update"),
])
def test_train_step_mistakes_are_named(wrong, hint):
    assert_fails(lesson08.check_train_step, wrong, hint=hint)


def test_train_step_must_return_the_loss():
    def returns_nothing(model, loss, optimizer, x, y):
        load_exercise("08", "8.2", "train_step")(model, loss, optimizer, x, y)

    assert_fails(lesson08.check_train_step, returns_nothing, hint="returned None")
    assert_fails(lesson08.check_train_step, lambda m, l, o, x, y: 2.3, hint="wrong loss returned")  # hard-coded


def test_train_step_calling_fit_fails():
    def with_fit(model, loss, optimizer, x, y):
        return training.fit(model, loss, optimizer, x, y, epochs=1, batch_size=len(x), progress=False).loss[0]

    assert_fails(lesson08.check_train_step, with_fit, hint="called cnn_helpers.training.fit")


# --------------------------------------------------------------------------------------------
# 8.3 accuracy


@pytest.mark.parametrize("wrong, hint", [
    (lambda s, y: float(np.mean(np.argmax(s, axis=0) == y)), "wrong axis"),
    (lambda s, y: int(np.sum(np.argmax(s, axis=1) == y)), "number of correct predictions"),
    (lambda s, y: 100 * float(np.mean(np.argmax(s, axis=1) == y)), "percentage"),
    (lambda s, y: float(np.mean(np.argmax(s, axis=1) != y)), "error rate"),
    (lambda s, y: 0.98, "wrong accuracy"),  # hard-coded
    (lambda s, y: np.argmax(s, axis=1) == y, "expected a number"),
])
def test_accuracy_mistakes_are_named(wrong, hint):
    assert_fails(lesson08.check_accuracy, wrong, hint=hint)


def test_accuracy_calling_the_reference_fails():
    assert_fails(lesson08.check_accuracy, training.accuracy, hint="package's own implementation")
    assert_fails(lesson08.check_accuracy, lambda s, y: training.accuracy(s, y), hint="called cnn_helpers.training.accuracy")


def test_describe_layers_reports_a_layer_that_cannot_take_its_input():
    rows = lesson08.describe_layers(standard(0, dense_in=100))
    assert rows[-1][1] == "Dense" and rows[-1][2].startswith("error:")
    assert [row[2] for row in lesson08.describe_layers(standard(0))][-2:] == [(128,), (10,)]
