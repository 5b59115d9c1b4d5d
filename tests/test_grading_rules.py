"""The grader's rules that need few or no kernels: lesson ids, collection, gradebook, Gradescope,
command-line checks, signals, the working copy, and grading without a sandbox."""

import copy
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnn_helpers.course import NOTEBOOKS_DIR, SOLUTIONS_DIR, editions, grade, sandbox
from cnn_helpers.course.workspace import WorkspaceError, sync_workspace

LESSON = "01-images-as-data.ipynb"
RELEASED = grade.released_lessons(SOLUTIONS_DIR)
needs_sandbox = pytest.mark.skipif(not sandbox.availability()[0], reason="no sandbox here")

# Gradescope's results.json, from https://gradescope-autograders.readthedocs.io/en/latest/specs/
GRADESCOPE_TOP = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
}
GRADESCOPE_TEST = {
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
}
GRADESCOPE_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def _check_gradescope(results):
    assert set(results) <= GRADESCOPE_TOP
    assert isinstance(results["tests"], list) and results["tests"]
    assert isinstance(results["score"], float)
    assert (
        results["visibility"] in GRADESCOPE_VISIBILITY
        and results["stdout_visibility"] in GRADESCOPE_VISIBILITY
    )
    for test in results["tests"]:
        assert set(test) <= GRADESCOPE_TEST and {"name", "score", "max_score", "output"} <= set(test)
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0 <= test["score"] <= test["max_score"] or test["max_score"] == 0
        assert test["status"] in {"passed", "failed"} and test["visibility"] in GRADESCOPE_VISIBILITY
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
    assert results["score"] == sum(t["score"] for t in results["tests"])


def _write(path, notebook):
    path.parent.mkdir(parents=True, exist_ok=True)
    editions.write(notebook, path)
    return path


def _cli(*args, **options):
    return subprocess.run(
        [sys.executable, "-m", "cnn_helpers", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        **options,
    )


# ------------------------------------------------------------------------------ lesson ids


@pytest.mark.parametrize(
    "stored", ["../../class/judy/.ipynb_checkpoints/01", "/etc/01", "1", "001", 1, ["01"], "99"]
)
def test_lesson_id_must_be_two_digits_naming_a_released_lesson(stored):
    raw = {"metadata": {"cnn_course": {"lesson": stored}}, "cells": []}
    with pytest.raises(grade.GradeError, match=r"two digits|not a released lesson"):
        grade.lesson_of(raw, Path("01-x.ipynb"), RELEASED)


def test_lesson_id_from_metadata_or_file_name():
    assert grade.lesson_of({"metadata": {"cnn_course": {"lesson": "02"}}}, Path("x.ipynb"), RELEASED) == "02"
    assert grade.lesson_of({"metadata": {"cnn_course": "02"}}, Path("03-y.ipynb"), RELEASED) == "03"
    with pytest.raises(grade.GradeError, match="cannot tell which lesson"):
        grade.lesson_of({"metadata": {}}, Path("notes.ipynb"), RELEASED)


def test_find_reference_never_globs_a_path(tmp_path):
    with pytest.raises(grade.GradeError, match="two digits"):
        grade.find_reference("../01", SOLUTIONS_DIR)
    assert grade.find_reference("01", SOLUTIONS_DIR).name == LESSON


def test_exercise_cells_drops_whatever_is_malformed():
    raw = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"tags": [1, "exercise-1.1"]},
                "source": ["def f():\n", "    return 1"],
            },
            {"cell_type": "code", "metadata": {"tags": ["exercise-1.2"]}},
            {"cell_type": "code", "metadata": "odd", "source": "x"},
            "not a cell",
        ]
    }
    cells = grade.exercise_cells(raw).cells
    assert [(c.metadata["tags"], c.source) for c in cells] == [
        (["exercise-1.1"], "def f():\n    return 1"),
        (["exercise-1.2"], ""),
    ]


def test_error_summary_names_type_and_line():
    detail = "Cell In[3], line 4\n    x = (\n        ^\nSyntaxError: '(' was never closed"
    assert grade._error_summary(detail) == "SyntaxError: '(' was never closed (line 4 of the cell)"


