"""Speed of the course's NumPy CNN against PyTorch on the CPU, measured in one run.

    python benchmarks/run.py            # a few minutes on a quiet 2-core machine
    python benchmarks/run.py --quick    # 3 rounds: a smoke test, not a measurement

Every comparison is timed in interleaved rounds (A, B, C, A, B, C, ...) inside one process, so
that machine noise hits every contender alike; tables give min / median / max over the rounds
and ratios of medians. Each comparison runs twice: with the default threads (OpenBLAS and
torch both use ``THREADS``), and with one thread for both (how the course's notebooks run).

(a) One convolution layer, forward + backward (dx, dweight, dbias), float32, 3x3, padding 1, N=64:
    the two LeNet-sized layers (1 -> 8 at 28x28, 8 -> 16 at 14x14) and the 28x28 capstone's
    layers (1 -> 16 at 28x28, 16 -> 32 at 14x14). Contenders: ``cnn_helpers._fast`` (with a
    reused workspace, as a layer uses it), today's ``conv.conv2d_with_cols`` +
    ``conv.conv2d_backward``, ``torch.nn.functional.conv2d`` with autograd, and the loop versions
    (timed on ``LOOP_BATCH`` images and scaled linearly to N=64, because they take seconds).
(b) 2x2 max pooling forward + backward on the capstone's two pooling inputs.
(c) One training epoch, Adam, batch 64, against the same network in PyTorch with the same
    initial weights visiting the same batches: the 28x28 capstone network on 3,500 images, and
    ``small_cnn`` on the 8x8 digits. The NumPy networks are built from ``cnn_helpers.layers``;
    the "fast" variant swaps in ``FastConv2D`` / ``FastMaxPool2D`` below, which are the course's
    layers with their math routed through ``cnn_helpers._fast`` (until the layers call ``_fast``
    themselves).
(d) Peak memory of one training step of the capstone network.
(e) Start-up: a fresh interpreter importing the package vs NumPy alone.

This is a script, not a test: timings on shared machines vary by tens of percent.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from cnn_helpers import _fast, conv, pooling
from cnn_helpers.data import load_digits
from cnn_helpers.layers import (
    Conv2D,
    Dense,
    Flatten,
    MaxPool2D,
    ReLU,
    SoftmaxCrossEntropy,
)
from cnn_helpers.model import Sequential, small_cnn
from cnn_helpers.optim import Adam

THREADS = 2
CONV_CASES = [  # (label, N, C, F, H=W)
    ("LeNet 1: N=64, 1->8 ch, 28x28", 64, 1, 8, 28),
    ("LeNet 2: N=64, 8->16 ch, 14x14", 64, 8, 16, 14),
    ("capstone 1: N=64, 1->16 ch, 28x28", 64, 1, 16, 28),
    ("capstone 2: N=64, 16->32 ch, 14x14", 64, 16, 32, 14),
]
POOL_CASES = [("N=64, 16 ch, 28x28", (64, 16, 28, 28)), ("N=64, 32 ch, 14x14", (64, 32, 14, 14))]
LOOP_BATCH = 2  # the loop versions run on this many images, then are scaled to N
CAPSTONE_IMAGES = 3500
ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------------------------
# The course's layers with the fast kernels composed in (benchmark only)
# ----------------------------------------------------------------------------------------------


class FastConv2D(Conv2D):
    """``layers.Conv2D`` whose forward and backward call ``cnn_helpers._fast`` with a workspace."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._workspace = _fast.ConvWorkspace()
        self._cache = None

    def forward(self, x):
        x = self._input(x, 4, "(N, C, H, W)").astype(self.dtype, copy=False)
        out, self._cache = _fast.conv2d_forward(
            x, self.params["W"], self.params["b"], self.stride, self.padding, self._workspace
        )
        return self._remember_output(out)

    def backward(self, dout):
        dout = self._dout(dout).astype(self.dtype, copy=False)
        dx, self.grads["W"], self.grads["b"] = _fast.conv2d_backward(dout, self._cache, self.needs_input_grad)
        return dx


