"""Checks for lesson 08, a trainable CNN on 28x28 digits.

- 8.1 predicts the length of the flattened maps for many input sizes, odd ones included.
- 8.2 checks a softmax cross-entropy and its gradient on random logits, on huge and tiny ones
  (where a naive softmax overflows or takes log 0) and on batches whose rows differ wildly.
- 8.3 checks the dense layer's backward pass on random shapes, square ones too, so that a
  transposed product cannot hide behind a shape error.
- 8.4 asks for the loss of a uniform guess over 10 classes (a checked question).
- 8.5 runs the learner's training loop on a scripted "training" whose weights and accuracies are
  known in advance, so that keeping the last epoch, choosing by the test accuracy, evaluating the
  test set more than once, saving references instead of copies, or an epoch counted from 0 all
  show.
- 8.6 asks what choosing a recipe on the test set does to the test number (a checked question).
- 8.7 checks a confusion matrix (with repeated pairs, absent classes) and the accuracy read from it.

The functions the checks hand to the learner's code use NumPy only (the package's own
implementations are blocked while a check runs).
"""

from __future__ import annotations

import math

import numpy as np

from ._core import CheckFailure, call, compare, compare_number, exercise, passed, question

__all__ = [
    "check_flattened_size",
    "check_softmax_cross_entropy",
    "check_dense_backward",
    "check_initial_loss",
    "check_train_keeping_best",
    "check_choosing_on_test",
    "check_confusion_matrix",
    "CheckFailure",
]


def _same(a, b, rtol=1e-6, atol=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol)


def _integer(exercise_id, value, case):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, float, np.floating)):
        raise CheckFailure(
            f"Exercise {exercise_id}: on {case}, expected a whole number, got {type(value).__name__} {value!r}"
        )
    if not float(value).is_integer():
        raise CheckFailure(f"Exercise {exercise_id}: on {case}, expected a whole number, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------------------------
# 8.1 the size of the flattened maps


def _flat(height, width, channels=32, pools=2, rounding=math.floor, conv_shrink=0):
    for _ in range(pools):
        height, width = height - conv_shrink, width - conv_shrink
        height, width = int(rounding(height / 2)), int(rounding(width / 2))
    return channels * height * width


@exercise("8.1", "predict the size of the flattened maps", reference=None)
def check_flattened_size(flattened_size):
    """``flattened_size(height, width)``: 32 * (height // 4) * (width // 4), floor at each pooling."""
    rng = np.random.default_rng(801)
    cases = [(28, 28), (8, 8), (32, 32), (29, 29), (30, 26), (7, 9), (64, 48)]
    cases += [(int(h), int(w)) for h, w in rng.integers(4, 100, size=(25, 2))]
    for height, width in cases:
        case = f"an input of 1 x {height} x {width}"
        expected = _flat(height, width)
        received = _integer("8.1", call("8.1", flattened_size, height, width, case=case), case)
        if received == expected:
            continue
        mistakes = [
            (
                "only one pooling was counted: each of the two rounds halves height and width",
                _flat(height, width, pools=1),
            ),
            (
                "the pooling was ignored: padding 1 keeps the size, but each 2x2 pooling halves it",
                _flat(height, width, pools=0),
            ),
            (
                "the first layer's 16 channels were used; Flatten sees the last convolution's 32 maps",
                _flat(height, width, channels=16),
            ),
            (
                "the convolutions were taken to shrink the maps (no padding); padding 1 keeps a 3x3 "
                "convolution's output at its input's size",
                _flat(height, width, conv_shrink=2),
            ),
            (
                "an odd size was rounded up; 2x2 pooling with stride 2 drops a last odd row or column "
                "(floor((n - 2) / 2) + 1 = n // 2)",
                _flat(height, width, rounding=math.ceil),
            ),
            (
                "the channels were left out: Flatten lines up every map, one after the other",
                _flat(height, width, channels=1),
            ),
        ]
        message = f"Exercise 8.1: wrong size on {case}: expected {expected:,}, got {received:,}."
        for description, value in mistakes:
            if received == value and value != expected:
                message += f"\n  Likely mistake: {description}"
                break
        raise CheckFailure(message)
    passed(
        "8.1",
        f"the flattened size is right for {len(cases)} input sizes, "
        f"{_flat(28, 28):,} for the lesson's 28 x 28 digits",
    )


# --------------------------------------------------------------------------------------------
# 8.2 softmax cross-entropy


def _log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _reference_loss_and_grad(z, labels):
    n = len(z)
    log_p = _log_softmax(z)
    grad = np.exp(log_p)
    grad[np.arange(n), labels] -= 1
    return float(-log_p[np.arange(n), labels].mean()), grad / n


def _softmax_cases(rng):
    cases = [
        (
            "3 examples, 4 classes, small logits",
            np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [2.0, -1.0, 0.5, 0.0]]),
            np.array([3, 1, 0]),
        )
    ]
    for _ in range(12):
        n, k = int(rng.integers(1, 9)), int(rng.integers(2, 12))
        cases.append(
            (
                f"random logits, {n} examples, {k} classes",
                rng.normal(scale=3, size=(n, k)),
                rng.integers(0, k, n),
            )
        )
    for _ in range(3):
        n, k = int(rng.integers(2, 7)), int(rng.integers(2, 8))
        z = rng.normal(scale=3, size=(n, k)) + 1000
        cases.append((f"large logits near 1000 ({n} examples, {k} classes)", z, rng.integers(0, k, n)))
    z = rng.normal(scale=3, size=(4, 5))
    z[:, 0] += 800  # one class far ahead: the others' probabilities underflow to 0
    cases.append(
        ("logits where class 0 leads by about 800, labels on the other classes", z, np.array([1, 2, 3, 4]))
    )
    z = rng.normal(scale=2, size=(4, 6))
    z[:2] += 1000
    z[2:] -= 1000
    cases.append(("two rows near +1000 and two near -1000", z, rng.integers(0, 6, 4)))
    return cases