# ------------------------------------------------------------------------------ collection


def test_collect_reports_duplicates_strays_and_links(tmp_path):
    solution, stubs = editions.read(SOLUTIONS_DIR / LESSON), editions.read(NOTEBOOKS_DIR / LESSON)
    _write(tmp_path / "ann" / LESSON, solution)
    _write(tmp_path / "ann" / "old" / LESSON, stubs)
    _write(tmp_path / "ann" / ".ipynb_checkpoints" / LESSON, stubs)
    _write(tmp_path / "stray-01.ipynb", solution)
    (tmp_path / "ben").mkdir()
    (tmp_path / "ben" / LESSON).symlink_to(tmp_path / "ann" / LESSON)
    (tmp_path / "cal").symlink_to(tmp_path / "ann", target_is_directory=True)
    found = {(s.learner, s.path.relative_to(tmp_path).as_posix()): s for s in grade.collect([tmp_path])}
    assert set(found) == {
        ("(top) stray-01.ipynb", "stray-01.ipynb"),
        ("ann", f"ann/{LESSON}"),
        ("ben", f"ben/{LESSON}"),
        ("cal", "cal"),
    }
    assert "not graded: old/" in found[("ann", f"ann/{LESSON}")].notes[0]
    assert "top of the class folder" in found[("(top) stray-01.ipynb", "stray-01.ipynb")].notes[0]
    assert "symbolic link" in found[("ben", f"ben/{LESSON}")].error
    assert "symbolic link" in found[("cal", "cal")].error


def test_a_working_folder_is_one_learner(tmp_path):
    _write(tmp_path / LESSON, editions.read(NOTEBOOKS_DIR / LESSON))
    assert [(s.learner, s.path.name) for s in grade.collect([tmp_path])] == [("", LESSON)]


def test_gradebook_is_written_atomically_and_never_as_a_formula(tmp_path):
    result = grade.NotebookResult(
        path="x.ipynb",
        lesson="01",
        exercises=[grade.ExerciseResult("1.1", "t", True, 1, 1)],
        points=1,
        max_points=1,
        notes=["=HYPERLINK(1)"],
    )
    target = tmp_path / "gradebook.csv"
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text("keep\n")
    target.symlink_to(elsewhere)
    grade.write_gradebook([("=cmd|calc", result)], target)
    assert elsewhere.read_text() == "keep\n" and not target.is_symlink()
    rows = list(csv.DictReader(target.open(newline="")))
    assert rows[0]["learner"] == "'=cmd|calc" and rows[0]["notes"].startswith("'=")


# ------------------------------------------------------------------------------- Gradescope


def test_gradescope_format_from_results():
    ok = grade.NotebookResult(
        path="a/01-x.ipynb",
        lesson="01",
        points=1,
        max_points=3,
        seconds=4.2,
        exercises=[
            grade.ExerciseResult("1.1", "flatten", True, 1, 1),
            grade.ExerciseResult("1.2", "count", False, 0, 2, "hint"),
        ],
    )
    broken = grade.NotebookResult(path="a/02-y.ipynb", lesson="?", error="not a readable notebook")
    results = grade.to_gradescope([("", ok), ("", broken)])
    _check_gradescope(results)
    assert results["score"] == 1.0
    assert [t["status"] for t in results["tests"]] == ["passed", "failed", "failed"]
    assert results["tests"][1]["output"] == "hint" and "could not grade" in results["output"]
    with pytest.raises(grade.GradeError, match="one submission"):
        grade.to_gradescope([("ann", ok), ("ben", ok)])


