"""Speed of the course's NumPy CNN against PyTorch on the CPU, measured in one run.

    python benchmarks/run.py            # a few minutes on a quiet 2-core machine
    python benchmarks/run.py --quick    # 3 rounds: a smoke test, not a measurement
    python benchmarks/run.py --kernel   # only the machine line: which OpenBLAS kernel NumPy got

Every comparison is timed in interleaved rounds (A, B, C, A, B, C, ...) inside one process, so
that machine noise hits every contender alike; tables give min / median / max over the rounds
and ratios of medians (and of minimums). Each comparison runs with the default threads
(OpenBLAS and torch both use ``THREADS``) and with one thread for both (how the course's
notebooks run).

(a) One convolution layer, forward + backward (dx, dweight, dbias), float32, 3x3, padding 1, N=64:
    the two LeNet-sized layers (1 -> 8 at 28x28, 8 -> 16 at 14x14) and the 28x28 capstone's
    layers (1 -> 16 at 28x28, 16 -> 32 at 14x14). Contenders:
    - the layer path: ``cnn_helpers._fast`` with a reused ``ConvWorkspace``, the calls
      ``layers.Conv2D`` makes (its backward reuses the forward's columns), given ``x`` and
      ``dout`` stored image index last, as a layer inside a network gets them;
    - the public functional API ``conv.conv2d`` + ``conv.conv2d_backward``: no workspace, and
      the backward is given the forward's arguments, not a cache, so it rebuilds the columns;
    - ``torch.nn.functional.conv2d`` with autograd;
    - the three GEMMs of an im2col convolution alone, on ready-made matrices (the arithmetic);
    - the loop versions, timed on ``LOOP_BATCH`` image(s) and scaled linearly to N=64, in
      their own few rounds interleaved with the layer path (they take seconds).
(b) 2x2 max pooling forward + backward on the capstone's two pooling inputs: the layer path
    (``_fast``, as ``layers.MaxPool2D`` calls it, on arrays stored image index last),
    ``pooling.max_pool2d`` + its backward, torch.
(c) One training epoch, Adam (lr 3e-3), softmax cross-entropy, against the same network in
    PyTorch with the same initial weights (checked on the first batch) visiting the same batches:
    the 28x28 capstone network of lesson 08 (``small_cnn(input_shape=(1, 28, 28), channels=(16, 32))``
    with a hidden Dense(1568, 128) - ReLU before the 10 scores) on the
    3,500 training digits of ``load_mnist_sample()``, at batch 32 (lesson 08's recipe) and 64,
    and the 8x8 ``small_cnn()`` on the 8x8 digits at batch 64.
(d) Peak memory of one training step of the capstone network, batch 64.
(e) Start-up: a fresh interpreter importing the package vs NumPy alone.
(g) Where an epoch's time goes (first thread setting only): every layer's forward and backward,
    the loss, the optimiser step and the batch indexing of the capstone network at batch 32,
    NumPy against PyTorch's per-module forward, whole backward and optimiser step.

The OpenBLAS kernel: OpenBLAS picks its kernels for the CPU it finds, unless the environment
variable ``OPENBLAS_CORETYPE`` names one. The machine line prints the kernel threadpoolctl
reports and the ``OPENBLAS_*`` variables that were set, so a table says what it measured.

This is a script, not a test: timings on shared machines vary by tens of percent.
"""

from __future__ import annotations

import argparse
import copy
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
from cnn_helpers.data import load_digits, load_mnist_sample
from cnn_helpers.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, SoftmaxCrossEntropy
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
LOOP_BATCH = 1  # the loop versions run on this many images, then are scaled to N
SECTIONS = ("conv", "pool", "epoch", "profile", "memory", "startup")
ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------------------------
# The networks
# ----------------------------------------------------------------------------------------------