def _softmax_mistakes(z, labels):
    """What the usual mistakes return: (description, (loss, grad)) pairs."""
    n, k = z.shape
    loss, grad = _reference_loss_and_grad(z, labels)
    onehot = np.eye(k)[labels]
    with np.errstate(all="ignore"):
        e = np.exp(z)
        naive_p = e / e.sum(axis=1, keepdims=True)
        naive_loss = float(-np.log(naive_p[np.arange(n), labels]).mean())
        global_shift = np.exp(z - z.max())
        global_p = global_shift / global_shift.sum(axis=1, keepdims=True)
        column_shift = z - z.max(axis=0, keepdims=True)
        column_p = np.exp(column_shift) / np.exp(column_shift).sum(axis=0, keepdims=True)
        p = np.exp(_log_softmax(z))
        clipped_loss = float(-np.log(np.clip(p[np.arange(n), labels], 1e-12, None)).mean())
    return [
        ("the loss was summed over the batch; take the mean (divide by N)", (loss * n, grad)),
        (
            "the gradient is not divided by N: the loss is a mean over the batch, so each example's "
            "gradient p - onehot carries a factor 1/N",
            (loss, grad * n),
        ),
        ("the loss was summed and the gradient not divided by N", (loss * n, grad * n)),
        (
            "the gradient has the wrong sign: d(loss)/d(logits) = (p - onehot) / N, not (onehot - p) / N",
            (loss, -grad),
        ),
        ("the gradient is p / N: subtract 1 at each example's true class (p - onehot)", (loss, p / n)),
        (
            "softmax overflowed: exp of large logits is inf. Subtract each row's maximum before exp "
            "(the probabilities do not change)",
            (naive_loss, (naive_p - onehot) / n),
        ),
        (
            "the largest logit of the whole batch was subtracted, so rows far below it underflow to 0 / 0; "
            "subtract each row's own maximum (max(axis=1, keepdims=True))",
            (None, (global_p - onehot) / n),
        ),
        (
            "softmax was taken over the wrong axis (down the columns): each row is one example, so normalise "
            "along axis=1",
            (None, (column_p - onehot) / n),
        ),
        (
            "log of a probability that underflowed to 0 (or was clipped): compute log p as "
            "(z - max) - log(sum(exp(z - max))) rather than log(softmax(z))",
            (clipped_loss, grad),
        ),
    ]


def _finite_message(value):
    return "inf or nan" if not np.all(np.isfinite(value)) else None


