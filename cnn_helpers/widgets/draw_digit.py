"""Draw a digit with the mouse and watch the trained network read it (lesson 08).

``predict_drawing(model, image)`` is the plain computation: preprocess a drawing the MNIST way
(:func:`cnn_helpers.images.mnist_style`: ink scaled into a 20x20 box, centred by mass in 28x28)
and return what the network sees with its 10 probabilities. ``read_drawing`` does the same from
pen strokes and also keeps the feature maps. ``DrawDigit`` is the widget: a black ipycanvas
``Canvas`` to draw on in white, a "Clear" button, the preprocessed 28x28 image, the
probabilities as a bar chart with the predicted digit stated, and the feature maps of the
drawing at every layer.

In a notebook::

    from cnn_helpers.widgets import DrawDigit
    DrawDigit(model)          # a Sequential trained on (N, 1, 28, 28) digits

Without a browser (as the tests do), ``pad.draw([[(70, 60), (210, 60), (120, 240)]])`` adds a
stroke exactly as a mouse drag would and updates ``pad.result``, a :class:`DrawingResult`;
``pad.clear()`` is the button.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import numpy as np

from .._validation import as_array, as_int, describe
from ..images import draw_strokes, ink_bounding_box, mnist_style
from ..layers import softmax
from ._figure import new_figure, png_bytes
from .feature_maps import _stacks_of_maps

__all__ = ["DrawingResult", "predict_drawing", "read_drawing", "DrawDigit"]


def _as_drawing(image):
    image = as_array("image", image)
    while image.ndim > 2 and image.shape[0] == 1:  # (1, H, W) or (1, 1, H, W): one grey image
        image = image[0]
    if image.ndim != 2:
        raise ValueError(
            f"image must be one grey drawing of shape (H, W), (1, H, W) or (1, 1, H, W), "
            f"got shape {image.shape}"
        )
    return image


def _class_scores(model, x):
    forward = getattr(model, "forward", None)
    if not callable(forward):
        raise TypeError(f"model must have a forward method (e.g. a Sequential), got {describe(model)}")
    scores = np.asarray(forward(x))
    if scores.ndim != 2 or scores.shape[0] != 1 or scores.shape[1] < 2:
        raise ValueError(
            f"model must turn an input of shape {x.shape} into class scores of shape (1, K), "
            f"got an output of shape {scores.shape}"
        )
    return scores


def predict_drawing(model, image):
    """Preprocess a drawing the MNIST way and return the network's probabilities (lesson 08).

    Parameters
    ----------
    model : Sequential
        Anything whose ``forward`` maps ``(N, 1, 28, 28)`` float32 images to class scores
        ``(N, K)``, e.g. ``small_cnn(input_shape=(1, 28, 28), channels=(16, 32))`` trained on
        MNIST digits.
    image : array_like, shape (H, W)
        The drawing: values in [0, 1], ink 1 (drawn white) on 0, any size (e.g. the 280 x 280
        canvas). ``(1, H, W)`` and ``(1, 1, H, W)`` are taken as one image too.

    Returns
    -------
    x : ndarray, shape (1, 1, 28, 28), float32
        ``mnist_style(image)`` as a batch of one: what the network reads.
    probabilities : ndarray, shape (K,), float64
        ``softmax`` of the network's scores: non-negative, summing to 1.

    Raises
    ------
    ValueError
        If the drawing has no ink (the network's answer to a blank image means nothing), or
        ``image`` is not one grey image with values in [0, 1].

    Examples
    --------
    >>> from cnn_helpers.layers import Dense, Flatten
    >>> from cnn_helpers.model import Sequential
    >>> net = Sequential(Flatten(), Dense(28 * 28, 10))
    >>> drawing = np.zeros((280, 280)); drawing[50:230, 130:150] = 1.0       # a "1"
    >>> x, probabilities = predict_drawing(net, drawing)
    >>> x.shape, x.dtype, probabilities.shape, round(float(probabilities.sum()), 6)
    ((1, 1, 28, 28), dtype('float32'), (10,), 1.0)
    """
    image = _as_drawing(image)
    x = mnist_style(image)[None, None]
    if not x.any():
        raise ValueError("image holds no ink (every pixel is 0): draw a digit first")
    scores = _class_scores(model, x)
    return x, softmax(scores.astype(np.float64))[0]


@dataclass(frozen=True)
class DrawingResult:
    """What the draw-a-digit widget last computed.

    Attributes
    ----------
    strokes : tuple of ndarray
        The pen strokes, each of shape (n, 2): ``(x, y)`` points in canvas pixels.
    drawing : ndarray, shape (H, W)
        The strokes painted at the canvas's size (``draw_strokes``), ink 1.
    x : ndarray, shape (1, 1, 28, 28), float32
        ``mnist_style(drawing)``: what the network reads.
    probabilities : ndarray, shape (K,), or None
        The network's probabilities; None while nothing is drawn.
    prediction : int or None
        The digit with the largest probability; None while nothing is drawn.
    maps : list of (int, str, ndarray)
        ``model.feature_maps(x)``: (layer index, layer, output (C, H, W)) for every layer
        that outputs maps; empty while nothing is drawn.
    """

    strokes: tuple
    drawing: np.ndarray
    x: np.ndarray
    probabilities: object = None
    prediction: object = None
    maps: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True while nothing is drawn."""
        return self.probabilities is None


def read_drawing(model, strokes, canvas_size=280, stroke_width=22.0):
    """Paint pen strokes, preprocess them the MNIST way and run the network on them.

    Parameters
    ----------
    model : Sequential
        With ``layers`` (for the feature maps) and ``forward`` on ``(N, 1, 28, 28)``.
    strokes : sequence of strokes
        Each a sequence of ``(x, y)`` points in canvas pixels (see ``draw_strokes``).
    canvas_size : int, default 280
        Side of the square canvas.
    stroke_width : float, default 22.0
        Pen diameter in canvas pixels; 22 on 280 pixels gives MNIST's strokes of about 2 pixels.

    Returns
    -------
    DrawingResult
        With ``probabilities``, ``prediction`` and ``maps`` None / empty when no stroke has ink
        on the canvas.

    Examples
    --------
    >>> from cnn_helpers.layers import Conv2D, Dense, Flatten, ReLU
    >>> from cnn_helpers.model import Sequential
    >>> net = Sequential(Conv2D(1, 4, 3, padding=1), ReLU(), Flatten(), Dense(4 * 28 * 28, 10))
    >>> result = read_drawing(net, [[(140, 40), (140, 240)]])
    >>> result.x.shape, result.probabilities.shape, [out.shape for _, _, out in result.maps]
    ((1, 1, 28, 28), (10,), [(4, 28, 28), (4, 28, 28)])
    >>> read_drawing(net, []).empty
    True
    """
    canvas_size = as_int("canvas_size", canvas_size, minimum=8)
    if hasattr(strokes, "__iter__") and not isinstance(strokes, (str, bytes)):
        strokes = list(strokes)  # a generator is read once, by draw_strokes and below alike
    drawing = draw_strokes(strokes, size=canvas_size, width=stroke_width)
    strokes = tuple(np.asarray(stroke, dtype=np.float64).reshape(-1, 2) for stroke in strokes)
    x = mnist_style(drawing)[None, None]
    if ink_bounding_box(drawing) is None:
        return DrawingResult(strokes, drawing, x)
    x, probabilities = predict_drawing(model, drawing)
    maps, _ = _stacks_of_maps(model, x[0])
    return DrawingResult(strokes, drawing, x, probabilities, int(np.argmax(probabilities)), maps)


# ------------------------------------------------------------------------------------------------
# What the widget shows


def probability_bars_html(probabilities, prediction=None, height_px=110):
    """The probabilities as an HTML bar chart, one column per digit, the answer highlighted.

    Each column is a ``div`` of class ``cnn-probability`` with ``data-digit`` and
    ``data-probability`` attributes (what the browser test reads); the bar's height is the
    probability times ``height_px``. ``probabilities`` None draws the empty chart.

    Examples
    --------
    >>> html = probability_bars_html(np.array([0.1, 0.9]), prediction=1)
    >>> html.count('data-digit='), 'data-probability="0.9000"' in html
    (2, True)
    """
    count = 10 if probabilities is None else len(probabilities)
    columns = []
    for digit in range(count):
        p = None if probabilities is None else float(probabilities[digit])
        chosen = p is not None and digit == prediction
        colour = "#e8590c" if chosen else "#4c6ef5"
        bar = 0 if p is None or p < 0.005 else max(1, round(p * height_px))
        label = "" if p is None else f"{100 * p:.0f}%"
        data = "" if p is None else f' data-probability="{p:.4f}"'
        columns.append(
            f'<div class="cnn-probability{" cnn-predicted" if chosen else ""}" data-digit="{digit}"{data} '
            'style="display:flex;flex-direction:column;align-items:center;justify-content:flex-end;width:28px">'
            f'<span style="font-size:10px;line-height:1.3;color:#555">{label}</span>'
            f'<div style="width:20px;height:{bar}px;background:{colour}"></div>'
            f'<span style="font-size:13px;line-height:1.4;border-top:1px solid #888;width:28px;text-align:center;'
            f'{"font-weight:bold;color:" + colour if chosen else ""}">{digit}</span></div>'
        )
    title = "probability of each digit (softmax of the scores)"
    return (
        f'<div class="cnn-probability-bars"><div style="font-size:12px;line-height:1.3;margin-bottom:4px">'
        f"{escape(title)}</div>"
        f'<div style="display:flex;align-items:flex-end;height:{height_px + 34}px">{"".join(columns)}</div></div>'
    )


def summary_html(result):
    """One sentence: the digit the network reads and how sure it is, or what to do first."""
    style = '<div style="line-height:1.4">'
    if result.empty:
        return (
            f"{style}Draw a digit in the black square with the mouse (press, drag, let go); the "
            "network answers when you let go. <b>Clear</b> starts again.</div>"
        )
    order = np.argsort(result.probabilities)[::-1]
    first, second = int(order[0]), int(order[1])
    return (
        f'{style}<span class="cnn-prediction">The network reads a <b>{first}</b> '
        f"(probability {result.probabilities[first]:.2f}; next best {second}, "
        f"{result.probabilities[second]:.2f}).</span></div>"
    )


def render_input_png(result, dpi=80):
    """The preprocessed 28 x 28 image the network reads, as PNG bytes (1 = ink, drawn white)."""
    figure = new_figure((2.9, 3.3))
    ax = figure.subplots()
    image = result.x[0, 0]
    ax.imshow(image, cmap="gray", vmin=0.0, vmax=1.0)
    side = image.shape[0]
    ax.set_xticks([0, side - 1])
    ax.set_yticks([0, side - 1])
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    ax.set_title(f"what the network reads:\n{side}×{side}, scaled and centred", fontsize=10)
    return png_bytes(figure, dpi)


def render_maps_png(result, model=None, dpi=80):
    """The feature maps of the drawing at every layer that outputs maps, in one row, as PNG bytes."""
    from ..plotting.architecture_plots import layer_label
    from ..plotting.training_plots import plot_feature_maps

    layers = getattr(model, "layers", None)
    panels = max(1, len(result.maps))
    figure = new_figure((min(2.1 * panels, 13.0), 2.7))
    axes = np.atleast_1d(figure.subplots(1, panels))
    if not result.maps:
        axes[0].text(0.5, 0.5, "feature maps appear\nonce you draw", ha="center", va="center", fontsize=11)
        axes[0].set_axis_off()
        return png_bytes(figure, dpi)
    for ax, (index, name, maps) in zip(axes, result.maps, strict=True):
        label = layer_label(layers[index]) if layers is not None else name
        plot_feature_maps(maps, ax=ax, same_scale=False)
        ax.set_title(
            f"layer {index}: {label}\n{maps.shape[0]} maps {maps.shape[1]}×{maps.shape[2]}", fontsize=9
        )
    figure.suptitle("feature maps of your drawing, layer by layer (each map on its own scale)", fontsize=10)
    return png_bytes(figure, dpi)


class DrawDigit:
    """Widget: draw a digit with the mouse, see it preprocessed and read by the network (lesson 08).

    Parameters
    ----------
    model : Sequential
        A network trained on ``(N, 1, 28, 28)`` digits.
    canvas_size : int, default 280
        Side of the square canvas in pixels (ten canvas pixels per pixel of the 28 x 28 image).
    stroke_width : float, default 22.0
        Pen diameter in canvas pixels.
    dpi : int, default 80
        Resolution of the figures.

    Attributes
    ----------
    result : DrawingResult
        What is on display; updated when a stroke ends and by ``clear``.
    canvas : ipycanvas.Canvas
        Black, drawn on in white; mouse (and touch) down / move / up add a stroke.
    clear_button : ipywidgets.Button
        "Clear": wipes the canvas and the answer.
    summary : ipywidgets.HTML
        The predicted digit and its probability (or what to do first).
    bars : ipywidgets.HTML
        The probabilities as a bar chart (``probability_bars_html``).
    input_image, maps_image : ipywidgets.Image
        The preprocessed 28 x 28 image and the feature maps, as PNG bytes.
    widget : ipywidgets.VBox
        The whole widget, CSS class ``cnn-draw-digit``; displaying the object shows it.

    Examples
    --------
    >>> from cnn_helpers.layers import Dense, Flatten
    >>> from cnn_helpers.model import Sequential
    >>> pad = DrawDigit(Sequential(Flatten(), Dense(28 * 28, 10)))
    >>> pad.result.empty
    True
    >>> pad.draw([[(140, 40), (140, 240)]]).prediction in range(10)
    True
    >>> pad.clear().empty
    True
    """

    def __init__(self, model, canvas_size=280, stroke_width=22.0, dpi=80):
        import ipywidgets

        try:
            from ipycanvas import Canvas
        except ImportError as error:
            raise ImportError(
                "DrawDigit needs ipycanvas, a course dependency: "
                "`python -m pip install ipycanvas` in the course's environment"
            ) from error

        if not callable(getattr(model, "forward", None)):
            raise TypeError(f"model must have a forward method (e.g. a Sequential), got {describe(model)}")
        self.model = model
        self.canvas_size = as_int("canvas_size", canvas_size, minimum=8)
        self.stroke_width = float(stroke_width)
        draw_strokes([], size=8, width=self.stroke_width)  # checks stroke_width
        self.dpi = as_int("dpi", dpi, minimum=10)
        self.strokes = []
        self._pen = None  # the stroke being drawn while the button is held

        side = f"{self.canvas_size}px"
        self.canvas = Canvas(
            width=self.canvas_size,
            height=self.canvas_size,
            layout=ipywidgets.Layout(width=side, height=side, border="1px solid #888"),
        )
        self.canvas.add_class("cnn-draw-canvas")
        self.clear_button = ipywidgets.Button(
            description="Clear", icon="eraser", tooltip="wipe the canvas and draw another digit"
        )
        self.summary = ipywidgets.HTML()
        self.bars = ipywidgets.HTML()
        self.input_image = ipywidgets.Image(format="png")
        self.input_image.add_class("cnn-draw-input")
        self.maps_image = ipywidgets.Image(format="png")
        self.maps_image.add_class("cnn-draw-maps")
        # Fixed sizes: in an HBox the canvas would otherwise be squeezed narrower than it draws.
        fixed = dict(flex="0 0 auto")
        left = ipywidgets.VBox(
            [self.canvas, ipywidgets.HBox([self.clear_button]), self.summary],
            layout=ipywidgets.Layout(width=f"{self.canvas_size + 12}px", **fixed),
        )
        self.input_image.layout = ipywidgets.Layout(**fixed)
        right = ipywidgets.VBox([self.bars], layout=ipywidgets.Layout(width="300px", **fixed))
        self.widget = ipywidgets.VBox([ipywidgets.HBox([left, self.input_image, right]), self.maps_image])
        self.widget.add_class("cnn-draw-digit")

        self.canvas.on_client_ready(self._paint_all)
        self.canvas.on_mouse_down(self._pen_down)
        self.canvas.on_mouse_move(self._pen_move)
        self.canvas.on_mouse_up(self._pen_up)
        self.canvas.on_mouse_out(self._pen_up)
        self.canvas.on_touch_start(lambda touches: touches and self._pen_down(*touches[0]))
        self.canvas.on_touch_move(lambda touches: touches and self._pen_move(*touches[0]))
        self.canvas.on_touch_end(lambda touches: self._pen_up())
        self.canvas.on_touch_cancel(lambda touches: self._pen_up())
        self.clear_button.on_click(lambda _button: self.clear())

        self.result = None
        self._paint_all()
        self.update()

    # -- drawing on the canvas (what the learner sees while drawing) ---------------------------

    def _set_pen(self):
        self.canvas.fill_style = "black"
        self.canvas.stroke_style = "white"
        self.canvas.line_width = self.stroke_width
        self.canvas.line_cap = "round"
        self.canvas.line_join = "round"

    def _paint_all(self):
        """Repaint the canvas: black, then every stroke in white (also for a newly opened view)."""
        from ipycanvas import hold_canvas

        with hold_canvas():
            self._set_pen()
            self.canvas.clear()
            self.canvas.fill_rect(0, 0, self.canvas_size, self.canvas_size)
            self.canvas.fill_style = "white"
            for stroke in self.strokes + ([np.array(self._pen)] if self._pen else []):
                self._paint_stroke(np.asarray(stroke, dtype=float))

    def _paint_stroke(self, points):
        x, y = points[0]
        self.canvas.fill_circle(float(x), float(y), self.stroke_width / 2)
        if len(points) > 1:
            self.canvas.stroke_lines([(float(a), float(b)) for a, b in points])

    def _pen_down(self, x, y):
        from ipycanvas import hold_canvas

        self._pen = [(float(x), float(y))]
        with hold_canvas():
            self._set_pen()
            self.canvas.fill_style = "white"
            self.canvas.fill_circle(float(x), float(y), self.stroke_width / 2)

    def _pen_move(self, x, y):
        if self._pen is None:
            return
        from ipycanvas import hold_canvas

        (x0, y0), point = self._pen[-1], (float(x), float(y))
        self._pen.append(point)
        with hold_canvas():
            self._set_pen()
            self.canvas.stroke_line(x0, y0, *point)

    def _pen_up(self, x=None, y=None):
        if self._pen is None:
            return
        stroke, self._pen = self._pen, None
        if x is not None and (float(x), float(y)) != stroke[-1]:
            stroke.append((float(x), float(y)))
        self.strokes.append(np.array(stroke))
        self.update()

    # -- what tests and the button call -------------------------------------------------------

    def draw(self, strokes):
        """Add strokes as if drawn with the mouse (each a list of ``(x, y)`` canvas points); redraw."""
        strokes = [
            np.array(as_array(f"strokes[{k}]", stroke), dtype=float) for k, stroke in enumerate(strokes)
        ]
        draw_strokes(strokes, size=8, width=1.0)  # checks the strokes before anything changes
        self.strokes.extend(strokes)
        self._paint_all()
        return self.update()

    def clear(self):
        """Wipe the canvas and the answer (the "Clear" button)."""
        self.strokes = []
        self._pen = None
        self._paint_all()
        return self.update()

    def update(self):
        """Recompute ``result`` from the strokes and redraw the answer, bars and figures."""
        self.result = read_drawing(self.model, self.strokes, self.canvas_size, self.stroke_width)
        # Figures first: when the answer's text reaches the page, the figures already have.
        self.input_image.value = render_input_png(self.result, self.dpi)
        self.maps_image.value = render_maps_png(self.result, self.model, self.dpi)
        self.summary.value = summary_html(self.result)
        self.bars.value = probability_bars_html(self.result.probabilities, self.result.prediction)
        return self.result

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
