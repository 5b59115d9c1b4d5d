"""Figures for lesson 08 (a trainable CNN): how training went, what the network gets wrong, what it learned.

- ``plot_history``: loss and accuracy per epoch of a :class:`~cnn_helpers.training.History`;
- ``LivePlot``: the same curves redrawn after every epoch, which ``fit(..., live_plot=True)`` shows;
- ``plot_confusion_matrix``: which digit was taken for which;
- ``plot_misclassified``: the test images the network got wrong, with true and predicted labels;
- ``filter_similarities`` and ``closest_filters``: how much each learned kernel resembles each
  of the lecture's classic filters (cosine similarity of the flattened kernels);
- ``plot_kernels_beside_filters``: every learned kernel above the classic filter it most resembles;
- ``tile_maps`` and ``plot_feature_maps``: a layer's feature maps tiled into one picture.

Every helper takes an optional ``ax`` (or ``axes``) and returns what it drew on; matplotlib is
imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_array, as_int, describe

__all__ = [
    "plot_history",
    "LivePlot",
    "plot_confusion_matrix",
    "plot_misclassified",
    "filter_similarities",
    "closest_filters",
    "plot_kernels_beside_filters",
    "tile_maps",
    "plot_feature_maps",
]


def _new_axes(ax, figsize):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


# --------------------------------------------------------------------------------------------
# How training went


def plot_history(history, ax=None):
    """Plot loss and accuracy per epoch (lesson 08). Imports matplotlib.

    Parameters
    ----------
    history : History or dict
        From :func:`fit` (needs ``loss`` and ``train_accuracy``; ``val_*`` drawn when present).
    ax : pair of matplotlib Axes, or one Axes, optional
        Two axes: loss on the first, accuracy on the second. One axes: loss only.
        None: a new figure with two axes side by side.

    Returns
    -------
    the Axes drawn on (the pair, or the single one)

    Examples
    --------
    >>> axes = plot_history({"loss": [1.0, 0.5], "train_accuracy": [0.6, 0.9]})
    >>> axes[0].get_title(), axes[1].get_ylabel()
    ('Loss', 'accuracy')
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    def get(key):
        try:
            return list(history[key])
        except (KeyError, TypeError):
            return []

    loss = get("loss")
    if not loss:
        raise ValueError(f"history must have a non-empty 'loss' list, got {describe(history)}")
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    axes = [ax] if hasattr(ax, "plot") else list(np.ravel(ax))
    epochs = np.arange(1, len(loss) + 1)

    loss_ax = axes[0]
    loss_ax.plot(epochs, loss, marker="o", label="training")
    if get("val_loss"):
        loss_ax.plot(epochs[: len(get("val_loss"))], get("val_loss"), marker="o", label="validation")
    loss_ax.set(title="Loss", xlabel="epoch", ylabel="cross-entropy loss")
    loss_ax.legend()

    if len(axes) > 1:
        acc_ax = axes[1]
        acc_ax.plot(epochs[: len(get("train_accuracy"))], get("train_accuracy"), marker="o", label="training")
        if get("val_accuracy"):
            acc_ax.plot(
                epochs[: len(get("val_accuracy"))], get("val_accuracy"), marker="o", label="validation"
            )
        acc_ax.set(title="Accuracy", xlabel="epoch", ylabel="accuracy")
        acc_ax.legend()
    for each in axes[:2]:
        each.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    return ax


class LivePlot:
    """One figure displayed once and redrawn in the same output after every epoch (lesson 08).

    ``fit(..., live_plot=True)`` makes one in a notebook, calls ``update(history, epochs)``
    after every epoch and ``close()`` at the end. Needs IPython (it displays the figure).
    """

    def __init__(self):
        import matplotlib.pyplot as plt
        from IPython.display import display

        self._plt = plt
        self.fig, self.axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
        self.handle = display(self.fig, display_id=True)

    def update(self, history, epochs):
        for ax in self.axes:
            ax.clear()
        plot_history(history, self.axes)
        self.axes[0].set_xlim(0.5, epochs + 0.5)
        self.axes[1].set_xlim(0.5, epochs + 0.5)
        self.fig.suptitle(f"Training: epoch {history.epochs} of {epochs}")
        self.handle.update(self.fig)

    def close(self):
        # Closed, so the notebook's inline backend does not show the figure a second time.
        self._plt.close(self.fig)


