"""Engines turn a validated SongRequest into a Song. `ENGINES` is the one registry of their names.

An engine is an object (`ComposerEngine()`, `AceStepEngine(checkpoint=..., runtime=...)`) that
owns whatever it loads, says what it can make (`capabilities`), checks a request completely
before any work (`check`) and makes the song (`generate`), reporting progress by stage and
stopping at the next stage boundary when `cancel()` turns true.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .acestep.runtime import Runtime
from .errors import Canceled, InvalidRequest, MissingDependency
from .request import SongRequest
from .singer.casting import cast_lyrics
from .song import Song
from .stages import Progress, _quiet, generate_composer, plan_song, prepare

if TYPE_CHECKING:
    import numpy as np

CHECKPOINT_ENV = "SONGWRIGHT_ACESTEP_CHECKPOINT"
Cancel = Callable[[], bool]


def _never() -> bool:
    return False


@dataclass(frozen=True)
class Capabilities:
    """What an engine makes besides the mastered mix."""

    stems: bool
    midi: bool
    lrc: bool
    edit_verbs: tuple[str, ...]  # edits of a finished song the engine can do (none are served yet)
    needs_checkpoint: bool

    def to_dict(self) -> dict:
        return {"stems": self.stems, "midi": self.midi, "lrc": self.lrc, "edit_verbs": list(self.edit_verbs),
                "needs_checkpoint": self.needs_checkpoint}


class Engine(Protocol):
    name: str
    capabilities: Capabilities

    def check(self, request: SongRequest) -> SongRequest:
        """Validate the request completely for this engine; return it with its seed fixed."""

    def generate(self, request: SongRequest, *, progress: Progress = _quiet, cancel: Cancel = _never,
                 keep_stems: bool = True) -> Song:
        """Make the song; raise Canceled at the first stage boundary after `cancel()` is true.
        `keep_stems=False`: the song need not hold its stems (a host that will not write them)."""


def staged(progress: Progress, cancel: Cancel) -> Progress:
    """A progress callback that is also the stage-boundary cancel check."""

    def report(stage: str, fraction: float) -> None:
        if cancel():
            raise Canceled(f"canceled before {stage}")
        progress(stage, fraction)

    return report


def with_seed(request: SongRequest) -> SongRequest:
    """The request with a seed: the one asked for, else a random one (so a check and the render agree)."""
    return request if request.seed is not None else request.replace(seed=secrets.randbelow(2**32))


class ComposerEngine:
    """The default engine: plan, compose, render with FluidSynth and MBROLA, mix and master."""

    name = "composer"
    capabilities = Capabilities(stems=True, midi=True, lrc=True, edit_verbs=(), needs_checkpoint=False)

    def check(self, request: SongRequest) -> SongRequest:
        request = with_seed(request.validate())
        _require_engine(request, self.name)
        plan_song(prepare(request))  # lyrics, tags, voices and the form: all that can refuse it
        return request

    def generate(self, request: SongRequest, *, progress: Progress = _quiet, cancel: Cancel = _never,
                 keep_stems: bool = True) -> Song:
        _require_engine(request, self.name)
        return generate_composer(request, staged(progress, cancel), keep_stems=keep_stems)


class AceStepEngine:
    """ACE-Step v1 on a checkpoint folder. The loaded pipeline belongs to this object: build the
    engine once and reuse it to pay the loading once. Needs the `neural` extra."""

    name = "acestep"
    capabilities = Capabilities(stems=False, midi=False, lrc=False, edit_verbs=("retake", "repaint", "extend"),
                                needs_checkpoint=True)

    def __init__(self, *, checkpoint: str | os.PathLike | None, runtime: Runtime | None = None):
        self.checkpoint = Path(checkpoint).expanduser() if checkpoint else None
        self.runtime = runtime or Runtime()
        self._pipeline = None
        self._loading = threading.Lock()

    def check(self, request: SongRequest) -> SongRequest:
        request = with_seed(request.validate())
        _require_engine(request, self.name)
        self._require_extra()
        from .acestep.pipeline import check_checkpoint

        check_checkpoint(self._checkpoint_dir())
        if request.guided:
            ComposerEngine().check(request.replace(engine="composer"))
        return request

    def generate(self, request: SongRequest, *, progress: Progress = _quiet, cancel: Cancel = _never,
                 keep_stems: bool = True) -> Song:
        _require_engine(request, self.name)  # (it makes no stems)
        self._require_extra()
        from .acestep.engine import generate_acestep

        report = staged(progress, cancel)
        report("loading", 0.0)
        return generate_acestep(request, pipeline=self.pipeline(), progress=report, guide=self._guide)

    def pipeline(self):
        """The loaded pipeline, loaded on first use."""
        with self._loading:
            if self._pipeline is None:
                from .acestep.engine import load_pipeline

                self._pipeline = load_pipeline(self._checkpoint_dir(), self.runtime)
        return self._pipeline

    def _checkpoint_dir(self) -> Path:
        if self.checkpoint is None:
            raise InvalidRequest("checkpoint", f"is required by the acestep engine (--checkpoint, or set ${CHECKPOINT_ENV}): "
                                 "the folder of a downloaded ACE-Step v1 checkpoint", None)
        if not self.checkpoint.is_dir():
            raise InvalidRequest("checkpoint", "must be an existing folder", str(self.checkpoint))
        return self.checkpoint.resolve()

    @staticmethod
    def _require_extra() -> None:
        for module in ("torch", "diffusers", "transformers"):
            if importlib.util.find_spec(module) is None:
                raise MissingDependency(f"the acestep engine ({module})", 'pip install "songwright[neural]"')

    @staticmethod
    def _guide(request: SongRequest, seed: int) -> np.ndarray:
        """The composer's render of the same request: (samples, 2) at 44.1 kHz."""
        return generate_composer(request.replace(engine="composer", seed=seed)).audio


