"""Engines turn a validated SongRequest into a Song. The registry maps names to engines."""

from __future__ import annotations

from collections.abc import Callable

from .errors import MissingDependency
from .request import SongRequest
from .song import Song
from .stages import Progress, _quiet, generate_composer


def generate_acestep(request: SongRequest, progress: Progress = _quiet, runtime=None) -> Song:
    """The neural engine, imported only when asked for (it needs torch: the `neural` extra)."""
    try:
        from .acestep.engine import generate_acestep as run
    except ImportError as exc:
        raise MissingDependency(f"the acestep engine ({exc.name})", 'pip install "songwright[neural]"') from exc
    return run(request, progress, runtime)


ENGINES: dict[str, Callable[..., Song]] = {"composer": generate_composer, "acestep": generate_acestep}


def generate(request: SongRequest, progress: Progress = _quiet, runtime=None) -> Song:
    """Make a song. The request is validated first; InvalidRequest names any bad field.

    `runtime` (a `songwright.acestep.engine.Runtime`) says where the acestep engine runs.
    """
    request = request.validate()
    if request.engine == "acestep":
        return generate_acestep(request, progress, runtime)
    return ENGINES[request.engine](request, progress)
