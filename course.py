#!/usr/bin/env python3
"""One entry point for the course; needs only Python 3.11+ (no conda).

    python3 course.py start        set everything up and open the course in JupyterLab
    python3 course.py test         set up what the tests need and run them
    python3 course.py grade PATH   grade notebooks or folders (e.g. work/)
    python3 course.py build [NN]   instructors: rebuild both editions of the lessons

Everything is installed into a local virtual environment, ./.venv, so your system Python stays
untouched. Installing happens only when .venv is new or the dependency files changed.
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".cnn-course-installed"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
# The oldest Python the course runs on; pyproject.toml's requires-python says the same (a test checks).
MINIMUM_PYTHON = (3, 11)


def run(*command, **options):
    print("+", " ".join(str(c) for c in command), flush=True)
    return subprocess.run([str(c) for c in command], **options)


def ensure_venv(extras=""):
    """Create .venv and install the course into it (editable), pinned by constraints.txt."""
    if sys.version_info < MINIMUM_PYTHON:
        wanted = ".".join(map(str, MINIMUM_PYTHON))
        sys.exit(f"The course needs Python {wanted} or newer; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except Exception as error:  # e.g. Debian without python3-venv
            sys.exit(f"Could not create {VENV}: {error}\nOn Debian/Ubuntu: sudo apt install python3-venv")
    wanted = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes() + extras.encode()
    ).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    target = f"{ROOT}[{extras}]" if extras else str(ROOT)
    steps = [
        [PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [PYTHON, "-m", "pip", "install", "--quiet", "-c", ROOT / "constraints.txt", "-e", target],
    ]
    for step in steps:
        if run(*step).returncode != 0:
            sys.exit("Installing the course's dependencies failed (see the messages above).")
    STAMP.write_text(wanted)


def course(*args):
    """Run ``python -m cnn_helpers ...`` inside the virtual environment."""
    return run(PYTHON, "-m", "cnn_helpers", *args, cwd=ROOT).returncode


def main(argv):
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command == "start":
        ensure_venv()
        course("workspace")
        print("\nOpening JupyterLab on your working copy (work/). Stop it with Ctrl+C.\n", flush=True)
        return course("lab", *rest)
    if command == "setup":
        ensure_venv()
        return course("workspace")
    if command == "test":
        ensure_venv("test")  # the oracles and the wheel test's build backend
        return run(PYTHON, "-m", "pytest", *rest, cwd=ROOT).returncode
    if command in ("grade", "build"):
        ensure_venv()
        return course(command, *rest)
    print(__doc__)
    return 0 if command in ("help", "-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
