"""Step through a convolution one window at a time: multiply, then sum (lesson 02).

``multiply_and_sum_step`` is the plain computation: for step ``k`` of a valid, stride-1 sliding
window it returns the window, the elementwise products with the kernel, their sum and the
feature map filled in up to that step. ``MultiplyAndSum`` wraps it in controls (a step slider,
previous/next buttons, a "flip the kernel" checkbox) and shows the figure of
``cnn_helpers.plotting.grids.draw_multiply_and_sum`` as a PNG image.

In a notebook::

    from cnn_helpers.widgets import MultiplyAndSum
    MultiplyAndSum()                      # the lecture's 5x5 image and sharpen kernel

Setting ``widget.step_slider.value = 4`` (or clicking) updates ``widget.result``, a
:class:`Step`, and the PNG bytes in ``widget.image.value``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_array, as_int
from ._figure import new_figure, png_bytes

__all__ = ["Step", "multiply_and_sum_step", "all_steps", "MultiplyAndSum"]


@dataclass(frozen=True)
class Step:
    """One step of a sliding multiply-and-sum.

    Attributes
    ----------
    step : int
        1-based number of the step (row after row), 1 ... ``n_steps``.
    n_steps : int
        Number of windows, ``OH * OW``.
    position : (int, int)
        Output position ``(row, col)``; also the window's top-left pixel in the image.
    window : ndarray, shape (KH, KW)
        The image pixels under the kernel.
    kernel : ndarray, shape (KH, KW)
        The kernel as multiplied: flipped by 180° when ``flipped``.
    products : ndarray, shape (KH, KW)
        ``window * kernel``, entry by entry.
    value : float
        ``products.sum()``, the feature map's value at ``position``.
    feature_map : ndarray, shape (OH, OW)
        The map after this step; positions not reached yet are ``NaN``.
    flipped : bool
        True for a true convolution (kernel flipped first), False for cross-correlation.
    """

    step: int
    n_steps: int
    position: tuple
    window: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    value: float
    feature_map: np.ndarray
    flipped: bool


def _check_inputs(image, kernel):
    image = as_array("image", image, ndim=2).astype(float)
    kernel = as_array("kernel", kernel, ndim=2).astype(float)
    if image.size == 0 or kernel.size == 0:
        raise ValueError(f"image and kernel must not be empty, got shapes {image.shape} and {kernel.shape}")
    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError(f"kernel of shape {kernel.shape} does not fit in the image of shape {image.shape}")
    return image, kernel


def multiply_and_sum_step(image, kernel, step, flip=False):
    """The window, products and sum of one step of a sliding multiply-and-sum (lesson 02).

    Windows are visited row after row, stride 1, no padding; step 1 is the top-left window.

    Parameters
    ----------
    image : array_like, shape (H, W)
    kernel : array_like, shape (KH, KW)
        With ``flip=True`` the kernel is rotated by 180° before multiplying (true convolution).
    step : int
        1 ... ``(H - KH + 1) * (W - KW + 1)``.
    flip : bool, default False

    Returns
    -------
    Step

    Raises
    ------
    ValueError
        If the kernel does not fit in the image or ``step`` is out of range.
    TypeError
        If ``step`` is not an integer or the arrays are not numeric.

    Examples
    --------
    >>> result = multiply_and_sum_step([[1, 2, 3], [4, 5, 6]], [[1, 0], [0, 1]], step=2)
    >>> result.position, result.value
    ((0, 1), 8.0)
    >>> result.feature_map
    array([[6., 8.]])
    """
    image, kernel = _check_inputs(image, kernel)
    out_h, out_w = image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1
    n_steps = out_h * out_w
    step = as_int("step", step, minimum=1)
    if step > n_steps:
        raise ValueError(f"step must be between 1 and {n_steps} (one per window), got {step}")
    used = kernel[::-1, ::-1] if flip else kernel
    kernel_h, kernel_w = used.shape
    feature_map = np.full((out_h, out_w), np.nan)
    for index in range(step):
        row, col = divmod(index, out_w)
        window = image[row:row + kernel_h, col:col + kernel_w]
        products = window * used + 0.0  # + 0.0 turns -0.0 (from 0 * -1) into 0.0
        feature_map[row, col] = products.sum()
    return Step(step=step, n_steps=n_steps, position=(row, col), window=window.copy(),
                kernel=used.copy(), products=products, value=float(feature_map[row, col]),
                feature_map=feature_map, flipped=bool(flip))


def all_steps(image, kernel, flip=False):
    """Every step of the sliding multiply-and-sum, in order (lesson 02).

    Examples
    --------
    >>> [step.value for step in all_steps([[1, 2, 3]], [[1, 1]])]
    [3.0, 5.0]
    """
    image, kernel = _check_inputs(image, kernel)
    n_steps = (image.shape[0] - kernel.shape[0] + 1) * (image.shape[1] - kernel.shape[1] + 1)
    return [multiply_and_sum_step(image, kernel, step, flip) for step in range(1, n_steps + 1)]


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
    result : Step
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
        self.image_array, self.kernel_array = _check_inputs(image, kernel)
        self.dpi = as_int("dpi", dpi, minimum=10)
        first = multiply_and_sum_step(self.image_array, self.kernel_array, step, flip)

        self.step_slider = ipywidgets.IntSlider(
            value=first.step, min=1, max=first.n_steps, description="step",
            continuous_update=False, layout=ipywidgets.Layout(width="320px"),
        )
        self.previous_button = ipywidgets.Button(description="◀ previous", tooltip="previous window")
        self.next_button = ipywidgets.Button(description="next ▶", tooltip="next window")
        self.flip_checkbox = ipywidgets.Checkbox(
            value=bool(flip), description="flip the kernel first (true convolution)", indent=False,
        )
        self.summary = ipywidgets.HTML()
        self.image = ipywidgets.Image(format="png")
        self.widget = ipywidgets.VBox([
            ipywidgets.HBox([self.previous_button, self.step_slider, self.next_button, self.flip_checkbox]),
            self.summary,
            self.image,
        ])
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
        self.result = multiply_and_sum_step(
            self.image_array, self.kernel_array, self.step_slider.value, self.flip_checkbox.value
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
        from ..plotting.grids import row_figsize, draw_multiply_and_sum

        result = self.result
        shapes = [self.image_array.shape, result.kernel.shape, result.kernel.shape, result.feature_map.shape]
        figure = new_figure(row_figsize(shapes))
        axes = figure.subplots(1, 4, gridspec_kw={"width_ratios": [shape[1] for shape in shapes]})
        row, col = result.position
        draw_multiply_and_sum(
            self.image_array, result.kernel, row, col, result.feature_map, axes,
            kernel_title="kernel, flipped 180°" if result.flipped else "kernel",
        )
        return png_bytes(figure, self.dpi)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
