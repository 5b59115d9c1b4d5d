"""Load an exercise's solution or stub straight from the committed notebooks, without a kernel.

Exercise cells may use NumPy, ``math`` and the functions of earlier exercise cells of the same
lesson, so an exercise is loaded by executing every exercise cell up to and including it. The
learner edition is derived from the solution with :func:`editions.learner_edition`, exactly as
the build does, so a new exercise is tested before the lead rebuilds the learner notebooks.
"""

import ast
import contextlib
import functools
import io
import math

import numpy as np
import pytest

from cnn_helpers.checks import CheckFailure
from cnn_helpers.course import SOLUTIONS_DIR, editions


@functools.cache
def solution_notebook(lesson: str):
    """The solution edition of ``lesson`` ("01"), read once per test session (do not modify it)."""
    matches = sorted(SOLUTIONS_DIR.glob(f"{lesson}-*.ipynb"))
    assert matches, f"no solution edition of lesson {lesson} in {SOLUTIONS_DIR}"
    return editions.read(matches[0])


@functools.cache
def _notebook(lesson: str, edition: str):
    solution = solution_notebook(lesson)
    return solution if edition == "solution" else editions.learner_edition(solution)


def exercise_namespace(lesson: str, exercise_id: str, edition: str = "solution") -> dict:
    """The names defined once every exercise cell of ``lesson`` up to ``exercise_id`` has run."""
    namespace = {"np": np, "math": math, "__name__": f"lesson{lesson}_{edition}"}
    for cell in _notebook(lesson, edition).cells:
        role = editions.cell_role(cell)
        if role and role[0] == "exercise":
            exec(compile(cell.source, f"<exercise {role[1]} ({edition})>", "exec"), namespace)
            if role[1] == exercise_id:
                return namespace
    raise AssertionError(f"exercise {exercise_id} not found in lesson {lesson}")


def load_exercise(lesson: str, exercise_id: str, name: str, edition: str = "solution"):
    """Return the function ``name`` defined by exercise ``exercise_id`` of ``lesson`` ("01")."""
    return exercise_namespace(lesson, exercise_id, edition)[name]


def check_calls(cell_source: str) -> list[tuple[str, str, list[str]]]:
    """``(module, function, [argument names])`` of each ``lessonNN.check_x(a, b)`` call in a check cell."""
    calls = []
    for node in ast.walk(ast.parse(cell_source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id.startswith("lesson")
        ):
            names = [arg.id for arg in node.args if isinstance(arg, ast.Name)]
            assert len(names) == len(node.args) and not node.keywords, (
                f"a check cell passes the learner's names, nothing else: {cell_source!r}"
            )
            calls.append((node.func.value.id, node.func.attr, names))
    return calls


def run_check(check, *functions) -> str:
    """Run a check and return what it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        check(*functions)
    return printed.getvalue()


def assert_passes(check, *functions):
    output = run_check(check, *functions)
    assert output.startswith(f"Exercise {check.exercise_id} passed"), output
    assert output.count("\n") == 1, f"a check prints exactly one line, got: {output!r}"


def assert_fails(check, *functions, hint: str):
    """The check must raise CheckFailure whose message contains ``hint`` (case-insensitive)."""
    with pytest.raises(CheckFailure) as failure:
        run_check(check, *functions)
    assert hint.lower() in str(failure.value).lower(), str(failure.value)
    return str(failure.value)
