"""The one-source pipeline: stubs, derived learner editions, and committed files in step with the build."""

import copy

import nbformat
import pytest

from cnn_helpers.course import NOTEBOOKS_DIR, SOLUTIONS_DIR, editions
from cnn_helpers.course.build import normalise

SOURCES = sorted(SOLUTIONS_DIR.glob("[0-9][0-9]-*.ipynb"))


def _notebook(*cells):
    return nbformat.v4.new_notebook(cells=list(cells), metadata={"cnn_course": {"lesson": "99"}})


def _code(source, *tags, points=None):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = list(tags)
    if points:
        cell.metadata["cnn_course"] = {"points": points}
    return cell


EXERCISE = '# Exercise 9.1: double it\ndef double(x):\n    """Twice x."""\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n'


def test_stub_keeps_signature_and_docstring_and_raises_with_the_exercise_number():
    stub = editions.stub_source(EXERCISE, "9.1", "double it")
    assert "def double(x):" in stub and '"""Twice x."""' in stub
    assert "return 2 * x" not in stub and "BEGIN SOLUTION" not in stub
    namespace = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError, match=r"Exercise 9\.1: double it"):
        namespace["double"](3)


def test_stub_handles_several_blocks_and_keeps_code_between_them():
    source = "a = 1\n### BEGIN SOLUTION\nb = 2\n### END SOLUTION\nc = 3\n    ### BEGIN SOLUTION\n    d = 4\n    ### END SOLUTION"
    stub = editions.stub_source(source, "9.2", "two")
    assert stub.count("raise NotImplementedError") == 2
    assert "a = 1" in stub and "c = 3" in stub and "b = 2" not in stub and "d = 4" not in stub


@pytest.mark.parametrize(
    "source, message",
    [
        ("x = 1", "no ### BEGIN SOLUTION"),
        ("### BEGIN SOLUTION\nx = 1", "without ### END SOLUTION"),
        ("x = 1\n### END SOLUTION", "without ### BEGIN SOLUTION"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "nested"),
    ],
)
def test_broken_markers_are_reported(source, message):
    with pytest.raises(editions.EditionError, match=message):
        editions.stub_source(source, "9.1", "t")


def test_exercises_need_a_title_and_a_check():
    with pytest.raises(editions.EditionError, match="has no check cell"):
        editions.exercises(_notebook(_code(EXERCISE, "exercise-9.1")))
    with pytest.raises(editions.EditionError, match="has no exercise cell"):
        editions.exercises(_notebook(_code("check(double)", "check-9.1")))
    with pytest.raises(editions.EditionError, match="must start with"):
        editions.exercises(_notebook(_code("def f(): pass", "exercise-9.1"), _code("check(f)", "check-9.1")))
    found = editions.exercises(
        _notebook(_code(EXERCISE, "exercise-9.1"), _code("check(double)", "check-9.1", points=3))
    )
    assert found == [editions.Exercise("9.1", "double it", 3)]


def test_grading_copy_takes_only_exercise_code_from_the_learner():
    solution = _notebook(
        _code("import x"), _code(EXERCISE, "exercise-9.1"), _code("check(double)", "check-9.1")
    )
    solution.cells[2].outputs = [nbformat.v4.new_output("stream", text="Exercise 9.1 passed\n")]
    learner = copy.deepcopy(solution)
    learner.cells[1].source = "def double(x):\n    return x + x"
    learner.cells[2].source = "print('Exercise 9.1 passed')"  # a tampered check
    learner.cells[2].outputs = []
    learner.cells[0].source = "import os; os.remove('everything')"
    graded, notes = editions.grading_copy(solution, learner)
    assert graded.cells[1].source == "def double(x):\n    return x + x"
    assert graded.cells[2].source == "check(double)"
    assert graded.cells[2].outputs[0]["text"] == "Exercise 9.1 passed\n"
    assert graded.cells[0].source == "import x"
    assert "nbval-ignore-output" in graded.cells[1].metadata["tags"]
    assert notes == {}


def test_grading_copy_leaves_out_demonstrations_tagged_grading_skip():
    solution = _notebook(
        _code("train_for_a_minute()", "grading-skip"),
        _code(EXERCISE, "exercise-9.1", "grading-skip"),
        _code("check(double)", "check-9.1", "grading-skip"),
    )
    solution.cells[0].outputs = [nbformat.v4.new_output("stream", text="accuracy 97.1%\n")]
    learner = copy.deepcopy(solution)
    learner.cells[0].metadata["tags"] = []  # the learner's tags never decide what is skipped
    graded, _ = editions.grading_copy(solution, learner)
    assert graded.cells[0].source.startswith("#") and graded.cells[0].outputs == []
    assert "nbval-ignore-output" in graded.cells[0].metadata["tags"]
    assert len(graded.cells) == 3  # cell numbers stay JupyterLab's
    # exercise and check cells are always graded, whatever their tags
    assert graded.cells[1].source == EXERCISE and graded.cells[2].source == "check(double)"


