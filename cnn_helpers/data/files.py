"""Where the course's data lives, and the SHA-256 checks every load makes.

The data folder is the course folder's ``data/`` (:func:`cnn_helpers._paths.course_root`); set the
environment variable ``CNN_COURSE_DATA`` to use another folder.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from .._paths import course_root

DATA_DIR = Path(os.environ.get("CNN_COURSE_DATA") or course_root() / "data")


class ChecksumError(ValueError):
    """A data file's SHA-256 differs from the one the course expects."""


def data_dir() -> Path:
    """The folder holding the course's data: ``$CNN_COURSE_DATA`` if set, else ``DATA_DIR``."""
    return Path(os.environ.get("CNN_COURSE_DATA") or DATA_DIR)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes, as 64 hexadecimal digits.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "empty"
    ...     _ = path.write_bytes(b"")
    ...     file_sha256(path)[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def verify_sha256(path: str | os.PathLike[str], expected: str, remedy: str) -> None:
    """Raise ``ChecksumError`` unless the file at ``path`` has SHA-256 ``expected``.

    ``remedy`` is a sentence telling the reader how to get a good copy.
    """
    actual = file_sha256(path)
    if actual != expected:
        raise ChecksumError(
            f"{path} is damaged or is not the file the course expects: its SHA-256 is {actual}, "
            f"expected {expected}. {remedy}"
        )


def load_checked_npz(file_name: str, sha256: str, what: str, remedy: str) -> dict[str, np.ndarray]:
    """The arrays of a ``.npz`` file in the data folder, after checking its SHA-256.

    Parameters
    ----------
    file_name : str
        File name inside ``data_dir()``.
    sha256 : str
        The SHA-256 the file must have.
    what : str
        What the file holds, for the error message, e.g. "the handwritten digits".
    remedy : str
        How to get a good copy, for the error messages.

    Returns
    -------
    dict of str to ndarray

    Raises
    ------
    FileNotFoundError
        If the file is not in the data folder.
    ChecksumError
        If its SHA-256 is not ``sha256``.
    """
    path = data_dir() / file_name
    if not path.is_file():
        raise FileNotFoundError(f"{what} file {path} is missing. {remedy}")
    verify_sha256(path, sha256, remedy)
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}
