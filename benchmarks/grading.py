"""What the grading sandbox costs, and what a hostile notebook costs the rest of a class (issue 13).

    .venv/bin/python benchmarks/grading.py                 # both measurements, a few minutes
    .venv/bin/python benchmarks/grading.py --single-rounds 7 --class-rounds 2 --cell-timeout 30

(a) One honest notebook (lesson 01's solution) graded in the sandbox vs without it, in
    interleaved rounds (A, B, A, B, ...); the median ratio is the sandbox's cost (target <= 1.5x).
(b) A class of 20 honest notebooks vs the same class with one of them replaced by an
    interrupt-swallowing infinite loop and one by a memory bomb, graded with ``--jobs 2``; the ratio
    of wall times is what two hostile learners cost the class (target <= 2x). The loop costs its
    worker the cell limit plus 5 s, so the ratio depends on ``--cell-timeout``; it is printed.

Load average before and after is printed: on a shared machine the absolute times mean little,
compare the ratios. This is a script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cnn_helpers.course import NOTEBOOKS_DIR, SOLUTIONS_DIR, editions, grade, sandbox

LESSON = "01-images-as-data.ipynb"
LOOP = """
import time
while True:
    try:
        time.sleep(0.05)
    except KeyboardInterrupt:
        print('caught it')
"""
BOMB = "hoard = bytearray(3 * 2**30)\n"


def _load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _attacker(code):
    notebook = copy.deepcopy(editions.read(NOTEBOOKS_DIR / LESSON))
    first = editions.exercises(editions.read(SOLUTIONS_DIR / LESSON))[0].id
    for cell in notebook.cells:
        if editions.cell_role(cell) == ("exercise", first):
            cell.source = code
    return notebook


def _make_class(folder: Path, hostile: bool) -> Path:
    solution = editions.read(SOLUTIONS_DIR / LESSON)
    for number in range(20):
        notebook = solution
        if hostile and number == 7:
            notebook = _attacker(LOOP)
        elif hostile and number == 13:
            notebook = _attacker(BOMB)
        (folder / f"learner{number:02d}").mkdir(parents=True)
        editions.write(notebook, folder / f"learner{number:02d}" / LESSON)
    return folder


def _timed(function):
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def single(rounds: int, cell_timeout: float) -> None:
    path = SOLUTIONS_DIR / LESSON
    times = {True: [], False: []}
    for _ in range(rounds):
        for sandboxed in (True, False):
            seconds, result = _timed(
                lambda s=sandboxed: grade.grade_notebook(path, cell_timeout=cell_timeout, use_sandbox=s)
            )
            assert result.points == result.max_points, grade.format_table(result)
            times[sandboxed].append(seconds)
    inside, outside = statistics.median(times[True]), statistics.median(times[False])
    print(f"(a) one honest notebook, {rounds} interleaved rounds each")
    print(f"    sandboxed   median {inside:6.2f} s   {[f'{t:.2f}' for t in times[True]]}")
    print(f"    unsandboxed median {outside:6.2f} s   {[f'{t:.2f}' for t in times[False]]}")
    print(f"    ratio {inside / outside:.2f}x (target <= 1.5x)")


def klass(rounds: int, cell_timeout: float, jobs: int) -> None:
    times = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="cnn-bench-") as temporary:
        folders = {h: _make_class(Path(temporary) / ("hostile" if h else "honest"), h) for h in (False, True)}
        for _ in range(rounds):
            for hostile in (False, True):
                seconds, results = _timed(
                    lambda h=hostile: grade.grade_all([folders[h]], cell_timeout=cell_timeout, jobs=jobs)
                )
                honest = [
                    r for learner, r in results if learner not in ("learner07", "learner13") or not hostile
                ]
                assert all(r.points == r.max_points for r in honest), [grade.format_table(r) for r in honest]
                times[hostile].append(seconds)
    plain, hostile = statistics.median(times[False]), statistics.median(times[True])
    print(
        f"(b) class of 20, --jobs {jobs}, --cell-timeout {cell_timeout:g}, {rounds} interleaved rounds each"
    )
    print(f"    honest class             median {plain:6.1f} s   {[f'{t:.1f}' for t in times[False]]}")
    print(f"    with a loop and a bomb   median {hostile:6.1f} s   {[f'{t:.1f}' for t in times[True]]}")
    print(f"    ratio {hostile / plain:.2f}x (target <= 2x)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single-rounds", type=int, default=5)
    parser.add_argument("--class-rounds", type=int, default=1)
    parser.add_argument("--cell-timeout", type=float, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", choices=("single", "class"))
    args = parser.parse_args(argv)
    available, why = sandbox.availability()
    if not available:
        print(f"no sandbox here: {why}", file=sys.stderr)
        return 2
    print(f"load average before: {_load()} ({os.cpu_count()} cores)")
    if args.only in (None, "single"):
        single(args.single_rounds, args.cell_timeout)
    if args.only in (None, "class"):
        klass(args.class_rounds, args.cell_timeout, args.jobs)
    print(f"load average after:  {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
