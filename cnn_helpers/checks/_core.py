"""What every exercise check shares: the failure type, the registry, comparisons with diagnoses,
and the guard that stops a learner's function from handing back the package's own answer.

A check takes the learner's *function*, runs it on the lecture's worked numbers plus many seeded
random cases, and compares each result with the reference computed beforehand. On the first wrong
case it raises :class:`CheckFailure` with the case, the expected and received values, and, where
the received value matches what a known mistake produces, the name of that mistake.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np


class CheckFailure(AssertionError):
    """Raised by a check when the learner's function gives a wrong answer; the message is the hint."""


@dataclass
class Exercise:
    id: str
    title: str
    check: Callable
    forbidden: tuple = ()
    allowed: tuple = ()


REGISTRY: dict[str, Exercise] = {}

# Every public callable in these modules counts as "the package's answer" while a check runs,
# except the names an exercise allows (for example pad2d inside a strided-correlation exercise).
REFERENCE_MODULES = (
    "cnn_helpers.conv", "cnn_helpers.pooling", "cnn_helpers.filters", "cnn_helpers.images",
    "cnn_helpers.layers", "cnn_helpers.model", "cnn_helpers.training", "cnn_helpers.receptive_field", "cnn_helpers.blocks", "cnn_helpers.dense_prediction",
)
# Other libraries' ready-made answers, blocked only if the learner's process already imported them.
THIRD_PARTY_ANSWERS = (
    "scipy.signal.correlate2d", "scipy.signal.convolve2d", "scipy.signal.correlate",
    "scipy.signal.convolve", "scipy.signal.fftconvolve", "scipy.signal.oaconvolve",
    "scipy.ndimage.correlate", "scipy.ndimage.convolve", "scipy.ndimage.maximum_filter",
    "scipy.ndimage.uniform_filter", "torch.nn.functional.conv2d", "torch.nn.functional.max_pool2d",
    "torch.nn.functional.avg_pool2d",
)


def exercise(exercise_id: str, title: str, allowed: tuple = (), forbidden: tuple = ()):
    """Register a check for exercise ``exercise_id`` (e.g. ``"2.1"``).

    The wrapped check receives the learner's function; while it runs, calling a reference
    implementation (other than the ``allowed`` names) raises :class:`CheckFailure`.
    ``forbidden`` adds dotted names outside the reference modules.
    """

    def decorate(check):
        @functools.wraps(check)
        def run(*functions, **options):
            for function in functions:
                _refuse_reference_itself(exercise_id, function, allowed, forbidden)
            check(*functions, **options)

        run.exercise_id = exercise_id
        REGISTRY[exercise_id] = Exercise(exercise_id, title, run, tuple(forbidden), tuple(allowed))
        return run

    return decorate


def passed(exercise_id: str, detail: str) -> None:
    """Print the one deterministic success line of a check."""
    print(f"Exercise {exercise_id} passed: {detail}")


# --------------------------------------------------------------------------------------------
# Calling the learner's function safely


def _exercise_guard(exercise_id, function):
    """The reference guard with this exercise's ``allowed`` and ``forbidden`` names."""
    info = REGISTRY.get(exercise_id)
    return reference_guard(function, allowed=info.allowed if info else (), extra=info.forbidden if info else (),
                           exercise_id=exercise_id)


def _not_done(exercise_id, error) -> CheckFailure:
    return CheckFailure(
        f"Exercise {exercise_id} is not done yet: your function still raises "
        f"NotImplementedError ({error}). Replace the `raise` line with your code."
    )


def call(exercise_id: str, function, *args, case: str = "", **kwargs):
    """Call the learner's ``function`` with the reference implementations blocked.

    A ``NotImplementedError`` becomes "not done yet"; any other exception becomes a
    :class:`CheckFailure` that says which case raised it.
    """
    with _exercise_guard(exercise_id, function):
        try:
            return function(*args, **kwargs)
        except CheckFailure:
            raise
        except NotImplementedError as error:
            raise _not_done(exercise_id, error) from None
        except Exception as error:  # the learner's bug, reported as a hint rather than a traceback
            where = f" on {case}" if case else ""
            raise CheckFailure(
                f"Exercise {exercise_id}: your function raised {type(error).__name__}{where}: {error}"
            ) from error


def _reference_objects(allowed=(), extra=()):
    """Map id(object) -> (dotted name, module, attribute) for every blocked reference callable."""
    found = {}
    for module_name in REFERENCE_MODULES:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for attribute, value in vars(module).items():
            if attribute.startswith("_") or attribute in allowed or not callable(value):
                continue
            if getattr(value, "__module__", None) != module_name:
                continue  # re-exported names (numpy functions, dataclasses) are not the answer
            found[id(value)] = (f"{module_name}.{attribute}", module, attribute, value)
    for dotted in THIRD_PARTY_ANSWERS + tuple(extra):
        module_name, _, attribute = dotted.rpartition(".")
        module = sys.modules.get(module_name)
        value = getattr(module, attribute, None) if module is not None else None
        if value is not None:
            found[id(value)] = (dotted, module, attribute, value)
    return found


