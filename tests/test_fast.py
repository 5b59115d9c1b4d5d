"""The private fast kernels in ``cnn_helpers._fast`` against the loop versions and PyTorch.

The loop versions (what the lessons teach) and PyTorch's CPU convolution are independent
oracles. The kernels have two layouts for stride 1 (long padded rows, or lesson 07's strided
columns), chosen by ``_uses_flat_grid``; the sweep forces each so both are held to the oracles.
"""

import types

import numpy as np
import pytest

from cnn_helpers import _fast, conv, pooling

# (N, C, F, H, W, KH, KW, stride, padding)
CONV_CASES = [
    (2, 3, 4, 7, 7, 3, 3, (1, 1), (1, 1)),
    (1, 1, 2, 5, 5, 3, 3, (1, 1), (0, 0)),  # batch 1, one channel, no padding
    (3, 2, 5, 6, 9, 3, 3, (1, 1), (1, 1)),  # non-square maps
    (2, 4, 3, 8, 6, 2, 3, (1, 1), (2, 1)),  # non-square kernel, unequal padding
    (2, 3, 2, 6, 6, 1, 1, (1, 1), (0, 0)),  # 1x1 kernel
    (1, 2, 3, 7, 7, 5, 5, (1, 1), (2, 2)),  # 5x5 kernel
    (2, 2, 3, 4, 4, 4, 4, (1, 1), (0, 0)),  # kernel as big as the map: one output
    (2, 3, 4, 9, 8, 3, 3, (2, 2), (1, 1)),  # stride 2
    (2, 2, 3, 10, 7, 3, 2, (3, 1), (0, 2)),  # unequal strides
    (1, 3, 2, 5, 5, 2, 2, (2, 2), (0, 0)),  # stride 2 leaving the last row and column unused
    (2, 1, 12, 6, 5, 3, 3, (1, 1), (1, 1)),  # more filters (12) than column rows (9): dweight the other way
]
CASE_IDS = [
    "x".join(map(str, case[:5])) + f"-k{case[5]}{case[6]}-s{case[7]}-p{case[8]}" for case in CONV_CASES
]


def _tolerance(dtype):
    return {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-10}


def _conv_arrays(case, dtype, seed=0, bias=True):
    n, c, f, h, w, kh, kw, stride, padding = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    weight = rng.standard_normal((f, c, kh, kw)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype) if bias else None
    oh = (h + 2 * padding[0] - kh) // stride[0] + 1
    ow = (w + 2 * padding[1] - kw) // stride[1] + 1
    dout = rng.standard_normal((n, f, oh, ow)).astype(dtype)
    return x, weight, b, dout


