"""Figures for lesson 06 (pooling): windows on a feature map and the pooled map they make.

- ``plot_pooling`` draws *input → pooled output* as numbered grids, each window framed in its
  own colour and the output cell it makes framed in the same colour;
- ``plot_pooling_modes`` draws one input and its max, average and sum pooling side by side;
- ``plot_downsampling`` draws a map and its repeatedly pooled versions at the same display
  size, so the coarser pixels show how much was thrown away.

The grids come from :mod:`cnn_helpers.plotting.grids`. Every helper takes an optional ``axes``
and returns what it drew on.
"""

from __future__ import annotations

import numpy as np

from cnn_helpers._validation import as_array, as_int
from cnn_helpers.pooling import POOL_FUNCTIONS, pool

from .grids import WINDOW_COLORS, draw_matrix, highlight_window, row_figsize

__all__ = ["MODE_NAMES", "plot_pooling", "plot_pooling_modes", "plot_downsampling"]

#: How each mode is written in titles.
MODE_NAMES = {"max": "max pooling", "avg": "average pooling", "sum": "sum pooling"}
#: Colour of the frame around the one window picked with ``window=``.
SELECTED_COLOR = "black"
# Frame at most this many windows in one figure: beyond it the colours stop telling them apart.
_MAX_FRAMED = 12


def _colour_scale(values):
    """One colour scale for a map and its pooled values: red-blue around 0 if any value is
    negative, else grey from 0 (black) to the largest value (white), so that equal numbers get equal colours in both grids."""
    values = np.asarray(values, dtype=float)
    if values.min() < 0:
        bound = float(np.abs(values).max())
        return {"cmap": "RdBu_r", "vmin": -bound, "vmax": bound}
    return {"cmap": "gray", "vmin": 0.0, "vmax": max(float(values.max()), 1e-12)}


def _arrow_into(ax, text):
    """An arrow labelled ``text`` pointing at ``ax`` from the left, clear of its tick labels."""
    ax.annotate(
        f"{text}\n⟶",
        xy=(0, 0.5),
        xycoords="axes fraction",
        xytext=(-48, 0),
        textcoords="offset points",
        ha="right",
        va="center",
        fontsize=10,
        multialignment="center",
        annotation_clip=False,
    )


def plot_pooling(feature_map, size=2, *, stride=None, mode="max", axes=None, window=None, show_values=None):
    """Draw *feature map → pooled map*, with windows and the output cells they make framed (lesson 06).

    When the windows do not overlap (``stride >= size``) and there are at most 12 of them, each
    window gets its own colour and the output cell it makes is framed in the same colour.
    Otherwise only ``window`` (default: output ``(0, 0)``) is framed, in black.

    Parameters
    ----------
    feature_map : array_like, shape (H, W)
    size : int
    stride : int, optional
        Defaults to ``size``.
    mode : {"max", "avg", "sum"}
    axes : sequence of 2 Axes, optional
        Default: a new figure, one row.
    window : (int, int), optional
        Output position whose window is framed in thick black, on top of the others.
    show_values : bool, optional
        Write the numbers in the cells; default when both grids are at most 12 cells wide.

    Returns
    -------
    list of 2 matplotlib Axes
        ``[input_ax, output_ax]``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> axes = plot_pooling(np.arange(16).reshape(4, 4), 2)
    >>> axes[1].get_title().splitlines()
    ['max pooling', 'shape (2, 2)']
    """
    feature_map = as_array("feature_map", feature_map, ndim=2)
    size = as_int("size", size, minimum=1)
    stride = size if stride is None else as_int("stride", stride, minimum=1)
    pooled = pool(feature_map, size, stride=stride, mode=mode)
    if show_values is None:
        show_values = max(feature_map.shape) <= 12
    if axes is None:
        import matplotlib.pyplot as plt

        shapes = [feature_map.shape, pooled.shape]
        _, axes = plt.subplots(
            1,
            2,
            figsize=row_figsize(shapes, cell=0.5 if show_values else 0.12),
            gridspec_kw={"width_ratios": [shape[1] for shape in shapes]},
        )
    axes = list(np.ravel(axes))
    if len(axes) != 2:
        raise ValueError(f"axes must hold 2 Axes, got {len(axes)}")
    titles = (f"feature map\nshape {feature_map.shape}", f"{MODE_NAMES[mode]}\nshape {pooled.shape}")
    if show_values:
        colours = _colour_scale(feature_map)
        draw_matrix(feature_map, axes[0], title=titles[0], **colours)
        draw_matrix(pooled, axes[1], title=titles[1], **(colours if mode != "sum" else _colour_scale(pooled)))
        _arrow_into(axes[1], f"{mode} pool\n{size}×{size}\nstride {stride}")
    else:
        for ax, values, title in ((axes[0], feature_map, titles[0]), (axes[1], pooled, titles[1])):
            ax.imshow(values, cmap="gray", interpolation="nearest")
            ax.set_title(title)
            ax.set_xlabel("column")
            ax.set_ylabel("row")
    out_h, out_w = pooled.shape
    if stride >= size and out_h * out_w <= _MAX_FRAMED:
        for index, (row, col) in enumerate(np.ndindex(out_h, out_w)):
            color = WINDOW_COLORS[index % len(WINDOW_COLORS)]
            highlight_window(axes[0], row * stride, col * stride, size, size, color=color, linewidth=2.5)
            highlight_window(axes[1], row, col, 1, 1, color=color, linewidth=2.5)
    elif window is None:
        window = (0, 0)
    if window is not None:
        row, col = as_int("window[0]", window[0], minimum=0), as_int("window[1]", window[1], minimum=0)
        if row >= out_h or col >= out_w:
            raise ValueError(f"window {tuple(window)} is outside the pooled map of shape {pooled.shape}")
        highlight_window(axes[0], row * stride, col * stride, size, size, color=SELECTED_COLOR, linewidth=4)
        highlight_window(axes[1], row, col, 1, 1, color=SELECTED_COLOR, linewidth=4)
    return axes