def _require_engine(request: SongRequest, name: str) -> None:
    if request.engine != name:
        raise InvalidRequest("engine", f"names the {request.engine} engine, but this is the {name} engine", request.engine)


# The registry: every engine name and how to build it from the configuration a host gives (the
# CLI's options, the server's flags): the acestep checkpoint folder and how the model runs.
ENGINES: dict[str, Callable[..., Engine]] = {
    "composer": lambda *, checkpoint, runtime: ComposerEngine(),
    "acestep": lambda *, checkpoint, runtime: AceStepEngine(checkpoint=checkpoint, runtime=runtime),
}


def build_engines(*, checkpoint: str | os.PathLike | None = None, runtime: Runtime | None = None) -> dict[str, Engine]:
    """One instance of every engine, configured; a host (the server, a worker) keeps them."""
    return {name: build(checkpoint=checkpoint, runtime=runtime) for name, build in ENGINES.items()}


def default_engine(name: str) -> Engine:
    """A fresh engine of that name; the acestep checkpoint comes from $SONGWRIGHT_ACESTEP_CHECKPOINT."""
    if name not in ENGINES:
        raise InvalidRequest("engine", "must be one of " + ", ".join(ENGINES), name)
    return ENGINES[name](checkpoint=os.environ.get(CHECKPOINT_ENV), runtime=None)


def check(request: SongRequest, *, engine: Engine | None = None) -> SongRequest:
    """Validate a request completely before any work is queued: every field, the tags, the voice
    (installed), the lyrics (they fit the duration at the tempo), the engine (its extra, its
    checkpoint). Returns the request with its seed fixed, so the render sees what was checked."""
    request = request.validate()
    return (engine or default_engine(request.engine)).check(request)


def generate(request: SongRequest, *, progress: Progress = _quiet, cancel: Cancel = _never,
             engine: Engine | None = None, keep_stems: bool = True) -> Song:
    """Make a song. The request is validated first; InvalidRequest names any bad field.

    `engine` defaults to a fresh instance of the engine the request names; pass one you keep
    (`AceStepEngine(checkpoint=..., runtime=...)`) to load a model once for many songs.
    `keep_stems=False` makes the same song without holding its stems (150 MB a minute of audio;
    reading one is then an error): for a caller that only wants the mix.
    """
    request = request.validate()
    return (engine or default_engine(request.engine)).generate(request, progress=progress, cancel=cancel,
                                                               keep_stems=keep_stems)
