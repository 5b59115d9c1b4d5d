"""Checks for lesson 03, filters."""

from __future__ import annotations

import numpy as np

from ._core import CheckFailure, call, diagnose, exercise, passed, question

# The exercises' target edge for 3.7: dark in the top-left, bright in the bottom-right.
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


# --------------------------------------------------------------------------------------------
# 3.1 and 3.2 checked questions: a brightness ramp (no edge, a steady slope)

check_ramp_kernel = question(
    "3.1",
    "which kernel responds to a brightness ramp",
    choices=["Laplacian", "outline", "top Sobel", "left Sobel"],
    expected="left Sobel",
    misconceptions={
        "Laplacian": "the Laplacian adds the four neighbours and subtracts 4 x the pixel. On a ramp the left "
        "neighbour is darker by exactly as much as the right one is brighter, and the neighbours "
        "above and below equal the pixel, so everything cancels: it measures curvature (a second "
        "difference), and a straight ramp has none",
        "outline": "outline is 8 x the pixel minus its eight neighbours. On a ramp each neighbour on the "
        "right is brighter by as much as its mirror image on the left is darker, so they cancel: "
        "like the Laplacian it measures curvature (a second difference), and a straight ramp has none",
        "top Sobel": "the top Sobel kernel compares the row above with the row below; on a ramp that rises "
        "from left to right every row is the same, so it gives 0 (it would answer a ramp running "
        "downwards)",
    },
    hint="work out each kernel on a small patch such as [[0.1, 0.2, 0.3]] * 3",
    explanation="The left Sobel kernel compares the left column with the right one, which differ on a ramp; "
    "the Laplacian and outline cancel on any straight slope, and the top Sobel kernel sees "
    "identical rows.",
)

check_ramp_sobel = question(
    "3.2",
    "the left Sobel kernel on a ramp",
    expected=-0.8,
    tolerance=1e-3,
    misconceptions={
        0.8: "the sign: the left Sobel kernel adds the left column and subtracts the right one, and on this "
        "ramp the right column is the brighter one",
        -0.4: "half the answer: the two columns the kernel compares are two pixels apart, so they differ by "
        "2 x 0.1, and their weights 1 + 2 + 1 add up to 4",
        0.4: "half the answer, and the sign: the compared columns are two pixels apart, their weights add up "
        "to 4, and the right column (subtracted) is the brighter one",
        -0.2: "that is one pair of pixels with weight 1: the three rows count, with weights 1, 2 and 1",
        0.0: "0 is what the Laplacian gives on a ramp; the Sobel kernel takes a difference between columns, "
        "and on a ramp the columns differ",
    },
    hint="write three rows of the ramp, e.g. b + 0.1 * column, under the kernel and multiply-and-sum",
    explanation="(1 + 2 + 1) x (left column - right column) = 4 x (-0.2).",
)


# --------------------------------------------------------------------------------------------
# 3.3 filter an RGB image channel by channel


