"""Command line: ``python -m cnn_helpers build | grade | workspace | lab``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import SOLUTIONS_DIR


def _build(args) -> int:
    from .build import BuildError, build

    try:
        build(args.lessons, timeout=args.timeout)
    except BuildError as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 1
    return 0


def _grade(args) -> int:
    from .grade import GradeError, format_table, grade_all, to_json, write_gradebook

    try:
        results = grade_all(args.paths, Path(args.reference), args.cell_timeout, args.jobs)
    except GradeError as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(to_json(results), indent=2))
    else:
        for learner, result in results:
            if learner:
                print(f"== {learner}")
            print(format_table(result))
            print()
        total = sum(r.points for _, r in results)
        maximum = sum(r.max_points for _, r in results)
        print(f"Total: {total}/{maximum} points")
    learners = {learner for learner, _ in results if learner}
    if args.csv or learners:
        csv_path = Path(args.csv) if args.csv else Path("gradebook.csv")
        write_gradebook(results, csv_path)
        print(f"gradebook written to {csv_path}", file=sys.stderr)
    everything_passed = all(not r.error and r.points == r.max_points for _, r in results)
    return 0 if everything_passed else 1


def _workspace(args) -> int:
    from .workspace import sync_workspace

    summary = sync_workspace(Path(args.folder)) if args.folder else sync_workspace()
    for name in summary["added"]:
        print(f"added   {name}")
    for name in summary["kept"]:
        print(f"kept    {name} (your copy; not overwritten)")
    print(f"working copy: {summary['workspace']}")
    return 0


def _lab(args, extra) -> int:
    """Open JupyterLab on the working copy, with kernels that reproduce the stored outputs."""
    import os
    import subprocess

    from . import kernel_environment
    from .workspace import DEFAULT_WORKSPACE

    folder = Path(args.folder) if args.folder else DEFAULT_WORKSPACE
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        print("Running as root (a container?): passing --allow-root to JupyterLab.", flush=True)
        extra = ["--allow-root", *extra]
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}", *extra]
    try:
        return subprocess.run(command, env=kernel_environment()).returncode
    except KeyboardInterrupt:
        return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnn_helpers", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="execute each lesson's source and write both editions")
    build.add_argument("lessons", nargs="*", help="lesson numbers or names (default: all)")
    build.add_argument("--timeout", type=int, default=900, help="seconds per cell (default 900)")
    build.set_defaults(run=_build)

    grade = commands.add_parser("grade", help="grade notebooks or folders of notebooks")
    grade.add_argument("paths", nargs="+", help="notebooks, a working folder, or a class folder (one subfolder per learner)")
    grade.add_argument("--json", action="store_true", help="print machine-readable results")
    grade.add_argument("--csv", help="write a CSV gradebook here (default for a class folder: gradebook.csv)")
    grade.add_argument("--cell-timeout", type=float, default=120, help="seconds each cell may run (default 120)")
    grade.add_argument("--jobs", type=int, default=2, help="notebooks graded at once (default 2)")
    grade.add_argument("--reference", default=str(SOLUTIONS_DIR), help="folder of released solution editions")
    grade.set_defaults(run=_grade)

    workspace = commands.add_parser("workspace", help="copy missing learner editions into your working folder")
    workspace.add_argument("folder", nargs="?", help="working folder (default: work/ in the course)")
    workspace.set_defaults(run=_workspace)

    lab = commands.add_parser("lab", help="open JupyterLab on the working folder (extra options go to JupyterLab)")
    lab.add_argument("--folder", help="working folder (default: work/ in the course)")
    lab.set_defaults(run=_lab)

    args, extra = parser.parse_known_args(argv)
    if args.command == "lab":
        return _lab(args, extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
