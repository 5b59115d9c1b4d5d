"""Draw a digit (lesson 08): the MNIST-style preprocessing, the plain prediction, and the widget
driven without a browser (its mouse handlers called the way ipycanvas calls them).

The preprocessing is checked against independent computations: exact area averaging by
supersampling, ``block_average`` for whole-number factors, SciPy's centre of mass, and real MNIST
digits (which it must leave unchanged) when ``data/mnist-sample.npz`` is there.
"""

import importlib.util
import math

import numpy as np
import pytest

from cnn_helpers.images import (
    block_average,
    centre_of_mass,
    draw_strokes,
    ink_bounding_box,
    mnist_style,
    resize_by_area,
)
from cnn_helpers.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, softmax
from cnn_helpers.model import Sequential
from cnn_helpers.widgets.draw_digit import predict_drawing, probability_bars_html, read_drawing
from cnn_helpers.widgets.feature_maps import _stacks_of_maps

SEVEN = [[(70, 60), (210, 60), (120, 240)]]
ONE = [[(150, 30), (130, 250)]]
ZERO = [[(140 + 55 * math.cos(t), 140 + 95 * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 50)]]


def box_sides(image):
    top, bottom, left, right = ink_bounding_box(image)
    return bottom - top, right - left


@pytest.fixture(scope="module")
def net():
    """The brief's test network on 28x28 (small_cnn is still wired to 8x8 on this branch)."""
    rng = np.random.default_rng(0)
    return Sequential(
        Conv2D(1, 8, 3, padding=1, rng=rng), ReLU(), MaxPool2D(2), Flatten(), Dense(8 * 14 * 14, 10, rng=rng)
    )


# ------------------------------------------------------------------------------------------------
# draw_strokes


def test_a_dot_has_the_area_of_the_pen_and_a_line_its_width():
    dot = draw_strokes([[(50.0, 50.0)]], size=100, width=20.0)
    assert dot.sum() == pytest.approx(math.pi * 10**2, rel=0.02)
    line = draw_strokes([[(20.0, 50.0), (80.0, 50.0)]], size=100, width=20.0)
    np.testing.assert_allclose(line[:, 30:70].sum(axis=0), 20.0, rtol=0.02)  # every column: 20 px of ink
    assert line.max() == 1.0 and line.min() == 0.0


def test_strokes_are_joined_in_order_and_cut_at_the_border():
    corner = draw_strokes([[(5.5, 5.5), (5.5, 15.5), (15.5, 15.5)]], size=20, width=1.0)
    assert corner[5:16, 5].min() == 1.0 and corner[15, 5:16].min() == 1.0
    assert corner[5, 15] == 0.0  # no shortcut from the first to the last point
    outside = draw_strokes([[(-50.0, 10.0), (250.0, 10.0)]], size=20, width=4.0)
    assert outside.shape == (20, 20) and outside[10].min() == 1.0
    assert draw_strokes([], size=(3, 5)).shape == (3, 5)


@pytest.mark.parametrize(
    "strokes, width, error, match",
    [
        (None, 22.0, TypeError, r"strokes must be a list of strokes"),
        (
            [[1.0, 2.0, 3.0]],
            22.0,
            ValueError,
            r"strokes\[0\] must be a list of \(x, y\) points, shape \(n, 2\)",
        ),
        (
            [[(1.0, 2.0)], np.zeros((0, 2))],
            22.0,
            ValueError,
            r"strokes\[1\] must be .* n >= 1, got shape \(0, 2\)",
        ),
        ([[(np.nan, 2.0)]], 22.0, ValueError, r"strokes\[0\] must hold finite coordinates"),
        ([[("a", "b")]], 22.0, TypeError, r"strokes\[0\] must hold real numbers"),
        ([[(1.0, 2.0)]], 0.0, ValueError, r"width must be > 0, got 0\.0"),
        ([[(1.0, 2.0)]], "thick", TypeError, r"width must be a real number, got str 'thick'"),
    ],
)
def test_draw_strokes_rejects_bad_input(strokes, width, error, match):
    with pytest.raises(error, match=match):
        draw_strokes(strokes, size=10, width=width)