def _rgb_cases():
    from .. import data

    rng = np.random.default_rng(301)
    filters = _reference()
    lecture = data.lecture_example()
    cases = [
        (
            np.stack([lecture.image, 1 - lecture.image, lecture.image.T], axis=-1),
            lecture.sharpen,
            "the lecture's 5x5 image in three channels, sharpen",
        )
    ]
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
            image, kernel, padding=(rows_of(kernel.shape), columns_of(kernel.shape))
        )

    def summed(image, kernel):
        return sum(filters.apply_kernel(image[..., c], kernel) for c in range(3))

    return {
        "flipped": (
            lambda image, kernel: filters.apply_kernel(image, kernel[::-1, ::-1]),
            "the kernel was flipped: that is true convolution. Filters slide the kernel as it is "
            "(cross-correlation)",
        ),
        "no padding": (
            lambda image, kernel: filters.apply_kernel(image, kernel, padding="valid"),
            "no padding: the output shrank. Pad KH // 2 rows and KW // 2 columns of zeros on each "
            "side so the output keeps the image's size",
        ),
        "KH for both": (
            with_padding(lambda shape: shape[0] // 2, lambda shape: shape[0] // 2),
            "KH // 2 was used for both axes: pad KH // 2 rows (top and bottom) but KW // 2 "
            "columns (left and right); they differ when the kernel is not square",
        ),
        "KW for both": (
            with_padding(lambda shape: shape[1] // 2, lambda shape: shape[1] // 2),
            "KW // 2 was used for both axes: pad KH // 2 rows (top and bottom) but KW // 2 "
            "columns (left and right); they differ when the kernel is not square",
        ),
        "swapped": (
            with_padding(lambda shape: shape[1] // 2, lambda shape: shape[0] // 2),
            "the padding per axis is swapped: pad KH // 2 rows (top and bottom) and KW // 2 columns "
            "(left and right)",
        ),
        "rows only": (
            with_padding(lambda shape: shape[0] // 2, lambda shape: 0),
            "only the rows were padded: pad KW // 2 columns of zeros on the left and right too",
        ),
        "columns only": (
            with_padding(lambda shape: 0, lambda shape: shape[1] // 2),
            "only the columns were padded: pad KH // 2 rows of zeros at the top and bottom too",
        ),
        "summed": (
            summed,
            "the channels were added together: filter each channel on its own and keep all three",
        ),
        "summed and copied": (
            lambda image, kernel: np.stack([summed(image, kernel)] * 3, axis=-1),
            "the channels were added together and copied into three channels: filter each channel on its own",
        ),
        "channels first": (
            lambda image, kernel: np.moveaxis(filters.apply_kernel(image, kernel), -1, 0),
            "the channels came out first, shape (3, H, W): keep them last, shape (H, W, 3)",
        ),
    }


@exercise(
    "3.3",
    "filter an RGB image channel by channel",
    reference="cnn_helpers.filters.apply_kernel",
    mistakes=lambda: _rgb_mistakes(_reference()),
)
def check_filter_rgb(filter_rgb):
    """``filter_rgb(image, kernel)``: (H, W, 3) -> (H, W, 3), each channel correlated on its own, zero "same" padding."""
    filters = _reference()
    cases = [(case, (image, kernel)) for image, kernel, case in _rgb_cases()]
    diagnose("3.3", filter_rgb, filters.apply_kernel, cases, _rgb_mistakes(filters), name="filtered image")
    passed("3.3", f"each channel is filtered on its own, same size, on {len(cases)} images")


# --------------------------------------------------------------------------------------------
# 3.4 Sobel gradient magnitude


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


def _sobel_mistakes(filters):
    """Each known wrong Sobel magnitude, as a function of the grey image, for :func:`diagnose`."""

    def parts(grey, padding="same"):
        return filters.apply_kernel(grey, "sobel_top", padding=padding), filters.apply_kernel(
            grey, "sobel_left", padding=padding
        )

    return {
        "absolute values added": (
            lambda grey: np.abs(parts(grey)[0]) + np.abs(parts(grey)[1]),
            "the absolute values were added (|top| + |left|): the magnitude is the square "
            "root of the sum of squares",
        ),
        "no square root": (
            lambda grey: parts(grey)[0] ** 2 + parts(grey)[1] ** 2,
            "the square root is missing: the magnitude is sqrt(top**2 + left**2)",
        ),
        "top only": (
            lambda grey: np.abs(parts(grey)[0]),
            "only the top Sobel kernel was used: combine both directions",
        ),
        "top only, signed": (
            lambda grey: parts(grey)[0],
            "only the top Sobel kernel was used: combine both directions",
        ),
        "left only": (
            lambda grey: np.abs(parts(grey)[1]),
            "only the left Sobel kernel was used: combine both directions",
        ),
        "left only, signed": (
            lambda grey: parts(grey)[1],
            "only the left Sobel kernel was used: combine both directions",
        ),
        "no padding": (
            lambda grey: np.hypot(*parts(grey, padding="valid")),
            "no padding: the output shrank. Pad one row and one column of zeros on each side",
        ),
    }


@exercise(
    "3.4",
    "Sobel gradient magnitude",
    reference="cnn_helpers.filters.sobel_magnitude",
    mistakes=lambda: _sobel_mistakes(_reference()),
)
def check_sobel_magnitude(sobel_magnitude):
    """``sobel_magnitude(grey)``: sqrt(top**2 + left**2) of the two lecture Sobel responses, same size."""
    filters = _reference()
    cases = [(case, (grey,)) for grey, case in _grey_cases()]
    diagnose(
        "3.4", sobel_magnitude, filters.sobel_magnitude, cases, _sobel_mistakes(filters), name="magnitude"
    )
    passed("3.4", f"the Sobel magnitude is right on {len(cases)} grey images")


# --------------------------------------------------------------------------------------------
# 3.5 Sobel as the outer product of two 1-D kernels (invert)


def _as_vector(value, name):
    try:
        vector = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailure(
            f"Exercise 3.5: the {name} must be 3 numbers, got {type(value).__name__}"
        ) from None
    if vector.size != 3 or vector.ndim > 2 or (vector.ndim == 2 and 1 not in vector.shape):
        raise CheckFailure(f"Exercise 3.5: the {name} must hold 3 numbers, got shape {vector.shape}")
    return vector.ravel()


@exercise("3.5", "the top Sobel kernel as a column times a row", reference=None)
def check_sobel_factors(sobel_top_factors):
    """``sobel_top_factors()`` returns ``(column, row)``, 3 numbers each, with np.outer(column, row) = sobel_top."""
    filters = _reference()
    answer = call("3.5", sobel_top_factors, case="sobel_top_factors()")
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise CheckFailure(
            f"Exercise 3.5: return two things, (column, row), got {type(answer).__name__} {answer!r}"[:300]
        )
    column, row = _as_vector(answer[0], "column"), _as_vector(answer[1], "row")
    product = np.outer(column, row)
    target = np.asarray(filters.KERNELS["sobel_top"])
    if np.allclose(product, target, rtol=1e-9, atol=1e-9):
        passed("3.5", "np.outer(column, row) is the top Sobel kernel")
        return
    hint = None
    if np.allclose(product, filters.KERNELS["sobel_left"], atol=1e-9):
        hint = (
            "that is the left Sobel kernel: the column and the row are swapped. np.outer(column, row) puts "
            "the column down the rows, and the top Sobel kernel changes down its rows"
        )
    elif np.allclose(product, -target, atol=1e-9):
        hint = "the signs are flipped: the top row of the top Sobel kernel is positive"
    elif np.allclose(product, product.flat[1] / 2 * target, atol=1e-9) and product.flat[1] != 0:
        hint = (
            f"the shape is right but everything is {product.flat[1] / 2:.4g} times too large; scale the column "
            "or the row so the product matches exactly"
        )
    elif np.allclose(product, target.T[::-1], atol=1e-9) or np.allclose(product, -target.T, atol=1e-9):
        hint = "this kernel finds vertical edges; the top Sobel kernel finds horizontal ones"
    message = (
        f"Exercise 3.5: np.outer(column, row) gives\n{np.array2string(product)}\n"
        f"  expected the top Sobel kernel\n{np.array2string(target)}"
    )
    message += (
        f"\n  Likely mistake: {hint}"
        if hint
        else "\n  Hint: every row of the top Sobel kernel is a multiple of one and the same row: find that "
        "row, then the multiples, read down the column"
    )
    raise CheckFailure(message)


# --------------------------------------------------------------------------------------------
# 3.6 design a smoothing kernel against noise


#: The noise of 3.6: Gaussian, this standard deviation, on flat grey images.
NOISE_SD = 0.1
#: 3.6 asks that smoothing leave at most this share of the noise's standard deviation.
NOISE_SHARE = 0.5


@exercise("3.6", "design a smoothing kernel against noise", reference=None)
def check_smoothing_kernel(make_smoothing_kernel):
    """``make_smoothing_kernel()`` returns a 3x3 kernel that keeps flat areas and at least halves the noise."""
    kernel = call("3.6", make_smoothing_kernel, case="make_smoothing_kernel()")
    try:
        kernel = np.asarray(kernel, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailure(
            f"Exercise 3.6: return a 3x3 array of numbers, got {type(kernel).__name__}"
        ) from None
    if kernel.shape != (3, 3):
        raise CheckFailure(f"Exercise 3.6: return a kernel of shape (3, 3), got shape {kernel.shape}")
    if not np.all(np.isfinite(kernel)):
        raise CheckFailure("Exercise 3.6: the kernel holds NaN or infinity")

    from ..conv import correlate2d

    total = float(kernel.sum())
    for brightness in (0.5, 0.2, 0.9):
        flat = np.full((5, 6), brightness)
        out = correlate2d(flat, kernel)
        if not np.allclose(out, brightness, rtol=1e-9, atol=1e-9):
            if np.isclose(total, 9):
                why = (
                    "the entries add up to 9, so the flat image comes out 9 times brighter: divide every "
                    "entry by their sum"
                )
            elif np.isclose(total, 0):
                why = "the entries add up to 0, so flat areas become 0: that is an edge detector, not a smoother"
            else:
                why = (
                    f"the entries add up to {total:.4g}, so a flat area comes out {total:.4g} times as bright: "
                    "make them add up to 1"
                )
            raise CheckFailure(
                f"Exercise 3.6: on a flat image of brightness {brightness:g} your kernel gives "
                f"{float(out.flat[0]):.4g} (expected {brightness:g}: smoothing must keep a flat area as it is)."
                f"\n  Likely mistake: {why}."
            )
    shares = [_reference().remaining_noise(kernel, noise_sd=NOISE_SD, seed=seed) for seed in range(3)]
    worst = max(shares)
    if worst > NOISE_SHARE:
        if np.allclose(kernel, [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]) or worst > 1:
            why = (
                "the kernel makes the noise stronger, as sharpening does: negative weights on the neighbours "
                "exaggerate every small difference. Use weights of one sign"
            )
        else:
            why = (
                "most of the weight sits on too few pixels, so most of the noise survives: spread the weight "
                "more evenly over the nine pixels (still adding up to 1)"
            )
        raise CheckFailure(
            f"Exercise 3.6: on flat grey 0.5 plus noise of standard deviation {NOISE_SD}, your kernel leaves "
            f"{worst:.0%} of the noise (its standard deviation after / before); at most {NOISE_SHARE:.0%} must "
            f"remain.\n  Likely mistake: {why}."
        )
    passed(
        "3.6",
        f"the kernel keeps flat areas and leaves at most {NOISE_SHARE:.0%} of the noise, measured on "
        "3 noisy images",
    )


# --------------------------------------------------------------------------------------------
# 3.7 design an edge kernel


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
        cases.append(
            diagonal_edge(
                size, int(rng.integers(size - 3, size + 2)), dark, dark + float(rng.uniform(0.3, 1))
            )
        )
    return cases


@exercise("3.7", "design a kernel that finds a diagonal edge", reference=None)
def check_edge_kernel(make_edge_kernel):
    """``make_edge_kernel()`` returns a 3x3 kernel that responds to dark-top-left/bright-bottom-right edges.

    Judged by what the kernel does, not by its numbers: zero on flat images; a positive response
    to the target edge; at most ``WEAK_SHARE`` of that on the same edge turned 90, 180, 270 degrees.
    """
    kernel = call("3.7", make_edge_kernel, case="make_edge_kernel()")
    try:
        kernel = np.asarray(kernel, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailure(
            f"Exercise 3.7: return a 3x3 array of numbers, got {type(kernel).__name__}"
        ) from None
    if kernel.shape != (3, 3):
        raise CheckFailure(f"Exercise 3.7: return a kernel of shape (3, 3), got shape {kernel.shape}")
    if not np.all(np.isfinite(kernel)):
        raise CheckFailure("Exercise 3.7: the kernel holds NaN or infinity")
    scale = float(np.abs(kernel).sum())
    if scale == 0:
        raise CheckFailure("Exercise 3.7: the kernel is all zeros, so it responds to nothing")

    from ..conv import correlate2d

    rng = np.random.default_rng(313)
    for brightness in [0.5, 1.0, *rng.uniform(0.05, 1, size=4)]:
        flat = np.full((6, 7), float(brightness))
        response = float(np.abs(correlate2d(flat, kernel)).max())
        if response > 1e-9 * scale * max(1.0, brightness):
            raise CheckFailure(
                f"Exercise 3.7: on a flat image of brightness {brightness:.3g} your kernel gives "
                f"{response:.4g}, expected 0.\n  Likely mistake: the kernel responds to flat areas: its "
                f"entries add up to {kernel.sum():.4g}. Make them add up to 0, so that only a change "
                "in brightness gives a response (the emboss kernel adds up to 1)."
            )

    for number, image in enumerate(_edge_cases()):
        target, *others = edge_responses(kernel, image)
        case = f"edge image {number} ({image.shape[0]}x{image.shape[1]}, dark {image.min():.3g}, bright {image.max():.3g})"
        if target <= 1e-9 * scale:
            opposite = others[1]
            hint = (
                "the kernel responds to the opposite edge (bright top-left, dark bottom-right): "
                "change the sign of every entry"
                if opposite > 1e-9 * scale
                else "the kernel gives no positive response to the target edge: put negative weights "
                "towards the top-left (dark side) and positive weights towards the bottom-right"
            )
            raise CheckFailure(
                f"Exercise 3.7: on {case}, your kernel's strongest response to the target edge "
                f"(dark top-left, bright bottom-right) is {target:.4g}, expected a positive number.\n"
                f"  Likely mistake: {hint}."
            )
        too_strong = [turn for turn, response in enumerate(others, start=1) if response > WEAK_SHARE * target]
        if too_strong:
            if 2 in too_strong:
                hint = (
                    "the kernel responds to both sides of an edge, like the Laplacian: make it "
                    "change sign across the diagonal, negative towards the top-left and positive "
                    "towards the bottom-right"
                )
            else:
                hint = (
                    "the kernel finds horizontal or vertical edges (like a Sobel kernel) rather "
                    "than the diagonal one: weight the entries along the diagonal from top-left "
                    "(negative) to bottom-right (positive), symmetric about that diagonal"
                )
            turn = too_strong[0]
            raise CheckFailure(
                f"Exercise 3.7: on {case}, your kernel responds {others[turn - 1]:.4g} to the edge with "
                f"{EDGE_ORIENTATIONS[turn]}, but only {target:.4g} to the target; the other "
                f"orientations must get at most {WEAK_SHARE:.0%} of the target's response.\n"
                f"  Likely mistake: {hint}."
            )
    passed(
        "3.7",
        "the kernel ignores flat areas, finds the diagonal edge and responds weakly to its turned versions",
    )


__all__ = [
    "check_ramp_kernel",
    "check_ramp_sobel",
    "check_filter_rgb",
    "check_sobel_magnitude",
    "check_sobel_factors",
    "check_smoothing_kernel",
    "check_edge_kernel",
    "diagonal_edge",
    "edge_responses",
    "EDGE_ORIENTATIONS",
    "WEAK_SHARE",
    "NOISE_SD",
    "NOISE_SHARE",
    "CheckFailure",
]