class FastMaxPool2D(MaxPool2D):
    """``layers.MaxPool2D`` whose forward and backward call ``cnn_helpers._fast``."""

    def forward(self, x):
        out, self._cache = _fast.max_pool2d_forward(self._input(x, 4, "(N, C, H, W)"), self.size, self.stride)
        return self._remember_output(out)

    def backward(self, dout):
        return _fast.max_pool2d_backward(self._dout(dout), self._cache)


def with_fast_kernels(model):
    """A copy of ``model`` whose Conv2D / MaxPool2D layers are the fast ones, sharing the same weights."""
    layers = []
    for layer in model.layers:
        if type(layer) is Conv2D:
            fast = FastConv2D(
                layer.in_channels,
                layer.out_channels,
                layer.kernel_size,
                stride=layer.stride,
                padding=layer.padding,
                dtype=layer.dtype,
            )
            fast.params = layer.params  # the same arrays: identical initial weights
            fast.needs_input_grad = layer.needs_input_grad
            layers.append(fast)
        elif type(layer) is MaxPool2D:
            layers.append(FastMaxPool2D(size=layer.size, stride=layer.stride))
        else:
            layers.append(layer)
    return Sequential(*layers)


def capstone_cnn(seed=0):
    """The 28x28 capstone network: [Conv2D 3x3 pad 1 - ReLU - MaxPool 2] x 2 (16, 32 ch) - Flatten - Dense."""
    rng = np.random.default_rng(seed)
    model = Sequential(
        Conv2D(1, 16, 3, padding=1, rng=rng),
        ReLU(),
        MaxPool2D(2),
        Conv2D(16, 32, 3, padding=1, rng=rng),
        ReLU(),
        MaxPool2D(2),
        Flatten(),
        Dense(32 * 7 * 7, 10, rng=rng),
    )
    model.layers[0].needs_input_grad = False  # as small_cnn: nothing uses the images' gradient
    return model


def copy_model(model):
    """An independent copy (own arrays) of a Sequential of course layers."""
    import copy

    return copy.deepcopy(model)


def torch_twin(torch, model):
    """The same network in PyTorch, layer by layer, with our model's current weights copied in."""
    nn = torch.nn
    modules = []
    for layer in model.layers:
        if isinstance(layer, Conv2D):
            module = nn.Conv2d(
                layer.in_channels,
                layer.out_channels,
                layer.kernel_size,
                stride=layer.stride,
                padding=layer.padding,
            )
            weight = layer.params["W"]
        elif isinstance(layer, Dense):
            module = nn.Linear(layer.in_features, layer.out_features)
            weight = layer.params["W"].T  # Linear keeps (out, in)
        elif isinstance(layer, ReLU):
            modules.append(nn.ReLU())
            continue
        elif isinstance(layer, MaxPool2D):
            modules.append(nn.MaxPool2d(layer.size, layer.stride))
            continue
        elif isinstance(layer, Flatten):
            modules.append(nn.Flatten())
            continue
        else:
            raise TypeError(f"no PyTorch twin for {layer!r}")
        with torch.no_grad():
            module.weight.copy_(torch.tensor(np.ascontiguousarray(weight)))
            module.bias.copy_(torch.tensor(layer.params["b"]))
        modules.append(module)
    return nn.Sequential(*modules)


# ----------------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------------


def timed(function, repeat):
    """Seconds per call, averaged over ``repeat`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(repeat):
        function()
    return (time.perf_counter() - start) / repeat


def interleaved(contenders, rounds):
    """Seconds per call for each contender over ``rounds`` alternating rounds: {name: [samples]}.

    contenders : dict of name -> (function, calls per timing, scale factor)
    """
    samples = {name: [] for name in contenders}
    for function, _, _ in contenders.values():  # warm-up: caches, workspaces, torch's first call
        function()
    for _ in range(rounds):
        for name, (function, repeat, scale) in contenders.items():
            samples[name].append(timed(function, repeat) * scale)
    return samples


@contextmanager
def threads(torch, count):
    """OpenBLAS (NumPy) and torch both limited to ``count`` threads inside the block."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        with threadpool_limits(limits=count, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


