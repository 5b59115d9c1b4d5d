"""Grid drawing helpers (lessons 02, 04, 06): numbers in cells, windows, triples, steps."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle
from matplotlib.text import Annotation

from cnn_helpers import conv, data
from cnn_helpers.plotting import grids


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _texts(ax):
    """The numbers written in cells (operators between panels are annotations)."""
    return [text.get_text() for text in ax.texts if not isinstance(text, Annotation)]


def _annotations(ax):
    return [text.get_text() for text in ax.texts if isinstance(text, Annotation)]


def _frames(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]


def test_draw_matrix_writes_every_value_row_by_row():
    ax = grids.draw_matrix([[0, -1, 0], [-1, 5, -1]], title="kernel")
    assert _texts(ax) == ["0", "-1", "0", "-1", "5", "-1"]
    assert ax.get_title() == "kernel" and ax.get_xlabel() == "column" and ax.get_ylabel() == "row"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    assert ax.get_ylim() == (1.5, -0.5)  # row 0 at the top


def test_draw_matrix_formats():
    assert _texts(grids.draw_matrix([[0.5, 1.25]])) == ["0.50", "1.25"]
    assert _texts(grids.draw_matrix([[0.5, 1.25]], fmt=".1f")) == ["0.5", "1.2"]
    assert _texts(grids.draw_matrix([[2.0, -0.0]], fmt=lambda v: f"<{v:g}>")) == ["<2>", "<-0>"]
    assert _texts(grids.draw_matrix([[-0.0, 3.0]])) == ["0", "3"]  # no "-0"
    assert _texts(grids.draw_matrix([[1, 2]], show_values=False)) == []


def test_nan_cells_stay_blank():
    ax = grids.draw_matrix([[1.0, np.nan], [np.nan, -2.0]])
    assert _texts(ax) == ["1", "-2"]
    ax = grids.draw_matrix(np.full((2, 2), np.nan))  # nothing computed yet
    assert _texts(ax) == []


def test_text_colour_contrasts_with_the_cell():
    ax = grids.draw_matrix([[0, 1]])  # gray: 0 is black, 1 is white
    assert [text.get_color() for text in ax.texts] == ["white", "black"]


def _cell_rgb(ax, row, col):
    """The colour the image drawn on ``ax`` gives the value at ``(row, col)``."""
    image = ax.images[0]
    return tuple(float(v) for v in image.to_rgba(image.get_array()[row, col])[:3])


def test_pixel_value_one_is_white_and_zero_black():
    """The course's convention (issue 11): 1 is a bright pixel, drawn white, as photographs are."""
    example = data.lecture_example()
    ax = grids.draw_matrix(example.image)
    one, zero = np.argwhere(example.image == 1)[0], np.argwhere(example.image == 0)[0]
    assert _cell_rgb(ax, *one) == (1.0, 1.0, 1.0)
    assert _cell_rgb(ax, *zero) == (0.0, 0.0, 0.0)
    axes = grids.draw_image_kernel_map(
        example.image, example.sharpen, conv.correlate2d(example.image, example.sharpen)
    )
    assert _cell_rgb(axes[0], *one) == (1.0, 1.0, 1.0)


def test_zero_padding_is_drawn_black_and_hatched():
    """Padding holds zeros, so it is black like a 0 pixel; the hatching keeps it visible."""
    from matplotlib.colors import to_rgb

    padded = conv.pad2d(np.ones((2, 2)), padding=1)
    ax = grids.draw_matrix(padded, padding=1)
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert hatched and all(to_rgb(p.get_facecolor()) == (0.0, 0.0, 0.0) for p in hatched)
    assert all(to_rgb(p.get_edgecolor()) != (0.0, 0.0, 0.0) for p in hatched)  # the hatch shows on black
    padding_zeros = [t for t in ax.texts if t.get_text() == "0"]
    assert padding_zeros and all(to_rgb(t.get_color()) != (0.0, 0.0, 0.0) for t in padding_zeros)


