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


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def _free_gradebook_name(folder: Path) -> Path:
    number = 2
    while (folder / f"gradebook-{number}.csv").exists() or (folder / f"gradebook-{number}.csv").is_symlink():
        number += 1
    return folder / f"gradebook-{number}.csv"


def _on_signal(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _grade(args) -> int:
    import signal

    from .grade import (
        GradeError,
        format_table,
        grade_all,
        stop_all,
        to_gradescope,
        to_json,
        write_gradebook,
    )
    from .sandbox import Limits

    for name in ("SIGTERM", "SIGHUP"):  # clean up like Ctrl-C: sandboxes killed, temporary folders removed
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _on_signal)
    limits = Limits(memory_mb=args.memory, processes=args.processes, file_size_mb=args.file_size)
    try:
        results = grade_all(
            args.paths,
            Path(args.reference),
            args.cell_timeout,
            args.jobs,
            use_sandbox=False if args.no_sandbox else None,
            unsafe=args.unsafe,
            limits=limits,
            minutes=args.timeout,
        )
    except GradeError as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        stop_all()
        print("grade: interrupted; nothing written", file=sys.stderr)
        return 130
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
        if args.csv:
            csv_path = Path(args.csv)
        else:
            csv_path = Path("gradebook.csv")
            if csv_path.exists() or csv_path.is_symlink():
                replacement = _free_gradebook_name(Path("."))
                print(
                    f"{csv_path} exists and was left as it is; pass --csv {csv_path} to replace it",
                    file=sys.stderr,
                )
                csv_path = replacement
        write_gradebook(results, csv_path)
        print(f"gradebook written to {csv_path}", file=sys.stderr)
    if args.gradescope:
        try:
            from .grade import _atomic_write

            _atomic_write(Path(args.gradescope), json.dumps(to_gradescope(results), indent=2) + "\n")
        except GradeError as error:
            print(f"grade: {error}", file=sys.stderr)
            return 2
        print(f"Gradescope results written to {args.gradescope}", file=sys.stderr)
    if not results[0][1].sandboxed:
        print("note: graded without a sandbox (learner code ran as you)", file=sys.stderr)
    everything_passed = all(not r.error and r.points == r.max_points for _, r in results)
    return 0 if everything_passed else 1


def _workspace(args) -> int:
    from .workspace import WorkspaceError, sync_workspace

    try:
        summary = sync_workspace(Path(args.folder)) if args.folder else sync_workspace()
    except WorkspaceError as error:
        print(f"workspace: {error}", file=sys.stderr)
        return 2
    for name in summary["added"]:
        print(f"added   {name}")
    for name in summary["kept"]:
        print(f"kept    {name} (your copy; not overwritten)")
    for name in summary.get("skipped", []):
        print(f"skipped {name} (a symbolic link; nothing written through it)")
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
    grade.add_argument(
        "paths", nargs="+", help="notebooks, a working folder, or a class folder (one subfolder per learner)"
    )
    grade.add_argument("--json", action="store_true", help="print machine-readable results")
    grade.add_argument("--csv", help="write a CSV gradebook here (default for a class folder: gradebook.csv)")
    grade.add_argument(
        "--cell-timeout", type=_positive(float), default=120, help="seconds each cell may run (default 120)"
    )
    grade.add_argument(
        "--timeout",
        type=_positive(float),
        default=10,
        help="minutes each notebook may run in all (default 10)",
    )
    grade.add_argument("--jobs", type=_positive(int), default=2, help="notebooks graded at once (default 2)")
    grade.add_argument(
        "--memory", type=_positive(int), default=2048, help="MiB of memory per kernel (default 2048)"
    )
    grade.add_argument(
        "--processes", type=_positive(int), default=64, help="processes per kernel (default 64)"
    )
    grade.add_argument(
        "--file-size",
        type=_positive(int),
        default=256,
        help="largest file a kernel may write, MiB (default 256)",
    )
    grade.add_argument(
        "--gradescope", metavar="RESULTS_JSON", help="also write Gradescope's autograder results.json here"
    )
    grade.add_argument("--no-sandbox", action="store_true", help="run kernels without the bubblewrap sandbox")
    grade.add_argument(
        "--unsafe",
        action="store_true",
        help="allow grading a class without a sandbox: learners' code then runs as you (see README)",
    )
    grade.add_argument("--reference", default=str(SOLUTIONS_DIR), help="folder of released solution editions")
    grade.set_defaults(run=_grade)

    workspace = commands.add_parser(
        "workspace", help="copy missing learner editions into your working folder"
    )
    workspace.add_argument("folder", nargs="?", help="working folder (default: work/ in the course)")
    workspace.set_defaults(run=_workspace)

    lab = commands.add_parser(
        "lab", help="open JupyterLab on the working folder (extra options go to JupyterLab)"
    )
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