@exercise(
    "8.2",
    "a numerically stable softmax cross-entropy and its gradient",
    reference="cnn_helpers.layers.softmax",
)
def check_softmax_cross_entropy(softmax_cross_entropy):
    """``softmax_cross_entropy(logits, labels) -> (mean loss, dlogits)``, finite for huge logits."""
    rng = np.random.default_rng(802)
    cases = _softmax_cases(rng)
    for description, z, labels in cases:
        case = f"{description}"
        received = call("8.2", softmax_cross_entropy, z.copy(), labels.copy(), case=case)
        if not (isinstance(received, (tuple, list)) and len(received) == 2):
            raise CheckFailure(
                f"Exercise 8.2: on {case}, return a pair (loss, dlogits), got {type(received).__name__}"
            )
        loss, grad = _reference_loss_and_grad(z, labels)
        got_loss, got_grad = received
        if np.ndim(got_loss) != 0:
            raise CheckFailure(
                f"Exercise 8.2: on {case}, the loss must be one number (the mean over the batch), got an array "
                f"of shape {np.shape(got_loss)}"
            )
        try:
            got_loss_value = float(np.asarray(got_loss, dtype=float))
            got_grad = np.asarray(got_grad, dtype=float)
        except (TypeError, ValueError):
            raise CheckFailure(
                f"Exercise 8.2: on {case}, the loss must be a number and dlogits an array, got "
                f"{type(got_loss).__name__} and {type(got_grad).__name__}"
            ) from None
        loss_ok = np.isclose(got_loss_value, loss, rtol=1e-6, atol=1e-8)
        grad_ok = _same(got_grad, grad, rtol=1e-5, atol=1e-9)
        if loss_ok and grad_ok:
            continue
        what = "loss" if not loss_ok else "dlogits"
        lines = [f"Exercise 8.2: wrong {what} on {case}."]
        if not loss_ok:
            lines.append(f"  expected loss {loss:.6g}, got {got_loss_value:.6g}")
        elif got_grad.shape != grad.shape:
            lines.append(f"  expected dlogits of shape {grad.shape}, got shape {got_grad.shape}")
        else:
            lines.append(
                f"  expected dlogits\n{np.array2string(grad, precision=4)}\n  got\n"
                f"{np.array2string(got_grad, precision=4)}"
            )
        for hint, (mistake_loss, mistake_grad) in _softmax_mistakes(z, labels):
            if mistake_loss is None and _same(mistake_grad, grad, rtol=1e-5, atol=1e-9):
                continue  # this mistake makes no difference on this case
            loss_match = (
                mistake_loss is None
                or np.isclose(got_loss_value, mistake_loss, rtol=1e-6, atol=1e-8)
                or (not np.isfinite(mistake_loss) and not np.isfinite(got_loss_value))
            )
            grad_match = _same(
                np.nan_to_num(got_grad, nan=7.0, posinf=7.0, neginf=-7.0),
                np.nan_to_num(mistake_grad, nan=7.0, posinf=7.0, neginf=-7.0),
                rtol=1e-5,
                atol=1e-9,
            )
            if loss_match and grad_match:
                lines.append(f"  Likely mistake: {hint}")
                break
        else:
            if _finite_message(got_loss_value) or _finite_message(got_grad):
                lines.append(
                    "  Likely mistake: the result is inf or nan: exp overflowed or log(0) was taken. "
                    "Subtract each row's maximum before exp, and compute log p as "
                    "(z - max) - log(sum(exp(z - max)))"
                )
        raise CheckFailure("\n".join(lines))
    passed("8.2", f"loss and gradient are right on {len(cases)} batches, huge and tiny logits included")


# --------------------------------------------------------------------------------------------
# 8.3 the dense layer's backward pass


def _dense_cases(rng):
    cases = [
        ("the lesson's first dense layer: 4 flattened maps of 1,568 numbers into 128", 4, 1568, 128),
        ("the lesson's last dense layer: 4 vectors of 128 numbers into 10 scores", 4, 128, 10),
    ]
    for n, d, k in [(3, 4, 4), (5, 6, 6), (2, 3, 3)]:  # square W: transposes keep shapes
        cases.append((f"a square layer, N={n}, D=K={d}", n, d, k))
    for _ in range(10):
        n, d, k = (int(v) for v in rng.integers(1, 9, size=3))
        cases.append((f"a random layer, N={n}, D={d}, K={k}", n, d, k))
    return cases


