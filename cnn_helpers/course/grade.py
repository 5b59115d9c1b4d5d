"""Grade learners' notebooks under pytest + nbval, without touching the learner's files.

For each submitted notebook the grader:

1. reads it as plain JSON (never as code) and checks its lesson id against the released lessons;
2. builds a grading copy in a temporary folder: the released solution edition with each exercise
   cell's code taken from the learner (:func:`editions.grading_copy`), so checks and their
   expected outputs cannot be edited, emptied or deleted by the learner;
3. runs the copy under ``pytest --nbval`` in a fresh kernel, inside a bubblewrap sandbox where
   one is available (:mod:`.sandbox`), with a time limit per cell and per notebook;
4. reads the result from the harness's stdout pipe (never from a file), scores each exercise by
   its check cells and reports a hint from each failure.

Anything that goes wrong while grading one notebook becomes that notebook's error row; a batch
always finishes.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from . import SOLUTIONS_DIR, editions, sandbox

DEFAULT_CELL_TIMEOUT = 120
DEFAULT_NOTEBOOK_MINUTES = 10
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
LESSON_ID = re.compile(r"^\d\d$")
CELL_LINE = re.compile(r"Cell In\[\d+\], line (\d+)")
ERROR_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*(?:Error|Exception|Interrupt|Exit|Died))\b:?\s*(.*)$")


@dataclass
class ExerciseResult:
    id: str
    title: str
    passed: bool
    points: int
    max_points: int
    message: str = ""


@dataclass
class NotebookResult:
    path: str
    lesson: str
    exercises: list = field(default_factory=list)
    points: int = 0
    max_points: int = 0
    seconds: float = 0.0
    ungraded_failures: list = field(default_factory=list)
    error: str = ""
    notes: list = field(default_factory=list)
    sandboxed: bool = False


@dataclass
class Submission:
    """One notebook to grade: whose it is, and anything the collection found worth saying."""

    learner: str
    path: Path
    notes: list = field(default_factory=list)
    error: str = ""


class GradeError(RuntimeError):
    """The grader could not grade a file (not a lesson notebook, no reference found, ...)."""


# ---------------------------------------------------------------------------------- lessons


def released_lessons(reference_dir: Path = SOLUTIONS_DIR) -> dict:
    """``{"01": path, ...}``: the released solution editions (regular files, never links)."""
    found = {}
    for path in sorted(Path(reference_dir).glob("[0-9][0-9]-*.ipynb")):
        if path.is_file() and not path.is_symlink():
            found.setdefault(path.name[:2], path)
    return found


def find_reference(lesson: str, reference_dir: Path = SOLUTIONS_DIR) -> Path:
    """The released solution edition of ``lesson`` (two digits naming a released lesson)."""
    released = released_lessons(reference_dir)
    if not isinstance(lesson, str) or not LESSON_ID.match(lesson):
        raise GradeError(f"lesson id {lesson!r} is not two digits (expected e.g. '02')")
    if lesson not in released:
        raise GradeError(
            f"lesson {lesson} is not a released lesson (released: {', '.join(released) or 'none'} in {reference_dir})"
        )
    return released[lesson]


def lesson_of(raw: dict, path: Path, released) -> str:
    """The submission's lesson id, from ``metadata.cnn_course.lesson`` or its ``NN-`` file name.

    The id must be two digits naming a released lesson; it is never used as a path.
    """
    metadata = raw.get("metadata") if isinstance(raw, dict) else None
    course = metadata.get(editions.META_KEY) if isinstance(metadata, dict) else None
    stored = course.get("lesson") if isinstance(course, dict) else None
    if stored is not None:
        if not isinstance(stored, str) or not LESSON_ID.match(stored):
            raise GradeError(
                f"metadata {editions.META_KEY}.lesson is {_short(stored)}: expected two digits naming a "
                f"released lesson ({', '.join(released)})"
            )
        lesson = stored
    else:
        match = re.match(r"^(\d\d)-", path.name)
        if not match:
            raise GradeError(
                "cannot tell which lesson this is: no cnn_course.lesson metadata and no NN- file name prefix"
            )
        lesson = match.group(1)
    if lesson not in released:
        raise GradeError(f"lesson {lesson} is not a released lesson (released: {', '.join(released)})")
    return lesson


def _short(value, limit=80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def safe_text(text) -> str:
    """``text`` without control characters (file names and learner names are printed and written)."""
    return "".join(c if c.isprintable() else "?" for c in str(text))


# ------------------------------------------------------------------------------- submission


def read_submission(path: Path) -> dict:
    """The notebook at ``path`` as plain JSON; refuses links, huge files and non-notebooks."""
    path = Path(path)
    if path.is_symlink():
        raise GradeError("refused: a symbolic link (grade the notebook itself, not a link to it)")
    if not path.is_file():
        raise GradeError("not a regular file")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise GradeError(f"larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB: not graded")
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise GradeError(f"not a readable notebook: {error}") from error
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", []), list):
        raise GradeError("not a readable notebook: expected a JSON object with a list of cells")
    return raw


def exercise_cells(raw: dict):
    """A minimal notebook holding only the submission's code cells with string tags and source.

    Whatever else the learner's JSON holds (tags that are not strings, cells without source, odd
    metadata) is dropped here, so nothing in it can reach the grader's logic or the kernel.
    """
    cells = []
    for cell in raw.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        tags = metadata.get("tags") if isinstance(metadata.get("tags"), list) else []
        tags = [t for t in tags if isinstance(t, str) and editions.TAG_PATTERN.match(t)]
        if not tags:
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str):
            source = ""
        cells.append(nbformat.v4.new_code_cell(source=source, metadata={"tags": tags}))
    return nbformat.v4.new_notebook(cells=cells)


# ---------------------------------------------------------------------------------- messages


def _error_summary(detail: str) -> str:
    """``Type: message (line N of the cell)`` from a cell's traceback."""
    found = [ERROR_LINE.match(line) for line in detail.splitlines()]
    found = [m for m in found if m and not m.group(1).startswith("nbval")]
    if not found:
        return detail.strip().splitlines()[-1][:300] if detail.strip() else "failed"
    kind, message = found[-1].group(1), found[-1].group(2).strip()
    lines = CELL_LINE.findall(detail)
    where = f" (line {lines[-1]} of the cell)" if lines else ""
    return f"{kind}: {message}"[:300] + where


