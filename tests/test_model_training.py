"""Sequential, small_cnn, fit and the metrics; includes the course's training bar on the digits."""

import time

import numpy as np
import pytest

from cnn_helpers.gradcheck import check_model
from cnn_helpers.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, SoftmaxCrossEntropy
from cnn_helpers.model import Sequential, small_cnn
from cnn_helpers.optim import SGD, Adam
from cnn_helpers.training import accuracy, confusion_matrix, evaluate, fit

# The hyperparameters lesson 08 uses for small_cnn on the shipped digits.
DIGITS_EPOCHS, DIGITS_BATCH, DIGITS_LR = 20, 32, 3e-3


def _toy_problem(rng, n=96):
    """Four-pixel images whose class is the brightest quadrant: easy, but needs the conv path."""
    x = rng.random((n, 1, 4, 4)).astype(np.float32) * 0.5
    y = rng.integers(0, 4, size=n)
    for i, label in enumerate(y):
        r, c = divmod(label, 2)
        x[i, 0, 2 * r : 2 * r + 2, 2 * c : 2 * c + 2] += 0.5
    return x, y


def _toy_model(seed=0):
    rng = np.random.default_rng(seed)
    return Sequential(
        Conv2D(1, 4, 3, padding=1, rng=rng), ReLU(), MaxPool2D(2), Flatten(), Dense(16, 4, rng=rng)
    )


# ---------------------------------------------------------------------------------------------
# Sequential
# ---------------------------------------------------------------------------------------------


def test_whole_model_gradients_match_numerical(rng):
    model = small_cnn(seed=0, channels=(3, 4), dtype=np.float64)  # narrow: 2 forwards per parameter
    model.layers[0].needs_input_grad = True  # so the input gradient is checked too
    for _, name, param in model.parameters():
        if name == "b":  # nonzero biases keep ReLU inputs away from exactly 0
            param[...] = rng.standard_normal(param.shape) * 0.1
    x = rng.standard_normal((2, 1, 8, 8))
    result = check_model(model, SoftmaxCrossEntropy(), x, [3, 7])
    assert result.passed, f"\n{result}"
    assert [c.name for c in result][:2] == ["layers[0].W (Conv2D)", "layers[0].b (Conv2D)"]
    assert result.comparisons[-1].name == "input"


def test_small_cnn_structure_and_summary():
    model = small_cnn()
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv2D",
        "ReLU",
        "MaxPool2D",
        "Conv2D",
        "ReLU",
        "MaxPool2D",
        "Flatten",
        "Dense",
    ]
    assert model.layers[0].needs_input_grad is False
    c1, c2 = model.layers[0].out_channels, model.layers[3].out_channels
    assert model.num_params == (c1 * 9 + c1) + (c2 * c1 * 9 + c2) + (c2 * 4 * 10 + 10)
    lines = model.summary((1, 8, 8)).splitlines()
    assert lines[0].split() == ["layer", "output", "shape", "parameters"]
    assert lines[2].split() == ["input", "(1,", "8,", "8)", "0"]
    assert lines[3].startswith(f"Conv2D(1, {c1}, kernel_size=3, stride=1, padding=1)")
    assert lines[3].split()[-4:] == [f"({c1},", "8,", "8)", f"{c1 * 9 + c1:,}"]
    assert lines[9].split() == ["Flatten()", f"({c2 * 4},)", "0"]
    assert lines[-1].split() == ["total", f"{model.num_params:,}"]
    assert repr(model).startswith("Sequential(\n  (0): Conv2D(1, ")
    np.testing.assert_array_equal(small_cnn(seed=3).params["0.W"], small_cnn(seed=3).params["0.W"])
    assert not np.array_equal(small_cnn(seed=3).params["0.W"], small_cnn(seed=4).params["0.W"])


def test_sequential_parameters_params_and_grads(rng):
    model = _toy_model()
    assert list(model.params) == ["0.W", "0.b", "4.W", "4.b"]
    assert [(type(layer).__name__, name) for layer, name, _ in model.parameters()] == [
        ("Conv2D", "W"),
        ("Conv2D", "b"),
        ("Dense", "W"),
        ("Dense", "b"),
    ]
    assert model.params["0.W"] is model.layers[0].params["W"]
    assert model.grads == {}
    logits = model.forward(rng.random((3, 1, 4, 4)))
    dx = model.backward(np.ones_like(logits))
    assert dx.shape == (3, 1, 4, 4)
    assert list(model.grads) == list(model.params)
    assert len(model) == 5 and model[0] is model.layers[0] and list(model) == model.layers
    assert Sequential([ReLU(), Flatten()]).layers[1].__class__ is Flatten


