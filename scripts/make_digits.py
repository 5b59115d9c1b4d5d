"""Write ``data/digits.npz``: the UCI handwritten digits as scikit-learn distributes them.

Run from the project root (scikit-learn must be installed)::

    python scripts/make_digits.py            # writes data/digits.npz
    python scripts/make_digits.py --out x.npz

The file is an ordinary ``.npz`` (``numpy.load`` reads it) holding

- ``images``: uint8, shape (1797, 8, 8), values 0..16
- ``labels``: uint8, shape (1797,), values 0..9

``numpy.savez_compressed`` stamps the current time into the zip, so the same data would give
different bytes on every run. This script writes the zip itself with a fixed date and fixed file
attributes, so running it twice gives identical bytes and the SHA-256 in ``data/README.md`` and
``cnn_helpers.data.DIGITS_SHA256`` stays valid.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "data" / "digits.npz"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip file can store


def read_digits_from_sklearn():
    """Return (images uint8 (1797, 8, 8), labels uint8 (1797,)) from scikit-learn's copy."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = bunch.images.astype(np.uint8)
    labels = bunch.target.astype(np.uint8)
    # the casts must be lossless: pixels are whole numbers 0..16, labels 0..9
    assert np.array_equal(images, bunch.images), "pixel values are not whole numbers"
    assert np.array_equal(labels, bunch.target), "labels do not fit in uint8"
    assert images.shape == (1797, 8, 8) and images.max() == 16 and labels.max() == 9
    return images, labels


def npy_bytes(array):
    """The bytes of ``array`` in NumPy's .npy format."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def write_reproducible_npz(path, arrays):
    """Write a compressed .npz whose bytes depend only on ``arrays`` (a name -> array dict)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_DATE)
            info.create_system = 3  # "Unix", whatever system writes the file
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            archive.writestr(info, npy_bytes(array), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="where to write (default: data/digits.npz)"
    )
    args = parser.parse_args(argv)
    images, labels = read_digits_from_sklearn()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_reproducible_npz(args.out, {"images": images, "labels": labels})
    content = args.out.read_bytes()
    print(f"wrote {args.out} ({len(content):,} bytes)")
    print(f"sha256 {hashlib.sha256(content).hexdigest()}")


if __name__ == "__main__":
    main()
