"""The learner's working copy: a git-ignored folder that course updates never overwrite.

``sync_workspace`` copies each learner edition that is missing from the working folder and leaves
every existing file alone, so pulling a new version of the course adds new lessons without
touching a learner's answers.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import COURSE_ROOT, NOTEBOOKS_DIR

DEFAULT_WORKSPACE = COURSE_ROOT / "work"


class WorkspaceError(ValueError):
    """The working folder cannot be used (it is a file, a link to nowhere, ...)."""


def _write_new(target: Path, data: bytes) -> bool:
    """Create ``target`` with ``data``; False (nothing written) if anything, even a link, is there."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(target, flags, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return True


def sync_workspace(workspace: Path = DEFAULT_WORKSPACE, learner_dir: Path = NOTEBOOKS_DIR) -> dict:
    """Copy missing learner editions into ``workspace``; return what was added, kept and skipped.

    Never writes through a symbolic link: a link in the working folder (even one pointing
    nowhere) is left alone and reported as skipped.
    """
    workspace = Path(workspace)
    if workspace.is_symlink() and not workspace.exists():
        raise WorkspaceError(
            f"the working folder {workspace} is a symbolic link to nothing; remove it or pass another folder"
        )
    if workspace.exists() and not workspace.is_dir():
        raise WorkspaceError(
            f"the working folder {workspace} exists but is not a folder; rename or remove that file, or pass another folder"
        )
    workspace.mkdir(parents=True, exist_ok=True)
    added, kept, skipped = [], [], []
    for notebook in sorted(Path(learner_dir).glob("[0-9][0-9]-*.ipynb")):
        target = workspace / notebook.name
        if target.is_symlink():
            skipped.append(notebook.name)
        elif target.exists():
            kept.append(notebook.name)
        elif _write_new(target, notebook.read_bytes()):
            added.append(notebook.name)
        else:
            kept.append(notebook.name)
    readme = workspace / "README.md"
    if not readme.exists() and not readme.is_symlink():
        _write_new(
            readme,
            (
                b"# Your working copy\n\n"
                b"These notebooks are yours: course updates add new lessons here but never overwrite a file.\n"
                b"To start a lesson afresh, delete or rename its file and run the set-up command again.\n"
                b"Grade your work with `python course.py grade work/`.\n"
            ),
        )
    return {"added": added, "kept": kept, "skipped": skipped, "workspace": str(workspace)}
