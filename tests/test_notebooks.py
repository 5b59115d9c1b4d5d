"""Every lesson, run once in each edition: the solution grades full marks with every stored output
reproduced, and the learner edition grades zero with every other cell still running.

Grading a notebook runs the pristine solution edition under nbval (see
:mod:`cnn_helpers.course.grade`), so grading the solution edition is its nbval run: check cells
are graded, every other cell that fails or prints differently lands in ``ungraded_failures``.
The only cells grading does not compare are the exercise cells (a learner may print anything
there); the solution editions store no output in them, which the cheap test below holds.
"""

import pytest

from cnn_helpers.course import NOTEBOOKS_DIR, SOLUTIONS_DIR, editions
from cnn_helpers.course.grade import grade_all

SOURCES = sorted(SOLUTIONS_DIR.glob("[0-9][0-9]-*.ipynb"))


def test_the_lessons_are_numbered_from_01_without_gaps():
    """Guards the parametrised tests below against an empty or gappy list of sources."""
    assert len(SOURCES) >= 10
    assert [p.name[:2] for p in SOURCES] == [f"{n:02d}" for n in range(1, len(SOURCES) + 1)]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_solution_exercise_cells_store_no_output(source):
    """Grading ignores exercise cells' outputs, so nothing stored there goes unchecked."""
    stored = [
        (index, role[1])
        for index, cell in enumerate(editions.read(source).cells)
        if (role := editions.cell_role(cell)) and role[0] == "exercise" and cell.get("outputs")
    ]
    assert not stored, f"exercise cells with stored outputs (cell index, exercise): {stored}"


@pytest.mark.notebooks
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_solution_gets_full_marks_and_learner_edition_gets_zero(source):
    learner = NOTEBOOKS_DIR / source.name
    (_, learner_result), (_, solution_result) = grade_all([learner, source], cell_timeout=600, jobs=2)
    assert not learner_result.error and not solution_result.error, (
        learner_result.error,
        solution_result.error,
    )
    # The solution edition reproduces every stored output, checks and demonstration cells alike.
    assert solution_result.ungraded_failures == []
    assert solution_result.points == solution_result.max_points > 0, [
        (e.id, e.message) for e in solution_result.exercises if not e.passed
    ]
    # On the stubs every check fails with "not done yet", and every other cell runs and prints
    # as in the solution: demonstration cells never call the learner's functions.
    assert learner_result.ungraded_failures == []
    assert learner_result.points == 0, [(e.id, e.message) for e in learner_result.exercises if e.passed]
    assert all("not done yet" in e.message for e in learner_result.exercises), [
        e.message for e in learner_result.exercises
    ]
