"""Figures for lesson 05 (convolution layers): a layer's activation as a stack of feature maps.

- ``plot_stack`` draws a ``(C, H, W)`` activation as a deck of maps seen at an angle, so the
  third axis (depth: one map per kernel) is visible;
- ``plot_maps`` draws the same maps side by side, each with its own title;
- ``plot_vector`` draws a dense layer's activation, a 1-D vector, as one strip of cells.

Each map is scaled on its own (2nd to 98th percentile to black..white), because the filters'
outputs live on very different scales. Every helper takes an optional ``ax`` (or ``axes``) and
returns what it drew on.
"""

from __future__ import annotations

import numpy as np

from cnn_helpers._validation import as_array

__all__ = ["plot_stack", "plot_maps", "plot_vector", "scale_map"]


def scale_map(feature_map, low=2, high=98):
    """Rescale one map to [0, 1] between its ``low`` and ``high`` percentiles (for display).

    Parameters
    ----------
    feature_map : array_like, shape (H, W)
    low, high : float
        Percentiles mapped to 0 and 1; values outside are clipped.

    Returns
    -------
    ndarray, shape (H, W), values in [0, 1]; all zeros for a constant map.

    Examples
    --------
    >>> scale_map([[0, 5], [10, 10]], low=0, high=100)
    array([[0. , 0.5],
           [1. , 1. ]])
    """
    feature_map = as_array("feature_map", feature_map, ndim=2)
    bottom, top = np.percentile(feature_map, [low, high])
    if top <= bottom:
        return np.zeros(feature_map.shape)
    return np.clip((feature_map - bottom) / (top - bottom), 0, 1)


def _new_axes(ax, figsize):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def plot_stack(stack, ax=None, labels=None, title=None, cmap="gray", depth_step=0.3, skew=0.45):
    """Draw a ``(C, H, W)`` activation as a deck of ``C`` maps, the first map in front (lesson 05).

    Each map is drawn as a parallelogram (a picture seen at an angle); map ``k`` sits
    ``k * depth_step`` map-widths behind map 0, so the depth axis reads left to right.

    Parameters
    ----------
    stack : array_like, shape (C, H, W)
    ax : matplotlib Axes, optional
    labels : sequence of str, optional
        One label per map, written above its top edge.
    title : str, optional
        Defaults to the stack's shape.
    cmap : str
    depth_step : float
        Horizontal distance between maps, as a fraction of a map's width.
    skew : float
        How far the top edge of a map leans right, as a fraction of its width.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_stack(np.zeros((3, 4, 5)), labels=["red", "green", "blue"])
    >>> len(ax.images), ax.get_title()
    (3, '3 maps of 4×5, shape (3, 4, 5)')
    """
    import matplotlib.transforms as transforms
    from matplotlib.patches import Polygon

    stack = as_array("stack", stack, ndim=3)
    channels, height, width = stack.shape
    if labels is not None and len(labels) != channels:
        raise ValueError(f"labels must have one entry per map ({channels}), got {len(labels)}")
    ax = _new_axes(ax, (7, 4))
    # Map coordinates: (x, y) with y up; the picture's row 0 is at the top, y = height.
    lean = skew * width / height  # x shift per unit of y
    squash = 0.6  # a map seen at an angle looks shorter
    step = depth_step * width
    for k in reversed(range(channels)):  # back to front, so map 0 ends up on top
        shift_x, shift_y = k * step, k * 0.12 * height
        to_screen = transforms.Affine2D().scale(1, squash) + transforms.Affine2D(
            np.array([[1, lean, shift_x], [0, 1, shift_y], [0, 0, 1]])
        )
        image = ax.imshow(
            scale_map(stack[k]),
            cmap=cmap,
            vmin=0,
            vmax=1,
            extent=(0, width, 0, height),
            interpolation="nearest",
            zorder=2 * (channels - k),
        )
        image.set_transform(to_screen + ax.transData)
        corners = to_screen.transform([(0, 0), (width, 0), (width, height), (0, height)])
        ax.add_patch(
            Polygon(
                corners,
                closed=True,
                fill=False,
                edgecolor="tab:blue",
                linewidth=1,
                zorder=2 * (channels - k) + 1,
            )
        )
        if labels is not None:  # under the bottom-right corner, the part of a map always in view
            ax.text(
                corners[1][0] - 0.02 * width,
                corners[1][1] - 0.03 * height,
                labels[k],
                ha="left",
                va="top",
                fontsize=7,
                rotation=-35,
                rotation_mode="anchor",
                zorder=3 * channels,
            )
    far = (channels - 1) * step
    ax.set_xlim(-0.05 * width, far + width * (1 + skew * squash) + 0.05 * width)
    bottom = -0.32 * height if labels is not None else -0.05 * height
    ax.set_ylim(bottom, (channels - 1) * 0.12 * height + squash * height * 1.05)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title if title is not None else f"{channels} maps of {height}×{width}, shape {stack.shape}")
    return ax