def hint_from(record: dict, cell_timeout: float) -> str:
    """Turn one failed cell's pytest report into a one-paragraph hint for the learner."""
    detail = record.get("detail", "")
    if "KernelDied" in detail:
        return sandbox_message_kernel_died()
    if "Kernel dead on test start" in detail:
        return "not run: the kernel had died or been stopped in an earlier cell"
    if "Failed to interrupt kernel" in detail or record.get("killed"):
        return (
            f"timed out after {cell_timeout:g} s per cell and ignored the interrupt, so its kernel was "
            "stopped: is there an infinite loop (one that catches KeyboardInterrupt)?"
        )
    if record.get("skipped_after_timeout") and "CheckFailure:" not in detail:
        return "not run to completion: an earlier cell timed out"
    if "Timeout of" in detail or (record.get("timed_out") and "KeyboardInterrupt" in detail):
        return f"timed out after {cell_timeout:g} s per cell: is there an infinite loop?"
    if "CheckFailure:" in detail:
        return detail.rsplit("CheckFailure:", 1)[1].strip()
    if "NotImplementedError" in detail:
        return "not done yet: the exercise still raises NotImplementedError"
    if "Cell outputs differ" in detail or "mismatch" in detail.lower():
        return "the check ran but printed something different from the reference (does your function print?)"
    return _error_summary(detail)


def sandbox_message_kernel_died() -> str:
    from ._recorder import KERNEL_DIED

    return KERNEL_DIED


# ---------------------------------------------------------------------------------- harness

