"""Tests for cnn_helpers.images: images as data (lesson 01) and the transforms that move and shrink them."""

import itertools

import numpy as np
import pytest

from cnn_helpers.images import (
    block_average,
    count_polynomial_features,
    dense_weight_count,
    flatten_image,
    pad_to,
    shift_images,
    shuffle_pixels,
    unflatten,
    warp_images,
)

# ---------------------------------------------------------------- flatten_image and unflatten


def test_flatten_image_reads_rows_one_after_another(rng):
    image = rng.normal(size=(4, 7))
    expected = [image[row, col] for row in range(4) for col in range(7)]
    np.testing.assert_array_equal(flatten_image(image), expected)


def test_flatten_image_of_a_50x50_image_has_2500_values():
    assert flatten_image(np.zeros((50, 50))).shape == (2500,)


def test_flatten_image_takes_channels_first_images(rng):
    image = rng.normal(size=(3, 2, 5))
    np.testing.assert_array_equal(flatten_image(image), image.reshape(-1))


def test_flatten_image_returns_a_copy():
    image = np.zeros((2, 2))
    vector = flatten_image(image)
    vector[0] = 1.0
    assert image[0, 0] == 0.0


@pytest.mark.parametrize("ndim", [1, 4])
def test_flatten_image_rejects_wrong_number_of_dimensions(ndim):
    with pytest.raises(ValueError, match=r"image must be a 2-D or 3-D array, got shape"):
        flatten_image(np.zeros((2,) * ndim))


def test_flatten_image_rejects_text():
    with pytest.raises(TypeError, match="image must hold real numbers"):
        flatten_image([["a", "b"]])


def test_unflatten_undoes_flatten_image(rng):
    image = rng.normal(size=(6, 5))
    np.testing.assert_array_equal(unflatten(flatten_image(image), image.shape), image)


def test_unflatten_names_the_mismatch():
    with pytest.raises(
        ValueError,
        match=r"vector of length 2500 cannot become an image of shape \(50, 49\), which needs 2450",
    ):
        unflatten(np.zeros(2500), (50, 49))


def test_unflatten_rejects_a_shape_that_is_not_a_tuple():
    with pytest.raises(TypeError, match=r"shape must be a tuple of ints such as \(50, 50\), got int 2500"):
        unflatten(np.zeros(2500), 2500)


def test_unflatten_rejects_a_zero_side():
    with pytest.raises(ValueError, match=r"shape\[1\] must be >= 1, got 0"):
        unflatten(np.zeros(0), (3, 0))


def test_unflatten_wants_a_vector():
    with pytest.raises(ValueError, match="vector must be a 1-D array, got shape"):
        unflatten(np.zeros((2, 2)), (4,))


# ---------------------------------------------------------------- counting


def brute_force_feature_count(n_inputs, degree, include_bias):
    """Enumerate every monomial: a multiset of at most ``degree`` input indices."""
    monomials = set()
    for d in range(0 if include_bias else 1, degree + 1):
        monomials.update(itertools.combinations_with_replacement(range(n_inputs), d))
    return len(monomials)


@pytest.mark.parametrize("n_inputs", range(1, 7))
@pytest.mark.parametrize("degree", range(0, 5))
@pytest.mark.parametrize("include_bias", [True, False])
def test_count_polynomial_features_matches_enumeration(n_inputs, degree, include_bias):
    assert count_polynomial_features(n_inputs, degree, include_bias) == brute_force_feature_count(
        n_inputs, degree, include_bias
    )


def test_count_polynomial_features_answers_the_question_of_the_day():
    # a 50x50 image: 1 constant + 2,500 linear terms + 2,500 * 2,501 / 2 degree-2 terms
    assert count_polynomial_features(2500, degree=2) == 1 + 2500 + 2500 * 2501 // 2 == 3_128_751
    assert count_polynomial_features(2500, degree=2, include_bias=False) == 3_128_750


def test_count_polynomial_features_returns_a_python_int():
    assert type(count_polynomial_features(10**6, degree=3)) is int


