"""Lesson 08's draw-a-digit widget, drawn on with a real mouse in JupyterLab (headless Chromium).

The unit tests (tests/test_widgets_draw_digit.py) call the widget's mouse handlers directly; only
a browser shows that the ipycanvas extension loads, that the canvas sends mouse down / move / up
to the kernel, and that the answer comes back to the page. The test writes a small notebook into
the working copy (so it does not wait for lesson 08 to place the widget): it trains a small CNN
for a few seconds (on ``data/mnist-sample.npz`` when it is there, else on the 8x8 digits scaled up
the MNIST way) and shows ``DrawDigit(model)``. Then it draws a 7 with ``page.mouse`` moves, checks
that the network reads a 7 and that ten probability bars appear with the 7 highlighted, presses
"Clear", draws a 0, and checks that the network now reads a 0 and the bars and maps change. (A
mirrored or transposed canvas, or a broken preprocessing, would make it read something else.)

Run time, measured on 2 cores shared with other builds: 36-54 s alone (JupyterLab and Chromium
starting included), of which the test itself takes 23-36 s, most of it the notebook's training.

Screenshots go to test-artifacts/browser/08-draw-digit-*.png; with ``UPDATE_SCREENSHOTS=1`` the
first drawing is also copied to docs/screenshots/08-draw-digit.png for the README.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import time

import pytest

pytestmark = pytest.mark.browser

NOTEBOOK = "draw-digit-browser-test.ipynb"

SETUP = """\
import numpy as np
from cnn_helpers import data
from cnn_helpers.images import mnist_style
from cnn_helpers.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, SoftmaxCrossEntropy
from cnn_helpers.model import Sequential
from cnn_helpers.optim import Adam
from cnn_helpers.training import fit

rng = np.random.default_rng(0)
model = Sequential(Conv2D(1, 8, 3, padding=1, rng=rng), ReLU(), MaxPool2D(2), Flatten(),
                   Dense(8 * 14 * 14, 10, rng=rng))
if hasattr(data, "load_mnist_sample") and (data.data_dir() / "mnist-sample.npz").exists():
    digits = data.load_mnist_sample(seed=0)
    x_train, y_train, epochs, source = digits.x_train, digits.y_train, 2, "28x28 MNIST digits"
else:  # the 8x8 digits, scaled up and centred the MNIST way
    digits = data.load_digits(seed=0)
    x_train = np.stack([mnist_style(image[0] / image.max()) for image in digits.x_train])[:, None]
    y_train, epochs, source = digits.y_train, 5, "8x8 digits scaled to 28x28"
fit(model, SoftmaxCrossEntropy(), Adam(model, lr=3e-3), x_train, y_train, epochs=epochs, batch_size=64,
    progress=False)
print(f"trained for {epochs} epochs on {len(x_train)} {source}")
"""

SHOW = """\
from cnn_helpers.widgets import DrawDigit

pad = DrawDigit(model)
pad
"""


def write_notebook(path):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Draw a digit (browser test)"),
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell(SHOW),
    ]
    nbformat.write(notebook, str(path))


def seven(size):
    """A 7 as canvas points: the top bar, then the diagonal down."""
    corners = [(0.25, 0.22), (0.75, 0.22), (0.42, 0.85)]
    return _polyline([(x * size, y * size) for x, y in corners], steps_per_side=12)


def zero(size):
    """A 0 as canvas points: an upright ellipse, closed."""
    return [
        (size * (0.5 + 0.2 * math.sin(t)), size * (0.5 - 0.33 * math.cos(t)))
        for t in [2 * math.pi * k / 40 for k in range(41)]
    ]


def _polyline(corners, steps_per_side):
    points = [corners[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(corners):
        points += [
            (x0 + (x1 - x0) * k / steps_per_side, y0 + (y1 - y0) * k / steps_per_side)
            for k in range(1, steps_per_side + 1)
        ]
    return points


def draw_with_mouse(page, canvas, points):
    """Press at the first point, move through the others, let go: what a learner's hand does."""
    box = canvas.bounding_box()
    assert box is not None, "the drawing canvas is not on the page"
    scale = box["width"] / 280
    (x, y), *rest = points
    page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
    page.mouse.down()
    for x, y in rest:
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=2)
    page.mouse.up()


