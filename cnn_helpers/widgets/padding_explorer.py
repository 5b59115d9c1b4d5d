"""The padding and stride explorer of lesson 04: where the windows go, and how big the output is.

``padding_layout(input_size, kernel_size, p_h, p_w, stride)`` is the plain function: it works out
the padded size, every window position and the output shape with ``cnn_helpers.conv.output_size``,
or says in words why there is no output. ``PaddingExplorer`` wraps it in sliders and draws it with
``plotting.padding.draw_padding_layout`` as a PNG; its last result is kept on ``.result``.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from ..conv import output_size
from .._validation import as_int
from ._figure import new_figure, png_bytes

__all__ = ["PaddingLayout", "padding_layout", "describe_layout", "render_layout", "PaddingExplorer"]


class PaddingLayout(NamedTuple):
    """One setting of the padding explorer and what it gives.

    Attributes
    ----------
    input_shape : (int, int)
        The square input, ``(n, n)``.
    kernel_size : int
        The square kernel's side ``k``.
    padding : (int, int)
        ``(p_h, p_w)``: zero rows added at the top and at the bottom, zero columns on the left
        and on the right.
    stride : int
    padded_shape : (int, int)
        ``(n + 2 p_h, n + 2 p_w)``.
    output_shape : (int, int) or None
        ``(floor((n + 2 p_h - k) / s) + 1, floor((n + 2 p_w - k) / s) + 1)``; None when the
        kernel does not fit.
    windows : list of (int, int)
        Top-left corner (row, column) in the padded input of every window, in reading order.
    reason : str or None
        Why there is no output, in words; None when there is one.
    unused : (int, int)
        Rows at the bottom and columns on the right of the padded input that no window reaches
        (the stride does not land exactly on the end).
    """

    input_shape: tuple
    kernel_size: int
    padding: tuple
    stride: int
    padded_shape: tuple
    output_shape: Optional[tuple]
    windows: list
    reason: Optional[str]
    unused: tuple


def _no_output_reason(n, kernel_size, p_h, p_w):
    parts = []
    for axis, p, unit in (("tall", p_h, "rows"), ("wide", p_w, "columns")):
        padded = n + 2 * p
        if kernel_size > padded:
            parts.append(
                f"the kernel is {kernel_size} {unit} {axis} but the padded input is only {padded} "
                f"{unit} {axis} ({n} plus {p} {unit} of zeros on each side)"
            )
    return ("No output: " + " and ".join(parts)
            + ", so the kernel fits nowhere. Add padding or use a smaller kernel.")


def padding_layout(input_size, kernel_size, p_h=0, p_w=0, stride=1):
    """Padded size, window positions and output shape of one setting (lesson 04).

    Parameters
    ----------
    input_size : int
        Side ``n`` of the square input, at least 1.
    kernel_size : int
        Side ``k`` of the square kernel, at least 1.
    p_h, p_w : int, default 0
        Zero rows added at the top and at the bottom; zero columns on the left and on the right.
    stride : int, default 1
        Step ``s`` between windows, in both directions.

    Returns
    -------
    PaddingLayout
        With ``output_shape`` None and ``reason`` set when the kernel is larger than the padded
        input.

    Raises
    ------
    TypeError, ValueError
        If an argument is not an integer or is out of range (sizes and stride at least 1,
        padding at least 0).

    Examples
    --------
    The lecture's 5x5 image, 3x3 kernel, padding 1 and stride 2:

    >>> layout = padding_layout(5, 3, p_h=1, p_w=1, stride=2)
    >>> layout.padded_shape, layout.output_shape, layout.windows[:3]
    ((7, 7), (3, 3), [(0, 0), (0, 2), (0, 4)])
    >>> padding_layout(2, 5, p_h=1, p_w=1).output_shape is None
    True
    """
    n = as_int("input_size", input_size, minimum=1)
    k = as_int("kernel_size", kernel_size, minimum=1)
    p_h = as_int("p_h", p_h, minimum=0)
    p_w = as_int("p_w", p_w, minimum=0)
    s = as_int("stride", stride, minimum=1)
    padded_shape = (n + 2 * p_h, n + 2 * p_w)
    if k > min(padded_shape):
        return PaddingLayout((n, n), k, (p_h, p_w), s, padded_shape, None, [],
                             _no_output_reason(n, k, p_h, p_w), (0, 0))
    out_h, out_w = output_size(n, k, p_h, s), output_size(n, k, p_w, s)
    windows = [(row * s, col * s) for row in range(out_h) for col in range(out_w)]
    unused = (padded_shape[0] - ((out_h - 1) * s + k), padded_shape[1] - ((out_w - 1) * s + k))
    return PaddingLayout((n, n), k, (p_h, p_w), s, padded_shape, (out_h, out_w), windows, None, unused)


def describe_layout(layout):
    """One or two sentences about a layout, with the formula worked out for both axes.

    Examples
    --------
    >>> print(describe_layout(padding_layout(5, 3, 1, 0, 1)))
    Output 5 × 3: rows floor((5 + 2·1 − 3) / 1) + 1 = 5, columns floor((5 + 2·0 − 3) / 1) + 1 = 3.
    """
    if layout.output_shape is None:
        return layout.reason
    n, k, s = layout.input_shape[0], layout.kernel_size, layout.stride
    (p_h, p_w), (out_h, out_w) = layout.padding, layout.output_shape
    text = (f"Output {out_h} × {out_w}: rows floor(({n} + 2·{p_h} − {k}) / {s}) + 1 = {out_h}, "
            f"columns floor(({n} + 2·{p_w} − {k}) / {s}) + 1 = {out_w}.")
    unused_rows, unused_cols = layout.unused
    if unused_rows or unused_cols:
        text += (f" The stride never reaches the last {unused_rows} row(s) and {unused_cols} column(s) "
                 "of the padded input: the floor drops a window that would stick out.")
    return text


def render_layout(layout, dpi=80):
    """The explorer's figure for ``layout`` as PNG bytes (no pyplot, so nothing leaks into a notebook)."""
    from ..plotting.padding import draw_padding_layout

    figure = new_figure((10, 4.8))
    axes = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    draw_padding_layout(layout, axes)
    return png_bytes(figure, dpi)