def plot_pooling_modes(feature_map, size=2, *, stride=None, axes=None):
    """Draw a feature map and its max, average and sum pooling side by side (lesson 06).

    Parameters
    ----------
    feature_map : array_like, shape (H, W)
        Small enough to show its numbers (at most about 12x12).
    size : int
    stride : int, optional
    axes : sequence of 4 Axes, optional

    Returns
    -------
    list of 4 matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> [ax.get_title() for ax in plot_pooling_modes(np.arange(16).reshape(4, 4))][1:]
    ['max pooling', 'average pooling', 'sum pooling']
    """
    feature_map = as_array("feature_map", feature_map, ndim=2)
    size = as_int("size", size, minimum=1)
    stride = size if stride is None else as_int("stride", stride, minimum=1)
    outputs = {mode: pool(feature_map, size, stride=stride, mode=mode) for mode in POOL_FUNCTIONS}
    if axes is None:
        import matplotlib.pyplot as plt

        shapes = [feature_map.shape] + [out.shape for out in outputs.values()]
        _, axes = plt.subplots(
            1,
            4,
            figsize=row_figsize(shapes, cell=0.6),
            gridspec_kw={"width_ratios": [shape[1] for shape in shapes]},
        )
    axes = list(np.ravel(axes))
    if len(axes) != 4:
        raise ValueError(f"axes must hold 4 Axes, got {len(axes)}")
    colours = _colour_scale(feature_map)
    draw_matrix(feature_map, axes[0], title=f"feature map {feature_map.shape}", **colours)
    out_h, out_w = next(iter(outputs.values())).shape
    framed = stride >= size and out_h * out_w <= _MAX_FRAMED
    for index, (row, col) in enumerate(np.ndindex(out_h, out_w)):
        if framed or index == 0:
            highlight_window(
                axes[0],
                row * stride,
                col * stride,
                size,
                size,
                color=WINDOW_COLORS[index % len(WINDOW_COLORS)],
                linewidth=2.5,
            )
    for ax, (mode, out) in zip(axes[1:], outputs.items(), strict=True):
        draw_matrix(out, ax, title=MODE_NAMES[mode], **(colours if mode != "sum" else _colour_scale(out)))
        for index, (row, col) in enumerate(np.ndindex(out_h, out_w)):
            if framed or index == 0:
                highlight_window(
                    ax, row, col, 1, 1, color=WINDOW_COLORS[index % len(WINDOW_COLORS)], linewidth=2.5
                )
    return axes


def plot_downsampling(maps, axes=None, titles=None, cmap="gray"):
    """Draw a map and its pooled versions at the same display size (lesson 06).

    Each panel spans the same area, so a map with half the rows has pixels twice as tall.

    Parameters
    ----------
    maps : sequence of array_like, each shape (H_k, W_k)
    axes : sequence of Axes, optional
    titles : sequence of str, optional
        Default: each map's shape and number of values.
    cmap : str

    Returns
    -------
    list of matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> big = np.arange(16.0).reshape(4, 4)
    >>> [ax.get_title() for ax in plot_downsampling([big, pool(big)])]
    ['(4, 4): 16 values', '(2, 2): 4 values']
    """
    maps = [as_array(f"maps[{k}]", m, ndim=2) for k, m in enumerate(maps)]
    if not maps:
        raise ValueError("maps must hold at least one map")
    if titles is None:
        titles = [f"{m.shape}: {m.size:,} values" for m in maps]
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, len(maps), figsize=(3.2 * len(maps), 3.6))
    axes = list(np.ravel(axes))
    if len(axes) != len(maps):
        raise ValueError(f"axes must hold {len(maps)} Axes, one per map, got {len(axes)}")
    height, width = maps[0].shape
    for ax, feature_map, title in zip(axes, maps, titles, strict=True):
        # the same extent for every map: fewer rows and columns mean bigger pixels
        ax.imshow(feature_map, cmap=cmap, interpolation="nearest", extent=(0, width, height, 0))
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    return axes
