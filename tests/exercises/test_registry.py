"""Every exercise and question of every lesson, driven by the notebooks and the check registry.

For each exercise cell of each solution notebook (and each registered check) this proves:

- the notebook and the registry agree: every exercise has a check cell calling its registered
  check, and every registered check has an exercise in its lesson;
- the learner edition's stub fails with "not done yet";
- the solution passes, printing exactly one line;
- a function exercise's answer that calls the package's reference (the ``reference=`` its
  ``@exercise`` declares) fails, and so does passing the reference itself;
- a question's every known misconception fails with its hint, and the right answer passes in
  every form the learner may write it.

Lesson-specific mistakes (the hints each check names) are tested in ``test_lessonNN.py``.
"""

import importlib

import pytest

from cnn_helpers.checks import _core, all_exercises
from cnn_helpers.course import SOLUTIONS_DIR, editions

from ._tools import assert_fails, assert_passes, check_calls, exercise_namespace, solution_notebook

REGISTRY = all_exercises()
LESSONS = sorted(path.name[:2] for path in SOLUTIONS_DIR.glob("[0-9][0-9]-*.ipynb"))


def _notebook_exercises():
    """(lesson, exercise id, check module, check name, argument names) of every check cell."""
    found = []
    for lesson in LESSONS:
        for cell in solution_notebook(lesson).cells:
            role = editions.cell_role(cell)
            if role and role[0] == "check":
                for module, name, arguments in check_calls(cell.source):
                    found.append((lesson, role[1], module, name, arguments))
    return found


NOTEBOOK_EXERCISES = _notebook_exercises()
IDS = [entry[1] for entry in NOTEBOOK_EXERCISES]


def _check(module, name):
    return getattr(importlib.import_module(f"cnn_helpers.checks.{module}"), name)


def _learner_names(lesson, exercise_id, arguments, edition):
    namespace = exercise_namespace(lesson, exercise_id, edition)
    missing = [name for name in arguments if name not in namespace]
    assert not missing, f"exercise {exercise_id}: its cells define no {missing} ({edition} edition)"
    return [namespace[name] for name in arguments]


# --------------------------------------------------------------------------------------------
# The notebooks and the registry agree


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_exercise_has_its_check_and_every_check_its_exercise(lesson):
    notebook_ids = [exercise.id for exercise in editions.exercises(solution_notebook(lesson))]
    number = str(int(lesson))
    registered = [exercise_id for exercise_id in REGISTRY if exercise_id.split(".")[0] == number]
    assert sorted(notebook_ids) == sorted(registered), (
        f"lesson {lesson}: exercises in the notebook {notebook_ids}, checks registered {registered}"
    )
    assert all(exercise_id.split(".")[0] == number for exercise_id in notebook_ids)
    for entry_lesson, exercise_id, module, name, _ in NOTEBOOK_EXERCISES:
        if entry_lesson == lesson:
            assert module == f"lesson{lesson}", f"check-{exercise_id} calls {module}, not lesson{lesson}"
            assert _check(module, name) is REGISTRY[exercise_id].check, (
                f"check-{exercise_id} calls {module}.{name}, which is not the check registered for {exercise_id}"
            )


def test_each_exercise_has_one_check_call():
    assert len(IDS) == len(set(IDS)), f"an exercise is checked twice: {sorted(IDS)}"


# --------------------------------------------------------------------------------------------
# Stub, solution, reference


@pytest.mark.parametrize("lesson, exercise_id, module, name, arguments", NOTEBOOK_EXERCISES, ids=IDS)
def test_the_learner_stub_is_not_done_yet(lesson, exercise_id, module, name, arguments):
    stubs = _learner_names(lesson, exercise_id, arguments, "learner")
    assert_fails(_check(module, name), *stubs, hint=f"Exercise {exercise_id} is not done yet")


@pytest.mark.parametrize("lesson, exercise_id, module, name, arguments", NOTEBOOK_EXERCISES, ids=IDS)
def test_the_solution_passes(lesson, exercise_id, module, name, arguments):
    assert_passes(_check(module, name), *_learner_names(lesson, exercise_id, arguments, "solution"))


def _calls_the_reference(dotted):
    """A learner's answer that hands the work to ``dotted``, looked up when it runs (as a notebook would)."""
    module_name, _, attribute = dotted.rpartition(".")

    def answer(*args, **kwargs):
        return getattr(importlib.import_module(module_name), attribute)(*args, **kwargs)

    return answer


