"""Small matrices drawn as grids of numbered cells: images, kernels, feature maps and windows.

Lesson 02 (convolution) introduced these helpers; lessons 04 (padding and stride) and 06
(pooling) reuse them for padded grids and pooling windows.

- ``draw_matrix``: one matrix with its numbers, optionally with a shaded padding border;
  ``NaN`` cells are left blank (a feature map that is not computed yet).
- ``highlight_window``: a coloured frame around a block of cells (a kernel's window, a pooling
  window, one output cell).
- ``draw_image_kernel_map``: the triple *image ⋆ kernel = feature map* (⋆ is cross-correlation,
  what the package's ``correlate2d`` and ``conv2d`` compute; pass ``operator="*"`` for a true
  convolution), with one window and the output cell it produces highlighted; without a kernel
  it draws *input → output* (pooling).
- ``draw_multiply_and_sum``: one step of a convolution: the window, the kernel, their
  elementwise products with their sum, and the feature map so far.
- ``draw_multiply_and_sum_steps``: every step of a valid correlation in one figure.
- ``row_figsize``: a figure size that gives grids side by side cells of about the same size.

Colours follow the course's convention: a pixel value of 1 is drawn **white** and 0 black (the
``"gray"`` colour map, as photographs are shown), and zero padding is drawn as the black it is,
hatched in grey so that it stays visible against black image pixels. Grids with negative values
use a diverging map centred on zero (blue negative, red positive).

Every helper takes an optional ``ax`` (or ``axes``) and returns what it drew on. matplotlib is
imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_array, as_int, as_pair
from ._axes import new_axes

__all__ = [
    "WINDOW_COLORS",
    "draw_matrix",
    "highlight_window",
    "draw_image_kernel_map",
    "draw_multiply_and_sum",
    "draw_multiply_and_sum_steps",
    "row_figsize",
]

#: Colours for window frames, in order: use ``WINDOW_COLORS[k % len(WINDOW_COLORS)]`` to tell
#: several windows apart (e.g. the four windows of a 2x2 pooling).
WINDOW_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")

_BLANK_COLOR = "white"
#: Zero padding is black (the value 0 it holds), hatched in grey so that it stands out from
#: black pixels of the image; its zeros are written in light grey.
_PADDING_COLOR = "black"
_PADDING_HATCH_COLOR = "#8c8c8c"
_PADDING_TEXT_COLOR = "#d0d0d0"


def _format_value(value, fmt):
    if callable(fmt):
        return fmt(value)
    return format(value, fmt)


def _auto_format(values):
    finite = values[np.isfinite(values)]
    if finite.size and np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 1e6):
        return lambda v: f"{int(np.round(v))}" if v != 0 else "0"  # no "-0"
    return ".2f"


def draw_matrix(
    matrix,
    ax=None,
    *,
    title=None,
    cmap=None,
    vmin=None,
    vmax=None,
    fmt=None,
    show_values=True,
    fontsize=None,
    padding=0,
    xlabel="column",
    ylabel="row",
    first_index=0,
):
    """Draw a small matrix as a grid of coloured cells, each labelled with its value (lessons 02, 03, 04, 05, 07).

    Parameters
    ----------
    matrix : array_like, shape (H, W)
        The values. ``NaN`` entries are drawn as blank white cells with no number (for example
        the entries of a feature map that are not computed yet).
    ax : matplotlib Axes, optional
        Where to draw; a new 3x3-inch figure by default.
    title : str, optional
    cmap : str or Colormap, optional
        Default: ``"gray"`` when no value is negative (0 black, the largest value white, so a
        pixel value of 1 is white), else ``"RdBu_r"`` centred on zero (blue negative, red
        positive).
    vmin, vmax : float, optional
        Colour limits. Defaults: the data range (symmetric around 0 for the diverging default).
    fmt : str or callable, optional
        Format spec for the numbers (``".1f"``) or a function ``value -> str``. Default: whole
        numbers without decimals, anything else with two decimals.
    show_values : bool, default True
        Write each value in its cell (text colour chosen for contrast).
    fontsize : float, optional
        Default: smaller for larger grids.
    padding : int or (int, int), default 0
        The outer ``p_h`` rows and ``p_w`` columns are padding (lesson 04), hatched in grey. Zero
        padding is drawn black, the 0 it holds, whatever ``cmap`` is, with its zeros in light
        grey; padding holding other values (``np.pad``'s reflect or edge modes) is coloured like
        any other cell, with its numbers in grey.
    xlabel, ylabel : str, default "column" and "row"
        Axis labels; pass ``""`` to omit.
    first_index : int, default 0
        Tick label of the first row and column (``-p`` to number a padded grid so that the
        original image starts at 0).

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ValueError
        If ``matrix`` is not 2-D or empty, or the padding does not leave a centre.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = draw_matrix([[0, -1], [5, 2]], title="kernel")
    >>> [text.get_text() for text in ax.texts]
    ['0', '-1', '5', '2']
    """
    values = as_array("matrix", matrix, ndim=2).astype(float)
    if values.size == 0:
        raise ValueError(f"matrix must not be empty, got shape {values.shape}")
    p_h, p_w = as_pair("padding", padding, minimum=0)
    height, width = values.shape
    if 2 * p_h >= height or 2 * p_w >= width:
        raise ValueError(
            f"padding {(p_h, p_w)} leaves no centre in a matrix of shape {values.shape}; "
            "pass the padded matrix and the padding it has"
        )
    first_index = as_int("first_index", first_index)
    import matplotlib
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle

    ax = new_axes(ax)
    finite = values[np.isfinite(values)]
    low = float(finite.min()) if finite.size else 0.0
    high = float(finite.max()) if finite.size else 1.0
    if cmap is None:
        cmap = "gray" if low >= 0 else "RdBu_r"
        if low < 0 and vmin is None and vmax is None:
            bound = max(abs(low), abs(high))
            vmin, vmax = -bound, bound
    vmin = low if vmin is None else vmin
    vmax = high if vmax is None else vmax
    if vmax <= vmin:
        vmax = vmin + 1.0
    colormap = (matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap).with_extremes(bad=_BLANK_COLOR)
    norm = Normalize(vmin=vmin, vmax=vmax)
    in_padding = np.zeros(values.shape, dtype=bool)
    if p_h or p_w:
        in_padding[:] = True
        in_padding[p_h : height - p_h, p_w : width - p_w] = False
    # Zero padding is drawn black (a patch below), whatever the colour map; padding that holds
    # other values (reflect, edge) is coloured like any cell. Every padding cell is hatched.
    zero_padding = in_padding & (values == 0)
    shown = np.ma.masked_where(zero_padding | np.isnan(values), values)
    ax.imshow(shown, cmap=colormap, norm=norm, interpolation="nearest")

    for row, col in zip(*np.nonzero(in_padding), strict=True):
        ax.add_patch(
            Rectangle(
                (col - 0.5, row - 0.5),
                1,
                1,
                facecolor=_PADDING_COLOR if zero_padding[row, col] else "none",
                edgecolor=_PADDING_HATCH_COLOR,
                hatch="///",
                linewidth=0,
            )
        )
    if show_values:
        formatter = fmt if fmt is not None else _auto_format(values)
        size = fontsize or max(6.0, 14.0 - 0.8 * max(height, width))
        for row in range(height):
            for col in range(width):
                value = values[row, col]
                if np.isnan(value):
                    continue
                if zero_padding[row, col]:
                    color = _PADDING_TEXT_COLOR
                else:
                    red, green, blue, _ = colormap(norm(value))
                    light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
                    if in_padding[row, col]:  # padding numbers in grey, still readable on the cell
                        color = "#404040" if light else _PADDING_TEXT_COLOR
                    else:
                        color = "black" if light else "white"
                ax.text(
                    col,
                    row,
                    _format_value(value, formatter),
                    ha="center",
                    va="center",
                    color=color,
                    fontsize=size,
                )

    ax.set_xticks(np.arange(width))
    ax.set_yticks(np.arange(height))
    ax.set_xticklabels([str(first_index + i) for i in range(width)])
    ax.set_yticklabels([str(first_index + i) for i in range(height)])
    # Cell borders as two line collections (much faster to draw than minor-tick grid lines).
    ax.hlines(np.arange(-0.5, height), -0.5, width - 0.5, colors="#9a9a9a", linewidth=0.8)
    ax.vlines(np.arange(-0.5, width), -0.5, height - 0.5, colors="#9a9a9a", linewidth=0.8)
    ax.tick_params(length=0, labelsize=max(6.0, 10.0 - 0.3 * max(height, width)))
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    return ax


def highlight_window(ax, top, left, height, width=None, *, color=WINDOW_COLORS[0], linewidth=3.0, label=None):
    """Frame the block of cells ``[top:top+height, left:left+width]`` of a grid (lessons 02, 07).

    Parameters
    ----------
    ax : matplotlib Axes
        Axes that ``draw_matrix`` drew on (cell ``(r, c)`` is centred at ``x=c, y=r``).
    top, left : int
        Row and column of the window's top-left cell.
    height : int
        Rows in the window.
    width : int, optional
        Columns in the window; default ``height`` (a square window).
    color : colour, default ``WINDOW_COLORS[0]`` (red)
    linewidth : float, default 3
    label : str, optional
        Legend label of the frame.

    Returns
    -------
    matplotlib Axes
        The same ``ax``; the frame is its last patch.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = highlight_window(draw_matrix(np.zeros((5, 5))), 1, 2, 3)
    >>> ax.patches[-1].get_xy(), ax.patches[-1].get_width(), ax.patches[-1].get_height()
    ((1.5, 0.5), 3, 3)
    """
    from matplotlib.patches import Rectangle

    top, left = as_int("top", top), as_int("left", left)
    height = as_int("height", height, minimum=1)
    width = height if width is None else as_int("width", width, minimum=1)
    ax.add_patch(
        Rectangle(
            (left - 0.5, top - 0.5),
            width,
            height,
            fill=False,
            edgecolor=color,
            linewidth=linewidth,
            label=label,
            zorder=5,
            clip_on=False,
        )
    )
    return ax


def row_figsize(shapes, cell=0.5):
    """A figure size (width, height) in inches for grids side by side in one row.

    Parameters
    ----------
    shapes : sequence of (int, int)
        The (rows, columns) of each grid, left to right.
    cell : float, default 0.5
        About how many inches one cell should take.

    Examples
    --------
    >>> row_figsize([(5, 5), (3, 3)])
    (6.4, 3.8)
    """
    width = cell * sum(shape[1] for shape in shapes) + 1.2 * len(shapes)
    height = cell * max(shape[0] for shape in shapes) + 1.3
    return (width, height)


def _left_margin_points(ax):
    """Roughly how far (in points) the tick labels and y label stick out left of ``ax``."""
    labels = [label.get_text() for label in ax.get_yticklabels()]
    margin = 8 + 6 * max((len(text) for text in labels), default=0)
    if ax.get_ylabel():
        margin += 20
    return margin


def _operator_between(right_ax, symbol, arrow=False):
    """Write ``symbol`` (or an arrow labelled with it) just left of ``right_ax``'s labels.

    Called after ``right_ax`` is drawn, so its labels are known; ``tight_layout`` then keeps
    the symbol clear of both neighbours.
    """
    offset = -_left_margin_points(right_ax)
    # DejaVu's ⋆ (U+22C6) is drawn small, so the correlation star gets a larger font than * or =.
    text, size = (f"{symbol}\n⟶", 11) if arrow else (symbol, 30 if symbol == "⋆" else 18)
    right_ax.annotate(
        text,
        xy=(0, 0.5),
        xycoords="axes fraction",
        xytext=(offset, 0),
        textcoords="offset points",
        ha="right",
        va="center",
        fontsize=size,
        multialignment="center",
        annotation_clip=False,
    )


def draw_image_kernel_map(
    image,
    kernel,
    feature_map,
    axes=None,
    *,
    window=None,
    stride=1,
    padding=0,
    window_shape=None,
    titles=None,
    operator="⋆",
    color=WINDOW_COLORS[0],
):
    """Draw *image ⋆ kernel = feature map* side by side, with one window highlighted (lessons 02, 04).

    Parameters
    ----------
    image : array_like, shape (H, W)
        The input, already padded if ``padding`` > 0 (the padding border is shaded).
    kernel : array_like, shape (KH, KW), or None
        ``None`` draws only *input → output*, e.g. for pooling (lesson 06); then give
        ``window_shape``.
    feature_map : array_like, shape (OH, OW)
        The output; ``NaN`` entries stay blank.
    axes : sequence of 3 (or 2 without a kernel) Axes, optional
        Default: a new figure, one row.
    window : (int, int), optional
        Output position ``(r, c)``: frames the input window that produces it, at rows
        ``r*s_h ... r*s_h + KH - 1`` and columns ``c*s_w ... c*s_w + KW - 1`` of ``image``, and
        the output cell itself, in the same colour.
    stride : int or (int, int), default 1
    padding : int or (int, int), default 0
        How much of ``image``'s border is zero padding (drawn shaded).
    window_shape : (int, int), optional
        Window size; default ``kernel.shape``.
    titles : sequence of str, optional
        Panel titles; default ``("image", "kernel", "feature map")`` or ``("input", "output")``.
    operator : str, default "⋆"
        Written between image and kernel ("=" goes before the map): ``"⋆"`` for
        cross-correlation (what sliding the kernel as it is computes), ``"*"`` for a true
        convolution. Without a kernel it is written above the arrow between input and output,
        e.g. ``"max pool"``.
    color : colour
        Colour of the window frames.

    Returns
    -------
    list of matplotlib Axes
        ``[image_ax, kernel_ax, map_ax]``, or ``[input_ax, output_ax]`` without a kernel.

    Raises
    ------
    ValueError
        If the number of axes does not match, no window size is known, or the window falls
        outside the image or the map.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> axes = draw_image_kernel_map(np.eye(3), np.ones((2, 2)), [[2, 1], [1, 2]], window=(0, 1))
    >>> [ax.get_title() for ax in axes]
    ['image', 'kernel', 'feature map']
    """
    image = as_array("image", image, ndim=2)
    feature_map = as_array("feature_map", feature_map, ndim=2)
    if kernel is not None:
        kernel = as_array("kernel", kernel, ndim=2)
        shape = kernel.shape if window_shape is None else as_pair("window_shape", window_shape, minimum=1)
    elif window_shape is None and window is not None:
        raise ValueError("window_shape is needed to highlight a window when kernel is None")
    else:
        shape = None if window_shape is None else as_pair("window_shape", window_shape, minimum=1)
    stride = as_pair("stride", stride, minimum=1)
    panels = 3 if kernel is not None else 2
    if axes is None:
        import matplotlib.pyplot as plt

        shapes = (
            [image.shape, feature_map.shape]
            if kernel is None
            else [image.shape, kernel.shape, feature_map.shape]
        )
        _, axes = plt.subplots(
            1,
            panels,
            figsize=row_figsize(shapes),
            gridspec_kw={"width_ratios": [shape[1] for shape in shapes]},
        )
    axes = list(np.ravel(axes))
    if len(axes) != panels:
        raise ValueError(f"axes must hold {panels} Axes, got {len(axes)}")
    if titles is None:
        titles = ("image", "kernel", "feature map") if kernel is not None else ("input", "output")
    draw_matrix(image, axes[0], title=titles[0], padding=padding)
    if kernel is not None:
        draw_matrix(kernel, axes[1], title=titles[1])
    draw_matrix(feature_map, axes[-1], title=titles[-1])
    if kernel is not None:
        _operator_between(axes[1], operator)
        _operator_between(axes[2], "=")
    else:
        _operator_between(axes[1], operator, arrow=True)
    if window is not None:
        row, col = (as_int("window[0]", window[0], minimum=0), as_int("window[1]", window[1], minimum=0))
        if row >= feature_map.shape[0] or col >= feature_map.shape[1]:
            raise ValueError(
                f"window {tuple(window)} is outside the feature map of shape {feature_map.shape}"
            )
        top, left = row * stride[0], col * stride[1]
        if top + shape[0] > image.shape[0] or left + shape[1] > image.shape[1]:
            raise ValueError(
                f"the window at output {tuple(window)} (rows {top}..{top + shape[0] - 1}, columns "
                f"{left}..{left + shape[1] - 1}) does not fit in the image of shape {image.shape}"
            )
        highlight_window(axes[0], top, left, shape[0], shape[1], color=color)
        highlight_window(axes[-1], row, col, 1, 1, color=color)
    return axes


def _window_and_products(image, kernel, row, col):
    kernel_h, kernel_w = kernel.shape
    window = image[row : row + kernel_h, col : col + kernel_w]
    return window, window * kernel


def draw_multiply_and_sum(
    image, kernel, row, col, feature_map=None, axes=None, *, kernel_title="kernel", color=WINDOW_COLORS[0]
):
    """Draw one step of a (valid, stride 1) correlation: window, kernel, products, map (lesson 04).

    Four panels: the image with the window at ``(row, col)`` framed; the kernel; the
    elementwise products of window and kernel, titled with their sum; the feature map so far
    with the current cell framed.

    Parameters
    ----------
    image : array_like, shape (H, W)
    kernel : array_like, shape (KH, KW)
        The kernel as it is multiplied (already flipped, for a true convolution).
    row, col : int
        Output position; the window's top-left pixel is ``image[row, col]``.
    feature_map : array_like, shape (H - KH + 1, W - KW + 1), optional
        The map so far (``NaN`` = not computed yet). Default: only the current value filled in.
    axes : sequence of 4 Axes, optional
        Default: a new figure, one row.
    kernel_title : str, default "kernel"
    color : colour

    Returns
    -------
    list of 4 matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> axes = draw_multiply_and_sum(np.ones((3, 3)), np.eye(2), 1, 0)
    >>> axes[2].get_title()
    'products, sum = 2'
    """
    image = as_array("image", image, ndim=2)
    kernel = as_array("kernel", kernel, ndim=2)
    out_h, out_w = image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(f"kernel of shape {kernel.shape} does not fit in the image of shape {image.shape}")
    row, col = as_int("row", row, minimum=0), as_int("col", col, minimum=0)
    if row >= out_h or col >= out_w:
        raise ValueError(f"position ({row}, {col}) is outside the {out_h}x{out_w} feature map")
    _window, products = _window_and_products(image, kernel, row, col)
    value = float(products.sum())
    if feature_map is None:
        feature_map = np.full((out_h, out_w), np.nan)
        feature_map[row, col] = value
    feature_map = as_array("feature_map", feature_map, ndim=2)
    if feature_map.shape != (out_h, out_w):
        raise ValueError(f"feature_map must have shape {(out_h, out_w)}, got shape {feature_map.shape}")
    if axes is None:
        import matplotlib.pyplot as plt

        shapes = [image.shape, kernel.shape, kernel.shape, (out_h, out_w)]
        _, axes = plt.subplots(
            1, 4, figsize=row_figsize(shapes), gridspec_kw={"width_ratios": [shape[1] for shape in shapes]}
        )
    axes = list(np.ravel(axes))
    if len(axes) != 4:
        raise ValueError(f"axes must hold 4 Axes, got {len(axes)}")
    draw_matrix(image, axes[0], title=f"image, window at ({row}, {col})")
    highlight_window(axes[0], row, col, kernel.shape[0], kernel.shape[1], color=color)
    draw_matrix(kernel, axes[1], title=kernel_title)
    products_text = _auto_format(np.array([value]))(value)
    draw_matrix(products, axes[2], title=f"products, sum = {products_text}")
    highlight_window(axes[2], 0, 0, kernel.shape[0], kernel.shape[1], color=color)
    draw_matrix(feature_map, axes[3], title="feature map so far")
    highlight_window(axes[3], row, col, 1, 1, color=color)
    _operator_between(axes[1], "×")
    _operator_between(axes[2], "=")
    _operator_between(axes[3], "sum", arrow=True)
    return axes


def draw_multiply_and_sum_steps(image, kernel, axes=None, *, color=WINDOW_COLORS[0]):
    """Draw every step of a valid, stride-1 correlation in one figure (lesson 02).

    One pair of panels per output position, laid out like the feature map: the image with that
    step's window framed, and the window's elementwise products with the kernel, titled with
    their sum (the feature-map value).

    Parameters
    ----------
    image : array_like, shape (H, W)
    kernel : array_like, shape (KH, KW)
        As multiplied (flip it first for a true convolution).
    axes : array of Axes, shape (OH, 2 * OW), optional
        Default: a new figure.
    color : colour

    Returns
    -------
    ndarray of Axes, shape (OH, 2 * OW)

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> draw_multiply_and_sum_steps(np.ones((3, 4)), np.ones((2, 2))).shape
    (2, 6)
    """
    from ..conv import correlation_steps  # the math; this function only draws it

    steps = correlation_steps(image, kernel)
    image = as_array("image", image, ndim=2)
    kernel = as_array("kernel", kernel, ndim=2)
    out_h, out_w = steps[-1].feature_map.shape
    if axes is None:
        import matplotlib.pyplot as plt

        ratios = [image.shape[1], kernel.shape[1]] * out_w
        _, axes = plt.subplots(
            out_h, 2 * out_w, figsize=(2.3 * out_w * 2, 2.5 * out_h), gridspec_kw={"width_ratios": ratios}
        )
    axes = np.asarray(axes, dtype=object).reshape(out_h, -1)
    if axes.shape != (out_h, 2 * out_w):
        raise ValueError(f"axes must have shape {(out_h, 2 * out_w)}, got {axes.shape}")
    for one in steps:
        step, (row, col), products, value = one.step, one.position, one.products, one.value
        image_ax, products_ax = axes[row, 2 * col], axes[row, 2 * col + 1]
        draw_matrix(
            image, image_ax, title=f"step {step}: window at ({row}, {col})", xlabel="", ylabel="", fontsize=8
        )
        highlight_window(image_ax, row, col, kernel.shape[0], kernel.shape[1], color=color)
        draw_matrix(
            products,
            products_ax,
            title=f"products, sum = {_auto_format(np.array([value]))(value)}",
            xlabel="",
            ylabel="",
            fontsize=8,
        )
        image_ax.title.set_fontsize(9)
        products_ax.title.set_fontsize(9)
    return axes