@exercise("8.3", "the dense layer's backward pass", reference="cnn_helpers.layers.Dense")
def check_dense_backward(dense_backward):
    """``dense_backward(dout, x, W) -> (dx, dW, db)`` for ``out = x @ W + b``."""
    rng = np.random.default_rng(803)
    cases = _dense_cases(rng)
    for description, n, d, k in cases:
        x, w, dout = rng.normal(size=(n, d)), rng.normal(size=(d, k)), rng.normal(size=(n, k))
        received = call("8.3", dense_backward, dout.copy(), x.copy(), w.copy(), case=description)
        if not (isinstance(received, (tuple, list)) and len(received) == 3):
            raise CheckFailure(
                f"Exercise 8.3: on {description}, return three gradients (dx, dW, db), "
                f"got {type(received).__name__}"
            )
        dx, dw, db = dout @ w.T, x.T @ dout, dout.sum(axis=0)
        names = ("dx", "dW", "db")
        mistakes = {
            "dx": [
                (
                    "dx must be dout @ W.T: out[n, k] uses x[n, d] times W[d, k], so dx[n, d] sums dout[n, k] W[d, k] "
                    "over k",
                    dout @ w if d == k else None,
                ),
                ("dx must be dout @ W.T (N, D); this is its transpose", (dout @ w.T).T),
                (
                    "dx was divided by N: the loss already took the mean, so nothing here divides by N",
                    dout @ w.T / n,
                ),
            ],
            "dW": [
                ("dW has the shape of W transposed: dW = x.T @ dout, shape (D, K) like W", dout.T @ x),
                (
                    "dW was divided by N: the loss already took the mean over the batch (its gradient carries "
                    "the 1/N), so dW = x.T @ dout",
                    x.T @ dout / n,
                ),
            ],
            "db": [
                (
                    "db was divided by N (a mean over the batch): the loss's gradient already carries the 1/N, "
                    "so db = dout.sum(axis=0)",
                    dout.mean(axis=0),
                ),
                (
                    "db summed over the wrong axis: one entry per output (K), summing over the batch (axis 0)",
                    dout.sum(axis=1),
                ),
                ("db summed over everything: it has one entry per output, dout.sum(axis=0)", dout.sum()),
                (
                    "db is dout itself; the bias is shared by every example of the batch, so sum over axis 0",
                    dout,
                ),
            ],
        }
        for name, got, want in zip(names, received, (dx, dw, db), strict=True):
            compare(
                "8.3",
                want,
                got,
                description,
                [(h, v) for h, v in mistakes[name]],
                rtol=1e-7,
                atol=1e-9,
                name=name,
            )
    passed("8.3", f"dx, dW and db are right on {len(cases)} layers, square ones included")


# --------------------------------------------------------------------------------------------
# 8.4 the untrained loss


check_initial_loss = question(
    "8.4",
    "predict the loss of an untrained network",
    expected=2.303,
    tolerance=0.005,
    misconceptions={
        0.1: "0.1 is the probability the guess gives each digit; the loss is -log of the true digit's "
        "probability",
        1.0: "that is log base 10 of 10; cross-entropy uses the natural logarithm (np.log)",
        3.322: "that is log base 2 of 10; cross-entropy here uses the natural logarithm (np.log)",
        -2.303: "the sign is wrong: the loss is -log p, and log(1/10) is negative, so the loss is positive",
        0.9: "0.9 is the error rate of guessing, 1 - 1/10, not the cross-entropy -log(1/10)",
        2.197: "that is log 9; every class, the true one included, gets probability 1/10, so the loss is "
        "-log(1/10) = log 10",
    },
    hint="a uniform guess gives the true digit probability 1/10; the loss is minus its natural logarithm",
    explanation="Every digit gets probability 1/10, so the loss is -log(1/10) = log 10 = 2.303",
)


# --------------------------------------------------------------------------------------------
# 8.5 keeping the best epoch


class _Weights:
    """A stand-in layer holding two weight arrays."""

    def __init__(self, shapes, rng):
        self.params = {name: rng.normal(size=shape) for name, shape in shapes.items()}
        self.grads = {}


