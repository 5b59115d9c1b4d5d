"""The machinery every check shares (cnn_helpers.checks._core): the reference guard, comparisons
that name the mistake, the line budget of vectorised exercises and checked questions."""

import pkgutil

import numpy as np
import pytest

import cnn_helpers
from cnn_helpers.checks import _core, lesson02, lesson06
from cnn_helpers.checks._core import CheckFailure, reference_guard

from ._tools import assert_fails, assert_passes

# --------------------------------------------------------------------------------------------
# The reference guard trusts only the package's math modules


def test_every_module_of_the_package_is_classified_for_the_guard():
    """A new or renamed module must be listed as math (MATH_MODULES) or be widgets/plotting/checks/course."""
    parts = {
        name.split(".")[1]
        for name in (m.name for m in pkgutil.walk_packages(cnn_helpers.__path__, "cnn_helpers."))
    }
    unclassified = parts - set(_core.MATH_MODULES) - set(_core.UNGUARDED_MODULES) - {"widgets", "plotting"}
    assert not unclassified, (
        f"add {sorted(unclassified)} to cnn_helpers.checks._core.MATH_MODULES (reference math) or "
        "handle it in the guard explicitly"
    )


def test_the_stepper_math_behind_the_widget_does_not_pass_2_1():
    """The multiply-and-sum widget draws ``conv.correlation_steps``; the math is blocked there."""
    from cnn_helpers import conv

    def correlate2d_loops(image, kernel):
        return conv.correlation_steps(image, kernel)[-1].feature_map

    assert_fails(
        lesson02.check_correlate2d_loops, correlate2d_loops, hint="called cnn_helpers.conv.correlation_steps"
    )
    # also when imported by name into the learner's namespace
    namespace = {"correlation_steps": conv.correlation_steps}
    exec(
        "def correlate2d_loops(image, kernel):\n    return correlation_steps(image, kernel)[-1].feature_map\n",
        namespace,
    )
    assert_fails(
        lesson02.check_correlate2d_loops,
        namespace["correlate2d_loops"],
        hint="called cnn_helpers.conv.correlation_steps",
    )
    # and the function works again afterwards
    assert conv.correlation_steps([[1, 2, 3]], [[1, 1]])[-1].feature_map.tolist() == [[3.0, 5.0]]


def test_the_pooling_behind_the_figures_does_not_pass_6_1():
    from cnn_helpers import pooling

    assert_fails(
        lesson06.check_max_pool,
        lambda x, size, *, stride: pooling.pool(x, size, stride=stride, mode="max"),
        hint="called cnn_helpers.pooling.pool",
    )
    assert pooling.pool([[1, 2], [3, 4]], 2).tolist() == [[4.0]]


def test_a_widget_helper_that_pools_does_not_pass_6_1():
    """A widget's plain function does not pass either: the math it calls is blocked."""
    # ipywidgets is a course dependency: imported plainly, so a broken install fails loudly
    from cnn_helpers.widgets import explore_pooling

    assert_fails(
        lesson06.check_max_pool,
        lambda x, size, *, stride: explore_pooling(x, size, stride=stride).output,
        hint="called cnn_helpers.pooling.pool",
    )


def test_reference_math_reached_through_widget_code_trips():
    """Even when a widget helper is allowed, the math it calls is not."""
    # ipywidgets is a course dependency: imported plainly, so a broken install fails loudly
    from cnn_helpers.widgets import explore_pooling

    def learner(x):
        return explore_pooling(x, 2, stride=2).output

    with (
        reference_guard(learner, allowed=("explore_pooling",), exercise_id="9.9"),
        pytest.raises(CheckFailure, match=r"called cnn_helpers\.pooling"),
    ):
        learner(np.ones((4, 4)))


def test_an_allowed_math_function_may_still_call_blocked_math():
    from cnn_helpers import conv, filters

    def learner(image):
        return filters.apply_kernel(image, np.ones((3, 3)))

    with reference_guard(learner, allowed=("apply_kernel",), exercise_id="9.9"):
        received = learner(np.arange(25.0).reshape(5, 5))
    np.testing.assert_allclose(
        received, conv.correlate2d(np.arange(25.0).reshape(5, 5), np.ones((3, 3)), padding=1)
    )


def test_a_call_from_the_checks_is_not_trusted():
    from cnn_helpers import conv

    with (
        reference_guard(lambda: None, exercise_id="9.9"),
        pytest.raises(CheckFailure, match=r"called cnn_helpers\.conv\.correlate2d"),
    ):
        conv.correlate2d(np.ones((2, 2)), np.ones((1, 1)))