def test_count_polynomial_features_validates():
    with pytest.raises(ValueError, match="n_inputs must be >= 1, got 0"):
        count_polynomial_features(0)
    with pytest.raises(ValueError, match="degree must be >= 0, got -1"):
        count_polynomial_features(5, degree=-1)
    with pytest.raises(TypeError, match=r"degree must be an integer, got float 2\.0"):
        count_polynomial_features(5, degree=2.0)
    with pytest.raises(TypeError, match="include_bias must be True or False, got str 'yes'"):
        count_polynomial_features(5, include_bias="yes")


def test_dense_weight_count():
    assert dense_weight_count(2500, 100) == 250_100
    assert dense_weight_count(2500, 100, bias=False) == 250_000
    assert dense_weight_count(3, 1) == 4


def test_dense_weight_count_validates():
    with pytest.raises(ValueError, match="n_units must be >= 1, got 0"):
        dense_weight_count(10, 0)
    with pytest.raises(TypeError, match="bias must be True or False, got int 1"):
        dense_weight_count(10, 2, bias=1)


# ---------------------------------------------------------------- shuffle_pixels


def test_shuffle_pixels_applies_one_permutation_to_every_image_and_channel(rng):
    images = rng.normal(size=(5, 3, 4, 6))
    shuffled, permutation = shuffle_pixels(images, seed=3)
    assert shuffled.shape == images.shape
    assert sorted(permutation.tolist()) == list(range(24))
    for n in range(5):
        for c in range(3):
            np.testing.assert_array_equal(shuffled[n, c].reshape(-1), images[n, c].reshape(-1)[permutation])


def test_shuffle_pixels_is_seeded(rng):
    images = rng.normal(size=(2, 8, 8))
    first, first_permutation = shuffle_pixels(images, seed=7)
    again, again_permutation = shuffle_pixels(images, seed=7)
    _other, other_permutation = shuffle_pixels(images, seed=8)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first_permutation, again_permutation)
    assert not np.array_equal(first_permutation, other_permutation)


def test_argsort_of_the_permutation_undoes_the_shuffle(rng):
    images = rng.normal(size=(3, 5, 5))
    shuffled, permutation = shuffle_pixels(images, seed=1)
    flat = shuffled.reshape(3, 25)[:, np.argsort(permutation)]
    np.testing.assert_array_equal(flat.reshape(images.shape), images)


def test_a_dense_layer_gives_the_same_outputs_on_shuffled_pixels_with_shuffled_weights(rng):
    images = rng.normal(size=(10, 6, 6))
    weights = rng.normal(size=(36, 4))
    shuffled, permutation = shuffle_pixels(images, seed=0)
    before = images.reshape(10, 36) @ weights
    after = shuffled.reshape(10, 36) @ weights[permutation]
    np.testing.assert_allclose(after, before)
    assert not np.array_equal(shuffled, images)  # the picture itself has changed


def test_shuffle_pixels_validates():
    with pytest.raises(
        ValueError, match=r"images must be \(H, W\), \(N, H, W\) or \(N, C, H, W\), got shape \(4,\)"
    ):
        shuffle_pixels(np.zeros(4))
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        shuffle_pixels(np.zeros((2, 2)), seed=-1)


# ---------------------------------------------------------------- shrinking, shifting and padding