class _ScriptedModel:
    """A model whose 'training' is scripted: epoch e writes known arrays into its weights, in place."""

    def __init__(self, rng, epochs):
        self.layers = [_Weights({"W": (3, 2), "b": (2,)}, rng), _Weights({"W": (2, 4), "b": (4,)}, rng)]
        self.script = [[rng.normal(size=a.shape) for _, _, a in self.parameters()] for _ in range(epochs)]

    def parameters(self):
        return [(layer, name, array) for layer in self.layers for name, array in layer.params.items()]

    @property
    def params(self):
        return {
            f"{i}.{name}": array
            for i, layer in enumerate(self.layers)
            for name, array in layer.params.items()
        }

    def loaded_epoch(self):
        """Which epoch's weights the model holds (1-based), or None for weights of no epoch."""
        current = [array for _, _, array in self.parameters()]
        for epoch, weights in enumerate(self.script, start=1):
            if all(np.array_equal(a, b) for a, b in zip(current, weights, strict=True)):
                return epoch
        return None


class _Run:
    """One scripted training run: the model, the epoch function and the two accuracy functions."""

    def __init__(self, rng, epochs, val, test):
        self.model = _ScriptedModel(rng, epochs)
        self.val, self.test = list(val), list(test)
        self.epochs_run = 0
        self.test_calls = []

    def train_one_epoch(self):
        if self.epochs_run >= len(self.model.script):
            raise CheckFailure(
                f"Exercise 8.5: train_one_epoch was called more than epochs={len(self.model.script)} times"
            )
        for (_, _, array), values in zip(
            self.model.parameters(), self.model.script[self.epochs_run], strict=True
        ):
            array[...] = values  # in place, as an optimiser does
        self.epochs_run += 1

    def _epoch_of(self, model):
        if model is not self.model:
            raise CheckFailure(
                "Exercise 8.5: the accuracy functions must be given the model that was passed in"
            )
        epoch = model.loaded_epoch()
        if epoch is None:
            if self.epochs_run == 0:
                raise CheckFailure("Exercise 8.5: an accuracy was measured before any training")
            raise CheckFailure(
                "Exercise 8.5: the model holds weights of no epoch (half copied, or changed): "
                "write every saved array back, array[...] = saved"
            )
        return epoch

    def val_accuracy(self, model):
        return self.val[self._epoch_of(model) - 1]

    def test_accuracy(self, model):
        epoch = self._epoch_of(model)
        self.test_calls.append((self.epochs_run, epoch))
        return self.test[epoch - 1]


def _runs():
    rng = np.random.default_rng(805)
    runs = []
    scripted = [
        # best validation epoch in the middle, best test epoch elsewhere, the last epoch neither
        (6, [0.90, 0.93, 0.962, 0.95, 0.955, 0.958], [0.91, 0.92, 0.950, 0.957, 0.94, 0.945]),
        (3, [0.5, 0.8, 0.7], [0.55, 0.75, 0.78]),
        (1, [0.6], [0.58]),
    ]
    for _ in range(3):
        epochs = int(rng.integers(4, 9))
        val = rng.permutation(np.linspace(0.80, 0.97, epochs)).round(4)
        while int(np.argmax(val)) == epochs - 1:
            val = rng.permutation(val)
        test = rng.permutation(np.linspace(0.81, 0.96, epochs)).round(4)
        while int(np.argmax(test)) == int(np.argmax(val)):
            test = rng.permutation(test)
        scripted.append((epochs, val.tolist(), test.tolist()))
    for epochs, val, test in scripted:
        runs.append((epochs, val, test, np.random.default_rng(int(rng.integers(1 << 30)))))
    return runs


