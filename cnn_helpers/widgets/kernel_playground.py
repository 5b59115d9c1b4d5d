"""The kernel playground of lesson 03: edit a 3x3 kernel and watch what it does to an image.

``filter_image(kernel, image_name)`` is the plain function: it looks up one of the playground's
images and filters it with ``cnn_helpers.filters.apply_kernel`` (cross-correlation, zero
padding, same size). ``KernelPlayground`` wraps it in controls: nine number boxes for the
kernel, a dropdown of the named kernels (presets), a dropdown of images, and the figure
(``plotting.draw_kernel_result``) as a PNG. Its last result is kept on ``.result``, so a
test can set a control's ``.value`` and read the outcome without a browser.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from .. import data
from .._validation import as_array, as_choice
from ..filters import KERNELS, apply_kernel
from ._figure import new_figure, png_bytes

__all__ = [
    "IMAGE_NAMES",
    "PRESET_NAMES",
    "CUSTOM",
    "PlaygroundResult",
    "playground_image",
    "filter_image",
    "matching_preset",
    "render_playground",
    "KernelPlayground",
]

#: The images the playground offers, in the dropdown's order.
IMAGE_NAMES = ("photo", "digit", "lecture 5x5", "horizontal stripes", "vertical stripes", "shapes")

#: The named kernels the presets dropdown offers: the lecture's six first, then the extras.
PRESET_NAMES = tuple(KERNELS)

#: The presets dropdown shows this when the kernel matches no named kernel.
CUSTOM = "custom"


class PlaygroundResult(NamedTuple):
    """What the playground last computed.

    Attributes
    ----------
    kernel : ndarray, shape (3, 3)
    image_name : str
        One of ``IMAGE_NAMES``.
    image : ndarray, shape (H, W)
        The grey image that was filtered.
    filtered : ndarray, shape (H, W)
        ``apply_kernel(image, kernel)``: same size, zero padding.
    """

    kernel: np.ndarray
    image_name: str
    image: np.ndarray
    filtered: np.ndarray


def _stripes(horizontal, size=24, width=3):
    rows, cols = np.indices((size, size))
    along = rows if horizontal else cols
    return ((along // width) % 2).astype(float)


def _shapes(size=32):
    canvas = np.zeros((size, size))
    for kind, center in (("square", (8, 8)), ("circle", (8, 23)), ("triangle", (23, 8)), ("cross", (23, 23))):
        canvas = np.maximum(canvas, data.draw_shape(kind, canvas_size=size, center=center, size=11))
    return canvas


@functools.cache
def _cached_image(name):
    if name == "photo":
        image = data.load_photo(grey=True, size=128)
    elif name == "digit":
        images, _ = data.load_digits_arrays()
        image = images[0, 0].astype(np.float64)
    elif name == "lecture 5x5":
        image = data.lecture_example().image
    elif name == "horizontal stripes":
        image = _stripes(horizontal=True)
    elif name == "vertical stripes":
        image = _stripes(horizontal=False)
    else:  # "shapes"
        image = _shapes()
    image.setflags(write=False)
    return image


def playground_image(name):
    """One of the playground's grey images, by name.

    Parameters
    ----------
    name : str
        One of ``IMAGE_NAMES``: "photo" (the course's photograph, 120 x 102), "digit" (a real
        8 x 8 handwritten digit), "lecture 5x5" (the lecture's binary image), "horizontal
        stripes" and "vertical stripes" (24 x 24, bands 3 pixels wide) or "shapes" (a square, a
        circle, a triangle and a cross on a 32 x 32 canvas).

    Returns
    -------
    ndarray, shape (H, W), float64, values in [0, 1]
        A fresh copy.

    Examples
    --------
    >>> playground_image("lecture 5x5")[0]
    array([0., 1., 1., 0., 0.])
    """
    return _cached_image(as_choice("image_name", name, IMAGE_NAMES)).copy()


def _as_kernel(kernel):
    if isinstance(kernel, str):
        if kernel not in KERNELS:
            raise ValueError(f"unknown kernel {kernel!r}; valid names are: {', '.join(KERNELS)}")
        return np.array(KERNELS[kernel])
    kernel = as_array("kernel", kernel, ndim=2).astype(np.float64)
    if kernel.shape != (3, 3):
        raise ValueError(f"kernel must have shape (3, 3), got shape {kernel.shape}")
    if not np.all(np.isfinite(kernel)):
        raise ValueError("kernel must hold finite numbers, got NaN or infinity")
    return kernel


def filter_image(kernel, image_name="photo"):
    """Filter one of the playground's images with a 3x3 kernel (lesson 03).

    Parameters
    ----------
    kernel : str or array_like, shape (3, 3)
        A name from ``cnn_helpers.filters.KERNELS`` or nine numbers.
    image_name : str, default "photo"
        One of ``IMAGE_NAMES``.

    Returns
    -------
    PlaygroundResult
        The kernel, the image's name, the image and the filtered image (same size).

    Examples
    --------
    >>> result = filter_image("laplacian", "lecture 5x5")
    >>> result.filtered.shape, float(result.filtered[0, 0])
    ((5, 5), 1.0)
    """
    kernel = _as_kernel(kernel)
    image = playground_image(image_name)
    return PlaygroundResult(kernel, image_name, image, apply_kernel(image, kernel))


def matching_preset(kernel):
    """The name of the named kernel equal to ``kernel``, or ``CUSTOM`` if there is none.

    Examples
    --------
    >>> matching_preset([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]), matching_preset(np.ones((3, 3)))
    ('sharpen', 'custom')
    """
    kernel = np.asarray(kernel, dtype=float)
    for name in PRESET_NAMES:
        if kernel.shape == KERNELS[name].shape and np.allclose(kernel, KERNELS[name], atol=1e-6):
            return name
    return CUSTOM


def render_playground(result, dpi=80):
    """The playground's figure for ``result`` as PNG bytes (no pyplot, so nothing leaks into a notebook)."""
    from ..plotting.filter_plots import draw_kernel_result

    figure = new_figure((11, 3.6))
    axes = figure.subplots(1, 3, gridspec_kw={"width_ratios": [3, 2, 3]})
    draw_kernel_result(result.image, result.kernel, result.filtered, axes)
    figure.suptitle(f"{matching_preset(result.kernel)} kernel on the {result.image_name}")
    return png_bytes(figure, dpi)


