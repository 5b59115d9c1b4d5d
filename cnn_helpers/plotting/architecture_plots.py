"""Figures for lesson 10: block diagrams drawn from real blocks, gradient norms, heat maps, masks.

``draw_block`` reads a block of :mod:`cnn_helpers.blocks` and draws what is actually
inside it (kernel sizes, channel counts), so the diagram cannot disagree with the code.
Every helper takes an optional ``ax`` and returns the axes it drew on.
"""

from __future__ import annotations

import itertools

import numpy as np

from cnn_helpers._validation import as_pair
from cnn_helpers.blocks import DenseBlock, InceptionBlock, MaxPoolSame, ResidualBlock
from cnn_helpers.layers import AvgPool2D, BatchNorm2D, Conv2D, MaxPool2D, ReLU
from cnn_helpers.model import Sequential
from cnn_helpers.receptive_field import receptive_field

__all__ = ["layer_label", "draw_block", "plot_gradient_norms", "show_heatmap", "show_mask"]

_COLOURS = {"conv": "#cfe2f3", "relu": "#fde9c9", "pool": "#d9ead3", "join": "#f4cccc", "io": "#eeeeee"}


def _new_axes(ax, size):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax


def layer_label(layer):
    """Short text for a layer in a diagram, e.g. ``'3×3 conv, 8→16'``.

    >>> layer_label(Conv2D(8, 16, 3, padding=1))
    '3×3 conv, 8→16'
    """
    if isinstance(layer, Conv2D):
        kh, kw = layer.kernel_size
        stride = f", stride {layer.stride[0]}" if layer.stride != (1, 1) else ""
        return f"{kh}×{kw} conv, {layer.in_channels}→{layer.out_channels}{stride}"
    if isinstance(layer, ReLU):
        return "ReLU"
    if isinstance(layer, (MaxPool2D, AvgPool2D)):
        kind = "max" if isinstance(layer, MaxPool2D) else "avg"
        (sh, sw), (th, tw) = as_pair("size", layer.size), as_pair("stride", layer.stride)
        stride = f", stride {th}" if th == tw else f", stride {th}×{tw}"
        return f"{sh}×{sw} {kind} pool" + (stride if (th, tw) != (sh, sw) else "")
    if isinstance(layer, MaxPoolSame):
        return f"{layer.size}×{layer.size} max pool, stride 1"
    if isinstance(layer, BatchNorm2D):
        return f"batch norm, {layer.channels}"
    return repr(layer)


def _kind(layer):
    if isinstance(layer, Conv2D):
        return "conv"
    if isinstance(layer, ReLU):
        return "relu"
    if isinstance(layer, (MaxPool2D, AvgPool2D, MaxPoolSame)):
        return "pool"
    return "io"


def _box(ax, x, y, text, kind, width=2.6, height=0.62, fontsize=8):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.04",
            facecolor=_COLOURS[kind],
            edgecolor="#555555",
            linewidth=0.8,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, style="-|>", connection="arc3", colour="#444444"):
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops=dict(
            arrowstyle=style, color=colour, linewidth=0.9, shrinkA=0, shrinkB=0, connectionstyle=connection
        ),
    )


def _column(ax, layers, x, top, step=0.95, width=2.6, fontsize=8):
    """Boxes for ``layers`` going down from ``top``; returns the y of the last box."""
    y = top
    for i, layer in enumerate(layers):
        if i:
            _arrow(ax, (x, y + step - 0.31), (x, y + 0.31))
        _box(ax, x, y, layer_label(layer), _kind(layer), width=width, fontsize=fontsize)
        y -= step
    return y + step


def _finish(ax, title, xlim, ylim):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=10)
    return ax


