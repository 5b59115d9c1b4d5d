"""Checks for lesson 07, learning kernels: the backward passes of convolution and max pooling,
and a vectorised convolution.

Every gradient is compared on its own (``dx``, ``dweight``, ``dbias``), so a failure says which
one is wrong, where it is worst, the expected and received values there, and, when the received
array is what a known mistake produces, which mistake that is.
"""

from __future__ import annotations


import numpy as np

from cnn_helpers import conv, pooling

from ._core import (CheckFailure, call, check_lines_do_not_grow, compare, exercise,
                    format_array, passed)

# --------------------------------------------------------------------------------------------
# Comparing gradients one by one


def _as_float_array(exercise_id, name, value, case):
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailure(
            f"Exercise {exercise_id}: on {case}, {name} must be a numeric array, got {type(value).__name__}"
        ) from None


def _close(expected, received, rtol=1e-6, atol=1e-8):
    return expected.shape == received.shape and np.allclose(received, expected, rtol=rtol, atol=atol)


def compare_gradients(exercise_id, case, gradients, rtol=1e-6, atol=1e-8):
    """Compare several gradients and name the wrong ones.

    Parameters
    ----------
    gradients : list of (name, expected, received, mistakes)
        ``mistakes`` is a list of ``(description, what that mistake returns)`` for that gradient.

    Raises
    ------
    CheckFailure
        Naming every gradient as right or wrong, then for the first wrong one: its shape problem,
        or its worst entry (index, expected, received), the number of wrong entries, the largest
        absolute error, and the likely mistake.
    """
    status, first_wrong = [], None
    for name, expected, received, mistakes in gradients:
        expected = np.asarray(expected, dtype=float)
        received = _as_float_array(exercise_id, name, received, case)
        right = _close(expected, received, rtol, atol)
        status.append(f"{name} {'right' if right else 'WRONG'}")
        if not right and first_wrong is None:
            first_wrong = (name, expected, received, mistakes)
    if first_wrong is None:
        return
    name, expected, received, mistakes = first_wrong
    lines = [f"Exercise {exercise_id}: wrong {name} on {case}.", f"  ({', '.join(status)})"]
    if expected.shape != received.shape:
        lines.append(f"  {name}: expected shape {expected.shape}, got shape {received.shape}")
    else:
        error = np.abs(received - expected)
        error = np.where(np.isnan(error), np.inf, error)
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), error.shape))
        wrong = int(np.count_nonzero(~np.isclose(received, expected, rtol=rtol, atol=atol)))
        lines.append(
            f"  worst entry of {name} at index {worst}: expected {expected[worst]:.6g}, got "
            f"{received[worst]:.6g} ({wrong} of {expected.size} entries wrong, "
            f"largest |error| {float(error.max()):.3g})"
        )
    lines.append(f"  expected {name}:\n{format_array(expected)}")
    lines.append(f"  received {name}:\n{format_array(received)}")
    for description, value in mistakes:
        if value is not None and _close(np.asarray(value, dtype=float), received, rtol, atol):
            lines.append(f"  Likely mistake: {description}")
            break
    raise CheckFailure("\n".join(lines))


def _unpack(exercise_id, received, names, case):
    if not isinstance(received, (tuple, list)) or len(received) != len(names):
        got = f"a {type(received).__name__} of length {len(received)}" if isinstance(received, (tuple, list)) \
            else type(received).__name__
        raise CheckFailure(
            f"Exercise {exercise_id}: on {case}, return the tuple ({', '.join(names)}), got {got}"
        )
    return received


# --------------------------------------------------------------------------------------------
# Cases and what the usual mistakes would return


def _lecture_arrays():
    from cnn_helpers import data

    example = data.lecture_example()
    return np.asarray(example.image, dtype=float)[None, None], np.asarray(example.sharpen, dtype=float)[None, None]


