"""Speed of the course's NumPy CNN against PyTorch on the CPU, measured in one run.

    python benchmarks/run.py            # about a minute on a quiet 2-core machine
    python benchmarks/run.py --quick    # fewer rounds, for a smoke test

Two comparisons, each timed in interleaved rounds (A, B, C, A, B, C, ...) inside one process so
that machine noise hits every contender alike; the tables report medians and their ratios.

(a) One convolution layer, forward + backward (dx, dweight, dbias), float32, 3x3, padding 1:
    N=64, 1 -> 8 channels, 28x28 and N=64, 8 -> 16 channels, 14x14. Contenders:
    ``conv2d`` + ``conv2d_backward`` (reusing the forward's columns), the loop versions
    ``conv2d_loops`` + ``conv2d_backward_loops`` (on a smaller batch, scaled up linearly to
    N=64, because they take seconds), and ``torch.nn.functional.conv2d`` with autograd.
(b) One training epoch of ``small_cnn`` on the shipped digits (Adam, batch 64), against the
    same network in PyTorch, starting from the same weights and visiting the same batches.

Targets: conv within 2x of torch and >= 100x faster than the loops; the epoch within 2x of torch.
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

import numpy as np

from cnn_helpers import conv
from cnn_helpers.data import load_digits
from cnn_helpers.layers import SoftmaxCrossEntropy
from cnn_helpers.model import small_cnn
from cnn_helpers.optim import Adam

THREADS = 2
CONV_CASES = [  # (label, N, C, F, H=W)
    ("N=64, 1->8 ch, 28x28", 64, 1, 8, 28),
    ("N=64, 8->16 ch, 14x14", 64, 8, 16, 14),
]
LOOP_BATCH = 2  # the loop versions run on this many images, then are scaled to N


def timed(function, repeat):
    """Seconds per call, averaged over ``repeat`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(repeat):
        function()
    return (time.perf_counter() - start) / repeat


def interleaved(contenders, rounds):
    """Median seconds per call for each contender, timed in alternating rounds.

    contenders : dict of name -> (function, calls per timing, scale factor)
    """
    samples = {name: [] for name in contenders}
    for function, _, _ in contenders.values():  # warm-up: caches, allocator, torch's first call
        function()
    for _ in range(rounds):
        for name, (function, repeat, scale) in contenders.items():
            samples[name].append(timed(function, repeat) * scale)
    return {name: statistics.median(values) for name, values in samples.items()}


def one_blas_thread(function):
    """``function`` run with OpenBLAS limited to one thread, or None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None

    def limited():
        with threadpool_limits(limits=1, user_api="blas"):
            function()

    return limited


def conv_contenders(torch, n, c, f, size, rng):
    x = rng.standard_normal((n, c, size, size)).astype(np.float32)
    w = (rng.standard_normal((f, c, 3, 3)) * np.sqrt(2 / (9 * c))).astype(np.float32)
    b = np.zeros(f, dtype=np.float32)
    dout = rng.standard_normal((n, f, size, size)).astype(np.float32)

    def numpy_vectorised():
        _, cols = conv.conv2d_with_cols(x, w, b, 1, 1)
        conv.conv2d_backward(dout, x, w, 1, 1, cols=cols)

    small_x, small_dout = x[:LOOP_BATCH], dout[:LOOP_BATCH]

    def numpy_loops():
        conv.conv2d_loops(small_x, w, b, 1, 1)
        conv.conv2d_backward_loops(small_dout, small_x, w, 1, 1)

    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    tdout = torch.tensor(dout)

    def pytorch():
        tx.grad = tw.grad = tb.grad = None
        torch.nn.functional.conv2d(tx, tw, tb, padding=1).backward(tdout)

    contenders = {
        "numpy": (numpy_vectorised, 10, 1.0),
        "loops": (numpy_loops, 1, n / LOOP_BATCH),
        "torch": (pytorch, 10, 1.0),
    }
    if one_blas_thread(numpy_vectorised) is not None:
        contenders["numpy1"] = (one_blas_thread(numpy_vectorised), 10, 1.0)
    return contenders


def torch_twin(torch, model):
    """The same network in PyTorch, with our model's initial weights copied in."""
    nn = torch.nn
    c1, c2 = model.layers[0].out_channels, model.layers[3].out_channels
    twin = nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * 4, 10),
    )
    with torch.no_grad():
        for ours, theirs in [(0, 0), (3, 3), (7, 7)]:
            weight = model.layers[ours].params["W"]
            twin[theirs].weight.copy_(torch.tensor(weight.T if weight.ndim == 2 else weight))  # Linear is (out, in)
            twin[theirs].bias.copy_(torch.tensor(model.layers[ours].params["b"]))
    return twin


def epoch_contenders(torch, batch_size=64, lr=3e-3):
    digits = load_digits()
    x, y = digits.x_train, digits.y_train
    model = small_cnn(seed=0)
    loss = SoftmaxCrossEntropy()
    optimizer = Adam(model, lr=lr)
    twin = torch_twin(torch, model)
    torch_optimizer = torch.optim.Adam(twin.parameters(), lr=lr)
    tx, ty = torch.tensor(x), torch.tensor(y)
    orders = np.random.default_rng(0)

    def numpy_epoch():
        order = orders.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            loss.forward(model.forward(x[batch]), y[batch])
            model.backward(loss.backward())
            optimizer.step()

    def torch_epoch():
        order = torch.from_numpy(orders.permutation(len(x)))
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            torch_optimizer.zero_grad()
            torch.nn.functional.cross_entropy(twin(tx[batch]), ty[batch]).backward()
            torch_optimizer.step()

    contenders = {"numpy": (numpy_epoch, 1, 1.0), "torch": (torch_epoch, 1, 1.0)}
    # How much of NumPy's time is OpenBLAS threading on small matrices?
    if one_blas_thread(numpy_epoch) is not None:
        contenders["numpy1"] = (one_blas_thread(numpy_epoch), 1, 1.0)
    return contenders, model.num_params


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per comparison")
    parser.add_argument("--quick", action="store_true", help="3 rounds: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else args.rounds

    import torch  # noqa: PLC0415 - only this script needs it

    torch.set_num_threads(THREADS)
    rng = np.random.default_rng(0)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"numpy {np.__version__}, torch {torch.__version__}, python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, load average {load:.1f}, "
          f"{rounds} interleaved rounds, medians\n")

    print("(a) conv layer forward + backward (dx, dW, db), float32, 3x3, padding 1")
    print(f"    loops timed on N={LOOP_BATCH} and scaled linearly to N=64\n")
    print("| case | NumPy vectorised (ms) | NumPy loops (ms) | PyTorch (ms) | NumPy / PyTorch | loops / NumPy "
          "| NumPy, 1 BLAS thread (ms) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, n, c, f, size in CONV_CASES:
        times = interleaved(conv_contenders(torch, n, c, f, size, rng), rounds)
        ms = {name: 1000 * t for name, t in times.items()}
        single = f"{ms['numpy1']:.2f}" if "numpy1" in ms else "n/a"
        print(f"| {label} | {ms['numpy']:.2f} | {ms['loops']:,.0f} | {ms['torch']:.2f} | "
              f"{ms['numpy'] / ms['torch']:.2f}x | {ms['loops'] / ms['numpy']:,.0f}x | {single} |", flush=True)

    contenders, num_params = epoch_contenders(torch)
    print(f"\n(b) one training epoch of small_cnn ({num_params:,} parameters) on the digits "
          "(1,347 images), Adam, batch 64\n")
    times = interleaved(contenders, rounds)
    print("| contender | epoch (ms) | / PyTorch |")
    print("|---|---:|---:|")
    for name, seconds in times.items():
        label = {"numpy": "NumPy (cnn_helpers)", "torch": "PyTorch", "numpy1": "NumPy, 1 BLAS thread"}[name]
        print(f"| {label} | {1000 * seconds:.1f} | {seconds / times['torch']:.2f}x |")
    print("\n(c) start-up: a fresh interpreter importing the package vs importing NumPy alone\n")
    imports = import_times(rounds)
    print("| import | seconds | / numpy |")
    print("|---|---:|---:|")
    for label, seconds in imports.items():
        print(f"| `{label}` | {seconds:.3f} | {seconds / imports['numpy']:.2f}x |")
    print("\nTargets: conv within 2x of PyTorch and >= 100x faster than loops; epoch within 2x of PyTorch; "
          "`import cnn_helpers` under 0.5 s.")


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