# ------------------------------------------------------------------------------------------------
# resize_by_area


def exact_area_average(image, shape):
    """Independent oracle: repeat each pixel h (w) times, then average whole H x W blocks."""
    (big_h, big_w), (h, w) = image.shape, shape
    fine = np.repeat(np.repeat(image, h, axis=0), w, axis=1)  # (H*h, W*w)
    return fine.reshape(h, big_h, w, big_w).mean(axis=(1, 3))


@pytest.mark.parametrize("seed", range(6))
def test_resize_by_area_is_exact_area_averaging(seed):
    rng = np.random.default_rng(seed)
    big = tuple(int(n) for n in rng.integers(1, 60, size=2))
    small = tuple(int(n) for n in rng.integers(1, 30, size=2))
    image = rng.random(big)
    out = resize_by_area(image, small)
    np.testing.assert_allclose(out, exact_area_average(image, small), atol=1e-12)
    assert out.mean() == pytest.approx(image.mean())  # area averaging keeps the mean


def test_resize_by_area_matches_block_average_for_whole_factors():
    image = np.random.default_rng(1).random((42, 30))
    np.testing.assert_allclose(resize_by_area(image, (14, 10)), block_average(image, 3), atol=1e-12)


@pytest.mark.parametrize(
    "image, shape, error, match",
    [
        (np.ones((3, 3, 3)), (2, 2), ValueError, r"image must be a 2-D array, got shape \(3, 3, 3\)"),
        (np.ones((3, 3)), 2, TypeError, r"shape must be a pair \(h, w\)"),
        (np.ones((3, 3)), (0, 2), ValueError, r"shape\[0\] must be >= 1, got 0"),
        (np.ones((0, 3)), (2, 2), ValueError, r"image must have at least one pixel"),
    ],
)
def test_resize_by_area_rejects_bad_input(image, shape, error, match):
    with pytest.raises(error, match=match):
        resize_by_area(image, shape)


# ------------------------------------------------------------------------------------------------
# mnist_style


def test_centre_of_mass_matches_scipy():
    ndimage = pytest.importorskip("scipy.ndimage")
    image = np.random.default_rng(2).random((13, 9))
    np.testing.assert_allclose(centre_of_mass(image), ndimage.center_of_mass(image))


@pytest.mark.parametrize("strokes", [SEVEN, ONE, ZERO], ids=["seven", "one", "zero"])
def test_a_drawn_digit_fills_the_20_box_centred_by_mass(strokes):
    drawing = draw_strokes(strokes, size=280)
    out = mnist_style(drawing)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.max() > 0.9
    assert max(box_sides(out)) == 20
    row, col = centre_of_mass(out)
    assert abs(row - 14) <= 0.5 + 1e-4 and abs(col - 14) <= 0.5 + 1e-4  # half a pixel, up to rounding
    top, bottom, left, right = ink_bounding_box(drawing)
    scaled = resize_by_area(drawing[top:bottom, left:right], box_sides(out))
    assert out.sum() == pytest.approx(scaled.sum(), rel=1e-5)  # all of the scaled digit is in the field


def test_a_symmetric_stroke_lands_in_the_central_box():
    # A centred vertical bar: its mass is at its middle (row 9.5 of the 20 rows), half a pixel from
    # MNIST's centre 14 either way, so it sits in rows 4-23 or 5-24: the central 20x20 box or one
    # pixel below it. Its columns stay around 14.
    out = mnist_style(draw_strokes([[(140.0, 40.0), (140.0, 240.0)]], size=280))
    top, bottom, left, right = ink_bounding_box(out)
    assert (top, bottom) in {(4, 24), (5, 25)}
    assert left >= 4 and right <= 24