@pytest.fixture(params=["flat", "strided"])
def layout(request, monkeypatch):
    """Force one of the two layouts (the flat one exists for stride 1 only)."""
    if request.param == "flat":
        monkeypatch.setattr(
            _fast, "_uses_flat_grid", lambda x_shape, kernel_hw, stride, padding: tuple(stride) == (1, 1)
        )
    else:
        monkeypatch.setattr(_fast, "_uses_flat_grid", lambda x_shape, kernel_hw, stride, padding: False)
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONV_CASES, ids=CASE_IDS)
def test_conv_equals_the_loop_versions(case, dtype, layout):
    x, weight, bias, dout = _conv_arrays(case, dtype)
    stride, padding = case[7], case[8]
    out, cache = _fast.conv2d_forward(x, weight, bias, stride, padding, _fast.ConvWorkspace())
    assert cache.flat == (layout == "flat" and stride == (1, 1))
    np.testing.assert_allclose(
        out, conv.conv2d_loops(x, weight, bias, stride=stride, padding=padding), **_tolerance(dtype)
    )
    dx, dweight, dbias = _fast.conv2d_backward(dout, cache)
    want_dx, want_dweight, want_dbias = conv.conv2d_backward_loops(
        dout, x, weight, bias, stride=stride, padding=padding
    )
    np.testing.assert_allclose(dx, want_dx, **_tolerance(dtype))
    np.testing.assert_allclose(dweight, want_dweight, **_tolerance(dtype))
    np.testing.assert_allclose(dbias, want_dbias, **_tolerance(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONV_CASES, ids=CASE_IDS)
def test_batch_last_paths_for_big_maps_equal_the_loop_versions(case, dtype, monkeypatch):
    # Big maps take another path of the strided layout: the input gradient one band of output
    # rows at a time, each band's slice-adds clipped to the map. Forced here on small cases:
    # one output row per band.
    monkeypatch.setattr(_fast, "_uses_flat_grid", lambda x_shape, kernel_hw, stride, padding: False)
    monkeypatch.setattr(_fast, "_DX_CHUNK_BYTES", 1)
    x, weight, bias, dout = _conv_arrays(case, dtype, seed=4)
    stride, padding = case[7], case[8]
    workspace = _fast.ConvWorkspace()
    for _ in range(2):  # the second time on the reused (dirty) buffers
        out, cache = _fast.conv2d_forward(x, weight, bias, stride, padding, workspace)
        np.testing.assert_allclose(
            out, conv.conv2d_loops(x, weight, bias, stride=stride, padding=padding), **_tolerance(dtype)
        )
        want = conv.conv2d_backward_loops(dout, x, weight, bias, stride=stride, padding=padding)
        for got, expected in zip(_fast.conv2d_backward(dout, cache), want, strict=True):
            assert got.dtype == dtype
            np.testing.assert_allclose(got, expected, **_tolerance(dtype))
    assert _fast.conv2d_forward(x, weight, None, stride, padding, workspace)[0].dtype == dtype  # no bias


def _stored_image_index_last(array):
    """The same (N, C, H, W) values, stored (C, H, W, N): how _fast hands arrays from layer to layer."""
    return np.ascontiguousarray(array.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "case",
    CONV_CASES + [(2, 2, 3, 1, 2, 5, 5, (1, 1), (2, 2))],  # + kernel rows that see only padding
    ids=CASE_IDS + ["2x2x3x1x2-k55-s(1, 1)-p(2, 2)"],
)
def test_inputs_stored_image_index_last_equal_the_loop_versions(case, dtype, layout):
    # Inside a network x and dout come stored image index last (x's transpose is then contiguous,
    # and dout is used without a copy).
    x, weight, bias, dout = _conv_arrays(case, dtype, seed=5)
    stride, padding = case[7], case[8]
    workspace = _fast.ConvWorkspace()
    want = (
        conv.conv2d_loops(x, weight, bias, stride=stride, padding=padding),
        *conv.conv2d_backward_loops(dout, x, weight, bias, stride=stride, padding=padding),
    )
    for _ in range(2):  # the second time on the reused (dirty) buffers
        out, cache = _fast.conv2d_forward(
            _stored_image_index_last(x), weight, bias, stride, padding, workspace
        )
        got = (out, *_fast.conv2d_backward(_stored_image_index_last(dout), cache))
        for ours, theirs in zip(got, want, strict=True):
            assert ours.dtype == dtype
            np.testing.assert_allclose(ours, theirs, **_tolerance(dtype))


@pytest.mark.parametrize("case", CONV_CASES[:1] + CONV_CASES[7:8], ids=[CASE_IDS[0], CASE_IDS[7]])
def test_conv_without_bias_and_without_input_gradient(case, layout):
    x, weight, _, dout = _conv_arrays(case, np.float64, bias=False)
    stride, padding = case[7], case[8]
    out, cache = _fast.conv2d_forward(x, weight, None, stride, padding)
    np.testing.assert_allclose(
        out, conv.conv2d_loops(x, weight, stride=stride, padding=padding), rtol=1e-10, atol=1e-10
    )
    dx, dweight, dbias = _fast.conv2d_backward(dout, cache, needs_input_grad=False)
    assert dx is None and dbias is None
    np.testing.assert_allclose(
        dweight,
        conv.conv2d_backward_loops(dout, x, weight, stride=stride, padding=padding)[1],
        rtol=1e-10,
        atol=1e-10,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONV_CASES, ids=CASE_IDS)
def test_conv_equals_pytorch(case, dtype, layout):
    torch = pytest.importorskip("torch")
    x, weight, bias, dout = _conv_arrays(case, dtype, seed=1)
    stride, padding = case[7], case[8]
    out, cache = _fast.conv2d_forward(x, weight, bias, stride, padding, _fast.ConvWorkspace())
    dx, dweight, dbias = _fast.conv2d_backward(dout, cache)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, weight, bias))
    tout = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding)
    tout.backward(torch.tensor(dout))
    for ours, theirs in [(out, tout), (dx, tx.grad), (dweight, tw.grad), (dbias, tb.grad)]:
        np.testing.assert_allclose(ours, theirs.detach().numpy(), **_tolerance(dtype))


