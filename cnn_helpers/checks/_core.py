"""What every exercise check shares: the failure type, the registry, comparisons that name the
mistake, the guard that stops a learner's function from handing back the package's own answer, the
line budget of vectorised exercises, and checked questions.

How to write a check (see CONTRIBUTING.md, "Checks")
----------------------------------------------------
A **function exercise** is registered with :func:`exercise`::

    @exercise("2.1", "cross-correlation with loops", reference="cnn_helpers.conv.correlate2d")
    def check_correlate2d_loops(correlate2d_loops):
        ...
        received = call("2.1", correlate2d_loops, image, kernel, case=description)

The check receives the learner's *function*, runs it with :func:`call` on the lecture's worked
numbers plus many seeded random cases and compares each result with the reference computed
beforehand. ``reference`` names the package function(s) that compute the answer (one dotted name
per function the check takes, ``None`` for a design exercise that no package function answers):
``tests/exercises/test_registry.py`` proves that a learner who calls it fails.

- :func:`diagnose` runs the learner's function on *every* case, and names a mistake only when the
  mistake reproduces the learner's answers on all cases (so a coincidence on one case never names
  the wrong mistake). Prefer it for new checks; :func:`compare` and :func:`compare_number` compare
  one case at a time. Integers are always compared exactly. Register the mistakes with
  ``@exercise(..., mistakes=function_returning_the_dict)`` so the registry test proves each is named.
- :func:`check_lines_do_not_grow` is the line budget of a vectorised exercise: the learner's code
  runs on a small and a large input, and the number of Python lines it executes may not grow, so
  a loop over images or output positions fails whatever the input size.
- :func:`question` registers a **checked question** (a number or one choice)::

      check_multiply_adds = question("2.5", "multiply-adds of a valid correlation", expected=81,
                                     misconceptions={225: "...", 9: "..."})

  Its notebook cell holds ``answer_2_5 = 81`` between the solution markers; the learner edition
  gets ``answer_2_5 = None  # YOUR ANSWER HERE`` and the check says "not done yet" for None.

The reference guard
-------------------
While :func:`call` runs the learner's function, every public callable of the package (the math
modules, and also ``widgets`` and ``plotting``, whose helpers compute with the package's answers)
is replaced by a tripwire, except the names the exercise ``allowed``. A tripwire lets a call
through only when it comes from code in :data:`MATH_MODULES` (an allowed ``apply_kernel`` may call
``correlate2d``); a call from the learner's code, from ``widgets`` or ``plotting`` raises
:class:`CheckFailure`. A module that is renamed or added is listed in :data:`MATH_MODULES` (or in
:data:`TOOL_MODULES` if its functions never compute an answer); ``tests/exercises/test_core.py``
fails until every module of the package is classified.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


class CheckFailure(AssertionError):
    """Raised by a check when the learner's function gives a wrong answer; the message is the hint."""


class _LearnerRaised(CheckFailure):
    """The learner's function raised an exception of its own (not "not done yet", not the guard)."""


_UNDECLARED = "undeclared"


@dataclass
class Exercise:
    """What a lesson module registers for one exercise id.

    ``kind`` is ``"function"`` (the check takes the learner's functions) or ``"question"`` (the
    check takes one answer). ``reference`` holds the dotted names of the package functions that
    compute the answer, one per function the check takes (``None`` where none does), or the
    string ``"undeclared"`` when the lesson module does not say.
    """

    id: str
    title: str
    check: Callable
    forbidden: tuple = ()
    allowed: tuple = ()
    reference: object = _UNDECLARED
    kind: str = "function"
    question: object = None
    mistakes: Callable | None = None


REGISTRY: dict[str, Exercise] = {}