def capstone_cnn(seed=0):
    """Lesson 08's 28x28 network, built as the lesson's ``capstone_cnn`` builds it.

    [Conv2D 3x3 pad 1 - ReLU - MaxPool2D 2] x 2 (16, 32 channels) - Flatten - Dense(1568, 128) -
    ReLU - Dense(128, 10) (206,922 parameters); the first convolution skips its input gradient.
    """
    rng = np.random.default_rng(seed)
    stages = small_cnn(input_shape=(1, 28, 28), channels=(16, 32), num_classes=128, seed=rng)
    return Sequential(*stages.layers, ReLU(), Dense(128, 10, rng=rng))


def describe_network(model):
    """'Conv2D(1, 16, ...) - ReLU - ...' from the model's layers."""
    return " - ".join(
        repr(layer) if isinstance(layer, (Conv2D, Dense, MaxPool2D)) else type(layer).__name__
        for layer in model.layers
    )


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


def ratio(samples, a, b, digits=2):
    """'median ratio (min ratio)' of contender a over b; the min is the steadier one on a busy machine."""
    mid = statistics.median(samples[a]) / statistics.median(samples[b])
    low = min(samples[a]) / min(samples[b])
    return f"{mid:,.{digits}f}x ({low:,.{digits}f}x)"


def load_text():
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


# ----------------------------------------------------------------------------------------------
# (a) conv layer, (b) pooling
# ----------------------------------------------------------------------------------------------