class PaddingExplorer:
    """Sliders for input size, kernel size, p_h, p_w and stride; the windows and output drawn (lesson 04).

    Controls: ``input_size``, ``kernel_size``, ``p_h``, ``p_w`` and ``stride`` (``IntSlider``),
    ``summary`` (``HTML``, the formula worked out or the reason for no output) and ``figure``
    (``ipywidgets.Image`` with the PNG). The container ``widget`` has the CSS class
    ``cnn-padding-explorer``.

    Attributes
    ----------
    result : PaddingLayout
        The last computed layout: ``result.output_shape`` or ``result.reason``.

    Examples
    --------
    >>> explorer = PaddingExplorer(input_size=5, kernel_size=3, p_h=1, p_w=1, stride=2)
    >>> explorer.result.output_shape
    (3, 3)
    >>> explorer.kernel_size.value = 7          # exactly as big as the padded input
    >>> explorer.result.output_shape
    (1, 1)
    >>> explorer.input_size.value = 4           # padded to 6 x 6: too small
    >>> print(explorer.result.reason[:44])
    No output: the kernel is 7 rows tall but the
    """

    def __init__(self, input_size=5, kernel_size=3, p_h=1, p_w=1, stride=1):
        import ipywidgets as widgets

        style = {"description_width": "150px"}  # room for "padding p_h (rows)" in full
        layout = widgets.Layout(width="420px")

        def slider(value, low, high, description):
            return widgets.IntSlider(value=value, min=low, max=high, description=description,
                                     style=style, layout=layout, continuous_update=False)

        self.input_size = slider(input_size, 1, 12, "input size n")
        self.kernel_size = slider(kernel_size, 1, 7, "kernel size k")
        self.p_h = slider(p_h, 0, 3, "padding p_h (rows)")
        self.p_w = slider(p_w, 0, 3, "padding p_w (cols)")
        self.stride = slider(stride, 1, 4, "stride s")
        self.summary = widgets.HTML()
        self.figure = widgets.Image(format="png")
        controls = widgets.VBox([self.input_size, self.kernel_size, self.p_h, self.p_w, self.stride, self.summary])
        self.widget = widgets.VBox([controls, self.figure])
        self.widget.add_class("cnn-padding-explorer")
        for control in (self.input_size, self.kernel_size, self.p_h, self.p_w, self.stride):
            control.observe(self._on_change, names="value")
        self.result = None
        self.update()

    def _on_change(self, change):
        self.update()

    def update(self):
        """Recompute ``result`` from the sliders and redraw."""
        self.result = padding_layout(self.input_size.value, self.kernel_size.value, self.p_h.value,
                                     self.p_w.value, self.stride.value)
        self.summary.value = describe_layout(self.result)
        self.figure.value = render_layout(self.result)
        return self.result

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