# --------------------------------------------------------------------------------------------
# What the network gets wrong


def plot_confusion_matrix(matrix, ax=None, class_names=None, title="Confusion matrix"):
    """Draw a confusion matrix with its counts; mistakes (off the diagonal) in red (lesson 08).

    Parameters
    ----------
    matrix : array_like of int, shape (K, K)
        ``matrix[t, p]``: how many examples of true class ``t`` were predicted as ``p``, as
        :func:`cnn_helpers.training.confusion_matrix` returns it.
    ax : matplotlib Axes, optional
    class_names : sequence of str, optional
        Tick labels; the class indices by default.
    title : str, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = plot_confusion_matrix([[5, 1], [0, 4]])
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('predicted class', 'true class')
    """
    matrix = as_array("matrix", matrix, ndim=2)
    if matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be square (classes x classes), got shape {matrix.shape}")
    classes = matrix.shape[0]
    names = [str(k) for k in range(classes)] if class_names is None else [str(n) for n in class_names]
    if len(names) != classes:
        raise ValueError(f"class_names must have {classes} entries, one per class, got {len(names)}")
    ax = _new_axes(ax, (0.5 * classes + 2, 0.5 * classes + 1.6))
    totals = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, totals, out=np.zeros_like(matrix, dtype=float), where=totals > 0)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for t in range(classes):
        for p in range(classes):
            count = int(matrix[t, p])
            if count == 0:
                continue
            if t == p:
                colour = "white" if share[t, p] > 0.5 else "black"
                ax.text(p, t, str(count), ha="center", va="center", fontsize=9, color=colour)
            else:  # a mistake: make it stand out against the pale background
                ax.text(
                    p,
                    t,
                    str(count),
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white",
                    fontweight="bold",
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "#d62728", "edgecolor": "none"},
                )
    ax.set_xticks(range(classes), names)
    ax.set_yticks(range(classes), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    return ax


def _images(name, images):
    images = as_array(name, images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3:
        raise ValueError(f"{name} must have shape (N, H, W) or (N, 1, H, W), got shape {images.shape}")
    return images


def tile_maps(maps, columns=None, gap=1):
    """Arrange maps ``(C, H, W)`` in a grid, separated by ``gap`` pixels of NaN.

    Parameters
    ----------
    maps : array_like, shape (C, H, W)
    columns : int, optional
        Maps per row; about ``sqrt(C)`` rounded up by default.
    gap : int, optional
        NaN pixels between neighbouring maps (drawn blank by ``imshow``).

    Returns
    -------
    ndarray, shape (rows * (H + gap) - gap, columns * (W + gap) - gap)
        Map ``k`` sits at grid row ``k // columns``, column ``k % columns``.

    Examples
    --------
    >>> tile_maps(np.ones((3, 2, 2)), columns=2).shape
    (5, 5)
    """
    maps = as_array("maps", maps, ndim=3).astype(float)
    count, height, width = maps.shape
    if count == 0:
        raise ValueError("maps must hold at least one map, got shape (0, ...)")
    columns = int(np.ceil(np.sqrt(count))) if columns is None else as_int("columns", columns, minimum=1)
    columns = min(columns, count)
    gap = as_int("gap", gap, minimum=0)
    rows = -(-count // columns)
    tiled = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan)
    for k in range(count):
        top, left = (k // columns) * (height + gap), (k % columns) * (width + gap)
        tiled[top : top + height, left : left + width] = maps[k]
    return tiled


def plot_misclassified(
    images, labels, predictions, ax=None, probabilities=None, columns=8, max_images=32, title=None
):
    """Show the images whose prediction is wrong, each captioned "true → predicted" (lesson 08).

    Parameters
    ----------
    images : array_like, shape (N, H, W) or (N, 1, H, W)
    labels, predictions : array_like of int, shape (N,)
    ax : matplotlib Axes, optional
    probabilities : array_like, shape (N, K), optional
        When given, each caption adds the probability the network gave its (wrong) answer.
    columns : int, optional
        Images per row.
    max_images : int, optional
        Show at most this many (the first ones in order).
    title : str, optional
        Default: "<mistakes> of <N> test images misclassified".

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = plot_misclassified(np.zeros((3, 8, 8)), [1, 2, 3], [1, 5, 3])
    >>> ax.get_title()
    '1 of 3 images misclassified (true → predicted)'
    """
    images = _images("images", images)
    labels = np.asarray(labels)
    predictions = np.asarray(predictions)
    if labels.shape != (len(images),) or predictions.shape != (len(images),):
        raise ValueError(
            f"labels and predictions must have shape ({len(images)},), one per image, "
            f"got {labels.shape} and {predictions.shape}"
        )
    columns = as_int("columns", columns, minimum=1)
    max_images = as_int("max_images", max_images, minimum=1)
    wrong = np.flatnonzero(labels != predictions)
    shown = wrong[:max_images]
    if title is None:
        title = f"{len(wrong)} of {len(images)} images misclassified (true → predicted)"
    columns = max(1, min(columns, len(shown)))
    rows = max(1, -(-len(shown) // columns))
    ax = _new_axes(ax, (1.2 * columns + 0.4, 1.45 * rows + 0.6))
    height, width = images.shape[1:]
    gap = max(2, height // 2)  # room for the caption under each image
    if len(shown):
        tiled = tile_maps(images[shown], columns=columns, gap=gap)
        ax.imshow(tiled, cmap="gray", vmin=0, vmax=max(1.0, float(np.nanmax(tiled))))
        for k, index in enumerate(shown):
            top, left = (k // columns) * (height + gap), (k % columns) * (width + gap)
            caption = f"{labels[index]} → {predictions[index]}"
            if probabilities is not None:
                caption += f" ({float(np.asarray(probabilities)[index, predictions[index]]):.0%})"
            ax.text(
                left + (width - 1) / 2,
                top + height - 0.3,
                caption,
                ha="center",
                va="top",
                fontsize=9,
                color="#d62728",
            )
        ax.set_ylim(tiled.shape[0] - 0.5 + gap, -0.5)  # room for the last row's captions
        ax.set_facecolor("#e6e6e6")  # grey gaps, so each image's white border stays visible
    else:
        ax.text(0.5, 0.5, "no mistakes", ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    return ax


# --------------------------------------------------------------------------------------------
# What the network learned


def _bank(bank):
    if bank is None:
        from ..filters import KERNELS

        bank = KERNELS
    if not isinstance(bank, dict) or not bank:
        raise TypeError(f"bank must be a non-empty dict of name -> kernel, got {type(bank).__name__}")
    return {name: as_array(f"bank[{name!r}]", kernel, ndim=2).astype(float) for name, kernel in bank.items()}


def _kernels(kernels):
    kernels = as_array("kernels", kernels).astype(float)
    if kernels.ndim == 4 and kernels.shape[1] == 1:
        kernels = kernels[:, 0]
    if kernels.ndim != 3:
        raise ValueError(f"kernels must have shape (K, KH, KW) or (K, 1, KH, KW), got shape {kernels.shape}")
    return kernels


def filter_similarities(kernels, bank=None):
    """Cosine similarity of every kernel with every filter of a bank.

    The cosine of two kernels flattened to vectors, ``<a, b> / (|a| |b|)``: 1 when one is a
    positive multiple of the other, -1 when it is a negative multiple (it detects the same
    pattern with the opposite sign), near 0 when they have nothing in common.

    Parameters
    ----------
    kernels : array_like, shape (K, KH, KW) or (K, 1, KH, KW)
        E.g. a first convolution layer's weights.
    bank : dict of str to array_like (KH, KW), optional
        Default: ``cnn_helpers.filters.KERNELS``, the lecture's six filters and three extras.

    Returns
    -------
    names : list of str
        The bank's filter names, in order.
    cosine : ndarray, shape (K, len(bank))
        Signed cosine similarities (0 for an all-zero kernel).

    Examples
    --------
    >>> names, cosine = filter_similarities([[[1, 0], [0, 0]]], {"a": [[2, 0], [0, 0]], "b": [[0, -1], [0, 0]]})
    >>> names, cosine.tolist()
    (['a', 'b'], [[1.0, 0.0]])
    """
    kernels = _kernels(kernels)
    bank = _bank(bank)
    for name, kernel in bank.items():
        if kernel.shape != kernels.shape[1:]:
            raise ValueError(
                f"bank[{name!r}] has shape {kernel.shape}, but the kernels are {kernels.shape[1:]}"
            )
    flat = kernels.reshape(len(kernels), -1)
    references = np.stack([kernel.ravel() for kernel in bank.values()])
    norms = np.linalg.norm(flat, axis=1)[:, None] * np.linalg.norm(references, axis=1)[None, :]
    cosine = np.divide(flat @ references.T, norms, out=np.zeros(norms.shape), where=norms > 0)
    return list(bank), cosine


def closest_filters(kernels, bank=None):
    """For each kernel, the filter of the bank it most resembles, by absolute cosine (lesson 08).

    Parameters
    ----------
    kernels, bank
        As for :func:`filter_similarities`.

    Returns
    -------
    list of (str, float)
        One ``(name, cosine)`` per kernel: the filter with the largest ``|cosine|`` and the
        signed cosine (negative: the kernel looks like that filter turned upside down in sign).

    Examples
    --------
    >>> closest_filters([[[0, 0], [0, -3]]], {"a": [[1, 1], [1, 1]], "b": [[0, 0], [0, 1]]})
    [('b', -1.0)]
    """
    names, cosine = filter_similarities(kernels, bank)
    best = np.argmax(np.abs(cosine), axis=1)
    return [(names[j], float(cosine[k, j])) for k, j in enumerate(best)]


def _kernel_axes(axes, pairs, columns):
    if axes is not None:
        return np.asarray(axes)
    import matplotlib.pyplot as plt

    rows = 2 * (-(-pairs // columns))
    figure, axes = plt.subplots(
        rows, columns, figsize=(1.35 * columns + 0.3, 1.75 * rows + 0.5), squeeze=False
    )
    figure.subplots_adjust(hspace=0.6)
    return axes


def plot_kernels_beside_filters(kernels, bank=None, axes=None, columns=8):
    """Each learned kernel above the classic filter it most resembles (lesson 08).

    The filter is drawn with the sign of the similarity (``−sobel_top`` when the kernel looks
    like an upside-down top Sobel), so the two pictures can be compared by eye. Kernels and
    filters are each scaled symmetrically around 0 (red positive, blue negative).

    Parameters
    ----------
    kernels : array_like, shape (K, KH, KW) or (K, 1, KH, KW)
    bank : dict, optional
        Default: ``cnn_helpers.filters.KERNELS``.
    axes : array of matplotlib Axes, shape (2 * rows, columns), optional
        Row ``2r`` holds kernels, row ``2r + 1`` their matches.
    columns : int, optional

    Returns
    -------
    ndarray of matplotlib Axes, shape (2 * rows, columns)

    Examples
    --------
    >>> axes = plot_kernels_beside_filters(np.ones((2, 1, 3, 3)), columns=2)
    >>> axes.shape, axes[1, 0].get_title()
    ((2, 2), 'box_blur\\n|cos| = 1.00')
    """
    kernels = _kernels(kernels)
    columns = min(as_int("columns", columns, minimum=1), len(kernels))
    bank_arrays = _bank(bank)
    matches = closest_filters(kernels, bank_arrays)
    axes = _kernel_axes(axes, len(kernels), columns)
    rows_needed = 2 * (-(-len(kernels) // columns))
    if axes.ndim != 2 or axes.shape[0] < rows_needed or axes.shape[1] < columns:
        raise ValueError(f"axes must have shape at least ({rows_needed}, {columns}), got {axes.shape}")
    for ax in axes.ravel():
        ax.set_axis_off()
    for k, (kernel, (name, cosine)) in enumerate(zip(kernels, matches, strict=True)):
        row, col = 2 * (k // columns), k % columns
        reference = np.sign(cosine or 1.0) * bank_arrays[name]
        for ax, picture, label in (
            (axes[row, col], kernel, f"learned #{k}"),
            (axes[row + 1, col], reference, f"{'−' if cosine < 0 else ''}{name}\n|cos| = {abs(cosine):.2f}"),
        ):
            ax.set_axis_on()
            limit = float(np.abs(picture).max()) or 1.0
            ax.imshow(picture, cmap="coolwarm", vmin=-limit, vmax=limit)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(label, fontsize=8)
    return axes


def plot_feature_maps(maps, ax=None, columns=None, highlight=None, title=None, cmap="magma", same_scale=True):
    """Draw a layer's feature maps ``(C, H, W)`` as one tiled picture, each map numbered (lesson 08).

    Parameters
    ----------
    maps : array_like, shape (C, H, W)
        One example's activation, e.g. a ReLU layer's output.
    ax : matplotlib Axes, optional
    columns : int, optional
        Maps per row (about ``sqrt(C)`` by default).
    highlight : int, optional
        Frame this channel in a bright box.
    title : str, optional
    cmap : str, optional
    same_scale : bool, optional
        True: one colour scale for all maps, so you see which "lenses" respond most strongly.
        False: every map stretched to its own range, to see the pattern of weak maps.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = plot_feature_maps(np.arange(16.0).reshape(4, 2, 2), highlight=1, title="four maps")
    >>> ax.get_title(), len(ax.patches)
    ('four maps', 1)
    """
    maps = as_array("maps", maps, ndim=3).astype(float)
    count, height, width = maps.shape
    if not same_scale:
        low = maps.min(axis=(1, 2), keepdims=True)
        span = maps.max(axis=(1, 2), keepdims=True) - low
        maps = np.divide(maps - low, span, out=np.zeros_like(maps), where=span > 0)
    columns = (
        int(np.ceil(np.sqrt(count))) if columns is None else min(as_int("columns", columns, minimum=1), count)
    )
    tiled = tile_maps(maps, columns=columns, gap=1)
    ax = _new_axes(ax, (0.5 + 0.45 * columns * (width + 1) / 4, 0.5 + 0.45 * tiled.shape[0] / 4))
    finite = tiled[np.isfinite(tiled)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    ax.imshow(np.ma.masked_invalid(tiled), cmap=cmap, vmin=low, vmax=high if high > low else low + 1)
    ax.set_facecolor("white")
    for k in range(count):
        top, left = (k // columns) * (height + 1), (k % columns) * (width + 1)
        ax.text(left - 0.4, top - 0.4, str(k), ha="left", va="top", fontsize=6, color="white")
    if highlight is not None:
        from matplotlib.patches import Rectangle

        k = as_int("highlight", highlight, minimum=0)
        if k >= count:
            raise ValueError(f"highlight must be a channel in [0, {count}), got {k}")
        top, left = (k // columns) * (height + 1), (k % columns) * (width + 1)
        ax.add_patch(
            Rectangle((left - 0.5, top - 0.5), width, height, fill=False, edgecolor="#00e5ff", linewidth=2.5)
        )
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return ax
