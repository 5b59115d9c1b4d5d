"""Tests for cnn_helpers.data: the data folder, the 8x8 digits, the lecture's example, the photo, shapes.

The 28x28 MNIST sample is tested in test_data_mnist_sample.py, the downloading MNIST loaders in
test_data_mnist.py, the image transforms in test_images.py.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnn_helpers import data

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_digits.py"


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A copy of the data folder in tmp_path, selected through CNN_COURSE_DATA."""
    shutil.copy(data.DATA_DIR / data.DIGITS_FILE, tmp_path / data.DIGITS_FILE)
    monkeypatch.setenv("CNN_COURSE_DATA", str(tmp_path))
    return tmp_path


# ---------------------------------------------------------------- data folder and checksum


def test_data_dir_is_the_repository_data_folder():
    environment = {key: value for key, value in os.environ.items() if key != "CNN_COURSE_DATA"}
    code = "import cnn_helpers.data as d; print(d.DATA_DIR); print(d.data_dir())"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment
    ).stdout
    assert output.splitlines() == [str(ROOT / "data")] * 2


def test_data_dir_follows_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_COURSE_DATA", str(tmp_path))
    assert data.data_dir() == tmp_path


def test_shipped_digits_file_has_the_documented_checksum():
    path = ROOT / "data" / "digits.npz"
    content = path.read_bytes()
    assert hashlib.sha256(content).hexdigest() == data.DIGITS_SHA256
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert data.DIGITS_SHA256 in readme
    assert f"{len(content):,} bytes" in readme
    assert (ROOT / "data" / "LICENSE-digits.txt").is_file()


def test_a_corrupted_digits_file_fails_clearly(data_copy):
    path = data_copy / data.DIGITS_FILE
    content = bytearray(path.read_bytes())
    content[100] ^= 0xFF
    path.write_bytes(bytes(content))
    actual = hashlib.sha256(bytes(content)).hexdigest()
    with pytest.raises(data.ChecksumError) as error:
        data.load_digits()
    message = str(error.value)
    assert str(path) in message
    assert f"its SHA-256 is {actual}, expected {data.DIGITS_SHA256}" in message
    assert "git checkout -- data/digits.npz" in message and "scripts/make_digits.py" in message


def test_a_missing_digits_file_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_COURSE_DATA", str(tmp_path))
    with pytest.raises(
        FileNotFoundError, match=r"handwritten digits file .*digits\.npz is missing\. Restore it"
    ):
        data.load_digits_arrays()


def test_an_intact_copy_loads_from_the_environment_folder(data_copy):
    images, _labels = data.load_digits_arrays()
    assert images.shape == (1797, 1, 8, 8)


# ---------------------------------------------------------------- digits


def test_digits_shapes_types_and_ranges(no_network):
    images, labels = data.load_digits_arrays()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float32
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    np.testing.assert_array_equal(images * 16, np.round(images * 16))  # sixteenths of ink
    assert sorted(np.unique(labels).tolist()) == list(range(10))
    assert np.bincount(labels).min() >= 170


def test_digits_equal_scikit_learns():
    datasets = pytest.importorskip("sklearn.datasets")
    bunch = datasets.load_digits()
    images, labels = data.load_digits_arrays()
    np.testing.assert_array_equal(images[:, 0] * 16, bunch.images)
    np.testing.assert_array_equal(labels, bunch.target)


def test_the_script_reproduces_the_shipped_data(tmp_path):
    """Two runs give identical bytes; the output holds exactly the shipped arrays.

    The shipped file's bytes are pinned by its SHA-256 on every load; here we compare the decoded
    arrays, because another zlib build may compress the same arrays to different bytes.
    """
    pytest.importorskip("sklearn")
    outputs = [tmp_path / "first.npz", tmp_path / "second.npz"]
    for out in outputs:
        subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True, capture_output=True)
    assert outputs[0].read_bytes() == outputs[1].read_bytes(), "two runs of the script differ"
    with np.load(outputs[0]) as made, np.load(ROOT / "data" / "digits.npz") as shipped:
        assert sorted(made.files) == sorted(shipped.files) == ["images", "labels"]
        for name in made.files:
            assert made[name].dtype == shipped[name].dtype
            np.testing.assert_array_equal(
                made[name], shipped[name], err_msg=f"{name} differs from data/digits.npz"
            )


