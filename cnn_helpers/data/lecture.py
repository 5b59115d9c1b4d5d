"""The lecture's worked example: a 5x5 binary image, its two 3x3 kernels, and the feature maps
exactly as the slides print them, erratum included (lessons 02, 04, 06, 07 and 09).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class LectureExample:
    """The lecture's 5x5 binary image and the two 3x3 kernels used on it."""

    image: np.ndarray
    sharpen: np.ndarray
    one_to_nine: np.ndarray


def lecture_example() -> LectureExample:
    """The lecture's 5x5 image and its sharpen and 1..9 kernels (lessons 02, 04, 06, 07, 09).

    Feature maps are not stored here: lessons compute them with ``cnn_helpers.conv``.
    Every call returns fresh arrays, so changing one does not change the next call's.

    Returns
    -------
    LectureExample
        ``image`` (5, 5), ``sharpen`` (3, 3) and ``one_to_nine`` (3, 3), all float64::

            image            sharpen         one_to_nine
            0 1 1 0 0        0 -1  0         1 2 3
            0 1 1 0 0       -1  5 -1         4 5 6
            1 0 0 1 1        0 -1  0         7 8 9
            0 1 1 0 1
            1 1 1 1 1

    Examples
    --------
    The bottom-left value of the padded feature map, by multiply-and-sum, against what the
    slide prints (see ``LECTURE_SLIDE_PADDED_MAP``):

    >>> example = lecture_example()
    >>> padded = np.pad(example.image, 1)
    >>> float((padded[4:7, 0:3] * example.sharpen).sum())
    4.0
    >>> float(LECTURE_SLIDE_PADDED_MAP[4, 0])
    5.0
    """
    return LectureExample(
        image=np.array(
            [[0, 1, 1, 0, 0], [0, 1, 1, 0, 0], [1, 0, 0, 1, 1], [0, 1, 1, 0, 1], [1, 1, 1, 1, 1]],
            dtype=np.float64,
        ),
        sharpen=np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64),
        one_to_nine=np.arange(1, 10, dtype=np.float64).reshape(3, 3),
    )


def _read_only(rows):
    array = np.array(rows, dtype=np.float64)
    array.setflags(write=False)
    return array


#: The padded (p = 1) sharpen feature map of the lecture's image, **as the slide prints it**,
#: including its erratum at row 5, column 1 (index ``[4, 0]``): the slide says 5;
#: multiply-and-sum gives 4 (5 * 1 for the pixel, -1 for its right-hand neighbour, every other
#: neighbour is padding or 0). Lessons compare a computed map with this one and point out the
#: difference; never use it as the right answer. Read-only, shape (5, 5).
LECTURE_SLIDE_PADDED_MAP = _read_only(
    [[-1, 3, 3, -1, 0], [-2, 3, 3, -2, -1], [5, -3, -3, 4, 3], [-3, 3, 3, -4, 3], [5, 2, 2, 3, 3]]
)

#: The padded (p = 1), stride-2 sharpen feature map **as the slide prints it**, including the
#: same erratum at row 3, column 1 (index ``[2, 0]``, the padded map's row 5, column 1): the
#: slide says 5; multiply-and-sum gives 4. Read-only, shape (3, 3).
LECTURE_SLIDE_STRIDE2_MAP = _read_only([[-1, 3, 0], [5, -3, 3], [5, 2, 3]])