def test_padding_border_is_shaded():
    padded = conv.pad2d(np.ones((2, 3)), padding=1)
    ax = grids.draw_matrix(padded, padding=1, first_index=-1)
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == padded.size - 6
    assert [t.get_text() for t in ax.get_yticklabels()] == ["-1", "0", "1", "2"]
    ax = grids.draw_matrix(conv.pad2d(np.ones((2, 3)), padding=(0, 2)), padding=(0, 2))
    assert len([p for p in ax.patches if p.get_hatch()]) == 2 * 2 * 2  # two rows, two columns on each side


def test_draw_matrix_errors():
    with pytest.raises(ValueError, match="matrix must be a 2-D array"):
        grids.draw_matrix([1, 2, 3])
    with pytest.raises(ValueError, match="must not be empty"):
        grids.draw_matrix(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="leaves no centre"):
        grids.draw_matrix(np.zeros((2, 2)), padding=1)
    with pytest.raises(TypeError, match="matrix must hold real numbers"):
        grids.draw_matrix([["a"]])


def test_draw_matrix_uses_the_given_axes():
    _fig, ax = plt.subplots()
    assert grids.draw_matrix(np.eye(2), ax) is ax


def test_highlight_window_frames_the_cells():
    ax = grids.draw_matrix(np.zeros((5, 5)))
    assert grids.highlight_window(ax, 1, 2, 3, 2, color="blue", label="window") is ax
    frame = _frames(ax)[-1]
    assert frame.get_xy() == (1.5, 0.5) and frame.get_width() == 2 and frame.get_height() == 3
    assert frame.get_label() == "window"
    with pytest.raises(ValueError, match="height must be >= 1"):
        grids.highlight_window(ax, 0, 0, 0)


def test_image_kernel_map_triple_with_window():
    example = data.lecture_example()
    feature_map = conv.correlate2d(example.image, example.sharpen)
    axes = grids.draw_image_kernel_map(example.image, example.sharpen, feature_map, window=(1, 2))
    assert [ax.get_title() for ax in axes] == ["image", "kernel", "feature map"]
    image_frame, map_frame = _frames(axes[0])[-1], _frames(axes[2])[-1]
    assert image_frame.get_xy() == (1.5, 0.5) and image_frame.get_width() == 3
    assert map_frame.get_xy() == (1.5, 0.5) and map_frame.get_width() == 1
    assert _texts(axes[2]) == ["3", "3", "-2", "-3", "-3", "4", "3", "3", "-4"]
    assert [text for ax in axes for text in _annotations(ax)] == ["⋆", "="]  # ⋆: cross-correlation


def test_a_true_convolution_is_written_with_an_asterisk():
    example = data.lecture_example()
    axes = grids.draw_image_kernel_map(
        example.image, example.one_to_nine, conv.convolve2d(example.image, example.one_to_nine), operator="*"
    )
    assert [text for ax in axes for text in _annotations(ax)] == ["*", "="]


def test_padded_strided_window_for_lesson_04():
    example = data.lecture_example()
    padded = conv.pad2d(example.image, padding=1)
    strided = conv.correlate2d(example.image, example.sharpen, padding=1, stride=2)
    axes = grids.draw_image_kernel_map(padded, example.sharpen, strided, window=(2, 0), stride=2, padding=1)
    assert _frames(axes[0])[-1].get_xy() == (-0.5, 3.5)  # rows 4-6, columns 0-2 of the padded image
    with pytest.raises(ValueError, match="outside the feature map"):
        grids.draw_image_kernel_map(padded, example.sharpen, strided, window=(3, 0), stride=2)