def test_predict_in_batches_matches_one_forward(rng):
    model = _toy_model()
    x = rng.random((10, 1, 4, 4)).astype(np.float32)
    expected = model.forward(x)
    np.testing.assert_allclose(model.predict_logits(x, batch_size=3), expected, rtol=1e-6)
    np.testing.assert_array_equal(model.predict(x, batch_size=4), expected.argmax(axis=1))


def test_sequential_errors():
    with pytest.raises(
        TypeError, match=r"layers\[1\] must be a layer with forward, backward, params and grads, got int 3"
    ):
        Sequential(ReLU(), 3)
    with pytest.raises(
        ValueError,
        match=r"layers\[2\] Dense\(32, 10\) cannot take input of shape \(64,\): input_shape must be \(32,\)",
    ):
        Sequential(Conv2D(1, 4, 3, padding=1), Flatten(), Dense(32, 10)).summary((1, 4, 4))
    with pytest.raises(RuntimeError, match=r"Dense.backward called before forward"):
        Sequential(Dense(2, 2)).backward(np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"channels must be a pair \(c1, c2\), got int 8"):
        small_cnn(channels=8)
    with pytest.raises(
        ValueError, match=r"input_shape must be the shape of one example \(C, H, W\), got tuple \(8, 8\)"
    ):
        small_cnn(input_shape=(8, 8))
    with pytest.raises(
        ValueError, match=r"input_shape must be at least 4x4 to survive two 2x2 poolings, got \(1, 3, 8\)"
    ):
        small_cnn(input_shape=(1, 3, 8))
    with pytest.raises(TypeError, match=r"small_cnn\(\) takes from 0 to 3 positional arguments"):
        small_cnn((1, 8, 8), (4, 8), 10, 0)  # seed is keyword-only


@pytest.mark.parametrize(
    "input_shape, channels, flat",
    [
        ((1, 8, 8), (32, 64), 64 * 2 * 2),
        ((1, 28, 28), (16, 32), 32 * 7 * 7),  # the capstone's network
        ((3, 10, 9), (2, 5), 5 * 2 * 2),  # odd sizes: each pool floors
    ],
)
def test_small_cnn_sizes_its_dense_layer_from_the_input(input_shape, channels, flat):
    model = small_cnn(input_shape=input_shape, channels=channels)
    assert (model.layers[0].in_channels, model.layers[-1].in_features) == (input_shape[0], flat)
    assert model.output_shape(input_shape) == (10,)
    x = np.zeros((2,) + input_shape, dtype=np.float32)
    assert model.forward(x).shape == (2, 10)


def test_small_cnn_keeps_the_weights_a_seed_gave_before_input_shape_existed():
    # The lessons' stored outputs depend on these numbers: the same draws, in the same order.
    rng = np.random.default_rng(5)
    first = rng.standard_normal((8, 1, 3, 3)) * np.sqrt(2.0 / 9)
    np.testing.assert_array_equal(small_cnn(channels=(8, 16), seed=5).params["0.W"], first.astype(np.float32))


def test_feature_maps_are_every_layer_output_in_order(rng):
    model = _toy_model()
    x = rng.random((3, 1, 4, 4)).astype(np.float32)
    outputs = model.feature_maps(x)
    assert [out.shape for out in outputs] == [(3, 4, 4, 4), (3, 4, 4, 4), (3, 4, 2, 2), (3, 16), (3, 4)]
    np.testing.assert_array_equal(outputs[-1], model.forward(x))
    np.testing.assert_array_equal(outputs[1], np.maximum(outputs[0], 0))


# ---------------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------------


