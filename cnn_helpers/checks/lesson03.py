"""Checks for lesson 03, filters."""

from __future__ import annotations

import numpy as np

from ._core import CheckFailure, call, compare, diagnose, exercise, passed

# The exercises' target edge for 3.3: dark in the top-left, bright in the bottom-right.
EDGE_ORIENTATIONS = (
    "dark top-left, bright bottom-right (the target)",
    "dark bottom-left, bright top-right (the target turned 90°)",
    "dark bottom-right, bright top-left (the target turned 180°: the opposite edge)",
    "dark top-right, bright bottom-left (the target turned 270°)",
)
#: A kernel "responds weakly" to an orientation when its strongest response there is at most
#: this share of its strongest response to the target edge.
WEAK_SHARE = 0.5


def _reference():
    from .. import filters

    return filters


def _try(function, *args, **kwargs):
    """What a known mistake returns, or None when that mistake cannot even run on this case."""
    try:
        return function(*args, **kwargs)
    except (ValueError, TypeError):
        return None


# --------------------------------------------------------------------------------------------
# 3.1 filter an RGB image channel by channel


def _rgb_cases():
    from .. import data

    rng = np.random.default_rng(301)
    filters = _reference()
    lecture = data.lecture_example()
    cases = [(np.stack([lecture.image, 1 - lecture.image, lecture.image.T], axis=-1), lecture.sharpen,
              "the lecture's 5x5 image in three channels, sharpen")]
    photo = data.load_photo(size=24)  # 24 x 24 x 3
    for name in filters.LECTURE_KERNELS:
        cases.append((photo, np.array(filters.KERNELS[name]), f"a 24x24 colour photo, kernel {name!r}"))
    for number in range(24):
        height, width = (int(v) for v in rng.integers(3, 10, size=2))
        kernel_h, kernel_w = (int(v) for v in rng.choice([1, 3, 5], size=2))
        if number < 8:
            kernel_h = kernel_w = 3
        image = rng.random((height, width, 3))
        kernel = rng.normal(size=(kernel_h, kernel_w)).round(2)
        cases.append((image, kernel, f"random case {number}: image {image.shape}, kernel {kernel.shape}"))
    return cases


