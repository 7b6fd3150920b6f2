"""Songwright: style tags and lyrics in, a finished, mixed and mastered song out."""

from .engines import generate
from .errors import InvalidRequest, MissingDependency, RenderError, SongwrightError
from .request import SongRequest
from .song import Song

__version__ = "0.1.0"
__all__ = ["generate", "SongRequest", "Song", "SongwrightError", "InvalidRequest", "MissingDependency", "RenderError"]
