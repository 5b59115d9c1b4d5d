"""Data for the lessons, all of it available offline.

One module per data set:

- ``files``: the data folder and the SHA-256 check every shipped file gets on each load.
- ``splits``: ``DataSplit`` (training / test), ``MnistSample`` (training / validation / test)
  and ``stratified_split``.
- ``digits``: ``load_digits``, 1,797 real handwritten 8x8 digits shipped in ``data/``.
- ``mnist``: ``load_mnist_sample``, 5,000 real 28x28 MNIST digits shipped in ``data/``; and,
  optionally, ``load_mnist`` / ``load_fashion_mnist``, which download the full MNIST or
  Fashion-MNIST once and return the same ``MnistSample`` type.
- ``lecture``: ``lecture_example``, the lecture's 5x5 binary image and its kernels, plus the
  feature maps exactly as the slides print them, erratum included.
- ``photo``: ``load_photo``, a real photograph that matplotlib ships.
- ``shapes``: ``draw_shape`` and ``make_shapes_dataset``, synthetic squares, circles, crosses
  and triangles with masks, centres and boxes.

Every public name is importable from here: ``from cnn_helpers.data import load_digits``. The
transforms that move and shrink images (``pad_to``, ``shift_images``, ``block_average``) live
in ``cnn_helpers.images``.

The data folder is the repository's ``data/``; set the environment variable ``CNN_COURSE_DATA``
to use another folder.
"""

from .digits import DIGITS_FILE, DIGITS_SHA256, load_digits, load_digits_arrays
from .files import (
    DATA_DIR,
    ChecksumError,
    data_dir,
    file_sha256,
    load_checked_npz,
    verify_sha256,
)
from .lecture import (
    LECTURE_SLIDE_PADDED_MAP,
    LECTURE_SLIDE_STRIDE2_MAP,
    LectureExample,
    lecture_example,
)
from .mnist import (
    FASHION_MNIST_BASE_URL,
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_FILES,
    MNIST_BASE_URL,
    MNIST_FILES,
    MNIST_KINDS,
    MNIST_SAMPLE_FILE,
    MNIST_SAMPLE_SHA256,
    MNIST_SAMPLE_TEST_SEED,
    default_cache_dir,
    download_file,
    fetch_checked,
    load_fashion_mnist,
    load_mnist,
    load_mnist_sample,
    load_mnist_sample_arrays,
    read_idx,
)
from .photo import GREY_WEIGHTS, PHOTO_SHAPE, load_photo
from .shapes import SHAPE_KINDS, ShapesDataset, draw_shape, make_shapes_dataset
from .splits import DataSplit, MnistSample, stratified_split

__all__ = [
    # files and checksums
    "DATA_DIR",
    "ChecksumError",
    "data_dir",
    "file_sha256",
    "load_checked_npz",
    "verify_sha256",
    # splits
    "DataSplit",
    "MnistSample",
    "stratified_split",
    # the 8x8 digits
    "DIGITS_FILE",
    "DIGITS_SHA256",
    "load_digits",
    "load_digits_arrays",
    # 28x28 digits and clothing
    "MNIST_SAMPLE_FILE",
    "MNIST_SAMPLE_SHA256",
    "MNIST_SAMPLE_TEST_SEED",
    "load_mnist_sample",
    "load_mnist_sample_arrays",
    "MNIST_BASE_URL",
    "MNIST_FILES",
    "FASHION_MNIST_BASE_URL",
    "FASHION_MNIST_FILES",
    "FASHION_MNIST_CLASSES",
    "MNIST_KINDS",
    "load_mnist",
    "load_fashion_mnist",
    "read_idx",
    "default_cache_dir",
    "download_file",
    "fetch_checked",
    # the lecture's example
    "LectureExample",
    "lecture_example",
    "LECTURE_SLIDE_PADDED_MAP",
    "LECTURE_SLIDE_STRIDE2_MAP",
    # the photograph
    "GREY_WEIGHTS",
    "PHOTO_SHAPE",
    "load_photo",
    # synthetic shapes
    "SHAPE_KINDS",
    "ShapesDataset",
    "draw_shape",
    "make_shapes_dataset",
]