def _rgb_mistakes(filters):
    """Each known wrong way to filter a colour image, as a function of (image, kernel), for :func:`diagnose`."""

    def with_padding(rows_of, columns_of):
        return lambda image, kernel: filters.apply_kernel(
            image, kernel, padding=(rows_of(kernel.shape), columns_of(kernel.shape)))

    def summed(image, kernel):
        return sum(filters.apply_kernel(image[..., c], kernel) for c in range(3))

    return {
        "flipped": (lambda image, kernel: filters.apply_kernel(image, kernel[::-1, ::-1]),
                    "the kernel was flipped: that is true convolution. Filters slide the kernel as it is "
                    "(cross-correlation)"),
        "no padding": (lambda image, kernel: filters.apply_kernel(image, kernel, padding="valid"),
                       "no padding: the output shrank. Pad KH // 2 rows and KW // 2 columns of zeros on each "
                       "side so the output keeps the image's size"),
        "KH for both": (with_padding(lambda shape: shape[0] // 2, lambda shape: shape[0] // 2),
                        "KH // 2 was used for both axes: pad KH // 2 rows (top and bottom) but KW // 2 "
                        "columns (left and right); they differ when the kernel is not square"),
        "KW for both": (with_padding(lambda shape: shape[1] // 2, lambda shape: shape[1] // 2),
                        "KW // 2 was used for both axes: pad KH // 2 rows (top and bottom) but KW // 2 "
                        "columns (left and right); they differ when the kernel is not square"),
        "swapped": (with_padding(lambda shape: shape[1] // 2, lambda shape: shape[0] // 2),
                    "the padding per axis is swapped: pad KH // 2 rows (top and bottom) and KW // 2 columns "
                    "(left and right)"),
        "rows only": (with_padding(lambda shape: shape[0] // 2, lambda shape: 0),
                      "only the rows were padded: pad KW // 2 columns of zeros on the left and right too"),
        "columns only": (with_padding(lambda shape: 0, lambda shape: shape[1] // 2),
                         "only the columns were padded: pad KH // 2 rows of zeros at the top and bottom too"),
        "summed": (summed, "the channels were added together: filter each channel on its own and keep all three"),
        "summed and copied": (lambda image, kernel: np.stack([summed(image, kernel)] * 3, axis=-1),
                              "the channels were added together and copied into three channels: filter each "
                              "channel on its own"),
        "channels first": (lambda image, kernel: np.moveaxis(filters.apply_kernel(image, kernel), -1, 0),
                           "the channels came out first, shape (3, H, W): keep them last, shape (H, W, 3)"),
    }


@exercise("3.1", "filter an RGB image channel by channel", reference="cnn_helpers.filters.apply_kernel",
          mistakes=lambda: _rgb_mistakes(_reference()))
def check_filter_rgb(filter_rgb):
    """``filter_rgb(image, kernel)``: (H, W, 3) -> (H, W, 3), each channel correlated on its own, zero "same" padding."""
    filters = _reference()
    cases = [(case, (image, kernel)) for image, kernel, case in _rgb_cases()]
    diagnose("3.1", filter_rgb, filters.apply_kernel, cases, _rgb_mistakes(filters), name="filtered image")
    passed("3.1", f"each channel is filtered on its own, same size, on {len(cases)} images")


# --------------------------------------------------------------------------------------------
# 3.2 Sobel gradient magnitude


def _grey_cases():
    from .. import data

    rng = np.random.default_rng(302)
    rows, cols = np.indices((12, 12))
    cases = [
        (data.lecture_example().image, "the lecture's 5x5 image"),
        (np.tile([0.0, 0, 1, 1, 0, 0], (4, 1)), "a vertical bar"),
        (((rows - 5.5) ** 2 + (cols - 5.5) ** 2 < 16).astype(float), "a disc on a 12x12 canvas"),
        (data.load_photo(grey=True, size=32), "the photo, grey, 32x32"),
    ]
    for number in range(20):
        height, width = (int(v) for v in rng.integers(3, 12, size=2))
        cases.append((rng.random((height, width)), f"random case {number}: a grey image {(height, width)}"))
    return cases


@exercise("3.2", "Sobel gradient magnitude", reference="cnn_helpers.filters.sobel_magnitude")
def check_sobel_magnitude(sobel_magnitude):
    """``sobel_magnitude(grey)``: sqrt(top**2 + left**2) of the two lecture Sobel responses, same size."""
    filters = _reference()
    cases = _grey_cases()
    for grey, case in cases:
        top = filters.apply_kernel(grey, "sobel_top")
        left = filters.apply_kernel(grey, "sobel_left")
        expected = np.sqrt(top ** 2 + left ** 2)
        mistakes = [
            ("the absolute values were added (|top| + |left|): the magnitude is the square root of "
             "the sum of squares", np.abs(top) + np.abs(left)),
            ("the square root is missing: the magnitude is sqrt(top**2 + left**2)", top ** 2 + left ** 2),
            ("only the top Sobel kernel was used: combine both directions", np.abs(top)),
            ("only the top Sobel kernel was used: combine both directions", top),
            ("only the left Sobel kernel was used: combine both directions", np.abs(left)),
            ("only the left Sobel kernel was used: combine both directions", left),
            ("no padding: the output shrank. Pad one row and one column of zeros on each side",
             _try(lambda: np.hypot(filters.apply_kernel(grey, "sobel_top", padding="valid"),
                                   filters.apply_kernel(grey, "sobel_left", padding="valid")))),
        ]
        received = call("3.2", sobel_magnitude, grey.copy(), case=case)
        compare("3.2", expected, received, case, mistakes, name="magnitude")
    passed("3.2", f"the Sobel magnitude is right on {len(cases)} grey images")


# --------------------------------------------------------------------------------------------
# 3.3 design an edge kernel


def diagonal_edge(size, threshold, dark=0.0, bright=1.0):
    """A ``size`` x ``size`` image: ``dark`` where row + col <= threshold, ``bright`` beyond (lesson 03).

    The edge runs from bottom-left to top-right; brightness rises towards the bottom-right.

    Examples
    --------
    >>> diagonal_edge(3, 1)
    array([[0., 0., 1.],
           [0., 1., 1.],
           [1., 1., 1.]])
    """
    rows, cols = np.indices((size, size))
    return np.where(rows + cols > threshold, float(bright), float(dark))


def edge_responses(kernel, image):
    """Strongest response of ``kernel`` to ``image`` turned by 0, 90, 180 and 270 degrees (lesson 03).

    The image is turned with ``np.rot90`` (anticlockwise) and correlated without padding, so the
    image's border plays no part. Returns a list of 4 floats, the maximum of each output.

    Examples
    --------
    >>> edge_responses(np.array([[0, 0, 0], [0, -1, 0], [0, 0, 1.0]]), diagonal_edge(6, 5))
    [1.0, 0.0, 0.0, 0.0]
    """
    from ..conv import correlate2d

    return [float(correlate2d(np.rot90(image, turn), kernel).max()) for turn in range(4)]


def _edge_cases():
    rng = np.random.default_rng(303)
    cases = [diagonal_edge(10, 9)]
    for _ in range(8):
        size = int(rng.integers(7, 15))
        dark = float(rng.uniform(0, 0.5))
        cases.append(diagonal_edge(size, int(rng.integers(size - 3, size + 2)), dark, dark + float(rng.uniform(0.3, 1))))
    return cases


@exercise("3.3", "design a kernel that finds a diagonal edge", reference=None)
def check_edge_kernel(make_edge_kernel):
    """``make_edge_kernel()`` returns a 3x3 kernel that responds to dark-top-left/bright-bottom-right edges.

    Judged by what the kernel does, not by its numbers: zero on flat images; a positive response
    to the target edge; at most ``WEAK_SHARE`` of that on the same edge turned 90, 180, 270 degrees.
    """
    kernel = call("3.3", make_edge_kernel, case="make_edge_kernel()")
    try:
        kernel = np.asarray(kernel, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailure(f"Exercise 3.3: return a 3x3 array of numbers, got {type(kernel).__name__}") from None
    if kernel.shape != (3, 3):
        raise CheckFailure(f"Exercise 3.3: return a kernel of shape (3, 3), got shape {kernel.shape}")
    if not np.all(np.isfinite(kernel)):
        raise CheckFailure("Exercise 3.3: the kernel holds NaN or infinity")
    scale = float(np.abs(kernel).sum())
    if scale == 0:
        raise CheckFailure("Exercise 3.3: the kernel is all zeros, so it responds to nothing")

    from ..conv import correlate2d

    rng = np.random.default_rng(313)
    for brightness in [0.5, 1.0, *rng.uniform(0.05, 1, size=4)]:
        flat = np.full((6, 7), float(brightness))
        response = float(np.abs(correlate2d(flat, kernel)).max())
        if response > 1e-9 * scale * max(1.0, brightness):
            raise CheckFailure(
                f"Exercise 3.3: on a flat image of brightness {brightness:.3g} your kernel gives "
                f"{response:.4g}, expected 0.\n  Likely mistake: the kernel responds to flat areas: its "
                f"entries add up to {kernel.sum():.4g}. Make them add up to 0, so that only a change "
                "in brightness gives a response (the emboss kernel adds up to 1)."
            )

    for number, image in enumerate(_edge_cases()):
        target, *others = edge_responses(kernel, image)
        case = f"edge image {number} ({image.shape[0]}x{image.shape[1]}, dark {image.min():.3g}, bright {image.max():.3g})"
        if target <= 1e-9 * scale:
            opposite = others[1]
            hint = ("the kernel responds to the opposite edge (bright top-left, dark bottom-right): "
                    "change the sign of every entry" if opposite > 1e-9 * scale else
                    "the kernel gives no positive response to the target edge: put negative weights "
                    "towards the top-left (dark side) and positive weights towards the bottom-right")
            raise CheckFailure(
                f"Exercise 3.3: on {case}, your kernel's strongest response to the target edge "
                f"(dark top-left, bright bottom-right) is {target:.4g}, expected a positive number.\n"
                f"  Likely mistake: {hint}."
            )
        too_strong = [turn for turn, response in enumerate(others, start=1) if response > WEAK_SHARE * target]
        if too_strong:
            if 2 in too_strong:
                hint = ("the kernel responds to both sides of an edge, like the Laplacian: make it "
                        "change sign across the diagonal, negative towards the top-left and positive "
                        "towards the bottom-right")
            else:
                hint = ("the kernel finds horizontal or vertical edges (like a Sobel kernel) rather "
                        "than the diagonal one: weight the entries along the diagonal from top-left "
                        "(negative) to bottom-right (positive), symmetric about that diagonal")
            turn = too_strong[0]
            raise CheckFailure(
                f"Exercise 3.3: on {case}, your kernel responds {others[turn - 1]:.4g} to the edge with "
                f"{EDGE_ORIENTATIONS[turn]}, but only {target:.4g} to the target; the other "
                f"orientations must get at most {WEAK_SHARE:.0%} of the target's response.\n"
                f"  Likely mistake: {hint}."
            )
    passed("3.3", "the kernel ignores flat areas, finds the diagonal edge and responds weakly to its turned versions")


__all__ = ["check_filter_rgb", "check_sobel_magnitude", "check_edge_kernel", "diagonal_edge",
           "edge_responses", "EDGE_ORIENTATIONS", "WEAK_SHARE", "CheckFailure"]