def test_block_average():
    image = np.arange(16.0).reshape(4, 4)
    np.testing.assert_array_equal(block_average(image, 2), [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(block_average(image[:3, :3], 2), [[2.5]])  # partial blocks dropped
    with pytest.raises(ValueError, match=r"factor 5 is larger than the image of shape \(4, 4\)"):
        block_average(image, 5)


def shift_by_loops(image, dy, dx):
    height, width = image.shape
    out = np.zeros_like(image)
    for r in range(height):
        for c in range(width):
            if 0 <= r + dy < height and 0 <= c + dx < width:
                out[r + dy, c + dx] = image[r, c]
    return out


@pytest.mark.parametrize("dy", [-9, -8, -3, -1, 0, 2, 7, 8])
@pytest.mark.parametrize("dx", [-5, 0, 1, 4, 12])
def test_shift_images_matches_a_loop(rng, dy, dx):
    image = rng.normal(size=(8, 6))
    np.testing.assert_array_equal(shift_images(image, dy, dx), shift_by_loops(image, dy, dx))


def test_shift_images_moves_every_image_and_channel_in_a_batch(rng):
    batch = rng.normal(size=(3, 2, 5, 5))
    shifted = shift_images(batch, -2, 1)
    for n in range(3):
        for c in range(2):
            np.testing.assert_array_equal(shifted[n, c], shift_by_loops(batch[n, c], -2, 1))


def test_shifting_digits_on_a_canvas_keeps_every_pixel(rng):
    digits = rng.random(size=(4, 1, 8, 8))
    moved = shift_images(digits, 2, -2, canvas=12)
    assert moved.shape == (4, 1, 12, 12)
    assert moved.sum() == pytest.approx(digits.sum())
    back = shift_images(moved, -2, 2)
    np.testing.assert_array_equal(back[..., 2:10, 2:10], digits)


def test_shift_images_validates():
    with pytest.raises(TypeError, match=r"dy must be an integer, got float 1\.5"):
        shift_images(np.zeros((3, 3)), 1.5, 0)
    with pytest.raises(
        ValueError, match=r"x must be an image \(H, W\) or a batch \(\.\.\., H, W\), got shape \(3,\)"
    ):
        shift_images(np.zeros(3), 1, 0)


def test_pad_to_centres_the_images():
    padded = pad_to(np.ones((2, 1, 8, 8)), 12)
    assert padded.shape == (2, 1, 12, 12)
    assert padded[..., 2:10, 2:10].all() and padded.sum() == 2 * 64


def test_pad_to_puts_an_odd_extra_row_below():
    padded = pad_to(np.ones((2, 2)), (5, 4))
    np.testing.assert_array_equal(np.argwhere(padded).min(axis=0), [1, 1])
    np.testing.assert_array_equal(np.argwhere(padded).max(axis=0), [2, 2])


def test_pad_to_refuses_a_smaller_canvas():
    with pytest.raises(ValueError, match=r"size \(6, 10\) is smaller than the images, which are \(8, 8\)"):
        pad_to(np.zeros((8, 8)), (6, 10))


# ---------------------------------------------------------------- warp_images (lesson 08's augmentation)


def test_warp_images_with_identity_parameters_returns_the_input(rng):
    x = rng.random((3, 2, 7, 9)).astype(np.float32)
    out = warp_images(x, angle=0, scale=1, shear=0, shift=(0, 0))
    assert out.shape == x.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, x, atol=1e-6)


@pytest.mark.parametrize("turns", [1, 2, 3, -1])
def test_warp_images_quarter_turns_equal_rot90(rng, turns):
    image = rng.random((6, 6))
    np.testing.assert_allclose(warp_images(image, angle=90 * turns), np.rot90(image, turns), atol=1e-12)


@pytest.mark.parametrize(("dy", "dx"), [(1, 0), (0, -2), (-1, 3)])
def test_warp_images_whole_pixel_shifts_equal_shift_images(rng, dy, dx):
    x = rng.random((4, 1, 8, 8))
    np.testing.assert_allclose(warp_images(x, shift=(dy, dx)), shift_images(x, dy, dx), atol=1e-12)


def test_warp_images_gives_each_image_its_own_parameters(rng):
    x = rng.random((3, 1, 6, 6))
    angle, scale, shear = np.array([90.0, 0.0, 30.0]), np.array([1.0, 1.2, 0.8]), np.array([0.0, 10.0, -5.0])
    shift = np.array([[0.0, 0.0], [0.5, -1.0], [2.0, 0.3]])
    together = warp_images(x, angle=angle, scale=scale, shear=shear, shift=shift)
    for i in range(3):
        alone = warp_images(x[i], angle=angle[i], scale=scale[i], shear=shear[i], shift=tuple(shift[i]))
        np.testing.assert_allclose(together[i], alone, atol=1e-12)
    np.testing.assert_allclose(together[0, 0], np.rot90(x[0, 0]), atol=1e-12)


def _scipy_warp(image, angle, scale, shear, shift):
    """The same warp written as scipy.ndimage.affine_transform's output -> input mapping."""
    ndimage = pytest.importorskip("scipy.ndimage")
    theta, k = np.deg2rad(angle), np.tan(np.deg2rad(shear))
    forward = (
        scale
        * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
        @ np.array([[1.0, 0.0], [k, 1.0]])
    )
    inverse = np.linalg.inv(forward)
    centre = (np.array(image.shape) - 1) / 2
    offset = centre - inverse @ (centre + np.asarray(shift, dtype=float))
    return ndimage.affine_transform(image, inverse, offset=offset, order=1, mode="grid-constant", cval=0.0)


@pytest.mark.parametrize(
    ("angle", "scale", "shear", "shift"),
    [
        (13.0, 1.0, 0.0, (0.0, 0.0)),
        (-11.0, 0.9, 0.0, (0.4, -1.3)),
        (7.0, 1.1, 12.0, (-2.0, 0.7)),
        (0.0, 1.0, -20.0, (0, 0)),
        (25.0, 0.6, 0.0, (3.0, -4.5)),
        (-40.0, 1.7, 15.0, (-6.0, 9.0)),
    ],
)
def test_warp_images_matches_scipy_ndimage(rng, angle, scale, shear, shift):
    image = rng.random((9, 12))
    expected = _scipy_warp(image, angle, scale, shear, shift)
    out = warp_images(image, angle=angle, scale=scale, shear=shear, shift=shift)
    np.testing.assert_allclose(out, expected, atol=1e-10)


def test_warp_images_reads_zeros_far_outside_the_image(rng):
    x = rng.random((2, 1, 5, 5)).astype(np.float32)
    np.testing.assert_array_equal(warp_images(x, shift=(0, 20)), np.zeros_like(x))
    np.testing.assert_array_equal(warp_images(x, shift=(-7.5, 0.25)), np.zeros_like(x))


def test_warp_images_positive_angle_turns_counter_clockwise():
    image = np.zeros((5, 5))
    image[2, 4] = 1.0  # right of the centre
    out = warp_images(image, angle=90)
    assert out[0, 2] == pytest.approx(1.0) and out.sum() == pytest.approx(1.0)  # now above it


def test_warp_images_keeps_integer_images_as_float64():
    out = warp_images(np.ones((3, 3), dtype=np.int64))
    assert out.dtype == np.float64


def test_warp_images_validates():
    x = np.zeros((2, 1, 5, 5))
    with pytest.raises(ValueError, match=r"x must be an image \(H, W\) or a batch"):
        warp_images(np.zeros(5))
    with pytest.raises(
        ValueError,
        match=r"angle must be a number or an array of shape \(2,\) \(one per image\), got shape \(3,\)",
    ):
        warp_images(x, angle=[1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="scale must be a number or an array of 2 numbers"):
        warp_images(x, scale="big")
    with pytest.raises(TypeError, match="angle must be a number"):
        warp_images(x, angle=True)
    with pytest.raises(ValueError, match="scale must be > 0, got -1"):
        warp_images(x, scale=-1.0)
    with pytest.raises(ValueError, match="shear must be strictly between -90 and 90 degrees, got 90"):
        warp_images(x, shear=90)
    with pytest.raises(
        ValueError, match=r"shift must be a \(dy, dx\) pair or an array of shape \(2, 2\), got shape \(3,\)"
    ):
        warp_images(x, shift=(1, 2, 3))
    with pytest.raises(ValueError, match="angle must hold finite numbers"):
        warp_images(x, angle=np.nan)
    with pytest.raises(ValueError, match="shift must hold finite numbers"):
        warp_images(x, shift=(np.inf, 0))
