"""The padding and stride explorer of lesson 04: where the windows go, and how big the output is.

The math is ``cnn_helpers.conv.padding_layout(input_size, kernel_size, padding=(p_h, p_w),
stride=s)``: the padded size, every window position and the output shape, or in words why there is
no output. ``describe_layout`` puts a layout into words, ``render_layout`` draws it with
``plotting.draw_padding_layout``, and ``PaddingExplorer`` wraps them in sliders; its last result is
kept on ``.result``.
"""

from __future__ import annotations

from ..conv import padding_layout
from ._figure import new_figure, png_bytes

__all__ = ["describe_layout", "render_layout", "PaddingExplorer"]


def describe_layout(layout):
    """One or two sentences about a layout, with the formula worked out for both axes.

    Examples
    --------
    >>> from cnn_helpers.conv import padding_layout
    >>> print(describe_layout(padding_layout(5, 3, padding=(1, 0), stride=1)))
    Output 5 × 3: rows floor((5 + 2·1 − 3) / 1) + 1 = 5, columns floor((5 + 2·0 − 3) / 1) + 1 = 3.
    """
    if layout.output_shape is None:
        return layout.reason
    n, k, s = layout.input_shape[0], layout.kernel_size, layout.stride
    (p_h, p_w), (out_h, out_w) = layout.padding, layout.output_shape
    text = (
        f"Output {out_h} × {out_w}: rows floor(({n} + 2·{p_h} − {k}) / {s}) + 1 = {out_h}, "
        f"columns floor(({n} + 2·{p_w} − {k}) / {s}) + 1 = {out_w}."
    )
    unused_rows, unused_cols = layout.unused
    if unused_rows or unused_cols:
        text += (
            f" The stride never reaches the last {unused_rows} row(s) and {unused_cols} column(s) "
            "of the padded input: the floor drops a window that would stick out."
        )
    return text


def render_layout(layout, dpi=80):
    """The explorer's figure for ``layout`` as PNG bytes (no pyplot, so nothing leaks into a notebook)."""
    from ..plotting.padding_plots import draw_padding_layout

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
            return widgets.IntSlider(
                value=value,
                min=low,
                max=high,
                description=description,
                style=style,
                layout=layout,
                continuous_update=False,
            )

        self.input_size = slider(input_size, 1, 12, "input size n")
        self.kernel_size = slider(kernel_size, 1, 7, "kernel size k")
        self.p_h = slider(p_h, 0, 3, "padding p_h (rows)")
        self.p_w = slider(p_w, 0, 3, "padding p_w (cols)")
        self.stride = slider(stride, 1, 4, "stride s")
        self.summary = widgets.HTML()
        self.figure = widgets.Image(format="png")
        controls = widgets.VBox(
            [self.input_size, self.kernel_size, self.p_h, self.p_w, self.stride, self.summary]
        )
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
        self.result = padding_layout(
            self.input_size.value,
            self.kernel_size.value,
            padding=(self.p_h.value, self.p_w.value),
            stride=self.stride.value,
        )
        self.summary.value = describe_layout(self.result)
        self.figure.value = render_layout(self.result)
        return self.result

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
