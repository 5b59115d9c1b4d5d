"""Figures for lesson 03 (filters): filtered photographs, each next to the kernel that made it.

- ``show_filtered``: one filter output drawn as a picture. Kernels whose entries add up to 0
  (edge detectors) give numbers around 0, drawn with 0 as mid-grey; the others give pictures
  in the image's own range, drawn in it.
- ``draw_kernel_result``: the triple *image, kernel, result* (the kernel playground's figure).
- ``draw_filter_gallery``: several kernels in one figure, each kernel drawn above its result.

Small images (at most 10 pixels a side, such as the lecture's 5x5) are drawn as grids with their
numbers (``plotting.grids.draw_matrix``); larger ones as pictures. Every helper takes an
optional ``ax`` (or ``axes``) and returns what it drew on; matplotlib is imported on use.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_array
from ._axes import new_axes
from .grids import draw_matrix

__all__ = ["SMALL_IMAGE", "show_filtered", "draw_kernel_result", "draw_filter_gallery"]

#: Images with at most this many pixels along each side are drawn as numbered grids.
SMALL_IMAGE = 10


def _sums_to_zero(kernel):
    return kernel is not None and abs(float(np.sum(kernel))) < 1e-9


def _display_range(values, zero_centred):
    """Colour limits: symmetric around 0 for edge responses, else 0..1 (pictures), clipping overshoot.

    Pictures in 0..1 that a filter pushed a little outside (sharpen, emboss) are shown in 0..1, as a
    photo viewer would. Values on another scale (median outside 0..1) get their 1st..99th
    percentile range instead.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    if zero_centred:
        # the 99th percentile, so one extreme pixel does not wash out the rest
        bound = float(np.percentile(np.abs(finite), 99)) or float(np.abs(finite).max()) or 1.0
        return -bound, bound
    if 0 <= float(np.median(finite)) <= 1:
        return 0.0, 1.0
    low, high = (float(v) for v in np.percentile(finite, [1, 99]))
    return low, max(high, low + 1e-9)


def show_filtered(result, ax=None, *, kernel=None, title=None, zero_centred=None, numbers=None):
    """Draw a filter's output as a picture (lesson 03).

    Parameters
    ----------
    result : array_like, shape (H, W) or (H, W, 3)
        A filtered image (grey or colour), or an unfiltered one.
    ax : matplotlib Axes, optional
    kernel : array_like, shape (KH, KW), optional
        The kernel that made ``result``; if its entries add up to 0, the output is an edge
        response around 0 and is drawn with 0 as mid-grey.
    title : str, optional
    zero_centred : bool, optional
        Force (or refuse) the mid-grey-is-zero display. Default: decided from ``kernel``, or,
        without one, True when ``result`` has negative values and its mean is near 0.
    numbers : bool, optional
        Draw a grey grid with each value written in its cell. Default: True when both sides
        are at most ``SMALL_IMAGE`` pixels (grey results only).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = show_filtered(np.zeros((20, 20)), title="flat")
    >>> ax.get_title(), ax.images[0].get_clim()
    ('flat', (0.0, 1.0))
    """
    values = as_array("result", result, ndim=(2, 3)).astype(float)
    if values.ndim == 3 and values.shape[-1] != 3:
        raise ValueError(f"result must be (H, W) or (H, W, 3), got shape {values.shape}")
    if zero_centred is None:
        if kernel is not None:
            zero_centred = _sums_to_zero(np.asarray(kernel, dtype=float))
        else:
            spread = float(np.abs(values).max()) or 1.0
            zero_centred = bool(values.min() < 0 and abs(float(values.mean())) < 0.1 * spread)
    low, high = _display_range(values, zero_centred)
    small = values.ndim == 2 and max(values.shape) <= SMALL_IMAGE
    if numbers is None:
        numbers = small
    ax = new_axes(ax)
    if numbers and values.ndim == 2:
        fmt = None if np.all(values == np.round(values)) else ".1f"
        draw_matrix(values, ax, title=title, cmap="gray", vmin=low, vmax=high, fmt=fmt)
        return ax
    if values.ndim == 3:
        shown = np.clip((values - low) / (high - low), 0, 1)
        ax.imshow(shown, interpolation="nearest")
    else:
        ax.imshow(values, cmap="gray", vmin=low, vmax=high, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return ax


def draw_kernel_result(image, kernel, result, axes=None, *, titles=None):
    """Draw *image*, *kernel* and *result* side by side (lesson 03, the kernel playground).

    Parameters
    ----------
    image : array_like, shape (H, W) or (H, W, 3)
    kernel : array_like, shape (KH, KW)
    result : array_like, shape (OH, OW) or (OH, OW, 3)
        The filtered image.
    axes : sequence of 3 Axes, optional
        Default: a new figure, one row.
    titles : sequence of 3 str, optional
        Default: ``("image", "kernel", "result")``; the result's title says how it is shaded.

    Returns
    -------
    list of 3 matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> axes = draw_kernel_result(np.eye(4), np.ones((3, 3)), np.eye(4))
    >>> [ax.get_title() for ax in axes]
    ['image', 'kernel (entries sum to 9)', 'result']
    """
    kernel = as_array("kernel", kernel, ndim=2)
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 3, figsize=(11, 3.6), gridspec_kw={"width_ratios": [3, 2, 3]})
    axes = list(np.ravel(axes))
    if len(axes) != 3:
        raise ValueError(f"axes must hold 3 Axes, got {len(axes)}")
    total = float(kernel.sum())
    total_text = f"{total:g}" if abs(total) >= 1e-9 else "0"
    titles = titles or (
        "image",
        f"kernel (entries sum to {total_text})",
        "result (0 = mid-grey)" if _sums_to_zero(kernel) else "result",
    )
    show_filtered(image, axes[0], title=titles[0], zero_centred=False)
    fmt = None if np.all(kernel == np.round(kernel)) else ".2f"
    draw_matrix(kernel, axes[1], title=titles[1], fmt=fmt, xlabel="", ylabel="")
    show_filtered(result, axes[2], kernel=kernel, title=titles[2])
    return axes


