"""The learner's working copy: a git-ignored folder that course updates never overwrite.

``sync_workspace`` copies each learner edition that is missing from the working folder and leaves
every existing file alone, so pulling a new version of the course adds new lessons without
touching a learner's answers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from . import COURSE_ROOT, NOTEBOOKS_DIR

DEFAULT_WORKSPACE = COURSE_ROOT / "work"


def sync_workspace(workspace: Path = DEFAULT_WORKSPACE, learner_dir: Path = NOTEBOOKS_DIR) -> dict:
    """Copy missing learner editions into ``workspace``; return what was added and what was kept."""
    workspace = Path(workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    added, kept = [], []
    for notebook in sorted(Path(learner_dir).glob("[0-9][0-9]-*.ipynb")):
        target = workspace / notebook.name
        if target.exists():
            kept.append(notebook.name)
        else:
            shutil.copyfile(notebook, target)
            added.append(notebook.name)
    readme = workspace / "README.md"
    if not readme.exists():
        readme.write_text(
            "# Your working copy\n\n"
            "These notebooks are yours: course updates add new lessons here but never overwrite a file.\n"
            "To start a lesson afresh, delete or rename its file and run the set-up command again.\n"
            "Grade your work with `python course.py grade work/`.\n",
            encoding="utf-8",
        )
    return {"added": added, "kept": kept, "workspace": str(workspace)}