# ----------------------------------------------------------------------------------------------
# dtypes: float32 in, float32 out, and no float64 array made on the way
# ----------------------------------------------------------------------------------------------


class _Float64Guard(types.ModuleType):
    """Stands in for ``numpy`` inside ``_fast``: any numpy call that returns a float64 array,
    or any use of ``np.float64`` / ``np.double``, fails the test."""

    def __init__(self):
        super().__init__("numpy_guard")
        self.calls = 0

    def __getattr__(self, name):
        if name in ("float64", "double", "float_", "longdouble"):
            raise AssertionError(f"_fast used np.{name} on float32 input")
        value = getattr(np, name)
        if not callable(value) or isinstance(value, type):
            return value

        def checked(*args, **kwargs):
            self.calls += 1
            result = value(*args, **kwargs)
            if isinstance(result, np.ndarray) and result.dtype == np.float64:
                raise AssertionError(
                    f"np.{name} made a float64 array of shape {result.shape} from float32 input"
                )
            return result

        return checked


def test_float64_guard_catches_a_float64_temporary():
    guard = _Float64Guard()
    assert guard.zeros(3, dtype=np.float32).dtype == np.float32
    with pytest.raises(AssertionError, match="float64 array"):
        guard.zeros(3)  # numpy's default dtype is float64: the mistake the guard is there for
    with pytest.raises(AssertionError, match=r"np\.float64"):
        guard.float64  # noqa: B018


@pytest.mark.parametrize("case", [CONV_CASES[0], CONV_CASES[7]], ids=[CASE_IDS[0], CASE_IDS[7]])
def test_float32_stays_float32_with_no_float64_temporaries(case, layout, monkeypatch):
    x, weight, bias, dout = _conv_arrays(case, np.float32)
    guard = _Float64Guard()
    monkeypatch.setattr(_fast, "np", guard)
    workspace = _fast.ConvWorkspace()
    for _ in range(2):  # the second call runs on reused buffers
        out, cache = _fast.conv2d_forward(x, weight, bias, case[7], case[8], workspace)
        dx, dweight, dbias = _fast.conv2d_backward(dout, cache)
    pool_out, pool_cache = _fast.max_pool2d_forward(x, (2, 2), (2, 2))
    pool_dx = _fast.max_pool2d_backward(np.ones_like(pool_out), pool_cache)
    assert guard.calls > 10  # the guard really stood in for numpy
    for array in [out, dx, dweight, dbias, cache.cols, pool_out, pool_dx, *workspace.buffers().values()]:
        assert array.dtype == np.float32