@pytest.mark.parametrize(
    "height, width, sides",
    [(200, 100, (20, 10)), (100, 200, (10, 20)), (150, 100, (20, 13)), (60, 60, (20, 20))],
)
def test_the_aspect_ratio_is_kept(height, width, sides):
    drawing = np.zeros((280, 280))
    drawing[30 : 30 + height, 50 : 50 + width] = 1.0
    out = mnist_style(drawing)
    assert box_sides(out) == sides
    top, bottom, left, right = ink_bounding_box(out)
    np.testing.assert_allclose(out[top:bottom, left:right], 1.0)  # a full rectangle stays full


def test_where_and_how_big_it_is_drawn_does_not_matter():
    drawing = draw_strokes(SEVEN, size=280)
    shifted = np.roll(np.roll(drawing, -35, axis=0), 40, axis=1)  # the 7 stays on the canvas
    np.testing.assert_array_equal(mnist_style(shifted), mnist_style(drawing))
    half = draw_strokes([[(x / 2, y / 2) for x, y in SEVEN[0]]], size=140, width=11.0)
    a, b = mnist_style(half).ravel(), mnist_style(drawing).ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.95


def test_mnist_style_is_idempotent_and_float32():
    once = mnist_style(draw_strokes(ZERO, size=280))
    np.testing.assert_array_equal(mnist_style(once), once)
    assert mnist_style(np.zeros((5, 5), dtype=np.float32)).dtype == np.float32


def mnist_like_digits():
    """Synthetic digits drawn at 28x28 as MNIST's are: strokes about 2 px, box side 20, mass at (14, 14)."""
    t = np.linspace(0, 2 * math.pi, 60)
    digits = {
        "zero": [np.c_[14 + 5.5 * np.cos(t), 14 + 8.4 * np.sin(t)]],
        "one": [[(14.5, 5.5), (13.5, 22.5)]],
        "seven": [[(7.0, 5.5), (21.0, 5.5), (12.0, 23.0)]],
    }
    return {name: draw_strokes(strokes, size=28, width=2.0) for name, strokes in digits.items()}


@pytest.mark.parametrize("name", ["zero", "one", "seven"])
def test_an_mnist_like_digit_is_left_alone_but_for_centring(name):
    digit = mnist_like_digits()[name]
    assert max(box_sides(digit)) == 20, "the synthetic digit must be MNIST-sized for this test"
    out = mnist_style(digit)
    # The only change allowed: a whole-pixel shift that centres the mass (no scaling, no blur).
    top, _, left, _ = ink_bounding_box(digit)
    new_top, _, new_left, _ = ink_bounding_box(out)
    shifted = np.roll(np.roll(digit, new_top - top, axis=0), new_left - left, axis=1)
    np.testing.assert_allclose(out, shifted, atol=1e-6, err_msg=f"mnist_style did more than move the {name}")
    assert out.sum() == pytest.approx(digit.sum(), rel=1e-6)


def test_a_digit_drawn_too_big_is_shrunk_and_changes_little():
    big = draw_strokes(
        [[(x * 1.2 - 2.8, y * 1.2 - 2.8) for x, y in [(7.0, 6.0), (21.0, 6.0), (12.0, 23.0)]]],
        size=28,
        width=2.4,
    )  # the seven, 20 % too big
    out = mnist_style(big)
    assert max(box_sides(out)) == 20
    assert out.sum() == pytest.approx(big.sum() * (20 / max(box_sides(big))) ** 2, rel=0.05)
    reference = mnist_style(mnist_like_digits()["seven"])
    assert np.corrcoef(out.ravel(), reference.ravel())[0, 1] > 0.8