_running = set()
_running_lock = threading.Lock()
_cancelled = threading.Event()


def _kill(process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        process.kill()


def stop_all() -> None:
    """Kill every running grading (their sandboxes end with them); used on Ctrl-C, SIGTERM, SIGHUP."""
    _cancelled.set()
    with _running_lock:
        processes = list(_running)
    for process in processes:
        _kill(process)


def _run_harness(folder: Path, notebook: Path, cell_timeout, minutes, use_sandbox, limits) -> list:
    """Run pytest + nbval on ``notebook``; return its per-cell records, read from its stdout."""
    if _cancelled.is_set():
        raise GradeError("grading was cancelled")
    (folder / "pytest.ini").write_text("[pytest]\naddopts =\n", encoding="utf-8")
    inside = Path(sandbox.HARNESS_DIR) / "in" if use_sandbox else folder
    harness = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "nbval.plugin",
        "--nbval",
        "--nbval-current-env",
        f"--nbval-cell-timeout={cell_timeout}",
        "-p",
        "cnn_helpers.course._recorder",
        "-p",
        "no:cacheprovider",
        "--noconftest",
        "-q",
        "--color=no",
        "-c",
        str(inside / "pytest.ini"),
        "--rootdir",
        str(inside),
        str(inside / notebook.name),
    ]
    kernel_env = {
        "CNN_COURSE_GRADE_TOKEN_FD": "0",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "CNN_COURSE_KERNEL_MEMORY_MB": str(limits.memory_mb),
        "CNN_COURSE_KERNEL_PROCESSES": str(limits.processes),
        "CNN_COURSE_KERNEL_FILE_SIZE_MB": str(limits.file_size_mb),
    }
    if use_sandbox:
        if sandbox._is_root():
            kernel_env["CNN_COURSE_KERNEL_UID"] = str(200_000 + secrets.randbelow(1_000_000))
        kernel_env["CNN_COURSE_KERNEL_HOME"] = sandbox.KERNEL_HOME
        command = sandbox.sandbox_command(folder, harness, env=kernel_env)
        env, cwd = None, None
    else:
        env = {**sandbox.harness_environment(str(folder)), **kernel_env}
        for key in ("HOME", "TMPDIR", "JUPYTER_RUNTIME_DIR"):
            Path(env[key]).mkdir(parents=True, exist_ok=True)
        command, cwd = harness, folder
    token = sandbox.new_token()
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    with _running_lock:
        _running.add(process)
    try:
        try:
            out, err = process.communicate(input=(token + "\n").encode(), timeout=minutes * 60)
        except subprocess.TimeoutExpired:
            _kill(process)
            process.communicate()
            raise GradeError(
                f"still running after the limit of {minutes:g} min per notebook: stopped"
            ) from None
    finally:
        _kill(process)
        with _running_lock:
            _running.discard(process)
    if _cancelled.is_set():
        raise GradeError("grading was cancelled")
    prefix = (token + " ").encode()
    reports = [line[len(prefix) :] for line in out.splitlines() if line.startswith(prefix)]
    if len(reports) != 1:
        tail = (out[-1500:] + b"\n" + err[-1500:]).decode("utf-8", "replace").strip()
        raise GradeError(
            f"the grading harness stopped without a result (exit code {process.returncode}):\n{tail}"
        )
    return json.loads(reports[0])


# ---------------------------------------------------------------------------------- grading


def add_note(notes: list, number, hint: str) -> None:
    """Append ``cell N: hint``; a run of "not run" cells with one hint becomes ``cells N-M: hint``.

    >>> notes = []
    >>> for n in (3, 5, 6, 7): add_note(notes, n, "boom" if n == 3 else "not run: dead")
    >>> notes
    ['cell 3: boom', 'cells 5-7: not run: dead']
    """
    if notes and hint.startswith("not run") and notes[-1].endswith(": " + hint):
        first = notes[-1].split(":", 1)[0].split()[1].split("-")[0]
        notes[-1] = f"cells {first}-{number}: {hint}"
    else:
        notes.append(f"cell {number}: {hint}")


