"""The feature-map explorer (lesson 08): the plain function, and the widget driven through its controls.

The maps themselves are ``Sequential.feature_maps`` (tested with the model); the widget draws them.
"""

import numpy as np
import pytest

from cnn_helpers.layers import Dense, Flatten
from cnn_helpers.model import Sequential, small_cnn
from cnn_helpers.widgets import FeatureMapExplorer
from cnn_helpers.widgets.feature_maps import explore_feature_maps

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def net():
    return small_cnn(seed=0, channels=(4, 6))


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((5, 1, 8, 8)).astype(np.float32)


# --------------------------------------------------------------------------------------------
# The plain functions


def test_explore_feature_maps_offers_every_layer_that_outputs_maps(net, images):
    for layer, shape in enumerate([(4, 8, 8), (4, 8, 8), (4, 4, 4), (6, 4, 4), (6, 4, 4), (6, 2, 2)]):
        result = explore_feature_maps(net, images, index=2, layer=layer)
        assert result.maps.shape == shape
    with pytest.raises(
        ValueError, match=r"layer must be one of \[0, 1, 2, 3, 4, 5\] \(the layers that output maps\), got 6"
    ):
        explore_feature_maps(net, images, layer=6)  # Flatten: a vector, not maps


def test_explore_feature_maps_picks_layer_and_channel(net, images):
    result = explore_feature_maps(net, images, index=3, layer=4, channel=5, labels=[0, 1, 2, 7, 4])
    outputs = net.feature_maps(images[3:4])
    np.testing.assert_array_equal(result.feature_map, outputs[4][0, 5])
    np.testing.assert_array_equal(result.maps, outputs[4][0])
    assert (result.index, result.label, result.layer, result.channel) == (3, 7, 4, 5)
    assert result.prediction == int(np.argmax(outputs[-1][0]))
    assert result.layer_name == "ReLU()"
    assert np.all(result.maps >= 0)  # after ReLU


def test_explore_feature_maps_clips_the_channel_and_defaults_to_the_first_layer(net, images):
    result = explore_feature_maps(net, images, channel=99)
    assert (result.layer, result.channel, result.label) == (0, 3, None)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(index=5), ValueError, r"index must be in \[0, 5\)"),
        (dict(layer=6), ValueError, "layers that output maps"),
        (dict(layer=-1), ValueError, "layer"),
        (dict(channel=1.5), TypeError, "channel"),
    ],
)
def test_explore_feature_maps_rejects_bad_choices(net, images, kwargs, error, match):
    with pytest.raises(error, match=match):
        explore_feature_maps(net, images, **kwargs)


def test_explore_feature_maps_rejects_what_is_not_a_model_or_images(net):
    with pytest.raises(
        TypeError, match=r"model must be a Sequential \(with a feature_maps method\), got object"
    ):
        explore_feature_maps(object(), np.zeros((1, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"images must be a 4-D array"):
        explore_feature_maps(net, np.zeros((1, 8, 8)))
    with pytest.raises(ValueError, match="no layer whose output is a stack of maps"):
        explore_feature_maps(Sequential(Flatten(), Dense(64, 10)), np.zeros((2, 1, 8, 8)))


# --------------------------------------------------------------------------------------------
# The widget


def test_widget_starts_with_a_result_an_image_and_its_css_class(net, images):
    explorer = FeatureMapExplorer(net, images, labels=[3, 1, 4, 1, 5], layer=1, channel=2)
    assert explorer.result.layer == 1 and explorer.result.channel == 2 and explorer.result.label == 3
    assert bytes(explorer.image.value).startswith(PNG_SIGNATURE)
    assert "cnn-feature-maps" in explorer.widget._dom_classes
    assert "network answers" in explorer.summary.value
    assert [value for _, value in explorer.layer_dropdown.options] == [0, 1, 2, 3, 4, 5]
    assert explorer.digit_slider.description == "digit #"


def test_widget_follows_its_controls(net, images):
    explorer = FeatureMapExplorer(net, images)
    first_png = bytes(explorer.image.value)
    explorer.digit_slider.value = 4
    assert explorer.result.index == 4
    assert bytes(explorer.image.value) != first_png
    explorer.layer_dropdown.value = 3
    assert explorer.channel_slider.max == 5
    explorer.channel_slider.value = 5
    np.testing.assert_array_equal(explorer.result.feature_map, net.feature_maps(images[4:5])[3][0, 5])


def test_widget_channel_range_follows_the_layer(net, images):
    explorer = FeatureMapExplorer(net, images, layer=3, channel=5)
    explorer.layer_dropdown.value = 2  # 4 channels: the channel is clipped, then the range shrinks
    assert (explorer.result.channel, explorer.channel_slider.max) == (3, 3)
    explorer.layer_dropdown.value = 5
    assert explorer.channel_slider.max == 5 and explorer.result.maps.shape == (6, 2, 2)


def test_widget_renders_without_labels_and_displays(net, images):
    explorer = FeatureMapExplorer(net, images[:2], dpi=40)
    assert explorer.result.label is None
    assert bytes(explorer.render_png()).startswith(PNG_SIGNATURE)
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