@needs_sandbox
def test_gradescope_file_from_the_command_line(tmp_path):
    _write(tmp_path / "work" / LESSON, editions.read(SOLUTIONS_DIR / LESSON))
    completed = _cli(
        "grade", tmp_path / "work", "--gradescope", tmp_path / "results.json", "--cell-timeout", "30"
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    _check_gradescope(results)
    maximum = sum(e.points for e in editions.exercises(editions.read(SOLUTIONS_DIR / LESSON)))
    assert results["score"] == maximum and len(results["tests"]) == len(
        editions.exercises(editions.read(SOLUTIONS_DIR / LESSON))
    )


# ---------------------------------------------------------------------------- command line


@pytest.mark.parametrize(
    "option", [["--cell-timeout", "0"], ["--cell-timeout", "-3"], ["--jobs", "0"], ["--timeout", "0"]]
)
def test_limits_must_be_positive(option, tmp_path):
    completed = _cli("grade", tmp_path, *option)
    assert completed.returncode == 2 and "must be positive" in completed.stderr


def test_class_without_sandbox_is_refused_unless_unsafe(tmp_path):
    _write(tmp_path / "class" / "ann" / LESSON, editions.read(NOTEBOOKS_DIR / LESSON))
    completed = _cli("grade", tmp_path / "class", "--no-sandbox", cwd=tmp_path)
    assert completed.returncode == 2 and "refusing to grade a class without a sandbox" in completed.stderr
    assert not (tmp_path / "gradebook.csv").exists()


def test_self_grading_works_without_a_sandbox(tmp_path):
    _write(tmp_path / "work" / LESSON, editions.read(SOLUTIONS_DIR / LESSON))
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    completed = _cli("grade", tmp_path / "work", "--no-sandbox", "--json", "--cell-timeout", "30", env=env)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["points"] == report["max_points"] > 0 and not report["notebooks"][0]["sandboxed"]
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("sandboxed", [True, False])
def test_sigterm_and_sighup_clean_up_like_ctrl_c(signum, sandboxed, tmp_path):
    if sandboxed and not sandbox.availability()[0]:
        pytest.skip("no sandbox here")
    stubs = editions.read(NOTEBOOKS_DIR / LESSON)
    looping = copy.deepcopy(stubs)
    first = editions.exercises(editions.read(SOLUTIONS_DIR / LESSON))[0].id
    for cell in looping.cells:
        if editions.cell_role(cell) == ("exercise", first):
            cell.source = "import time\nwhile True:\n    time.sleep(0.1)  # cnn-signal-test"
    _write(tmp_path / "work" / LESSON, looping)
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    command = [sys.executable, "-m", "cnn_helpers", "grade", str(tmp_path / "work"), "--cell-timeout", "300"]
    process = subprocess.Popen(
        command + ([] if sandboxed else ["--no-sandbox"]),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((tmp_path / "tmp").iterdir()):
        time.sleep(0.2)
    time.sleep(4.0)  # the harness and its kernel are running the loop
    assert process.poll() is None
    process.send_signal(signum)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "interrupted" in err
    time.sleep(0.5)
    assert list((tmp_path / "tmp").iterdir()) == []
    assert _processes_with(str(tmp_path)) == []


def _processes_with(text):
    """Processes whose command line holds ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if text.encode() in (entry / "cmdline").read_bytes():
                found.append(entry.name)
        except OSError:
            continue
    return found


# ----------------------------------------------------------------------------- working copy


def test_working_copy_never_writes_through_a_link(tmp_path):
    released = tmp_path / "released"
    _write(released / LESSON, editions.read(NOTEBOOKS_DIR / LESSON))
    work = tmp_path / "work"
    work.mkdir()
    outside = tmp_path / "outside" / "landed.ipynb"
    (work / LESSON).symlink_to(outside)  # dangling
    (work / "README.md").symlink_to(tmp_path / "outside-readme.md")
    summary = sync_workspace(work, released)
    assert summary["skipped"] == [LESSON] and summary["added"] == []
    assert not outside.exists() and not (tmp_path / "outside-readme.md").exists()


def test_working_copy_that_is_a_file_gets_a_clear_message(tmp_path):
    (tmp_path / "work").write_text("oops")
    with pytest.raises(WorkspaceError, match="exists but is not a folder"):
        sync_workspace(tmp_path / "work", NOTEBOOKS_DIR)
    completed = _cli("workspace", tmp_path / "work")
    assert (
        completed.returncode == 2
        and "is not a folder" in completed.stderr
        and "Traceback" not in completed.stderr
    )