@exercise("8.5", "a training loop that keeps the best epoch and touches the test set once", reference=None)
def check_train_keeping_best(train_keeping_best):
    """``train_keeping_best(model, train_one_epoch, val_accuracy, test_accuracy, epochs)``."""
    runs = _runs()
    for number, (epochs, val, test, rng) in enumerate(runs, start=1):
        run = _Run(rng, epochs, val, test)
        best = int(np.argmax(val)) + 1
        case = f"run {number}: {epochs} epochs with validation accuracies {val} (best at epoch {best})"
        received = call(
            "8.5",
            train_keeping_best,
            run.model,
            run.train_one_epoch,
            run.val_accuracy,
            run.test_accuracy,
            epochs,
            case=case,
        )
        if run.epochs_run != epochs:
            raise CheckFailure(
                f"Exercise 8.5: on {case}, train_one_epoch ran {run.epochs_run} times, expected {epochs}"
            )
        if not (isinstance(received, (tuple, list)) and len(received) == 3):
            raise CheckFailure(
                f"Exercise 8.5: on {case}, return (best_epoch, val_accuracies, test_accuracy), "
                f"got {type(received).__name__}"
            )
        best_epoch, val_list, test_value = received
        if len(run.test_calls) != 1:
            chose_by_test = (
                len(run.test_calls) > 1
                and not isinstance(best_epoch, (bool, np.bool_))
                and best_epoch == int(np.argmax(test)) + 1
                and best_epoch != best
            )
            raise CheckFailure(
                f"Exercise 8.5: on {case}, test_accuracy was called {len(run.test_calls)} times. Measure the test "
                "accuracy exactly once, after training, on the kept weights: every look at the test set that "
                "could influence a choice makes the final number optimistic."
                + (
                    "\n  Likely mistake: the epoch was chosen by its test accuracy; choose it on the validation "
                    "split only"
                    if chose_by_test
                    else ""
                )
            )
        ((epochs_done, tested_epoch),) = run.test_calls
        if epochs_done != epochs:
            raise CheckFailure(
                f"Exercise 8.5: on {case}, the test accuracy was measured after {epochs_done} of "
                f"{epochs} epochs: measure it once, after training"
            )
        compare("8.5", val, val_list, case, name="list of validation accuracies")
        kept = run.model.loaded_epoch()
        if _integer("8.5", best_epoch, case) != best:
            hints = []
            if best_epoch == best - 1:
                hints.append("the epoch was counted from 0; count epochs from 1 (the first pass is epoch 1)")
            elif best_epoch == int(np.argmax(test)) + 1:
                hints.append("the epoch was chosen by its test accuracy; choose on the validation split only")
            elif best_epoch == epochs:
                hints.append(
                    "the last epoch was returned; return the epoch with the best validation accuracy"
                )
            raise CheckFailure(
                f"Exercise 8.5: wrong best_epoch on {case}: expected {best}, got {best_epoch}."
                + "".join(f"\n  Likely mistake: {h}" for h in hints)
            )
        if kept != best:
            hint = (
                "the model kept the weights of the last epoch. Save copies (array.copy()) of the best epoch's "
                "arrays (the optimiser changes the arrays themselves, so saving them without copying saves "
                "nothing) and write them back into the arrays at the end: array[...] = saved (assigning to "
                "model.params[name] only rebinds a name in a temporary dict)"
                if kept == epochs
                else f"the model holds the weights of epoch {kept}"
            )
            raise CheckFailure(
                f"Exercise 8.5: on {case}, the model ends with the weights of epoch {kept}, "
                f"expected epoch {best}.\n  Likely mistake: {hint}"
            )
        if tested_epoch != best:
            raise CheckFailure(
                f"Exercise 8.5: on {case}, the test accuracy was measured on the weights of epoch "
                f"{tested_epoch}; measure it after restoring the best epoch's weights"
            )
        compare_number("8.5", test[best - 1], test_value, case, name="test accuracy returned")
    passed("8.5", f"best epoch, kept weights and one test measurement are right on {len(runs)} training runs")


# --------------------------------------------------------------------------------------------
# 8.6 choosing on the test set


check_choosing_on_test = question(
    "8.6",
    "what choosing on the test set does to the test number",
    expected="optimistic",
    choices=[
        "an honest estimate of accuracy on new digits",
        "optimistic",
        "pessimistic",
        "honest, as long as the test set is used only twice",
    ],
    misconceptions={
        "a": "the test set chose the recipe, so its number is the better of two tries, and a try that was lucky on "
        "these 1,000 digits wins more often: on new digits it is expected to do worse",
        "c": "choosing the better of two results can only favour the luckier one; the error goes the other way",
        "d": "any choice the test set makes spends it: the number it then gives is the best of the tries, "
        "not a fresh measurement",
    },
    hint="ask which of the two recipes' luck on these 1,000 digits the choice keeps",
    explanation="The test set picked the better-scoring recipe, so its number includes that recipe's luck on "
    "these digits",
)


