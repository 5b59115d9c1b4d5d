"""The "(lesson NN)" tags in the docstrings of the package's modules are true.

A tag in a function's or class's summary line, like "(lessons 02, 04)" or "(lessons 01-07)",
must name exactly the lessons whose solution notebooks use that name in a code cell.
"""

import importlib
import inspect
import re
from pathlib import Path

import nbformat
import pytest

# Every module a lesson imports names from: the math, the figures and the widgets.
MODULES = [
    importlib.import_module(f"cnn_helpers.{name}")
    for name in (
        "images",
        "data",
        "conv",
        "filters",
        "pooling",
        "layers",
        "model",
        "optim",
        "gradcheck",
        "training",
        "receptive_field",
        "blocks",
        "dense_prediction",
        "plotting",
        "widgets",
    )
]

ROOT = Path(__file__).resolve().parents[1]
TAG = re.compile(r"\(lessons? ([0-9][0-9 ,\-]*(?:and [0-9]+)?)\)")


def lessons_in_tag(summary):
    match = TAG.search(summary)
    if match is None:
        return None
    numbers = set()
    for part in re.split(r",|\band\b", match.group(1)):
        part = part.strip()
        if "-" in part:
            first, last = (int(n) for n in part.split("-"))
            numbers.update(range(first, last + 1))
        elif part:
            numbers.add(int(part))
    return numbers


def _code_by_lesson():
    code = {}
    for path in sorted((ROOT / "notebooks" / "solutions").glob("[0-9][0-9]-*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        code[int(path.name[:2])] = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    return code


CODE = _code_by_lesson()


def _tagged_names():
    found = []
    seen = set()
    for module in MODULES:
        for name in getattr(module, "__all__", None) or dir(module):
            value = getattr(module, name)
            if name.startswith("_") or not (inspect.isfunction(value) or inspect.isclass(value)):
                continue
            if id(value) in seen:  # re-exported by a package (plotting, widgets, data): test it once
                continue
            seen.add(id(value))
            summary = (inspect.getdoc(value) or "").split("\n\n")[0]
            lessons = lessons_in_tag(summary)
            if lessons is not None:
                found.append((f"{value.__module__}.{name}", name, lessons))
    return found


TAGGED = _tagged_names()


def uses(code, name):
    """Whether lesson code uses the package's ``name``: calls it, reads it as an attribute
    (``conv.correlate2d``) or imports it; a variable or a function of the lesson's own with the
    same name does not count."""
    called = rf"(?<![\w.])(?<!def )(?<!class ){name}\s*\("
    return bool(
        re.search(rf"{called}|\.{name}\b|^\s*from\s+cnn_helpers\S*\s+import\b[^#\n]*\b{name}\b", code, re.M)
    )


def test_the_tag_parser():
    assert lessons_in_tag("A photo (lessons 01-03, 05).") == {1, 2, 3, 5}
    assert lessons_in_tag("Shapes (lessons 09 and 10).") == {9, 10}
    assert lessons_in_tag("Shapes (lesson 10).") == {10}
    assert lessons_in_tag("No tag here.") is None


def test_the_tagged_names_include_the_ones_issue_11_names():
    assert {"load_digits", "load_photo", "shift_images"} <= {name for _, name, _ in TAGGED}


@pytest.mark.parametrize("dotted, name, lessons", TAGGED, ids=[dotted for dotted, _, _ in TAGGED])
def test_each_tag_names_the_lessons_that_use_it(dotted, name, lessons):
    used = {lesson for lesson, code in CODE.items() if uses(code, name)}
    assert lessons == used, (
        f"{dotted}'s docstring says lessons {sorted(lessons)}, but the solution notebooks that use "
        f"{name} are {sorted(used)}"
    )
