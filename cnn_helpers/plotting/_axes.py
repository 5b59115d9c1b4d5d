"""The one helper every plotting module uses to get axes (private)."""


def new_axes(ax, figsize=(3, 3)):
    """``ax`` itself, or new axes of ``figsize`` inches on a new pyplot figure when ``ax`` is None.

    matplotlib is imported here, on first use, so importing a plotting module stays cheap.
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]