#: The package's reference math. Code in these modules may call blocked functions while a check
#: runs (an allowed ``apply_kernel`` calls ``correlate2d``, which calls ``pad2d``); code anywhere
#: else (the learner's notebook, ``widgets``, ``plotting``, the checks) may not. Short names below
#: ``cnn_helpers``; a submodule (``conv._fast``) counts with its parent. Add a renamed module here.
MATH_MODULES = (
    "conv",
    "pooling",
    "filters",
    "layers",
    "model",
    "optim",
    "gradcheck",
    "training",
    "images",
    "data",
    "_fast",
    "blocks",
    "receptive_field",
    "dense_prediction",
    "_validation",
)
#: Math modules whose public functions are tools rather than answers (loading the lecture's data,
#: validating input): never blocked, unless an exercise lists one in ``forbidden``.
TOOL_MODULES = ("data", "_validation")
#: Parts of the package that are neither math nor an answer: the checks and the course machinery.
#: Everything else (``widgets``, ``plotting`` and the math modules) is blocked while a check runs.
UNGUARDED_MODULES = ("checks", "course", "__main__", "_paths")

# Kept for code written against the old name: the math modules whose functions are blocked.
REFERENCE_MODULES = tuple(f"cnn_helpers.{name}" for name in MATH_MODULES if name not in TOOL_MODULES)

# Other libraries' ready-made answers, blocked only if the learner's process already imported them.
THIRD_PARTY_ANSWERS = (
    "scipy.signal.correlate2d",
    "scipy.signal.convolve2d",
    "scipy.signal.correlate",
    "scipy.signal.convolve",
    "scipy.signal.fftconvolve",
    "scipy.signal.oaconvolve",
    "scipy.ndimage.correlate",
    "scipy.ndimage.convolve",
    "scipy.ndimage.maximum_filter",
    "scipy.ndimage.uniform_filter",
    "torch.nn.functional.conv2d",
    "torch.nn.functional.max_pool2d",
    "torch.nn.functional.avg_pool2d",
)


def _package_part(module_name: str) -> str | None:
    """``"conv"`` for ``cnn_helpers.conv`` or ``cnn_helpers.conv.x``; None outside the package."""
    if not isinstance(module_name, str) or not module_name.startswith("cnn_helpers."):
        return None
    return module_name.split(".")[1]


def is_math_module(module_name: str) -> bool:
    """True for a module listed in :data:`MATH_MODULES` (or a submodule of one)."""
    return _package_part(module_name) in MATH_MODULES


def _is_blocked_module(module_name: str) -> bool:
    """Modules whose public callables are answers: the math (but its tools), widgets, plotting."""
    part = _package_part(module_name)
    return part is not None and part not in TOOL_MODULES and part not in UNGUARDED_MODULES


def _as_names(reference):
    if reference is None or reference == _UNDECLARED:
        return reference
    return (reference,) if isinstance(reference, str) else tuple(reference)


def exercise(
    exercise_id: str,
    title: str,
    allowed: tuple = (),
    forbidden: tuple = (),
    *,
    reference=_UNDECLARED,
    mistakes=None,
):
    """Register a check for exercise ``exercise_id`` (e.g. ``"2.1"``).

    The wrapped check receives the learner's function(s); while one runs inside :func:`call`,
    calling a package function (other than the ``allowed`` names: bare attribute names such as
    ``"pad2d"``, or dotted names) raises :class:`CheckFailure`. ``forbidden`` adds dotted names
    that are not blocked otherwise (a tool of ``cnn_helpers.data``, a NumPy function).
    ``reference``: the dotted name of the package function that computes the answer, or a tuple
    with one per function the check takes (``None`` for a function no package code answers).
    ``mistakes``: for a one-function check built on :func:`diagnose`, the zero-argument function
    returning its mistakes dict; the registry test then runs every mistake as a learner's answer
    and proves the check names it.
    """

    def decorate(check):
        @functools.wraps(check)
        def run(*functions, **options):
            for function in functions:
                _refuse_reference_itself(exercise_id, function, allowed, forbidden)
            check(*functions, **options)

        run.exercise_id = exercise_id
        REGISTRY[exercise_id] = Exercise(
            exercise_id, title, run, tuple(forbidden), tuple(allowed), _as_names(reference), mistakes=mistakes
        )
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
    return reference_guard(
        function,
        allowed=info.allowed if info else (),
        extra=info.forbidden if info else (),
        exercise_id=exercise_id,
    )


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
            raise _LearnerRaised(
                f"Exercise {exercise_id}: your function raised {type(error).__name__}{where}: {error}"
            ) from error


