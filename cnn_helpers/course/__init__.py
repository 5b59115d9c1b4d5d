"""Course machinery that learners never need to read: building the two editions of each lesson,
grading a learner's notebooks under pytest + nbval, and keeping the learner's working copy.

Command line: ``python -m cnn_helpers build|grade|workspace`` (see :mod:`cnn_helpers.course.cli`).
"""

from .._paths import course_root

COURSE_ROOT = course_root()
NOTEBOOKS_DIR = COURSE_ROOT / "notebooks"
SOLUTIONS_DIR = NOTEBOOKS_DIR / "solutions"

# Every kernel the course starts (build, grade, tests, JupyterLab via course.py) runs with one BLAS
# thread. Trained numbers then do not depend on how many cores a machine has, so the outputs
# stored in the notebooks are what every machine reproduces; on 2 cores it is also faster for
# the course's small matrices.
DETERMINISTIC_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
}


def kernel_environment(base=None) -> dict:
    """``base`` (default: this process's environment) with :data:`DETERMINISTIC_ENV` applied."""
    import os

    return {**(os.environ if base is None else base), **DETERMINISTIC_ENV}