def test_load_digits_split_shapes_and_types():
    split = data.load_digits()
    x_train, y_train, x_test, y_test = split
    assert x_train.shape[1:] == x_test.shape[1:] == (1, 8, 8)
    assert x_train.dtype == x_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    assert len(x_train) == len(y_train) and len(x_test) == len(y_test)
    assert len(x_train) + len(x_test) == 1797
    assert split.x_test is x_test  # fields have names too


def test_load_digits_is_reproducible_and_depends_on_the_seed():
    first, again, other = data.load_digits(seed=1), data.load_digits(seed=1), data.load_digits(seed=2)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.y_test, other.y_test)


def test_load_digits_uses_the_split_indices():
    images, labels = data.load_digits_arrays()
    train, test = data.stratified_split(labels, 0.3, seed=5)
    split = data.load_digits(test_fraction=0.3, seed=5)
    np.testing.assert_array_equal(split.x_train, images[train])
    np.testing.assert_array_equal(split.y_test, labels[test])


@pytest.mark.parametrize("test_fraction", [0.1, 0.25, 0.5, 0.9])
def test_stratified_split_is_disjoint_complete_and_balanced(test_fraction):
    _, labels = data.load_digits_arrays()
    train, test = data.stratified_split(labels, test_fraction, seed=0)
    assert len(np.intersect1d(train, test)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(len(labels)))
    per_class = np.bincount(labels)
    np.testing.assert_allclose(np.bincount(labels[test]), test_fraction * per_class, atol=0.5)


def test_stratified_split_shuffles_the_classes():
    _, labels = data.load_digits_arrays()
    train, _ = data.stratified_split(labels, 0.25, seed=0)
    assert not np.all(np.diff(labels[train]) >= 0)


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1])
def test_test_fraction_must_be_strictly_between_0_and_1(bad):
    with pytest.raises(ValueError, match=f"test_fraction must be strictly between 0 and 1, got {bad}"):
        data.load_digits(test_fraction=bad)


def test_test_fraction_must_be_a_number():
    with pytest.raises(TypeError, match=r"test_fraction must be a number between 0 and 1, got str '0\.2'"):
        data.load_digits(test_fraction="0.2")
    with pytest.raises(TypeError, match="test_fraction must be a number between 0 and 1, got bool True"):
        data.load_digits(test_fraction=True)


def test_seed_must_be_a_non_negative_int():
    with pytest.raises(ValueError, match="seed must be >= 0, got -3"):
        data.load_digits(seed=-3)


# ---------------------------------------------------------------- the lecture's example


def multiply_and_sum(image, kernel, padding=0, stride=1):
    """The test's own sliding-window cross-correlation, written out as loops."""
    padded = np.pad(image, padding)
    size = kernel.shape[0]
    rows = (padded.shape[0] - size) // stride + 1
    cols = (padded.shape[1] - size) // stride + 1
    out = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            window = padded[i * stride : i * stride + size, j * stride : j * stride + size]
            out[i, j] = np.sum(window * kernel)
    return out


