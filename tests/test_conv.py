"""Tests for cnn_helpers.conv: the lecture's numbers, loops vs vectorised, oracles, gradients, errors."""

import itertools

import numpy as np
import pytest

from cnn_helpers import _fast
from cnn_helpers.conv import (
    col2im,
    conv2d,
    conv2d_backward,
    conv2d_backward_loops,
    conv2d_loops,
    convolve2d,
    convolve2d_loops,
    correlate2d,
    correlate2d_loops,
    correlation_step,
    correlation_steps,
    im2col,
    output_size,
    pad2d,
    padding_layout,
)

from _oracles import numerical_gradient

# The lecture's 5x5 binary image and its sharpen kernel (lessons 02 and 04).
LECTURE_IMAGE = np.array(
    [
        [0, 1, 1, 0, 0],
        [0, 1, 1, 0, 0],
        [1, 0, 0, 1, 1],
        [0, 1, 1, 0, 1],
        [1, 1, 1, 1, 1],
    ]
)
SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
LECTURE_VALID_MAP = np.array([[3, 3, -2], [-3, -3, 4], [3, 3, -4]])

CORRELATE_FUNCTIONS = [correlate2d, correlate2d_loops]
CONVOLVE_FUNCTIONS = [convolve2d, convolve2d_loops]
CONV_FUNCTIONS = [conv2d, conv2d_loops]
BACKWARD_FUNCTIONS = [conv2d_backward, conv2d_backward_loops]

KERNEL_SHAPES = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (2, 3), (3, 1), (1, 4), (5, 2)]
PADDINGS = [0, 1, 2, (1, 0), (0, 2)]
STRIDES = [1, 2, 3, (2, 1)]
SWEEP = list(itertools.product(KERNEL_SHAPES, PADDINGS, STRIDES))


# ----------------------------------------------------------------------------------------------
# The lecture's worked numbers
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("correlate", CORRELATE_FUNCTIONS)
def test_lecture_sharpen_without_padding(correlate):
    np.testing.assert_array_equal(correlate(LECTURE_IMAGE, SHARPEN), LECTURE_VALID_MAP)


@pytest.mark.parametrize("correlate", CORRELATE_FUNCTIONS)
def test_lecture_sharpen_with_padding_one(correlate):
    padded_map = correlate(LECTURE_IMAGE, SHARPEN, padding=1)
    assert padded_map.shape == (5, 5)
    np.testing.assert_array_equal(padded_map[0], [-1, 3, 3, -1, 0])
    # the inside of the padded map is the unpadded map
    np.testing.assert_array_equal(padded_map[1:-1, 1:-1], LECTURE_VALID_MAP)


@pytest.mark.parametrize("correlate", CORRELATE_FUNCTIONS)
def test_lecture_erratum_bottom_left_is_four_not_five(correlate):
    """Erratum: the slide prints 5 at the padded map's row 5, column 1; 5*1 - 1 (right neighbour) = 4."""
    bottom_left = correlate(LECTURE_IMAGE, SHARPEN, padding=1)[4, 0]
    assert bottom_left == 4


@pytest.mark.parametrize("correlate", CORRELATE_FUNCTIONS)
def test_lecture_stride_two_with_padding_one(correlate):
    strided = correlate(LECTURE_IMAGE, SHARPEN, padding=1, stride=2)
    assert strided.shape == (3, 3) == (output_size(5, 3, padding=1, stride=2),) * 2
    np.testing.assert_array_equal(strided, correlate(LECTURE_IMAGE, SHARPEN, padding=1)[::2, ::2])
    np.testing.assert_array_equal(strided[0], [-1, 3, 0])
    assert strided[2, 0] == 4  # the same erratum in the stride-2 map (the slide prints 5)


@pytest.mark.parametrize("conv", CONV_FUNCTIONS)
def test_lecture_numbers_through_conv2d(conv):
    out = conv(LECTURE_IMAGE[None, None], SHARPEN[None, None])
    np.testing.assert_array_equal(out[0, 0], LECTURE_VALID_MAP)