def test_grading_copy_grades_the_stub_when_the_exercise_cell_was_deleted():
    solution = _notebook(_code(EXERCISE, "exercise-9.1"), _code("check(double)", "check-9.1"))
    learner = _notebook(_code("check(double)", "check-9.1"))
    graded, notes = editions.grading_copy(solution, learner)
    assert "raise NotImplementedError" in graded.cells[0].source
    assert "no cell tagged exercise-9.1" in notes["9.1"]


def test_normalise_drops_widget_state_and_interpreter_version():
    notebook = _notebook(_code("w", "widget", "nbval-ignore-output"), _code("bar"))
    notebook.cells[0].outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "VBox()"})]
    widget = {"application/vnd.jupyter.widget-view+json": {"model_id": "abc"}, "text/plain": "100%"}
    notebook.cells[1].outputs = [nbformat.v4.new_output("display_data", data=widget)]
    notebook.metadata["widgets"] = {"state": {}}
    notebook.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    normalise(notebook)
    assert notebook.cells[0].outputs == []
    assert notebook.cells[1].outputs == []  # a stale "0%" fallback would mislead
    assert "widgets" not in notebook.metadata and "version" not in notebook.metadata["language_info"]


# --- the committed notebooks -------------------------------------------------------------


def test_there_are_lessons():
    assert SOURCES, f"no lesson sources in {SOLUTIONS_DIR}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_solution_outputs_were_built_from_the_current_source(source):
    """Editing a cell without rebuilding leaves a stale fingerprint: rebuild with `python course.py build NN`."""
    notebook = editions.read(source)
    stamp = notebook.metadata.get("cnn_course", {}).get("source_sha256")
    assert stamp == editions.source_fingerprint(notebook), (
        f"{source.name} changed since it was built: run `python course.py build {source.name[:2]}`"
    )
    assert all(
        c.execution_count is not None
        for c in notebook.cells
        if c.cell_type == "code" and "widget" not in c.metadata.get("tags", [])
    ), "solution edition has unexecuted cells"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_committed_learner_edition_is_what_the_build_derives(source):
    solution = editions.read(source)
    committed = editions.read(NOTEBOOKS_DIR / source.name)
    derived = editions.learner_edition(solution)
    assert nbformat.writes(committed) == nbformat.writes(derived), (
        f"rebuild {source.name}: `python course.py build {source.name[:2]}`"
    )


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_every_lesson_has_graded_exercises_with_registered_checks(source):
    from cnn_helpers.checks import all_exercises

    lesson_exercises = editions.exercises(editions.read(source))
    assert lesson_exercises, f"{source.name} has no exercises"
    registered = all_exercises()
    for exercise in lesson_exercises:
        assert exercise.id in registered, (
            f"exercise {exercise.id} has no check registered in cnn_helpers.checks"
        )
        assert exercise.id.split(".")[0] == str(int(source.name[:2]))


def test_learner_run_comparison_ignores_how_a_stream_was_chunked():
    from cnn_helpers.course.build import _text_outputs

    one = _code("print(1); print(2)")
    one.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n2\n")]
    two = _code("print(1); print(2)")
    two.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="1\n"),
        nbformat.v4.new_output("stream", name="stdout", text="2\n"),
    ]
    assert _text_outputs(one) == _text_outputs(two)
    two.outputs[1]["text"] = "3\n"
    assert _text_outputs(one) != _text_outputs(two)


def test_build_refuses_a_widget_in_a_checked_cell():
    from cnn_helpers.course.build import BuildError, verify_solution_run

    notebook = _notebook(_code("bar"))
    notebook.cells[0].outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "0%"},
        )
    ]
    with pytest.raises(BuildError, match="displays a widget"):
        verify_solution_run(notebook, "x.ipynb")
    notebook.cells[0].metadata["tags"] = ["nbval-ignore-output"]
    verify_solution_run(notebook, "x.ipynb")


def test_a_folder_with_notebooks_is_one_learner_and_a_folder_of_folders_is_a_class(tmp_path):
    from cnn_helpers.course.grade import GradeError, collect

    mine = tmp_path / "work"
    (mine / "drafts").mkdir(parents=True)
    for path in (mine / "01-a.ipynb", mine / "drafts" / "01-a.ipynb"):
        path.write_text("{}")
    (only,) = collect([mine])  # one learner's folder: the copy in drafts/ is named, not graded
    assert (only.learner, only.path) == ("", mine / "01-a.ipynb")
    assert len(only.notes) == 1 and "not graded" in only.notes[0] and "drafts/ (01-a.ipynb)" in only.notes[0]

    course = tmp_path / "class"
    for learner in ("ann", "ben"):
        (course / learner / ".ipynb_checkpoints").mkdir(parents=True)
        (course / learner / "01-a.ipynb").write_text("{}")
        (course / learner / ".ipynb_checkpoints" / "01-a-checkpoint.ipynb").write_text("{}")
    assert [(s.learner, s.path, s.notes) for s in collect([course])] == [
        ("ann", course / "ann" / "01-a.ipynb", []),
        ("ben", course / "ben" / "01-a.ipynb", []),
    ]

    with pytest.raises(GradeError, match="does not exist"):
        collect([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(GradeError, match="no notebooks found"):
        collect([tmp_path / "empty"])