class KernelPlayground:
    """Edit a 3x3 kernel, pick an image, see the filtered result (lesson 03).

    Controls: nine ``FloatText`` boxes ``cells[r][c]`` (described "k[r,c]"), a ``preset``
    dropdown of the named kernels (it shows "custom" once an entry no longer matches one), an
    ``image_choice`` dropdown of ``IMAGE_NAMES``, and ``figure``, an ``ipywidgets.Image`` holding
    the PNG. ``summary`` is a line of text about the kernel. The container ``widget`` has the CSS
    class ``cnn-kernel-playground``.

    Attributes
    ----------
    result : PlaygroundResult
        The last computed result.

    Examples
    --------
    >>> playground = KernelPlayground(kernel="sobel_top", image_name="vertical stripes")
    >>> float(np.abs(playground.result.filtered[1:-1]).max())   # no horizontal edges inside
    0.0
    >>> playground.image_choice.value = "horizontal stripes"
    >>> float(np.abs(playground.result.filtered[1:-1]).max())
    4.0
    """

    def __init__(self, kernel="sharpen", image_name="photo"):
        import ipywidgets as widgets

        start = _as_kernel(kernel)
        self._updating = False
        self.cells = [
            [
                widgets.FloatText(
                    value=float(start[r, c]),
                    description=f"k[{r},{c}]",
                    step=0.5,
                    style={"description_width": "40px"},
                    layout=widgets.Layout(width="130px"),
                )
                for c in range(3)
            ]
            for r in range(3)
        ]
        self.preset = widgets.Dropdown(
            options=PRESET_NAMES + (CUSTOM,), value=matching_preset(start), description="preset"
        )
        self.image_choice = widgets.Dropdown(options=IMAGE_NAMES, value=image_name, description="image")
        self.summary = widgets.HTML()
        self.figure = widgets.Image(format="png")
        grid = widgets.GridBox(
            [cell for row in self.cells for cell in row],
            layout=widgets.Layout(grid_template_columns="repeat(3, 135px)"),
        )
        controls = widgets.VBox(
            [
                widgets.HTML("<b>kernel</b> (edit any entry)"),
                grid,
                widgets.HBox([self.preset, self.image_choice]),
                self.summary,
            ]
        )
        self.widget = widgets.VBox([controls, self.figure])
        self.widget.add_class("cnn-kernel-playground")

        for row in self.cells:
            for cell in row:
                cell.observe(self._on_cell, names="value")
        self.preset.observe(self._on_preset, names="value")
        self.image_choice.observe(self._on_image, names="value")
        self.result = None
        self.update()

    # -- reading and writing the nine boxes ------------------------------------------------------

    def kernel(self):
        """The kernel the nine boxes hold, shape (3, 3)."""
        return np.array([[cell.value for cell in row] for row in self.cells], dtype=float)

    def set_kernel(self, kernel):
        """Write a kernel (a name or 3x3 numbers) into the boxes and redraw once."""
        kernel = _as_kernel(kernel)
        self._updating = True
        try:
            for r in range(3):
                for c in range(3):
                    self.cells[r][c].value = float(kernel[r, c])
            self.preset.value = matching_preset(kernel)
        finally:
            self._updating = False
        self.update()

    # -- events ----------------------------------------------------------------------------------

    def _on_cell(self, change):
        if self._updating:
            return
        self._updating = True
        try:
            self.preset.value = matching_preset(self.kernel())
        finally:
            self._updating = False
        self.update()

    def _on_preset(self, change):
        if self._updating or change["new"] == CUSTOM:
            return
        self.set_kernel(change["new"])

    def _on_image(self, change):
        self.update()

    # -- computing and drawing -------------------------------------------------------------------

    def update(self):
        """Recompute ``result`` from the controls and redraw the figure."""
        self.result = filter_image(self.kernel(), self.image_choice.value)
        total = float(self.result.kernel.sum())
        if abs(total) < 1e-9:
            meaning = "flat areas come out as 0, so only changes in brightness show"
        else:
            meaning = f"a flat area of brightness b comes out as {total:g}·b"
        self.summary.value = (
            f"entries sum to {0.0 if abs(total) < 1e-9 else total:g}: {meaning}; "
            f"mean |result| = {np.abs(self.result.filtered).mean():.3f}"
        )
        self.figure.value = render_playground(self.result)
        return self.result

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
