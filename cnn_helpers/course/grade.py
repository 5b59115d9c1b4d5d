"""Grade learners' notebooks under pytest + nbval, without touching the learner's files.

For each submitted notebook the grader:

1. finds the released solution edition of the same lesson (the pristine reference);
2. builds a grading copy in a temporary folder: the reference notebook with each exercise cell's
   code taken from the learner (:func:`editions.grading_copy`), so checks and their expected
   outputs cannot be edited, emptied or deleted by the learner;
3. runs the copy under ``pytest --nbval`` in a fresh kernel with a per-cell time limit;
4. scores each exercise by its check cells and reports a hint from each failure.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import SOLUTIONS_DIR, editions, kernel_environment

DEFAULT_CELL_TIMEOUT = 120


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


class GradeError(RuntimeError):
    """The grader could not grade a file (not a lesson notebook, no reference found, ...)."""


def find_reference(lesson: str, reference_dir: Path = SOLUTIONS_DIR) -> Path:
    matches = sorted(Path(reference_dir).glob(f"{lesson}-*.ipynb"))
    if not matches:
        raise GradeError(f"no released solution edition for lesson {lesson} in {reference_dir}")
    return matches[0]


def _first_error_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if re.match(r"^\s*[A-Za-z_.]*(Error|Exception|Interrupt)\b.*:", line)]
    return lines[-1] if lines else text.strip().splitlines()[-1] if text.strip() else "failed"


def hint_from(record: dict, cell_timeout: float) -> str:
    """Turn one failed cell's pytest report into a one-paragraph hint for the learner."""
    detail = record.get("detail", "")
    if record.get("skipped_after_timeout") and "CheckFailure:" not in detail:
        return "not run to completion: an earlier cell timed out"
    if "Timeout of" in detail or (record.get("timed_out") and "KeyboardInterrupt" in detail):
        return f"timed out after {cell_timeout:g} s per cell: is there an infinite loop?"
    if "CheckFailure:" in detail:
        message = detail.rsplit("CheckFailure:", 1)[1]
        return message.strip()
    if "NotImplementedError" in detail:
        return "not done yet: the exercise still raises NotImplementedError"
    if "Cell outputs differ" in detail or "mismatch" in detail.lower():
        return "the check ran but printed something different from the reference (does your function print?)"
    return _first_error_line(detail)


def _run_nbval(notebook_path: Path, workdir: Path, cell_timeout: float) -> list[dict]:
    report = workdir / "report.json"
    (workdir / "pytest.ini").write_text("[pytest]\naddopts =\n", encoding="utf-8")
    command = [
        sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env",
        f"--nbval-cell-timeout={cell_timeout}", "-p", "cnn_helpers.course._recorder",
        "-p", "no:cacheprovider", "-q", "--color=no", "-c", str(workdir / "pytest.ini"),
        "--rootdir", str(workdir), str(notebook_path),
    ]
    env = {**kernel_environment(), "CNN_COURSE_GRADE_REPORT": str(report)}
    cells = len(editions.read(notebook_path).cells)
    overall_limit = 120 + cells * (cell_timeout + 10)
    completed = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=overall_limit
    )
    if not report.exists():
        raise GradeError(f"pytest did not run the notebook:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}")
    return json.loads(report.read_text(encoding="utf-8"))


