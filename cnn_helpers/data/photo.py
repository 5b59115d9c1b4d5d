"""A real photograph: Grace Hopper's portrait, which matplotlib ships (public domain)."""

from __future__ import annotations

import numpy as np

from .._validation import as_bool, as_int
from ..images import block_average

#: Weights that turn red, green, blue into one grey value (ITU-R BT.601 luma).
GREY_WEIGHTS = np.array([0.299, 0.587, 0.114])

#: The full photo's (height, width) in pixels.
PHOTO_SHAPE = (600, 512)


def load_photo(grey: bool = False, size: int | None = None) -> np.ndarray:
    """A real photograph, Grace Hopper's portrait that matplotlib ships (lessons 01-07).

    The photo is public domain (a U.S. Navy photograph); see ``data/README.md``. It is read from
    matplotlib's own sample data, so no network is needed. The full photo is 600 pixels high
    and 512 wide.

    Parameters
    ----------
    grey : bool, optional
        Return one grey channel, mixed with ``GREY_WEIGHTS``, instead of red, green and blue.
    size : int, optional
        Return a small square photo of ``size`` x ``size`` pixels, 1 to 512. The photo is first
        cropped to a square around its centre, so the face keeps its proportions instead of
        being squashed, then shrunk by averaging blocks of ``f x f`` pixels, with the largest
        ``f`` for which ``f * size`` fits in the photo's width: ``f = 512 // size``. The crop
        is the centred square of side ``f * size`` (the whole width when ``size`` divides
        512). Small photos make filter lessons fast.

    Returns
    -------
    ndarray, shape (H, W, 3) or (H, W) if ``grey``, float64
        Values in [0, 1]. (600, 512) without ``size``, (``size``, ``size``) with it.

    Raises
    ------
    ValueError
        If ``size`` is below 1 or above 512.

    Examples
    --------
    >>> load_photo(grey=True).shape
    (600, 512)
    >>> load_photo(grey=True, size=64).shape   # the centre 512 x 512 in blocks of 8 x 8
    (64, 64)
    """
    grey = as_bool("grey", grey)
    if size is not None:
        size = as_int("size", size, minimum=1)
        if size > PHOTO_SHAPE[1]:
            raise ValueError(
                f"size must be at most {PHOTO_SHAPE[1]}, the photo's width, got {size}; "
                "leave it out for the full photo"
            )

    import matplotlib.image
    from matplotlib import cbook

    pixels = matplotlib.image.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    photo = pixels.astype(np.float64) / 255
    if grey:
        photo = photo @ GREY_WEIGHTS
    if size is None:
        return photo
    factor = min(photo.shape[:2]) // size
    return block_average(_centred_square(photo, factor * size), factor)


def _centred_square(image, side):
    """The ``side x side`` square in the middle of ``image`` (H, W) or (H, W, C).

    Odd leftovers are cut at the bottom and on the right.
    """
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    return image[top : top + side, left : left + side]
