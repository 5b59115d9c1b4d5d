"""The multiply-and-sum widget (lesson 02): the plain function, and the widget driven without a browser."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from cnn_helpers import conv, data
from cnn_helpers.conv import correlation_step, correlation_steps
from cnn_helpers.widgets import (
    MultiplyAndSum,
    multiply_and_sum,
)

LECTURE_MAP = [[3, 3, -2], [-3, -3, 4], [3, 3, -4]]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def example():
    return data.lecture_example()


@pytest.fixture
def widget(example):
    return MultiplyAndSum(example.image, example.sharpen, dpi=40)


def test_every_step_of_the_lecture_example(example):
    steps = correlation_steps(example.image, example.sharpen)
    assert [s.step for s in steps] == list(range(1, 10))
    assert [s.position for s in steps] == [(r, c) for r in range(3) for c in range(3)]
    assert [s.value for s in steps] == [v for row in LECTURE_MAP for v in row]
    assert steps[-1].feature_map.tolist() == LECTURE_MAP


def test_one_step_holds_window_products_and_partial_map(example):
    step = correlation_step(example.image, example.sharpen, 6)
    assert step.position == (1, 2) and step.n_steps == 9 and not step.flipped
    assert np.array_equal(step.window, example.image[1:4, 2:5])
    assert np.array_equal(step.products, example.image[1:4, 2:5] * example.sharpen)
    assert step.value == 4.0 == step.products.sum()
    expected = np.array(LECTURE_MAP, dtype=float)
    expected[2, :] = np.nan
    np.testing.assert_array_equal(step.feature_map, expected)
    assert not np.any((step.products == 0) & np.signbit(step.products))  # no -0.0 from 0 * -1


def test_flip_gives_true_convolution(example):
    steps = correlation_steps(example.image, example.one_to_nine, flip=True)
    assert np.array_equal(steps[0].kernel, example.one_to_nine[::-1, ::-1])
    assert np.array_equal(steps[-1].feature_map, conv.convolve2d(example.image, example.one_to_nine))
    unflipped = correlation_steps(example.image, example.one_to_nine)[-1].feature_map
    assert np.array_equal(unflipped, conv.correlate2d(example.image, example.one_to_nine))


def test_non_square_shapes():
    image, kernel = np.arange(12.0).reshape(3, 4), np.array([[1.0, -1.0]])
    steps = correlation_steps(image, kernel)
    assert len(steps) == 9 and steps[-1].feature_map.shape == (3, 3)
    assert steps[3].position == (1, 0)
    assert np.array_equal(steps[-1].feature_map, conv.correlate2d(image, kernel))


@pytest.mark.parametrize("step, match", [(0, "step must be >= 1"), (10, "step must be between 1 and 9")])
def test_step_out_of_range(example, step, match):
    with pytest.raises(ValueError, match=match):
        correlation_step(example.image, example.sharpen, step)


def test_bad_inputs(example):
    with pytest.raises(TypeError, match="step must be an integer"):
        correlation_step(example.image, example.sharpen, 1.5)
    with pytest.raises(
        ValueError, match=r"kernel of shape \(3, 3\) does not fit in the image of shape \(2, 5\)"
    ):
        correlation_step(np.zeros((2, 5)), np.zeros((3, 3)), 1)
    with pytest.raises(ValueError, match="image must be a 2-D array"):
        correlation_step(np.zeros(5), np.zeros((1, 1)), 1)


def test_widget_starts_at_step_one(widget):
    assert widget.result.step == 1 and widget.result.position == (0, 0) and widget.result.value == 3.0
    assert widget.previous_button.disabled and not widget.next_button.disabled
    assert bytes(widget.image.value).startswith(PNG_SIGNATURE)
    assert "cnn-multiply-and-sum" in widget.widget._dom_classes
    assert widget.image in widget.widget.children
    assert "step" in widget.step_slider.description


def test_slider_and_buttons_move_the_window(widget):
    first_png = bytes(widget.image.value)
    widget.step_slider.value = 6
    assert widget.result.position == (1, 2) and widget.result.value == 4.0
    png = bytes(widget.image.value)
    assert png != first_png and png.startswith(PNG_SIGNATURE)
    assert "Step 6 of 9" in widget.summary.value and "<b>4</b>" in widget.summary.value
    widget.next_button.click()
    assert widget.result.step == 7 and widget.result.position == (2, 0)
    widget.previous_button.click()
    widget.previous_button.click()
    assert widget.result.step == 5
    widget.step_slider.value = 9
    assert widget.next_button.disabled
    widget.next_button.click()  # stays at the last step
    assert widget.result.step == 9 and widget.result.feature_map.tolist() == LECTURE_MAP


def test_flip_checkbox(example):
    w = MultiplyAndSum(example.image, example.one_to_nine, dpi=40)
    w.step_slider.value = 1
    assert w.result.value == 23.0 and not w.result.flipped
    w.flip_checkbox.value = True
    assert w.result.flipped and w.result.value == 27.0
    assert np.array_equal(w.result.kernel, example.one_to_nine[::-1, ::-1])
    assert "flipped kernel" in w.summary.value


def test_defaults_are_the_lecture_example():
    w = MultiplyAndSum(step=9, dpi=40)
    assert w.result.feature_map.tolist() == LECTURE_MAP


def test_displays_as_its_container(widget):
    bundle = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == widget.widget.model_id


def test_module_exports():
    assert set(multiply_and_sum.__all__) == {"MultiplyAndSum"}  # the math is conv.correlation_step(s)
