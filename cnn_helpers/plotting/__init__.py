"""Plotting helpers, one module per lesson concept (matplotlib is imported on first use).

Helpers take an optional ``ax`` and return the axes they drew on, so lessons can compose figures.
Every figure gets a title and labelled axes. Import them by name from here::

    from cnn_helpers.plotting import draw_matrix, show_filtered, plot_pooling

The submodules are named after what they draw (``filter_plots``, ``pooling_plots``, ...), so
they never clash with the math modules (``filters``, ``pooling``) a lesson imports beside them.
Importing this package imports NumPy and the package's own math modules, not matplotlib.
"""

from .architecture_plots import draw_block, layer_label, plot_gradient_norms, show_heatmap, show_mask
from .filter_plots import SMALL_IMAGE, draw_filter_gallery, draw_kernel_result, show_filtered
from .grids import (
    WINDOW_COLORS,
    draw_image_kernel_map,
    draw_matrix,
    draw_multiply_and_sum,
    draw_multiply_and_sum_steps,
    highlight_window,
    row_figsize,
)
from .layer_plots import plot_maps, plot_stack, plot_vector, scale_map
from .padding_plots import PADDING_MODE_NAMES, draw_padding_layout, draw_padding_modes
from .pooling_plots import MODE_NAMES, plot_downsampling, plot_pooling, plot_pooling_modes
from .training_plots import (
    LivePlot,
    closest_filters,
    filter_similarities,
    plot_confusion_matrix,
    plot_feature_maps,
    plot_history,
    plot_kernels_beside_filters,
    plot_misclassified,
    tile_maps,
)

__all__ = [
    # grids (lessons 02, 04, 06)
    "WINDOW_COLORS",
    "draw_matrix",
    "highlight_window",
    "draw_image_kernel_map",
    "draw_multiply_and_sum",
    "draw_multiply_and_sum_steps",
    "row_figsize",
    # filter_plots (lesson 03)
    "SMALL_IMAGE",
    "show_filtered",
    "draw_kernel_result",
    "draw_filter_gallery",
    # padding_plots (lesson 04)
    "PADDING_MODE_NAMES",
    "draw_padding_layout",
    "draw_padding_modes",
    # pooling_plots (lesson 06)
    "MODE_NAMES",
    "plot_pooling",
    "plot_pooling_modes",
    "plot_downsampling",
    # layer_plots (lesson 05)
    "plot_stack",
    "plot_maps",
    "plot_vector",
    "scale_map",
    # training_plots (lessons 08, 09)
    "plot_history",
    "LivePlot",
    "plot_confusion_matrix",
    "plot_misclassified",
    "filter_similarities",
    "closest_filters",
    "plot_kernels_beside_filters",
    "tile_maps",
    "plot_feature_maps",
    # architecture_plots (lesson 10)
    "layer_label",
    "draw_block",
    "plot_gradient_norms",
    "show_heatmap",
    "show_mask",
]
