"""Exercise checks, one module per lesson.

A check cell in a lesson looks like::

    from cnn_helpers.checks import lesson02
    lesson02.check_correlate2d(correlate2d_loops)

A checked question's cell passes the learner's answer instead of a function::

    lesson02.check_multiply_adds(answer_2_5)

Each check prints one line when the function (or answer) is right, and raises
:class:`CheckFailure` naming the first wrong case and the likely mistake when it is not. See
``_core`` for what they share and how to write one (``exercise``, ``question``, ``diagnose``,
``check_lines_do_not_grow``).
"""

import importlib
import pkgutil

from ._core import CheckFailure, all_exercises

# One module per lesson (lesson01.py, lesson02.py, ...), found on disk and loaded on first use.
LESSON_MODULES = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("lesson")))

__all__ = ["CheckFailure", "all_exercises", *LESSON_MODULES]


def __getattr__(name):
    if name in LESSON_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