def test_flip_is_visible_with_the_lecture_one_to_nine_kernel():
    kernel = np.arange(1, 10).reshape(3, 3)
    image = np.zeros((3, 3))
    image[1, 1] = 1  # a single bright pixel: correlation stamps the flipped kernel, convolution the kernel
    np.testing.assert_array_equal(convolve2d(image, kernel, padding=1), kernel)
    np.testing.assert_array_equal(correlate2d(image, kernel, padding=1), kernel[::-1, ::-1])


# ----------------------------------------------------------------------------------------------
# output_size and pad2d
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, k, p, s, expected",
    [
        (5, 3, 0, 1, 3),
        (5, 3, 1, 1, 5),
        (5, 3, 1, 2, 3),
        (28, 5, 0, 1, 24),
        (28, 3, 1, 1, 28),
        (7, 2, 0, 2, 3),
        (4, 5, 1, 1, 2),
        (1, 1, 0, 5, 1),
        (10, 3, 2, 3, 4),
    ],
)
def test_output_size(n, k, p, s, expected):
    assert output_size(n, k, padding=p, stride=s) == expected
    assert output_size(n, k, padding=p, stride=s) == len(range(0, n + 2 * p - k + 1, s))


@pytest.mark.parametrize(
    "args, error, message",
    [
        (
            (4, 5),
            ValueError,
            r"kernel of size 5 does not fit in the padded input of size 4 \(n=4 with padding 0",
        ),
        (
            (2, 5, 1),
            ValueError,
            r"kernel of size 5 does not fit in the padded input of size 4 \(n=2 with padding 1",
        ),
        ((5, 3, 0, 0), ValueError, r"stride must be >= 1, got 0"),
        ((5, 3, 0, -2), ValueError, r"stride must be >= 1, got -2"),
        ((5, 3, -1), ValueError, r"padding must be >= 0, got -1"),
        ((0, 3), ValueError, r"n must be >= 1, got 0"),
        ((5, 0), ValueError, r"kernel_size must be >= 1, got 0"),
        ((5.0, 3), TypeError, r"n must be an integer, got float 5.0"),
        ((5, 3, 0, "2"), TypeError, r"stride must be an integer"),
    ],
)
def test_output_size_rejects(args, error, message):
    n, k, *rest = args
    keywords = dict(zip(("padding", "stride"), rest, strict=False))  # rest holds none, one or both
    with pytest.raises(error, match=message):
        output_size(n, k, **keywords)


def test_pad2d_single_map_and_asymmetric_padding():
    x = np.arange(6.0).reshape(2, 3)
    padded = pad2d(x, padding=(1, 2))
    assert padded.shape == (4, 7)
    np.testing.assert_array_equal(padded[1:3, 2:5], x)
    assert padded.sum() == x.sum()  # everything else is zero


def test_pad2d_pads_only_the_last_two_axes():
    x = np.ones((2, 3, 4, 5), dtype=np.float32)
    padded = pad2d(x, padding=1)
    assert padded.shape == (2, 3, 6, 7)
    assert padded.dtype == np.float32
    assert pad2d(np.ones((2, 2, 2, 3, 3)), padding=(0, 1)).shape == (2, 2, 2, 3, 5)
    np.testing.assert_array_equal(pad2d(x, padding=0), x)


def test_pad2d_rejects():
    with pytest.raises(ValueError, match=r"x must have at least 2 axes \(H, W\), got shape \(3,\) \(1-D\)"):
        pad2d([1, 2, 3], padding=1)
    with pytest.raises(ValueError, match=r"padding must be >= 0, got -1"):
        pad2d(np.ones((2, 2)), padding=-1)
    with pytest.raises(ValueError, match=r"padding\[1\] must be >= 0, got -1"):
        pad2d(np.ones((2, 2)), padding=(1, -1))
    with pytest.raises(TypeError, match=r"x must hold real numbers"):
        pad2d([["a", "b"]], padding=1)