def _unwrap(function):
    while hasattr(function, "__wrapped__"):
        function = function.__wrapped__
    if isinstance(function, functools.partial):
        return _unwrap(function.func)
    return function


def _refuse_reference_itself(exercise_id, function, allowed, forbidden=()):
    if function is None or not callable(function):
        raise CheckFailure(
            f"Exercise {exercise_id}: pass your function itself (without calling it), "
            f"got {type(function).__name__}"
        )
    blocked = _reference_objects(allowed, forbidden)
    hit = blocked.get(id(_unwrap(function)))
    if hit is not None:
        raise CheckFailure(
            f"Exercise {exercise_id}: you passed {hit[0]}, the package's own implementation. "
            "Write your own function in the exercise cell and pass that."
        )


def _called_from_the_package(frame) -> bool:
    """True when ``frame`` runs inside the package's math (a reference calling its own helpers)."""
    module = frame.f_globals.get("__name__", "") if frame is not None else ""
    return module.startswith("cnn_helpers.") and not module.startswith(("cnn_helpers.checks", "cnn_helpers.course"))


def _tripwire(exercise_id, dotted_name, original):
    def tripwire(*args, **kwargs):
        # An allowed package function may call blocked ones internally (apply_kernel calls
        # correlate2d, which calls pad2d): only calls coming from outside the package trip.
        if _called_from_the_package(sys._getframe(1)):
            return original(*args, **kwargs)
        raise CheckFailure(
            f"Exercise {exercise_id}: your function called {dotted_name}, which computes the answer "
            "for you. Write the computation yourself (NumPy is fine)."
        )

    tripwire.__name__ = dotted_name.rpartition(".")[2]
    return tripwire


@contextlib.contextmanager
def reference_guard(function, allowed=(), extra=(), exercise_id="?"):
    """Temporarily replace reference implementations with tripwires.

    Patches the attributes of the reference modules (so ``cnn_helpers.conv.correlate2d(...)``
    trips) and the names in the learner function's global namespace that are bound to them (so
    ``from cnn_helpers.conv import correlate2d`` trips too). Everything is restored afterwards.
    """
    blocked = _reference_objects(allowed, extra)
    saved_attributes = []
    for dotted, module, attribute, value in blocked.values():
        saved_attributes.append((module, attribute, value))
        setattr(module, attribute, _tripwire(exercise_id, dotted, value))
    learner_globals = getattr(_unwrap(function), "__globals__", {})
    saved_globals = []
    for name, value in list(learner_globals.items()):
        hit = blocked.get(id(value))
        if hit is not None and callable(value):
            saved_globals.append((name, value))
            learner_globals[name] = _tripwire(exercise_id, hit[0], value)
    try:
        yield
    finally:
        for module, attribute, value in saved_attributes:
            setattr(module, attribute, value)
        for name, value in saved_globals:
            learner_globals[name] = value


# --------------------------------------------------------------------------------------------
# Comparing results and naming the likely mistake


def format_array(array, max_chars=400) -> str:
    text = np.array2string(np.asarray(array), precision=4, suppress_small=True, separator=", ")
    return text if len(text) <= max_chars else text[:max_chars] + " ..."


def _same(a, b, rtol, atol) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol)