def test_the_guard_restores_everything():
    from cnn_helpers import conv

    before = {name: value for name, value in vars(conv).items()}
    with reference_guard(lambda: None, exercise_id="9.9"):
        assert conv.correlate2d is not before["correlate2d"]
    assert {name: value for name, value in vars(conv).items()} == before


# --------------------------------------------------------------------------------------------
# diagnose: a mistake is named only when it explains every case


def _square_cases():
    return [(f"n={n}", (n,)) for n in (0, 1, 2, 3, 10)]


SQUARE_MISTAKES = {
    "doubled": (lambda n: 2 * n, "you doubled n"),
    "plus one": (lambda n: n * n + 1, "you added one"),
    "cube": (lambda n: n**3, "you cubed n"),
}


def test_diagnose_passes_and_returns_the_answers():
    assert _core.diagnose("0.0", lambda n: n * n, lambda n: n * n, _square_cases(), SQUARE_MISTAKES) == [
        0,
        1,
        4,
        9,
        100,
    ]


def test_diagnose_names_the_mistake_that_explains_every_case():
    # 2n equals n*n at n = 0 and n = 2, n**3 equals it at 0 and 1: only "doubled" fits all five
    with pytest.raises(CheckFailure, match="you doubled n") as failure:
        _core.diagnose("0.0", lambda n: 2 * n, lambda n: n * n, _square_cases(), SQUARE_MISTAKES)
    assert "wrong on 3 of 5 cases" in str(failure.value)


def test_diagnose_does_not_name_a_mistake_from_one_coincidence():
    """Wrong only at n = 3, where 27 happens to be the cube: not the cube mistake (it would be wrong at 2 and 10)."""
    answer = lambda n: 27 if n == 3 else n * n  # noqa: E731
    with pytest.raises(CheckFailure) as failure:
        _core.diagnose("0.0", answer, lambda n: n * n, _square_cases(), SQUARE_MISTAKES)
    assert "Likely mistake" not in str(failure.value)
    assert "expected 9, got 27" in str(failure.value)


def test_diagnose_compares_integers_exactly():
    cases = [("a large count", (10**12,))]
    with pytest.raises(CheckFailure, match="expected 1000000000000, got 1000000000001"):
        _core.diagnose("0.0", lambda n: n + 1, lambda n: n, cases)
    assert _core.same_value(10**12, 1e12) and not _core.same_value(10**12, 1e12 + 1)


def test_diagnose_reports_a_raise_and_still_diagnoses_the_answers():
    def learner(n):
        if n == 10:
            raise IndexError("out of range")
        return 2 * n

    mistakes = {"doubled": (lambda n: 2 * n if n != 10 else None, "you doubled n")}
    with pytest.raises(CheckFailure, match="you doubled n"):
        _core.diagnose("0.0", learner, lambda n: n * n, _square_cases(), mistakes)
    with pytest.raises(CheckFailure, match="wrong result on n=1: expected 1, got 2 \\(wrong on 3 of 5"):
        _core.diagnose("0.0", learner, lambda n: n * n, _square_cases())

    def right_but_raises(n):
        if n == 10:
            raise IndexError("out of range")
        return n * n

    with pytest.raises(CheckFailure, match="raised IndexError on n=10: out of range"):
        _core.diagnose("0.0", right_but_raises, lambda n: n * n, _square_cases(), mistakes)


def test_diagnose_passes_not_done_yet_and_the_guard_through():
    def stub(n):
        raise NotImplementedError("Exercise 0.0")

    with pytest.raises(CheckFailure, match="not done yet"):
        _core.diagnose("0.0", stub, lambda n: n, _square_cases())


def test_compare_number_integer_mistakes_are_matched_exactly():
    with pytest.raises(CheckFailure) as failure:
        _core.compare_number("0.0", 3_126_251, 3_126_250, "a case", [("squares missing", 3_126_251 - 0 + 1)])
    assert "Likely mistake" not in str(failure.value)


# --------------------------------------------------------------------------------------------
# The line budget by two sizes


def _namespace(source):
    namespace = {"np": np}
    exec(compile(source, "<learner cell>", "exec"), namespace)
    return namespace


def test_lines_do_not_grow_for_vectorised_code_and_grow_for_loops():
    cell = _namespace(
        "def vectorised(x):\n    return (x ** 2).sum(axis=(1, 2))\n"
        "def per_image(x):\n    return np.array([(image ** 2).sum() for image in x])\n"
        "def per_kernel_offset(x, k=3):\n    total = 0\n    for i in range(k):\n        total = total + x[:, i].sum(axis=-1)\n    return total\n"
    )
    small, large = (np.ones((2, 4, 4)),), (np.ones((6, 8, 8)),)
    assert _core.check_lines_do_not_grow(
        "0.0", cell["vectorised"], small, large, watch=cell["vectorised"]
    ) == (1, 1)
    lines = _core.check_lines_do_not_grow(
        "0.0", cell["per_kernel_offset"], small, large, watch=cell["per_kernel_offset"]
    )
    assert lines[0] == lines[1] > 3  # a loop over something that does not grow is fine
    with pytest.raises(CheckFailure, match=r"right but not vectorised.*grows with the input"):
        _core.check_lines_do_not_grow(
            "0.0",
            cell["per_image"],
            small,
            large,
            watch=cell["per_image"],
            describe=lambda arguments: f"x of shape {arguments[0].shape}",
        )


