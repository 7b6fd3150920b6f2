"""Engines turn a validated SongRequest into a Song. The registry maps names to engines."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from importlib import metadata

import numpy as np

from .composer import compose
from .errors import MissingDependency
from .composer.melody import voice_gender
from .lyrics import parse_lyrics
from .plan import is_vocal, make_plan
from .render.mix import master
from .render.pipeline import render_mix
from .render.synth import soundfont_path
from .request import SongRequest
from .singer.casting import cast_lyrics
from .song import Song
from .styles import resolve_tags

SAMPLE_RATE = 44100
Progress = Callable[[str, float], None]


def _quiet(stage: str, fraction: float) -> None:
    pass


def generate_composer(request: SongRequest, progress: Progress = _quiet) -> Song:
    """Plan, compose, render with FluidSynth, mix and master."""
    seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
    progress("planning", 0.0)
    lyrics = parse_lyrics(request.lyrics)
    style = resolve_tags(request.tags)
    casting = None
    if is_vocal(request, lyrics, style):
        lyrics, casting = cast_lyrics(lyrics, request.voice, voice_gender(style))
    plan = make_plan(request, lyrics, style, seed, SAMPLE_RATE, casting.lead.name if casting else None)
    score = compose(plan)
    progress("rendering", 0.1)
    stems = render_mix(score, plan, SAMPLE_RATE)
    progress("mastering", 0.8)
    mastered = master(np.sum(list(stems.values()), axis=0, dtype=np.float32), SAMPLE_RATE)
    stems = {name: audio.T for name, audio in stems.items()}  # (samples, channels), as soundfile has it
    progress("done", 1.0)
    warnings = [f"unknown tag '{t}' ignored" for t in style.unknown_tags]
    warnings += lyrics.warnings + plan.warnings
    warnings += [f"voice {request.voice} not used: the song is instrumental"] if request.instrumental and request.voice else []
    warnings += casting.warnings if casting else []
    return Song(mastered.audio.T, SAMPLE_RATE, stems, plan, score, mastered.loudness_lufs, mastered.true_peak_dbtp,
                request=request, seed=seed, engine="composer", warnings=warnings, versions=_versions())


def _versions() -> dict[str, str]:
    versions = {}
    for package in ("songwright", "numpy", "pedalboard", "pyfluidsynth", "mido"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "unknown"
    versions["soundfont"] = soundfont_path().name
    return versions


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