def grade_notebook(
    path,
    reference_dir: Path = SOLUTIONS_DIR,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    *,
    use_sandbox: bool | None = None,
    limits: sandbox.Limits | None = None,
    minutes: float = DEFAULT_NOTEBOOK_MINUTES,
    skip_demonstrations: bool = True,
) -> NotebookResult:
    """Grade one learner notebook. Never writes to ``path``.

    ``use_sandbox`` None means: in a sandbox if one is available here. ``skip_demonstrations``
    False also runs the long demonstrations tagged ``grading-skip`` (the tests do, on solutions).
    """
    path = Path(path)
    started = time.perf_counter()
    limits = limits or sandbox.Limits()
    if use_sandbox is None:
        use_sandbox = sandbox.availability()[0]
    elif use_sandbox and not sandbox.availability()[0]:
        raise GradeError(f"no sandbox: {sandbox.availability()[1]}")
    released = released_lessons(reference_dir)
    raw = read_submission(path)
    lesson = lesson_of(raw, path, released)
    reference = editions.read(find_reference(lesson, reference_dir))
    graded, notes = editions.grading_copy(
        reference, exercise_cells(raw), skip_demonstrations=skip_demonstrations
    )
    exercises = editions.exercises(reference)
    positions = {cell.get("id"): number for number, cell in enumerate(graded.cells, start=1)}
    result = NotebookResult(path=str(path), lesson=lesson, sandboxed=bool(use_sandbox))

    with tempfile.TemporaryDirectory(prefix="cnn-grade-") as temporary:
        folder = Path(temporary)
        copy_path = folder / f"lesson{lesson}.ipynb"  # a safe name, whatever the learner's file is called
        editions.write(graded, copy_path)
        os.chmod(folder, 0o755)
        records = _run_harness(folder, copy_path, cell_timeout, minutes, use_sandbox, limits)

    failures_by_exercise, exercise_errors, checked = {}, {}, set()
    for record in records:
        tags = [t for t in record.get("tags", []) if isinstance(t, str)]
        role = next(
            (editions.TAG_PATTERN.match(t).groups() for t in tags if editions.TAG_PATTERN.match(t)), None
        )
        if role and role[0] == "check":
            checked.add(role[1])
            if not record["passed"]:
                failures_by_exercise.setdefault(role[1], hint_from(record, cell_timeout))
        elif role and role[0] == "exercise":
            if not record["passed"]:
                exercise_errors.setdefault(role[1], record)
        elif not record["passed"]:
            number = positions.get(record.get("cell_id"), "?")
            add_note(result.ungraded_failures, number, hint_from(record, cell_timeout))
    for exercise in exercises:
        passed = (
            exercise.id in checked
            and exercise.id not in failures_by_exercise
            and exercise.id not in exercise_errors
        )
        message = failures_by_exercise.get(exercise.id, "" if passed else "check cell did not run")
        if exercise.id in exercise_errors:
            record = exercise_errors[exercise.id]
            hint = hint_from(record, cell_timeout)
            if hint == _error_summary(record.get("detail", "")):
                hint = f"your exercise cell raised {hint}"
            message = hint
        if exercise.id in notes:
            message = f"{notes[exercise.id]}; {message}" if message else notes[exercise.id]
        points = exercise.points if passed else 0
        result.exercises.append(
            ExerciseResult(exercise.id, exercise.title, passed, points, exercise.points, message)
        )
    result.points = sum(e.points for e in result.exercises)
    result.max_points = sum(e.max_points for e in result.exercises)
    result.seconds = round(time.perf_counter() - started, 1)
    return result


# ------------------------------------------------------------------------------- collection