def plot_maps(stack, axes=None, titles=None, suptitle=None, cmap="gray", ncols=None):
    """Draw each map of a ``(C, H, W)`` stack in its own panel, ticks removed (lesson 05).

    Parameters
    ----------
    stack : array_like, shape (C, H, W)
    axes : sequence of matplotlib Axes, optional
        At least ``C`` of them; by default a new figure with one row (or ``ncols`` per row).
    titles : sequence of str, optional
        Defaults to "map 0", "map 1", ...
    suptitle : str, optional
        A title for the whole figure.
    cmap : str
    ncols : int, optional

    Returns
    -------
    ndarray of matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> [ax.get_title() for ax in plot_maps(np.zeros((2, 3, 3)), titles=["edges", "blobs"])]
    ['edges', 'blobs']
    """
    stack = as_array("stack", stack, ndim=3)
    channels = stack.shape[0]
    titles = [f"map {k}" for k in range(channels)] if titles is None else list(titles)
    if len(titles) != channels:
        raise ValueError(f"titles must have one entry per map ({channels}), got {len(titles)}")
    if axes is None:
        import matplotlib.pyplot as plt

        ncols = min(channels, 8) if ncols is None else ncols
        nrows = -(-channels // ncols)
        _fig, axes = plt.subplots(nrows, ncols, figsize=(1.9 * ncols, 2.1 * nrows), squeeze=False)
        for ax in axes.ravel()[channels:]:
            ax.set_visible(False)
    axes = np.asarray(axes, dtype=object).ravel()
    if len(axes) < channels:
        raise ValueError(f"axes must hold at least {channels} axes, one per map, got {len(axes)}")
    for k in range(channels):
        axes[k].imshow(scale_map(stack[k]), cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        axes[k].set_title(titles[k], fontsize=9)
        axes[k].set_xticks([])
        axes[k].set_yticks([])
    if suptitle:
        axes[0].figure.suptitle(suptitle)
    return axes[:channels]


def plot_vector(vector, ax=None, title=None, cmap="viridis"):
    """Draw a 1-D activation as a row of cells, one per neuron, with its value (lesson 05).

    Parameters
    ----------
    vector : array_like, shape (n,)
    ax : matplotlib Axes, optional
    title : str, optional
    cmap : str

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> [text.get_text() for text in plot_vector(np.array([0.0, 1.5, 2.0])).texts]
    ['0.0', '1.5', '2.0']
    """
    vector = as_array("vector", vector, ndim=1)
    ax = _new_axes(ax, (7, 1.2))
    import matplotlib
    from matplotlib.colors import Normalize

    norm = Normalize(
        vmin=float(vector.min()),
        vmax=float(vector.max()) if vector.max() > vector.min() else float(vector.min()) + 1,
    )
    colormap = matplotlib.colormaps[cmap]
    ax.imshow(vector[None, :], cmap=colormap, norm=norm, aspect="equal")
    if vector.size <= 24:
        for i, value in enumerate(vector):
            red, green, blue, _ = colormap(norm(value))
            light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
            ax.text(
                i,
                0,
                f"{value:.1f}",
                ha="center",
                va="center",
                fontsize=7,
                color="black" if light else "white",
            )
    ax.set_yticks([])
    ax.set_xticks(range(vector.size))
    ax.tick_params(labelsize=7)
    ax.set_xlabel("neuron")
    ax.set_title(title if title is not None else f"activation of shape {vector.shape}: one number per neuron")
    return ax
