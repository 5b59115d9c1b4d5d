"""Fast convolution and max-pooling kernels for training (private: callers validate inputs).

Lesson 07 builds a convolution as one matrix product on im2col columns, and its backward pass
as two more products plus col2im. This module does the same arithmetic, arranged so that
almost every memory copy is one long contiguous stretch, and so that the big scratch arrays
are allocated once per layer and reused (a :class:`ConvWorkspace`).

Memory order: the image index last
----------------------------------
Inside this module every image-sized array is stored as ``(C, H, W, N)``: the image index is
the fastest-moving one. The arrays handed back (``out``, ``dx``, the pooled maps) still have
the shape ``(N, C, H, W)``; they are transposed *views* of that storage, which every NumPy
operation accepts. Elementwise layers (ReLU) and the pooling here keep that order, so the next
convolution gets its input, and the backward pass its ``dout``, already in the order the
columns need: no transposing copy between layers.

The idea, for stride 1 (what the course's networks use)
--------------------------------------------------------
Pad every input map and lay out channel ``c`` of all images as one long row of
``Hp * Wp * N`` numbers (``Hp = H + 2 p_h``, ``Wp = W + 2 p_w``; pixel ``(h, w)`` of image
``n`` at ``q = (h * Wp + w) * N + n``). Call ``q`` the top-left corner of a window. The pixel
that kernel entry ``(i, j)`` multiplies is then simply ``q + (i * Wp + j) * N``: the same row,
shifted. So the im2col row for kernel entry ``(c, i, j)`` is one *slice* of row ``c`` (one fast
copy). The price: every position of the padded grid gets a column, also the ``KH - 1`` last
rows and ``KW - 1`` last columns of each padded map, where no window fits. Their outputs are
garbage and are left out of the returned view; in the backward pass ``dout`` is placed on the
same grid with zeros at those positions, so they contribute nothing.

- forward: ``out_grid = W (F, C*KH*KW) @ cols (C*KH*KW, Hp*Wp*N)`` plus the bias; ``out`` is
  the view of its valid ``(OH, OW)`` corner;
- ``dweight = dout_grid (F, Hp*Wp*N) @ cols.T``, reusing the forward's columns;
- ``dx``: ``dcols = W.T @ dout_grid``, then col2im is again one slice-add per kernel entry on
  the long rows (``dx_row[q + (i*Wp + j)*N] += dcols[c, i, j, q]``); ``dx`` is the view
  without the padding.

With a stride above 1 the shifted slices would skip pixels, and wherever a position is wasted
(any padding) the waste was measured to cost more than the long slices save, so there lesson
07's im2col and col2im are used (one strided copy or add per kernel entry), columns
``(C*KH*KW, OH*OW*N)``: each copied piece is ``OW * N`` numbers long instead of one short
image row. :func:`_uses_flat_grid` makes the choice. In that layout the input gradient is
``dcols = W.T @ dout`` followed by col2im, for bands of output rows on very big maps, each
slice-add clipped to the map, so no padded copy of ``dx`` is needed.

Buffers and ownership
---------------------
A :class:`ConvWorkspace` keeps the padded input, the columns and the backward's scratch arrays
between calls, so a training step does not allocate (and page-fault) megabytes every time.
Arrays that are *returned* (``out``, ``dx``, ``dweight``, ``dbias``) are always new: a caller
may keep them as long as it likes. The cache of a forward pass points at the workspace's
columns; if the workspace has been used by another forward since, the backward notices and
rebuilds the columns from the cached ``x`` instead of using stale ones.

dtypes: float32 stays float32 from start to end (no float64 temporaries); float64 stays float64.
All arrays passed to one call must share one float dtype.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ConvWorkspace",
    "conv2d_backward",
    "conv2d_cache",
    "conv2d_forward",
    "max_pool2d_backward",
    "max_pool2d_forward",
]


class ConvWorkspace:
    """Scratch arrays that one convolution layer reuses from call to call.

    Keep one workspace per layer (not one for several layers: each forward pass would make the
    previous layer's cache stale, and its backward would have to rebuild the columns). A buffer
    is reallocated only when the shape or dtype it must have changes, so calls with the same
    shapes allocate nothing big. Not thread-safe.

    Attributes
    ----------
    generation : int
        How many forward passes have used the workspace; a cache remembers the generation of
        its own forward pass.

    Examples
    --------
    >>> ws = ConvWorkspace()
    >>> x = np.ones((1, 1, 3, 3), dtype=np.float32)
    >>> out, cache = conv2d_forward(x, np.ones((1, 1, 2, 2), np.float32), None, (1, 1), (0, 0), ws)
    >>> out[0, 0]
    array([[4., 4.],
           [4., 4.]], dtype=float32)
    >>> ws.generation
    1
    """

    def __init__(self):
        self._buffers = {}  # name -> the arrays of that name, most recently used first
        self.generation = 0

    def buffer(self, name, shape, dtype, zeros=False):
        """The buffer called ``name``, of ``shape`` and ``dtype``, allocated only the first time.

        Two shapes are kept per name, so an epoch whose last batch is smaller does not
        reallocate everything twice per epoch. With ``zeros=True`` a new buffer starts as zeros
        (a reused one keeps its contents: the zero borders of a padded buffer stay zero because
        nothing writes there).
        """
        shape, dtype = tuple(shape), np.dtype(dtype)
        arrays = self._buffers.setdefault(name, [])
        for k, array in enumerate(arrays):
            if array.shape == shape and array.dtype == dtype:
                arrays.insert(0, arrays.pop(k))
                return array
        array = np.zeros(shape, dtype) if zeros else np.empty(shape, dtype)
        arrays.insert(0, array)
        del arrays[2:]
        return array

    def buffers(self):
        """``{(name, k): array}`` of every buffer held now (for tests and memory accounting)."""
        return {(name, k): array for name, arrays in self._buffers.items() for k, array in enumerate(arrays)}


def _scratch(workspace, name, shape, dtype, zeros=False):
    """A workspace buffer, or a new array when there is no workspace."""
    if workspace is None:
        return np.zeros(shape, dtype) if zeros else np.empty(shape, dtype)
    return workspace.buffer(name, shape, dtype, zeros)


class _ConvCache:
    """What the backward pass needs from one forward pass (see ``conv2d_forward``)."""

    __slots__ = (
        "cols",
        "flat",
        "generation",
        "has_bias",
        "out_hw",
        "padding",
        "stride",
        "weight",
        "workspace",
        "x",
    )

    def __init__(self, **fields):
        for name, value in fields.items():
            setattr(self, name, value)


def _uses_flat_grid(x_shape, kernel_hw, stride, padding):
    """True when the long-row layout is used: stride 1, and no wasted grid positions at all.

    With the image index last, the strided columns were faster on every shape measured (AMD EPYC,
    OpenBLAS SkylakeX and Haswell kernels, 1 thread, forward + backward inside a network): 1 -> 16
    channels at 28x28 by 18-25 % (15 % wasted positions on the padded grid), and still 6-25 % at
    64x64 (6 % waste). So the long rows are kept only where they waste nothing (a 1x1 kernel
    without padding, where both layouts copy the same numbers), and in the tests, which force
    them to hold both layouts to the oracles.
    """
    if tuple(stride) != (1, 1):
        return False
    hp, wp = x_shape[2] + 2 * padding[0], x_shape[3] + 2 * padding[1]
    oh, ow = hp - kernel_hw[0] + 1, wp - kernel_hw[1] + 1
    return hp * wp <= oh * ow


def _batch_last(array):
    """The (C, H, W, N) view of an (N, C, H, W) array (no copy)."""
    return array.transpose(1, 2, 3, 0)


def _batch_first(array):
    """The (N, C, H, W) view of a (C, H, W, N) array (no copy)."""
    return array.transpose(3, 0, 1, 2)


def _im2col_flat(x, kernel_hw, padding, workspace):
    """Columns ``(C*KH*KW, Hp*Wp*N)`` on the padded grid, one slice copy per kernel entry."""
    n, channels, height, width = x.shape
    (kh, kw), (ph, pw) = kernel_hw, padding
    hp, wp = height + 2 * ph, width + 2 * pw
    length = hp * wp * n
    tail = ((kh - 1) * wp + (kw - 1)) * n  # the last window's reach past the end of the grid
    rows = _scratch(workspace, "padded", (channels, length + tail), x.dtype, zeros=True)
    grid = rows[:, :length].reshape(channels, hp, wp, n)
    grid[:, ph : ph + height, pw : pw + width, :] = _batch_last(x)
    cols = _scratch(workspace, "cols", (channels, kh, kw, length), x.dtype)
    for i in range(kh):
        for j in range(kw):
            shift = (i * wp + j) * n
            cols[:, i, j] = rows[:, shift : shift + length]
    return cols.reshape(channels * kh * kw, length)


def _im2col_strided(x, kernel_hw, stride, padding, out_hw, workspace):
    """Lesson 07's columns, one strided copy per kernel entry, ordered batch last: (C*KH*KW, OH*OW*N).

    With the image index last, every piece copied is ``OW * N`` numbers long (``N`` for a
    stride above 1) instead of one image row of ``OW`` numbers: far fewer, longer copies on
    small maps such as the 4x4 maps of ``small_cnn``'s second layer.
    """
    n, channels, height, width = x.shape
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = kernel_hw, stride, padding, out_hw
    source = _scratch(
        workspace, "padded", (channels, height + 2 * ph, width + 2 * pw, n), x.dtype, zeros=True
    )
    source[:, ph : ph + height, pw : pw + width, :] = _batch_last(x)
    cols = _scratch(workspace, "cols", (channels, kh, kw, oh, ow, n), x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = source[:, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw, :]
    return cols.reshape(channels * kh * kw, oh * ow * n)


def _columns(x, kernel_hw, stride, padding, out_hw, workspace, flat):
    if flat:
        return _im2col_flat(x, kernel_hw, padding, workspace)
    return _im2col_strided(x, kernel_hw, stride, padding, out_hw, workspace)


def _grid_shape(x_shape, padding, out_hw, flat):
    """Shape of the position grid the columns are laid on, image index last: (Hp, Wp, N) or (OH, OW, N)."""
    n, _, height, width = x_shape
    if flat:
        return height + 2 * padding[0], width + 2 * padding[1], n
    return (*out_hw, n)


def conv2d_forward(x, weight, bias, stride, padding, workspace=None):
    """Convolution forward pass (cross-correlation, as in ``cnn_helpers.conv.conv2d``).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        float32 or float64, in any memory order; ``weight`` and ``bias`` have the same dtype.
    weight : ndarray, shape (F, C, KH, KW)
    bias : ndarray, shape (F,), or None
    stride, padding : (int, int)
        ``(s_h, s_w)`` with each at least 1, and ``(p_h, p_w)`` with each at least 0.
    workspace : ConvWorkspace, optional
        Buffers to reuse; without one, every call allocates its own.

    Returns
    -------
    out : ndarray, shape (N, F, OH, OW)
        A new array, ``OH = (H + 2 p_h - KH) // s_h + 1`` and the same for ``OW``, stored
        image index last (a transposed view; see the module notes).
    cache : object
        Pass it to :func:`conv2d_backward`. It holds ``x``, ``weight`` and the columns.

    Examples
    --------
    >>> x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    >>> out, cache = conv2d_forward(x, np.ones((1, 1, 2, 2), np.float32), np.array([1], np.float32), (1, 1), (0, 0))
    >>> out
    array([[[[ 9., 13.],
             [21., 25.]]]], dtype=float32)
    """
    cache = conv2d_cache(x, weight, bias, stride, padding, workspace)
    filters, (oh, ow), cols = weight.shape[0], cache.out_hw, cache.cols
    # A new array, not a workspace buffer: ``out`` is a view of it.
    out_grid = np.matmul(weight.reshape(filters, -1), cols)
    if bias is not None:
        out_grid += bias.reshape(filters, 1)
    grid = out_grid.reshape((filters,) + _grid_shape(x.shape, padding, cache.out_hw, cache.flat))
    return _batch_first(grid[:, :oh, :ow, :]), cache


def conv2d_cache(x, weight, bias, stride, padding, workspace=None):
    """The cache :func:`conv2d_forward` returns, without computing its output.

    For a functional ``conv2d_backward(dout, x, weight, bias, stride=..., padding=...)`` that
    is given the forward's arguments rather than its cache: building the columns is all the
    backward pass needs, so the forward's matrix product can be skipped.

    Parameters
    ----------
    x, weight, bias, stride, padding, workspace
        As for :func:`conv2d_forward`; ``bias`` only decides whether ``dbias`` is computed.

    Returns
    -------
    cache : object

    Examples
    --------
    >>> x, w = np.array([[[[2.0, 3.0]]]]), np.array([[[[5.0, 7.0]]]])
    >>> conv2d_backward(np.ones((1, 1, 1, 1)), conv2d_cache(x, w, None, (1, 1), (0, 0)))
    (array([[[[5., 7.]]]]), array([[[[2., 3.]]]]), None)
    """
    height, width = x.shape[2:]
    kh, kw = weight.shape[2:]
    out_hw = ((height + 2 * padding[0] - kh) // stride[0] + 1, (width + 2 * padding[1] - kw) // stride[1] + 1)
    if workspace is not None:
        workspace.generation += 1
    flat = _uses_flat_grid(x.shape, (kh, kw), stride, padding)
    cols = _columns(x, (kh, kw), stride, padding, out_hw, workspace, flat)
    return _ConvCache(
        x=x,
        weight=weight,
        has_bias=bias is not None,
        stride=tuple(stride),
        padding=tuple(padding),
        out_hw=out_hw,
        flat=flat,
        cols=cols,
        workspace=workspace,
        generation=None if workspace is None else workspace.generation,
    )


def conv2d_backward(dout, cache, needs_input_grad=True):
    """Gradients of :func:`conv2d_forward` with respect to ``x``, ``weight`` and ``bias``.

    Parameters
    ----------
    dout : ndarray, shape (N, F, OH, OW)
        Gradient of the loss with respect to the forward output, in the forward's dtype, in any
        memory order (the forward's own order, image index last, needs no copy).
    cache : object
        The second result of :func:`conv2d_forward`. It may be used more than once.
    needs_input_grad : bool, default True
        False skips ``dx`` (a network's first layer has no use for it).

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), or None
        Stored image index last, like the forward's output.
    dweight : ndarray, shape (F, C, KH, KW)
    dbias : ndarray, shape (F,), or None when the forward had no bias
        All new arrays, in the forward's dtype.

    Examples
    --------
    ``out = 2 * w0 + 3 * w1``, so ``dx = w`` and ``dweight = x``:

    >>> x, w = np.array([[[[2.0, 3.0]]]]), np.array([[[[5.0, 7.0]]]])
    >>> out, cache = conv2d_forward(x, w, np.zeros(1), (1, 1), (0, 0))
    >>> conv2d_backward(np.ones((1, 1, 1, 1)), cache)
    (array([[[[5., 7.]]]]), array([[[[2., 3.]]]]), array([1.]))
    """
    x, weight = cache.x, cache.weight
    workspace = cache.workspace
    dtype = x.dtype
    dout = dout.astype(dtype, copy=False)
    filters, _, kh, kw = weight.shape
    (oh, ow), cols = cache.out_hw, cache.cols
    if workspace is not None and workspace.generation != cache.generation:
        # Another forward pass has refilled the workspace's columns: rebuild ours, in new arrays.
        cols = _columns(x, (kh, kw), cache.stride, cache.padding, cache.out_hw, None, cache.flat)
    grid_shape = _grid_shape(x.shape, cache.padding, cache.out_hw, cache.flat)
    dout_cl = _batch_last(dout)  # (F, OH, OW, N)
    if not cache.flat and dout_cl.flags.c_contiguous:
        dout_rows = dout_cl.reshape(filters, -1)  # already the columns' order: no copy
    else:
        # dout on the columns' position grid, zero where no window fits (those columns are garbage).
        dout_grid = _scratch(workspace, "dout_grid", (filters,) + grid_shape, dtype)
        dout_grid[:, oh:] = 0
        dout_grid[:, :oh, ow:] = 0
        dout_grid[:, :oh, :ow] = dout_cl
        dout_rows = dout_grid.reshape(filters, -1)
    dbias = dout_rows.sum(axis=1) if cache.has_bias else None  # contiguous rows: pairwise summation
    dweight = _weight_gradient(dout_rows, cols).reshape(weight.shape)
    if not needs_input_grad:
        return None, dweight, dbias
    if cache.flat:
        dcols = _scratch(workspace, "dcols", cols.shape, dtype)
        np.matmul(weight.reshape(filters, -1).T, dout_rows, out=dcols)
        dx = _col2im_flat(dcols, x.shape, (kh, kw), cache.padding)
    else:
        dx = _input_gradient_strided(
            weight, dout_rows, x.shape, cache.stride, cache.padding, cache.out_hw, workspace
        )
    return dx, dweight, dbias


def _weight_gradient(dout_rows, cols):
    """``dout_rows (F, P) @ cols.T (P, K)``, the (F, K) weight gradient, as a new array.

    When ``K >= F`` the product is taken the other way round, ``(cols @ dout_rows.T).T``: the
    same sums, but OpenBLAS runs the long ``P`` axis faster with the larger of the two small
    dimensions as the rows of its result (measured on AMD EPYC at 1 and 2 threads: for 16 -> 32
    channels at 14x14, about 1.9x faster with the SkylakeX kernels, equal with the Haswell ones).
    """
    if cols.shape[0] >= dout_rows.shape[0]:
        return np.ascontiguousarray((cols @ dout_rows.T).T)
    return dout_rows @ cols.T


def _col2im_flat(dcols, x_shape, kernel_hw, padding):
    """Add every column entry back onto its pixel along the long rows; returns a new (N, C, H, W)."""
    n, channels, height, width = x_shape
    (kh, kw), (ph, pw) = kernel_hw, padding
    hp, wp = height + 2 * ph, width + 2 * pw
    length = hp * wp * n
    tail = ((kh - 1) * wp + (kw - 1)) * n
    dcols = dcols.reshape(channels, kh, kw, length)
    drows = np.empty((channels, length + tail), dtype=dcols.dtype)  # new: dx is a view of it
    drows[:, :length] = dcols[:, 0, 0]
    drows[:, length:] = 0
    for i in range(kh):
        for j in range(kw):
            if i or j:
                shift = (i * wp + j) * n
                drows[:, shift : shift + length] += dcols[:, i, j]
    grid = drows[:, :length].reshape(channels, hp, wp, n)
    return _batch_first(grid[:, ph : ph + height, pw : pw + width, :])


# Measured inside a full forward + backward with the image index last (N = 64, 14x14, 1 thread):
# bands of 4 MB of columns' gradient (two bands for 16 -> 32 channels, one for 8 -> 16) were
# the best of 1, 2, 4 and 8 MB on both OpenBLAS kernels: 16 -> 32 took 4.7 ms against 5.1 in one
# 7 MB band (SkylakeX; 5.4 against 6.0 on Haswell), and 8 -> 16 in 2 MB bands was 40 % slower.
_DX_CHUNK_BYTES = 4 << 20


def _valid_range(size, out_size, kernel_offset, stride, pad):
    """Output positions ``o`` in [0, out_size) whose input pixel ``o * stride + kernel_offset - pad``
    lies inside the unpadded map of ``size``: ``(first, stop)``, maybe empty."""
    first = max(0, -(-(pad - kernel_offset) // stride))
    stop = min(out_size, (size - 1 + pad - kernel_offset) // stride + 1)
    return first, stop


def _input_gradient_strided(weight, dout_rows, x_shape, stride, padding, out_hw, workspace):
    """dx for strided columns: ``dcols = W.T @ dout`` and col2im, a band of output rows at a time.

    The columns' gradient is computed for a band of output rows of at most ``_DX_CHUNK_BYTES``
    and added onto ``dx`` while it is still in the CPU's cache. Each kernel entry's slice-add is clipped
    to the pixels inside the map, so no padded copy of ``dx`` is made, and ``dx`` is built
    image index last, as the forward's output (no transposing copy).
    """
    n, channels, height, width = x_shape
    filters, _, kh, kw = weight.shape
    (sh, sw), (ph, pw), (oh, ow) = stride, padding, out_hw
    dtype = dout_rows.dtype
    band = ow * n  # columns per output row
    rows_per_chunk = max(1, min(oh, _DX_CHUNK_BYTES // (channels * kh * kw * band * dtype.itemsize)))
    weight_t = weight.reshape(filters, -1).T
    dcols = _scratch(workspace, "dcols", (channels * kh * kw, rows_per_chunk * band), dtype)
    dx = np.zeros((channels, height, width, n), dtype=dtype)  # new: returned as a view
    col_ranges = [_valid_range(width, ow, j, sw, pw) for j in range(kw)]
    row_ranges = [_valid_range(height, oh, i, sh, ph) for i in range(kh)]
    for top in range(0, oh, rows_per_chunk):
        rows = min(rows_per_chunk, oh - top)
        chunk = dcols[:, : rows * band]
        np.matmul(weight_t, dout_rows[:, top * band : (top + rows) * band], out=chunk)
        chunk = chunk.reshape(channels, kh, kw, rows, ow, n)
        for i in range(kh):
            first, stop = max(top, row_ranges[i][0]), min(top + rows, row_ranges[i][1])
            if first >= stop:
                continue
            start = first * sh + i - ph
            target_rows = slice(start, start + sh * (stop - first - 1) + 1, sh)
            for j in range(kw):
                c_first, c_stop = col_ranges[j]
                if c_first >= c_stop:
                    continue
                c_start = c_first * sw + j - pw
                target_cols = slice(c_start, c_start + sw * (c_stop - c_first - 1) + 1, sw)
                dx[:, target_rows, target_cols, :] += chunk[:, i, j, first - top : stop - top, c_first:c_stop]
    return _batch_first(dx)


# ----------------------------------------------------------------------------------------------
# Max pooling
# ----------------------------------------------------------------------------------------------


class _PoolCache:
    """What the max-pool backward needs: the input, the pooled output and the window geometry."""

    __slots__ = ("out", "size", "stride", "x")

    def __init__(self, x, out, size, stride):
        self.x, self.out, self.size, self.stride = x, out, size, stride


def _pool_views(array, size, stride, out_hw):
    """For each offset (i, j) inside a window, in reading order, that pixel of every window."""
    (kh, kw), (sh, sw), (oh, ow) = size, stride, out_hw
    for i in range(kh):
        for j in range(kw):
            yield array[..., i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw]


def max_pool2d_forward(x, size, stride):
    """Max pooling of every map: the largest value of each window (as ``pooling.max_pool2d``).

    The pixels at offset ``(i, j)`` of all windows form one strided view of ``x``; the output
    is the elementwise maximum of the ``KH * KW`` views (four for 2x2 windows). Like ``np.max``,
    a window holding a NaN gives NaN.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    size, stride : (int, int)
        Window ``(KH, KW)`` and step ``(s_h, s_w)``, each at least 1; no padding.

    Returns
    -------
    out : ndarray, shape (N, C, OH, OW)
        New, ``OH = (H - KH) // s_h + 1`` and the same for ``OW``; ``x``'s dtype.
    cache : object
        Pass it to :func:`max_pool2d_backward`.

    Examples
    --------
    >>> out, cache = max_pool2d_forward(np.array([[[[1.0, 2.0, 5.0, 0.0], [3.0, 4.0, 1.0, 1.0]]]]), (2, 2), (2, 2))
    >>> out
    array([[[[4., 5.]]]])
    """
    out_hw = ((x.shape[2] - size[0]) // stride[0] + 1, (x.shape[3] - size[1]) // stride[1] + 1)
    views = _pool_views(x, size, stride, out_hw)
    out = np.array(next(views), order="K")  # a new copy of the first offset's pixels, in x's memory order
    for view in views:
        np.maximum(out, view, out=out)  # NaN wins, as in np.max
    return out, _PoolCache(x, out, tuple(size), tuple(stride))


def max_pool2d_backward(dout, cache):
    """Gradient of :func:`max_pool2d_forward`: each window's gradient goes to its maximum.

    The rule is the loop version's (``np.argmax`` over the window in reading order): the
    gradient goes to the *first* maximum, left to right, top to bottom, when several pixels
    tie; a window that holds NaN sends its gradient to its first NaN (NaN counts as the
    maximum, as in ``np.max`` and ``np.argmax``). Overlapping windows (stride smaller than the
    window) that pick the same pixel add their gradients there.

    How: visit the window offsets in reading order, keeping a mask of the windows whose maximum
    has not been found yet. At each offset, the windows whose pixel equals their maximum (or is
    NaN) and are still unclaimed send their gradient to that pixel and become claimed.

    Parameters
    ----------
    dout : ndarray, shape (N, C, OH, OW)
    cache : object
        The second result of :func:`max_pool2d_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        New, in ``x``'s dtype; zero wherever no window took a pixel as its maximum.

    Examples
    --------
    The two 4s tie; the first in reading order gets the gradient:

    >>> x = np.array([[[[4.0, 1.0], [4.0, 2.0]]]])
    >>> out, cache = max_pool2d_forward(x, (2, 2), (2, 2))
    >>> max_pool2d_backward(np.array([[[[10.0]]]]), cache)
    array([[[[10.,  0.],
             [ 0.,  0.]]]])
    """
    x, out, size, stride = cache.x, cache.out, cache.size, cache.stride
    dout = dout.astype(x.dtype, copy=False)
    if dout.strides != out.strides:
        # Put dout in out's memory order first: one copy, against elementwise passes below that
        # would otherwise walk one array against its grain (measured 8x slower for (32, 16, 14, 14)
        # stored image index last with a C-ordered dout).
        reordered = np.empty_like(out)
        reordered[...] = dout
        dout = reordered
    out_hw = out.shape[2:]
    overlap = stride[0] < size[0] or stride[1] < size[1]
    if tuple(stride) == tuple(size):  # windows tile the map: only the strips past the last window need zeros
        dx = np.empty_like(x)
        dx[..., out_hw[0] * stride[0] :, :] = 0
        dx[..., :, out_hw[1] * stride[1] :] = 0
    else:
        dx = np.zeros_like(x)
    any_nan = bool(np.isnan(out).any())  # is any window's maximum NaN?
    # The masks share out's memory order (image index last after a Conv2D), so that every
    # elementwise pass below walks all its arrays in the same order.
    unclaimed = np.empty_like(out, dtype=bool)
    hit = np.empty_like(out, dtype=bool)
    offsets = size[0] * size[1]
    for k, (view, dview) in enumerate(
        zip(_pool_views(x, size, stride, out_hw), _pool_views(dx, size, stride, out_hw), strict=True)
    ):
        if 0 < k == offsets - 1 and not any_nan:
            hit = unclaimed  # without NaN, a window not claimed yet has its maximum at the last offset
        else:
            np.equal(view, out, out=hit)
            if any_nan:
                hit |= np.isnan(view)
            if k == 0:  # every window is unclaimed before the first offset
                np.logical_not(hit, out=unclaimed)
            else:
                hit &= unclaimed
                if k < offsets - 1:  # after the last offset nobody asks any more
                    unclaimed ^= hit  # hit lies inside unclaimed, so this removes exactly the hits
        if overlap:
            dview += np.where(hit, dout, 0)
        else:
            np.multiply(dout, hit, out=dview)
    return dx