def _is_allowed(dotted, attribute, allowed):
    return attribute in allowed or dotted in allowed


def _reference_objects(allowed=(), extra=()):
    """Map id(object) -> (dotted name, module, attribute, object) for every blocked callable.

    Blocked: each public callable *defined* in a blocked module of the package (math, widgets,
    plotting; see :func:`_is_blocked_module`), the third-party answers and ``extra``.
    """
    found = {}
    for module_name, module in list(sys.modules.items()):
        if module is None or not _is_blocked_module(module_name):
            continue
        for attribute, value in list(vars(module).items()):
            if attribute.startswith("_") or not callable(value) or isinstance(value, types.ModuleType):
                continue
            if getattr(value, "__module__", None) != module_name:
                continue  # re-exported names are found in the module that defines them
            dotted = f"{module_name}.{attribute}"
            if _is_allowed(dotted, attribute, allowed):
                continue
            found[id(value)] = (dotted, module, attribute, value)
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
    """True when ``frame`` runs inside the package's reference math (:data:`MATH_MODULES`)."""
    return frame is not None and is_math_module(frame.f_globals.get("__name__", ""))


def _tripped(exercise_id, dotted_name) -> CheckFailure:
    what = (
        "a figure or widget helper that computes the answer with the package's own code"
        if _package_part(dotted_name) in ("widgets", "plotting")
        else "which computes the answer for you"
    )
    return CheckFailure(
        f"Exercise {exercise_id}: your function called {dotted_name}, {what}. "
        "Write the computation yourself (NumPy is fine)."
    )


def _tripwire(exercise_id, dotted_name, original):
    """A stand-in for ``original`` that calls it only when called from the reference math."""
    if isinstance(original, type):
        wire = _class_tripwire(exercise_id, dotted_name, original)
        if wire is not None:
            return wire

    def tripwire(*args, **kwargs):
        # A package function may call blocked ones internally (apply_kernel calls correlate2d,
        # which calls pad2d): only calls from outside the reference math trip.
        if _called_from_the_package(sys._getframe(1)):
            return original(*args, **kwargs)
        raise _tripped(exercise_id, dotted_name)

    tripwire.__name__ = dotted_name.rpartition(".")[2]
    tripwire.__wrapped_reference__ = original
    return tripwire


def _class_tripwire(exercise_id, dotted_name, original):
    """A class that trips when instantiated from outside the math, and is still the class for
    ``isinstance`` and ``issubclass`` (so the package's own type checks keep working)."""

    def __call__(cls, *args, **kwargs):
        if _called_from_the_package(sys._getframe(1)):
            return original(*args, **kwargs)
        raise _tripped(exercise_id, dotted_name)

    def __instancecheck__(cls, instance):
        return isinstance(instance, original)

    def __subclasscheck__(cls, subclass):
        return issubclass(subclass, original)

    try:
        meta = type(
            f"{original.__name__}Tripwire",
            (type(original),),
            {
                "__call__": __call__,
                "__instancecheck__": __instancecheck__,
                "__subclasscheck__": __subclasscheck__,
            },
        )
        return meta(
            original.__name__,
            (original,),
            {
                "__module__": original.__module__,
                "__doc__": original.__doc__,
                "__qualname__": original.__qualname__,
                "__wrapped_reference__": original,
            },
        )
    except TypeError:  # a class that cannot be subclassed (an Enum with members): a plain tripwire
        return None


