"""Look inside a trained CNN: the feature maps of one digit, layer by layer (lesson 08).

The computation is the model's own :meth:`~cnn_helpers.model.Sequential.feature_maps`: every
layer's output for a batch. ``explore_feature_maps`` keeps the outputs that are still stacks of
maps and picks one layer and one channel of them; ``FeatureMapExplorer`` wraps it in controls (digit, layer, channel) and shows the
figure as a PNG image.

In a notebook::

    from cnn_helpers.widgets import FeatureMapExplorer
    FeatureMapExplorer(model, digits.x_test, digits.y_test)

Setting ``explorer.digit_slider.value = 5`` (or ``layer_dropdown``, ``channel_slider``) updates
``explorer.result``, a :class:`FeatureMapResult`, and the PNG bytes in ``explorer.image.value``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_array, as_int, describe
from ._figure import new_figure, png_bytes

__all__ = ["FeatureMapResult", "explore_feature_maps", "FeatureMapExplorer"]


def _one_image(image):
    image = as_array("image", image)
    if image.ndim == 2:
        image = image[None]
    if image.ndim != 3:
        raise ValueError(f"image must have shape (H, W) or (C, H, W), got shape {image.shape}")
    return image


def _stacks_of_maps(model, image):
    """``(layer index, repr, maps (C', H', W'))`` for every layer whose output is a stack of maps,
    and the model's final output, from :meth:`Sequential.feature_maps` on a batch of one."""
    if not callable(getattr(model, "feature_maps", None)) or not hasattr(model, "layers"):
        raise TypeError(f"model must be a Sequential (with a feature_maps method), got {describe(model)}")
    outputs = model.feature_maps(_one_image(image)[None])
    maps = [
        (index, repr(layer), np.array(out[0]))
        for index, (layer, out) in enumerate(zip(model.layers, outputs, strict=True))
        if np.ndim(out) == 4
    ]
    return maps, np.array(outputs[-1][0])


@dataclass(frozen=True)
class FeatureMapResult:
    """One channel of one layer's output for one image.

    Attributes
    ----------
    index : int
        Which image of the collection.
    label : int or None
        Its true class, when labels were given.
    prediction : int
        The model's answer (the largest score).
    layer : int
        Index of the layer in the model.
    layer_name : str
        ``repr`` of that layer.
    channel : int
    maps : ndarray, shape (C, H, W)
        The whole layer output for this image.
    feature_map : ndarray, shape (H, W)
        ``maps[channel]``.
    """

    index: int
    label: object
    prediction: int
    layer: int
    layer_name: str
    channel: int
    maps: np.ndarray
    feature_map: np.ndarray


def explore_feature_maps(model, images, index=0, layer=None, channel=0, labels=None):
    """Pick one image, one layer and one channel, and return what that layer made of it.

    Parameters
    ----------
    model : Sequential
    images : array_like, shape (N, C, H, W)
    index : int
        Which image.
    layer : int, optional
        Index of a layer whose output is a stack of maps; default the first such layer.
    channel : int
        Which map of that layer; clipped to the layer's channels.
    labels : array_like of int, shape (N,), optional

    Returns
    -------
    FeatureMapResult

    Raises
    ------
    ValueError
        If ``index`` is out of range or ``layer`` does not output maps.

    Examples
    --------
    >>> from cnn_helpers.model import small_cnn
    >>> net = small_cnn(seed=0, channels=(8, 16))
    >>> result = explore_feature_maps(net, np.zeros((2, 1, 8, 8), dtype=np.float32), index=1, layer=2, channel=3)
    >>> result.layer_name, result.maps.shape, result.feature_map.shape
    ('MaxPool2D(size=2, stride=2)', (8, 4, 4), (4, 4))
    """
    images = as_array("images", images, ndim=4)
    index = as_int("index", index, minimum=0)
    if index >= len(images):
        raise ValueError(f"index must be in [0, {len(images)}), got {index}")
    maps, scores = _stacks_of_maps(model, images[index])
    by_layer = {layer_index: (name, out) for layer_index, name, out in maps}
    if not by_layer:
        raise ValueError("model has no layer whose output is a stack of maps")
    layer = maps[0][0] if layer is None else as_int("layer", layer, minimum=0)
    if layer not in by_layer:
        raise ValueError(
            f"layer must be one of {sorted(by_layer)} (the layers that output maps), got {layer}"
        )
    name, out = by_layer[layer]
    channel = min(as_int("channel", channel, minimum=0), out.shape[0] - 1)
    label = None if labels is None else int(np.asarray(labels)[index])
    return FeatureMapResult(
        index=index,
        label=label,
        prediction=int(np.argmax(scores)),
        layer=layer,
        layer_name=name,
        channel=channel,
        maps=out,
        feature_map=out[channel],
    )


class FeatureMapExplorer:
    """Widget: choose a digit, a layer and a channel, and see that feature map (lesson 08).

    Parameters
    ----------
    model : Sequential
        A trained model.
    images : array_like, shape (N, C, H, W)
    labels : array_like of int, shape (N,), optional
    index, layer, channel : int, optional
        Where to start.
    dpi : int, default 80
        Resolution of the rendered figure.

    Attributes
    ----------
    result : FeatureMapResult
        What is on display; updated whenever a control changes.
    digit_slider, layer_dropdown, channel_slider
        The controls (set ``.value`` in tests). The channel slider's range follows the layer.
    summary : ipywidgets.HTML
        The digit, the model's answer and the chosen map's strongest response.
    image : ipywidgets.Image
        The figure as PNG bytes (``image.value``).
    widget : ipywidgets.VBox
        The whole widget, CSS class ``cnn-feature-maps``; displaying the object shows it.
    """

    def __init__(self, model, images, labels=None, index=0, layer=None, channel=0, dpi=80):
        import ipywidgets

        self.model = model
        self.images = as_array("images", images, ndim=4)
        self.labels = None if labels is None else np.asarray(labels)
        self.dpi = as_int("dpi", dpi, minimum=10)
        first = explore_feature_maps(model, self.images, index, layer, channel, self.labels)
        maps, _ = _stacks_of_maps(model, self.images[first.index])
        options = [(f"{i}: {name}", i) for i, name, _ in maps]

        # Fixed widths: in an HBox an "auto" dropdown would squeeze the sliders to a few pixels.
        self.digit_slider = ipywidgets.IntSlider(
            value=first.index,
            min=0,
            max=len(self.images) - 1,
            description="digit #",
            continuous_update=False,
            layout=ipywidgets.Layout(width="300px"),
        )
        self.layer_dropdown = ipywidgets.Dropdown(
            options=options,
            value=first.layer,
            description="layer",
            layout=ipywidgets.Layout(width="280px"),
        )
        self.channel_slider = ipywidgets.IntSlider(
            value=first.channel,
            min=0,
            max=first.maps.shape[0] - 1,
            description="channel",
            continuous_update=False,
            layout=ipywidgets.Layout(width="260px"),
        )
        self.summary = ipywidgets.HTML()
        self.image = ipywidgets.Image(format="png")
        self.widget = ipywidgets.VBox(
            [
                ipywidgets.HBox([self.digit_slider, self.layer_dropdown, self.channel_slider]),
                self.summary,
                self.image,
            ]
        )
        self.widget.add_class("cnn-feature-maps")

        self.result = None
        self._updating = False
        for control in (self.digit_slider, self.layer_dropdown, self.channel_slider):
            control.observe(self._on_change, names="value")
        self.update()

    def _on_change(self, _change):
        if not self._updating:  # the channel range changes inside update(); redraw once
            self.update()

    def update(self):
        """Recompute ``result`` from the controls, adjust the channel range, redraw."""
        self._updating = True
        try:
            layer = self.layer_dropdown.value
            channels = explore_feature_maps(
                self.model, self.images, self.digit_slider.value, layer, 0
            ).maps.shape[0]
            self.channel_slider.value = min(self.channel_slider.value, channels - 1)
            self.channel_slider.max = channels - 1
            self.result = explore_feature_maps(
                self.model,
                self.images,
                self.digit_slider.value,
                layer,
                self.channel_slider.value,
                self.labels,
            )
        finally:
            self._updating = False
        self.summary.value = self._summary_html(self.result)
        self.image.value = self.render_png()
        return self.result

    @staticmethod
    def _summary_html(result):
        truth = "" if result.label is None else f"a handwritten <b>{result.label}</b>, "
        strongest = float(result.feature_map.max())
        return (
            f"Digit #{result.index}: {truth}the network answers <b>{result.prediction}</b>. "
            f"Layer {result.layer_name}, channel {result.channel}: {result.feature_map.shape[0]}×"
            f"{result.feature_map.shape[1]} map, strongest response {strongest:.2f}."
        )

    def render_png(self):
        """Draw ``result`` (digit, chosen map, all maps of the layer) and return the PNG bytes."""
        from ..plotting.training_plots import plot_feature_maps

        result = self.result
        figure = new_figure((10, 3.4))
        axes = figure.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.5]})
        digit = self.images[result.index]
        axes[0].imshow(
            digit[0] if digit.shape[0] == 1 else digit.transpose(1, 2, 0), cmap="gray", vmin=0, vmax=1
        )
        truth = "" if result.label is None else f"label {result.label}, "
        axes[0].set_title(f"digit #{result.index}: {truth}predicted {result.prediction}", fontsize=10)
        picture = axes[1].imshow(result.feature_map, cmap="magma")
        figure.colorbar(picture, ax=axes[1], fraction=0.046, pad=0.04)
        axes[1].set_title(f"layer {result.layer}, channel {result.channel}", fontsize=10)
        for ax in axes[:2]:
            ax.set_xticks([])
            ax.set_yticks([])
        plot_feature_maps(
            result.maps,
            ax=axes[2],
            highlight=result.channel,
            same_scale=False,
            title=f"all {result.maps.shape[0]} maps of layer {result.layer}\n(each on its own scale)",
        )
        axes[2].title.set_fontsize(10)
        return png_bytes(figure, self.dpi)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
