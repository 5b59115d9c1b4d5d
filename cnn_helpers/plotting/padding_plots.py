"""Figures for lesson 04 (padding and stride): where the windows go, and kinds of padding.

- ``draw_padding_layout``: a padded input grid with the kernel's window positions (every
  window's centre dotted, the first few framed) next to the output grid they produce, or the
  reason there is no output (the padding explorer's figure).
- ``draw_padding_modes``: one image padded with zeros, by reflection and by replication,
  side by side, numbers written in the cells.

Built on ``plotting.grids`` (lesson 02). Every helper takes an optional ``axes`` and returns what
it drew on; matplotlib is imported on use.
"""

from __future__ import annotations

import textwrap

import numpy as np

from .._validation import as_array, as_int
from .grids import WINDOW_COLORS, draw_matrix, highlight_window

__all__ = ["draw_padding_layout", "draw_padding_modes", "PADDING_MODE_NAMES"]

#: How lesson 04 names the ``np.pad`` modes it compares.
PADDING_MODE_NAMES = {"constant": "zeros", "reflect": "reflect", "edge": "replicate (edge)"}

_INPUT_SHADE = 0.35  # input cells are light blue; padding cells are grey and hatched (draw_matrix)


def _new_axes_pair(axes):
    if axes is not None:
        axes = list(np.ravel(axes))
        if len(axes) != 2:
            raise ValueError(f"axes must hold 2 Axes, got {len(axes)}")
        return axes
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(1, 2, figsize=(10, 4.6), gridspec_kw={"width_ratios": [3, 2]})
    return list(axes)


def draw_padding_layout(layout, axes=None):
    """Draw a padding-and-stride setting: padded input with windows, and the output (lesson 04).

    Parameters
    ----------
    layout : PaddingLayout
        From ``cnn_helpers.conv.padding_layout``.
    axes : sequence of 2 Axes, optional
        Left: the padded input (input cells blue, padding hatched grey), a dot at the centre of
        every window position, the first window framed red, the next one along the row blue
        and the first of the second row green. Right: the output grid, each cell numbered in
        the order the windows are visited, with the same three cells framed; or, when there is
        no output, the reason in words. Default: a new figure.

    Returns
    -------
    list of 2 matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cnn_helpers.conv import padding_layout
    >>> axes = draw_padding_layout(padding_layout(5, 3, padding=1, stride=2))
    >>> axes[1].get_title()
    'output: 3 × 3'
    """
    axes = _new_axes_pair(axes)
    input_h, input_w = layout.input_shape
    p_h, p_w = layout.padding
    padded_h, padded_w = layout.padded_shape
    grid = np.zeros((padded_h, padded_w))
    grid[p_h : p_h + input_h, p_w : p_w + input_w] = _INPUT_SHADE
    padding = (p_h, p_w) if 2 * p_h < padded_h and 2 * p_w < padded_w else 0
    k = layout.kernel_size
    draw_matrix(
        grid,
        axes[0],
        cmap="Blues",
        vmin=0,
        vmax=1,
        show_values=False,
        padding=padding,
        first_index=0,
        xlabel="column of the padded input",
        ylabel="row of the padded input",
    )
    axes[0].set_title(
        f"input {input_h}×{input_w}, padding p_h={p_h}, p_w={p_w} → padded {padded_h}×{padded_w}\n"
        f"kernel {k}×{k}, stride {layout.stride}",
        fontsize=10,
    )
    if layout.output_shape is None:
        highlight_window(axes[0], 0, 0, k, k, color=WINDOW_COLORS[0], label="the kernel")
        axes[0].set_xlim(-0.5, max(padded_w, k) - 0.5)
        axes[0].set_ylim(max(padded_h, k) - 0.5, -0.5)
        axes[1].axis("off")
        axes[1].set_title("no output", color=WINDOW_COLORS[0])
        axes[1].text(
            0.5,
            0.5,
            textwrap.fill(layout.reason, 38),
            ha="center",
            va="center",
            transform=axes[1].transAxes,
            fontsize=10,
        )
        return axes

    out_h, out_w = layout.output_shape
    centres = np.array(layout.windows, dtype=float) + (k - 1) / 2
    axes[0].scatter(
        centres[:, 1],
        centres[:, 0],
        s=max(8, 60 - 2 * len(centres)),
        color="black",
        zorder=6,
        label="centre of a window",
    )
    framed = [(0, 0)]
    if out_w > 1:
        framed.append((0, 1))
    if out_h > 1:
        framed.append((1, 0))
    numbers = np.arange(1, out_h * out_w + 1, dtype=float).reshape(out_h, out_w)
    draw_matrix(
        numbers,
        axes[1],
        cmap="Greys",
        vmin=0,
        vmax=4 * numbers.max(),
        show_values=out_h * out_w <= 144,
        xlabel="output column",
        ylabel="output row",
    )
    axes[1].set_title(f"output: {out_h} × {out_w}")
    stride = layout.stride
    # at most three framed windows, a colour each from the longer palette
    for color, (row, col) in zip(WINDOW_COLORS, framed, strict=False):
        highlight_window(axes[0], row * stride, col * stride, k, k, color=color, linewidth=2.5)
        highlight_window(axes[1], row, col, 1, 1, color=color, linewidth=2.5)
    return axes


def draw_padding_modes(image, *, padding, modes=("constant", "reflect", "edge"), axes=None):
    """Draw ``image`` padded by each of ``modes`` (``np.pad`` modes), numbers in the cells (lesson 04).

    Parameters
    ----------
    image : array_like, shape (H, W)
        A small image (the lecture's 5x5 reads well).
    padding : int, keyword-only
        Rows and columns added on each side.
    modes : sequence of str
        ``np.pad`` modes: "constant" (zeros), "reflect" (mirror about the edge pixel) or "edge"
        (repeat the edge pixel).
    axes : sequence of Axes, one per mode, optional

    Returns
    -------
    list of matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> axes = draw_padding_modes(np.eye(3), padding=1)
    >>> [ax.get_title() for ax in axes]
    ['zeros', 'reflect', 'replicate (edge)']
    """
    image = as_array("image", image, ndim=2)
    padding = as_int("padding", padding, minimum=1)
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, len(modes), figsize=(3.6 * len(modes), 3.8))
    axes = list(np.ravel(axes))
    if len(axes) != len(modes):
        raise ValueError(f"axes must hold {len(modes)} Axes, one per mode, got {len(axes)}")
    for ax, mode in zip(axes, modes, strict=True):
        padded = np.pad(image, padding, mode=mode)
        draw_matrix(
            padded,
            ax,
            title=PADDING_MODE_NAMES.get(mode, mode),
            padding=padding,
            first_index=-padding,
            vmin=0,
            vmax=max(1.0, float(image.max())),
        )
    return axes