def test_real_mnist_digits_come_out_unchanged():
    from cnn_helpers import data

    loader = getattr(data, "load_mnist_sample", None)
    if loader is None or not (data.data_dir() / "mnist-sample.npz").exists():
        pytest.skip("data/mnist-sample.npz (cnn_helpers.data.load_mnist_sample) is not in this branch yet")
    digits = loader().x_test[:300, 0]
    unchanged = [np.array_equal(mnist_style(digit), digit.astype(np.float32)) for digit in digits]
    # MNIST's own preprocessing is this one: box side 20, mass within half a pixel of (14, 14).
    assert np.mean(unchanged) >= 0.98, f"only {np.mean(unchanged):.1%} of real digits came out unchanged"


def test_a_blank_drawing_gives_a_blank_digit():
    for blank in (np.zeros((280, 280)), np.zeros((0, 0))):
        out = mnist_style(blank)
        assert out.shape == (28, 28) and not out.any() and np.isfinite(out).all()


def test_a_digit_too_far_off_centre_moves_only_as_far_as_it_fits():
    drawing = np.zeros((200, 200))
    drawing[0:20, 0:200] = 1.0  # a heavy bar at the top of the box...
    drawing[20:200, 0:2] = 0.2  # ...and a faint line down its left edge: mass near the top left
    out = mnist_style(drawing)
    top, bottom, left, right = ink_bounding_box(out)
    assert (bottom - top, right - left) == (20, 20) and bottom <= 28 and right <= 28
    assert out.sum() == pytest.approx(resize_by_area(drawing, (20, 20)).sum(), rel=1e-5)  # nothing cut off


@pytest.mark.parametrize(
    "image, kwargs, error, match",
    [
        (
            np.zeros((2, 28, 28)),
            {},
            ValueError,
            r"image must be one grey drawing of shape \(H, W\), got shape \(2, 28, 28\)",
        ),
        (np.full((4, 4), np.nan), {}, ValueError, r"image must hold finite values"),
        (
            np.full((4, 4), 255.0),
            {},
            ValueError,
            r"image must hold values in \[0, 1\] .* from 255 to 255; divide 0-255",
        ),
        (np.full((4, 4), -0.5), {}, ValueError, r"image must hold values in \[0, 1\]"),
        ("seven", {}, TypeError, r"image must hold real numbers"),
        (np.zeros((4, 4)), {"box": 30}, ValueError, r"box must be at most size \(28\), got box=30"),
        (np.zeros((4, 4)), {"size": 0}, ValueError, r"size must be >= 1, got 0"),
    ],
)
def test_mnist_style_rejects_bad_input(image, kwargs, error, match):
    with pytest.raises(error, match=match):
        mnist_style(image, **kwargs)


# ------------------------------------------------------------------------------------------------
# predict_drawing and read_drawing (no widget)


def test_predict_drawing_is_preprocess_then_softmax(net):
    drawing = draw_strokes(SEVEN, size=280)
    x, probabilities = predict_drawing(net, drawing)
    assert x.shape == (1, 1, 28, 28) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, 0], mnist_style(drawing))
    scores = net.forward(mnist_style(drawing)[None, None]).astype(np.float64)
    expected = np.exp(scores[0] - scores[0].max()) / np.exp(scores[0] - scores[0].max()).sum()
    np.testing.assert_allclose(probabilities, expected, rtol=1e-6)
    assert probabilities.shape == (10,) and probabilities.sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(predict_drawing(net, drawing[None])[1], probabilities)


def test_predict_drawing_refuses_blank_drawings_and_bad_models(net):
    with pytest.raises(ValueError, match=r"image holds no ink \(every pixel is 0\): draw a digit first"):
        predict_drawing(net, np.zeros((280, 280)))
    drawing = draw_strokes(ONE, size=280)
    with pytest.raises(TypeError, match=r"model must have a forward method .* got str 'net'"):
        predict_drawing("net", drawing)
    with pytest.raises(
        ValueError,
        match=r"model must turn an input of shape \(1, 1, 28, 28\) into class scores "
        r"of shape \(1, K\), got an output of shape \(1, 8, 28, 28\)",
    ):
        predict_drawing(Sequential(Conv2D(1, 8, 3, padding=1)), drawing)
    with pytest.raises(ValueError, match=r"image must be one grey drawing of shape \(H, W\), \(1, H, W\)"):
        predict_drawing(net, np.zeros((3, 28, 28)))


