"""The lecture's image filters, and applying a kernel to a photograph (lesson 03).

``KERNELS`` holds the six kernels of the lecture, in its order, plus three extras. Each is a
read-only 3x3 float array (copy one with ``KERNELS[name].copy()`` to edit it)::

    sharpen          laplacian        emboss           outline
     0 -1  0          0  1  0         -2 -1  0         -1 -1 -1
    -1  5 -1          1 -4  1         -1  1  1         -1  8 -1
     0 -1  0          0  1  0          0  1  2         -1 -1 -1

    sobel_top        sobel_left
     1  2  1          1  0 -1
     0  0  0          2  0 -2
    -1 -2 -1          1  0 -1

    identity         box_blur         gaussian_blur
     0  0  0          1  1  1          1  2  1
     0  1  0          1  1  1  / 9     2  4  2  / 16
     0  0  0          1  1  1          1  2  1

Sharpen boosts a pixel against its neighbours; Laplacian and outline measure curvature (a
second difference: 0 on a flat area and on a steady brightness ramp, a double line of opposite
signs along an edge); emboss makes a relief lit from one corner; the two Sobel
kernels find horizontal edges (top) and vertical edges (left). Different filters extract
different features.

``apply_kernel`` slides a kernel over an image the way deep-learning frameworks do, as a
cross-correlation (the kernel is not flipped). For the symmetric kernels above this makes no
difference; for emboss and the Sobel kernels, flipping would invert the sign of the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._validation import as_array, describe
from .conv import _check_map_and_kernel, _shift_and_add

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "KERNELS",
    "LECTURE_KERNELS",
    "GREY_WEIGHTS",
    "apply_kernel",
    "to_grey",
    "sobel_magnitude",
    "remaining_noise",
]


def _constant(rows, scale=1):
    kernel = np.array(rows, dtype=float) / scale
    kernel.flags.writeable = False  # shared by every lesson: editing it by accident would leak
    return kernel


KERNELS = {
    # the lecture's six, in its order
    "sharpen": _constant([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "laplacian": _constant([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "emboss": _constant([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
    "outline": _constant([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "sobel_top": _constant([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]),
    "sobel_left": _constant([[1, 0, -1], [2, 0, -2], [1, 0, -1]]),
    # extras for comparison
    "identity": _constant([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box_blur": _constant([[1, 1, 1], [1, 1, 1], [1, 1, 1]], scale=9),
    "gaussian_blur": _constant([[1, 2, 1], [2, 4, 2], [1, 2, 1]], scale=16),
}

#: The names of the lecture's six kernels, in the lecture's order.
LECTURE_KERNELS = ("sharpen", "laplacian", "emboss", "outline", "sobel_top", "sobel_left")


#: Luma weights of ITU-R BT.601 (red, green, blue), the ones PIL and OpenCV use for grey. The
#: package's one copy: ``data`` mixes its grey photo with these too.
GREY_WEIGHTS = (0.299, 0.587, 0.114)


def _lookup_kernel(kernel):
    if isinstance(kernel, str):
        if kernel not in KERNELS:
            raise ValueError(f"unknown kernel {kernel!r}; valid names are: {', '.join(KERNELS)}")
        return KERNELS[kernel]
    kernel = as_array("kernel", kernel, ndim=2)
    if kernel.size == 0:
        raise ValueError(f"kernel must not be empty, got shape {kernel.shape}")
    return kernel


def _same_padding(kernel_shape):
    kernel_h, kernel_w = kernel_shape
    if kernel_h % 2 == 0 or kernel_w % 2 == 0:
        raise ValueError(
            f"padding='same' needs a kernel with odd height and width, got shape {kernel_shape}; "
            "pass an int or (p_h, p_w) padding instead"
        )
    return (kernel_h // 2, kernel_w // 2)


def apply_kernel(
    image: ArrayLike,
    kernel: str | ArrayLike,
    *,
    padding: str | int | tuple[int, int] = "same",
    stride: int | tuple[int, int] = 1,
) -> np.ndarray:
    """Slide a kernel over a grey or colour image and multiply-and-sum (lessons 03, 05).

    This is cross-correlation, as in deep-learning frameworks: the kernel is not flipped.
    A colour image is filtered channel by channel with the same kernel.

    Parameters
    ----------
    image : array_like, shape (H, W) or (H, W, 3)
        A grey image or an RGB image, any numeric dtype (uint8 is fine: it is converted to float).
    kernel : str or array_like of shape (KH, KW)
        A name from ``KERNELS`` (such as ``"sharpen"``) or a 2-D kernel of your own.
    padding : "same", "valid", int or (int, int), default "same", keyword-only
        ``"same"`` pads ``(KH // 2, KW // 2)`` zeros so the output keeps the image's size
        (odd kernels only); ``"valid"`` is no padding.
    stride : int or (int, int), default 1, keyword-only

    Returns
    -------
    ndarray, shape (OH, OW) or (OH, OW, 3)
        ``OH = floor((H + 2 p_h - KH) / s_h) + 1``, the same for ``OW``. Values are not clipped:
        edge filters give negative numbers, so rescale before showing the result as a picture.

    Raises
    ------
    TypeError
        Non-numeric image or kernel.
    ValueError
        Unknown kernel name (the message lists the valid ones), an image that is neither
        (H, W) nor (H, W, 3), an unknown padding word, or a kernel that does not fit.

    Examples
    --------
    The identity kernel gives the image back:

    >>> apply_kernel([[1, 2], [3, 4]], "identity")
    array([[1., 2.],
           [3., 4.]])
    """
    kernel = _lookup_kernel(kernel)
    image = as_array("image", image, ndim=(2, 3))
    if image.ndim == 3 and image.shape[-1] != 3:
        raise ValueError(
            f"image must be grey (H, W) or RGB (H, W, 3), got shape {image.shape}"
            + (" (drop the alpha channel with image[..., :3])" if image.shape[-1] == 4 else "")
        )
    if isinstance(padding, str):
        if padding == "same":
            padding = _same_padding(kernel.shape)
        elif padding == "valid":
            padding = 0
        else:
            raise ValueError(
                f"padding must be 'same', 'valid', an int or an (h, w) pair, got {describe(padding)}"
            )
    # one check for all channels, then the shift-and-add of conv.correlate2d on each
    first, kernel, padding, stride, out_hw = _check_map_and_kernel(
        image[..., 0] if image.ndim == 3 else image, kernel, padding, stride
    )
    if image.ndim == 2:
        return _shift_and_add(first, kernel, padding, stride, out_hw)
    image = image.astype(first.dtype, copy=False)
    channels = [_shift_and_add(image[..., c], kernel, padding, stride, out_hw) for c in range(3)]
    return np.stack(channels, axis=-1)


def to_grey(rgb: ArrayLike) -> np.ndarray:
    """Convert an RGB image to grey with luma weights 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601).

    Green counts most because the eye is most sensitive to it.

    Parameters
    ----------
    rgb : array_like, shape (H, W, 3) or (H, W, 4)
        An alpha channel, if present, is ignored.

    Returns
    -------
    ndarray, shape (H, W)
        In the image's own scale (0-255 stays 0-255, 0-1 stays 0-1), as floats.

    Examples
    --------
    >>> to_grey([[[100, 0, 0], [0, 100, 0]]])
    array([[29.9, 58.7]])
    """
    rgb = as_array("rgb", rgb, ndim=3)
    if rgb.shape[-1] not in (3, 4):
        raise ValueError(f"rgb must have shape (H, W, 3) or (H, W, 4), got shape {rgb.shape}")
    return rgb[..., :3] @ np.asarray(GREY_WEIGHTS, dtype=rgb.dtype)


def sobel_magnitude(grey: ArrayLike) -> np.ndarray:
    """Edge strength: ``sqrt(top**2 + left**2)`` of the two Sobel responses (lessons 03, 06).

    Parameters
    ----------
    grey : array_like, shape (H, W)
        A grey image (use ``to_grey`` on a colour one).

    Returns
    -------
    ndarray, shape (H, W)
        Zero on flat areas, large on edges of any direction ("same" padding, so the image
        border also counts as an edge against the zeros outside).

    Examples
    --------
    A vertical bar of ones on zeros: on the middle row, the left Sobel kernel gives
    (1 + 2 + 1) * 1 = 4 at the pixels on either side of each edge, and 0 away from them.

    >>> sobel_magnitude([[0, 0, 1, 1, 0, 0]] * 3)[1]
    array([0., 4., 4., 4., 4., 0.])
    """
    grey = as_array("grey", grey, ndim=2)
    top = apply_kernel(grey, "sobel_top")
    left = apply_kernel(grey, "sobel_left")
    return np.hypot(top, left)


# --------------------------------------------------------------------------------------------
# Measuring a smoothing kernel (lesson 03, exercise 3.6)


def remaining_noise(
    kernel: ArrayLike, *, noise_sd: float = 0.1, size: int = 64, brightness: float = 0.5, seed: int = 0
) -> float:
    """Share of the noise a kernel leaves: output sd / input sd on flat grey plus noise (lesson 03).

    The image is ``brightness`` plus Gaussian noise of standard deviation ``noise_sd`` (seeded),
    ``size`` x ``size`` pixels. The kernel slides without padding, so the border plays no part, and
    the input's standard deviation is taken over the same pixels the windows are centred on. For
    noise that is independent from pixel to pixel the share is close to the square root of the sum
    of the squared kernel entries (1/3 for the 3x3 box blur).

    Parameters
    ----------
    kernel : array_like, shape (KH, KW)
    noise_sd, brightness : float
    size, seed : int

    Returns
    -------
    float
        1.0 for the identity kernel; below 1 for a kernel that smooths, above 1 for one that sharpens.

    Examples
    --------
    >>> remaining_noise([[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    1.0
    """
    kernel = _lookup_kernel(kernel)
    rng = np.random.default_rng(seed)
    noisy = brightness + noise_sd * rng.standard_normal((size, size))
    kernel_h, kernel_w = kernel.shape
    centres = noisy[kernel_h // 2 : size - (kernel_h - 1) // 2, kernel_w // 2 : size - (kernel_w - 1) // 2]
    return float(apply_kernel(noisy, kernel, padding="valid").std() / centres.std())
