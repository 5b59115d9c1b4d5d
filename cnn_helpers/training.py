"""Training a model with mini-batches, and measuring it (lesson 08).

- :func:`fit` runs epochs of shuffled mini-batches (forward, loss, backward, optimiser step),
  with a progress bar and, in a notebook, live loss and accuracy curves.
- :func:`evaluate`, :func:`accuracy` and :func:`confusion_matrix` measure a trained model.

The curves of a :class:`History` are drawn by :func:`cnn_helpers.plotting.plot_history`, and
the live plot ``fit`` shows lives beside it in :mod:`cnn_helpers.plotting.training_plots`.
Only NumPy is imported with this module; tqdm, matplotlib and IPython are imported inside the
functions that use them.
"""

from __future__ import annotations

import time

import numpy as np

from cnn_helpers._validation import as_array, as_int, as_labels, describe
from cnn_helpers.layers import SoftmaxCrossEntropy

__all__ = ["History", "fit", "evaluate", "accuracy", "confusion_matrix"]


class History:
    """What :func:`fit` measured, one entry per epoch (``batch_loss``: one per mini-batch).

    Attributes
    ----------
    loss : list of float
        Mean training loss over each epoch's mini-batches.
    train_accuracy : list of float
        Fraction of training examples classified correctly during the epoch (measured on each
        mini-batch just before its update, so it lags the final weights slightly).
    val_accuracy, val_loss : list of float
        On ``(x_val, y_val)`` after each epoch; empty without validation data.
    batch_loss : list of float
        Loss of every mini-batch, in order.
    seconds : list of float
        Wall-clock time of each epoch (not deterministic, unlike everything else).

    ``history["loss"]`` works too, and :meth:`as_dict` gives a plain dict.

    Examples
    --------
    >>> h = History()
    >>> h.loss.append(0.5)
    >>> h["loss"], h.epochs
    ([0.5], 1)
    """

    keys = ("loss", "train_accuracy", "val_loss", "val_accuracy", "batch_loss", "seconds")

    def __init__(self):
        for key in self.keys:
            setattr(self, key, [])

    @property
    def epochs(self):
        """Number of finished epochs."""
        return len(self.loss)

    def __getitem__(self, key):
        if key not in self.keys:
            raise KeyError(f"history has no {key!r}; it has {', '.join(self.keys)}")
        return getattr(self, key)

    def as_dict(self):
        """A plain dict of lists (copies)."""
        return {key: list(getattr(self, key)) for key in self.keys}

    def __repr__(self):
        if not self.loss:
            return "History(no epochs)"
        last = f"loss {self.loss[-1]:.4f}, train accuracy {self.train_accuracy[-1]:.4f}"
        if self.val_accuracy:
            last += f", val accuracy {self.val_accuracy[-1]:.4f}"
        return f"History({self.epochs} epochs; last: {last})"