def test_read_drawing_keeps_the_maps_of_every_layer(net):
    result = read_drawing(net, ZERO)
    maps, scores = _stacks_of_maps(net, result.x[0])
    assert [(i, out.shape) for i, _, out in result.maps] == [
        (0, (8, 28, 28)),
        (1, (8, 28, 28)),
        (2, (8, 14, 14)),
    ]
    for (_, _, got), (_, _, want) in zip(result.maps, maps, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(result.probabilities, softmax(scores.astype(np.float64)), rtol=1e-6)
    assert result.prediction == int(np.argmax(scores))
    assert len(result.strokes) == 1 and result.strokes[0].shape == (50, 2)
    assert result.drawing.shape == (280, 280)


def test_read_drawing_of_nothing_is_empty(net):
    for strokes in ([], [[(-100.0, -100.0)]]):  # no stroke, or one entirely off the canvas
        result = read_drawing(net, strokes)
        assert result.empty and result.prediction is None and result.maps == []
        assert not result.x.any()


def test_probability_bars_show_every_digit_and_highlight_the_answer():
    p = softmax(np.arange(10.0))
    html = probability_bars_html(p, prediction=9)
    assert html.count("data-digit=") == 10
    for digit in range(10):
        assert f'data-digit="{digit}" data-probability="{p[digit]:.4f}"' in html
    assert html.count("cnn-predicted") == 1 and 'cnn-probability cnn-predicted" data-digit="9"' in html
    assert "data-probability" not in probability_bars_html(None)


# ------------------------------------------------------------------------------------------------
# The widget, without a browser

WIDGET_PACKAGES = ("ipywidgets", "ipycanvas", "matplotlib")
MISSING = [name for name in WIDGET_PACKAGES if importlib.util.find_spec(name) is None]
needs_widgets = pytest.mark.skipif(
    bool(MISSING),
    reason=f"the widget needs {', '.join(MISSING)} (`python -m pip install ipycanvas`, a course dependency)",
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def widget(*args, **kwargs):
    from cnn_helpers.widgets import DrawDigit

    return DrawDigit(*args, **kwargs)


def drag(pad, stroke):
    """What ipycanvas calls while a learner presses, drags and lets go of the mouse."""
    (x, y), *rest = stroke
    pad._pen_down(x, y)
    for x, y in rest:
        pad._pen_move(x, y)
    pad._pen_up(x, y)


@needs_widgets
def test_the_widget_starts_empty_and_says_what_to_do(net):
    pad = widget(net)
    assert pad.result.empty and pad.strokes == []
    assert "Draw a digit" in pad.summary.value and "data-probability" not in pad.bars.value
    assert bytes(pad.input_image.value).startswith(PNG_SIGNATURE)
    assert bytes(pad.maps_image.value).startswith(PNG_SIGNATURE)
    assert "cnn-draw-digit" in pad.widget._dom_classes
    assert (pad.canvas.width, pad.canvas.height) == (280, 280)


@needs_widgets
def test_drawing_shows_the_prediction_bars_and_maps(net):
    pad = widget(net)
    empty_maps = pad.maps_image.value
    result = pad.draw(SEVEN)
    assert result is pad.result and not result.empty
    expected_x, expected_p = predict_drawing(net, draw_strokes(SEVEN, size=280))
    np.testing.assert_array_equal(result.x, expected_x)
    np.testing.assert_allclose(result.probabilities, expected_p)
    assert f"The network reads a <b>{result.prediction}</b>" in pad.summary.value
    assert f"{result.probabilities[result.prediction]:.2f}" in pad.summary.value
    assert pad.bars.value == probability_bars_html(result.probabilities, result.prediction)
    assert pad.maps_image.value != empty_maps and len(pad.maps_image.value) > 5000


@needs_widgets
def test_the_mouse_handlers_draw_what_draw_draws(net):
    by_mouse, by_method = widget(net), widget(net)
    drag(by_mouse, SEVEN[0])
    by_method.draw(SEVEN)
    np.testing.assert_array_equal(by_mouse.result.drawing, by_method.result.drawing)
    np.testing.assert_array_equal(by_mouse.result.probabilities, by_method.result.probabilities)
    assert by_mouse.input_image.value == by_method.input_image.value


@needs_widgets
def test_moving_without_pressing_draws_nothing_and_leaving_the_canvas_ends_a_stroke(net):
    pad = widget(net)
    pad._pen_move(100, 100)
    pad._pen_up(100, 100)
    assert pad.strokes == [] and pad.result.empty
    pad._pen_down(140, 40)
    pad._pen_move(140, 240)
    assert pad.result.empty  # the answer comes when the stroke ends
    pad.canvas._mouse_out_callbacks(140, 279)  # what ipycanvas runs on "mouse_out"
    assert len(pad.strokes) == 1 and not pad.result.empty
    pad._pen_move(10, 10)  # still moving, but no button held
    assert len(pad.strokes) == 1


@needs_widgets
def test_touch_draws_like_the_mouse(net):
    by_touch, by_mouse = widget(net), widget(net)
    by_touch.canvas._touch_start_callbacks([(150, 30)])
    by_touch.canvas._touch_move_callbacks([(130, 250)])
    by_touch.canvas._touch_end_callbacks([])
    drag(by_mouse, ONE[0])
    np.testing.assert_array_equal(by_touch.result.drawing, by_mouse.result.drawing)


@needs_widgets
def test_a_second_digit_after_clear_changes_the_answer(net):
    pad = widget(net)
    first = pad.draw(SEVEN)
    first_bars, first_input = pad.bars.value, pad.input_image.value
    pad.clear_button.click()
    assert pad.result.empty and pad.strokes == [] and "Draw a digit" in pad.summary.value
    second = pad.draw(ZERO)
    assert not np.array_equal(second.x, first.x)
    assert not np.allclose(second.probabilities, first.probabilities)
    assert pad.bars.value != first_bars and pad.input_image.value != first_input


@needs_widgets
def test_strokes_add_up_until_cleared(net):
    pad = widget(net)
    pad.draw(ONE)
    both = pad.draw([[(100, 140), (200, 140)]])  # a cross bar: one drawing, two strokes
    assert len(both.strokes) == 2
    np.testing.assert_array_equal(both.drawing, draw_strokes(ONE + [[(100, 140), (200, 140)]], size=280))


@needs_widgets
def test_bad_strokes_leave_the_widget_as_it_was(net):
    pad = widget(net)
    before = pad.draw(SEVEN)
    with pytest.raises(ValueError, match=r"strokes\[0\] must be a list of \(x, y\) points"):
        pad.draw([[1, 2, 3]])
    assert pad.result is before and len(pad.strokes) == 1


@needs_widgets
def test_the_widget_checks_its_arguments(net):
    with pytest.raises(TypeError, match=r"model must have a forward method"):
        widget(None)
    with pytest.raises(ValueError, match=r"width must be > 0, got -1\.0"):
        widget(net, stroke_width=-1.0)
    with pytest.raises(ValueError, match=r"canvas_size must be >= 8, got 4"):
        widget(net, canvas_size=4)


@needs_widgets
def test_the_widget_names_are_exported():
    from cnn_helpers import widgets
    from cnn_helpers.widgets import draw_digit

    assert widgets.DrawDigit is draw_digit.DrawDigit and widgets.predict_drawing is draw_digit.predict_drawing
    assert {"DrawDigit", "predict_drawing"} <= set(draw_digit.__all__)