def spread(values, unit=1000.0):
    """'min / median / max' of samples, in ms."""
    low, mid, high = min(values) * unit, statistics.median(values) * unit, max(values) * unit
    digits = 1 if mid >= 100 else 2
    return f"{low:.{digits}f} / {mid:.{digits}f} / {high:.{digits}f}"


def ratio(samples, a, b):
    """'median ratio (min ratio)' of contender a over b; the min is the steadier one on a busy machine."""
    mid = statistics.median(samples[a]) / statistics.median(samples[b])
    return f"{mid:.2f}x ({min(samples[a]) / min(samples[b]):.2f}x)"


def load_text():
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


# ----------------------------------------------------------------------------------------------
# (a) conv layer, (b) pooling
# ----------------------------------------------------------------------------------------------


def conv_contenders(torch, n, c, f, size, rng, with_loops):
    x = rng.standard_normal((n, c, size, size)).astype(np.float32)
    w = (rng.standard_normal((f, c, 3, 3)) * np.sqrt(2 / (9 * c))).astype(np.float32)
    b = np.zeros(f, dtype=np.float32)
    dout = rng.standard_normal((n, f, size, size)).astype(np.float32)
    workspace = _fast.ConvWorkspace()

    def numpy_fast():
        _, cache = _fast.conv2d_forward(x, w, b, (1, 1), (1, 1), workspace)
        _fast.conv2d_backward(dout, cache)

    def numpy_today():
        _, cols = conv.conv2d_with_cols(x, w, b, stride=1, padding=1)
        conv.conv2d_backward(dout, x, w, stride=1, padding=1, cols=cols)

    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    tdout = torch.tensor(dout)

    def pytorch():
        tx.grad = tw.grad = tb.grad = None
        torch.nn.functional.conv2d(tx, tw, tb, padding=1).backward(tdout)

    # The arithmetic alone: the three matrix products of an im2col convolution with no wasted
    # columns (forward, dweight, dcols), on ready-made matrices. No NumPy version can beat this.
    positions = n * size * size
    w_rows, cols = w.reshape(f, -1), rng.standard_normal((c * 9, positions)).astype(np.float32)
    dout_rows = dout.transpose(1, 0, 2, 3).reshape(f, -1)
    products = [np.empty((f, positions), np.float32), np.empty((c * 9, positions), np.float32)]

    def gemm_floor():
        np.matmul(w_rows, cols, out=products[0])
        _ = dout_rows @ cols.T
        np.matmul(w_rows.T, dout_rows, out=products[1])

    contenders = {
        "fast": (numpy_fast, 10, 1.0),
        "today": (numpy_today, 10, 1.0),
        "torch": (pytorch, 10, 1.0),
        "gemm": (gemm_floor, 10, 1.0),
    }
    if with_loops:
        small_x, small_dout = x[:LOOP_BATCH], dout[:LOOP_BATCH]

        def numpy_loops():
            conv.conv2d_loops(small_x, w, b, stride=1, padding=1)
            conv.conv2d_backward_loops(small_dout, small_x, w, stride=1, padding=1)

        contenders["loops"] = (numpy_loops, 1, n / LOOP_BATCH)
    return contenders


