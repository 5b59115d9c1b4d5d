"""Tests for cnn_helpers.filters: the lecture's kernels, applying them, grey conversion, Sobel edges."""

import numpy as np
import pytest

from cnn_helpers.conv import convolve2d, correlate2d
from cnn_helpers.filters import KERNELS, LECTURE_KERNELS, apply_kernel, sobel_magnitude, to_grey

LECTURE_IMAGE = np.array(
    [
        [0, 1, 1, 0, 0],
        [0, 1, 1, 0, 0],
        [1, 0, 0, 1, 1],
        [0, 1, 1, 0, 1],
        [1, 1, 1, 1, 1],
    ]
)

# Copied from the lecture slides, in their order.
LECTURE_VALUES = {
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "outline": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "sobel_top": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "sobel_left": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
}


# ----------------------------------------------------------------------------------------------
# The kernels
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LECTURE_VALUES)
def test_lecture_kernels_are_exact(name):
    np.testing.assert_array_equal(KERNELS[name], LECTURE_VALUES[name])


def test_lecture_kernel_names_and_order():
    assert tuple(LECTURE_VALUES) == LECTURE_KERNELS
    assert list(KERNELS) == list(LECTURE_KERNELS) + ["identity", "box_blur", "gaussian_blur"]


def test_extra_kernels():
    np.testing.assert_array_equal(KERNELS["identity"], [[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    np.testing.assert_allclose(KERNELS["box_blur"], np.full((3, 3), 1 / 9))
    np.testing.assert_allclose(KERNELS["gaussian_blur"] * 16, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    for name in ("identity", "box_blur", "gaussian_blur", "sharpen"):
        assert np.isclose(KERNELS[name].sum(), 1)  # keep overall brightness
    for name in ("laplacian", "outline", "sobel_top", "sobel_left"):
        assert KERNELS[name].sum() == 0  # no response on flat areas


def test_module_docstring_draws_every_kernel():
    import cnn_helpers.filters as filters

    for name in KERNELS:
        assert name in filters.__doc__


def test_kernels_are_read_only():
    with pytest.raises(ValueError, match="read-only"):
        KERNELS["sharpen"][1, 1] = 0
    editable = KERNELS["sharpen"].copy()
    editable[1, 1] = 9
    assert KERNELS["sharpen"][1, 1] == 5


# ----------------------------------------------------------------------------------------------
# apply_kernel
# ----------------------------------------------------------------------------------------------


def test_apply_sharpen_to_the_lecture_image():
    np.testing.assert_array_equal(
        apply_kernel(LECTURE_IMAGE, "sharpen", padding=0), [[3, 3, -2], [-3, -3, 4], [3, 3, -4]]
    )
    same = apply_kernel(LECTURE_IMAGE, "sharpen")
    assert same.shape == (5, 5)
    np.testing.assert_array_equal(same[0], [-1, 3, 3, -1, 0])
    assert same[4, 0] == 4  # the slide's 5 is an erratum
    np.testing.assert_array_equal(apply_kernel(LECTURE_IMAGE, "sharpen", padding=1, stride=2), same[::2, ::2])


def test_apply_kernel_by_name_equals_by_array(rng):
    image = rng.random((6, 7))
    for name in KERNELS:
        np.testing.assert_array_equal(apply_kernel(image, name), apply_kernel(image, KERNELS[name]))
        np.testing.assert_array_equal(
            apply_kernel(image, name, padding="valid"), correlate2d(image, KERNELS[name])
        )


def test_identity_returns_the_image(rng):
    image = rng.random((5, 6, 3))
    np.testing.assert_array_equal(apply_kernel(image, "identity"), image)


def test_rgb_is_filtered_channel_by_channel(rng):
    image = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    out = apply_kernel(image, "emboss")
    assert out.shape == (6, 5, 3)
    for channel in range(3):
        np.testing.assert_array_equal(out[..., channel], apply_kernel(image[..., channel], "emboss"))


def test_apply_kernel_is_cross_correlation_not_convolution(rng):
    image = rng.random((6, 6))
    kernel = KERNELS["sobel_left"]
    np.testing.assert_allclose(apply_kernel(image, kernel), correlate2d(image, kernel, padding=1))
    # flipping sobel_left negates it, so true convolution gives the opposite sign
    np.testing.assert_allclose(apply_kernel(image, kernel), -convolve2d(image, kernel, padding=1))


def test_apply_kernel_matches_scipy_ndimage(rng):
    ndimage = pytest.importorskip("scipy.ndimage")
    image = rng.random((9, 8))
    for name in KERNELS:
        expected = ndimage.correlate(image, KERNELS[name], mode="constant", cval=0.0)
        np.testing.assert_allclose(apply_kernel(image, name), expected, atol=1e-12)


def test_apply_kernel_with_own_kernel_and_padding(rng):
    image = rng.random((7, 7))
    kernel = rng.standard_normal((2, 3))
    assert apply_kernel(image, kernel, padding=(1, 0)).shape == (8, 5)
    assert apply_kernel(image, [[1, 2, 3]]).shape == (7, 7)  # odd 1x3 kernel: "same" works


def test_different_filters_extract_different_features():
    image = np.zeros((7, 7))
    image[:, 4:] = 1  # a vertical edge
    assert np.abs(apply_kernel(image, "sobel_left", padding=0)).max() == 4
    assert np.abs(apply_kernel(image, "sobel_top", padding=0)).max() == 0


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        (
            (np.ones((4, 4)), "blurr"),
            {},
            ValueError,
            r"unknown kernel 'blurr'; valid names are: sharpen, laplacian, emboss, outline, sobel_top, "
            r"sobel_left, identity, box_blur, gaussian_blur",
        ),
        (
            (np.ones((4, 4, 4)), "sharpen"),
            {},
            ValueError,
            r"image must be grey \(H, W\) or RGB \(H, W, 3\), got shape \(4, 4, 4\) \(drop the alpha channel",
        ),
        (
            (np.ones((4, 4, 2)), "sharpen"),
            {},
            ValueError,
            r"image must be grey \(H, W\) or RGB \(H, W, 3\), got shape \(4, 4, 2\)$",
        ),
        ((np.ones(4), "sharpen"), {}, ValueError, r"image must be a 2-D or 3-D array, got shape \(4,\)"),
        (
            (np.ones((4, 4)), np.ones((2, 2))),
            {},
            ValueError,
            r"padding='same' needs a kernel with odd height and width, got shape \(2, 2\)",
        ),
        (
            (np.ones((4, 4)), "sharpen"),
            {"padding": "full"},
            ValueError,
            r"padding must be 'same', 'valid', an int or an \(h, w\) pair, got str 'full'",
        ),
        ((np.ones((4, 4)), "sharpen"), {"padding": -1}, ValueError, r"padding must be >= 0, got -1"),
        ((np.ones((4, 4)), "sharpen"), {"stride": 0}, ValueError, r"stride must be >= 1, got 0"),
        (
            (np.ones((2, 2)), np.ones((5, 5))),
            {"padding": "valid"},
            ValueError,
            r"kernel of shape \(5, 5\) does not fit in the padded image of shape \(2, 2\)",
        ),
        ((np.ones((4, 4)), np.ones(3)), {}, ValueError, r"kernel must be a 2-D array, got shape \(3,\)"),
        ((np.ones((4, 4)), np.ones((0, 3))), {}, ValueError, r"kernel must not be empty"),
        ((np.ones((4, 4)), [["a"]]), {}, TypeError, r"kernel must hold real numbers"),
        ((np.ones((4, 4), dtype=complex), "sharpen"), {}, TypeError, r"image must hold real numbers"),
    ],
)
def test_apply_kernel_rejects(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        apply_kernel(*args, **kwargs)


# ----------------------------------------------------------------------------------------------
# to_grey and sobel_magnitude
# ----------------------------------------------------------------------------------------------


def test_to_grey_weights():
    np.testing.assert_allclose(to_grey([[[1, 0, 0], [0, 1, 0], [0, 0, 1]]]), [[0.299, 0.587, 0.114]])
    np.testing.assert_allclose(to_grey(np.full((2, 3, 3), 200, dtype=np.uint8)), np.full((2, 3), 200.0))
    rgba = np.ones((2, 2, 4))
    rgba[..., 3] = 0.5
    np.testing.assert_allclose(to_grey(rgba), np.ones((2, 2)))  # alpha ignored
    assert to_grey(np.ones((2, 2, 3), dtype=np.float32)).dtype == np.float32


def test_to_grey_rejects():
    with pytest.raises(
        ValueError, match=r"rgb must have shape \(H, W, 3\) or \(H, W, 4\), got shape \(4, 4, 2\)"
    ):
        to_grey(np.ones((4, 4, 2)))
    with pytest.raises(ValueError, match=r"rgb must be a 3-D array, got shape \(4, 4\)"):
        to_grey(np.ones((4, 4)))
    with pytest.raises(TypeError, match=r"rgb must hold real numbers"):
        to_grey(np.ones((2, 2, 3), dtype=complex))


def test_sobel_magnitude(rng):
    grey = rng.random((8, 9))
    expected = np.sqrt(apply_kernel(grey, "sobel_top") ** 2 + apply_kernel(grey, "sobel_left") ** 2)
    np.testing.assert_allclose(sobel_magnitude(grey), expected)
    flat = sobel_magnitude(np.full((6, 6), 3.0))
    np.testing.assert_array_equal(flat[1:-1, 1:-1], 0)  # no edges inside a flat image
    assert sobel_magnitude(grey).shape == grey.shape


def test_sobel_magnitude_rejects():
    with pytest.raises(ValueError, match=r"grey must be a 2-D array, got shape \(4, 4, 3\)"):
        sobel_magnitude(np.ones((4, 4, 3)))


# --------------------------------------------------------------------------------------------
# remaining_noise (lesson 03, exercise 3.6)


def test_remaining_noise():
    from cnn_helpers.filters import KERNELS, remaining_noise

    assert remaining_noise(KERNELS["identity"]) == 1.0
    # independent noise: the share is close to sqrt(sum of squared weights), 1/3 and 6/16
    assert abs(remaining_noise(KERNELS["box_blur"]) - 1 / 3) < 0.02
    assert abs(remaining_noise(KERNELS["gaussian_blur"]) - 0.375) < 0.02
    assert remaining_noise(KERNELS["sharpen"]) > 1
    assert remaining_noise("box_blur", seed=1) != remaining_noise("box_blur", seed=2)
    with pytest.raises(ValueError, match="unknown kernel 'blur'"):
        remaining_noise("blur")