# ----------------------------------------------------------------------------------------------
# Loops and vectorised versions agree
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel_shape, padding, stride", SWEEP)
def test_correlate_and_convolve_loops_match_vectorised(rng, kernel_shape, padding, stride):
    image = rng.standard_normal((7, 8))
    kernel = rng.standard_normal(kernel_shape)
    np.testing.assert_allclose(
        correlate2d(image, kernel, padding=padding, stride=stride),
        correlate2d_loops(image, kernel, padding=padding, stride=stride),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        convolve2d(image, kernel, padding=padding, stride=stride),
        convolve2d_loops(image, kernel, padding=padding, stride=stride),
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("kernel_shape, padding, stride", SWEEP)
def test_conv2d_loops_match_vectorised(rng, kernel_shape, padding, stride):
    x = rng.standard_normal((2, 3, 7, 8))
    weight = rng.standard_normal((2, 3) + kernel_shape)
    bias = rng.standard_normal(2)
    np.testing.assert_allclose(
        conv2d(x, weight, bias, stride=stride, padding=padding),
        conv2d_loops(x, weight, bias, stride=stride, padding=padding),
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("kernel_shape, padding, stride", SWEEP)
def test_conv2d_backward_loops_match_vectorised(rng, kernel_shape, padding, stride):
    x = rng.standard_normal((2, 3, 7, 8))
    weight = rng.standard_normal((2, 3) + kernel_shape)
    bias = rng.standard_normal(2)
    dout = rng.standard_normal(conv2d(x, weight, stride=stride, padding=padding).shape)
    fast = conv2d_backward(dout, x, weight, bias, stride=stride, padding=padding)
    slow = conv2d_backward_loops(dout, x, weight, bias, stride=stride, padding=padding)
    for name, got, expected in zip(("dx", "dweight", "dbias"), fast, slow, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("n, channels, filters", [(1, 1, 1), (1, 3, 1), (3, 1, 4), (2, 4, 3), (5, 2, 2)])
@pytest.mark.parametrize("kernel_shape, padding, stride", [((3, 3), 1, 1), ((2, 3), (0, 1), (2, 1))])
def test_conv2d_loops_match_vectorised_over_batch_and_channels(
    rng, n, channels, filters, kernel_shape, padding, stride
):
    x = rng.standard_normal((n, channels, 6, 5))
    weight = rng.standard_normal((filters, channels) + kernel_shape)
    bias = rng.standard_normal(filters)
    out = conv2d(x, weight, bias, stride=stride, padding=padding)
    np.testing.assert_allclose(
        out, conv2d_loops(x, weight, bias, stride=stride, padding=padding), rtol=1e-12, atol=1e-12
    )
    dout = rng.standard_normal(out.shape)
    for got, expected in zip(
        conv2d_backward(dout, x, weight, bias, stride=stride, padding=padding),
        conv2d_backward_loops(dout, x, weight, bias, stride=stride, padding=padding),
        strict=True,
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_conv2d_is_correlate2d_summed_over_channels(rng):
    x = rng.standard_normal((2, 3, 6, 6))
    weight = rng.standard_normal((4, 3, 3, 2))
    bias = rng.standard_normal(4)
    out = conv2d(x, weight, bias, stride=(1, 2), padding=(1, 0))
    for n, f in itertools.product(range(2), range(4)):
        expected = bias[f] + sum(
            correlate2d(x[n, c], weight[f, c], padding=(1, 0), stride=(1, 2)) for c in range(3)
        )
        np.testing.assert_allclose(out[n, f], expected, rtol=1e-12)


# ----------------------------------------------------------------------------------------------
# Independent oracles: SciPy and PyTorch
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel_shape, padding, stride", SWEEP[::3])
def test_correlate_and_convolve_match_scipy(rng, kernel_shape, padding, stride):
    signal = pytest.importorskip("scipy.signal")
    image = rng.standard_normal((7, 8))
    kernel = rng.standard_normal(kernel_shape)
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    padded = pad2d(image, padding=padding)
    expected_corr = signal.correlate2d(padded, kernel, mode="valid")[::s_h, ::s_w]
    expected_conv = signal.convolve2d(padded, kernel, mode="valid")[::s_h, ::s_w]
    for correlate in CORRELATE_FUNCTIONS:
        np.testing.assert_allclose(
            correlate(image, kernel, padding=padding, stride=stride), expected_corr, rtol=1e-10, atol=1e-12
        )
    for convolve in CONVOLVE_FUNCTIONS:
        np.testing.assert_allclose(
            convolve(image, kernel, padding=padding, stride=stride), expected_conv, rtol=1e-10, atol=1e-12
        )


TORCH_CASES = [
    ((2, 3, 7, 8), (4, 3, 3, 3), 1, 1),
    ((2, 1, 9, 6), (2, 1, 5, 2), (2, 1), (2, 0)),
    ((3, 2, 8, 8), (3, 2, 4, 3), 2, (0, 1)),
    ((1, 4, 5, 5), (1, 4, 1, 1), 3, 0),
    ((2, 2, 6, 7), (5, 2, 2, 4), (1, 3), (1, 2)),
]


@pytest.mark.parametrize("x_shape, weight_shape, stride, padding", TORCH_CASES)
def test_conv2d_and_backward_match_torch(rng, x_shape, weight_shape, stride, padding):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(x_shape)
    weight = rng.standard_normal(weight_shape)
    bias = rng.standard_normal(weight_shape[0])
    x_t, weight_t, bias_t = (torch.tensor(a, requires_grad=True) for a in (x, weight, bias))
    out_t = torch.nn.functional.conv2d(x_t, weight_t, bias_t, stride=stride, padding=padding)
    dout = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.from_numpy(dout))
    expected = (x_t.grad.numpy(), weight_t.grad.numpy(), bias_t.grad.numpy())

    for conv in CONV_FUNCTIONS:
        np.testing.assert_allclose(
            conv(x, weight, bias, stride=stride, padding=padding),
            out_t.detach().numpy(),
            rtol=1e-10,
            atol=1e-10,
        )
    for backward in BACKWARD_FUNCTIONS:
        for name, got, want in zip(
            ("dx", "dweight", "dbias"),
            backward(dout, x, weight, bias, stride=stride, padding=padding),
            expected,
            strict=True,
        ):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=name)


def test_conv2d_float32_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((4, 8, 14, 14)).astype(np.float32)
    weight = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    bias = rng.standard_normal(16).astype(np.float32)
    expected = torch.nn.functional.conv2d(
        torch.from_numpy(x), torch.from_numpy(weight), torch.from_numpy(bias), padding=1
    ).numpy()
    np.testing.assert_allclose(conv2d(x, weight, bias, padding=1), expected, rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------------------------
# Numerical gradient checks (float64 central differences)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backward", BACKWARD_FUNCTIONS)
@pytest.mark.parametrize(
    "x_shape, weight_shape, stride, padding",
    [
        ((2, 2, 5, 5), (3, 2, 3, 3), 1, 1),
        ((1, 3, 6, 5), (2, 3, 2, 3), (2, 1), (0, 1)),
        ((2, 1, 7, 7), (2, 1, 3, 2), 3, 2),
    ],
)
def test_conv2d_backward_numerical_gradients(rng, backward, x_shape, weight_shape, stride, padding):
    x = rng.standard_normal(x_shape)
    weight = rng.standard_normal(weight_shape)
    bias = rng.standard_normal(weight_shape[0])
    dout = rng.standard_normal(conv2d(x, weight, bias, stride=stride, padding=padding).shape)

    def loss():  # a scalar whose gradient with respect to the output is dout
        return np.sum(conv2d(x, weight, bias, stride=stride, padding=padding) * dout)

    dx, dweight, dbias = backward(dout, x, weight, bias, stride=stride, padding=padding)
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dweight, numerical_gradient(loss, weight), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dbias, numerical_gradient(loss, bias), rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------------------------
# Reusing the forward's columns; im2col and col2im
# ----------------------------------------------------------------------------------------------


def test_fast_path_forward_and_cache_give_conv2d_and_its_backward(rng):
    x = rng.standard_normal((3, 2, 6, 5))
    weight = rng.standard_normal((4, 2, 3, 2))
    bias = rng.standard_normal(4)
    out, cache = _fast.conv2d_forward(x, weight, bias, (2, 1), (1, 0), _fast.ConvWorkspace())
    np.testing.assert_array_equal(out, conv2d(x, weight, bias, stride=(2, 1), padding=(1, 0)))
    dout = rng.standard_normal(out.shape)
    expected = conv2d_backward_loops(dout, x, weight, bias, stride=(2, 1), padding=(1, 0))
    for got, want in zip(_fast.conv2d_backward(dout, cache), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    dx, dweight, _dbias = _fast.conv2d_backward(dout, cache, needs_input_grad=False)
    assert dx is None
    np.testing.assert_allclose(dweight, expected[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backward", BACKWARD_FUNCTIONS)
def test_conv2d_backward_can_skip_dx_and_has_no_dbias_without_bias(rng, backward):
    x = rng.standard_normal((3, 2, 6, 5))
    weight = rng.standard_normal((4, 2, 3, 3))
    bias = rng.standard_normal(4)
    dout = rng.standard_normal(conv2d(x, weight, bias, padding=1).shape)
    full = backward(dout, x, weight, bias, padding=1)
    dx, dweight, dbias = backward(dout, x, weight, bias, padding=1, needs_input_grad=False)
    assert dx is None
    np.testing.assert_array_equal(dweight, full[1])
    np.testing.assert_array_equal(dbias, full[2])
    np.testing.assert_allclose(dbias, dout.sum(axis=(0, 2, 3)), rtol=1e-12)
    no_bias = backward(dout, x, weight, padding=1)
    assert no_bias[2] is None  # no bias in the forward, so no bias gradient
    np.testing.assert_array_equal(no_bias[0], full[0])
    np.testing.assert_array_equal(no_bias[1], full[1])


@pytest.mark.parametrize(
    "call",
    [
        lambda: correlate2d(LECTURE_IMAGE, SHARPEN, 1),
        lambda: correlate2d_loops(LECTURE_IMAGE, SHARPEN, 1, 2),
        lambda: convolve2d(LECTURE_IMAGE, SHARPEN, 1),
        lambda: convolve2d_loops(LECTURE_IMAGE, SHARPEN, 1),
        lambda: pad2d(LECTURE_IMAGE, 1),
        lambda: output_size(5, 3, 1),
        lambda: conv2d(X, W, None, 1),
        lambda: conv2d_loops(X, W, None, 1, 1),
        lambda: conv2d_backward(np.ones((2, 4, 3, 3)), X, W, None, 1),
        lambda: conv2d_backward_loops(np.ones((2, 4, 3, 3)), X, W, None, 1),
        lambda: im2col(X, 3, 1),
        lambda: col2im(np.ones((27, 18)), X.shape, 3, 1),
    ],
)
def test_stride_and_padding_are_keyword_only(call):
    """correlate2d(img, k, 1, 2) and conv2d(x, w, None, 1, 2) used to mean opposite things."""
    with pytest.raises(TypeError, match=r"positional argument"):
        call()


def test_im2col_col2im_are_adjoint(rng):
    """<im2col(x), c> == <x, col2im(c)>: col2im is exactly the transpose that the backward pass needs."""
    x = rng.standard_normal((2, 3, 7, 6))
    for kernel, stride, padding in [((3, 3), 1, 1), ((2, 3), (2, 1), (0, 2)), ((3, 2), 2, 0)]:
        cols = im2col(x, kernel, stride=stride, padding=padding)
        other = rng.standard_normal(cols.shape)
        assert np.isclose(
            np.sum(cols * other), np.sum(x * col2im(other, x.shape, kernel, stride=stride, padding=padding))
        )


def test_col2im_counts_how_many_windows_cover_each_pixel():
    counts = col2im(np.ones((9, 9)), (1, 1, 5, 5), kernel_size=3, stride=1)
    per_axis = np.array([1, 2, 3, 2, 1])  # windows covering each row (and each column)
    np.testing.assert_array_equal(counts[0, 0], np.outer(per_axis, per_axis))


def test_col2im_rejects():
    with pytest.raises(
        ValueError, match=r"cols must have shape \(9, 9\) for x_shape \(1, 1, 5, 5\), got shape \(9, 8\)"
    ):
        col2im(np.ones((9, 8)), (1, 1, 5, 5), kernel_size=3)
    with pytest.raises(ValueError, match=r"x_shape must be a tuple \(N, C, H, W\)"):
        col2im(np.ones((9, 9)), (5, 5), kernel_size=3)


# ----------------------------------------------------------------------------------------------
# dtypes
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("conv", CONV_FUNCTIONS)
@pytest.mark.parametrize("backward", BACKWARD_FUNCTIONS)
def test_float32_stays_float32(rng, conv, backward):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    weight = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    bias = np.zeros(4)  # float64 bias must not turn float32 training into float64
    out = conv(x, weight, bias, padding=1)
    assert out.dtype == np.float32
    dout = np.ones_like(out)
    assert [g.dtype for g in backward(dout, x, weight, bias, padding=1)] == [np.float32] * 3
    out, cache = _fast.conv2d_forward(x, weight, bias.astype(np.float32), (1, 1), (1, 1))
    assert out.dtype == np.float32
    assert [g.dtype for g in _fast.conv2d_backward(dout, cache)] == [np.float32] * 3


def test_other_inputs_compute_in_float64(rng):
    x = rng.integers(0, 5, (1, 1, 4, 4))
    weight = np.ones((1, 1, 2, 2), dtype=np.float32)
    assert conv2d(x, weight).dtype == np.float64  # int with float32
    assert conv2d(x.astype(np.float32), weight.astype(np.float64)).dtype == np.float64
    assert correlate2d(LECTURE_IMAGE, SHARPEN).dtype == np.float64
    assert correlate2d(LECTURE_IMAGE.astype(np.float32), SHARPEN.astype(np.float32)).dtype == np.float32


def test_inputs_are_not_modified(rng):
    x = rng.standard_normal((2, 2, 5, 5))
    weight = rng.standard_normal((2, 2, 3, 3))
    x_copy, weight_copy = x.copy(), weight.copy()
    out = conv2d(x, weight, padding=1)
    conv2d_backward(np.ones_like(out), x, weight, padding=1)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(weight, weight_copy)


# ----------------------------------------------------------------------------------------------
# Bad input gets a sentence
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", CORRELATE_FUNCTIONS + CONVOLVE_FUNCTIONS)
@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        (
            (np.ones((4, 4)), np.ones((5, 5))),
            {},
            ValueError,
            r"kernel of shape \(5, 5\) does not fit in the padded image of shape \(4, 4\)$",
        ),
        (
            (np.ones((2, 2)), np.ones((5, 5))),
            {"padding": 1},
            ValueError,
            r"kernel of shape \(5, 5\) does not fit in the padded image of shape \(4, 4\) \(image of shape \(2, 2\) with padding \(1, 1\)\)",
        ),
        (
            (np.ones((6, 3)), np.ones((2, 5))),
            {"padding": (2, 0)},
            ValueError,
            r"kernel of shape \(2, 5\) does not fit in the padded image of shape \(10, 3\)",
        ),
        (
            (np.ones(5), np.ones((3, 3))),
            {},
            ValueError,
            r"image must be a 2-D array, got shape \(5,\) \(1-D\)",
        ),
        (
            (np.ones((5, 5)), np.ones((1, 3, 3))),
            {},
            ValueError,
            r"kernel must be a 2-D array, got shape \(1, 3, 3\) \(3-D\)",
        ),
        ((np.ones((5, 5)), np.ones((3, 3))), {"stride": 0}, ValueError, r"stride must be >= 1, got 0"),
        (
            (np.ones((5, 5)), np.ones((3, 3))),
            {"stride": (1, -1)},
            ValueError,
            r"stride\[1\] must be >= 1, got -1",
        ),
        ((np.ones((5, 5)), np.ones((3, 3))), {"padding": -1}, ValueError, r"padding must be >= 0, got -1"),
        (
            (np.ones((5, 5)), np.ones((3, 3))),
            {"stride": 1.5},
            TypeError,
            r"stride must be an integer, got float 1.5",
        ),
        (
            (np.ones((5, 5)), np.ones((3, 3))),
            {"padding": (1, 2, 3)},
            ValueError,
            r"padding must be an int or an \(h, w\) pair",
        ),
        (([["a", "b"], ["c", "d"]], np.ones((1, 1))), {}, TypeError, r"image must hold real numbers"),
        (
            (np.ones((3, 3)), np.ones((2, 2), dtype=complex)),
            {},
            TypeError,
            r"kernel must hold real numbers, got an array of dtype complex128",
        ),
        (
            (np.ones((3, 3)), np.array([[None, 1]])),
            {},
            TypeError,
            r"kernel must hold real numbers, got an array of dtype object",
        ),
        ((None, np.ones((2, 2))), {}, TypeError, r"image must be a numeric array, got None"),
        ((np.ones((3, 3)), np.ones((0, 2))), {}, ValueError, r"kernel must not be empty, got shape \(0, 2\)"),
    ],
)
def test_correlate_and_convolve_reject(function, args, kwargs, error, message):
    with pytest.raises(error, match=message):
        function(*args, **kwargs)


X = np.ones((2, 3, 5, 5))
W = np.ones((4, 3, 3, 3))


@pytest.mark.parametrize("conv", CONV_FUNCTIONS)
@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        ((np.ones((3, 5, 5)), W), {}, ValueError, r"x must be a 4-D array, got shape \(3, 5, 5\) \(3-D\)"),
        (
            (X, np.ones((3, 3, 3))),
            {},
            ValueError,
            r"weight must be a 4-D array, got shape \(3, 3, 3\) \(3-D\)",
        ),
        (
            (X, np.ones((4, 2, 3, 3))),
            {},
            ValueError,
            r"weight of shape \(4, 2, 3, 3\) expects 2 input channels, but x of shape \(2, 3, 5, 5\) has 3",
        ),
        (
            (X, W, np.ones(3)),
            {},
            ValueError,
            r"bias must have shape \(4,\), one value per filter of weight \(4, 3, 3, 3\), got shape \(3,\)",
        ),
        ((X, W, np.ones((4, 1))), {}, ValueError, r"bias must be a 1-D array, got shape \(4, 1\) \(2-D\)"),
        (
            (X, np.ones((4, 3, 6, 6))),
            {},
            ValueError,
            r"kernel of shape \(6, 6\) does not fit in the padded x of shape \(5, 5\)",
        ),
        (
            (X, np.ones((4, 3, 8, 3))),
            {"padding": 1},
            ValueError,
            r"kernel of shape \(8, 3\) does not fit in the padded x of shape \(7, 7\) \(x of shape \(5, 5\) with padding \(1, 1\)\)",
        ),
        ((X, W), {"stride": 0}, ValueError, r"stride must be >= 1, got 0"),
        ((X, W), {"stride": (0, 1)}, ValueError, r"stride\[0\] must be >= 1, got 0"),
        ((X, W), {"padding": (0, -2)}, ValueError, r"padding\[1\] must be >= 0, got -2"),
        ((X, W), {"padding": "same"}, TypeError, r"padding must be an integer, got str 'same'"),
        (
            (X.astype(complex), W),
            {},
            TypeError,
            r"x must hold real numbers, got an array of dtype complex128",
        ),
        (
            (X, W.astype(object)),
            {},
            TypeError,
            r"weight must hold real numbers, got an array of dtype object",
        ),
        ((X, W, ["a"] * 4), {}, TypeError, r"bias must hold real numbers"),
    ],
)
def test_conv2d_rejects(conv, args, kwargs, error, message):
    with pytest.raises(error, match=message):
        conv(*args, **kwargs)


@pytest.mark.parametrize("backward", BACKWARD_FUNCTIONS)
def test_conv2d_backward_rejects(backward):
    dout = np.ones((2, 4, 3, 3))
    with pytest.raises(
        ValueError,
        match=r"dout must have the forward output's shape \(2, 4, 5, 5\), got shape \(2, 4, 3, 3\)",
    ):
        backward(dout, X, W, padding=1)  # dout of the unpadded forward
    with pytest.raises(ValueError, match=r"dout must be a 4-D array, got shape \(4, 3, 3\)"):
        backward(dout[0], X, W)
    with pytest.raises(TypeError, match=r"dout must hold real numbers"):
        backward(dout.astype(complex), X, W)
    with pytest.raises(ValueError, match=r"weight of shape \(4, 2, 3, 3\) expects 2 input channels"):
        backward(dout, X, np.ones((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"stride must be >= 1, got 0"):
        backward(dout, X, W, stride=0)


# ----------------------------------------------------------------------------------------------
# The math the lesson 02 and 04 widgets show (tested here without ipywidgets)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flip, reference", [(False, correlate2d), (True, convolve2d)])
def test_correlation_steps_end_in_the_feature_map(rng, flip, reference):
    image, kernel = rng.standard_normal((5, 6)), rng.standard_normal((2, 3))
    steps = correlation_steps(image, kernel, flip=flip)
    assert [step.step for step in steps] == list(range(1, 4 * 4 + 1))
    np.testing.assert_allclose(steps[-1].feature_map, reference(image, kernel), rtol=1e-12)
    assert np.isnan(steps[0].feature_map).sum() == 4 * 4 - 1  # only the first window is filled in
    one = correlation_step(image, kernel, 6, flip=flip)
    assert one.position == (1, 1) and one.value == pytest.approx(np.sum(one.products))
    with pytest.raises(ValueError, match=r"step must be between 1 and 16 \(one per window\), got 17"):
        correlation_step(image, kernel, 17)


@pytest.mark.parametrize(
    "n, k, padding, stride", [(5, 3, 1, 2), (6, 3, (0, 2), 2), (7, 5, (2, 1), 3), (1, 1, 0, 1)]
)
def test_padding_layout_agrees_with_output_size_and_correlate2d(n, k, padding, stride):
    layout = padding_layout(n, k, padding=padding, stride=stride)
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    expected = (output_size(n, k, padding=p_h, stride=stride), output_size(n, k, padding=p_w, stride=stride))
    assert layout.output_shape == expected
    assert correlate2d(np.ones((n, n)), np.ones((k, k)), padding=padding, stride=stride).shape == expected
    assert len(layout.windows) == expected[0] * expected[1]
    no_fit = padding_layout(2, 5, padding=1)
    assert no_fit.output_shape is None and no_fit.reason.startswith("No output: the kernel is 5 rows tall")
    with pytest.raises(TypeError, match=r"positional argument"):
        padding_layout(5, 3, 1)