# --------------------------------------------------------------------------------------------
# Checked questions


def test_an_integer_question():
    check = _core.question(
        "0.1",
        "count",
        expected=81,
        misconceptions={225: "every pixel", 9: "one window"},
        hint="count the positions first",
    )
    assert_passes(check, 81)
    assert_passes(check, np.int64(81))
    assert_passes(check, 81.0)
    assert_fails(check, 225, hint="Likely misconception: every pixel")
    message = assert_fails(check, 80, hint="Hint: count the positions first")
    assert "81" not in message  # the answer is never shown
    assert_fails(check, 80.5, hint="whole number")
    assert_fails(check, "81", hint="answer with a number")
    assert_fails(check, True, hint="answer with a number")
    assert_fails(check, None, hint="Exercise 0.1 is not done yet")


def test_a_float_question_uses_its_tolerance():
    check = _core.question(
        "0.2", "share", expected=0.25, tolerance=0.005, misconceptions={0.75: "the complement"}
    )
    assert_passes(check, 0.252)
    assert_fails(check, 0.26, hint="is not right")
    assert_fails(check, 0.7501, hint="the complement")
    with pytest.raises(ValueError, match="needs a tolerance"):
        _core.question("0.9", "share", expected=0.25)


def test_a_choice_question_by_letter_or_text():
    check = _core.question(
        "0.3",
        "kind",
        expected="invariant",
        choices=["equivariant", "invariant", "neither"],
        misconceptions={"a": "shifting the input shifts the map: that is equivariance"},
    )
    for answer in ("b", "B", "(b)", "b)", "Invariant", "  INVARIANT "):
        assert_passes(check, answer)
    assert_fails(check, "Equivariant", hint="that is equivariance")
    assert_fails(check, "a", hint="that is equivariance")
    assert_fails(check, "c", hint="(c) neither is not right")
    assert_fails(check, "d", hint="answer with the letter")
    assert_fails(check, 2, hint="answer with the letter")
    with pytest.raises(ValueError, match="none of the choices"):
        _core.question("0.9", "kind", expected="z", choices=["x", "y"])


def test_a_question_is_registered_as_one():
    _core.question("0.4", "registered", expected=3, misconceptions={4: "off by one"})
    entry = _core.REGISTRY.pop("0.4")
    assert entry.kind == "question" and entry.question.expected == 3 and entry.reference is None


def test_the_learner_edition_of_a_question_is_an_answer_of_none():
    from cnn_helpers.course import editions

    source = "# Exercise 2.5: count\n### BEGIN SOLUTION\nanswer_2_5 = 81\n### END SOLUTION"
    stub = editions.stub_source(source, "2.5", "count")
    assert stub == "# Exercise 2.5: count\nanswer_2_5 = None  # YOUR ANSWER HERE"
    namespace = {}
    exec(stub, namespace)
    assert namespace["answer_2_5"] is None
    # a top-level block that does more than assign answers keeps the raise
    other = editions.stub_source(
        "### BEGIN SOLUTION\nanswer = 3\nprint(answer)\n### END SOLUTION", "2.6", "t"
    )
    assert "raise NotImplementedError" in other
    assert "raise NotImplementedError" in editions.stub_source(
        "### BEGIN SOLUTION\nb = 2\n### END SOLUTION", "2.7", "t"
    )


@pytest.fixture(autouse=True)
def _forget_test_questions():
    before = set(_core.REGISTRY)
    yield
    for exercise_id in set(_core.REGISTRY) - before:
        del _core.REGISTRY[exercise_id]


def test_a_blocked_class_trips_when_built_by_the_learner_but_still_works_for_isinstance():
    from cnn_helpers import layers

    relu = layers.ReLU()

    def learner():
        return layers.ReLU()

    with reference_guard(learner, exercise_id="9.9"):
        with pytest.raises(CheckFailure, match=r"called cnn_helpers\.layers\.ReLU"):
            learner()
        assert isinstance(relu, layers.ReLU) and isinstance(relu, layers.Layer)
        assert issubclass(type(relu), layers.Layer)
    assert layers.ReLU is type(relu)