def conv_cases(seed, count=30):
    """(description, dout, x, weight, bias, stride, padding): lecture, hand-picked and random cases."""
    rng = np.random.default_rng(seed)
    image, sharpen = _lecture_arrays()
    cases = []

    def add(description, x, weight, stride, padding, dout=None):
        out_h = conv.output_size(x.shape[2], weight.shape[2], padding=padding, stride=stride)
        out_w = conv.output_size(x.shape[3], weight.shape[3], padding=padding, stride=stride)
        shape = (x.shape[0], weight.shape[0], out_h, out_w)
        if dout is None:
            dout = rng.normal(size=shape).round(2)
        bias = rng.normal(size=weight.shape[0]).round(2)
        cases.append((description, dout, x, weight, bias, stride, padding))

    add("the lecture's 5x5 image and sharpen kernel, no padding, stride 1, dout all ones",
        image, sharpen, 1, 0, dout=np.ones((1, 1, 3, 3)))
    add("the lecture's 5x5 image and sharpen kernel, padding 1, stride 1", image, sharpen, 1, 1)
    add("the lecture's 5x5 image and sharpen kernel, padding 1, stride 2", image, sharpen, 2, 1)
    add("2 images, 2 channels, 3 filters, 4x4, 2x2 kernels, stride 1",
        rng.normal(size=(2, 2, 4, 4)).round(2), rng.normal(size=(3, 2, 2, 2)).round(2), 1, 0)
    add("2 images, 3 channels, 2 filters, 6x5, 3x3 kernels, stride 2, padding 1",
        rng.normal(size=(2, 3, 6, 5)).round(2), rng.normal(size=(2, 3, 3, 3)).round(2), 2, 1)
    add("3 images, 1 channel, 2 filters, 7x7, 3x2 kernels, stride 3, padding 2",
        rng.normal(size=(3, 1, 7, 7)).round(2), rng.normal(size=(2, 1, 3, 2)).round(2), 3, 2)
    for _ in range(count):
        n, channels, filters = (int(v) for v in rng.integers(1, 4, size=3))
        kernel_h, kernel_w = (int(v) for v in rng.integers(1, 4, size=2))
        stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        height = int(rng.integers(max(1, kernel_h - 2 * padding), 9))
        width = int(rng.integers(max(1, kernel_w - 2 * padding), 9))
        x = rng.normal(size=(n, channels, height, width)).round(2)
        weight = rng.normal(size=(filters, channels, kernel_h, kernel_w)).round(2)
        add(f"x {x.shape}, weight {weight.shape}, stride {stride}, padding {padding}", x, weight, stride, padding)
    return cases


def conv_backward_variant(dout, x, weight, stride, padding, *, ignore_stride=False, flip=False,
                          overwrite=False, crop=True):
    """The loop backward pass, with one of the usual mistakes switched on (for the hints)."""
    dout, x, weight = (np.asarray(a, dtype=float) for a in (dout, x, weight))
    padded = conv.pad2d(x, padding=padding)
    dpadded = np.zeros_like(padded)
    dweight = np.zeros_like(weight)
    dbias = np.zeros(weight.shape[0])
    kernel_h, kernel_w = weight.shape[2:]
    n_images, n_filters, out_h, out_w = dout.shape
    for n in range(n_images):
        for f in range(n_filters):
            kernel = weight[f, :, ::-1, ::-1] if flip else weight[f]
            for row in range(out_h):
                for col in range(out_w):
                    top, left = (row, col) if ignore_stride else (row * stride, col * stride)
                    window = padded[n, :, top:top + kernel_h, left:left + kernel_w]
                    grad = dout[n, f, row, col]
                    dbias[f] += grad
                    dweight[f] += grad * window
                    target = dpadded[n, :, top:top + kernel_h, left:left + kernel_w]
                    if overwrite:
                        target[...] = grad * kernel
                    else:
                        target += grad * kernel
    if crop:
        height, width = x.shape[2:]
        dpadded = dpadded[:, :, padding:padding + height, padding:padding + width]
    return dpadded, dweight, dbias


