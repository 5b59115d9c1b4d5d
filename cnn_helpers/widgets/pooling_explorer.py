"""Explore pooling: pick the window size, the stride and max / average / sum (lesson 06).

``explore_pooling`` is the plain computation: the pooled map, the window behind one output
and the numbers that say how much smaller the map became. ``PoolingExplorer`` wraps it in
controls and shows the figure of ``cnn_helpers.plotting.plot_pooling`` as a PNG image.

In a notebook::

    from cnn_helpers.widgets import PoolingExplorer
    PoolingExplorer()             # the lecture's padded 5x5 sharpen feature map

Setting ``explorer.size_slider.value = 3`` (or ``stride_slider``, ``mode_dropdown``,
``row_slider``, ``col_slider``) updates ``explorer.result``, a :class:`PoolingResult`, and the
PNG bytes in ``explorer.image.value``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import pooling
from .._validation import as_array, as_choice, as_int
from ._figure import new_figure, png_bytes

__all__ = ["MODES", "PoolingResult", "explore_pooling", "PoolingExplorer"]

#: The pooling modes, with the function that computes each.
MODES = pooling.POOL_FUNCTIONS
_MODE_LABELS = (("max", "max"), ("average", "avg"), ("sum", "sum"))


@dataclass(frozen=True)
class PoolingResult:
    """Pooling of one map with one setting, and the window behind one output.

    Attributes
    ----------
    mode : str
        ``"max"``, ``"avg"`` or ``"sum"``.
    size, stride : int
    output : ndarray, shape (OH, OW)
        The pooled map, ``OH = output_size(H, size, stride=stride)`` (same for ``OW``).
    position : (int, int)
        The output position whose window is shown.
    window : ndarray, shape (size, size)
        The input values under that window.
    value : float
        ``output[position]``.
    input_values, output_values : int
        ``H * W`` and ``OH * OW``: how many numbers go in and come out.
    unused : int
        Input pixels that no window covers (the right and bottom edges that do not fill a
        window, or the gaps when the stride is larger than the window).
    """

    mode: str
    size: int
    stride: int
    output: np.ndarray
    position: tuple
    window: np.ndarray
    value: float
    input_values: int
    output_values: int
    unused: int


def explore_pooling(feature_map, size=2, *, stride=None, mode="max", position=(0, 0)):
    """Pool ``feature_map`` and describe the window behind output ``position``.

    Parameters
    ----------
    feature_map : array_like, shape (H, W)
    size : int
        Window height and width.
    stride : int, optional
        Defaults to ``size``.
    mode : {"max", "avg", "sum"}
    position : (int, int)
        Output row and column; clipped to the pooled map, so a position that no longer exists
        after the map shrank shows its last row or column.

    Returns
    -------
    PoolingResult

    Raises
    ------
    ValueError
        Unknown mode, a window larger than the map, or ``size`` / ``stride`` below 1.

    Examples
    --------
    >>> result = explore_pooling([[1, 2, 5, 0], [3, 4, 1, 1]], size=2, mode="max", position=(0, 1))
    >>> result.output, result.value, result.window.tolist()
    (array([[4., 5.]]), 5.0, [[5.0, 0.0], [1.0, 1.0]])
    """
    feature_map = as_array("feature_map", feature_map, ndim=2).astype(float)
    mode = as_choice("mode", mode, MODES)
    size = as_int("size", size, minimum=1)
    stride = size if stride is None else as_int("stride", stride, minimum=1)
    output = pooling.pool(feature_map, size, stride=stride, mode=mode)
    out_h, out_w = output.shape
    row = min(as_int("position[0]", position[0], minimum=0), out_h - 1)
    col = min(as_int("position[1]", position[1], minimum=0), out_w - 1)
    top, left = row * stride, col * stride
    covered = np.zeros(feature_map.shape, dtype=bool)
    for r, c in np.ndindex(out_h, out_w):
        covered[r * stride : r * stride + size, c * stride : c * stride + size] = True
    return PoolingResult(
        mode=mode,
        size=size,
        stride=stride,
        output=output,
        position=(row, col),
        window=feature_map[top : top + size, left : left + size].copy(),
        value=float(output[row, col]),
        input_values=feature_map.size,
        output_values=output.size,
        unused=int((~covered).sum()),
    )


class PoolingExplorer:
    """Widget: pool a feature map with a window size, stride and mode of your choice (lesson 06).

    Parameters
    ----------
    feature_map : array_like, shape (H, W), optional
        Default: the lecture's 5x5 image through the sharpen kernel with padding 1.
    size : int, default 2
    stride : int, default 2
    mode : {"max", "avg", "sum"}, default "max"
    dpi : int, default 80
        Resolution of the rendered figure.

    Attributes
    ----------
    result : PoolingResult
        The pooling on display; updated whenever a control changes.
    size_slider, stride_slider, mode_dropdown, row_slider, col_slider
        The controls (set ``.value`` in tests). The row and column sliders pick the output
        whose window is framed in thick black; their range follows the pooled map's size.
    summary : ipywidgets.HTML
        What the black-framed window holds, and how many numbers go in and come out.
    image : ipywidgets.Image
        The figure as PNG bytes (``image.value``).
    widget : ipywidgets.VBox
        The whole widget, CSS class ``cnn-pooling-explorer``; displaying the object shows it.
    """

    def __init__(self, feature_map=None, size=2, stride=2, mode="max", dpi=80):
        import ipywidgets

        if feature_map is None:
            from ..conv import correlate2d
            from ..data import lecture_example

            example = lecture_example()
            feature_map = correlate2d(example.image, example.sharpen, padding=1)
        self.feature_map = as_array("feature_map", feature_map, ndim=2).astype(float)
        self.dpi = as_int("dpi", dpi, minimum=10)
        first = explore_pooling(self.feature_map, size, stride=stride, mode=mode)  # validates the settings
        largest = min(self.feature_map.shape)

        self.size_slider = ipywidgets.IntSlider(
            value=first.size,
            min=1,
            max=largest,
            description="window size",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        self.stride_slider = ipywidgets.IntSlider(
            value=first.stride,
            min=1,
            max=max(self.feature_map.shape),
            description="stride",
            continuous_update=False,
        )
        self.mode_dropdown = ipywidgets.Dropdown(
            options=_MODE_LABELS,
            value=first.mode,
            description="pooling",
        )
        out_h, out_w = first.output.shape
        self.row_slider = ipywidgets.IntSlider(
            value=0,
            min=0,
            max=out_h - 1,
            description="output row",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        self.col_slider = ipywidgets.IntSlider(
            value=0,
            min=0,
            max=out_w - 1,
            description="output column",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        self.summary = ipywidgets.HTML()
        self.image = ipywidgets.Image(format="png")
        self.widget = ipywidgets.VBox(
            [
                ipywidgets.HBox([self.size_slider, self.stride_slider, self.mode_dropdown]),
                ipywidgets.HBox([self.row_slider, self.col_slider]),
                self.summary,
                self.image,
            ]
        )
        self.widget.add_class("cnn-pooling-explorer")

        self.result = None
        self._updating = False
        for control in (
            self.size_slider,
            self.stride_slider,
            self.mode_dropdown,
            self.row_slider,
            self.col_slider,
        ):
            control.observe(self._on_change, names="value")
        self.update()

    def _on_change(self, _change):
        if not self._updating:  # the row/column ranges change inside update(); redraw once
            self.update()

    def update(self):
        """Recompute ``result`` from the controls, adjust the row/column ranges, redraw."""
        self._updating = True
        try:
            size, stride = self.size_slider.value, self.stride_slider.value
            out_h = (self.feature_map.shape[0] - size) // stride + 1
            out_w = (self.feature_map.shape[1] - size) // stride + 1
            for slider, top in ((self.row_slider, out_h - 1), (self.col_slider, out_w - 1)):
                slider.value = min(slider.value, top)  # before max, so the value always fits
                slider.max = top
            self.result = explore_pooling(
                self.feature_map,
                size,
                stride=stride,
                mode=self.mode_dropdown.value,
                position=(self.row_slider.value, self.col_slider.value),
            )
        finally:
            self._updating = False
        self.summary.value = self._summary_html(self.result)
        self.image.value = self.render_png()
        return self.result

    @staticmethod
    def _summary_html(result):
        row, col = result.position
        top, left = row * result.stride, col * result.stride
        numbers = ", ".join(f"{v:g}" for v in result.window.ravel())
        how = {"max": "largest of", "avg": "mean of", "sum": "sum of"}[result.mode]
        unused = f"; {result.unused} input values fall in no window and are dropped" if result.unused else ""
        return (
            f"<b>Output [{row}, {col}]</b> = {how} rows {top}–{top + result.size - 1}, columns "
            f"{left}–{left + result.size - 1} ({numbers}) = <b>{result.value:g}</b>. "
            f"{result.input_values} values in, {result.output_values} out{unused}."
        )

    def render_png(self):
        """Draw ``result`` with ``plot_pooling`` and return the PNG bytes."""
        from ..plotting.grids import row_figsize
        from ..plotting.pooling_plots import plot_pooling

        result = self.result
        small = max(self.feature_map.shape) <= 12
        shapes = [self.feature_map.shape, result.output.shape]
        figure = new_figure(row_figsize(shapes, cell=0.5 if small else 0.12))
        axes = figure.subplots(1, 2, gridspec_kw={"width_ratios": [max(shape[1], 2) for shape in shapes]})
        plot_pooling(
            self.feature_map,
            result.size,
            stride=result.stride,
            mode=result.mode,
            axes=axes,
            window=result.position,
        )
        return png_bytes(figure, self.dpi)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
