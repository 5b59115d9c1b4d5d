"""Interactive ipywidgets explorers, one module per lesson concept (imports ipywidgets on use).

Each widget is a plain function first, wrapped in controls; it keeps its last result on an
attribute (e.g. ``.result``) so tests can set a control's ``.value`` and read the outcome without a
browser. Next to every widget a lesson also shows a static figure.

Names are looked up lazily across the submodules, so ``from cnn_helpers import widgets`` is cheap and
``widgets.<name>`` finds a name in whichever submodule defines it.
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
