"""Interactive ipywidgets explorers, one module per lesson concept (ipywidgets is imported on use).

Each widget is a plain function first, wrapped in controls; it keeps its last result on an
attribute (e.g. ``.result``) so tests can set a control's ``.value`` and read the outcome without a
browser. Next to every widget a lesson also shows a static figure. The math a widget shows lives
in the math modules (``conv.correlation_step``, ``conv.padding_layout``, ``pooling.pool``); the
widgets draw it. Import them by name from here::

    from cnn_helpers.widgets import MultiplyAndSum, PaddingExplorer
"""

from .draw_digit import DrawDigit, DrawingResult, predict_drawing, read_drawing
from .feature_maps import FeatureMapExplorer, FeatureMapResult, explore_feature_maps
from .kernel_playground import (
    CUSTOM,
    IMAGE_NAMES,
    PRESET_NAMES,
    KernelPlayground,
    PlaygroundResult,
    filter_image,
    matching_preset,
    playground_image,
    render_playground,
)
from .multiply_and_sum import MultiplyAndSum
from .padding_explorer import PaddingExplorer, describe_layout, render_layout
from .pooling_explorer import MODES, PoolingExplorer, PoolingResult, explore_pooling

__all__ = [
    "MultiplyAndSum",  # lesson 02
    "IMAGE_NAMES",
    "PRESET_NAMES",
    "CUSTOM",
    "PlaygroundResult",
    "playground_image",  # lesson 03
    "filter_image",
    "matching_preset",
    "render_playground",
    "KernelPlayground",
    "describe_layout",
    "render_layout",
    "PaddingExplorer",  # lesson 04
    "MODES",
    "PoolingResult",
    "explore_pooling",
    "PoolingExplorer",  # lesson 06
    "FeatureMapResult",
    "explore_feature_maps",
    "FeatureMapExplorer",  # lesson 08
    "DrawingResult",
    "predict_drawing",
    "read_drawing",
    "DrawDigit",  # lesson 08
]
