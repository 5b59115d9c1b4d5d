"""The machinery every check shares (cnn_helpers.checks._core): the reference guard, comparisons
that name the mistake, the line budget of vectorised exercises and checked questions."""

import pkgutil

import numpy as np
import pytest

import cnn_helpers
from cnn_helpers.checks import _core, lesson02, lesson06
from cnn_helpers.checks._core import CheckFailure, reference_guard

from ._tools import assert_fails

# --------------------------------------------------------------------------------------------
# The reference guard trusts only the package's math modules


def test_every_module_of_the_package_is_classified_for_the_guard():
    """A new or renamed module must be listed as math (MATH_MODULES) or be widgets/plotting/checks/course."""
    parts = {name.split(".")[1] for name in
             (m.name for m in pkgutil.walk_packages(cnn_helpers.__path__, "cnn_helpers."))}
    unclassified = parts - set(_core.MATH_MODULES) - set(_core.UNGUARDED_MODULES) - {"widgets", "plotting"}
    assert not unclassified, (
        f"add {sorted(unclassified)} to cnn_helpers.checks._core.MATH_MODULES (reference math) or "
        "handle it in the guard explicitly"
    )


def test_a_widget_that_computes_the_map_does_not_pass_2_1():
    pytest.importorskip("matplotlib")
    from cnn_helpers.widgets import multiply_and_sum

    def correlate2d_loops(image, kernel):
        return multiply_and_sum.all_steps(image, kernel)[-1].feature_map

    assert_fails(lesson02.check_correlate2d_loops, correlate2d_loops,
                 hint="called cnn_helpers.widgets.multiply_and_sum.all_steps")
    # also when imported by name into the learner's namespace
    namespace = {"all_steps": multiply_and_sum.all_steps}
    exec("def correlate2d_loops(image, kernel):\n    return all_steps(image, kernel)[-1].feature_map\n", namespace)
    assert_fails(lesson02.check_correlate2d_loops, namespace["correlate2d_loops"], hint="figure or widget helper")
    # and the widget works again afterwards
    assert multiply_and_sum.all_steps([[1, 2, 3]], [[1, 1]])[-1].feature_map.tolist() == [[3.0, 5.0]]


def test_a_plotting_helper_that_pools_does_not_pass_6_1():
    pytest.importorskip("matplotlib")
    from cnn_helpers import plotting
    from cnn_helpers.plotting import pooling as pooling_plots

    assert_fails(lesson06.check_max_pool, lambda x, size, stride: pooling_plots.pool(x, size, stride, "max"),
                 hint="called cnn_helpers.plotting.pooling.pool")
    if hasattr(plotting, "pool"):  # the package re-export trips too
        assert_fails(lesson06.check_max_pool, lambda x, size, stride: plotting.pool(x, size, stride, "max"),
                     hint="called cnn_helpers.plotting.pooling.pool")
    assert pooling_plots.pool([[1, 2], [3, 4]], 2).tolist() == [[4.0]]


def test_reference_math_reached_through_plotting_code_trips():
    """Even when a plotting helper is allowed, the math it calls is not (it is not reference math)."""
    pytest.importorskip("matplotlib")
    from cnn_helpers.plotting import pooling as pooling_plots

    def learner(x):
        return pooling_plots.pool(x, 2, 2, "max")

    with reference_guard(learner, allowed=("pool",), exercise_id="9.9"):
        with pytest.raises(CheckFailure, match="called cnn_helpers.pooling.max_pool2d"):
            learner(np.ones((4, 4)))


def test_an_allowed_math_function_may_still_call_blocked_math():
    from cnn_helpers import conv, filters

    def learner(image):
        return filters.apply_kernel(image, np.ones((3, 3)))

    with reference_guard(learner, allowed=("apply_kernel",), exercise_id="9.9"):
        received = learner(np.arange(25.0).reshape(5, 5))
    np.testing.assert_allclose(received, conv.correlate2d(np.arange(25.0).reshape(5, 5), np.ones((3, 3)), padding=1))


def test_a_call_from_the_checks_is_not_trusted():
    from cnn_helpers import conv

    with reference_guard(lambda: None, exercise_id="9.9"):
        with pytest.raises(CheckFailure, match="called cnn_helpers.conv.correlate2d"):
            conv.correlate2d(np.ones((2, 2)), np.ones((1, 1)))


def test_the_guard_restores_everything():
    from cnn_helpers import conv

    before = {name: value for name, value in vars(conv).items()}
    with reference_guard(lambda: None, exercise_id="9.9"):
        assert conv.correlate2d is not before["correlate2d"]
    assert {name: value for name, value in vars(conv).items()} == before
