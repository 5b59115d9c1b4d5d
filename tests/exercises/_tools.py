"""Load an exercise's solution or stub straight from the committed notebooks, without a kernel.

Exercise cells may use NumPy, ``math`` and the functions of earlier exercise cells of the same
lesson, so an exercise is loaded by executing every exercise cell up to and including it.
"""

import contextlib
import io
import math
from pathlib import Path

import numpy as np
import pytest

from cnn_helpers.checks import CheckFailure
from cnn_helpers.course import NOTEBOOKS_DIR, SOLUTIONS_DIR, editions


def _notebook(lesson: str, edition: str):
    folder = SOLUTIONS_DIR if edition == "solution" else NOTEBOOKS_DIR
    matches = sorted(folder.glob(f"{lesson}-*.ipynb"))
    assert matches, f"no {edition} edition of lesson {lesson} in {folder}"
    return editions.read(matches[0])


def load_exercise(lesson: str, exercise_id: str, name: str, edition: str = "solution"):
    """Return the function ``name`` defined by exercise ``exercise_id`` of ``lesson`` ("01")."""
    namespace = {"np": np, "math": math, "__name__": f"lesson{lesson}_{edition}"}
    for cell in _notebook(lesson, edition).cells:
        role = editions.cell_role(cell)
        if role and role[0] == "exercise":
            exec(compile(cell.source, f"<exercise {role[1]} ({edition})>", "exec"), namespace)
            if role[1] == exercise_id:
                return namespace[name]
    raise AssertionError(f"exercise {exercise_id} not found in lesson {lesson}")


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
