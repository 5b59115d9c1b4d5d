"""Lesson 08 figures: training curves, confusion matrix, misclassified digits, kernels beside filters, feature maps."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from cnn_helpers import filters
from cnn_helpers.plotting import training_plots as plots
from cnn_helpers.training import History


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(ax):
    return [text.get_text() for text in ax.texts]


# --------------------------------------------------------------------------------------------
# Training curves


def test_plot_history_takes_and_returns_axes():
    history = History()
    history.loss += [1.0, 0.6, 0.4]
    history.train_accuracy += [0.5, 0.7, 0.9]
    history.val_accuracy += [0.4, 0.6, 0.8]
    _fig, axes = plt.subplots(1, 2)
    assert plots.plot_history(history, axes) is axes
    assert axes[0].get_xlabel() == "epoch" and axes[1].get_title() == "Accuracy"
    assert [line.get_label() for line in axes[1].get_lines()] == ["training", "validation"]
    np.testing.assert_array_equal(axes[0].get_lines()[0].get_ydata(), [1.0, 0.6, 0.4])
    _fig2, ax = plt.subplots()
    assert plots.plot_history(history, ax) is ax and ax.get_ylabel() == "cross-entropy loss"
    assert plots.plot_history(history.as_dict())[0].get_title() == "Loss"  # a plain dict works too
    with pytest.raises(ValueError, match=r"history must have a non-empty 'loss' list"):
        plots.plot_history(History())


def test_plot_history_is_what_the_plotting_package_offers():
    from cnn_helpers.plotting import LivePlot, plot_history

    assert plot_history is plots.plot_history and LivePlot is plots.LivePlot


# --------------------------------------------------------------------------------------------
# Confusion matrix and misclassified examples


def test_confusion_matrix_draws_counts_and_labels():
    matrix = np.array([[5, 1, 0], [0, 4, 0], [2, 0, 3]])
    ax = plots.plot_confusion_matrix(matrix, class_names=["a", "b", "c"], title="three classes")
    assert ax.get_title() == "three classes"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert sorted(texts(ax)) == ["1", "2", "3", "4", "5"]  # zeros are left blank
    assert [label.get_text() for label in ax.get_xticklabels()] == ["a", "b", "c"]
    mistakes = [t for t in ax.texts if t.get_bbox_patch() is not None]
    assert sorted(t.get_text() for t in mistakes) == ["1", "2"]  # off the diagonal, highlighted


def test_confusion_matrix_uses_the_given_axes():
    _, ax = plt.subplots()
    assert plots.plot_confusion_matrix(np.eye(2, dtype=int), ax=ax) is ax


@pytest.mark.parametrize(
    "matrix, kwargs, match",
    [
        (np.ones((2, 3)), {}, "must be square"),
        (np.ones((2, 2)), {"class_names": ["x"]}, "2 entries"),
        (np.ones(4), {}, "matrix"),
    ],
)
def test_confusion_matrix_rejects_bad_input(matrix, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plots.plot_confusion_matrix(matrix, **kwargs)


def test_misclassified_shows_only_the_mistakes_with_captions():
    images = np.random.default_rng(0).random((6, 1, 8, 8))
    labels = np.array([0, 1, 2, 3, 4, 5])
    predictions = np.array([0, 7, 2, 8, 4, 5])
    probabilities = np.full((6, 10), 0.05)
    probabilities[1, 7], probabilities[3, 8] = 0.55, 0.9
    ax = plots.plot_misclassified(images, labels, predictions, probabilities=probabilities, columns=4)
    assert texts(ax) == ["1 → 7 (55%)", "3 → 8 (90%)"]
    assert ax.get_title() == "2 of 6 images misclassified (true → predicted)"
    assert ax.get_images()[0].get_array().shape == (8, 8 + 4 + 8)


def test_misclassified_limits_the_number_shown_and_handles_no_mistakes():
    images = np.zeros((10, 8, 8))
    ax = plots.plot_misclassified(
        images, np.zeros(10, int), np.ones(10, int), max_images=3, columns=2, title="t"
    )
    assert len(ax.texts) == 3 and ax.get_title() == "t"
    ax = plots.plot_misclassified(images, np.zeros(10, int), np.zeros(10, int))
    assert texts(ax) == ["no mistakes"]


def test_misclassified_rejects_mismatched_labels():
    with pytest.raises(ValueError, match="one per image"):
        plots.plot_misclassified(np.zeros((3, 8, 8)), [1, 2], [1, 2])
    with pytest.raises(ValueError, match=r"\(N, H, W\) or \(N, 1, H, W\)"):
        plots.plot_misclassified(np.zeros((3, 2, 8, 8)), [1, 2, 3], [1, 2, 3])


# --------------------------------------------------------------------------------------------
# Kernels and the lecture's filters


def test_filter_similarities_are_cosines_against_the_lecture_filters():
    kernels = np.stack([filters.KERNELS["sobel_top"], -2 * filters.KERNELS["sobel_left"], np.zeros((3, 3))])
    names, cosine = plots.filter_similarities(kernels)
    assert names == list(filters.KERNELS)
    assert cosine.shape == (3, len(filters.KERNELS))
    assert cosine[0, names.index("sobel_top")] == pytest.approx(1.0)
    assert cosine[1, names.index("sobel_left")] == pytest.approx(-1.0)
    assert cosine[0, names.index("sobel_left")] == pytest.approx(0.0)
    assert np.all(cosine[2] == 0)  # an all-zero kernel resembles nothing


def test_closest_filters_picks_the_largest_absolute_cosine():
    kernels = np.stack([filters.KERNELS["laplacian"] + 0.01, -filters.KERNELS["emboss"]])[:, None]
    (first, c1), (second, c2) = plots.closest_filters(kernels)
    assert first == "laplacian" and c1 > 0.99
    assert second == "emboss" and c2 < -0.99


def test_similarities_reject_shape_mismatches():
    with pytest.raises(ValueError, match="bank\\['a'\\] has shape"):
        plots.filter_similarities(np.ones((2, 3, 3)), {"a": np.ones((2, 2))})
    with pytest.raises(ValueError, match=r"\(K, KH, KW\) or \(K, 1, KH, KW\)"):
        plots.filter_similarities(np.ones((3, 3)))
    with pytest.raises(TypeError, match="bank must be a non-empty dict"):
        plots.filter_similarities(np.ones((1, 3, 3)), bank=[])


def test_kernels_beside_filters_pairs_each_kernel_with_its_match():
    kernels = np.stack(
        [filters.KERNELS["sobel_top"], -filters.KERNELS["sobel_left"], filters.KERNELS["outline"]]
    )
    axes = plots.plot_kernels_beside_filters(kernels, columns=2)
    assert axes.shape == (4, 2)
    assert axes[0, 0].get_title() == "learned #0"
    assert axes[1, 0].get_title() == "sobel_top\n|cos| = 1.00"
    assert axes[1, 1].get_title() == "−sobel_left\n|cos| = 1.00"
    assert axes[3, 0].get_title() == "outline\n|cos| = 1.00"
    assert not axes[2, 1].axison  # no fourth kernel: its panel stays empty
    shown = axes[1, 1].get_images()[0].get_array()
    np.testing.assert_array_equal(shown, -filters.KERNELS["sobel_left"])  # drawn with the sign


def test_kernels_beside_filters_checks_the_axes_it_is_given():
    _, axes = plt.subplots(2, 1, squeeze=False)
    with pytest.raises(ValueError, match="axes must have shape at least"):
        plots.plot_kernels_beside_filters(np.ones((3, 3, 3)), axes=axes, columns=2)


# --------------------------------------------------------------------------------------------
# Feature maps


def test_tile_maps_places_each_map_and_leaves_nan_gaps():
    maps = np.arange(3 * 2 * 2, dtype=float).reshape(3, 2, 2)
    tiled = plots.tile_maps(maps, columns=2, gap=1)
    assert tiled.shape == (5, 5)
    np.testing.assert_array_equal(tiled[0:2, 3:5], maps[1])
    np.testing.assert_array_equal(tiled[3:5, 0:2], maps[2])
    assert np.isnan(tiled[2]).all() and np.isnan(tiled[3:, 3:]).all()


def test_tile_maps_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one map"):
        plots.tile_maps(np.zeros((0, 2, 2)))
    with pytest.raises(ValueError, match="columns"):
        plots.tile_maps(np.zeros((2, 2, 2)), columns=0)


def test_feature_maps_numbers_each_map_and_frames_the_highlight():
    maps = np.random.default_rng(1).random((6, 4, 4))
    ax = plots.plot_feature_maps(maps, columns=3, highlight=4, title="six maps")
    assert ax.get_title() == "six maps"
    assert texts(ax) == ["0", "1", "2", "3", "4", "5"]
    (frame,) = ax.patches
    assert frame.get_xy() == (5 - 0.5, 5 - 0.5)  # map 4: second row, second column


def test_feature_maps_own_scale_stretches_every_map():
    maps = np.stack([np.full((2, 2), 0.0) + np.eye(2), 100 * np.eye(2)])
    ax = plots.plot_feature_maps(maps, same_scale=False)
    shown = ax.get_images()[0].get_array()
    assert float(shown.max()) == 1.0  # both maps now run from 0 to 1
    with pytest.raises(ValueError, match="highlight must be a channel"):
        plots.plot_feature_maps(maps, highlight=2)
