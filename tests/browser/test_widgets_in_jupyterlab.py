"""The lessons' widgets, used the way a learner uses them: in JupyterLab, in a browser.

nbval runs every lesson but never renders a widget: a widget whose JavaScript side fails
("Error displaying widget: model not found"), or whose figure never updates when a control
changes, passes nbval. Each test here opens a lesson from a learner's working copy in JupyterLab
(headless Chromium), runs it, and drives one widget through its controls.

How the cells are run, and why. A learner edition has exercise stubs whose checks raise, and
JupyterLab's Run All stops at the first error, so Run All on a fresh learner copy would never
reach most widgets. Running only chosen cells (by position) would break whenever an author
moves a cell, and tagging checks ``raises-exception`` would change the notebook a learner sees.
Instead the working copy is the learner edition as ``sync_workspace`` copies it, with each
exercise stub replaced by the solution's code (``finish_exercises`` in conftest.py): what a
learner who finished the exercises has. Then the test uses the learner's own menus: Edit > Clear
Outputs of All Cells (so everything on the page comes from this run), then Run > Run All Cells,
and asserts that every code cell ran and none printed a traceback before it looks at a widget.
A failing check therefore fails the test with the check's message, not with a missing widget.

Each test saves screenshots of its widget before and after the change under
``test-artifacts/browser/`` (git-ignored); with ``UPDATE_SCREENSHOTS=1`` one screenshot per widget
is also copied to ``docs/screenshots/`` for the README. A test skips while its lesson is not
written yet.

Run time: JupyterLab and Chromium start once per session (6-14 s); each lesson then takes about
as long as its own cells, plus a few seconds to open and to drive the widget. Measured on 2 cores
shared with other builds (load 5-10): lesson 02 30-50 s, 03 20-33 s, 04 21-35 s, 08 23-62 s (its
training cell), 1 min 50 s to 2 min 40 s for all four. Run only these tests with
``.venv/bin/python -m pytest -m browser``; leave them out with ``-m "not browser"``.
"""

from __future__ import annotations

import re
import time

import pytest

from cnn_helpers.course import NOTEBOOKS_DIR

pytestmark = pytest.mark.browser


def needs_lesson(name: str):
    """Skip (before JupyterLab or Chromium start) while the lesson's learner edition is missing."""
    return pytest.mark.skipif(
        not (NOTEBOOKS_DIR / name).exists(),
        reason=f"lesson notebook {name} does not exist yet (no notebooks/{name}); nothing to test",
    )


def open_and_run(lab, name: str, timeout_s: float = 240) -> float:
    """Open lesson ``name`` from the working copy, run all its cells; return the seconds taken."""
    started = time.monotonic()
    lab.open_notebook(name)
    lab.run_all_cells(timeout_s=timeout_s)
    lab.assert_all_cells_ran()
    lab.assert_no_widget_errors()
    return time.monotonic() - started


def widget_text(widget) -> str:
    """The widget's visible text, plus the values of its inputs and selects (not in innerText)."""
    return widget.evaluate(
        """el => el.innerText + ' | ' + Array.from(el.querySelectorAll('input, select'))
                 .map(e => e.value).join(' ')"""
    )


def labelled(widget, control_class: str, label: str):
    """The ipywidgets control of class ``control_class`` whose description is exactly ``label``."""
    return (
        widget.locator(f".{control_class}")
        .filter(has=widget.page.locator(".widget-label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")))
        .first
    )


def nudge_slider(lab, widget, label: str, presses: int = 1, key: str = "ArrowRight"):
    """Move the slider described ``label`` with the keyboard, as a learner can."""
    handle = labelled(widget, "widget-slider", label).locator(".noUi-handle").first
    handle.focus()
    for _ in range(presses):
        lab.page.keyboard.press(key)


# ------------------------------------------------------------------------------------------------
# Lesson 02: the harness's first target (the multiply-and-sum stepper)


