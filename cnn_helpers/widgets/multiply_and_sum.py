"""Step through a convolution one window at a time: multiply, then sum (lesson 02).

The math is ``cnn_helpers.conv.correlation_step``: for step ``k`` of a valid, stride-1 sliding
window it returns the window, the elementwise products with the kernel, their sum and the
feature map filled in up to that step. ``MultiplyAndSum`` wraps it in controls (a step slider,
previous/next buttons, a "flip the kernel" checkbox) and shows the figure of
``cnn_helpers.plotting.draw_multiply_and_sum`` as a PNG image.

In a notebook::

    from cnn_helpers.widgets import MultiplyAndSum
    MultiplyAndSum()                      # the lecture's 5x5 image and sharpen kernel

Setting ``widget.step_slider.value = 4`` (or clicking) updates ``widget.result``, a
:class:`cnn_helpers.conv.CorrelationStep`, and the PNG bytes in ``widget.image.value``.
"""

from __future__ import annotations

from .._validation import as_int
from ..conv import _check_steps, correlation_step
from ._figure import new_figure, png_bytes

__all__ = ["MultiplyAndSum"]


def _signed(value):
    text = f"{value:g}" if value != 0 else "0"
    return f"({text})" if value < 0 else text


class MultiplyAndSum:
    """Widget: slide a kernel over an image one step at a time (lesson 02).

    Parameters
    ----------
    image : array_like, shape (H, W), optional
        Default: the lecture's 5x5 binary image.
    kernel : array_like, shape (KH, KW), optional
        Default: the lecture's sharpen kernel.
    flip : bool, default False
        Start with the "flip the kernel first" box ticked.
    step : int, default 1
        The step shown first.
    dpi : int, default 80
        Resolution of the rendered figure.

    Attributes
    ----------
    result : cnn_helpers.conv.CorrelationStep
        The step on display; updated whenever a control changes.
    step_slider, previous_button, next_button, flip_checkbox
        The controls (set ``.value`` or call ``.click()`` in tests).
    summary : ipywidgets.HTML
        One sentence: where the window is and how the products add up.
    image : ipywidgets.Image
        The figure as PNG bytes (``image.value``).
    widget : ipywidgets.VBox
        The whole widget, CSS class ``cnn-multiply-and-sum``; displaying the object shows it.
    """

    def __init__(self, image=None, kernel=None, flip=False, step=1, dpi=80):
        import ipywidgets

        if image is None or kernel is None:
            from ..data import lecture_example

            example = lecture_example()
            image = example.image if image is None else image
            kernel = example.sharpen if kernel is None else kernel
        self.image_array, self.kernel_array = _check_steps(image, kernel)
        self.dpi = as_int("dpi", dpi, minimum=10)
        first = correlation_step(self.image_array, self.kernel_array, step, flip=flip)

        self.step_slider = ipywidgets.IntSlider(
            value=first.step,
            min=1,
            max=first.n_steps,
            description="step",
            continuous_update=False,
            layout=ipywidgets.Layout(width="320px"),
        )
        self.previous_button = ipywidgets.Button(description="◀ previous", tooltip="previous window")
        self.next_button = ipywidgets.Button(description="next ▶", tooltip="next window")
        self.flip_checkbox = ipywidgets.Checkbox(
            value=bool(flip),
            description="flip the kernel first (true convolution)",
            indent=False,
        )
        self.summary = ipywidgets.HTML()
        self.image = ipywidgets.Image(format="png")
        self.widget = ipywidgets.VBox(
            [
                ipywidgets.HBox(
                    [self.previous_button, self.step_slider, self.next_button, self.flip_checkbox]
                ),
                self.summary,
                self.image,
            ]
        )
        self.widget.add_class("cnn-multiply-and-sum")

        self.step_slider.observe(self._on_change, names="value")
        self.flip_checkbox.observe(self._on_change, names="value")
        self.previous_button.on_click(lambda _: self._move(-1))
        self.next_button.on_click(lambda _: self._move(+1))
        self.result = None
        self.update()

    def _move(self, delta):
        slider = self.step_slider
        slider.value = min(max(slider.value + delta, slider.min), slider.max)

    def _on_change(self, _change):
        self.update()

    def update(self):
        """Recompute ``result`` from the controls and redraw the figure and the summary."""
        self.result = correlation_step(
            self.image_array, self.kernel_array, self.step_slider.value, flip=self.flip_checkbox.value
        )
        self.previous_button.disabled = self.result.step == 1
        self.next_button.disabled = self.result.step == self.result.n_steps
        self.summary.value = self._summary_html(self.result)
        self.image.value = self.render_png()
        return self.result

    @staticmethod
    def _summary_html(result):
        row, col = result.position
        kernel_h, kernel_w = result.kernel.shape
        terms = " + ".join(_signed(v) for v in result.products.ravel())
        which = "flipped kernel" if result.flipped else "kernel"
        return (
            f"<b>Step {result.step} of {result.n_steps}</b>: window rows {row}–{row + kernel_h - 1}, "
            f"columns {col}–{col + kernel_w - 1}. Window × {which}, summed: {terms} = "
            f"<b>{result.value:g}</b> → feature map [{row}, {col}]"
        )

    def render_png(self):
        """Draw ``result`` with ``draw_multiply_and_sum`` and return the PNG bytes."""
        from ..plotting.grids import draw_multiply_and_sum, row_figsize

        result = self.result
        shapes = [self.image_array.shape, result.kernel.shape, result.kernel.shape, result.feature_map.shape]
        figure = new_figure(row_figsize(shapes))
        axes = figure.subplots(1, 4, gridspec_kw={"width_ratios": [shape[1] for shape in shapes]})
        row, col = result.position
        draw_multiply_and_sum(
            self.image_array,
            result.kernel,
            row,
            col,
            result.feature_map,
            axes,
            kernel_title="kernel, flipped 180°" if result.flipped else "kernel",
        )
        return png_bytes(figure, self.dpi)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