def test_fit_learns_a_toy_problem_and_records_history(rng):
    x, y = _toy_problem(rng)
    model = _toy_model()
    history = fit(
        model,
        SoftmaxCrossEntropy(),
        Adam(model, lr=0.05),
        x[:64],
        y[:64],
        epochs=15,
        batch_size=16,
        x_val=x[64:],
        y_val=y[64:],
        progress=False,
    )
    assert history.epochs == 15 and len(history.batch_loss) == 15 * 4
    assert (
        len(history.train_accuracy)
        == len(history.val_accuracy)
        == len(history.val_loss)
        == len(history.seconds)
        == 15
    )
    assert history.loss[-1] < history.loss[0] / 10
    assert history.train_accuracy[-1] == 1.0 and history.val_accuracy[-1] >= 0.9
    assert history["val_accuracy"] is history.val_accuracy
    assert set(history.as_dict()) == {
        "loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "batch_loss",
        "seconds",
    }
    assert repr(history).startswith("History(15 epochs; last: loss ")
    # The epoch loss is the batch losses' mean weighted by batch size (all batches are full here).
    assert history.loss[0] == pytest.approx(np.mean(history.batch_loss[:4]))


def test_fit_is_deterministic_for_a_seed(rng):
    x, y = _toy_problem(rng)

    def run(seed):
        model = _toy_model()
        history = fit(
            model,
            SoftmaxCrossEntropy(),
            SGD(model, lr=0.1, momentum=0.9),
            x,
            y,
            epochs=3,
            batch_size=10,
            seed=seed,
            progress=False,
        )
        return history, model

    (first, model_a), (second, model_b), (other, _) = run(1), run(1), run(2)
    assert first.batch_loss == second.batch_loss and first.loss == second.loss
    np.testing.assert_array_equal(model_a.params["4.W"], model_b.params["4.W"])
    assert first.batch_loss != other.batch_loss  # a different shuffle
    assert len(first.batch_loss) == 3 * 10  # 96 examples in batches of 10: the last has 6


def test_fit_shows_a_progress_bar(rng, capsys):
    x, y = _toy_problem(rng, n=20)
    model = _toy_model()
    fit(model, SoftmaxCrossEntropy(), Adam(model), x, y, epochs=2, batch_size=8, progress=True)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "6/6" in err and "loss=" in err


def test_live_plot_updates_one_display_in_a_notebook(rng, monkeypatch):
    import IPython.display
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cnn_helpers import training

    shown = []

    class Handle:
        def update(self, fig):
            shown.append(("update", fig, fig.axes[0].get_title(), fig.get_suptitle()))

    def fake_display(fig, display_id=False):
        shown.append(("display", fig, display_id))
        return Handle()

    monkeypatch.setattr(training, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", fake_display)
    x, y = _toy_problem(rng, n=32)
    model = _toy_model()
    before = set(plt.get_fignums())
    fit(
        model,
        SoftmaxCrossEntropy(),
        Adam(model),
        x,
        y,
        epochs=3,
        x_val=x,
        y_val=y,
        progress=False,
        live_plot=True,
    )
    assert [event[0] for event in shown] == ["display", "update", "update", "update"]
    assert shown[0][2] is True
    assert shown[-1][2] == "Loss" and shown[-1][3] == "Training: epoch 3 of 3"
    assert set(plt.get_fignums()) == before  # closed: no second copy under the cell


def test_live_plot_is_ignored_outside_a_notebook(rng, monkeypatch):
    import IPython.display

    def no_display(*args, **kwargs):
        raise AssertionError("display() called outside a notebook")

    monkeypatch.setattr(IPython.display, "display", no_display)
    x, y = _toy_problem(rng, n=16)
    model = _toy_model()
    history = fit(model, SoftmaxCrossEntropy(), Adam(model), x, y, epochs=1, progress=False, live_plot=True)
    assert history.epochs == 1


def test_fit_errors(rng):
    x, y = _toy_problem(rng, n=8)
    model = _toy_model()
    args = (model, SoftmaxCrossEntropy(), Adam(model))
    with pytest.raises(
        ValueError, match=r"y_train must have shape \(8,\), one class index per example, got shape \(7,\)"
    ):
        fit(*args, x, y[:7], epochs=1, progress=False)
    with pytest.raises(
        TypeError, match=r"y_train must hold integer class indices \(whole numbers\), got 0.5"
    ):
        fit(*args, x, np.r_[0.5, y[1:]], epochs=1, progress=False)
    with pytest.raises(TypeError, match=r"y_val must hold integer class indices, got list \['a', 'b'\]"):
        fit(*args, x, y, epochs=1, x_val=x[:2], y_val=["a", "b"], progress=False)
    with pytest.raises(ValueError, match=r"epochs must be >= 1, got 0"):
        fit(*args, x, y, epochs=0, progress=False)
    with pytest.raises(TypeError, match=r"batch_size must be an integer, got float 32.0"):
        fit(*args, x, y, epochs=1, batch_size=32.0, progress=False)
    with pytest.raises(ValueError, match=r"x_val and y_val must be given together"):
        fit(*args, x, y, epochs=1, x_val=x, progress=False)
    with pytest.raises(
        ValueError, match=r"x_val examples must have shape \(1, 4, 4\) like x_train, got \(1, 8, 8\)"
    ):
        fit(*args, x, y, epochs=1, x_val=np.zeros((2, 1, 8, 8)), y_val=[0, 1], progress=False)
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 4\), got 7"):
        fit(*args, x, np.full(8, 7), epochs=1, progress=False)


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------


