"""Plotting helpers, one module per lesson concept (imports matplotlib on use).

Helpers take an optional ``ax`` and return the axes they drew on, so lessons can compose figures.
Every figure gets a title and labelled axes.

Names are looked up lazily across the submodules, so ``from cnn_helpers import plotting`` is cheap and
``plotting.<name>`` finds a name in whichever submodule defines it.
"""

import importlib
import pkgutil

_SUBMODULES = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    for submodule in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{submodule}")
        if name in getattr(module, "__all__", ()):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r} (submodules: {', '.join(_SUBMODULES)})")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