def test_a_float32_network_and_its_adam_step_stay_float32(monkeypatch):
    # Conv2D - ReLU - MaxPool2D twice, Flatten, Dense, the loss and one Adam step: every output,
    # every gradient passed back, every parameter gradient, the parameters and Adam's state stay
    # float32, and neither _fast nor the optimiser makes a float64 array on the way.
    from cnn_helpers import optim
    from cnn_helpers.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, SoftmaxCrossEntropy
    from cnn_helpers.model import Sequential

    model = Sequential(
        Conv2D(1, 4, 3, padding=1, rng=0),
        ReLU(),
        MaxPool2D(2),
        Conv2D(4, 6, 3, padding=1, rng=1),
        ReLU(),
        MaxPool2D(2),
        Flatten(),
        Dense(6 * 2 * 2, 3, rng=2),
    )
    fast_guard, optim_guard = _Float64Guard(), _Float64Guard()
    monkeypatch.setattr(_fast, "np", fast_guard)
    monkeypatch.setattr(optim, "np", optim_guard)  # from the optimiser's set-up on
    optimiser, loss = optim.Adam(model, lr=1e-2), SoftmaxCrossEntropy()
    x = np.random.default_rng(0).standard_normal((5, 1, 8, 8)).astype(np.float32)
    labels = np.array([0, 1, 2, 1, 0])
    for _ in range(2):  # the second step runs on reused workspaces and Adam state
        outputs = []
        h = x
        for layer in model.layers:
            h = layer.forward(h)
            outputs.append(h)
        loss.forward(h, labels)
        grads_in = []
        dout = loss.backward()
        assert dout.dtype == np.float32
        for layer in reversed(model.layers):
            dout = layer.backward(dout)
            grads_in.append(dout)
        optimiser.step()
    assert fast_guard.calls > 10 and optim_guard.calls > 8  # the guards really stood in for numpy
    for array in outputs + grads_in:
        assert array.dtype == np.float32
    for layer, name, param in model.parameters():
        assert param.dtype == layer.grads[name].dtype == np.float32, (layer, name)
    for state in optimiser.m + optimiser.v:
        assert state.dtype == np.float32


def test_float64_stays_float64():
    x, weight, bias, dout = _conv_arrays(CONV_CASES[0], np.float64)
    out, cache = _fast.conv2d_forward(x, weight, bias, (1, 1), (1, 1))
    assert all(array.dtype == np.float64 for array in (out, *_fast.conv2d_backward(dout, cache)))


# ----------------------------------------------------------------------------------------------
# Workspace reuse
# ----------------------------------------------------------------------------------------------


def _fresh(x, weight, bias, stride, padding, dout):
    out, cache = _fast.conv2d_forward(x, weight, bias, stride, padding)  # no workspace: nothing shared
    return (out, *_fast.conv2d_backward(dout, cache))


def test_one_workspace_gives_right_results_when_shapes_and_dtypes_change(layout):
    workspace = _fast.ConvWorkspace()
    sequence = [CONV_CASES[0], CONV_CASES[2], CONV_CASES[0], CONV_CASES[7], CONV_CASES[3], CONV_CASES[0]]
    for step, case in enumerate(sequence):
        dtype = np.float32 if step % 2 else np.float64
        x, weight, bias, dout = _conv_arrays(case, dtype, seed=step)
        stride, padding = case[7], case[8]
        out, cache = _fast.conv2d_forward(x, weight, bias, stride, padding, workspace)
        got = (out, *_fast.conv2d_backward(dout, cache))
        want = (
            conv.conv2d_loops(x, weight, bias, stride=stride, padding=padding),
            *conv.conv2d_backward_loops(dout, x, weight, bias, stride=stride, padding=padding),
        )
        for ours, theirs in zip(got, want, strict=True):
            assert ours.dtype == dtype
            np.testing.assert_allclose(ours, theirs, **_tolerance(dtype))


def test_returned_arrays_are_never_overwritten_by_later_calls(layout):
    workspace = _fast.ConvWorkspace()
    case = CONV_CASES[0]
    x1, weight, bias, dout1 = _conv_arrays(case, np.float32, seed=1)
    x2, _, _, dout2 = _conv_arrays(case, np.float32, seed=2)
    out1, cache1 = _fast.conv2d_forward(x1, weight, bias, (1, 1), (1, 1), workspace)
    grads1 = _fast.conv2d_backward(dout1, cache1)
    kept = [array.copy() for array in (out1, *grads1)]
    out2, cache2 = _fast.conv2d_forward(
        x2, weight, bias, (1, 1), (1, 1), workspace
    )  # same shapes: buffers reused
    grads2 = _fast.conv2d_backward(dout2, cache2)
    for held, copy in zip((out1, *grads1), kept, strict=True):
        np.testing.assert_array_equal(held, copy)
    for returned in (out1, *grads1, out2, *grads2):
        assert not any(np.shares_memory(returned, buffer) for buffer in workspace.buffers().values())