def fit(
    model,
    loss,
    optimiser,
    x_train,
    y_train,
    epochs,
    batch_size=64,
    x_val=None,
    y_val=None,
    seed=0,
    progress=True,
    live_plot=False,
):
    """Train ``model`` with mini-batch gradient descent (lessons 08, 09, 10).

    Each epoch shuffles the training set (seeded), then for every mini-batch: forward pass,
    loss, backward pass, ``optimiser.step()``. With the same model initialisation, data and
    ``seed``, two runs give identical numbers.

    Parameters
    ----------
    model : Sequential
    loss : SoftmaxCrossEntropy
        ``loss.forward(logits, labels) -> float``, ``loss.backward() -> dlogits``.
    optimiser : SGD or Adam
        Built on ``model``'s parameters.
    x_train : array_like, shape (N, ...)
        E.g. (N, 1, 8, 8) float32 images.
    y_train : array_like of int, shape (N,)
        Class indices: integers or whole-number floats, the same rule as the loss's labels.
    epochs : int
        Passes over the training set.
    batch_size : int, optional
        Examples per update; the last batch of an epoch may be smaller.
    x_val, y_val : array_like, optional
        Measured after every epoch (give both or neither).
    seed : int, optional
        Seed of the shuffling.
    progress : bool, optional
        Show a tqdm progress bar (``tqdm.auto``: a widget in notebooks, text elsewhere).
    live_plot : bool, optional
        In a notebook, redraw loss and accuracy curves after every epoch in one output.
        Ignored outside a notebook (IPython kernel).

    Returns
    -------
    History
        ``loss``, ``train_accuracy`` (and ``val_accuracy``, ``val_loss``) per epoch,
        ``batch_loss`` per mini-batch.

    Examples
    --------
    >>> from cnn_helpers.layers import Dense, SoftmaxCrossEntropy
    >>> from cnn_helpers.model import Sequential
    >>> from cnn_helpers.optim import SGD
    >>> x = np.array([[-1.0], [-2.0], [1.0], [2.0]], dtype=np.float32)
    >>> y = np.array([0, 0, 1, 1])
    >>> model = Sequential(Dense(1, 2, rng=0))
    >>> history = fit(model, SoftmaxCrossEntropy(), SGD(model, lr=0.5), x, y, epochs=20,
    ...               batch_size=2, progress=False)
    >>> history.train_accuracy[-1], bool(history.loss[-1] < history.loss[0])
    (1.0, True)
    """
    x_train = as_array("x_train", x_train)
    if x_train.ndim < 2 or len(x_train) == 0:
        raise ValueError(f"x_train must be a batch of examples, shape (N, ...), got shape {x_train.shape}")
    y_train = as_labels("y_train", y_train, len(x_train))
    epochs = as_int("epochs", epochs, minimum=1)
    batch_size = as_int("batch_size", batch_size, minimum=1)
    if (x_val is None) != (y_val is None):
        raise ValueError("x_val and y_val must be given together (or both left out)")
    if x_val is not None:
        x_val = as_array("x_val", x_val)
        y_val = as_labels("y_val", y_val, len(x_val))
        if x_val.shape[1:] != x_train.shape[1:]:
            raise ValueError(
                f"x_val examples must have shape {x_train.shape[1:]} like x_train, got {x_val.shape[1:]}"
            )
    seed = as_int("seed", seed)

    n = len(x_train)
    batches_per_epoch = -(-n // batch_size)
    rng = np.random.default_rng(seed)
    history = History()
    bar = _progress_bar(epochs * batches_per_epoch) if progress else None
    plot = _live_plot() if live_plot and _in_notebook() else None
    try:
        for epoch in range(epochs):
            start_time = time.perf_counter()
            order = rng.permutation(n)  # a fresh order each epoch, so batches differ
            loss_sum, correct = 0.0, 0
            if bar is not None:
                bar.set_description(f"epoch {epoch + 1}/{epochs}", refresh=False)
            for start in range(0, n, batch_size):
                batch = order[start : start + batch_size]
                x_batch, y_batch = x_train[batch], y_train[batch]
                logits = model.forward(x_batch)
                batch_loss = loss.forward(logits, y_batch)
                model.backward(loss.backward())
                optimiser.step()
                loss_sum += batch_loss * len(batch)
                correct += int(np.count_nonzero(logits.argmax(axis=1) == y_batch))
                history.batch_loss.append(batch_loss)
                if bar is not None:
                    bar.set_postfix(loss=f"{batch_loss:.4f}", refresh=False)
                    bar.update(1)
            history.loss.append(loss_sum / n)
            history.train_accuracy.append(correct / n)
            if x_val is not None:
                scores = evaluate(model, x_val, y_val)
                history.val_loss.append(scores["loss"])
                history.val_accuracy.append(scores["accuracy"])
            history.seconds.append(time.perf_counter() - start_time)
            if bar is not None:
                bar.set_postfix(_epoch_postfix(history), refresh=True)
            if plot is not None:
                plot.update(history, epochs)
    finally:
        if bar is not None:
            bar.close()
        if plot is not None:
            plot.close()
    return history


def _epoch_postfix(history):
    postfix = {"loss": f"{history.loss[-1]:.4f}", "train acc": f"{history.train_accuracy[-1]:.3f}"}
    if history.val_accuracy:
        postfix["val acc"] = f"{history.val_accuracy[-1]:.3f}"
    return postfix


def _progress_bar(total):
    from tqdm.auto import tqdm  # imported here: keeps `import cnn_helpers.training` cheap

    return tqdm(total=total, unit="batch", leave=True)


def _live_plot():
    from cnn_helpers.plotting.training_plots import LivePlot  # imported here: matplotlib is slow to import

    return LivePlot()


def _in_notebook():
    """True inside a Jupyter kernel (where live figures can be updated in place)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def evaluate(model, x, y, batch_size=256):
    """Mean softmax cross-entropy loss and accuracy of ``model`` on ``(x, y)``.

    Parameters
    ----------
    model : Sequential
    x : array_like, shape (N, ...)
    y : array_like of int, shape (N,)
    batch_size : int, optional

    Returns
    -------
    dict
        ``{"loss": float, "accuracy": float}``

    Examples
    --------
    >>> from cnn_helpers.layers import Dense
    >>> from cnn_helpers.model import Sequential
    >>> model = Sequential(Dense(2, 2))
    >>> model.layers[0].params["W"][...] = 0.0       # equal scores: loss log 2, argmax picks 0
    >>> scores = evaluate(model, np.ones((4, 2)), [0, 0, 1, 1])
    >>> round(scores["loss"], 4), scores["accuracy"]
    (0.6931, 0.5)
    """
    x = as_array("x", x)
    y = as_labels("y", y, len(x))
    logits = model.predict_logits(x, batch_size)
    return {
        "loss": SoftmaxCrossEntropy().forward(logits, y),
        "accuracy": float(np.mean(logits.argmax(axis=1) == y)),
    }


def accuracy(model_or_predictions, x_or_labels, y=None, batch_size=256):
    """Fraction of examples classified correctly.

    Two ways to call it:

    - ``accuracy(model, x, y)``: run the model on ``x`` and compare with ``y``;
    - ``accuracy(predictions, labels)``: predictions are class indices, shape (N,), or scores,
      shape (N, K), whose largest entry is the prediction.

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> accuracy([0, 1, 1, 2], [0, 1, 0, 2])
    0.75
    >>> accuracy(np.array([[0.9, 0.1], [0.2, 0.8]]), [0, 0])
    0.5
    """
    if y is not None:
        if not hasattr(model_or_predictions, "predict"):
            raise TypeError(
                "accuracy(model, x, y) needs a model with predict(); for predictions use "
                f"accuracy(predictions, labels), got {describe(model_or_predictions)}"
            )
        x = as_array("x", x_or_labels)
        labels = as_labels("y", y, len(x))
        predictions = model_or_predictions.predict(x, batch_size)
    else:
        predictions = np.asarray(model_or_predictions)
        if predictions.ndim == 2:
            predictions = predictions.argmax(axis=1)
        elif predictions.ndim != 1 or predictions.dtype.kind not in "iu":
            raise ValueError(
                "predictions must be class indices of shape (N,) or scores of shape (N, K), "
                f"got {describe(predictions)}"
            )
        labels = as_labels("labels", x_or_labels, len(predictions))
    if len(labels) == 0:
        raise ValueError("accuracy of zero examples is undefined: got empty labels")
    return float(np.mean(predictions == labels))


def confusion_matrix(y_true, y_pred, num_classes=None):
    """Count how often each true class was predicted as each class.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (N,)
    num_classes : int, optional
        Defaults to one more than the largest label seen.

    Returns
    -------
    ndarray of int, shape (num_classes, num_classes)
        ``matrix[t, p]`` = number of examples of class ``t`` predicted as ``p``; the diagonal
        holds the correct ones.

    Examples
    --------
    >>> confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1])
    array([[1, 1],
           [0, 2]])
    """
    y_true = np.asarray(y_true)
    if y_true.ndim != 1:
        raise ValueError(f"y_true must be a 1-D array of labels, got shape {y_true.shape}")
    y_true = as_labels("y_true", y_true, len(y_true))
    y_pred = as_labels("y_pred", y_pred, len(y_true))
    if num_classes is None:
        num_classes = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    num_classes = as_int("num_classes", num_classes, minimum=1)
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f"{name} must hold labels in [0, {num_classes}), got values from {labels.min()} to {labels.max()}"
            )
    counts = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)