@contextlib.contextmanager
def reference_guard(function, allowed=(), extra=(), exercise_id="?"):
    """Temporarily replace the package's answers with tripwires.

    Patched: the attribute of the module that defines each blocked callable (so
    ``cnn_helpers.conv.correlate2d(...)`` trips); every name bound to one in the namespaces of the
    package's non-math modules, and in their module-level dicts (so a widget or plotting helper,
    or a package re-export such as ``cnn_helpers.plotting.pool``, trips too); and the names in the
    learner function's global namespace (so ``from cnn_helpers.conv import correlate2d`` trips).
    Everything is restored afterwards.
    """
    blocked = _reference_objects(allowed, extra)
    wires = {key: _tripwire(exercise_id, hit[0], hit[3]) for key, hit in blocked.items()}
    saved = []  # (namespace dict, key, original value)

    def patch(namespace, key, value):
        saved.append((namespace, key, value))
        namespace[key] = wires[id(value)]

    for _, module, attribute, value in blocked.values():
        patch(vars(module), attribute, value)
    for module_name, module in list(sys.modules.items()):
        part = _package_part(module_name)
        if module is None or part is None or part in UNGUARDED_MODULES or part in MATH_MODULES:
            continue
        namespace = vars(module)
        for key, value in list(namespace.items()):
            if id(value) in wires and namespace[key] is value and callable(value):
                patch(namespace, key, value)
            elif isinstance(value, dict) and not key.startswith("__"):
                for inner_key, inner in list(value.items()):
                    if id(inner) in wires and callable(inner):
                        patch(value, inner_key, inner)
    learner_globals = getattr(_unwrap(function), "__globals__", {})
    for name, value in list(learner_globals.items()):
        if id(value) in wires and callable(value):
            patch(learner_globals, name, value)
    try:
        yield
    finally:
        for namespace, key, value in reversed(saved):
            namespace[key] = value


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


def _is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def same_value(expected, received, rtol=1e-9, atol=1e-9) -> bool:
    """True when ``received`` equals ``expected``: exactly for integers, else to ``rtol``/``atol``.

    An integer ``expected`` is matched exactly (``3126250`` is not ``3126251``, however large);
    arrays must have the same shape, and integer arrays the same values.

    >>> same_value(3_126_251, 3_126_250), same_value(4, 4.0), same_value(0.1 + 0.2, 0.3)
    (False, True, True)
    """
    if expected is None or received is None:
        return expected is received
    if _is_integer(expected) and _is_number(received):
        return bool(received == expected)
    if _is_number(expected) and _is_number(received):
        return bool(np.isclose(float(received), float(expected), rtol=rtol, atol=atol))
    try:
        expected_array, received_array = np.asarray(expected), np.asarray(received)
        if expected_array.shape != received_array.shape:
            return False
        if expected_array.dtype.kind in "iub" and received_array.dtype.kind in "iub":
            return bool(np.array_equal(expected_array, received_array))
        return bool(
            np.allclose(received_array.astype(float), expected_array.astype(float), rtol=rtol, atol=atol)
        )
    except (TypeError, ValueError):
        return False


def compare_number(exercise_id, expected, received, case, mistakes=(), name="result", rtol=1e-9, atol=1e-9):
    """Like :func:`compare` for a single integer or float answer.

    An integer ``expected`` is compared exactly, and so are the mistakes' integer values; floats
    to ``rtol``/``atol``. A mistake is named when its value on *this* case equals the answer: where
    different mistakes can give the same number, use :func:`diagnose`, which looks at every case.
    """
    if not _is_number(received):
        raise CheckFailure(
            f"Exercise {exercise_id}: on {case}, expected a number, got {type(received).__name__} {received!r}"
        )
    if same_value(expected, received, rtol, atol):
        return
    message = f"Exercise {exercise_id}: wrong {name} on {case}: expected {expected}, got {received}."
    for description, value in mistakes:
        if value is not None and same_value(value, received, max(rtol, 1e-7), atol):
            message += f"\n  Likely mistake: {description}"
            break
    raise CheckFailure(message)


