"""Every lesson: the solution edition passes nbval, grades full marks, and the learner edition grades zero."""

import subprocess
import sys

import pytest

from cnn_helpers.course import NOTEBOOKS_DIR, SOLUTIONS_DIR, kernel_environment
from cnn_helpers.course.grade import grade_all

pytestmark = pytest.mark.notebooks
SOURCES = sorted(SOLUTIONS_DIR.glob("[0-9][0-9]-*.ipynb"))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_solution_edition_passes_nbval(source, tmp_path):
    (tmp_path / "none.ini").write_text("[pytest]\n")  # keep the project's addopts out of this run
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "--nbval-cell-timeout=600",
         "-p", "no:cacheprovider", "-q", "--color=no", "-c", str(tmp_path / "none.ini"),
         "--rootdir", str(NOTEBOOKS_DIR), str(source)],
        cwd=NOTEBOOKS_DIR, env=kernel_environment(), capture_output=True, text=True, timeout=1800,
    )
    assert completed.returncode == 0, completed.stdout[-6000:]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_solution_gets_full_marks_and_learner_edition_gets_zero(source):
    learner = NOTEBOOKS_DIR / source.name
    (_, learner_result), (_, solution_result) = grade_all([learner, source], cell_timeout=600, jobs=2)
    assert not learner_result.error and not solution_result.error, (learner_result.error, solution_result.error)
    assert solution_result.points == solution_result.max_points > 0, [
        (e.id, e.message) for e in solution_result.exercises if not e.passed
    ]
    assert learner_result.points == 0, [(e.id, e.message) for e in learner_result.exercises if e.passed]
    assert all("not done yet" in e.message for e in learner_result.exercises), [e.message for e in learner_result.exercises]