def grade_notebook(path, reference_dir: Path = SOLUTIONS_DIR, cell_timeout: float = DEFAULT_CELL_TIMEOUT) -> NotebookResult:
    """Grade one learner notebook. Never writes to ``path``."""
    path = Path(path)
    started = time.perf_counter()
    try:
        submission = editions.read(path)
    except Exception as error:  # unreadable JSON, not a notebook
        raise GradeError(f"{path} is not a readable notebook: {error}") from error
    lesson = editions.lesson_id(submission, path)
    reference = editions.read(find_reference(lesson, reference_dir))
    graded, notes = editions.grading_copy(reference, submission)
    exercises = editions.exercises(reference)
    result = NotebookResult(path=str(path), lesson=lesson)

    with tempfile.TemporaryDirectory(prefix="cnn-grade-") as temporary:
        workdir = Path(temporary)
        copy_path = workdir / path.name
        editions.write(graded, copy_path)
        records = _run_nbval(copy_path, workdir, cell_timeout)

    failures_by_exercise = {}
    checked = set()
    for record in records:
        role = next((editions.TAG_PATTERN.match(t).groups() for t in record["tags"] if editions.TAG_PATTERN.match(t)), None)
        if role and role[0] == "check":
            checked.add(role[1])
            if not record["passed"]:
                failures_by_exercise.setdefault(role[1], hint_from(record, cell_timeout))
        elif not record["passed"] and role is None:
            result.ungraded_failures.append(
                f"cell {record['cell_index']}: {hint_from(record, cell_timeout)}"
            )
    for exercise in exercises:
        passed = exercise.id in checked and exercise.id not in failures_by_exercise
        message = failures_by_exercise.get(exercise.id, "" if passed else "check cell did not run")
        if exercise.id in notes:
            message = f"{notes[exercise.id]}; {message}" if message else notes[exercise.id]
        points = exercise.points if passed else 0
        result.exercises.append(ExerciseResult(exercise.id, exercise.title, passed, points, exercise.points, message))
    result.points = sum(e.points for e in result.exercises)
    result.max_points = sum(e.max_points for e in result.exercises)
    result.seconds = round(time.perf_counter() - started, 1)
    return result


def collect(paths) -> list[tuple[str, Path]]:
    """Expand notebooks and folders into (learner, notebook) pairs.

    A folder that holds notebooks is one learner's work (its subfolders are not graded). A folder
    that holds no notebooks itself is a class: each subfolder is one learner.
    """
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(("", path))
        elif path.is_dir():
            direct = sorted(p for p in path.glob("*.ipynb") if not p.name.startswith("."))
            if direct:
                found.extend(("", p) for p in direct)
                continue
            for sub in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
                for notebook in sorted(sub.rglob("*.ipynb")):
                    if ".ipynb_checkpoints" not in notebook.parts:
                        found.append((sub.name, notebook))
        else:
            raise GradeError(f"{raw} does not exist")
    if not found:
        raise GradeError(f"no notebooks found in {', '.join(map(str, paths))}")
    return found


def grade_all(paths, reference_dir=SOLUTIONS_DIR, cell_timeout=DEFAULT_CELL_TIMEOUT, jobs=2):
    """Grade every notebook under ``paths`` (in parallel); return (learner, NotebookResult) pairs."""
    pairs = collect(paths)

    def one(pair):
        learner, notebook = pair
        try:
            return learner, grade_notebook(notebook, reference_dir, cell_timeout)
        except (GradeError, editions.EditionError, subprocess.TimeoutExpired) as error:
            return learner, NotebookResult(path=str(notebook), lesson="?", error=str(error))

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, pairs))


def format_table(result: NotebookResult) -> str:
    lines = [f"{result.path}  (lesson {result.lesson}, graded in {result.seconds:.1f} s)"]
    if result.error:
        return "\n".join(lines + [f"  could not grade: {result.error}"])
    lines.append(f"  {'exercise':<9} {'result':<6} {'points':>6}  hint")
    for exercise in result.exercises:
        status = "pass" if exercise.passed else "FAIL"
        hint = exercise.message.replace("\n", "\n" + " " * 28)
        lines.append(f"  {exercise.id:<9} {status:<6} {exercise.points:>2}/{exercise.max_points:<3}  {exercise.title}"
                     + (f"\n{' ' * 28}{hint}" if hint else ""))
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


def write_gradebook(results, path: Path) -> None:
    """One row per learner, one column per exercise (points), and a total."""
    exercise_ids = sorted(
        {e.id for _, r in results for e in r.exercises}, key=lambda i: tuple(int(p) for p in i.split("."))
    )
    learners = {}
    for learner, result in results:
        row = learners.setdefault(learner or "(single)", {"learner": learner or "(single)"})
        for exercise in result.exercises:
            row[exercise.id] = exercise.points
        if result.error:
            row.setdefault("errors", "")
            row["errors"] += f"{Path(result.path).name}: {result.error}; "
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["learner", *exercise_ids, "total", "max_total", "errors"])
        writer.writeheader()
        max_total = sum({e.id: e.max_points for _, r in results for e in r.exercises}.values())
        for row in learners.values():
            row["total"] = sum(v for k, v in row.items() if k in exercise_ids)
            row["max_total"] = max_total
            writer.writerow({k: row.get(k, 0 if k in exercise_ids else "") for k in writer.fieldnames})