def _mistake_value(function, args, kwargs):
    """What a mistake returns on one case, or None when that mistake cannot run there."""
    try:
        return function(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    except (ArithmeticError, ValueError, TypeError, IndexError):
        return None


def diagnose(exercise_id, learner, reference, cases, mistakes=None, *, name="result", rtol=1e-9, atol=1e-9):
    """Run ``learner`` on every case; on a wrong answer, name the mistake that explains them all.

    Parameters
    ----------
    exercise_id : str
    learner : callable
        The learner's function; each call goes through :func:`call` (the guard is on, a raise
        becomes a hint, ``NotImplementedError`` becomes "not done yet").
    reference : callable
        The right answer, ``reference(*args, **kwargs)``; called outside the guard.
    cases : sequence of (description, args) or (description, args, kwargs)
    mistakes : dict of name -> (function, hint)
        Each ``function`` takes the case's arguments and returns what that mistake returns (the
        whole mistaken solution, on every case; None, or raising ValueError / TypeError /
        ArithmeticError / IndexError, where it cannot run). A mistake is named only when it
        reproduces the learner's answer on **every** case where both give one, on at least two of
        the wrong answers (or the only one), and cannot run where the learner's function raised:
        one coincidence never names the wrong mistake. The first mistake that fits is named.
    name : str
        What the answer is called in the message ("count", "feature map").

    Returns
    -------
    list
        The learner's answers, one per case, when all are right (for further checks, e.g. types).

    Raises
    ------
    CheckFailure
        Naming the first wrong case, the expected and received values, how many cases are wrong,
        and the mistake when one explains every answer.

    Examples
    --------
    >>> cases = [(f"n={n}", (n,)) for n in (1, 2, 5)]
    >>> mistakes = {"doubled": (lambda n: 2 * n, "you doubled n"), "plus one": (lambda n: n + 1, "you added 1")}
    >>> diagnose("0.0", lambda n: n + 1, lambda n: n * n, cases, mistakes)
    Traceback (most recent call last):
    ...
    cnn_helpers.checks._core.CheckFailure: Exercise 0.0: wrong result on n=1: expected 1, got 2 (wrong on 3 of 3 cases).
      Likely mistake: you added 1
    """
    mistakes = dict(mistakes or {})
    normalised = [(case[0], tuple(case[1]), dict(case[2]) if len(case) > 2 else {}) for case in cases]
    expected, received, raised = [], [], {}
    for index, (description, args, kwargs) in enumerate(normalised):
        expected.append(reference(*copy.deepcopy(args), **copy.deepcopy(kwargs)))
        try:
            answer = call(
                exercise_id, learner, *copy.deepcopy(args), case=description, **copy.deepcopy(kwargs)
            )
        except _LearnerRaised as failure:  # an error of the learner's on this case: diagnose it with the rest
            raised[index] = failure
            answer = None
        if index not in raised and _is_number(expected[-1]) and not _is_number(answer):
            raise CheckFailure(
                f"Exercise {exercise_id}: on {description}, expected a number, got "
                f"{type(answer).__name__} {answer!r}"
            )
        received.append(answer)
    wrong = [
        i
        for i, (e, r) in enumerate(zip(expected, received, strict=True))
        if i in raised or not same_value(e, r, rtol, atol)
    ]
    if not wrong:
        return received
    hint = None
    answered_wrong = [i for i in wrong if i not in raised]
    for function, text in mistakes.values():
        values = [_mistake_value(function, args, kwargs) for _, args, kwargs in normalised]
        # The mistake must give the learner's answer wherever both answered, on several of the
        # wrong answers (all of them if there are fewer than two), and must not run where the
        # learner's function raised. Where a mistake cannot run, it neither counts nor contradicts.
        explained = sum(values[i] is not None for i in answered_wrong)
        if explained < min(2, len(answered_wrong)) or explained == 0:
            continue
        if any(values[i] is not None for i in raised):
            continue
        if all(
            v is None or i in raised or same_value(v, r, max(rtol, 1e-7), atol)
            for i, (v, r) in enumerate(zip(values, received, strict=True))
        ):
            hint = text
            break
    first = answered_wrong[0] if hint else wrong[0]
    if first in raised:
        failure = raised[first]
        extra = f" (wrong or raising on {len(wrong)} of {len(cases)} cases)" if len(wrong) > 1 else ""
        raise _LearnerRaised(str(failure) + extra) from failure.__cause__
    description = normalised[first][0]
    count = f"wrong on {len(wrong)} of {len(cases)} cases"
    try:
        if _is_number(expected[first]):
            compare_number(
                exercise_id, expected[first], received[first], description, name=name, rtol=rtol, atol=atol
            )
        else:
            compare(
                exercise_id, expected[first], received[first], description, name=name, rtol=rtol, atol=atol
            )
        message = f"Exercise {exercise_id}: wrong {name} on {description}."  # pragma: no cover (same_value disagreed)
    except CheckFailure as failure:
        message = str(failure)
    head, _, rest = message.partition("\n")
    head = head[:-1] + f" ({count})." if head.endswith(".") else head + f" ({count})"
    message = head + ("\n" + rest if rest else "")
    if hint:
        message += f"\n  Likely mistake: {hint}"
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

    Used by the checks of vectorised exercises (5.2, 5.3, 7.8): a loop over output positions runs at
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


#: How many more lines of Python the large input of :func:`check_lines_do_not_grow` may run
#: than the small one. A loop over images, filters or output positions adds at least two lines
#: (the ``for`` and its body) per extra iteration, so it cannot stay within this.
LINE_GROWTH_ALLOWANCE = 3


def check_lines_do_not_grow(
    exercise_id, run, small, large, *, watch, describe=None, allowance=LINE_GROWTH_ALLOWANCE, advice=""
):
    """Fail unless ``run`` executes (almost) no more lines of learner code on ``large`` than on ``small``.

    The line budget of a vectorised exercise. ``run(*small)`` and ``run(*large)`` call the
    learner's function(s) (through :func:`call`); the lines executed in the learner's notebook
    code (see :func:`count_python_lines`) are counted for each. A vectorised solution runs the
    same lines whatever the size of its input; a Python loop over images, filters or output
    positions runs more lines on the larger input, however small both inputs are. Choose the two
    inputs to differ in what must not be looped over (N, F, H, W) and to agree in what may be
    (the kernel size, stride and padding, so loops over kernel offsets stay allowed).

    Parameters
    ----------
    exercise_id : str
    run : callable
        ``run(*arguments)``; its return value is ignored.
    small, large : tuple
        The arguments of the two runs.
    watch : callable or tuple of callables
        The learner's function(s): code sharing their globals is counted.
    describe : callable, optional
        ``describe(arguments) -> str`` for the message, e.g. "x of shape (2, 3, 6, 6)"; by default
        the first argument.
    allowance : int
        How many more lines the large run may execute.
    advice : str
        What to do instead, appended to the message.

    Returns
    -------
    (int, int)
        The line counts of the small and the large run.

    Examples
    --------
    >>> def total(values):
    ...     result = 0
    ...     for value in values:
    ...         result += value
    ...     return result
    >>> check_lines_do_not_grow("0.0", total, ([1, 2],), ([1, 2, 3, 4, 5],), watch=total)
    Traceback (most recent call last):
    ...
    cnn_helpers.checks._core.CheckFailure: Exercise 0.0: your function is right but not vectorised: it ran 7 lines of Python on [1, 2] and 11 or more on [1, 2, 3, 4, 5]. The count grows with the input, so a Python loop runs over it.
    >>> check_lines_do_not_grow("0.0", sum, ([1, 2],), ([1, 2, 3, 4, 5],), watch=total)
    (0, 0)
    """
    _, small_lines = count_python_lines(run, *small, watch=watch)
    limit = small_lines + allowance
    _, large_lines = count_python_lines(run, *large, limit=limit, watch=watch)
    if large_lines > limit:
        more = "or more " if large_lines == limit + 1 else ""
        describe = describe or (lambda arguments: format_array(arguments[0], max_chars=60))
        raise CheckFailure(
            f"Exercise {exercise_id}: your function is right but not vectorised: it ran {small_lines:,} "
            f"lines of Python on {describe(small)} and {large_lines:,} {more}on {describe(large)}. "
            f"The count grows with the input, so a Python loop runs over it.{(' ' + advice) if advice else ''}"
        )
    return small_lines, large_lines


# --------------------------------------------------------------------------------------------
# Checked questions: one number or one choice


_LETTERS = "abcdefghij"


@dataclass(frozen=True)
class Question:
    """What :func:`question` registers: the answer and the wrong answers it knows."""

    expected: object
    choices: dict | None  # letter -> text, or None for a number
    tolerance: float | None
    misconceptions: dict  # normalised wrong answer -> hint
    hint: str
    explanation: str


def _normal_text(text) -> str:
    return " ".join(str(text).strip().lower().split())


def _choice_letter(answer, choices):
    """The letter an answer means: "b", "B", "(b)", "b)" or the text of choice b; else None."""
    if not isinstance(answer, str):
        return None
    text = _normal_text(answer).strip("().: ")
    if text in choices:
        return text
    for letter, choice in choices.items():
        if text == _normal_text(choice).strip("().: "):
            return letter
    return None


def question(
    exercise_id: str,
    title: str,
    *,
    expected,
    choices=None,
    tolerance=None,
    misconceptions=None,
    hint: str = "",
    explanation: str = "",
):
    """Register a checked question whose answer is one number or one choice; return its check.

    Parameters
    ----------
    exercise_id, title : str
        As for :func:`exercise`; the notebook's cell ``exercise-L.K`` holds
        ``answer_L_K = <answer>`` between the solution markers.
    expected : int, float or str
        An ``int`` is matched exactly (``81`` and ``81.0`` pass, ``80.9`` does not); a ``float``
        needs ``tolerance``; with ``choices``, the letter (or the text) of the right choice.
    choices : sequence of str, or dict of letter -> str, optional
        The options, lettered a, b, c, ... in order. The learner may answer with the letter or
        the text, in any case, with or without brackets ("b", "(B)", "Invariant").
    tolerance : float, optional
        Absolute tolerance of a float answer (required for floats, state it in the question).
    misconceptions : dict, optional
        Wrong answer -> the misconception behind it, said when the learner gives that answer
        (numbers matched like the answer; choices by letter or text).
    hint : str
        Said after any other wrong answer. The expected answer itself is never shown.
    explanation : str
        The success line's detail: why the answer is right, in one sentence.

    Returns
    -------
    callable
        ``check(answer)``: prints one line when right; raises :class:`CheckFailure` when not,
        "not done yet" while the answer is None.

    Examples
    --------
    >>> check = question("0.1", "multiply-adds", expected=81, misconceptions={225: "25 x 9 counts every pixel"})
    >>> check(81.0)
    Exercise 0.1 passed: 81 is right.
    >>> check(225)
    Traceback (most recent call last):
    ...
    cnn_helpers.checks._core.CheckFailure: Exercise 0.1: 225 is not right.
      Likely misconception: 25 x 9 counts every pixel
    """
    if choices is not None:  # a list of choices is lettered a, b, c, ... (_LETTERS is the longer one)
        choices = dict(choices) if isinstance(choices, dict) else dict(zip(_LETTERS, choices, strict=False))
        choices = {str(letter).lower(): text for letter, text in choices.items()}
        letter = _choice_letter(expected, choices)
        if letter is None:
            raise ValueError(
                f"question {exercise_id}: expected {expected!r} is none of the choices {choices}"
            )
        expected = letter
        known = {}
        for wrong, text in (misconceptions or {}).items():
            wrong_letter = _choice_letter(wrong, choices)
            if wrong_letter is None or wrong_letter == expected:
                raise ValueError(f"question {exercise_id}: misconception {wrong!r} is not a wrong choice")
            known[wrong_letter] = text
    elif _is_integer(expected):
        if tolerance is not None:
            raise ValueError(f"question {exercise_id}: an integer answer is matched exactly; drop tolerance")
        known = dict(misconceptions or {})
    elif _is_number(expected):
        if tolerance is None or tolerance < 0:
            raise ValueError(
                f"question {exercise_id}: a float answer needs a tolerance >= 0, got {tolerance!r}"
            )
        known = dict(misconceptions or {})
    else:
        raise TypeError(
            f"question {exercise_id}: expected must be an int, a float or a choice, got {expected!r}"
        )
    if choices is None and any(_question_matches(expected, tolerance, wrong) for wrong in known):
        raise ValueError(f"question {exercise_id}: a misconception equals the expected answer")
    spec = Question(expected, choices, tolerance, known, hint, explanation)

    def check(answer):
        _check_answer(exercise_id, spec, answer)

    check.__name__ = check.__qualname__ = f"check_question_{exercise_id.replace('.', '_')}"
    check.__doc__ = f"Check the answer to question {exercise_id}: {title}."
    check.exercise_id = exercise_id
    REGISTRY[exercise_id] = Exercise(
        exercise_id, title, check, reference=None, kind="question", question=spec
    )
    return check


def _question_matches(expected, tolerance, answer) -> bool:
    if not _is_number(answer):
        return False
    if _is_integer(expected):
        return bool(answer == expected)
    return abs(float(answer) - float(expected)) <= tolerance


def _check_answer(exercise_id, spec: Question, answer):
    if answer is None or answer is ...:
        raise CheckFailure(
            f"Exercise {exercise_id} is not done yet: your answer is still None. Replace None with "
            "your answer in the exercise cell and run it again."
        )
    if spec.choices is not None:
        letter = _choice_letter(answer, spec.choices)
        if letter is None:
            options = ", ".join(f"({k}) {v}" for k, v in spec.choices.items())
            raise CheckFailure(
                f"Exercise {exercise_id}: answer with the letter (or the text) of one choice: {options}; "
                f"got {answer!r}."
            )
        if letter == spec.expected:
            passed(
                exercise_id,
                f"({letter}) {spec.choices[letter]} is right."
                + (f" {spec.explanation}" if spec.explanation else ""),
            )
            return
        shown = f"({letter}) {spec.choices[letter]}"
        known = spec.misconceptions.get(letter)
    else:
        if isinstance(answer, str) or not _is_number(answer):
            raise CheckFailure(
                f"Exercise {exercise_id}: answer with a number (for example 12 or 0.5, without quotes), "
                f"got {type(answer).__name__} {answer!r}."
            )
        if _question_matches(spec.expected, spec.tolerance, answer):
            passed(
                exercise_id,
                f"{spec.expected} is right." + (f" {spec.explanation}" if spec.explanation else ""),
            )
            return
        shown = f"{answer}"
        tolerance = spec.tolerance if spec.tolerance is not None else 1e-9
        known = next(
            (
                text
                for wrong, text in spec.misconceptions.items()
                if _question_matches(wrong, tolerance, answer)
            ),
            None,
        )
        if known is None and _is_integer(spec.expected) and float(answer) != int(float(answer)):
            known = "the answer is a whole number"
    message = f"Exercise {exercise_id}: {shown} is not right."
    if known:
        message += f"\n  Likely misconception: {known}"
    elif spec.hint:
        message += f"\n  Hint: {spec.hint}"
    raise CheckFailure(message)


def all_exercises() -> dict[str, Exercise]:
    """Import every lesson's check module and return the registry, keyed by exercise id."""
    from . import LESSON_MODULES

    for module_name in LESSON_MODULES:
        importlib.import_module(f"cnn_helpers.checks.{module_name}")
    return dict(sorted(REGISTRY.items(), key=lambda item: tuple(int(p) for p in item[0].split("."))))