def test_pooling_input_output_pair_for_lesson_06():
    x = np.arange(16.0).reshape(4, 4)
    pooled = x.reshape(2, 2, 2, 2).max(axis=(1, 3))
    _fig, axes = plt.subplots(1, 2)
    drawn = grids.draw_image_kernel_map(
        x, None, pooled, axes, window=(0, 1), window_shape=2, stride=2, operator="max pool"
    )
    assert drawn == list(axes)
    assert [ax.get_title() for ax in drawn] == ["input", "output"]
    assert _frames(drawn[0])[-1].get_xy() == (1.5, -0.5)
    assert any("max pool" in text for text in _annotations(drawn[1]))
    with pytest.raises(ValueError, match="window_shape is needed"):
        grids.draw_image_kernel_map(x, None, pooled, window=(0, 0))
    with pytest.raises(ValueError, match="axes must hold 2 Axes"):
        grids.draw_image_kernel_map(x, None, pooled, plt.subplots(1, 3)[1])


def test_multiply_and_sum_step_panels():
    example = data.lecture_example()
    partial = np.full((3, 3), np.nan)
    partial[0] = [3, 3, -2]
    partial[1, 0] = -3
    axes = grids.draw_multiply_and_sum(example.image, example.sharpen, 1, 0, partial)
    assert [ax.get_title() for ax in axes] == [
        "image, window at (1, 0)",
        "kernel",
        "products, sum = -3",
        "feature map so far",
    ]
    assert _texts(axes[3]) == ["3", "3", "-2", "-3"]
    assert [text for ax in axes for text in _annotations(ax)] == ["×", "=", "sum\n⟶"]
    with pytest.raises(ValueError, match="outside the 3x3 feature map"):
        grids.draw_multiply_and_sum(example.image, example.sharpen, 3, 0)
    with pytest.raises(ValueError, match=r"feature_map must have shape \(3, 3\)"):
        grids.draw_multiply_and_sum(example.image, example.sharpen, 0, 0, np.zeros((2, 2)))


def test_all_steps_figure():
    example = data.lecture_example()
    axes = grids.draw_multiply_and_sum_steps(example.image, example.sharpen)
    assert axes.shape == (3, 6)
    sums = [axes[r, 2 * c + 1].get_title() for r in range(3) for c in range(3)]
    assert sums == [f"products, sum = {v}" for v in (3, 3, -2, -3, -3, 4, 3, 3, -4)]
    assert axes[2, 4].get_title() == "step 9: window at (2, 2)"
    with pytest.raises(ValueError, match="does not fit"):
        grids.draw_multiply_and_sum_steps(np.zeros((2, 2)), np.zeros((3, 3)))


def test_row_figsize_gives_room_for_every_grid():
    width, height = grids.row_figsize([(5, 5), (3, 3), (3, 3)])
    assert width > height > 0
    assert grids.row_figsize([(7, 7)])[1] > grids.row_figsize([(3, 3)])[1]


def test_plotting_and_widgets_export_their_names_explicitly():
    """No module-level __getattr__ scan: every public name is imported by name, so editors and
    linters resolve `from cnn_helpers.plotting import show_filtered`."""
    import importlib

    for package in ("cnn_helpers.plotting", "cnn_helpers.widgets"):
        module = importlib.import_module(package)
        assert not hasattr(module, "__getattr__")
        assert len(module.__all__) == len(set(module.__all__))
        missing = [name for name in module.__all__ if name not in vars(module)]
        assert not missing, f"{package} lists names it does not import: {missing}"
    from cnn_helpers.plotting import draw_padding_layout, plot_pooling, show_filtered  # noqa: F401
    from cnn_helpers.widgets import MultiplyAndSum, PaddingExplorer, PoolingExplorer  # noqa: F401


def test_padding_that_is_not_zero_keeps_its_colour():
    """Reflect or edge padding holds image values: a 1 there is drawn white (hatched), not black."""
    padded = np.pad(np.array([[1.0, 0.0], [0.0, 1.0]]), 1, mode="edge")
    ax = grids.draw_matrix(padded, padding=1)
    assert padded[0, 0] == 1 and _cell_rgb(ax, 0, 0) == (1.0, 1.0, 1.0)
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == padded.size - 4
    hatch_only = [p for p in hatched if p.get_facecolor()[3] == 0]  # the padding cells that hold a 1
    assert len(hatch_only) == int((padded == 1).sum()) - 2