@needs_lesson("02-convolution.ipynb")
def test_multiply_and_sum_steps_in_jupyterlab(lab):
    open_and_run(lab, "02-convolution.ipynb")
    widget = lab.widget("cnn-multiply-and-sum")
    figure = widget.locator("img.widget-image").first
    before, _ = lab.image_digest(figure)
    text_before = widget.inner_text()
    assert "Step 1 of 9" in text_before, text_before
    lab.screenshot(widget, "02-multiply-and-sum-before")

    widget.get_by_role("button", name=re.compile("next")).click()
    after, size = lab.wait_for_new_image(figure, before)
    lab.page.wait_for_function("el => el.innerText.includes('Step 2 of 9')", arg=widget.element_handle())
    lab.screenshot(widget, "02-multiply-and-sum-after-next")

    nudge_slider(lab, widget, "step", presses=3)  # step 2 -> 5: the centre window
    lab.wait_for_new_image(figure, after)
    lab.page.wait_for_function("el => el.innerText.includes('Step 5 of 9')", arg=widget.element_handle())
    lab.screenshot(widget, "02-multiply-and-sum-after-slider", publish_as="02-multiply-and-sum")
    assert size > 1000
    lab.assert_no_widget_errors()


# ------------------------------------------------------------------------------------------------
# Lesson 03: the kernel playground


@needs_lesson("03-filters.ipynb")
def test_kernel_playground_in_jupyterlab(lab):
    open_and_run(lab, "03-filters.ipynb")
    widget = lab.widget("cnn-kernel-playground")
    figure = widget.locator("img.widget-image").first
    first, _ = lab.image_digest(figure)
    lab.screenshot(widget, "03-kernel-playground-before")

    # A preset: the nine boxes take the kernel's numbers and the figure is redrawn.
    preset = labelled(widget, "widget-dropdown", "preset").locator("select")
    preset.select_option("outline")
    after_preset, _ = lab.wait_for_new_image(figure, first)
    centre = labelled(widget, "widget-text", "k[1,1]").locator("input")
    lab.page.wait_for_function("input => parseFloat(input.value) === 8", arg=centre.element_handle())
    lab.screenshot(widget, "03-kernel-playground-after-preset", publish_as="03-kernel-playground")

    # One number box: the figure changes again and the preset no longer matches a named kernel.
    text_before = widget_text(widget)
    centre.fill("4")
    centre.press("Enter")
    lab.wait_for_new_image(figure, after_preset)
    lab.page.wait_for_function("select => select.value === 'custom'", arg=preset.element_handle())
    assert widget_text(widget) != text_before
    lab.screenshot(widget, "03-kernel-playground-after-edit")
    lab.assert_no_widget_errors()


# ------------------------------------------------------------------------------------------------
# Lesson 04: the padding and stride explorer


def stated_output_shape(widget):
    """The output shape the explorer's text states ("Output 3 × 3: ..."), or None."""
    match = re.search(r"Output (\d+) × (\d+)", widget.inner_text())
    return (int(match.group(1)), int(match.group(2))) if match else None


def slider_value(widget, label: str) -> int:
    return int(labelled(widget, "widget-slider", label).locator(".widget-readout").inner_text())