def in_network_order(array):
    """A copy of an (N, C, H, W) array stored image index last, as `_fast` stores its outputs."""
    return np.ascontiguousarray(array.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


def conv_contenders(torch, n, c, f, size, rng):
    x = rng.standard_normal((n, c, size, size)).astype(np.float32)
    w = (rng.standard_normal((f, c, 3, 3)) * np.sqrt(2 / (9 * c))).astype(np.float32)
    b = np.zeros(f, dtype=np.float32)
    dout = rng.standard_normal((n, f, size, size)).astype(np.float32)
    workspace = _fast.ConvWorkspace()
    # Inside a network the layer gets x and dout in the memory order `_fast` gives its arrays
    # (image index last: a MaxPool2D's output, a ReLU's gradient), so the layer path is timed so;
    # a one-channel first layer gets the data batch as it is.
    x_net, dout_net = (x if c == 1 else in_network_order(x)), in_network_order(dout)

    def layer_path():  # what layers.Conv2D.forward / backward call
        _, cache = _fast.conv2d_forward(x_net, w, b, (1, 1), (1, 1), workspace=workspace)
        _fast.conv2d_backward(dout_net, cache)

    def functional():  # the public API: the backward gets the forward's arguments and rebuilds the columns
        conv.conv2d(x, w, b, stride=1, padding=1)
        conv.conv2d_backward(dout, x, w, b, stride=1, padding=1)

    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    tdout = torch.tensor(dout)

    def pytorch():
        tx.grad = tw.grad = tb.grad = None
        torch.nn.functional.conv2d(tx, tw, tb, padding=1).backward(tdout)

    # The arithmetic alone: the three matrix products of an im2col convolution with no wasted
    # columns (forward, dweight, dcols), on ready-made matrices.
    positions = n * size * size
    w_rows, cols = w.reshape(f, -1), rng.standard_normal((c * 9, positions)).astype(np.float32)
    dout_rows = np.ascontiguousarray(dout.transpose(1, 0, 2, 3).reshape(f, -1))
    products = [np.empty((f, positions), np.float32), np.empty((c * 9, positions), np.float32)]

    def gemm_floor():
        np.matmul(w_rows, cols, out=products[0])
        _ = dout_rows @ cols.T
        np.matmul(w_rows.T, dout_rows, out=products[1])

    small_x, small_dout = x[:LOOP_BATCH], dout[:LOOP_BATCH]

    def loops():
        conv.conv2d_loops(small_x, w, b, stride=1, padding=1)
        conv.conv2d_backward_loops(small_dout, small_x, w, b, stride=1, padding=1)

    main = {
        "layer": (layer_path, 10, 1.0),
        "functional": (functional, 10, 1.0),
        "torch": (pytorch, 10, 1.0),
        "gemm": (gemm_floor, 10, 1.0),
    }
    return main, {"loops": (loops, 1, n / LOOP_BATCH), "layer": (layer_path, 10, 1.0)}


def pool_contenders(torch, shape, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    dout = rng.standard_normal(shape[:2] + (shape[2] // 2, shape[3] // 2)).astype(np.float32)

    x_net, dout_net = in_network_order(x), in_network_order(dout)  # as a Conv2D - ReLU gives them

    def layer_path():  # what layers.MaxPool2D.forward / backward call
        _, cache = _fast.max_pool2d_forward(x_net, (2, 2), (2, 2))
        _fast.max_pool2d_backward(dout_net, cache)

    def functional():
        pooling.max_pool2d(x, size=2)
        pooling.max_pool2d_backward(dout, x, size=2)

    tx, tdout = torch.tensor(x, requires_grad=True), torch.tensor(dout)

    def pytorch():
        tx.grad = None
        torch.nn.functional.max_pool2d(tx, 2).backward(tdout)

    return {"layer": (layer_path, 10, 1.0), "functional": (functional, 10, 1.0), "torch": (pytorch, 10, 1.0)}


# ----------------------------------------------------------------------------------------------
# (c) epochs, (d) memory
# ----------------------------------------------------------------------------------------------


def capstone_images():
    """Lesson 08's 3,500 training digits (N, 1, 28, 28) float32 and their labels."""
    sample = load_mnist_sample(seed=0)
    return sample.x_train, sample.y_train


def epoch_contenders(torch, model, x, y, batch_size, lr=3e-3, rounds=1):
    """Epoch functions for the NumPy net (the course's layers) and PyTorch, from one set of weights.

    Every contender's k-th epoch visits the batches of the k-th shared permutation.
    """
    permutations = [np.random.default_rng(k).permutation(len(x)) for k in range(rounds + 2)]
    net = copy.deepcopy(model)
    twin = torch_twin(torch, net)
    torch_optimizer = torch.optim.Adam(twin.parameters(), lr=lr)
    tx, ty = torch.tensor(x), torch.tensor(y)
    # Same network, same weights: the first batch's scores must agree before any timing.
    with torch.no_grad():
        theirs = twin(tx[:batch_size]).numpy()
    gap = float(np.abs(net.forward(x[:batch_size]) - theirs).max())
    if gap > 1e-4 * max(1.0, float(np.abs(theirs).max())):
        raise AssertionError(f"the NumPy and PyTorch networks disagree by {gap:.3g} on the first batch")

    optimizer, loss, numpy_epochs = Adam(net, lr=lr), SoftmaxCrossEntropy(), iter(permutations)

    def numpy_epoch():
        order = next(numpy_epochs)
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            loss.forward(net.forward(x[batch]), y[batch])
            net.backward(loss.backward())
            optimizer.step()

    torch_epochs = iter(permutations)

    def torch_epoch():
        order = torch.from_numpy(next(torch_epochs))
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            torch_optimizer.zero_grad()
            torch.nn.functional.cross_entropy(twin(tx[batch]), ty[batch]).backward()
            torch_optimizer.step()

    return {"numpy": (numpy_epoch, 1, 1.0), "torch": (torch_epoch, 1, 1.0)}, gap


class _Stopwatch:
    """Adds up the wall time of calls to wrapped methods, by label."""

    def __init__(self):
        self.seconds = {}

    def wrap(self, owner, method, label):
        function = getattr(owner, method)

        def timed_call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - start

        setattr(owner, method, timed_call)  # an instance attribute: only this object is timed


def epoch_profile(torch, model, x, y, batch_size, rounds, lr=3e-3):
    """ms per epoch spent in each piece, for the NumPy net and its PyTorch twin (same batches).

    NumPy: every layer's forward and backward, the loss, Adam's step and the batch indexing,
    timed around each call. PyTorch: every module's forward (hooks), then the whole backward
    and the optimiser step (autograd runs the backward as one call). The timers add a few
    microseconds per call; the epoch totals are measured without them in table (c).
    """
    net = copy.deepcopy(model)
    twin = torch_twin(torch, net)
    watch, theirs = _Stopwatch(), {}
    for k, layer in enumerate(net.layers):
        watch.wrap(layer, "forward", f"{k} {type(layer).__name__} forward")
    for k, layer in reversed(list(enumerate(net.layers))):
        watch.wrap(layer, "backward", f"{k} {type(layer).__name__} backward")
    optimizer, loss = Adam(net, lr=lr), SoftmaxCrossEntropy()
    watch.wrap(loss, "forward", "loss forward")
    watch.wrap(loss, "backward", "loss backward")
    watch.wrap(optimizer, "step", "optimiser step")
    started = {}
    for k, module in enumerate(twin):
        label = f"{k} forward"  # matched to our layer k's forward
        module.register_forward_pre_hook(
            lambda *_, label=label: started.__setitem__(label, time.perf_counter())
        )
        module.register_forward_hook(
            lambda *_, label=label: theirs.__setitem__(
                label, theirs.get(label, 0.0) + time.perf_counter() - started[label]
            )
        )
    torch_optimizer = torch.optim.Adam(twin.parameters(), lr=lr)
    tx, ty = torch.tensor(x), torch.tensor(y)

    def both_epochs(seed):
        order = np.random.default_rng(seed).permutation(len(x))
        for start in range(0, len(x), batch_size):
            begin = time.perf_counter()
            batch = order[start : start + batch_size]
            xb, yb = x[batch], y[batch]
            watch.seconds["batch indexing"] = (
                watch.seconds.get("batch indexing", 0.0) + time.perf_counter() - begin
            )
            loss.forward(net.forward(xb), yb)
            net.backward(loss.backward())
            optimizer.step()
        torch_order = torch.from_numpy(order)
        for start in range(0, len(x), batch_size):
            batch = torch_order[start : start + batch_size]
            torch_optimizer.zero_grad()
            scores = twin(tx[batch])
            begin = time.perf_counter()
            value = torch.nn.functional.cross_entropy(scores, ty[batch])
            theirs["loss forward"] = theirs.get("loss forward", 0.0) + time.perf_counter() - begin
            begin = time.perf_counter()
            value.backward()
            theirs["whole backward"] = theirs.get("whole backward", 0.0) + time.perf_counter() - begin
            begin = time.perf_counter()
            torch_optimizer.step()
            theirs["optimiser step"] = theirs.get("optimiser step", 0.0) + time.perf_counter() - begin

    both_epochs(0)  # warm-up
    watch.seconds.clear()
    theirs.clear()
    for seed in range(1, rounds + 1):
        both_epochs(seed)
    return (
        {label: 1000 * value / rounds for label, value in watch.seconds.items()},
        {label: 1000 * value / rounds for label, value in theirs.items()},
    )


def profile_table(torch, rounds, thread_count, capstone):
    x, y = capstone
    print(
        f"\n(g) where an epoch's time goes: the capstone network, batch 32 -- {thread_count} thread(s), "
        f"load {load_text()}"
    )
    print(
        f"    ms per epoch, mean of {rounds} epochs, timed around each call (a few us per call of "
        "timer overhead); PyTorch's backward runs as one autograd call\n"
    )
    ours, theirs = epoch_profile(torch, capstone_cnn(), x, y, 32, rounds)
    print("| piece | NumPy (course layers) | PyTorch |")
    print("|---|---:|---:|")
    backward_total = 0.0
    for label, value in ours.items():
        if label.endswith("backward") and label != "loss backward":
            backward_total += value
        words = label.split()
        twin_label = f"{words[0]} forward" if words[0].isdigit() and words[-1] == "forward" else label
        print(f"| {label} | {value:.1f} | {f'{theirs[twin_label]:.1f}' if twin_label in theirs else ''} |")
    print(f"| all layers' backward | {backward_total:.1f} | {theirs.get('whole backward', 0.0):.1f} |")
    print(f"| sum of the pieces | {sum(ours.values()):.1f} | {sum(theirs.values()):.1f} |")


def numpy_step_memory(x, y, batch_size=64):
    """tracemalloc peak of one steady-state training step of the capstone net, and its conv workspaces."""
    net = capstone_cnn()
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
        if isinstance(layer, Conv2D)
        for buffer in layer._workspace.buffers().values()
    )
    return peak, held


RSS_PROBE = """
import sys, numpy as np
sys.path.insert(0, {bench!r})
import run
x, y = run.capstone_images()
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
    net = run.capstone_cnn()
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


def blas_kernels():
    """[(library and version, kernel, threads)] of every BLAS threadpoolctl finds loaded."""
    from threadpoolctl import threadpool_info

    return [
        (
            f"{info.get('internal_api')} {info.get('version')}",
            info.get("architecture", "?"),
            info.get("num_threads"),
        )
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]


def machine_line(torch):
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = [f"{library} ({kernel} kernels, {count} threads)" for library, kernel, count in blas_kernels()]
    settings = {name: value for name, value in os.environ.items() if name.startswith("OPENBLAS_")}
    chosen = (
        "OpenBLAS environment: " + ", ".join(f"{name}={value}" for name, value in sorted(settings.items()))
        if settings
        else "no OPENBLAS_* variables set: OpenBLAS chose its kernel for this CPU"
    )
    return (
        f"CPU: {cpu}, {os.cpu_count()} logical CPUs; NumPy BLAS: {', '.join(blas) or 'unknown'}; "
        f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"python {platform.python_version()}\n{chosen}"
    )


def conv_table(torch, rounds, loop_rounds, rng, thread_count):
    print(
        f"\n(a) conv layer forward + backward (dx, dW, db), float32, 3x3, padding 1 -- {thread_count} thread(s), "
        f"load {load_text()}"
    )
    print(f"    ms per call, min / median / max of {rounds} rounds; ratios of medians (of mins)")
    print(
        "    layer path: `_fast` + a reused workspace, as `layers.Conv2D` runs it (backward reuses the columns; "
        "x and dout stored image index last, as in a network)"
    )
    print(
        "    functional: `conv.conv2d` + `conv.conv2d_backward` (no workspace; the backward rebuilds the columns)"
    )
    if loop_rounds:
        print(
            f"    loops: `conv2d_loops` + `conv2d_backward_loops` on N={LOOP_BATCH}, scaled to N=64, "
            f"{loop_rounds} rounds interleaved with the layer path"
        )
    print(
        "\n| case | NumPy layer path | PyTorch | layer / PyTorch | NumPy functional | functional / PyTorch "
        "| its 3 GEMMs alone | GEMMs / PyTorch | loops (ms, median) | loops / layer |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    summary = []
    for label, n, c, f, size in CONV_CASES:
        main, with_loops = conv_contenders(torch, n, c, f, size, rng)
        samples = interleaved(main, rounds)
        loops, loop_samples = "(not run) | ", None
        if loop_rounds:
            loop_samples = interleaved(with_loops, loop_rounds)
            loops = f"{1000 * statistics.median(loop_samples['loops']):,.0f} | {ratio(loop_samples, 'loops', 'layer', 0)}"
        summary.append((label, samples, loop_samples))
        print(
            f"| {label} | {spread(samples['layer'])} | {spread(samples['torch'])} | "
            f"{ratio(samples, 'layer', 'torch')} | {spread(samples['functional'])} | "
            f"{ratio(samples, 'functional', 'torch')} | {spread(samples['gemm'])} | {ratio(samples, 'gemm', 'torch')} "
            f"| {loops} |",
            flush=True,
        )
    return summary


def pool_table(torch, rounds, rng, thread_count):
    print(
        f"\n(b) 2x2 max pooling forward + backward, float32 -- {thread_count} thread(s), load {load_text()}"
    )
    print(f"    ms per call, min / median / max of {rounds} rounds; ratios of medians (of mins)\n")
    print(
        "| input | NumPy layer path (`_fast`) | PyTorch | layer / PyTorch | NumPy functional (`pooling.py`) "
        "| functional / PyTorch |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for label, shape in POOL_CASES:
        samples = interleaved(pool_contenders(torch, shape, rng), rounds)
        print(
            f"| {label} | {spread(samples['layer'])} | {spread(samples['torch'])} | "
            f"{ratio(samples, 'layer', 'torch')} | {spread(samples['functional'])} | "
            f"{ratio(samples, 'functional', 'torch')} |",
            flush=True,
        )


def epoch_networks(capstone):
    x28, y28 = capstone
    digits = load_digits()
    net28, net8 = capstone_cnn(), small_cnn(seed=0)
    return [
        (
            f"capstone 28x28, batch 32 ({net28.num_params:,} parameters), {len(x28):,} MNIST training digits",
            net28,
            x28,
            y28,
            32,
        ),
        (
            f"capstone 28x28, batch 64 ({net28.num_params:,} parameters), {len(x28):,} MNIST training digits",
            net28,
            x28,
            y28,
            64,
        ),
        (
            f"small_cnn() 8x8, batch 64 ({net8.num_params:,} parameters), {len(digits.x_train):,} 8x8 digits",
            net8,
            digits.x_train,
            digits.y_train,
            64,
        ),
    ]


def epoch_table(torch, rounds, thread_count, capstone):
    print(
        f"\n(c) one training epoch, Adam (lr 3e-3), softmax cross-entropy -- {thread_count} thread(s), "
        f"load {load_text()}"
    )
    print(
        f"    ms per epoch, min / median / max of {rounds} rounds; ratios of medians (of mins); the same "
        "initial weights (largest first-batch score gap printed) and batches for both\n"
    )
    print("| network | NumPy (course layers) | PyTorch | NumPy / PyTorch | first-batch gap |")
    print("|---|---:|---:|---:|---:|")
    summary = []
    for label, model, x, y, batch_size in epoch_networks(capstone):
        contenders, gap = epoch_contenders(torch, model, x, y, batch_size, rounds=rounds)
        samples = interleaved(contenders, rounds)
        summary.append((label, samples))
        print(
            f"| {label} | {spread(samples['numpy'])} | {spread(samples['torch'])} | "
            f"{ratio(samples, 'numpy', 'torch')} | {gap:.1e} |",
            flush=True,
        )
    return summary


def summary_tables(conv_rows, epoch_rows):
    """The project README's two speed tables (medians), from the rows measured above."""

    def ms(values):
        mid = 1000 * statistics.median(values)
        return f"{mid:,.0f} ms" if mid >= 1000 else f"{mid:.1f} ms" if mid >= 100 else f"{mid:.2f} ms"

    print("\n(f) summary for the project README: medians of the tables above, ratios of medians")
    for thread_count, rows in conv_rows.items():
        print(
            f"\n| conv layer, forward + backward (3x3, padding 1), {thread_count} thread(s) "
            "| NumPy | loops | PyTorch | NumPy / PyTorch | loops / NumPy |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        for label, samples, loop_samples in rows:
            layer, theirs = statistics.median(samples["layer"]), statistics.median(samples["torch"])
            if loop_samples is None:
                loops = "(1-thread table) | "
            else:
                loops = (
                    f"{ms(loop_samples['loops'])} | "
                    f"{statistics.median(loop_samples['loops']) / statistics.median(loop_samples['layer']):,.0f}x"
                )
            print(
                f"| {label.split(': ', 1)[1]} | {ms(samples['layer'])} | {loops.split(' | ')[0]} | {ms(samples['torch'])} "
                f"| {layer / theirs:.2f}x | {loops.split(' | ')[1]} |"
            )
    for thread_count, rows in epoch_rows.items():
        print(f"\n| one training epoch, Adam, {thread_count} thread(s) | NumPy | PyTorch | NumPy / PyTorch |")
        print("|---|---:|---:|---:|")
        for label, samples in rows:
            mid = statistics.median(samples["numpy"]) / statistics.median(samples["torch"])
            print(f"| {label} | {ms(samples['numpy'])} | {ms(samples['torch'])} | {mid:.2f}x |")


def memory_table(capstone):
    x, y = capstone
    peak, held = numpy_step_memory(x, y)
    print("\n(d) memory of one training step of the capstone network, batch 64\n")
    print("| measure | NumPy (course layers) | PyTorch |")
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


def import_times(rounds):
    """Median wall time of a fresh ``python -c 'import ...'``, interleaved, for each import line."""
    lines = {
        "numpy": "import numpy",
        "cnn_helpers": "import cnn_helpers",
        "cnn_helpers + conv, pooling, layers, training": "import cnn_helpers.conv, cnn_helpers.pooling, "
        "cnn_helpers.layers, cnn_helpers.training",
    }
    samples = {label: [] for label in lines}
    for _ in range(rounds):
        for label, code in lines.items():
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            samples[label].append(time.perf_counter() - started)
    return {label: float(np.median(values)) for label, values in samples.items()}


def startup_table(rounds):
    print("\n(e) start-up: a fresh interpreter importing the package vs importing NumPy alone\n")
    imports = import_times(rounds)
    print("| import | seconds (median) | / numpy |")
    print("|---|---:|---:|")
    for label, seconds in imports.items():
        print(f"| `{label}` | {seconds:.3f} | {seconds / imports['numpy']:.2f}x |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=15, help="interleaved rounds per comparison (default 15)"
    )
    parser.add_argument(
        "--epoch-rounds",
        type=int,
        default=None,
        help="rounds for the epochs (default rounds // 2, at least 5)",
    )
    parser.add_argument(
        "--loop-rounds",
        type=int,
        default=3,
        help="rounds for the loop versions, in the first thread setting only; 0 skips them (default 3)",
    )
    parser.add_argument(
        "--threads", default=f"1,{THREADS}", help=f"thread counts to measure, in order (default 1,{THREADS})"
    )
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"sections to run, of {','.join(SECTIONS)}"
    )
    parser.add_argument("--quick", action="store_true", help="3 rounds: a smoke test, not a measurement")
    parser.add_argument("--kernel", action="store_true", help="print the machine line (BLAS kernel) and stop")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    epoch_rounds = 3 if args.quick else (args.epoch_rounds or max(5, rounds // 2))
    loop_rounds = min(args.loop_rounds, 1) if args.quick else args.loop_rounds
    sections = set(args.only.split(","))
    unknown = sections - set(SECTIONS)
    if unknown:
        parser.error(f"--only takes sections of {SECTIONS}, got {sorted(unknown)}")
    thread_counts = [int(count) for count in args.threads.split(",")]

    import torch

    torch.set_num_threads(THREADS)
    print(machine_line(torch))
    if args.kernel:
        return
    print(
        f"load average (1 / 5 / 15 min) at start: {load_text()}; {rounds} interleaved rounds "
        f"({epoch_rounds} for epochs, {loop_rounds} for the loop versions)"
    )
    capstone = capstone_images()
    print(f"capstone network: {describe_network(capstone_cnn())}")
    conv_rows, epoch_rows = {}, {}
    for k, thread_count in enumerate(thread_counts):
        rng = np.random.default_rng(0)
        with threads(torch, thread_count):
            if "conv" in sections:
                conv_rows[thread_count] = conv_table(
                    torch, rounds, loop_rounds if k == 0 else 0, rng, thread_count
                )
            if "pool" in sections:
                pool_table(torch, rounds, rng, thread_count)
            if "epoch" in sections:
                epoch_rows[thread_count] = epoch_table(torch, epoch_rounds, thread_count, capstone)
            if "profile" in sections and k == 0:
                profile_table(torch, epoch_rounds, thread_count, capstone)
    if "memory" in sections:
        memory_table(capstone)
    if "startup" in sections:
        startup_table(max(rounds, 5))
    summary_tables(conv_rows, epoch_rows)
    print(f"\nload average (1 / 5 / 15 min) at the end: {load_text()}")
    print("Targets: conv fwd+bwd <= 1.5x PyTorch and >= 100x faster than loops; epochs <= 1.0x PyTorch.")


if __name__ == "__main__":
    main()