def _notebooks_in(folder: Path):
    """(notebooks, refused links) under ``folder``, never following links, skipping hidden folders."""
    notebooks, links = [], []
    for root, dirs, files in os.walk(folder, followlinks=False):
        root_path = Path(root)
        for name in list(dirs):
            if (root_path / name).is_symlink():
                links.append(root_path / name)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (root_path / d).is_symlink())
        for name in sorted(files):
            if name.endswith(".ipynb") and not name.startswith("."):
                (links if (root_path / name).is_symlink() else notebooks).append(root_path / name)
    return notebooks, links


def _peek_lesson(path: Path, released):
    try:
        return lesson_of(read_submission(path), path, released)
    except GradeError:
        return None


def _deduplicate(learner: str, notebooks, released, base: Path):
    """One notebook per lesson per learner: the one nearest the top of the folder, then by name."""
    by_lesson, order = {}, []
    for notebook in notebooks:
        lesson = _peek_lesson(notebook, released)
        key = lesson or f"?{notebook}"
        if key not in by_lesson:
            order.append(key)
        by_lesson.setdefault(key, []).append(notebook)
    submissions = []
    for key in order:
        candidates = sorted(by_lesson[key], key=lambda p: (len(p.relative_to(base).parts), str(p)))
        chosen = Submission(learner, candidates[0])
        if len(candidates) > 1:
            others = ", ".join(safe_text(p.relative_to(base)) for p in candidates[1:])
            chosen.notes.append(
                f"{len(candidates)} notebooks of lesson {key} found; graded {safe_text(candidates[0].relative_to(base))}, "
                f"not graded: {others}"
            )
        submissions.append(chosen)
    return submissions


def collect(paths, reference_dir: Path = SOLUTIONS_DIR) -> list:
    """Expand notebooks and folders into :class:`Submission` objects.

    A folder with notebooks at its top and at most one subfolder holding notebooks is one
    learner's working folder: its top notebooks are graded, and a note names the subfolder's
    notebooks that were not. A folder with two or more subfolders holding notebooks (or only
    subfolders) is a class: each subfolder is one learner (one notebook per lesson; duplicates
    are reported), and a notebook at the top of a class folder is graded as a learner named after
    the file, with a note saying so. Symbolic links are refused.
    """
    released = released_lessons(reference_dir)
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_symlink():
            found.append(Submission("", path, error="refused: a symbolic link"))
        elif path.is_file():
            found.append(Submission("", path))
        elif path.is_dir():
            direct = sorted(
                p for p in path.iterdir() if p.name.endswith(".ipynb") and not p.name.startswith(".")
            )
            learners = []
            for sub in sorted(p for p in path.iterdir() if not p.name.startswith(".")):
                if sub.is_symlink() and sub.is_dir():
                    learners.append((sub, [], [sub]))
                elif sub.is_dir():
                    notebooks, links = _notebooks_in(sub)
                    if notebooks or links:
                        learners.append((sub, notebooks, links))
            if direct and len(learners) < 2:
                # One learner's working folder (work/), perhaps with a folder of drafts beside the
                # lessons: grade the notebooks at the top and say which others were left out.
                notes = [
                    f"not graded: {len(notebooks) + len(links)} notebook(s) in the subfolder "
                    f"{safe_text(sub.name)}/ ({', '.join(safe_text(n.name) for n in [*notebooks, *links][:3])}"
                    f"{', ...' if len(notebooks) + len(links) > 3 else ''}); the grader takes the notebooks at the "
                    f"top of {safe_text(path)} (for a class, put each learner's notebooks in a subfolder of their own)"
                    for sub, notebooks, links in learners
                ]
                for notebook in direct:
                    if notebook.is_symlink():
                        found.append(Submission("", notebook, list(notes), error="refused: a symbolic link"))
                    else:
                        found.append(Submission("", notebook, list(notes)))
                continue
            for notebook in direct:
                name = f"(top) {safe_text(notebook.name)}"
                note = (
                    f"{safe_text(notebook.name)} lies at the top of the class folder {safe_text(path)}, not in a "
                    f"learner's subfolder: graded as learner '{name}'"
                )
                if notebook.is_symlink():
                    found.append(Submission(name, notebook, [note], error="refused: a symbolic link"))
                else:
                    found.append(Submission(name, notebook, [note]))
            for sub, notebooks, links in learners:
                learner = safe_text(sub.name)
                found.extend(_deduplicate(learner, notebooks, released, sub))
                for link in links:
                    found.append(Submission(learner, link, error="refused: a symbolic link"))
        else:
            raise GradeError(f"{safe_text(raw)} does not exist")
    if not found:
        raise GradeError(f"no notebooks found in {', '.join(safe_text(p) for p in paths)}")
    return found


