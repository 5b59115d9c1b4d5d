"""The grader, end to end: full marks, zero, tampering, time limits, JSON, CSV, and the working copy.

These run real kernels under pytest + nbval, so they take a little while (lesson 01 grades in
about 15 s; the whole class folder below is graded in one parallel run).
"""

import copy
import csv
import hashlib
import json
import subprocess
import sys
import time

import nbformat
import pytest

from cnn_helpers.course import NOTEBOOKS_DIR, SOLUTIONS_DIR, editions
from cnn_helpers.course.workspace import sync_workspace

pytestmark = pytest.mark.notebooks
LESSON_01 = "01-images-as-data.ipynb"
LESSON_01_POINTS = sum(e.points for e in editions.exercises(editions.read(SOLUTIONS_DIR / LESSON_01)))


def _cells_by_tag(notebook):
    return {tag: cell for cell in notebook.cells for tag in cell.metadata.get("tags", [])}


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.ipynb"))}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """A class folder with four learners, graded once through the command line."""
    root = tmp_path_factory.mktemp("class")
    solution = editions.read(SOLUTIONS_DIR / LESSON_01)
    learner = editions.read(NOTEBOOKS_DIR / LESSON_01)

    def save(name, notebook):
        (root / name).mkdir()
        editions.write(notebook, root / name / LESSON_01)

    save("alice", solution)  # everything right
    save("bob", learner)  # untouched learner edition

    carol = copy.deepcopy(learner)  # wrong answer hidden behind tampering, a deleted check, a hang
    cells = _cells_by_tag(carol)
    cells["exercise-1.1"].source = "def flatten(image):\n    return np.asarray(image).T.reshape(-1)"
    cells["check-1.1"].source = 'print("Exercise 1.1 passed: row-major flattening is right on 32 images")'
    cells["check-1.1"].outputs = [nbformat.v4.new_output("stream", text="Exercise 1.1 passed: anything\n")]
    carol.cells.remove(cells["check-1.2"])
    cells["exercise-1.4"].source = "def dense_weight_count(n_inputs, n_units):\n    while True:\n        pass"
    save("carol", carol)

    dave = copy.deepcopy(solution)  # untagged exercise cell, a hard-coded answer, an emptied check
    cells = _cells_by_tag(dave)
    cells["exercise-1.1"].metadata["tags"] = []
    cells["exercise-1.4"].source = "def dense_weight_count(n_inputs, n_units):\n    return 2_501_000"
    cells["check-1.4"].source = ""
    save("dave", dave)

    before = _digest(root)
    gradebook = root / "gradebook.csv"
    started = time.perf_counter()
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "cnn_helpers",
            "grade",
            str(root),
            "--json",
            "--csv",
            str(gradebook),
            "--cell-timeout",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.perf_counter() - started
    assert completed.returncode == 1, completed.stderr  # some exercises failed
    report = json.loads(completed.stdout)
    by_learner = {n["learner"]: {e["id"]: e for e in n["exercises"]} for n in report["notebooks"]}
    return {
        "root": root,
        "report": report,
        "by": by_learner,
        "before": before,
        "gradebook": gradebook,
        "seconds": seconds,
    }


def test_solution_gets_full_marks(graded_class):
    assert all(e["passed"] and e["points"] == e["max_points"] for e in graded_class["by"]["alice"].values())


def test_untouched_learner_edition_gets_zero_with_a_not_done_hint(graded_class):
    for exercise in graded_class["by"]["bob"].values():
        assert not exercise["passed"] and exercise["points"] == 0
        assert "not done yet" in exercise["message"]


def test_edited_check_and_edited_stored_output_cannot_pass(graded_class):
    result = graded_class["by"]["carol"]["1.1"]
    assert not result["passed"]
    assert "column-major" in result["message"]


def test_deleted_check_is_restored(graded_class):
    result = graded_class["by"]["carol"]["1.2"]
    assert not result["passed"] and "not done yet" in result["message"]


def test_infinite_loop_fails_its_exercise_instead_of_hanging(graded_class):
    result = graded_class["by"]["carol"]["1.4"]
    assert not result["passed"] and "timed out" in result["message"]


def test_untagged_exercise_cell_hard_coded_answer_and_emptied_check(graded_class):
    dave = graded_class["by"]["dave"]
    assert not dave["1.1"]["passed"] and "no cell tagged exercise-1.1" in dave["1.1"]["message"]
    assert dave["1.2"]["passed"]
    assert not dave["1.4"]["passed"] and "wrong count" in dave["1.4"]["message"]


def test_json_report_shape(graded_class):
    report = graded_class["report"]
    assert set(report) == {"notebooks", "points", "max_points"}
    notebook = report["notebooks"][0]
    assert {"path", "lesson", "exercises", "points", "max_points"} <= set(notebook)
    assert set(notebook["exercises"][0]) == {"id", "title", "passed", "points", "max_points", "message"}
    assert report["max_points"] == 4 * LESSON_01_POINTS


def test_gradebook_has_one_row_per_learner(graded_class):
    with open(graded_class["gradebook"], newline="") as handle:
        rows = {row["learner"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"alice", "bob", "carol", "dave"}
    assert rows["alice"]["total"] == str(LESSON_01_POINTS) and rows["bob"]["total"] == "0"
    assert rows["dave"]["total"] == str(LESSON_01_POINTS - 2)  # 1.1 untagged, 1.4 hard-coded
    assert rows["alice"]["max_total"] == str(LESSON_01_POINTS)


def test_grading_never_writes_to_learner_files(graded_class):
    assert _digest(graded_class["root"]) == graded_class["before"]


def test_class_of_four_is_graded_in_parallel_quickly(graded_class):
    # Not a timing assertion on the code's speed: a generous bound that catches a hung kernel.
    assert graded_class["seconds"] < 300


def test_working_copy_survives_an_update(tmp_path):
    released = tmp_path / "released"
    released.mkdir()
    editions.write(editions.read(NOTEBOOKS_DIR / LESSON_01), released / LESSON_01)
    work = tmp_path / "work"
    first = sync_workspace(work, released)
    assert first["added"] == [LESSON_01]

    mine = editions.read(work / LESSON_01)
    _cells_by_tag(mine)["exercise-1.1"].source = "def flatten(image):\n    return my_answer"
    editions.write(mine, work / LESSON_01)
    my_bytes = (work / LESSON_01).read_bytes()

    # a course update: lesson 01 changes upstream and lesson 02 appears
    updated = editions.read(released / LESSON_01)
    updated.cells[0].source += "\n\nA clarified introduction."
    editions.write(updated, released / LESSON_01)
    editions.write(updated, released / "02-new-lesson.ipynb")
    second = sync_workspace(work, released)
    assert second["kept"] == [LESSON_01] and second["added"] == ["02-new-lesson.ipynb"]
    assert (work / LESSON_01).read_bytes() == my_bytes
