"""The pooling explorer (lesson 06): the plain function, and the widget driven through its controls."""

import numpy as np
import pytest

from cnn_helpers import conv, data, pooling
from cnn_helpers.widgets import PoolingExplorer
from cnn_helpers.widgets.pooling_explorer import explore_pooling

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def lecture_map():
    example = data.lecture_example()
    return conv.correlate2d(example.image, example.sharpen, padding=1)


# --------------------------------------------------------------------------------------------
# The plain function


def test_explore_pooling_matches_the_pooling_module():
    feature_map = lecture_map()
    for mode, function in (
        ("max", pooling.max_pool2d),
        ("avg", pooling.avg_pool2d),
        ("sum", pooling.sum_pool2d),
    ):
        for size, stride in ((2, 2), (3, 2), (2, 1), (3, 3)):
            result = explore_pooling(feature_map, size, stride=stride, mode=mode)
            np.testing.assert_allclose(result.output, function(feature_map, size, stride=stride))


def test_explore_pooling_describes_the_window_behind_an_output():
    result = explore_pooling(lecture_map(), 2, stride=2, mode="max", position=(1, 0))
    assert result.window.tolist() == [[5.0, -3.0], [-3.0, 3.0]]
    assert result.value == 5.0
    assert (result.input_values, result.output_values) == (25, 4)
    assert result.unused == 9  # the last row and column: 5 + 5 - 1 pixels


def test_explore_pooling_counts_the_gaps_of_a_stride_larger_than_the_window():
    result = explore_pooling(np.ones((5, 5)), size=1, stride=2)
    assert result.output.shape == (3, 3)
    assert result.unused == 25 - 9


def test_explore_pooling_clips_the_position_to_the_pooled_map():
    result = explore_pooling(np.arange(36.0).reshape(6, 6), size=3, stride=3, position=(5, 5))
    assert result.position == (1, 1)
    assert result.value == 35.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(mode="median"), "mode must be one of"),
        (dict(size=6), "does not fit"),
        (dict(size=0), "size"),
        (dict(stride=0), "stride"),
    ],
)
def test_explore_pooling_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        explore_pooling(lecture_map(), **kwargs)


# --------------------------------------------------------------------------------------------
# The widget


@pytest.fixture(scope="module")
def explorer():
    return PoolingExplorer()


def test_widget_starts_on_the_lecture_map_with_2x2_max_pooling(explorer):
    assert explorer.result.mode == "max"
    np.testing.assert_allclose(explorer.result.output, [[3, 3], [5, 4]])
    assert bytes(explorer.image.value).startswith(PNG_SIGNATURE)
    assert "cnn-pooling-explorer" in explorer.widget._dom_classes
    assert "Output [0, 0]" in explorer.summary.value


def test_each_control_changes_the_result_and_the_picture():
    explorer = PoolingExplorer()
    before = explorer.image.value

    explorer.mode_dropdown.value = "avg"
    np.testing.assert_allclose(explorer.result.output, pooling.avg_pool2d(explorer.feature_map, 2, stride=2))
    assert bytes(explorer.image.value) != bytes(before)

    explorer.mode_dropdown.value = "sum"
    np.testing.assert_allclose(explorer.result.output, pooling.sum_pool2d(explorer.feature_map, 2, stride=2))

    explorer.size_slider.value = 3
    assert explorer.result.size == 3
    assert explorer.result.output.shape == (2, 2)  # (5 - 3) // 2 + 1

    explorer.stride_slider.value = 1
    assert explorer.result.output.shape == (3, 3)
    assert explorer.row_slider.max == 2 and explorer.col_slider.max == 2

    explorer.row_slider.value, explorer.col_slider.value = 2, 1
    assert explorer.result.position == (2, 1)
    np.testing.assert_allclose(explorer.result.window, explorer.feature_map[2:5, 1:4])
    assert "Output [2, 1]" in explorer.summary.value


def test_shrinking_the_output_pulls_the_selected_position_back_inside():
    explorer = PoolingExplorer(size=1, stride=1)
    explorer.row_slider.value, explorer.col_slider.value = 4, 4
    explorer.size_slider.value = 2
    explorer.stride_slider.value = 2
    assert explorer.result.output.shape == (2, 2)
    assert explorer.result.position == (1, 1)
    assert explorer.row_slider.max == 1 and explorer.row_slider.value == 1


def test_widget_on_a_large_map_draws_without_numbers():
    feature_map = np.random.default_rng(0).normal(size=(40, 30))
    explorer = PoolingExplorer(feature_map, size=2, stride=2)
    assert explorer.result.output.shape == (20, 15)
    assert bytes(explorer.image.value).startswith(PNG_SIGNATURE)


def test_widget_rejects_a_window_that_does_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        PoolingExplorer(np.ones((2, 2)), size=3)