def pool_contenders(torch, shape, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    dout = rng.standard_normal(shape[:2] + (shape[2] // 2, shape[3] // 2)).astype(np.float32)

    def numpy_fast():
        _, cache = _fast.max_pool2d_forward(x, (2, 2), (2, 2))
        _fast.max_pool2d_backward(dout, cache)

    def numpy_today():
        pooling.max_pool2d(x, size=2)
        pooling.max_pool2d_backward(dout, x, size=2)

    tx, tdout = torch.tensor(x, requires_grad=True), torch.tensor(dout)

    def pytorch():
        tx.grad = None
        torch.nn.functional.max_pool2d(tx, 2).backward(tdout)

    return {"fast": (numpy_fast, 10, 1.0), "today": (numpy_today, 10, 1.0), "torch": (pytorch, 10, 1.0)}


# ----------------------------------------------------------------------------------------------
# (c) epochs, (d) memory
# ----------------------------------------------------------------------------------------------


def capstone_images():
    """3,500 training images (N, 1, 28, 28) float32 with labels, and where they came from."""
    if (ROOT / "data" / "mnist-sample.npz").exists():
        try:
            from cnn_helpers.data import load_mnist_sample

            sample = load_mnist_sample(seed=0)
            return sample.x_train.astype(np.float32), sample.y_train.astype(np.int64), "data/mnist-sample.npz"
        except (ImportError, AttributeError, OSError, ValueError) as error:
            print(f"    (data/mnist-sample.npz exists but could not be loaded: {error}; using random images)")
    rng = np.random.default_rng(0)
    x = rng.random((CAPSTONE_IMAGES, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, CAPSTONE_IMAGES)
    return x, y, f"{CAPSTONE_IMAGES:,} random 28x28 float32 images"


def epoch_contenders(torch, model, x, y, batch_size=64, lr=3e-3, rounds=1):
    """Epoch functions for the fast NumPy net, today's NumPy net and PyTorch, from one set of weights.

    Every contender's k-th epoch visits the batches of the k-th shared permutation.
    """
    permutations = [np.random.default_rng(k).permutation(len(x)) for k in range(rounds + 2)]
    twin = torch_twin(torch, model)
    torch_optimizer = torch.optim.Adam(twin.parameters(), lr=lr)
    tx, ty = torch.tensor(x), torch.tensor(y)

    def numpy_epoch_for(net):
        optimizer, loss, epochs = Adam(net, lr=lr), SoftmaxCrossEntropy(), iter(permutations)

        def epoch():
            order = next(epochs)
            for start in range(0, len(x), batch_size):
                batch = order[start : start + batch_size]
                loss.forward(net.forward(x[batch]), y[batch])
                net.backward(loss.backward())
                optimizer.step()

        return epoch

    torch_epochs = iter(permutations)

    def torch_epoch():
        order = torch.from_numpy(next(torch_epochs))
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            torch_optimizer.zero_grad()
            torch.nn.functional.cross_entropy(twin(tx[batch]), ty[batch]).backward()
            torch_optimizer.step()

    fast_net = with_fast_kernels(copy_model(model))
    today_net = copy_model(model)
    # Same network, same weights: the first batch's scores must agree before any timing.
    with torch.no_grad():
        theirs = twin(tx[:batch_size]).numpy()
    for net in (fast_net, today_net):
        gap = float(np.abs(net.forward(x[:batch_size]) - theirs).max())
        if gap > 1e-3 * max(1.0, float(np.abs(theirs).max())):
            raise AssertionError(f"the NumPy and PyTorch networks disagree by {gap:.3g} on the first batch")
    return {
        "fast": (numpy_epoch_for(fast_net), 1, 1.0),
        "today": (numpy_epoch_for(today_net), 1, 1.0),
        "torch": (torch_epoch, 1, 1.0),
    }


def numpy_step_memory(x, y, batch_size=64):
    """tracemalloc peak of one steady-state training step of the fast capstone net, and its workspaces."""
    net = with_fast_kernels(capstone_cnn())
    optimizer, loss = Adam(net, lr=3e-3), SoftmaxCrossEntropy()

    def step():
        loss.forward(net.forward(x[:batch_size]), y[:batch_size])
        net.backward(loss.backward())
        optimizer.step()

    step()  # allocates the workspaces and Adam's state
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    held = sum(
        buffer.nbytes
        for layer in net.layers
        if isinstance(layer, FastConv2D)
        for buffer in layer._workspace.buffers().values()
    )
    return peak, held


RSS_PROBE = """
import sys, numpy as np
sys.path.insert(0, {bench!r})
import run
x, y, _ = run.capstone_images()
xb, yb = x[:64], y[:64]
if {framework!r} == "torch":
    import torch
    torch.set_num_threads(run.THREADS)
    net = run.torch_twin(torch, run.capstone_cnn())
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    tx, ty = torch.tensor(xb), torch.tensor(yb)
    def step():
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(tx), ty).backward()
        optimizer.step()
else:
    from cnn_helpers.layers import SoftmaxCrossEntropy
    from cnn_helpers.optim import Adam
    net = run.with_fast_kernels(run.capstone_cnn())
    optimizer, loss = Adam(net, lr=3e-3), SoftmaxCrossEntropy()
    def step():
        loss.forward(net.forward(xb), yb)
        net.backward(loss.backward())
        optimizer.step()
def kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
def peak_growth(steps):
    rss = kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # reset the peak-RSS mark (Linux >= 4.0)
    for _ in range(steps):
        step()
    return kib("VmHWM") - rss
first = peak_growth(1)
print(first, peak_growth(5))
"""


def rss_growth_kib(framework):
    """Peak resident memory (KiB) above the resident memory just before, in a fresh process that
    already holds the model and the data: for the first training step, and for the next five."""
    if not Path("/proc/self/clear_refs").exists():
        return None
    code = RSS_PROBE.format(bench=str(Path(__file__).resolve().parent), framework=framework)
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    first, steady = result.stdout.split()[-2:]
    return int(first), int(steady)


# ----------------------------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------------------------


def machine_line(torch):
    from threadpoolctl import threadpool_info

    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = [
        f"{info.get('internal_api')} {info.get('version')} ({info.get('architecture', '?')} kernels, "
        f"{info.get('num_threads')} threads)"
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return (
        f"CPU: {cpu}, {os.cpu_count()} logical CPUs; NumPy BLAS: {', '.join(blas) or 'unknown'}; "
        f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"python {platform.python_version()}"
    )


def conv_table(torch, rounds, rng, thread_count):
    print(
        f"\n(a) conv layer forward + backward (dx, dW, db), float32, 3x3, padding 1 -- {thread_count} thread(s), "
        f"load {load_text()}"
    )
    print(
        f"    ms per call, min / median / max of {rounds} rounds; ratios of medians (of mins); "
        f"loops timed on N={LOOP_BATCH} and scaled to N=64\n"
    )
    print(
        "| case | NumPy `_fast` | PyTorch | `_fast` / PyTorch | NumPy today (`conv.py`) | today / PyTorch "
        "| its 3 GEMMs alone | GEMMs / PyTorch | loops (ms, median) | loops / `_fast` |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, n, c, f, size in CONV_CASES:
        samples = interleaved(
            conv_contenders(torch, n, c, f, size, rng, with_loops=thread_count == THREADS), rounds
        )
        med = {name: statistics.median(values) for name, values in samples.items()}
        loops = (
            f"{1000 * med['loops']:,.0f} | {med['loops'] / med['fast']:,.0f}x ({min(samples['loops']) / min(samples['fast']):,.0f}x)"
            if "loops" in med
            else "(2-thread table) | "
        )
        print(
            f"| {label} | {spread(samples['fast'])} | {spread(samples['torch'])} | "
            f"{ratio(samples, 'fast', 'torch')} | {spread(samples['today'])} | {ratio(samples, 'today', 'torch')} "
            f"| {spread(samples['gemm'])} | {ratio(samples, 'gemm', 'torch')} | {loops} |",
            flush=True,
        )


def pool_table(torch, rounds, rng, thread_count):
    print(
        f"\n(b) 2x2 max pooling forward + backward, float32 -- {thread_count} thread(s), load {load_text()}"
    )
    print(f"    ms per call, min / median / max of {rounds} rounds; ratios of medians (of mins)\n")
    print(
        "| input | NumPy `_fast` | PyTorch | `_fast` / PyTorch | NumPy today (`pooling.py`) | today / PyTorch |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for label, shape in POOL_CASES:
        samples = interleaved(pool_contenders(torch, shape, rng), rounds)
        print(
            f"| {label} | {spread(samples['fast'])} | {spread(samples['torch'])} | {ratio(samples, 'fast', 'torch')} "
            f"| {spread(samples['today'])} | {ratio(samples, 'today', 'torch')} |",
            flush=True,
        )


def epoch_table(torch, rounds, thread_count, capstone):
    x28, y28, source = capstone
    digits = load_digits()
    nets = [
        (f"capstone 28x28 ({capstone_cnn().num_params:,} parameters), {source}", capstone_cnn(), x28, y28),
        (
            f"small_cnn 8x8 ({small_cnn(seed=0).num_params:,} parameters), digits ({len(digits.x_train):,} images)",
            small_cnn(seed=0),
            digits.x_train,
            digits.y_train,
        ),
    ]
    print(f"\n(c) one training epoch, Adam, batch 64 -- {thread_count} thread(s), load {load_text()}")
    print(f"    ms per epoch, min / median / max of {rounds} rounds; ratios of medians (of mins)\n")
    print("| network | NumPy + `_fast` | PyTorch | `_fast` / PyTorch | NumPy today | today / PyTorch |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, model, x, y in nets:
        samples = interleaved(epoch_contenders(torch, model, x, y, rounds=rounds), rounds)
        print(
            f"| {label} | {spread(samples['fast'])} | {spread(samples['torch'])} | {ratio(samples, 'fast', 'torch')} "
            f"| {spread(samples['today'])} | {ratio(samples, 'today', 'torch')} |",
            flush=True,
        )


def memory_table(capstone):
    x, y, _ = capstone
    peak, held = numpy_step_memory(x, y)
    print("\n(d) memory of one training step of the capstone network, batch 64\n")
    print("| measure | NumPy + `_fast` | PyTorch |")
    print("|---|---:|---:|")
    print(
        f"| tracemalloc peak of a steady-state step (NumPy allocations only) | {peak / 2**20:.1f} MiB | n/a |"
    )
    print(f"| conv workspaces kept between steps | {held / 2**20:.1f} MiB | n/a |")
    rss = {framework: rss_growth_kib(framework) for framework in ("numpy", "torch")}
    if rss["numpy"] is None:
        print("| peak-RSS growth | needs Linux's /proc/self/clear_refs | |")
        return
    print(
        f"| peak RSS above the RSS before, first step (fresh process) | {rss['numpy'][0] / 1024:.1f} MiB "
        f"| {rss['torch'][0] / 1024:.1f} MiB |"
    )
    print(
        f"| peak RSS above the RSS before, next 5 steps | {rss['numpy'][1] / 1024:.1f} MiB "
        f"| {rss['torch'][1] / 1024:.1f} MiB |"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per comparison")
    parser.add_argument("--quick", action="store_true", help="3 rounds: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    epoch_rounds = 3 if args.quick else max(5, rounds // 2)

    import torch

    torch.set_num_threads(THREADS)
    print(machine_line(torch))
    print(
        f"load average (1 / 5 / 15 min) at start: {load_text()}; {rounds} interleaved rounds "
        f"({epoch_rounds} for epochs)"
    )
    capstone = capstone_images()
    for thread_count in (THREADS, 1):
        rng = np.random.default_rng(0)
        with threads(torch, thread_count):
            conv_table(torch, rounds, rng, thread_count)
            pool_table(torch, rounds, rng, thread_count)
            epoch_table(torch, epoch_rounds, thread_count, capstone)
    memory_table(capstone)
    print("\n(e) start-up: a fresh interpreter importing the package vs importing NumPy alone\n")
    imports = import_times(rounds)
    print("| import | seconds | / numpy |")
    print("|---|---:|---:|")
    for label, seconds in imports.items():
        print(f"| `{label}` | {seconds:.3f} | {seconds / imports['numpy']:.2f}x |")
    print(f"\nload average (1 / 5 / 15 min) at the end: {load_text()}")
    print("Targets: conv fwd+bwd <= 1.5x PyTorch and >= 100x faster than loops; epochs <= 1.0x PyTorch.")


def import_times(rounds):
    """Median wall time of a fresh ``python -c 'import ...'``, interleaved, for each import line."""
    lines = {
        "numpy": "import numpy",
        "cnn_helpers": "import cnn_helpers",
        "cnn_helpers + conv, pooling, layers, training": "import cnn_helpers.conv, cnn_helpers.pooling, "
        "cnn_helpers.layers, cnn_helpers.training",
    }
    samples = {label: [] for label in lines}
    for _ in range(max(rounds, 5)):
        for label, code in lines.items():
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            samples[label].append(time.perf_counter() - started)
    return {label: float(np.median(values)) for label, values in samples.items()}


if __name__ == "__main__":
    main()