def expected_shape(n, k, p_h, p_w, s):
    """floor((n + 2p - k) / s) + 1 on each axis, worked out here independently of the package."""
    return ((n + 2 * p_h - k) // s + 1, (n + 2 * p_w - k) // s + 1)


@needs_lesson("04-padding-and-stride.ipynb")
def test_padding_explorer_in_jupyterlab(lab):
    open_and_run(lab, "04-padding-and-stride.ipynb")
    widget = lab.widget("cnn-padding-explorer")
    figure = widget.locator("img.widget-image").first
    labels = ["input size n", "kernel size k", "padding p_h (rows)", "padding p_w (cols)", "stride s"]

    def settings():
        return [slider_value(widget, label) for label in labels]

    def wait_for_shape(shape):
        lab.page.wait_for_function(
            "([el, text]) => el.innerText.includes(text)",
            arg=[widget.element_handle(), f"Output {shape[0]} × {shape[1]}"],
        )

    start = settings()
    assert stated_output_shape(widget) == expected_shape(*start), (start, widget.inner_text())
    digest, _ = lab.image_digest(figure)
    lab.screenshot(widget, "04-padding-explorer-before")

    # One step up the stride slider: fewer windows fit, the figure and the stated shape change.
    nudge_slider(lab, widget, "stride s")
    digest, _ = lab.wait_for_new_image(figure, digest)
    after_stride = settings()
    assert after_stride[4] == start[4] + 1, after_stride
    wait_for_shape(expected_shape(*after_stride))
    assert expected_shape(*after_stride) != expected_shape(*start)
    lab.screenshot(widget, "04-padding-explorer-after-stride", publish_as="04-padding-explorer")

    # One step down the row padding: only the number of output rows changes.
    nudge_slider(lab, widget, "padding p_h (rows)", key="ArrowLeft")
    lab.wait_for_new_image(figure, digest)
    after_padding = settings()
    assert after_padding[2] == after_stride[2] - 1, after_padding
    wait_for_shape(expected_shape(*after_padding))
    lab.screenshot(widget, "04-padding-explorer-after-padding")
    lab.assert_no_widget_errors()


# ------------------------------------------------------------------------------------------------
# Lesson 08: live training curves (and the feature maps, if the lesson shows them)


def cells_calling_with(lab, name: str, keyword: str, value) -> list[int]:
    """Indices (0-based, all cells) of the working copy's code cells that call something with ``keyword=value``.

    The source is parsed, so a cell that only defines such a function, or names the keyword in
    a docstring or a comment, is not counted: only a real call draws anything.
    """
    import ast

    import nbformat

    notebook = nbformat.read(str(lab.server.root_dir / name), as_version=4)
    found = []
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython magics: not a cell this looks for
            continue
        if any(
            isinstance(node, ast.Call)
            and any(
                k.arg == keyword and isinstance(k.value, ast.Constant) and k.value.value == value
                for k in node.keywords
            )
            for node in ast.walk(tree)
        ):
            found.append(i)
    return found


@needs_lesson("08-a-trainable-cnn.ipynb")
def test_training_curves_in_jupyterlab(lab):
    name = "08-a-trainable-cnn.ipynb"
    live = cells_calling_with(lab, name, "live_plot", True)
    assert live, f"{name} has no cell calling fit(..., live_plot=True): no live training curves to check"

    lab.open_notebook(name)
    lab.run_all_cells(timeout_s=600, before_run=lambda: lab.watch_images(live))
    lab.assert_all_cells_ran()
    lab.assert_no_widget_errors()

    # The curves appeared and were redrawn while training ran (one figure per epoch, in place).
    assert lab.watched_image_count() >= 2, (
        f"the live curves were drawn {lab.watched_image_count()} time(s); expected one redraw per epoch"
    )
    cell = lab.cell(live[0])
    curves = cell.locator(".jp-OutputArea img").last
    lab.image_digest(curves)
    lab.screenshot(
        cell.locator(".jp-OutputArea").first, "08-training-curves", publish_as="08-training-curves"
    )

    # The feature-map explorer, if the lesson has one: the next digit redraws its maps.
    if lab.page.locator(".jp-OutputArea .cnn-feature-maps").count():
        widget = lab.widget("cnn-feature-maps")
        figure = widget.locator("img.widget-image").first
        before, _ = lab.image_digest(figure)
        text_before = widget_text(widget)
        lab.screenshot(widget, "08-feature-maps-before")
        nudge_slider(lab, widget, "digit #")
        lab.wait_for_new_image(figure, before)
        assert widget_text(widget) != text_before
        lab.screenshot(widget, "08-feature-maps-after-digit", publish_as="08-feature-maps")
        lab.assert_no_widget_errors()
