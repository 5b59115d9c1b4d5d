"""Lesson 08 checks: the stub fails, the solution passes, every mistake a check names is made and
named, unusual correct answers pass, and handing back the package's own answer fails."""

import math

import numpy as np
import pytest

from cnn_helpers import layers, training
from cnn_helpers.checks import lesson08

from ._tools import assert_fails, assert_passes, load_exercise

EXERCISES = [
    ("8.1", ("flattened_size",), lesson08.check_flattened_size),
    ("8.2", ("softmax_cross_entropy",), lesson08.check_softmax_cross_entropy),
    ("8.3", ("dense_backward",), lesson08.check_dense_backward),
    ("8.5", ("train_keeping_best",), lesson08.check_train_keeping_best),
    ("8.7", ("confusion_matrix", "accuracy_from_confusion"), lesson08.check_confusion_matrix),
]


def functions(exercise_id, names, edition="solution"):
    return [load_exercise("08", exercise_id, name, edition=edition) for name in names]


@pytest.mark.parametrize("exercise_id, names, check", EXERCISES)
def test_solution_passes(exercise_id, names, check):
    assert_passes(check, *functions(exercise_id, names))


@pytest.mark.parametrize("exercise_id, names, check", EXERCISES)
def test_learner_stub_fails(exercise_id, names, check):
    assert_fails(check, *functions(exercise_id, names, edition="learner"), hint="not done yet")


def test_a_finished_confusion_matrix_with_an_unfinished_accuracy_still_fails():
    matrix = load_exercise("08", "8.7", "confusion_matrix")
    stub = load_exercise("08", "8.7", "accuracy_from_confusion", edition="learner")
    assert_fails(lesson08.check_confusion_matrix, matrix, stub, hint="not done yet")