# --------------------------------------------------------------------------------------------
# 8.7 confusion matrix and accuracy


def _confusion(labels, predictions, k):
    matrix = np.zeros((k, k), dtype=np.int64)
    for t, p in zip(labels, predictions, strict=True):
        matrix[t, p] += 1
    return matrix


@exercise(
    "8.7", "the confusion matrix and accuracy", reference=("cnn_helpers.training.confusion_matrix", None)
)
def check_confusion_matrix(confusion_matrix, accuracy_from_confusion):
    """``confusion_matrix(labels, predictions, num_classes)`` then ``accuracy_from_confusion(matrix)``."""
    rng = np.random.default_rng(806)
    cases = [
        (
            "the lecture-sized example: 6 examples, 3 classes",
            np.array([0, 0, 1, 2, 2, 2]),
            np.array([0, 1, 1, 2, 0, 2]),
            3,
        )
    ]
    for _ in range(12):
        k = int(rng.integers(2, 11))
        n = int(rng.integers(5, 80))
        labels = rng.integers(0, k, n)
        predictions = np.where(rng.random(n) < 0.6, labels, rng.integers(0, k, n))
        cases.append((f"{n} random examples, {k} classes", labels, predictions, k))
    labels = rng.integers(0, 3, 20)
    cases.append(
        (
            "20 examples of classes 0-2 with num_classes=5 (classes 3 and 4 never occur)",
            labels,
            np.where(rng.random(20) < 0.7, labels, rng.integers(0, 3, 20)),
            5,
        )
    )
    for description, labels, predictions, k in cases:
        expected = _confusion(labels, predictions, k)
        received = call("8.7", confusion_matrix, labels.copy(), predictions.copy(), k, case=description)
        try:
            received_array = np.asarray(received)
        except Exception:
            received_array = None
        if received_array is None or received_array.dtype.kind not in "iuf":
            raise CheckFailure(
                f"Exercise 8.7: on {description}, confusion_matrix must return an array of counts, "
                f"got {type(received).__name__}"
            )
        if received_array.shape != (k, k):
            hint = (
                "use num_classes for the shape: a class that never occurs still gets its row and column"
                if received_array.ndim == 2 and received_array.shape[0] == received_array.shape[1]
                else "the matrix is (num_classes, num_classes)"
            )
            raise CheckFailure(
                f"Exercise 8.7: on {description}, expected a matrix of shape {(k, k)}, got shape "
                f"{received_array.shape}.\n  Likely mistake: {hint}"
            )
        buffered = np.zeros((k, k), dtype=np.int64)
        buffered[labels, predictions] += 1
        mistakes = [
            ("rows and columns are swapped: row = true class, column = predicted class", expected.T),
            (
                "each (true, predicted) pair was counted once however often it occurs: matrix[labels, predictions] "
                "+= 1 does not add up repeated index pairs (NumPy buffers it). Use np.add.at, np.bincount or a loop",
                buffered,
            ),
        ]
        compare("8.7", expected, received_array, description, mistakes, name="confusion matrix")
        total = expected.sum()
        expected_accuracy = float(np.trace(expected) / total)
        got = call("8.7", accuracy_from_confusion, expected.copy(), case=f"the matrix of {description}")
        mistakes = [
            (
                "this is the number of correct predictions (the trace); divide by the number of examples",
                float(np.trace(expected)),
            ),
            (
                "the trace was divided by the number of classes; divide by the number of examples (matrix.sum())",
                float(np.trace(expected) / k),
            ),
            (
                "this is the mean of the per-class accuracies (each row's diagonal share); accuracy divides the "
                "trace by all examples",
                float(np.mean(np.diag(expected) / np.maximum(expected.sum(axis=1), 1)))
                if len(set(expected.sum(axis=1))) > 1
                else None,
            ),
            ("this is a percentage: return a fraction between 0 and 1", 100 * expected_accuracy),
            ("this is the error rate: accuracy is the fraction on the diagonal", 1 - expected_accuracy),
        ]
        compare_number(
            "8.7", expected_accuracy, got, f"the matrix of {description}", mistakes, name="accuracy"
        )
    passed("8.7", f"confusion matrices and accuracies are right on {len(cases)} sets of predictions")
