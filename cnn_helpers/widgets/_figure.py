"""What every widget does to draw: a figure outside pyplot, rendered to PNG bytes for an Image widget.

Keeping pyplot out means nothing leaks into the notebook's output, and the bytes can be compared
in tests without a browser.
"""

import io


def new_figure(figsize):
    """A matplotlib figure with its own Agg canvas, not registered with pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    return figure


def png_bytes(figure, dpi=80) -> bytes:
    """Lay out ``figure`` and return it as PNG bytes."""
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