def compare(exercise_id, expected, received, case, mistakes=(), rtol=1e-6, atol=1e-8, name="result"):
    """Raise :class:`CheckFailure` unless ``received`` equals ``expected`` (shape and values).

    Parameters
    ----------
    mistakes : sequence of (description, value)
        What known mistakes would have returned on this case. When ``received`` matches one of
        them, the hint names that mistake.
    """
    try:
        received_array = np.asarray(received, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailure(
            f"Exercise {exercise_id}: on {case}, expected a numeric array, got {type(received).__name__}"
        ) from None
    expected_array = np.asarray(expected, dtype=float)
    if _same(expected_array, received_array, rtol, atol):
        return
    lines = [f"Exercise {exercise_id}: wrong {name} on {case}."]
    if expected_array.shape != received_array.shape:
        lines.append(f"  expected shape {expected_array.shape}, got shape {received_array.shape}")
    else:
        wrong = np.argwhere(~np.isclose(received_array, expected_array, rtol=rtol, atol=atol))
        first = tuple(int(i) for i in wrong[0]) if wrong.size else ()
        lines.append(
            f"  first wrong entry at index {first}: expected {expected_array[first]:.6g}, "
            f"got {received_array[first]:.6g} ({len(wrong)} of {expected_array.size} entries wrong)"
        )
    lines.append(f"  expected:\n{format_array(expected_array)}")
    lines.append(f"  received:\n{format_array(received_array)}")
    for description, value in mistakes:
        if value is not None and _same(value, received_array, rtol, atol):
            lines.append(f"  Likely mistake: {description}")
            break
    raise CheckFailure("\n".join(lines))


def compare_number(exercise_id, expected, received, case, mistakes=(), name="result"):
    """Like :func:`compare` for a single integer or float answer."""
    if isinstance(received, (bool, np.bool_)) or not isinstance(received, (int, float, np.integer, np.floating)):
        raise CheckFailure(
            f"Exercise {exercise_id}: on {case}, expected a number, got {type(received).__name__} {received!r}"
        )
    if np.isclose(float(received), float(expected), rtol=1e-9, atol=1e-9):
        return
    message = f"Exercise {exercise_id}: wrong {name} on {case}: expected {expected}, got {received}."
    for description, value in mistakes:
        if value is not None and np.isclose(float(received), float(value)):
            message += f"\n  Likely mistake: {description}"
            break
    raise CheckFailure(message)


def expect_error(exercise_id, function, args, error_types, case, hint):
    """Check that the learner's function rejects bad input with one of ``error_types``."""
    with _exercise_guard(exercise_id, function):
        try:
            result = function(*args)
        except NotImplementedError as error:
            raise _not_done(exercise_id, error) from None
        except CheckFailure:
            raise
        except error_types:
            return
        except Exception as error:
            raise CheckFailure(
                f"Exercise {exercise_id}: on {case}, expected {' or '.join(e.__name__ for e in error_types)}, "
                f"got {type(error).__name__}: {error}. {hint}"
            ) from None
    raise CheckFailure(f"Exercise {exercise_id}: on {case}, expected an error, got {result!r}. {hint}")


class _TooManyLines(BaseException):
    """Raised inside the learner's code to stop it once the line budget is spent.

    A BaseException, like KeyboardInterrupt, so neither :func:`call` nor a learner's own
    ``except Exception`` mistakes it for an error of theirs and swallows it.
    """


def count_python_lines(function, *args, limit=None, watch=None):
    """Run ``function(*args)`` and count the lines executed in code that shares its globals.

    Used by the checks of vectorised exercises (5.2, 7.3): a loop over output positions runs at
    least one line per output, a vectorised version a few lines in all. Counting lines instead of
    timing gives the same verdict on a busy machine as on an idle one.

    Returns ``(result, lines)``. With ``limit``, the run is stopped as soon as the count passes
    it and ``result`` is None. ``watch`` names the function(s) whose modules (the learner's notebook)
    count, when ``function`` is a wrapper defined elsewhere. Frames of other modules (NumPy, the standard library) are not
    traced, so their cost is not counted and the tracing overhead stays small.

    Examples
    --------
    ``out = []`` and ``return`` run once, the ``for`` line 4 times (3 values, then the end of the
    loop) and ``out.append`` 3 times: 9 lines.

    >>> def double_all(values):
    ...     out = []
    ...     for value in values:
    ...         out.append(2 * value)
    ...     return out
    >>> count_python_lines(double_all, [1, 2, 3])
    ([2, 4, 6], 9)
    """
    watched = (function,) if watch is None else tuple(watch) if isinstance(watch, (tuple, list)) else (watch,)
    learner_globals = {id(getattr(_unwrap(f), "__globals__", None)) for f in watched}
    lines = 0
    stopped = False

    def local_trace(frame, event, arg):
        nonlocal lines, stopped
        if event == "line" and not stopped:
            lines += 1
            if limit is not None and lines > limit:
                stopped = True
                raise _TooManyLines
        return local_trace

    def global_trace(frame, event, arg):
        return local_trace if id(frame.f_globals) in learner_globals and not stopped else None

    previous = sys.gettrace()
    sys.settrace(global_trace)
    try:
        result = function(*args)
    except _TooManyLines:
        result = None
    finally:
        sys.settrace(previous)
    if stopped:
        result = None
    return result, lines


def all_exercises() -> dict[str, Exercise]:
    """Import every lesson's check module and return the registry, keyed by exercise id."""
    from . import LESSON_MODULES

    for module_name in LESSON_MODULES:
        importlib.import_module(f"cnn_helpers.checks.{module_name}")
    return dict(sorted(REGISTRY.items(), key=lambda item: tuple(int(p) for p in item[0].split("."))))