FUNCTION_EXERCISES = [entry for entry in NOTEBOOK_EXERCISES if REGISTRY[entry[1]].kind == "function"]


@pytest.mark.parametrize(
    "lesson, exercise_id, module, name, arguments",
    FUNCTION_EXERCISES,
    ids=[entry[1] for entry in FUNCTION_EXERCISES],
)
def test_calling_the_reference_fails(lesson, exercise_id, module, name, arguments):
    reference = REGISTRY[exercise_id].reference
    if reference == _core._UNDECLARED:
        pytest.skip(f"exercise {exercise_id} declares no reference=: add it to its @exercise(...)")
    if reference is None:
        pytest.skip(f"exercise {exercise_id}: no package function answers it (reference=None)")
    assert len(reference) == len(arguments), (
        f"exercise {exercise_id}: reference= names {len(reference)} functions, its check takes {len(arguments)}"
    )
    check = _check(module, name)
    solution = _learner_names(lesson, exercise_id, arguments, "solution")
    tested = 0
    for position, dotted in enumerate(reference):
        if dotted is None:
            continue
        importlib.import_module(dotted.rpartition(".")[0])  # loaded, as in a lesson that uses it
        functions = list(solution)
        functions[position] = _calls_the_reference(dotted)
        assert_fails(check, *functions, hint=f"called {dotted}")
        functions[position] = _core._unwrap(
            getattr(importlib.import_module(dotted.rpartition(".")[0]), dotted.rpartition(".")[2])
        )
        assert_fails(check, *functions, hint="the package's own implementation")
        tested += 1
    assert tested, f"exercise {exercise_id}: reference= names no function"


# --------------------------------------------------------------------------------------------
# Questions


QUESTIONS = [entry for entry in NOTEBOOK_EXERCISES if REGISTRY[entry[1]].kind == "question"]


@pytest.mark.parametrize(
    "lesson, exercise_id, module, name, arguments", QUESTIONS, ids=[e[1] for e in QUESTIONS]
)
def test_a_question_names_every_misconception_and_accepts_every_form_of_the_answer(
    lesson, exercise_id, module, name, arguments
):
    check = _check(module, name)
    spec = REGISTRY[exercise_id].question
    assert len(arguments) == 1, f"question {exercise_id}: its check cell passes one answer"
    assert spec.misconceptions, f"question {exercise_id} names no misconception"
    for wrong, hint in spec.misconceptions.items():
        assert_fails(check, wrong, hint=hint[:60])
        if spec.choices is not None:
            assert_fails(check, spec.choices[wrong].upper(), hint=hint[:60])
    if spec.choices is not None:
        for form in (
            spec.expected,
            spec.expected.upper(),
            f"({spec.expected})",
            spec.choices[spec.expected],
            f"  {spec.choices[spec.expected].upper()} ",
        ):
            assert_passes(check, form)
        assert_fails(check, "z" if "z" not in spec.choices else "zz", hint="answer with the letter")
    else:
        assert_passes(check, spec.expected)
        assert_passes(check, float(spec.expected))
        assert_fails(check, str(spec.expected), hint="answer with a number")
    assert_fails(check, None, hint="not done yet")


# --------------------------------------------------------------------------------------------
# Every mistake a diagnose() check knows is named when a learner makes it


DIAGNOSED = [
    (exercise_id, name)
    for exercise_id, entry in REGISTRY.items()
    if entry.mistakes is not None
    for name in entry.mistakes()
]


@pytest.mark.parametrize("exercise_id, mistake", DIAGNOSED, ids=[f"{i}-{m}" for i, m in DIAGNOSED])
def test_every_registered_mistake_is_named(exercise_id, mistake, monkeypatch):
    """Run the mistake itself as the learner's answer (it may use the package's math, as the check does)."""
    entry = REGISTRY[exercise_id]
    function, hint = entry.mistakes()[mistake]
    trusted = _core._called_from_the_package
    monkeypatch.setattr(
        _core,
        "_called_from_the_package",
        lambda frame: (
            trusted(frame)
            or (
                frame is not None
                and frame.f_globals.get("__name__", "").startswith("cnn_helpers.checks.lesson")
            )
        ),
    )
    message = assert_fails(entry.check, function, hint=hint)
    assert "Likely mistake" in message
