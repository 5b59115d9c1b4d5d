"""Where the course folder is: ``cnn_helpers`` runs from a checkout of the course, never from a wheel.

The package reads the course's data from ``data/`` and its lessons from ``notebooks/``, the folders
beside ``cnn_helpers/`` in the course folder. A wheel (or any copy installed into site-packages)
holds the package alone, so :func:`course_root` stops there at once, with a message that says
where the course must run from, instead of a ``FileNotFoundError`` deep inside a data loader.
``python3 course.py start`` installs the package editable from the course folder, which is what
keeps it working.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REQUIRED_FOLDERS = ("data", "notebooks")


class CourseFolderError(RuntimeError):
    """``cnn_helpers`` was imported from outside the course folder (e.g. installed from a wheel)."""


def find_course_root(package_dir: Path | str) -> Path:
    """The folder that holds ``package_dir`` together with ``data/`` and ``notebooks/``.

    Parameters
    ----------
    package_dir : Path or str
        The folder of the ``cnn_helpers`` package.

    Returns
    -------
    Path
        Its parent folder, the course folder.

    Raises
    ------
    CourseFolderError
        When ``data/`` or ``notebooks/`` is missing beside the package, as after installing a wheel.
    """
    package_dir = Path(package_dir)
    root = package_dir.parent
    missing = [f"{name}/" for name in REQUIRED_FOLDERS if not (root / name).is_dir()]
    if missing:
        raise CourseFolderError(
            f"cnn_helpers runs only from the course folder, where cnn_helpers/, data/ and notebooks/ "
            f"sit side by side; it was imported from {package_dir}, and {root} has no "
            f"{' and no '.join(missing)}. Installed from a wheel or copied into site-packages, the "
            f"package has no data and no lessons: in the course folder, run `python3 course.py start` "
            f"(or `pip install -e .` there)."
        )
    return root


@cache
def course_root() -> Path:
    """The course folder this copy of ``cnn_helpers`` belongs to (checked once, then remembered).

    Raises
    ------
    CourseFolderError
        When the package is not in a course folder (see :func:`find_course_root`).

    Examples
    --------
    >>> sorted(p.name for p in course_root().iterdir() if p.name in ("cnn_helpers", "data", "notebooks"))
    ['cnn_helpers', 'data', 'notebooks']
    """
    return find_course_root(PACKAGE_DIR)
