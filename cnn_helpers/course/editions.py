"""The two editions of a lesson, derived from one source notebook.

The source is the solution edition. Cells are recognised by their tags:

- ``exercise-L.K``: the solution sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION``;
- ``check-L.K``: calls a check from :mod:`cnn_helpers.checks` with the learner's function.
- a checked question's ``exercise-L.K`` cell assigns ``answer_L_K = ...`` in a top-level solution
  block; its learner stub is ``answer_L_K = None  # YOUR ANSWER HERE`` (see :func:`stub_source`).

Everything here is a pure function of notebook nodes, so tests can run it without a kernel.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
TAG_PATTERN = re.compile(r"^(exercise|check)-(\d+\.\d+)$")
ANSWER_PATTERN = re.compile(r"^answer(_\w+)?$")  # the variable a checked question's cell assigns
TITLE_PATTERN = re.compile(r"^#\s*Exercise\s+(\d+\.\d+)\s*:\s*(.+?)\s*$", re.MULTILINE)
IGNORE_OUTPUT_TAG = "nbval-ignore-output"
WIDGET_TAG = "widget"
# A demonstration that only shows (a long training run, an experiment over seeds): grading leaves
# it out, so grading a lesson stays fast. No exercise or check may depend on what it computes;
# tests/test_notebooks.py grades every solution edition and fails if a later cell needs it.
GRADING_SKIP_TAG = "grading-skip"
META_KEY = "cnn_course"


class EditionError(ValueError):
    """A source notebook breaks the authoring conventions (CONTRIBUTING.md)."""


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    points: int


def cell_role(cell) -> tuple[str, str] | None:
    """Return ``("exercise" | "check", "L.K")`` for a tagged cell, else None."""
    for tag in cell.get("metadata", {}).get("tags", []):
        match = TAG_PATTERN.match(tag)
        if match:
            return match.group(1), match.group(2)
    return None


def lesson_id(notebook, path: Path | None = None) -> str:
    """The two-digit lesson number, from the notebook's metadata or else its file name."""
    stored = notebook.metadata.get(META_KEY, {}).get("lesson")
    if stored:
        return str(stored)
    if path is not None:
        match = re.match(r"^(\d\d)-", Path(path).name)
        if match:
            return match.group(1)
    raise EditionError(
        f"cannot tell which lesson {path or 'this notebook'} is: no metadata and no NN- prefix"
    )


def exercises(notebook) -> list[Exercise]:
    """The exercises of a solution notebook in order, with their titles and points."""
    found = {}
    for cell in notebook.cells:
        role = cell_role(cell)
        if role is None:
            continue
        kind, exercise_id = role
        if kind == "exercise":
            titles = dict(TITLE_PATTERN.findall(cell.source))
            if exercise_id not in titles:
                raise EditionError(
                    f"exercise cell {exercise_id} must start with '# Exercise {exercise_id}: title'"
                )
            found.setdefault(exercise_id, {})["title"] = titles[exercise_id]
        else:
            points = int(cell.metadata.get(META_KEY, {}).get("points", 1))
            found.setdefault(exercise_id, {}).setdefault("points", 0)
            found[exercise_id]["points"] += points
    for exercise_id, info in found.items():
        if "title" not in info:
            raise EditionError(f"check-{exercise_id} has no exercise cell")
        if "points" not in info:
            raise EditionError(f"exercise-{exercise_id} has no check cell")
    return [Exercise(i, found[i]["title"], found[i]["points"]) for i in found]


def _answer_names(block_lines) -> list[str] | None:
    """The ``answer...`` names a top-level solution block assigns, if that is all it does (a question)."""
    try:
        tree = ast.parse("\n".join(block_lines))
    except SyntaxError:
        return None
    names = []
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else None
        )
        if not targets or not all(
            isinstance(target, ast.Name) and ANSWER_PATTERN.match(target.id) for target in targets
        ):
            return None
        names += [target.id for target in targets if target.id not in names]
    return names or None