# ------------------------------------------------------------------------------------------ 8.1


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda h, w: 32 * (h // 2) * (w // 2), "only one pooling"),
        (lambda h, w: 32 * h * w, "pooling was ignored"),
        (lambda h, w: 16 * (h // 4) * (w // 4), "16 channels"),
        (lambda h, w: 32 * (((h - 2) // 2 - 2) // 2) * (((w - 2) // 2 - 2) // 2), "no padding"),
        (lambda h, w: 32 * math.ceil(math.ceil(h / 2) / 2) * math.ceil(math.ceil(w / 2) / 2), "rounded up"),
        (lambda h, w: (h // 4) * (w // 4), "channels were left out"),
        (lambda h, w: h * w / 3, "expected a whole number"),
        (lambda h, w: 1568, "wrong size"),  # hard-coded for 28 x 28
        (lambda h, w: str(32 * (h // 4) * (w // 4)), "expected a whole number"),
    ],
)
def test_flattened_size_mistakes(wrong, hint):
    assert_fails(lesson08.check_flattened_size, wrong, hint=hint)


def test_flattened_size_unusual_answers_pass():
    def by_output_size(h, w):  # the lesson 04 formula, step by step, as floats
        for _ in range(2):
            h, w = (h + 2 - 3) // 1 + 1, (w + 2 - 3) // 1 + 1
            h, w = math.floor((h - 2) / 2) + 1, math.floor((w - 2) / 2) + 1
        return float(32 * h * w)

    assert_passes(lesson08.check_flattened_size, by_output_size)
    assert_passes(lesson08.check_flattened_size, lambda h, w: np.int64(32 * (h >> 2) * (w >> 2)))


def test_flattened_size_reference_is_blocked():
    def via_layers(h, w):
        from cnn_helpers.layers import Conv2D, Flatten, MaxPool2D, ReLU
        from cnn_helpers.model import Sequential

        net = Sequential(
            Conv2D(1, 16, 3, padding=1),
            ReLU(),
            MaxPool2D(2),
            Conv2D(16, 32, 3, padding=1),
            ReLU(),
            MaxPool2D(2),
            Flatten(),
        )
        return net.summary((1, h, w))

    assert_fails(lesson08.check_flattened_size, via_layers, hint="called cnn_helpers.layers.Conv2D")


# ------------------------------------------------------------------------------------------ 8.2


def _grad(z, y):
    z = np.asarray(z, dtype=float)
    shifted = z - z.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return p - np.eye(z.shape[1])[y]


def _loss(z, y):
    z = np.asarray(z, dtype=float)
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(z)), y].mean())


def naive(z, y):
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    return float(-np.log(p[np.arange(len(z)), y]).mean()), (p - np.eye(z.shape[1])[y]) / len(z)


def global_max(z, y):
    e = np.exp(z - z.max())
    p = e / e.sum(axis=1, keepdims=True)
    return _loss(z, y), (p - np.eye(z.shape[1])[y]) / len(z)


def column_softmax(z, y):
    shifted = z - z.max(axis=0, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=0, keepdims=True)
    return _loss(z, y), (p - np.eye(z.shape[1])[y]) / len(z)


def log_of_clipped_softmax(z, y):
    shifted = z - z.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return float(-np.log(np.clip(p[np.arange(len(z)), y], 1e-12, None)).mean()), _grad(z, y) / len(z)


def log_of_softmax(z, y):
    shifted = z - z.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return float(-np.log(p[np.arange(len(z)), y]).mean()), _grad(z, y) / len(z)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda z, y: (_loss(z, y) * len(z), _grad(z, y) / len(z)), "loss was summed"),
        (lambda z, y: (_loss(z, y), _grad(z, y)), "not divided by N"),
        (lambda z, y: (_loss(z, y) * len(z), _grad(z, y)), "summed and the gradient not divided"),
        (lambda z, y: (_loss(z, y), -_grad(z, y) / len(z)), "wrong sign"),
        (lambda z, y: (_loss(z, y), (_grad(z, y) + np.eye(z.shape[1])[y]) / len(z)), "gradient is p / N"),
        (naive, "softmax overflowed"),
        (global_max, "whole batch"),
        (column_softmax, "wrong axis"),
        (log_of_clipped_softmax, "underflowed to 0"),
        (log_of_softmax, "inf or nan"),
        (lambda z, y: 2.3, "return a pair"),
        (lambda z, y: (np.full(len(z), _loss(z, y)), _grad(z, y) / len(z)), "one number"),
        (lambda z, y: (_loss(z, y), (_grad(z, y) / len(z))[:, :-1]), "expected dlogits of shape"),
    ],
)
def test_softmax_cross_entropy_mistakes(wrong, hint):
    assert_fails(lesson08.check_softmax_cross_entropy, wrong, hint=hint)


def test_softmax_cross_entropy_unusual_answers_pass():
    def logsumexp_loop(z, y):  # one example at a time, log-sum-exp by hand
        loss, grad = 0.0, np.zeros_like(z, dtype=float)
        for n, row in enumerate(z):
            top = max(row)
            log_sum = top + math.log(sum(math.exp(v - top) for v in row))
            loss += (log_sum - row[y[n]]) / len(z)
            grad[n] = [math.exp(v - log_sum) for v in row]
            grad[n, y[n]] -= 1
        return loss, grad / len(z)

    def with_logaddexp(z, y):  # np.logaddexp.reduce is stable too
        lse = np.logaddexp.reduce(z, axis=1, keepdims=True)
        return float(np.mean(lse[:, 0] - z[np.arange(len(z)), y])), (
            np.exp(z - lse) - np.eye(z.shape[1])[y]
        ) / len(z)

    assert_passes(lesson08.check_softmax_cross_entropy, logsumexp_loop)
    assert_passes(lesson08.check_softmax_cross_entropy, with_logaddexp)


def test_softmax_cross_entropy_reference_is_blocked():
    def via_layers(z, y):
        loss = layers.SoftmaxCrossEntropy()
        return loss.forward(z, y), loss.backward()

    assert_fails(
        lesson08.check_softmax_cross_entropy, via_layers, hint="called cnn_helpers.layers.SoftmaxCrossEntropy"
    )
    assert_fails(
        lesson08.check_softmax_cross_entropy,
        lambda z, y: (_loss(z, y), (layers.softmax(z) - np.eye(z.shape[1])[y]) / len(z)),
        hint="called cnn_helpers.layers.softmax",
    )
    assert layers.softmax(np.zeros((1, 2))).tolist() == [[0.5, 0.5]]  # restored afterwards


# ------------------------------------------------------------------------------------------ 8.3


def dense(dx=None, dw=None, db=None):
    def dense_backward(dout, x, W):
        return (
            (dx or (lambda: dout @ W.T))(),
            (dw or (lambda: x.T @ dout))(),
            (db or (lambda: dout.sum(axis=0)))(),
        )

    return dense_backward


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (
            lambda dout, x, W: (
                dout @ W if W.shape[0] == W.shape[1] else dout @ W.T,
                x.T @ dout,
                dout.sum(0),
            ),
            "dx must be dout @ W.T: out[n, k]",
        ),
        (lambda dout, x, W: ((dout @ W.T).T, x.T @ dout, dout.sum(0)), "this is its transpose"),
        (lambda dout, x, W: (dout @ W.T / len(x), x.T @ dout, dout.sum(0)), "dx was divided by N"),
        (lambda dout, x, W: (dout @ W.T, dout.T @ x, dout.sum(0)), "shape of W transposed"),
        (lambda dout, x, W: (dout @ W.T, x.T @ dout / len(x), dout.sum(0)), "dW was divided by N"),
        (lambda dout, x, W: (dout @ W.T, x.T @ dout, dout.mean(0)), "db was divided by N"),
        (lambda dout, x, W: (dout @ W.T, x.T @ dout, dout.sum(1)), "db summed over the wrong axis"),
        (lambda dout, x, W: (dout @ W.T, x.T @ dout, dout.sum()), "db summed over everything"),
        (lambda dout, x, W: (dout @ W.T, x.T @ dout, dout), "db is dout itself"),
        (lambda dout, x, W: (dout @ W.T, x.T @ dout), "return three gradients"),
        (lambda dout, x, W: (dout @ W.T, x.T @ dout, np.zeros(W.shape[1])), "wrong db"),
    ],
)
def test_dense_backward_mistakes(wrong, hint):
    assert_fails(lesson08.check_dense_backward, wrong, hint=hint)


def test_dense_backward_unusual_answers_pass():
    def with_einsum(dout, x, W):
        return np.einsum("nk,dk->nd", dout, W), np.einsum("nd,nk->dk", x, dout), np.einsum("nk->k", dout)

    def with_loops(dout, x, W):
        dx, dW = np.zeros_like(x), np.zeros_like(W)
        for n in range(len(x)):
            dx[n] = W @ dout[n]
            dW += np.outer(x[n], dout[n])
        return dx, dW, sum(dout)

    assert_passes(lesson08.check_dense_backward, with_einsum)
    assert_passes(lesson08.check_dense_backward, with_loops)


def test_dense_backward_reference_is_blocked():
    def via_layer(dout, x, W):
        layer = layers.Dense(*W.shape, dtype=np.float64)
        layer.params["W"][...] = W
        layer.forward(x)
        dx = layer.backward(dout)
        return dx, layer.grads["W"], layer.grads["b"]

    assert_fails(lesson08.check_dense_backward, via_layer, hint="called cnn_helpers.layers.Dense")


# ------------------------------------------------------------------------------------------ 8.4, 8.6


@pytest.mark.parametrize("answer", [2.303, 2.3026, np.log(10), 2.3, -np.log(0.1)])
def test_initial_loss_right_answers_pass(answer):
    assert_passes(lesson08.check_initial_loss, answer)


@pytest.mark.parametrize(
    "answer, hint",
    [
        (0.1, "probability the guess gives"),
        (1, "log base 10"),
        (np.log2(10), "log base 2"),
        (-2.303, "sign is wrong"),
        (0.9, "error rate of guessing"),
        (np.log(9), "that is log 9"),
        (2.5, "minus its natural logarithm"),
        (None, "not done yet"),
    ],
)
def test_initial_loss_misconceptions(answer, hint):
    assert_fails(lesson08.check_initial_loss, answer, hint=hint)


@pytest.mark.parametrize("answer", ["b", "(B)", "optimistic", "Optimistic"])
def test_choosing_on_test_right_answers_pass(answer):
    assert_passes(lesson08.check_choosing_on_test, answer)


@pytest.mark.parametrize(
    "answer, hint",
    [
        ("a", "better of two tries"),
        ("c", "the error goes the other way"),
        ("d", "any choice the test set makes spends it"),
    ],
)
def test_choosing_on_test_misconceptions(answer, hint):
    assert_fails(lesson08.check_choosing_on_test, answer, hint=hint)


# ------------------------------------------------------------------------------------------ 8.5


def keep(
    select="val", copies=True, write_back=True, test_every_epoch=False, from_zero=False, early_test=False
):
    """The solution, or one of the usual mistakes."""

    def train_keeping_best(model, train_one_epoch, val_accuracy, test_accuracy, epochs):
        vals, tests, saved = [], [], []
        for _ in range(epochs):
            train_one_epoch()
            vals.append(val_accuracy(model))
            if test_every_epoch:
                tests.append(test_accuracy(model))
            saved.append([array.copy() if copies else array for _, _, array in model.parameters()])
        if select == "last":
            best = epochs
        elif select == "test":
            best = int(np.argmax(tests)) + 1
        else:
            best = int(np.argmax(vals)) + 1
        if early_test:
            test_accuracy(model)  # on the last epoch's weights, before restoring
        if write_back:
            for (_, _, array), value in zip(model.parameters(), saved[best - 1], strict=True):
                array[...] = value
        else:
            params = model.params  # a fresh dict: rebinding its entries changes nothing
            for key, value in zip(params, saved[best - 1], strict=True):
                params[key] = value
        return (best - 1 if from_zero else best), vals, test_accuracy(model)

    return train_keeping_best


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (keep(select="last"), "the last epoch was returned"),
        (keep(copies=False), "kept the weights of the last epoch"),
        (keep(write_back=False), "kept the weights of the last epoch"),
        (keep(test_every_epoch=True), "called 7 times"),
        (keep(select="test", test_every_epoch=True), "chosen by its test accuracy"),
        (keep(from_zero=True), "counted from 0"),
        (keep(early_test=True), "called 2 times"),
    ],
)
def test_train_keeping_best_mistakes(wrong, hint):
    assert_fails(lesson08.check_train_keeping_best, wrong, hint=hint)


