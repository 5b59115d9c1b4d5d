"""cnn_helpers: the package behind the course "Convolutional neural networks from first principles".

Submodules mirror the lessons and load on first use, so ``import cnn_helpers`` costs little
more than importing NumPy:

- ``images``   lesson 01: images as data (flattening, feature counts)
- ``conv``     lessons 02, 04, 05, 07: correlation, convolution, padding, stride, conv2d and its backward pass
- ``filters``  lesson 03: the lecture's kernels and applying them to photographs
- ``pooling``  lesson 06: max, average and sum pooling and their backward passes
- ``layers``, ``model``, ``optim``, ``gradcheck``, ``training``  lessons 07-08: a trainable CNN
- ``receptive_field``, ``blocks``, ``dense_prediction``  lesson 10: receptive fields, VGG/Inception/
  ResNet/DenseNet blocks, per-pixel prediction
- ``data``     the lecture's 5x5 example, real handwritten digits, a photograph, synthetic shapes
- ``plotting`` and ``widgets``  figures and interactive explorers (they import matplotlib / ipywidgets)
- ``checks``   the exercise checks
"""

import importlib

from ._paths import course_root as _course_root

_course_root()  # fail at once outside the course folder: a wheel has no data/ or notebooks/

__version__ = "0.1.0"

_SUBMODULES = {
    "blocks",
    "checks",
    "conv",
    "course",
    "data",
    "dense_prediction",
    "filters",
    "gradcheck",
    "images",
    "layers",
    "model",
    "optim",
    "plotting",
    "pooling",
    "receptive_field",
    "training",
    "widgets",
}

__all__ = sorted(_SUBMODULES)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES)