def stub_source(source: str, exercise_id: str, title: str) -> str:
    """Replace each solution block with a ``raise NotImplementedError`` at the same indentation.

    A block at the top level of the cell that only assigns names starting with ``answer`` (a
    checked question's ``answer_2_5 = 81``) becomes ``answer_2_5 = None  # YOUR ANSWER HERE`` instead, so the cell
    runs and the question's check says "not done yet".

    >>> print(stub_source("def f(x):\\n    ### BEGIN SOLUTION\\n    return x\\n    ### END SOLUTION", "1.1", "identity"))
    def f(x):
        # YOUR CODE HERE
        raise NotImplementedError("Exercise 1.1: identity")
    >>> print(stub_source("### BEGIN SOLUTION\\nanswer_2_5 = 81\\n### END SOLUTION", "2.5", "multiply-adds"))
    answer_2_5 = None  # YOUR ANSWER HERE
    """
    lines = source.split("\n")
    output, block, blocks, indent = [], None, 0, ""
    for line in lines:
        stripped = line.strip()
        if stripped == BEGIN:
            if block is not None:
                raise EditionError(f"exercise {exercise_id}: nested {BEGIN}")
            block, blocks = [], blocks + 1
            indent = line[: len(line) - len(line.lstrip())]
        elif stripped == END:
            if block is None:
                raise EditionError(f"exercise {exercise_id}: {END} without {BEGIN}")
            names = _answer_names(block) if indent == "" else None
            if names:
                output += [f"{name} = None  # YOUR ANSWER HERE" for name in names]
            else:
                output.append(f"{indent}# YOUR CODE HERE")
                output.append(f'{indent}raise NotImplementedError("Exercise {exercise_id}: {title}")')
            block = None
        elif block is not None:
            block.append(line)
        else:
            output.append(line)
    if block is not None:
        raise EditionError(f"exercise {exercise_id}: {BEGIN} without {END}")
    if blocks == 0:
        raise EditionError(f"exercise {exercise_id}: no {BEGIN} ... {END} block")
    return "\n".join(output)


def source_fingerprint(notebook) -> str:
    """SHA-256 of every cell's type, source and tags: what a build's outputs were made from."""
    digest = hashlib.sha256()
    for cell in notebook.cells:
        record = [cell.cell_type, cell.source, sorted(cell.get("metadata", {}).get("tags", []))]
        digest.update(json.dumps(record).encode())
    return digest.hexdigest()


def _clear(cell):
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None


def learner_edition(solution):
    """Derive the learner edition: stubs in exercise cells, no stored outputs for exercises and checks.

    Every other cell keeps the solution's outputs (its figures and numbers do not depend on the
    learner's code, because demonstration cells use the package's reference functions).
    """
    exercise_titles = {e.id: e.title for e in exercises(solution)}
    learner = copy.deepcopy(solution)
    for cell in learner.cells:
        role = cell_role(cell)
        if role is None:
            continue
        kind, exercise_id = role
        if kind == "exercise":
            cell.source = stub_source(cell.source, exercise_id, exercise_titles[exercise_id])
        _clear(cell)
    learner.metadata[META_KEY] = {**solution.metadata.get(META_KEY, {}), "edition": "learner"}
    return learner


def grading_copy(solution, submission, *, skip_demonstrations=True):
    """The notebook that grading runs: the pristine solution with the learner's exercise code.

    Every check cell, its expected output and every other cell come from the released solution,
    so editing, emptying or deleting a check, or editing a stored output, changes nothing.
    Returns the notebook and a dict of exercise id -> note (e.g. exercise cell missing).
    Demonstration cells tagged ``grading-skip`` are emptied unless ``skip_demonstrations`` is
    False (the tests grade each solution edition that way, so every stored output is compared).
    """
    learner_cells = {}
    for cell in submission.cells:
        role = cell_role(cell)
        if role and role[0] == "exercise" and cell.cell_type == "code":
            learner_cells.setdefault(role[1], cell.source)
    stubbed = learner_edition(solution)
    notes = {}
    graded = copy.deepcopy(solution)
    for cell, stub in zip(graded.cells, stubbed.cells, strict=True):
        role = cell_role(cell)
        if role is None or role[0] != "exercise":
            continue
        exercise_id = role[1]
        if exercise_id in learner_cells:
            cell.source = learner_cells[exercise_id]
        else:
            cell.source = stub.source
            notes[exercise_id] = (
                f"no cell tagged exercise-{exercise_id} in your notebook; graded the empty stub"
            )
        tags = cell.metadata.setdefault("tags", [])
        if IGNORE_OUTPUT_TAG not in tags:
            tags.append(IGNORE_OUTPUT_TAG)  # the learner may print anything while working
    for cell in graded.cells if skip_demonstrations else ():
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and GRADING_SKIP_TAG in tags and cell_role(cell) is None:
            # Kept as a cell, so the cell numbers in the grader's notes are JupyterLab's.
            cell.source = "# A demonstration, left out while grading (tag grading-skip)."
            cell.outputs = []
            if IGNORE_OUTPUT_TAG not in tags:
                tags.append(IGNORE_OUTPUT_TAG)
    return graded, notes


def read(path):
    return nbformat.read(str(path), as_version=4)


def write(notebook, path):
    """Write with a trailing newline and stable key order, so rebuilding gives identical bytes."""
    text = nbformat.writes(notebook) + "\n"
    Path(path).write_text(text, encoding="utf-8")