def test_train_keeping_best_other_mistakes():
    def never_tests(model, train_one_epoch, val_accuracy, test_accuracy, epochs):
        vals = []
        for _ in range(epochs):
            train_one_epoch()
            vals.append(val_accuracy(model))
        return int(np.argmax(vals)) + 1, vals, 0.95

    def tests_before_training(model, train_one_epoch, val_accuracy, test_accuracy, epochs):
        test_accuracy(model)
        return load_exercise("08", "8.5", "train_keeping_best")(
            model, train_one_epoch, val_accuracy, lambda m: 0.0, epochs
        )

    def one_epoch_too_many(model, train_one_epoch, val_accuracy, test_accuracy, epochs):
        return load_exercise("08", "8.5", "train_keeping_best")(
            model, train_one_epoch, val_accuracy, test_accuracy, epochs + 1
        )

    assert_fails(lesson08.check_train_keeping_best, never_tests, hint="called 0 times")
    assert_fails(lesson08.check_train_keeping_best, tests_before_training, hint="before any training")
    assert_fails(lesson08.check_train_keeping_best, one_epoch_too_many, hint="more than epochs")


def test_train_keeping_best_unusual_answers_pass():
    import copy

    def with_deepcopy(model, train_one_epoch, val_accuracy, test_accuracy, epochs):
        best, best_model, vals = 0, None, []
        for epoch in range(1, epochs + 1):
            train_one_epoch()
            vals.append(val_accuracy(model))
            if vals[-1] == max(vals):  # ties go to the later epoch: also a valid choice
                best, best_model = epoch, copy.deepcopy(model)
        for (_, _, array), (_, _, saved) in zip(model.parameters(), best_model.parameters(), strict=True):
            np.copyto(array, saved)
        return best, np.array(vals), test_accuracy(model)

    assert_passes(lesson08.check_train_keeping_best, with_deepcopy)