def draw_filter_gallery(image, kernels, results, axes=None):
    """Several kernels in one figure: each kernel drawn above what it does to ``image`` (lesson 03).

    Parameters
    ----------
    image : array_like, shape (H, W) or (H, W, 3)
        Only used for its shape check; pass the identity kernel to show the original.
    kernels : dict of str to array_like, shape (KH, KW)
        Name (used as the column title) to kernel, in the order to draw them.
    results : dict of str to array_like
        Name to filtered image, with the same keys as ``kernels``.
    axes : array of Axes, shape (2, len(kernels)), optional
        Default: a new figure, kernels in the top row.

    Returns
    -------
    ndarray of Axes, shape (2, len(kernels))

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> axes = draw_filter_gallery(np.ones((12, 12)), {"box": np.ones((3, 3)) / 9},
    ...                            {"box": np.ones((12, 12))})
    >>> axes.shape, axes[0, 0].get_title()
    ((2, 1), 'box')
    """
    image = as_array("image", image, ndim=(2, 3))
    if set(kernels) != set(results):
        raise ValueError(
            f"kernels and results must have the same names, got {list(kernels)} and {list(results)}"
        )
    names = list(kernels)
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(
            2,
            len(names),
            figsize=(2.3 * len(names), 5.2),
            gridspec_kw={"height_ratios": [1, 1.6]},
            squeeze=False,
        )
    axes = np.asarray(axes, dtype=object).reshape(2, -1)
    if axes.shape[1] != len(names):
        raise ValueError(f"axes must have shape (2, {len(names)}), got {axes.shape}")
    for column, name in enumerate(names):
        kernel = as_array(f"kernels[{name!r}]", kernels[name], ndim=2)
        fmt = None if np.all(kernel == np.round(kernel)) else ".2f"
        draw_matrix(kernel, axes[0, column], title=name, fmt=fmt, xlabel="", ylabel="", fontsize=9)
        axes[0, column].set_xticks([])
        axes[0, column].set_yticks([])
        result = as_array(f"results[{name!r}]", results[name], ndim=(2, 3))
        shade = "0 = mid-grey" if _sums_to_zero(kernel) else "shown in 0..1"
        show_filtered(result, axes[1, column], kernel=kernel)
        axes[1, column].set_xlabel(shade, fontsize=9)
    return axes