def test_accuracy_evaluate_and_confusion_matrix(rng):
    assert accuracy([2, 1, 0], [2, 1, 1]) == pytest.approx(2 / 3)
    assert accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), [1, 0]) == 1.0
    model = _toy_model()
    x, y = _toy_problem(rng, n=12)
    predictions = model.predict(x)
    assert accuracy(model, x, y) == np.mean(predictions == y)
    scores = evaluate(model, x, y, batch_size=5)
    assert scores["accuracy"] == accuracy(model, x, y)
    assert scores["loss"] == pytest.approx(SoftmaxCrossEntropy().forward(model.forward(x), y), rel=1e-6)
    matrix = confusion_matrix(y, predictions, num_classes=4)
    assert matrix.shape == (4, 4) and matrix.sum() == 12 and np.trace(matrix) == np.sum(predictions == y)
    np.testing.assert_array_equal(confusion_matrix([0, 2], [2, 2]), [[0, 0, 1], [0, 0, 0], [0, 0, 1]])


def test_metric_errors():
    with pytest.raises(
        ValueError, match=r"labels must have shape \(3,\), one class index per example, got shape \(2,\)"
    ):
        accuracy([0, 1, 1], [0, 1])
    with pytest.raises(
        ValueError, match=r"predictions must be class indices of shape \(N,\) or scores of shape \(N, K\)"
    ):
        accuracy([0.5, 1.0], [0, 1])
    with pytest.raises(TypeError, match=r"accuracy\(model, x, y\) needs a model with predict\(\)"):
        accuracy([0, 1], np.zeros((2, 2)), [0, 1])
    with pytest.raises(ValueError, match=r"y_pred must hold labels in \[0, 2\), got values from 0 to 3"):
        confusion_matrix([0, 1], [0, 3], num_classes=2)
    with pytest.raises(ValueError, match=r"y_true must be a 1-D array of labels, got shape \(2, 2\)"):
        confusion_matrix([[0, 1], [1, 0]], [0, 1])


# ---------------------------------------------------------------------------------------------
# The course's training bar
# ---------------------------------------------------------------------------------------------


def test_TRAINING_BAR_small_cnn_reaches_98_percent_on_digits():
    """small_cnn + fit + Adam on the shipped digits: >= 98 % test accuracy with a fixed seed.

    Lesson 08 promises this. Takes a few seconds on a 2-core laptop (the bar is < 60 s; timing
    is printed, not asserted, because shared machines are noisy).
    """
    from cnn_helpers.data import load_digits

    digits = load_digits()
    model = small_cnn(seed=0)
    start = time.perf_counter()
    history = fit(
        model,
        SoftmaxCrossEntropy(),
        Adam(model, lr=DIGITS_LR),
        digits.x_train,
        digits.y_train,
        epochs=DIGITS_EPOCHS,
        batch_size=DIGITS_BATCH,
        seed=0,
        progress=False,
    )
    seconds = time.perf_counter() - start
    test_accuracy = accuracy(model, digits.x_test, digits.y_test)
    print(f"small_cnn: test accuracy {test_accuracy:.2%} after {DIGITS_EPOCHS} epochs in {seconds:.1f} s")
    assert history.train_accuracy[-1] > 0.99
    assert test_accuracy >= 0.98
