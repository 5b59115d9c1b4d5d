"""The kernel playground (lesson 03): the plain function, and the widget driven through its controls."""

import numpy as np
import pytest

from cnn_helpers import data, filters
from cnn_helpers.widgets import KernelPlayground
from cnn_helpers.widgets.kernel_playground import (
    CUSTOM,
    IMAGE_NAMES,
    PRESET_NAMES,
    filter_image,
    matching_preset,
    playground_image,
    render_playground,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------------------------
# The plain functions


@pytest.mark.parametrize("name", IMAGE_NAMES)
def test_every_image_is_grey_in_zero_to_one(name):
    image = playground_image(name)
    assert image.ndim == 2 and image.min() >= 0 and image.max() <= 1
    image[0, 0] = 7  # a fresh copy: the cache is not touched
    assert playground_image(name)[0, 0] != 7


def test_images_are_the_course_data():
    np.testing.assert_array_equal(playground_image("lecture 5x5"), data.lecture_example().image)
    np.testing.assert_allclose(playground_image("photo"), data.load_photo(grey=True, size=128))
    stripes = playground_image("horizontal stripes")
    assert np.all(stripes == stripes[:, :1])  # constant along each row
    np.testing.assert_array_equal(playground_image("vertical stripes"), stripes.T)


@pytest.mark.parametrize("kernel", ["sharpen", "sobel_left", [[1, 2, 3], [4, 5, 6], [7, 8, 9]]])
def test_filter_image_is_apply_kernel(kernel):
    result = filter_image(kernel, "digit")
    expected_kernel = filters.KERNELS[kernel] if isinstance(kernel, str) else np.array(kernel, float)
    np.testing.assert_array_equal(result.kernel, expected_kernel)
    np.testing.assert_allclose(result.filtered, filters.apply_kernel(result.image, expected_kernel))
    assert result.image_name == "digit" and result.filtered.shape == result.image.shape


@pytest.mark.parametrize(
    "kernel, image_name, match",
    [
        ("blur", "photo", "unknown kernel 'blur'"),
        (np.ones((5, 5)), "photo", r"shape \(3, 3\)"),
        ([[np.nan, 0, 0], [0, 1, 0], [0, 0, 0]], "photo", "finite"),
        ("sharpen", "cat", "image_name must be one of"),
    ],
)
def test_filter_image_rejects_bad_input(kernel, image_name, match):
    with pytest.raises(ValueError, match=match):
        filter_image(kernel, image_name)


def test_filter_image_rejects_a_non_string_image_name():
    with pytest.raises(TypeError, match="image_name must be a string"):
        filter_image("sharpen", 3)


def test_matching_preset():
    for name in PRESET_NAMES:
        assert matching_preset(filters.KERNELS[name]) == name
    assert matching_preset(np.full((3, 3), 2.0)) == CUSTOM


def test_render_playground_gives_png_bytes():
    png = render_playground(filter_image("emboss", "lecture 5x5"))
    assert png.startswith(PNG_SIGNATURE) and len(png) > 1000


# --------------------------------------------------------------------------------------------
# The widget


def test_widget_starts_with_its_arguments():
    playground = KernelPlayground(kernel="outline", image_name="shapes")
    assert playground.preset.value == "outline"
    assert playground.result.image_name == "shapes"
    np.testing.assert_array_equal(playground.result.kernel, filters.KERNELS["outline"])
    assert bytes(playground.figure.value).startswith(PNG_SIGNATURE)
    assert "cnn-kernel-playground" in playground.widget._dom_classes
    assert [cell.description for cell in playground.cells[1]] == ["k[1,0]", "k[1,1]", "k[1,2]"]


def test_choosing_a_preset_fills_the_boxes_and_redraws_once():
    playground = KernelPlayground(kernel="sharpen", image_name="lecture 5x5")
    redraws = []
    playground.figure.observe(lambda change: redraws.append(1), names="value")
    playground.preset.value = "sobel_top"
    np.testing.assert_array_equal(playground.kernel(), filters.KERNELS["sobel_top"])
    np.testing.assert_array_equal(playground.result.kernel, filters.KERNELS["sobel_top"])
    np.testing.assert_allclose(
        playground.result.filtered, filters.apply_kernel(data.lecture_example().image, "sobel_top")
    )
    assert len(redraws) == 1


def test_editing_a_box_makes_the_kernel_custom_and_back():
    playground = KernelPlayground(kernel="outline", image_name="photo")
    before = playground.figure.value
    playground.cells[1][1].value = 9.0
    assert playground.preset.value == CUSTOM
    assert playground.result.kernel[1, 1] == 9.0
    # outline with a 9 in the middle = the photo plus its outline
    photo = playground_image("photo")
    np.testing.assert_allclose(playground.result.filtered, photo + filters.apply_kernel(photo, "outline"))
    assert "entries sum to 1" in playground.summary.value
    assert bytes(playground.figure.value) != bytes(before)
    playground.cells[1][1].value = 8.0
    assert playground.preset.value == "outline"
    assert "entries sum to 0" in playground.summary.value


def test_choosing_custom_in_the_dropdown_keeps_the_kernel():
    playground = KernelPlayground(kernel="laplacian", image_name="digit")
    playground.preset.value = CUSTOM
    np.testing.assert_array_equal(playground.kernel(), filters.KERNELS["laplacian"])


def test_changing_the_image_refilters():
    playground = KernelPlayground(kernel="sobel_top", image_name="vertical stripes")
    assert np.abs(playground.result.filtered[1:-1]).max() == 0  # vertical stripes have no horizontal edges
    playground.image_choice.value = "horizontal stripes"
    assert playground.result.image_name == "horizontal stripes"
    assert np.abs(playground.result.filtered[1:-1]).max() == 4


def test_set_kernel_accepts_numbers():
    playground = KernelPlayground(image_name="lecture 5x5")
    playground.set_kernel(np.eye(3))
    assert playground.preset.value == CUSTOM
    np.testing.assert_allclose(
        playground.result.filtered, filters.apply_kernel(data.lecture_example().image, np.eye(3))
    )