def is_class(submissions) -> bool:
    return any(s.learner for s in submissions)


def grade_all(
    paths,
    reference_dir=SOLUTIONS_DIR,
    cell_timeout=DEFAULT_CELL_TIMEOUT,
    jobs=2,
    *,
    use_sandbox: bool | None = None,
    unsafe: bool = False,
    limits: sandbox.Limits | None = None,
    minutes: float = DEFAULT_NOTEBOOK_MINUTES,
    skip_demonstrations: bool = True,
):
    """Grade every notebook under ``paths`` (in parallel); return (learner, NotebookResult) pairs.

    A class (learners' subfolders) is graded only in a sandbox, unless ``unsafe``. Every failure
    while grading one notebook becomes that notebook's ``error``; the batch always finishes.
    """
    if not (isinstance(cell_timeout, (int, float)) and cell_timeout > 0):
        raise GradeError(f"cell_timeout must be a positive number of seconds, got {cell_timeout!r}")
    submissions = collect(paths, reference_dir)
    available, why = sandbox.availability()
    if use_sandbox is None:
        use_sandbox = available
    if use_sandbox and not available:
        raise GradeError(f"no sandbox: {why}")
    if not use_sandbox and is_class(submissions) and not unsafe:
        reason = why or "the sandbox was turned off"
        raise GradeError(
            f"refusing to grade a class without a sandbox ({reason}). Learners' code would run as you, "
            "with your files and environment; pass --unsafe only for notebooks you trust"
        )
    _cancelled.clear()

    def one(submission):
        started = time.perf_counter()
        if submission.error:
            result = NotebookResult(path=safe_text(submission.path), lesson="?", error=submission.error)
        else:
            try:
                result = grade_notebook(
                    submission.path,
                    reference_dir,
                    cell_timeout,
                    use_sandbox=use_sandbox,
                    limits=limits,
                    minutes=minutes,
                    skip_demonstrations=skip_demonstrations,
                )
            except Exception as error:
                message = (
                    str(error)
                    if isinstance(error, (GradeError, editions.EditionError))
                    else f"{type(error).__name__}: {error}"
                )
                result = NotebookResult(
                    path=safe_text(submission.path),
                    lesson="?",
                    error=message,
                    seconds=round(time.perf_counter() - started, 1),
                )
        result.path = safe_text(result.path)
        result.notes = list(submission.notes) + result.notes
        result.sandboxed = bool(use_sandbox)
        return submission.learner, result

    pool = ThreadPoolExecutor(max_workers=max(1, int(jobs)))
    try:
        futures = [pool.submit(one, s) for s in submissions]
        results = [f.result() for f in futures]
    except BaseException:
        stop_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


# ---------------------------------------------------------------------------------- reports


def format_table(result: NotebookResult) -> str:
    lines = [f"{safe_text(result.path)}  (lesson {result.lesson}, graded in {result.seconds:.1f} s)"]
    for note in result.notes:
        lines.append(f"  note: {note}")
    if result.error:
        return "\n".join(lines + [f"  could not grade: {result.error}"])
    lines.append(f"  {'exercise':<9} {'result':<6} {'points':>6}  hint")
    for exercise in result.exercises:
        status = "pass" if exercise.passed else "FAIL"
        hint = exercise.message.replace("\n", "\n" + " " * 28)
        lines.append(
            f"  {exercise.id:<9} {status:<6} {exercise.points:>2}/{exercise.max_points:<3}  {exercise.title}"
            + (f"\n{' ' * 28}{hint}" if hint else "")
        )
    lines.append(f"  {'total':<16} {result.points:>2}/{result.max_points}")
    for failure in result.ungraded_failures:
        lines.append(f"  note (not graded): {failure}")
    return "\n".join(lines)