def _col2im_overwrite(dout, x, weight, stride, padding):
    """dx of an im2col backward whose col2im assigns (=) instead of adding (+=)."""
    dout, x, weight = (np.asarray(a, dtype=float) for a in (dout, x, weight))
    n, channels, height, width = x.shape
    filters, _, kernel_h, kernel_w = weight.shape
    out_h, out_w = dout.shape[2:]
    dcols = weight.reshape(filters, -1).T @ dout.transpose(1, 0, 2, 3).reshape(filters, -1)
    dcols = dcols.reshape(channels, kernel_h, kernel_w, n, out_h, out_w)
    padded = np.zeros((n, channels, height + 2 * padding, width + 2 * padding))
    for i in range(kernel_h):
        for j in range(kernel_w):
            rows = slice(i, i + stride * (out_h - 1) + 1, stride)
            cols = slice(j, j + stride * (out_w - 1) + 1, stride)
            padded[:, :, rows, cols] = dcols[:, i, j].transpose(1, 0, 2, 3)
    return padded[:, :, padding:padding + height, padding:padding + width]


def _conv_mistakes(dout, x, weight, stride, padding, reference):
    """Per-gradient mistakes: {"dx": [...], "dweight": [...], "dbias": [...]}."""
    dx, dweight, dbias = reference
    overlapping = stride < max(weight.shape[2:])
    no_stride = conv_backward_variant(dout, x, weight, stride, padding, ignore_stride=True) if stride > 1 else (None,) * 3
    flipped = conv_backward_variant(dout, x, weight, stride, padding, flip=True)
    uncropped = conv_backward_variant(dout, x, weight, stride, padding, crop=False)[0] if padding else None
    overwritten = conv_backward_variant(dout, x, weight, stride, padding, overwrite=True)[0] if overlapping else None
    first_image = conv_backward_variant(dout[:1], x[:1], weight, stride, padding)
    stride_hint = ("the stride was ignored in the backward pass: output (r, c) read the window starting "
                   "at row r * stride, column c * stride, so its gradient goes back to that same window")
    return {
        "dx": [
            (stride_hint, no_stride[0]),
            ("padding was not removed from dx: compute the gradient of the padded input, then cut "
             "away the padding border (the zeros are not part of x)", uncropped),
            ("dx used the kernel flipped the wrong way: in loop form add dout * weight[f] onto the "
             "same window the forward pass read (in full-convolution form, convolve dout with the "
             "kernel, which flips it; correlating would not)", flipped[0]),
            ("overlapping windows overwrote each other's gradient in dx: add (+=) the contribution of "
             "every window, a pixel under several windows receives the sum", overwritten),
        ],
        "dweight": [
            (stride_hint, no_stride[1]),
            ("dweight holds only the first image's contribution: sum over every image of the batch",
             first_image[1] if len(x) > 1 else None),
            ("dweight was averaged over the batch: the gradient of a sum is the sum, do not divide by N",
             dweight / len(x) if len(x) > 1 else None),
        ],
        "dbias": [
            ("dbias was not summed over the batch: the bias is added to every image, so sum over "
             "images too, dbias[f] = dout[:, f].sum()", dout.sum(axis=(2, 3))),
            ("dbias holds only the first image: sum dout[:, f] over every image and position",
             first_image[2] if len(x) > 1 else None),
            ("dbias was not summed over positions: the bias is added at every output position, so "
             "dbias[f] = dout[:, f].sum()", dout.sum(axis=0)),
            ("dbias was averaged over the batch: the gradient of a sum is the sum, do not divide by N",
             dout.sum(axis=(0, 2, 3)) / len(dout) if len(dout) > 1 else None),
            ("dbias is the mean of dout, not its sum: each output adds bias[f] once, so the "
             "gradients add up", dout.mean(axis=(0, 2, 3))),
        ],
    }


# --------------------------------------------------------------------------------------------
# 7.1 convolution backward pass with loops