def draw_block(block, ax=None, title=None):
    """Draw a block of :mod:`cnn_helpers.blocks` as boxes and arrows (lesson 10).

    Parameters
    ----------
    block : VGGBlock, InceptionBlock, ResidualBlock, DenseBlock or Sequential
    ax : matplotlib Axes, optional
    title : str, optional
        Default: the block's type, parameter count and receptive field.

    Returns
    -------
    matplotlib Axes
    """
    ax = _new_axes(ax, (4, 5))
    if title is None:
        title = (
            f"{type(block).__name__}: {block.num_params:,} parameters,\n"
            f"receptive field {receptive_field([block])}"
        )
    if isinstance(block, InceptionBlock):
        return _draw_inception(block, ax, title)
    if isinstance(block, ResidualBlock):
        return _draw_residual(block, ax, title)
    if isinstance(block, DenseBlock):
        return _draw_dense(block, ax, title)
    if isinstance(block, Sequential):
        layers = block.layers
        bottom = _column(ax, layers, 0, 0)
        _box(ax, 0, 0.95, "input", "io", width=1.4)
        _arrow(ax, (0, 0.95 - 0.31), (0, 0.31))
        _box(ax, 0, bottom - 0.95, "output", "io", width=1.4)
        _arrow(ax, (0, bottom - 0.31), (0, bottom - 0.95 + 0.31))
        return _finish(ax, title, (-1.8, 1.8), (bottom - 1.4, 1.4))
    raise TypeError(
        f"block must be one of the blocks of cnn_helpers.blocks or a Sequential, got {type(block).__name__}"
    )


def _draw_inception(block, ax, title):
    branches = [b for _, b in block.children]
    spacing = 2.9
    xs = [(i - (len(branches) - 1) / 2) * spacing for i in range(len(branches))]
    depth = max(len(b.layers) for b in branches)
    _box(ax, 0, 1.2, f"input, {block.in_channels} channels", "io", width=3.0)
    bottom = -0.95 * (depth - 1)
    for x, branch in zip(xs, branches, strict=True):
        _arrow(ax, (0, 1.2 - 0.31), (x, 0.31))
        end = _column(ax, branch.layers, x, 0)
        if end > bottom:  # a shorter branch: a plain line down to the level of the longest
            ax.plot([x, x], [end - 0.31, bottom - 0.31], color="#444444", linewidth=0.9)
        _arrow(ax, (x, bottom - 0.31), (x * 0.35, bottom - 1.2 + 0.31))
    split = " + ".join(str(c) for c in block.split)
    _box(ax, 0, bottom - 1.2, f"concatenate channels: {split} = {block.out_channels}", "join", width=5.2)
    half = xs[-1] + 1.6
    return _finish(ax, title, (-half, half), (bottom - 1.7, 1.7))


def _draw_residual(block, ax, title):
    _box(ax, 0, 1.0, f"input x, {block.channels} channels", "io", width=2.8)
    _arrow(ax, (0, 1.0 - 0.31), (0, 0.31))
    end = _column(ax, block.branch.layers, 0, 0)
    plus_y = end - 1.0
    _arrow(ax, (0, end - 0.31), (0, plus_y + 0.22))
    circle_args = dict(facecolor=_COLOURS["join"], edgecolor="#555555")
    from matplotlib.patches import Circle

    ax.add_patch(Circle((0, plus_y), 0.22, **circle_args))
    ax.text(0, plus_y, "+", ha="center", va="center", fontsize=12)
    if block.shortcut:
        ax.plot([1.4, 2.1, 2.1], [1.0, 1.0, plus_y], color="#444444", linewidth=0.9)
        _arrow(ax, (2.1, plus_y), (0.24, plus_y))
        if block.projection is None:
            shortcut_text = "identity:\nx unchanged"
        else:
            stride = f",\nstride {block.stride}" if block.stride != 1 else ""
            shortcut_text = f"projection:\n1×1 conv\n{block.channels}→{block.out_channels}{stride}"
        ax.text(2.2, (1.0 + plus_y) / 2, shortcut_text, fontsize=8, va="center")
    relu_y = plus_y - 0.95
    _arrow(ax, (0, plus_y - 0.22), (0, relu_y + 0.31))
    _box(ax, 0, relu_y, "ReLU", "relu")
    _box(ax, 0, relu_y - 0.95, "output relu(x + F(x))", "io", width=2.8)
    _arrow(ax, (0, relu_y - 0.31), (0, relu_y - 0.95 + 0.31))
    ax.text(-1.5, end / 2, "F(x)", fontsize=10, ha="right", va="center", style="italic")
    return _finish(ax, title, (-2.3, 3.4), (relu_y - 1.4, 1.5))


