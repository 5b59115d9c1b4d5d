"""Checks for lesson 08, a trainable CNN: assembling the model, one training step, accuracy."""

from __future__ import annotations

import copy

import numpy as np

from cnn_helpers import layers, model as model_module, optim

from ._core import CheckFailure, call, compare_number, exercise, passed

#: The lesson's architecture: filters of the two convolution layers.
CHANNELS = (16, 32)
INPUT_SHAPE = (1, 8, 8)


# --------------------------------------------------------------------------------------------
# 8.1 assembling the model


def describe_layers(network, input_shape=INPUT_SHAPE):
    """``[(repr, type name, output shape or error text, parameter count), ...]`` for each layer."""
    rows, shape = [], tuple(input_shape)
    for layer in network.layers:
        count = int(sum(np.size(array) for array in getattr(layer, "params", {}).values()))
        if shape is None:
            rows.append((repr(layer), type(layer).__name__, None, count))
            continue
        try:
            shape = tuple(int(s) for s in layer.output_shape(shape))
        except Exception as error:  # a layer that cannot take the previous output
            rows.append((repr(layer), type(layer).__name__, f"error: {error}", count))
            shape = None
            continue
        rows.append((repr(layer), type(layer).__name__, shape, count))
    return rows


def _table(rows):
    lines = []
    for k, (name, _, shape, count) in enumerate(rows):
        shown = "?" if shape is None else str(shape)
        lines.append(f"    {k}: {name:<42} output {shown:<14} {count:>6,} parameters")
    return "\n".join(lines)


def _architecture_hint(expected, received):
    """Name the likely mistake from the two layer lists, or None."""
    expected_types = [row[1] for row in expected]
    received_types = [row[1] for row in received]
    if received_types.count("ReLU") < expected_types.count("ReLU"):
        return ("a ReLU is missing: each convolution is followed by ReLU (without it, two convolutions "
                "in a row are just one bigger linear filter)")
    if sorted(received_types) == sorted(expected_types) and received_types != expected_types:
        return ("pooling (or another layer) is in the wrong place: the order is convolution → ReLU → "
                "max pooling, twice, then Flatten → Dense (max pooling before ReLU happens to give the "
                "same numbers, but build the layers in the lesson's order)")
    dense = [row for row in received if row[1] == "Dense"]
    if dense and isinstance(dense[0][2], str) or any(
        e[1] == r[1] == "Dense" and e[3] != r[3] for e, r in zip(expected, received)
    ):
        return ("wrong flatten size: the Dense layer's in_features must be what Flatten produces. "
                f"After two 2x2 poolings each of the {CHANNELS[1]} maps is 2x2, so {CHANNELS[1]} * 2 * 2 = "
                f"{CHANNELS[1] * 4} numbers")
    if received_types.count("MaxPool2D") < expected_types.count("MaxPool2D"):
        return "a max-pooling layer is missing: each ReLU is followed by MaxPool2D(2)"
    return None


def _parameters(network):
    return [np.array(array) for _, _, array in network.parameters()]


@exercise("8.1", "assemble the model",
          allowed=("Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dense", "Sequential", "make_rng"))
def check_build_model(build_model):
    """``build_model(seed)`` must return the lesson's Sequential CNN, reproducible from its seed."""
    for seed in (0, 1, 8):
        case = f"build_model({seed})"
        network = call("8.1", build_model, seed, case=case)
        if not (hasattr(network, "layers") and hasattr(network, "forward") and hasattr(network, "parameters")):
            raise CheckFailure(
                f"Exercise 8.1: {case} must return a Sequential model of layers, got {type(network).__name__}"
            )
        reference = model_module.small_cnn(seed=seed, channels=CHANNELS)
        expected, received = describe_layers(reference), describe_layers(network)
        same = len(expected) == len(received) and all(
            e[1:] == r[1:] for e, r in zip(expected, received)
        )
        if not same:
            first = next((k for k, (e, r) in enumerate(zip(expected, received)) if e[1:] != r[1:]),
                         min(len(expected), len(received)))
            message = [
                f"Exercise 8.1: the model from {case} is not the lesson's architecture "
                f"(first difference at layer {first}).",
                f"  expected {len(expected)} layers, for input {INPUT_SHAPE}:",
                _table(expected),
                f"  your model has {len(received)} layers:",
                _table(received),
            ]
            hint = _architecture_hint(expected, received)
            if hint:
                message.append(f"  Likely mistake: {hint}")
            raise CheckFailure("\n".join(message))
        scores = network.forward(np.zeros((3,) + INPUT_SHAPE, dtype=np.float32))
        if np.shape(scores) != (3, 10):
            raise CheckFailure(
                f"Exercise 8.1: {case} gives scores of shape {np.shape(scores)} for 3 digits, expected (3, 10)"
            )
    again = call("8.1", build_model, 0, case="build_model(0), a second time")
    other = call("8.1", build_model, 1, case="build_model(1)")
    first = call("8.1", build_model, 0, case="build_model(0)")
    if not all(np.array_equal(a, b) for a, b in zip(_parameters(first), _parameters(again))):
        raise CheckFailure(
            "Exercise 8.1: build_model(0) gave different weights on two calls: make every layer's "
            "initial weights come from the seed (e.g. rng = np.random.default_rng(seed), passed as rng=rng)"
        )
    if all(np.array_equal(a, b) for a, b in zip(_parameters(first), _parameters(other))):
        raise CheckFailure(
            "Exercise 8.1: build_model(0) and build_model(1) gave the same weights: the seed is "
            "ignored. Pass it (or a generator made from it) as the layers' rng"
        )
    total = model_module.small_cnn(seed=0, channels=CHANNELS).num_params
    passed("8.1", f"8 layers with the right output shapes and {total:,} parameters, reproducible from the seed")


# --------------------------------------------------------------------------------------------
# 8.2 one training step


def _setup(seed, kind):
    """A small float64 CNN, its loss and optimiser, with stale gradients from an earlier batch."""
    rng = np.random.default_rng(seed)
    network = model_module.small_cnn(seed=seed, channels=(2, 3), dtype=np.float64)
    loss = layers.SoftmaxCrossEntropy()
    if kind == "SGD":
        optimizer = optim.SGD(network, lr=0.1)
    elif kind == "SGD with momentum":
        optimizer = optim.SGD(network, lr=0.05, momentum=0.9)
    else:
        optimizer = optim.Adam(network, lr=0.01)
    old_x, old_y = rng.random((6,) + INPUT_SHAPE), rng.integers(0, 10, size=6)
    loss.forward(network.forward(old_x), old_y)   # gradients of another batch: stale on purpose
    network.backward(loss.backward())
    batches = [(rng.random((5,) + INPUT_SHAPE), rng.integers(0, 10, size=5)) for _ in range(3)]
    return network, loss, optimizer, batches


def _reference_step(network, loss, optimizer, x, y, *, backward="loss", step=1):
    """One step, or one of the usual mistakes; returns the loss value before the update."""
    logits = network.forward(x)
    value = loss.forward(logits, y)
    if backward == "loss":
        network.backward(loss.backward())
    elif backward == "ones":
        network.backward(np.ones_like(logits))
    elif backward == "logits":
        network.backward(logits)
    for _ in range(step):
        optimizer.step()
    return value


def _after(state, x, y, **mistake):
    network, loss, optimizer = copy.deepcopy(state)
    value = _reference_step(network, loss, optimizer, x, y, **mistake)
    return _parameters(network), value, network, loss


@exercise("8.2", "one training step")
def check_train_step(train_step):
    """``train_step(model, loss, optimizer, x, y)``: forward, loss, backward, update; returns the loss."""
    steps = 0
    for seed, kind in ((820, "SGD"), (821, "SGD with momentum"), (822, "Adam")):
        network, loss, optimizer, batches = _setup(seed, kind)
        for k, (x, y) in enumerate(batches):
            case = f"step {k + 1} with {kind} on a batch of {len(x)} random 8x8 images"
            state = (network, loss, optimizer)
            expected_params, expected_loss, _, _ = _after(state, x, y)
            before = _parameters(network)
            mistakes = [
                ("the parameters did not change: call optimizer.step() after the backward pass", before),
                ("the update used old gradients: call model.backward(loss.backward()) before "
                 "optimizer.step(); backward is what fills the gradients the optimiser reads",
                 _after(state, x, y, backward=None)[0]),
                ("backward did not start from the loss's gradient: pass loss.backward() (dL/dlogits) "
                 "to model.backward", _after(state, x, y, backward="ones")[0]),
                ("backward was given the logits: pass loss.backward(), the gradient of the loss with "
                 "respect to the logits", _after(state, x, y, backward="logits")[0]),
                ("optimizer.step() was called twice: one update per batch", _after(state, x, y, step=2)[0]),
            ]
            _, after_loss_value, after_network, after_loss = _after(state, x, y)
            loss_after_update = after_loss.forward(after_network.forward(x), y)
            received = call("8.2", train_step, network, loss, optimizer, x.copy(), y.copy(), case=case)
            steps += 1
            if received is None:
                raise CheckFailure(f"Exercise 8.2: on {case}, train_step returned None: return the loss value (a float)")
            compare_number("8.2", expected_loss, received, case, name="loss returned", mistakes=[
                ("the loss was computed after the update: return the value loss.forward gave before "
                 "backward and optimizer.step()", loss_after_update),
            ])
            params = _parameters(network)
            names = list(network.params)
            wrong = [name for name, got, want in zip(names, params, expected_params) if not np.allclose(got, want, rtol=1e-9, atol=1e-12)]
            if wrong:
                message = (f"Exercise 8.2: on {case}, the parameters after your step are wrong "
                           f"({', '.join(wrong)} of {len(names)} parameter arrays differ from one correct step).")
                for description, values in mistakes:
                    if all(np.allclose(got, v, rtol=1e-9, atol=1e-12) for got, v in zip(params, values)):
                        message += f"\n  Likely mistake: {description}"
                        break
                raise CheckFailure(message)
    passed("8.2", f"the loss and every parameter are right after {steps} steps with SGD, momentum and Adam")


# --------------------------------------------------------------------------------------------
# 8.3 accuracy


@exercise("8.3", "accuracy")
def check_accuracy(accuracy):
    """``accuracy(scores, labels)``: fraction of rows whose largest score is the label."""
    rng = np.random.default_rng(803)
    cases = []
    for n, k in [(10, 10), (4, 4), (7, 3), (3, 10), (50, 10), (1, 5)]:
        cases.append((n, k, "logits"))
    for _ in range(30):
        cases.append((int(rng.integers(1, 60)), int(rng.integers(2, 12)), str(rng.choice(["logits", "probabilities"]))))
    for number, (n, k, kind) in enumerate(cases):
        scores = rng.normal(size=(n, k)) * 3
        if kind == "probabilities":
            scores = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        labels = rng.integers(0, k, size=n)
        # make about two thirds right, so that mistakes are told apart
        right = rng.random(n) < 0.65
        labels = np.where(right, scores.argmax(axis=1), labels)
        case = f"case {number}: {kind} of shape {scores.shape}"
        expected = float(np.mean(scores.argmax(axis=1) == labels))
        received = call("8.3", accuracy, scores.copy(), labels.copy(), case=case)
        mistakes = [
            ("the argmax ran over the wrong axis: each row is one example, so take argmax(axis=1)",
             float(np.mean(scores.argmax(axis=0) == labels)) if n == k else None),
            ("this is the number of correct predictions: divide by the number of examples to get a fraction",
             expected * n),
            ("this is a percentage: return a fraction between 0 and 1", expected * 100),
            ("this is the error rate: accuracy is the fraction of correct predictions", 1 - expected),
        ]
        compare_number("8.3", expected, received, case, mistakes, name="accuracy")
    passed("8.3", f"accuracy is right on {len(cases)} batches of logits and probabilities")


__all__ = ["check_build_model", "check_train_step", "check_accuracy", "describe_layers", "CHANNELS"]
