"""Songwright: style tags and lyrics in, a finished, mixed and mastered song out.

Cheap to import: `generate` and `Song` (which pull in the renderers) load on first use.
"""

import importlib

from .errors import InvalidRequest, MissingDependency, RenderError, SongwrightError

__version__ = "0.1.0"
__all__ = ["generate", "check", "SongRequest", "Song", "SongwrightError", "InvalidRequest", "MissingDependency",
           "RenderError"]

# Imported when first used, so `songwright --help` (and Ctrl-C during start-up) does not wait
# for numpy, scipy and the synthesiser bindings.
_LAZY = {"generate": ".engines", "check": ".engines", "SongRequest": ".request", "Song": ".song"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'songwright' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value
