"""The padding and stride explorer (lesson 04): the plain function, and the widget driven through its sliders."""

import numpy as np
import pytest

from cnn_helpers import conv
from cnn_helpers.conv import padding_layout
from cnn_helpers.widgets import (
    PaddingExplorer,
    describe_layout,
    render_layout,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------------------------
# The plain function


@pytest.mark.parametrize(
    "n, k, p_h, p_w, s",
    [
        (5, 3, 1, 1, 2),
        (5, 3, 0, 0, 1),
        (6, 3, 0, 2, 2),
        (7, 5, 2, 1, 3),
        (1, 1, 0, 0, 1),
        (12, 7, 3, 0, 4),
    ],
)
def test_layout_agrees_with_a_real_correlation(n, k, p_h, p_w, s):
    layout = padding_layout(n, k, padding=(p_h, p_w), stride=s)
    out = conv.correlate2d(np.ones((n, n)), np.ones((k, k)), padding=(p_h, p_w), stride=s)
    assert layout.output_shape == out.shape
    assert layout.padded_shape == (n + 2 * p_h, n + 2 * p_w)
    assert len(layout.windows) == out.size and layout.reason is None
    # every window lies inside the padded input, and the last one leaves exactly `unused` behind
    last_top, last_left = layout.windows[-1]
    assert last_top + k + layout.unused[0] == layout.padded_shape[0]
    assert last_left + k + layout.unused[1] == layout.padded_shape[1]
    assert all(0 <= u < s for u in layout.unused)


def test_windows_step_by_the_stride_in_reading_order():
    layout = padding_layout(5, 3, padding=(1, 1), stride=2)
    assert layout.windows == [(r, c) for r in (0, 2, 4) for c in (0, 2, 4)]


def test_no_output_says_why_for_each_axis():
    both = padding_layout(2, 5, padding=(1, 1), stride=1)
    assert both.output_shape is None and both.windows == []
    assert "5 rows tall" in both.reason and "5 columns wide" in both.reason
    one_axis = padding_layout(3, 5, padding=(1, 0), stride=1)  # rows: 3 + 2 = 5 fit; columns: 3 do not
    assert one_axis.output_shape is None
    assert "columns wide" in one_axis.reason and "rows tall" not in one_axis.reason
    assert "fits nowhere" in describe_layout(one_axis)


def test_kernel_exactly_as_big_as_the_padded_input_gives_one_output():
    assert padding_layout(3, 5, padding=(1, 1), stride=3).output_shape == (1, 1)


def test_describe_layout_mentions_unused_rows():
    text = describe_layout(padding_layout(6, 3, padding=(0, 2), stride=2))
    assert text.startswith("Output 2 × 4")
    assert "never reaches the last 1 row(s) and 1 column(s)" in text


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(input_size=0, kernel_size=3), ValueError, "input_size must be >= 1"),
        (dict(input_size=5, kernel_size=0), ValueError, "kernel_size must be >= 1"),
        (dict(input_size=5, kernel_size=3, padding=(-1, 0)), ValueError, r"padding\[0\] must be >= 0"),
        (dict(input_size=5, kernel_size=3, stride=0), ValueError, "stride must be >= 1"),
        (dict(input_size=5.5, kernel_size=3), TypeError, "input_size must be an integer"),
    ],
)
def test_padding_layout_rejects_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        padding_layout(**kwargs)


@pytest.mark.parametrize("args", [(5, 3, 1, 1, 2), (2, 5, 1, 1, 1)])
def test_render_layout_gives_png_bytes(args):
    n, k, p_h, p_w, s = args
    png = render_layout(padding_layout(n, k, padding=(p_h, p_w), stride=s))
    assert png.startswith(PNG_SIGNATURE) and len(png) > 1000


# --------------------------------------------------------------------------------------------
# The widget


def test_widget_starts_with_its_arguments():
    explorer = PaddingExplorer(input_size=5, kernel_size=3, p_h=1, p_w=1, stride=2)
    assert explorer.result == padding_layout(5, 3, padding=(1, 1), stride=2)
    assert bytes(explorer.figure.value).startswith(PNG_SIGNATURE)
    assert "cnn-padding-explorer" in explorer.widget._dom_classes
    assert explorer.summary.value.startswith("Output 3 × 3")
    descriptions = [
        c.description
        for c in (explorer.input_size, explorer.kernel_size, explorer.p_h, explorer.p_w, explorer.stride)
    ]
    assert descriptions == [
        "input size n",
        "kernel size k",
        "padding p_h (rows)",
        "padding p_w (cols)",
        "stride s",
    ]


def test_moving_sliders_updates_result_and_figure():
    explorer = PaddingExplorer(input_size=5, kernel_size=3, p_h=1, p_w=1, stride=1)
    assert explorer.result.output_shape == (5, 5)
    before = bytes(explorer.figure.value)
    explorer.stride.value = 2
    assert explorer.result.output_shape == (3, 3)
    explorer.p_w.value = 0
    assert explorer.result.output_shape == (3, 2)
    assert explorer.result.padding == (1, 0)
    assert bytes(explorer.figure.value) != before


def test_a_kernel_too_big_gives_the_reason_instead_of_a_shape():
    explorer = PaddingExplorer(input_size=3, kernel_size=3, p_h=0, p_w=0, stride=1)
    explorer.kernel_size.value = 6
    assert explorer.result.output_shape is None
    assert "fits nowhere" in explorer.result.reason
    assert explorer.summary.value == explorer.result.reason
    explorer.p_h.value = 2
    explorer.p_w.value = 2
    assert explorer.result.output_shape == (2, 2)