@exercise("7.1", "convolution backward pass with loops", allowed=("pad2d", "output_size"),
          reference="cnn_helpers.conv.conv2d_backward")
def check_conv_backward(conv_backward):
    """``conv_backward(dout, x, weight, bias, *, stride, padding) -> (dx, dweight, dbias)``."""
    cases = conv_cases(seed=701)
    for description, dout, x, weight, bias, stride, padding in cases:
        reference = conv.conv2d_backward(dout, x, weight, bias, stride=stride, padding=padding)
        received = call("7.1", conv_backward, dout.copy(), x.copy(), weight.copy(), bias.copy(),
                        stride=stride, padding=padding, case=description)
        received = _unpack("7.1", received, ("dx", "dweight", "dbias"), description)
        mistakes = _conv_mistakes(dout, x, weight, stride, padding, reference)
        compare_gradients("7.1", description, [
            (name, expected, got, mistakes[name])
            for name, expected, got in zip(("dx", "dweight", "dbias"), reference, received)
        ])
    passed("7.1", f"dx, dweight and dbias match the reference on {len(cases)} cases, "
                  "including the lecture's image with padding and stride 2")


# --------------------------------------------------------------------------------------------
# 7.2 max-pooling backward pass


def max_pool_backward_variant(dout, x, size, stride, *, ties="first", overwrite=False, ignore_stride=False):
    """Loop max-pool backward with one of the usual mistakes switched on (for the hints).

    ``ties``: "first" (right), "last" or "all" tied maxima get the gradient.
    """
    dout, x = np.asarray(dout, dtype=float), np.asarray(x, dtype=float)
    dx = np.zeros_like(x)
    n_images, channels, out_h, out_w = dout.shape
    for n, c, row, col in np.ndindex(n_images, channels, out_h, out_w):
        top, left = (row, col) if ignore_stride else (row * stride, col * stride)
        window = x[n, c, top:top + size, left:left + size]
        is_max = window == window.max()
        if ties != "all":
            flat = np.flatnonzero(is_max)
            is_max = np.zeros(window.size, dtype=bool)
            is_max[flat[0] if ties == "first" else flat[-1]] = True
            is_max = is_max.reshape(window.shape)
        target = dx[n, c, top:top + size, left:left + size]
        if overwrite:
            target[is_max] = dout[n, c, row, col]
        else:
            target[is_max] += dout[n, c, row, col]
    return dx


def pool_cases(seed, count=30):
    """(description, x, size, stride): hand-picked ties and overlaps, then random batches."""
    rng = np.random.default_rng(seed)
    cases = [
        ("one 4x4 map of distinct values, size 2, stride 2",
         np.array([[1.0, 3, 2, 0], [4, 2, 7, 1], [0, 5, 3, 3], [1, 2, 6, 8]])[None, None], 2, 2),
        ("a batch of 2 images with 2 channels, 4x6, size 2, stride 2",
         rng.normal(size=(2, 2, 4, 6)).round(3), 2, 2),
        ("one 5x5 map, size 3, stride 2 (overlapping windows share a maximum)",
         np.array([[0.0, 1, 2, 1, 0], [1, 2, 3, 2, 1], [2, 3, 9, 3, 2], [1, 2, 3, 2, 1], [0, 1, 2, 1, 0]])[None, None], 3, 2),
        ("one 4x4 map with ties inside the windows, size 2, stride 2",
         np.array([[5.0, 5, 1, 2], [0, 5, 2, 2], [3, 1, 4, 0], [1, 3, 0, 4]])[None, None], 2, 2),
        ("one 3x4 map, size 2, stride 1 (every inner pixel is in several windows)",
         np.array([[1.0, 2, 3, 4], [8, 7, 6, 5], [9, 1, 1, 2]])[None, None], 2, 1),
        ("one 5x7 map, size 2, stride 3 (gaps between the windows)",
         rng.normal(size=(1, 1, 5, 7)).round(3), 2, 3),
    ]
    for k in range(count):
        n, channels = (int(v) for v in rng.integers(1, 4, size=2))
        height, width = (int(v) for v in rng.integers(1, 10, size=2))
        size = int(rng.integers(1, min(height, width, 4) + 1))
        stride = int(rng.integers(1, 4))
        if k % 2:  # small integers: plenty of ties
            x = rng.integers(0, 4, size=(n, channels, height, width)).astype(float)
            kind = "integers with ties"
        else:
            x = rng.normal(size=(n, channels, height, width)).round(3)
            kind = "random values"
        cases.append((f"x of shape {x.shape} ({kind}), size {size}, stride {stride}", x, size, stride))
    return cases