def test_a_stale_cache_rebuilds_its_columns(layout):
    # forward(x1), forward(x2) on one workspace, then backward of the first: the workspace's
    # columns now belong to x2, so using them would give x2's dweight.
    workspace = _fast.ConvWorkspace()
    case = CONV_CASES[0]
    x1, weight, bias, dout = _conv_arrays(case, np.float64, seed=1)
    x2 = _conv_arrays(case, np.float64, seed=2)[0]
    _, cache1 = _fast.conv2d_forward(x1, weight, bias, (1, 1), (1, 1), workspace)
    _, cache2 = _fast.conv2d_forward(x2, weight, bias, (1, 1), (1, 1), workspace)
    for got, want in zip(
        _fast.conv2d_backward(dout, cache1)[1:],
        _fresh(x1, weight, bias, (1, 1), (1, 1), dout)[2:],
        strict=True,
    ):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # ... and that did not disturb the newest cache, which may also be used twice
    want2 = _fresh(x2, weight, bias, (1, 1), (1, 1), dout)[1:]
    for _ in range(2):
        for got, want in zip(_fast.conv2d_backward(dout, cache2), want2, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------------------------
# Max pooling
# ----------------------------------------------------------------------------------------------

POOL_CASES = [
    ((2, 2), (2, 2)),
    ((2, 2), (1, 1)),
    ((3, 3), (2, 2)),
    ((2, 3), (3, 1)),
    ((1, 1), (1, 1)),
    ((3, 2), (2, 3)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size, stride", POOL_CASES)
@pytest.mark.parametrize("values", ["random", "ties", "nan"])
def test_max_pool_equals_the_loop_versions(size, stride, dtype, values):
    rng = np.random.default_rng(3)
    if values == "random":
        x = rng.standard_normal((2, 3, 7, 8))
    else:  # few distinct values, so most windows hold several equal maxima
        x = rng.integers(0, 3, (2, 3, 7, 8)).astype(float)
    if values == "nan":
        x[rng.random(x.shape) < 0.15] = np.nan
    x = x.astype(dtype)
    out, cache = _fast.max_pool2d_forward(x, size, stride)
    np.testing.assert_array_equal(
        out, pooling.max_pool2d_loops(x, size=size, stride=stride)
    )  # NaN == NaN here
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = _fast.max_pool2d_backward(dout, cache)
    want = pooling.max_pool2d_backward_loops(dout, x, size=size, stride=stride)
    assert out.dtype == dx.dtype == dtype
    np.testing.assert_allclose(dx, want, **_tolerance(dtype))


def test_max_pool_gradient_goes_to_the_first_tie_and_the_first_nan():
    x = np.array([[[[1.0, 5.0, 5.0, 0.0, 2.0, np.nan], [5.0, 5.0, 0.0, 5.0, np.nan, 9.0]]]])
    out, cache = _fast.max_pool2d_forward(x, (2, 2), (2, 2))
    np.testing.assert_array_equal(out, [[[[5.0, 5.0, np.nan]]]])
    dx = _fast.max_pool2d_backward(np.array([[[[1.0, 2.0, 3.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[0.0, 1.0, 2.0, 0.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]])


@pytest.mark.parametrize("case", [CONV_CASES[0], CONV_CASES[8]], ids=[CASE_IDS[0], CASE_IDS[8]])
def test_a_cache_without_the_forward_gives_the_same_gradients(case, layout):
    x, weight, bias, dout = _conv_arrays(case, np.float64)
    stride, padding = case[7], case[8]
    cache = _fast.conv2d_cache(x, weight, bias, stride, padding, _fast.ConvWorkspace())
    want = conv.conv2d_backward_loops(dout, x, weight, bias, stride=stride, padding=padding)
    for got, expected in zip(_fast.conv2d_backward(dout, cache), want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
    assert _fast.conv2d_backward(dout, _fast.conv2d_cache(x, weight, None, stride, padding))[2] is None
