"""Songwright: style tags and lyrics in, a finished, mixed and mastered song out.

Cheap to import: `generate` and `Song` (which pull in the renderers) load on first use.
"""

from .errors import InvalidRequest, MissingDependency, RenderError, SongwrightError
from .request import SongRequest

__version__ = "0.1.0"
__all__ = ["generate", "check", "SongRequest", "Song", "SongwrightError", "InvalidRequest", "MissingDependency",
           "RenderError"]


def __getattr__(name: str):
    if name in ("generate", "check"):
        from . import engines

        return getattr(engines, name)
    if name == "Song":
        from .song import Song

        return Song
    raise AttributeError(f"module 'songwright' has no attribute {name!r}")