@exercise("7.2", "max-pooling backward pass", reference="cnn_helpers.pooling.max_pool2d_backward")
def check_max_pool_backward(max_pool_backward):
    """``max_pool_backward(dout, x, size, *, stride) -> dx``; ties go to the first maximum."""
    rng = np.random.default_rng(702)
    cases = pool_cases(seed=702)
    for description, x, size, stride in cases:
        out = pooling.max_pool2d(x, size, stride=stride)
        dout = rng.integers(1, 10, size=out.shape).astype(float)  # distinct-ish, non-zero
        expected = pooling.max_pool2d_backward(dout, x, size, stride=stride)
        received = call("7.2", max_pool_backward, dout.copy(), x.copy(), size, stride=stride, case=description)
        overlapping = stride < size
        mistakes = [
            ("the gradient was spread to every element of the window: only the maximum changed the "
             "output, so only it gets dout", pooling.sum_pool2d_backward(dout, x, size, stride=stride)),
            ("the gradient was shared equally over the window (that is average pooling's backward): "
             "max pooling sends all of it to the maximum", pooling.avg_pool2d_backward(dout, x, size, stride=stride)),
            ("on ties the gradient went to the last maximum: give it to the first one in reading "
             "order (left to right, then top to bottom), as np.argmax does",
             max_pool_backward_variant(dout, x, size, stride, ties="last")),
            ("on ties every tied maximum got the gradient: only one pixel produced the output, give "
             "it to the first maximum in reading order",
             max_pool_backward_variant(dout, x, size, stride, ties="all")),
            ("overlapping windows overwrote each other's gradient: a pixel that is the maximum of "
             "several windows receives the sum of their gradients (+=, not =)",
             max_pool_backward_variant(dout, x, size, stride, overwrite=True) if overlapping else None),
            ("the stride was ignored: output (r, c) came from the window starting at row r * stride, "
             "column c * stride", max_pool_backward_variant(dout, x, size, stride, ignore_stride=True)
             if stride > 1 else None),
        ]
        compare_gradients("7.2", description, [("dx", expected, received, mistakes)])
    passed("7.2", f"dx matches the reference on {len(cases)} cases, with ties and overlapping windows")


# --------------------------------------------------------------------------------------------
# 7.3 vectorised convolution, forward and backward


@exercise("7.3", "vectorised convolution, forward and backward", allowed=("pad2d", "output_size"),
          reference=("cnn_helpers.conv.conv2d", "cnn_helpers.conv.conv2d_backward"))