def test_lecture_example_values():
    example = data.lecture_example()
    np.testing.assert_array_equal(
        example.image,
        [[0, 1, 1, 0, 0], [0, 1, 1, 0, 0], [1, 0, 0, 1, 1], [0, 1, 1, 0, 1], [1, 1, 1, 1, 1]],
    )
    np.testing.assert_array_equal(example.sharpen, [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    np.testing.assert_array_equal(example.one_to_nine, [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    for array in (example.image, example.sharpen, example.one_to_nine):
        assert array.dtype == np.float64


def test_lecture_example_returns_fresh_arrays():
    example = data.lecture_example()
    example.image[0, 0] = 99
    assert data.lecture_example().image[0, 0] == 0


def test_the_one_to_nine_kernel_makes_the_flip_visible():
    kernel = data.lecture_example().one_to_nine
    assert not np.array_equal(kernel, np.flip(kernel))


def test_lecture_valid_map_matches_the_lesson():
    example = data.lecture_example()
    np.testing.assert_array_equal(
        multiply_and_sum(example.image, example.sharpen), [[3, 3, -2], [-3, -3, 4], [3, 3, -4]]
    )


def test_slide_padded_map_differs_from_multiply_and_sum_only_at_its_erratum():
    example = data.lecture_example()
    computed = multiply_and_sum(example.image, example.sharpen, padding=1)
    printed = data.LECTURE_SLIDE_PADDED_MAP
    assert printed.shape == (5, 5)
    assert np.argwhere(computed != printed).tolist() == [[4, 0]]  # row 5, column 1
    assert (computed[4, 0], printed[4, 0]) == (4, 5)


def test_slide_stride2_map_differs_from_multiply_and_sum_only_at_its_erratum():
    example = data.lecture_example()
    computed = multiply_and_sum(example.image, example.sharpen, padding=1, stride=2)
    printed = data.LECTURE_SLIDE_STRIDE2_MAP
    assert printed.shape == (3, 3)
    assert np.argwhere(computed != printed).tolist() == [[2, 0]]
    assert (computed[2, 0], printed[2, 0]) == (4, 5)


def test_slide_maps_are_read_only():
    with pytest.raises(ValueError):
        data.LECTURE_SLIDE_PADDED_MAP[4, 0] = 4


# ---------------------------------------------------------------- the photograph


def test_load_photo_is_a_colour_photo_in_0_1(no_network):
    photo = data.load_photo()
    assert photo.shape == (600, 512, 3) and photo.dtype == np.float64
    assert photo.min() >= 0.0 and photo.max() <= 1.0
    assert photo.std() > 0.1  # a real picture, not a blank


def test_load_photo_grey_mixes_the_channels(no_network):
    colour, grey = data.load_photo(), data.load_photo(grey=True)
    assert grey.shape == (600, 512)
    np.testing.assert_allclose(grey, colour @ data.GREY_WEIGHTS)


def test_load_photo_size_crops_a_centred_square_then_averages_blocks(no_network):
    full, small = data.load_photo(grey=True), data.load_photo(grey=True, size=64)
    assert small.shape == (64, 64)  # the centre 512 x 512 (rows 44..555) in blocks of 8 x 8
    assert small[3, 7] == pytest.approx(full[44 + 24 : 44 + 32, 56:64].mean())
    np.testing.assert_allclose(small.mean(), full[44:556].mean())


@pytest.mark.parametrize(
    "size, factor, top, left",
    [
        (512, 1, 44, 0),  # blocks of 1: the centre square itself
        (128, 4, 44, 0),
        (100, 5, 50, 6),  # the centre 500 x 500: rows 50..549, columns 6..505
        (50, 10, 50, 6),  # lesson 01's 50 x 50
        (24, 21, 48, 4),  # the centre 504 x 504
        (200, 2, 100, 56),  # the centre 400 x 400
        (1, 512, 44, 0),
    ],
)
def test_load_photo_size_gives_a_size_by_size_centred_square(no_network, size, factor, top, left):
    full = data.load_photo()
    small = data.load_photo(size=size)
    assert small.shape == (size, size, 3)
    side = size * factor
    crop = full[top : top + side, left : left + side]
    assert crop.shape[:2] == (side, side)
    # centred: what is cut above equals what is cut below (or one row less), likewise left and right
    assert top <= 600 - top - side <= top + 1 and left <= 512 - left - side <= left + 1
    np.testing.assert_allclose(small, crop.reshape(size, factor, size, factor, 3).mean(axis=(1, 3)))


def test_load_photo_validates():
    with pytest.raises(ValueError, match="size must be >= 1, got 0"):
        data.load_photo(size=0)
    with pytest.raises(ValueError, match="size must be at most 512, the photo's width, got 513"):
        data.load_photo(size=513)
    with pytest.raises(TypeError, match="grey must be True or False, got str 'yes'"):
        data.load_photo(grey="yes")


# ---------------------------------------------------------------- synthetic shapes


@pytest.mark.parametrize("kind", data.SHAPE_KINDS)
@pytest.mark.parametrize("size", [3, 5, 7, 9])
def test_each_shape_fits_its_square_and_is_mirror_symmetric(kind, size):
    shape = data.draw_shape(kind, canvas_size=15, center=(7, 7), size=size)
    square = data.draw_shape("square", canvas_size=15, center=(7, 7), size=size)
    assert set(np.unique(shape)) <= {0.0, 1.0}
    assert np.all(shape <= square)
    np.testing.assert_array_equal(shape, shape[:, ::-1])
    rows, cols = np.nonzero(shape)
    assert rows.max() - rows.min() + 1 == size and cols.max() - cols.min() + 1 == size


def test_square_and_circle_and_cross_have_all_the_symmetries_of_a_square():
    for kind in ("square", "circle", "cross"):
        shape = data.draw_shape(kind, 11, (5, 5), 9)
        np.testing.assert_array_equal(shape, shape.T)
        np.testing.assert_array_equal(shape, shape[::-1])


def test_square_has_size_squared_pixels():
    assert data.draw_shape("square", 16, (7, 7), 5).sum() == 25


def test_triangle_points_up():
    triangle = data.draw_shape("triangle", 7, (3, 3), 7)
    assert triangle.sum(axis=1).tolist() == [1, 1, 3, 3, 5, 5, 7]


def test_cross_of_size_3_is_a_plus_sign():
    np.testing.assert_array_equal(data.draw_shape("cross", 3, (1, 1), 3), [[0, 1, 0], [1, 1, 1], [0, 1, 0]])


def test_even_size_on_a_half_pixel_centre_is_exactly_that_wide():
    square = data.draw_shape("square", 8, (3.5, 3.5), 4)
    assert square.sum() == 16 and square[2:6, 2:6].all()


def test_draw_shape_defaults_to_the_middle_and_clips_at_the_edge():
    middle = data.draw_shape("square", 5, size=3)
    np.testing.assert_array_equal(np.argwhere(middle).min(axis=0), [1, 1])
    corner = data.draw_shape("square", 5, center=(0, 0), size=3)
    assert corner.sum() == 4 and corner[:2, :2].all()


def test_draw_shape_validates():
    with pytest.raises(
        ValueError, match=r"kind must be one of \('square', 'circle', 'cross', 'triangle'\), got 'hexagon'"
    ):
        data.draw_shape("hexagon")
    with pytest.raises(TypeError, match="kind must be a string"):
        data.draw_shape(3)
    with pytest.raises(ValueError, match=r"center must be a \(row, col\) pair, got an array of shape \(3,\)"):
        data.draw_shape("square", center=(1, 2, 3))
    with pytest.raises(ValueError, match="size must be >= 1, got 0"):
        data.draw_shape("square", size=0)
    with pytest.raises(ValueError, match=r"canvas_size must be an int or an \(h, w\) pair"):
        data.draw_shape("square", canvas_size=(1, 2, 3))


def test_shapes_dataset_is_deterministic_for_a_seed():
    first, again = (
        data.make_shapes_dataset(40, seed=3, noise=0.1),
        data.make_shapes_dataset(40, seed=3, noise=0.1),
    )
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    other = data.make_shapes_dataset(40, seed=4)
    assert not np.array_equal(first.centers, other.centers)


def test_shapes_dataset_shapes_and_types():
    shapes = data.make_shapes_dataset(12, canvas_size=(16, 20), size=5)
    assert shapes.images.shape == (12, 1, 16, 20) and shapes.images.dtype == np.float32
    assert shapes.labels.shape == (12,) and shapes.labels.dtype == np.int64
    assert shapes.masks.shape == (12, 16, 20) and shapes.masks.dtype == bool
    assert shapes.centers.shape == (12, 2) and shapes.boxes.shape == (12, 4)
    assert shapes.kinds == data.SHAPE_KINDS


def test_shapes_masks_match_images_and_the_drawn_shape():
    shapes = data.make_shapes_dataset(30, canvas_size=16, size=7, seed=1)
    np.testing.assert_array_equal(shapes.images[:, 0], shapes.masks.astype(np.float32))
    for mask, label, center in zip(shapes.masks, shapes.labels, shapes.centers, strict=True):
        np.testing.assert_array_equal(mask, data.draw_shape(shapes.kinds[label], 16, center, 7) > 0)
        whole = data.draw_shape(shapes.kinds[label], 31, (15, 15), 7)
        assert mask.sum() == whole.sum()  # no part of the shape is cut off


def test_shapes_boxes_are_tight_around_the_masks():
    shapes = data.make_shapes_dataset(30, seed=2)
    for mask, (top, left, bottom, right), center in zip(
        shapes.masks, shapes.boxes, shapes.centers, strict=True
    ):
        assert mask[top:bottom, left:right].sum() == mask.sum()
        assert mask[top].any() and mask[bottom - 1].any() and mask[:, left].any() and mask[:, right - 1].any()
        assert top <= center[0] < bottom and left <= center[1] < right


def test_shapes_labels_are_balanced():
    shapes = data.make_shapes_dataset(102, kinds=("circle", "cross", "square"))
    assert np.bincount(shapes.labels).tolist() == [34, 34, 34]


def test_shift_range_limits_the_centres():
    centred = data.make_shapes_dataset(20, canvas_size=16, shift_range=0)
    assert np.all(centred.centers == 7)
    moved = data.make_shapes_dataset(200, canvas_size=16, size=7, shift_range=4, seed=0)
    assert moved.centers.min() == 3 and moved.centers.max() == 11


def test_shift_range_that_leaves_the_canvas_is_refused():
    with pytest.raises(
        ValueError,
        match=r"shift_range 5 would move a shape of size 7 off a canvas of size \(16, 16\); the largest that fits is 4",
    ):
        data.make_shapes_dataset(4, canvas_size=16, size=7, shift_range=5)


def test_shapes_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match=r"a shape of size 9 does not fit in a canvas of size \(8, 8\)"):
        data.make_shapes_dataset(4, canvas_size=8, size=9)


def test_noise_changes_images_but_not_masks():
    clean = data.make_shapes_dataset(10, seed=0)
    noisy = data.make_shapes_dataset(10, seed=0, noise=0.2)
    np.testing.assert_array_equal(clean.masks, noisy.masks)
    assert 0.15 < np.std(noisy.images - clean.images) < 0.25


def test_make_shapes_dataset_validates():
    with pytest.raises(ValueError, match=r"kinds\[1\] must be one of"):
        data.make_shapes_dataset(4, kinds=("square", "star"))
    with pytest.raises(TypeError, match="kinds must be a tuple or list of shape names, got str 'square'"):
        data.make_shapes_dataset(4, kinds="square")
    with pytest.raises(ValueError, match="kinds must name at least one shape"):
        data.make_shapes_dataset(4, kinds=())
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        data.make_shapes_dataset(0)
    with pytest.raises(ValueError, match="noise must be >= 0, got -1"):
        data.make_shapes_dataset(4, noise=-1)