def _draw_dense(block, ax, title):
    channels = block.channels_per_layer()
    y = 0.0
    _box(ax, 0, y, f"input, {channels[0]} channels", "io", width=2.8)
    for i, layer in enumerate(block.layers):
        conv_y = y - 0.95
        _arrow(ax, (0, y - 0.31), (0, conv_y + 0.31))
        _box(ax, 0, conv_y, f"{layer_label(layer.layers[0])} + ReLU", "conv", width=2.8)
        join_y = conv_y - 0.95
        _arrow(ax, (0, conv_y - 0.31), (0, join_y + 0.31))
        _arrow(ax, (1.4, y), (1.4, join_y), connection="arc3,rad=-0.35")
        text = f"concatenate: {channels[i]} + {block.growth_rate} = {channels[i + 1]} ch"
        _box(ax, 0, join_y, text, "join", width=2.8)
        y = join_y
    ax.text(2.05, -0.95, "every earlier map\nis passed on", fontsize=8, va="center")
    return _finish(ax, title, (-1.8, 3.6), (y - 0.6, 0.6))


def plot_gradient_norms(norms, ax=None, title="Gradient reaching each block's input"):
    """Gradient size at each block's input, one line per stack (log scale; lesson 10).

    Parameters
    ----------
    norms : dict of str to sequence of float
        For each stack, the gradient norm at the input of block 1, 2, ... (block 1 is nearest
        the network's input), relative to the gradient at the stack's output.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _new_axes(ax, (6.5, 4))
    for (label, values), marker in zip(norms.items(), itertools.cycle("osD^v"), strict=False):
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, marker=marker, markersize=4, label=label)
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # blocks are counted: no tick at 2.5
    ax.set_xlabel("block (1 = nearest the input)")
    ax.set_ylabel("|gradient| / |gradient at the output|")
    ax.set_title(title)
    ax.legend()
    return ax


def show_heatmap(
    heat, true_centre=None, predicted=None, ax=None, title="heat map", image=None, vmin=None, vmax=None
):
    """A heat map (or score map) with the true (circle) and predicted (cross) positions.

    Parameters
    ----------
    heat : ndarray, shape (H, W)
        Scores or probabilities per pixel, e.g. from :func:`cnn_helpers.dense_prediction.heatmap`.
    true_centre, predicted : (row, col), optional
    ax : matplotlib Axes, optional
    title : str, optional
    image : ndarray, shape (H, W), optional
        Drawn in grey underneath, with the heat map half transparent on top.
    vmin, vmax : float, optional
        Colour range of the heat map.

    Returns
    -------
    matplotlib Axes
    """
    ax = _new_axes(ax, (3, 3))
    if image is not None:
        ax.imshow(image, cmap="gray_r")
    ax.imshow(heat, cmap="inferno", alpha=0.6 if image is not None else 1.0, vmin=vmin, vmax=vmax)
    if true_centre is not None:
        ax.plot(
            true_centre[1],
            true_centre[0],
            "o",
            markersize=16,
            markerfacecolor="none",
            markeredgecolor="lime",
            markeredgewidth=1.5,
            label="true centre",
        )
    if predicted is not None:
        ax.plot(
            predicted[1],
            predicted[0],
            "s",
            markersize=8,
            markerfacecolor="none",
            markeredgecolor="cyan",
            markeredgewidth=1.5,
            label="argmax",
        )
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def show_mask(mask, ax=None, title="mask", names=("background", "cross", "other shape")):
    """A class mask (integers) with one colour per class.

    Parameters
    ----------
    mask : ndarray of int, shape (H, W)
    ax : matplotlib Axes, optional
    names : sequence of str
        Class names, for the colour scale's length.

    Returns
    -------
    matplotlib Axes
    """
    from matplotlib.colors import ListedColormap

    ax = _new_axes(ax, (3, 3))
    colours = ListedColormap(["#ffffff", "#d62728", "#1f77b4", "#2ca02c", "#9467bd"][: len(names)])
    ax.imshow(mask, cmap=colours, vmin=-0.5, vmax=len(names) - 0.5)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax
