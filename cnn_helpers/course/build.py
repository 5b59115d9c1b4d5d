"""Build both editions of each lesson from its source (the solution edition).

For each ``notebooks/solutions/NN-name.ipynb``:

1. execute it in a fresh kernel and store its outputs (deterministic: seeded, no timings in
   checked cells, no widget state);
2. derive the learner edition (:func:`editions.learner_edition`) and execute that in a fresh
   kernel too, to prove every check fails on the stubs and every other cell runs and prints the
   same as in the solution;
3. write both files, stamped with the fingerprint of the sources they were built from.
"""

from __future__ import annotations

import time
from pathlib import Path

from . import NOTEBOOKS_DIR, SOLUTIONS_DIR, editions, kernel_environment

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}


class BuildError(RuntimeError):
    """A lesson did not build: the message names the notebook, the cell and what went wrong."""


def execute(notebook, cwd: Path, timeout: int = 900, allow_errors: bool = False):
    """Run every cell in a fresh kernel (nbclient), in place."""
    from nbclient import NotebookClient

    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        record_timing=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute(env=kernel_environment())
    return notebook


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def normalise(notebook):
    """Make stored outputs depend only on the code: no widget models, no timing metadata,
    no interpreter version."""
    for cell in notebook.cells:
        cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type != "code":
            continue
        if editions.WIDGET_TAG in _tags(cell):
            cell.outputs = []  # widget state is not saved; the static figure beside it is checked
            continue
        # Without saved widget state JupyterLab would show "Error displaying widget", and the
        # plain-text fallback is the widget's state when first shown (a progress bar at 0%), so
        # widget outputs are dropped whole. verify_solution_run keeps them out of checked cells.
        cell.outputs = [o for o in cell.outputs if WIDGET_MIME not in o.get("data", {})]
    notebook.metadata.pop("widgets", None)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata["language_info"] = dict(LANGUAGE_INFO)
    return notebook


def _text_outputs(cell):
    """The parts of a cell's output that nbval compares (text, not images).

    Consecutive chunks of one stream are merged: a kernel may split the same printed text into
    chunks differently from run to run.
    """
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            name, text = output.get("name"), output.get("text")
            if texts and texts[-1][0] == name:
                texts[-1] = (name, texts[-1][1] + text)
            else:
                texts.append((name, text))
        elif output.get("output_type") == "error":
            texts.append(("error", output.get("ename")))
        else:
            texts.append(("data", output.get("data", {}).get("text/plain")))
    return texts


def verify_solution_run(notebook, name):
    """Run on the executed notebook before :func:`normalise`: no errors, no noise in checked cells."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        checked = editions.IGNORE_OUTPUT_TAG not in _tags(cell)
        if checked and any(WIDGET_MIME in o.get("data", {}) for o in cell.outputs):
            raise BuildError(
                f"{name}: cell {index} displays a widget (or a progress bar) but its output is checked; "
                f"tag it {editions.IGNORE_OUTPUT_TAG} (and 'widget' for an explorer) and show a static figure"
            )
        for output in cell.outputs:
            if output.get("output_type") == "error":
                raise BuildError(f"{name}: cell {index} raised {output['ename']}: {output['evalue']}")
            if checked and output.get("output_type") == "stream" and output.get("name") == "stderr":
                raise BuildError(
                    f"{name}: cell {index} wrote to stderr (warnings are not deterministic output); "
                    f"fix it or tag the cell {editions.IGNORE_OUTPUT_TAG}:\n{output['text'][:500]}"
                )


def verify_learner_run(learner_run, solution, name):
    """Every check must fail on the stubs; every other cell must run and print as in the solution."""
    for index, (ran, reference) in enumerate(zip(learner_run.cells, solution.cells, strict=True)):
        if ran.cell_type != "code":
            continue
        role = editions.cell_role(ran)
        errors = [o for o in ran.outputs if o.get("output_type") == "error"]
        if role and role[0] == "check":
            if not errors:
                raise BuildError(f"{name}: check-{role[1]} (cell {index}) passed on the learner's stub")
            continue
        if errors:
            raise BuildError(
                f"{name}: cell {index} fails in the learner edition ({errors[0]['ename']}: "
                f"{errors[0]['evalue']}); demonstration cells must not call the learner's functions"
            )
        if (
            role is None
            and editions.IGNORE_OUTPUT_TAG not in _tags(ran)
            and _text_outputs(ran) != _text_outputs(reference)
        ):
            raise BuildError(f"{name}: cell {index} prints differently in the learner edition")


def build_lesson(source_path: Path, learner_dir: Path = NOTEBOOKS_DIR, timeout: int = 900) -> dict:
    """Build one lesson; return timings. Writes the solution edition back to ``source_path``."""
    source_path = Path(source_path)
    name = source_path.name
    solution = editions.read(source_path)
    lesson = editions.lesson_id(solution, source_path)
    editions.exercises(solution)  # fails early on broken tags or markers
    fingerprint = editions.source_fingerprint(solution)

    started = time.perf_counter()
    for cell in solution.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    execute(solution, cwd=learner_dir, timeout=timeout)
    verify_solution_run(solution, name)
    normalise(solution)
    solution.metadata[editions.META_KEY] = {
        "lesson": lesson,
        "edition": "solution",
        "source_sha256": fingerprint,
    }
    solution_seconds = time.perf_counter() - started

    learner = editions.learner_edition(solution)
    started = time.perf_counter()
    learner_run = execute(
        editions.learner_edition(solution), cwd=learner_dir, timeout=timeout, allow_errors=True
    )
    verify_learner_run(learner_run, solution, name)
    learner_seconds = time.perf_counter() - started

    editions.write(solution, source_path)
    editions.write(learner, Path(learner_dir) / name)
    return {"lesson": lesson, "solution_seconds": solution_seconds, "learner_seconds": learner_seconds}


def lesson_sources(selection=None) -> list[Path]:
    """Source notebooks, all or those whose number or name matches ``selection``."""
    sources = sorted(SOLUTIONS_DIR.glob("[0-9][0-9]-*.ipynb"))
    if not selection:
        return sources
    chosen = [p for p in sources if any(p.name.startswith(s.zfill(2)) or p.stem == s for s in selection)]
    missing = [s for s in selection if not any(p.name.startswith(s.zfill(2)) or p.stem == s for p in sources)]
    if missing:
        raise BuildError(f"no lesson source matches {missing}; sources are {[p.name for p in sources]}")
    return chosen


def build(selection=None, timeout: int = 900) -> list[dict]:
    results = []
    for source in lesson_sources(selection):
        print(f"building {source.name} ...", flush=True)
        result = build_lesson(source, timeout=timeout)
        print(
            f"  solution run {result['solution_seconds']:.1f} s, learner run {result['learner_seconds']:.1f} s",
            flush=True,
        )
        results.append(result)
    return results
