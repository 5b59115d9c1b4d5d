"""Course machinery that learners never need to read: building the two editions of each lesson,
grading a learner's notebooks under pytest + nbval, and keeping the learner's working copy.

Command line: ``python -m cnn_helpers build|grade|workspace`` (see :mod:`cnn_helpers.course.cli`).
"""

from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = COURSE_ROOT / "notebooks"
SOLUTIONS_DIR = NOTEBOOKS_DIR / "solutions"