def check_conv_fast(conv_forward_fast, conv_backward_fast):
    """``conv_forward_fast(x, weight, bias, *, stride, padding)`` and
    ``conv_backward_fast(dout, x, weight, bias, *, stride, padding)``: right, and vectorised (few lines of
    Python run, however many outputs)."""
    cases = conv_cases(seed=703)
    for description, dout, x, weight, bias, stride, padding in cases:
        expected = conv.conv2d(x, weight, bias, stride=stride, padding=padding)
        received = call("7.3", conv_forward_fast, x.copy(), weight.copy(), bias.copy(), stride=stride, padding=padding,
                        case=f"the forward pass on {description}")
        flat = weight.reshape(weight.shape[0], -1)
        ijc_weight = flat.reshape(weight.shape[0], weight.shape[2], weight.shape[3], weight.shape[1]).transpose(0, 3, 1, 2)
        mistakes = [
            ("the bias is missing: add bias[f] to every output of filter f", expected - bias[None, :, None, None]),
            ("the bias was not broadcast over the filter axis: reshape it to (1, F, 1, 1) (or add "
             "bias[:, None] to the (F, N*OH*OW) product)",
             expected - bias[None, :, None, None] + bias if expected.shape[-1] == len(bias) else None),
            ("the output axes are in the wrong order: the product is (F, N*OH*OW); reshape it to "
             "(F, N, OH, OW), then transpose to (N, F, OH, OW)",
             expected.transpose(1, 0, 2, 3).reshape(expected.shape)),
            ("the rows of the column matrix are not in weight.reshape(F, -1)'s order: it is "
             "(channel, kernel row, kernel column), channel slowest",
             conv.conv2d(x, ijc_weight, bias, stride=stride, padding=padding) if weight.shape[1] > 1 else None),
            ("the stride was ignored: windows start every `stride` pixels",
             conv.conv2d(x, weight, bias, stride=1, padding=padding) if stride > 1 else None),
        ]
        compare("7.3", expected, received, f"the forward pass on {description}", mistakes, name="output")

        reference = conv.conv2d_backward(dout, x, weight, bias, stride=stride, padding=padding)
        received = call("7.3", conv_backward_fast, dout.copy(), x.copy(), weight.copy(), bias.copy(),
                        stride=stride, padding=padding,
                        case=f"the backward pass on {description}")
        received = _unpack("7.3", received, ("dx", "dweight", "dbias"), f"the backward pass on {description}")
        mistakes = _conv_mistakes(dout, x, weight, stride, padding, reference)
        if stride < max(weight.shape[2:]):
            mistakes["dx"].insert(0, (
                "col2im overwrote values instead of adding them: a pixel covered by several kernel "
                "offsets must receive the sum (use +=)", _col2im_overwrite(dout, x, weight, stride, padding)))
        compare_gradients("7.3", f"the backward pass on {description}", [
            (name, expected, got, mistakes[name])
            for name, expected, got in zip(("dx", "dweight", "dbias"), reference, received)
        ])

    # Vectorised? The same lines of Python must run on a small and a larger batch (more images,
    # filters and positions; the same 3x3 kernel, so a loop over kernel offsets stays allowed).
    # A loop over images, filters or output positions runs more lines on the larger one.
    def sizes(seed, n, filters, size):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(n, 3, size, size))
        weight = rng.normal(size=(filters, 3, 3, 3))
        return x, weight, rng.normal(size=filters), rng.normal(size=(n, filters, size, size))

    def forward_and_backward(x, weight, bias, dout):
        call("7.3", conv_forward_fast, x, weight, bias, stride=1, padding=1, case=f"a batch of shape {x.shape}")
        call("7.3", conv_backward_fast, dout, x, weight, bias, stride=1, padding=1,
             case=f"a batch of shape {x.shape}")

    check_lines_do_not_grow(
        "7.3", forward_and_backward, sizes(7030, 2, 2, 5), sizes(7031, 5, 5, 9),
        watch=(conv_forward_fast, conv_backward_fast),
        describe=lambda arguments: f"x of shape {arguments[0].shape} with weight {arguments[1].shape}",
        advice="Build the column matrix with one slice per kernel offset (i, j) and do one matrix "
               "product; avoid Python loops over images, filters and output positions.",
    )
    passed("7.3", f"forward and backward match the reference on {len(cases)} cases, vectorised "
                  "(the same lines of Python run whatever the batch size)")


__all__ = [
    "check_conv_backward", "check_max_pool_backward", "check_conv_fast", "compare_gradients",
    "conv_cases", "pool_cases", "conv_backward_variant", "max_pool_backward_variant",
]