# ------------------------------------------------------------------------------------------ 8.7


def solution_accuracy():
    return load_exercise("08", "8.7", "accuracy_from_confusion")


def solution_matrix():
    return load_exercise("08", "8.7", "confusion_matrix")


@pytest.mark.parametrize(
    "wrong_matrix, hint",
    [
        (lambda t, p, k: solution_matrix()(t, p, k).T, "rows and columns are swapped"),
        (lambda t, p, k: _buffered(t, p, k), "np.add.at"),
        (lambda t, p, k: solution_matrix()(t, p, max(max(t), max(p)) + 1), "use num_classes"),
        (lambda t, p, k: [[0] * k] * k, "wrong confusion matrix"),
        (lambda t, p, k: "matrix", "array of counts"),
    ],
)
def test_confusion_matrix_mistakes(wrong_matrix, hint):
    assert_fails(lesson08.check_confusion_matrix, wrong_matrix, solution_accuracy(), hint=hint)


def _buffered(t, p, k):
    matrix = np.zeros((k, k), dtype=int)
    matrix[t, p] += 1
    return matrix


@pytest.mark.parametrize(
    "wrong_accuracy, hint",
    [
        (lambda m: float(np.trace(m)), "number of correct predictions"),
        (lambda m: float(np.trace(m) / len(m)), "number of classes"),
        (lambda m: float(np.nanmean(np.diag(m) / np.maximum(np.sum(m, axis=1), 1))), "per-class accuracies"),
        (lambda m: 100 * float(np.trace(m) / np.sum(m)), "percentage"),
        (lambda m: 1 - float(np.trace(m) / np.sum(m)), "error rate"),
    ],
)
def test_accuracy_from_confusion_mistakes(wrong_accuracy, hint):
    assert_fails(lesson08.check_confusion_matrix, solution_matrix(), wrong_accuracy, hint=hint)


def test_confusion_matrix_unusual_answers_pass():
    def by_bincount(t, p, k):
        return np.bincount(np.asarray(t) * k + np.asarray(p), minlength=k * k).reshape(k, k)

    def by_one_hot(t, p, k):
        return np.eye(k, dtype=int)[t].T @ np.eye(k, dtype=int)[p]

    def by_loop(t, p, k):
        return [
            [sum(1 for a, b in zip(t, p, strict=True) if a == i and b == j) for j in range(k)]
            for i in range(k)
        ]

    for matrix in (by_bincount, by_one_hot, by_loop):
        assert_passes(lesson08.check_confusion_matrix, matrix, lambda m: np.diag(m).sum() / np.sum(m))


def test_confusion_matrix_reference_is_blocked():
    assert_fails(
        lesson08.check_confusion_matrix,
        training.confusion_matrix,
        solution_accuracy(),
        hint="package's own implementation",
    )
    assert_fails(
        lesson08.check_confusion_matrix,
        lambda t, p, k: training.confusion_matrix(t, p, num_classes=k),
        solution_accuracy(),
        hint="called cnn_helpers.training.confusion_matrix",
    )