def to_json(results) -> dict:
    notebooks = [{"learner": learner, **asdict(result)} for learner, result in results]
    return {
        "notebooks": notebooks,
        "points": sum(r.points for _, r in results),
        "max_points": sum(r.max_points for _, r in results),
    }


def _csv_cell(value):
    text = safe_text(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # never a spreadsheet formula


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to a new file next to ``path`` and rename it over ``path`` (never through a link)."""
    path = Path(path)
    # made outside the try below, so that a failed write can delete it; `with handle` closes it
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115
        "w",
        dir=path.parent,
        prefix=f".{path.name}.",
        suffix=".tmp",
        delete=False,
        newline="",
        encoding="utf-8",
    )
    try:
        with handle:
            handle.write(text)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def write_gradebook(results, path: Path) -> None:
    """One row per learner, one column per exercise (points), a total, errors and notes."""
    import io

    exercise_ids = sorted(
        {e.id for _, r in results for e in r.exercises}, key=lambda i: tuple(int(p) for p in i.split("."))
    )
    learners = {}
    for learner, result in results:
        row = learners.setdefault(
            learner or "(single)", {"learner": learner or "(single)", "errors": "", "notes": ""}
        )
        for exercise in result.exercises:
            row[exercise.id] = exercise.points
        if result.error:
            row["errors"] += f"{Path(result.path).name}: {result.error}; "
        for note in result.notes:
            row["notes"] += f"{note}; "
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=["learner", *exercise_ids, "total", "max_total", "errors", "notes"]
    )
    writer.writeheader()
    max_total = sum({e.id: e.max_points for _, r in results for e in r.exercises}.values())
    for row in learners.values():
        row["total"] = sum(v for k, v in row.items() if k in exercise_ids)
        row["max_total"] = max_total
        writer.writerow({k: _csv_cell(row.get(k, 0 if k in exercise_ids else "")) for k in writer.fieldnames})
    _atomic_write(path, buffer.getvalue())


def to_gradescope(results) -> dict:
    """Gradescope's autograder ``results.json`` for one submission: one test per exercise.

    Follows https://gradescope-autograders.readthedocs.io/en/latest/specs/ (top-level ``score``,
    ``execution_time``, ``output``, ``tests`` each with ``name``, ``number``, ``score``,
    ``max_score``, ``status``, ``output``, ``visibility``).
    """
    learners = {learner for learner, _ in results}
    if len(learners) > 1:
        raise GradeError("a Gradescope results file holds one submission; grade one learner's notebooks")
    tests, lines = [], []
    for _, result in results:
        for note in result.notes:
            lines.append(f"note: {note}")
        if result.error:
            name = Path(result.path).name
            lines.append(f"{name}: could not grade: {result.error}")
            tests.append(
                {
                    "name": f"{name}: could not be graded",
                    "score": 0.0,
                    "max_score": 0.0,
                    "status": "failed",
                    "output": result.error,
                    "visibility": "visible",
                }
            )
            continue
        for exercise in result.exercises:
            tests.append(
                {
                    "name": f"Lesson {result.lesson}, exercise {exercise.id}: {exercise.title}",
                    "number": exercise.id,
                    "score": float(exercise.points),
                    "max_score": float(exercise.max_points),
                    "status": "passed" if exercise.passed else "failed",
                    "output": exercise.message or "passed",
                    "visibility": "visible",
                }
            )
    score = float(sum(r.points for _, r in results))
    maximum = float(sum(r.max_points for _, r in results))
    lines.insert(0, f"Total: {score:g}/{maximum:g} points")
    return {
        "score": score,
        "execution_time": round(sum(r.seconds for _, r in results)),
        "output": "\n".join(lines),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