def probability_bars(widget):
    """The bar chart as the page shows it: {digit: probability} from each bar's data attributes."""
    return json.loads(
        widget.evaluate(
            """el => JSON.stringify(Object.fromEntries(Array.from(el.querySelectorAll('.cnn-probability'))
                 .filter(bar => bar.dataset.probability !== undefined)
                 .map(bar => [bar.dataset.digit, parseFloat(bar.dataset.probability)])))"""
        )
    )


def wait_for_answer(lab, widget, previous_summary=None, timeout_s=30):
    """Wait until the widget states a prediction (other than ``previous_summary``) and shows 10 bars."""
    summary = widget.locator(".cnn-prediction")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        bars = probability_bars(widget)
        text = summary.first.inner_text() if summary.count() else ""
        if len(bars) == 10 and text and text != previous_summary:
            return text, bars
        time.sleep(0.2)
    raise AssertionError(
        f"no new prediction within {timeout_s} s; the widget shows: {widget.inner_text()[:400]}"
    )


def test_draw_a_digit_with_the_mouse_in_jupyterlab(lab):
    started = time.monotonic()
    write_notebook(lab.server.root_dir / NOTEBOOK)
    lab.open_notebook(NOTEBOOK)
    lab.run_all_cells(timeout_s=240)
    lab.assert_all_cells_ran()
    lab.assert_no_widget_errors()

    widget = lab.widget("cnn-draw-digit")
    canvas = widget.locator("canvas.cnn-draw-canvas, .cnn-draw-canvas canvas").first
    canvas.wait_for(state="visible")
    maps = widget.locator(".cnn-draw-maps").first
    assert "Draw a digit" in widget.inner_text()
    assert probability_bars(widget) == {}, "bars shown before anything was drawn"
    empty_maps, _ = lab.image_digest(maps)
    lab.screenshot(widget, "08-draw-digit-empty")

    # First digit: a 7.
    draw_with_mouse(lab.page, canvas, seven(280))
    first_text, first_bars = wait_for_answer(lab, widget)
    match = re.search(r"The network reads a (\d)", first_text)
    assert match and match.group(1) == "7", f"drew a 7, the widget says: {first_text}"
    assert sum(first_bars.values()) == pytest.approx(1.0, abs=0.01)
    assert max(first_bars, key=first_bars.get) == match.group(1), (first_text, first_bars)
    predicted_bar = widget.locator(".cnn-probability.cnn-predicted")
    assert predicted_bar.count() == 1 and predicted_bar.get_attribute("data-digit") == match.group(1)
    first_maps, _ = lab.image_digest(maps)  # the widget sends its figures before the answer's text
    assert first_maps != empty_maps, "the feature maps did not appear"
    lab.screenshot(widget, "08-draw-digit-first", publish_as="08-draw-digit")

    # Clear, then a second, different digit: a 0.
    widget.get_by_role("button", name=re.compile("Clear")).click()
    lab.page.wait_for_function("el => el.innerText.includes('Draw a digit')", arg=widget.element_handle())
    assert probability_bars(widget) == {}, "Clear left the bars on the page"
    draw_with_mouse(lab.page, canvas, zero(280))
    second_text, second_bars = wait_for_answer(lab, widget, previous_summary=first_text)
    match = re.search(r"The network reads a (\d)", second_text)
    assert match and match.group(1) == "0", f"drew a 0, the widget says: {second_text}"
    assert max(second_bars, key=second_bars.get) == "0", second_bars
    assert second_bars != first_bars, "the probabilities did not change for a different digit"
    second_maps, _ = lab.image_digest(maps)
    assert second_maps not in (empty_maps, first_maps), "the feature maps did not change for the second digit"
    lab.screenshot(widget, "08-draw-digit-second")
    lab.assert_no_widget_errors()
    print(
        f"draw-a-digit browser test: {time.monotonic() - started:.1f} s "
        f"(first: {first_text!r}; second: {second_text!r})"
    )
