"""The composer engine, stage by stage. Each stage takes typed input and returns new objects:

    prepare(request)          -> Prepared   lyrics parsed, tags resolved, voices cast, seed fixed
    plan_song(prepared)       -> Plan       form, tempo, key, meter, chords per bar
    compose(plan, streams=)   -> Score      every part's notes (songwright.composer)
    perform(prepared, plan, score) -> Song  render_mix (FluidSynth and MBROLA, each stem through its
                                            mix chain), then master (-14 LUFS, -1 dBTP)

An edit (`songwright.edits`) changes the plan and score between `compose` and `perform`, and
renders only the window it changes: `perform_passage(plan, score, start_s=, end_s=, levels=)`,
at the gains the source's `perform` measured (`Song.levels`).

Randomness comes only from the song's named streams (`songwright.streams`): the tempo, the key,
the chords of each slot, every bar of every part, every phrase of a melody, the feel of each part
in each section and every breath draw from their own.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .composer import compose
from .composer.melody import voice_gender
from .lyrics import Lyrics, parse_lyrics
from .plan import Plan, is_vocal, make_plan
from .request import SongRequest
from .score import Score
from .singer.casting import Casting, cast_lyrics
from .song import Song, package_versions
from .streams import Streams
from .styles import StyleProfile, resolve_tags

if TYPE_CHECKING:
    from .render.mix import MixLevels

SAMPLE_RATE = 44100
PREROLL_S = 3.0  # rendered before a passage: the strings' reverb (room 0.7) has died 40 dB by then
Progress = Callable[[str, float], None]


def _quiet(stage: str, fraction: float) -> None:
    pass


@dataclass(frozen=True)
class Prepared:
    """A validated request with its seed fixed, its lyrics parsed and cast, its tags resolved."""
    request: SongRequest
    seed: int
    lyrics: Lyrics
    style: StyleProfile
    casting: Casting | None

    @property
    def warnings(self) -> list[str]:
        warnings = [f"unknown tag '{t}' ignored" for t in self.style.unknown_tags] + list(self.lyrics.warnings)
        if self.request.instrumental and self.request.voice:
            warnings.append(f"voice {self.request.voice} not used: the song is instrumental")
        return warnings + (self.casting.warnings if self.casting else [])


def prepare(request: SongRequest) -> Prepared:
    seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
    lyrics = parse_lyrics(request.lyrics)
    style = resolve_tags(request.tags)
    casting = None
    if is_vocal(request, lyrics, style):
        lyrics, casting = cast_lyrics(lyrics, request.voice, voice_gender(style))
    return Prepared(request, seed, lyrics, style, casting)


def plan_song(prepared: Prepared) -> Plan:
    lead = prepared.casting.lead.name if prepared.casting else None
    return make_plan(prepared.request, prepared.lyrics, prepared.style, prepared.seed, SAMPLE_RATE, lead)


def composed(request: SongRequest) -> tuple[Prepared, Plan, Score]:
    """The stages before any audio: prepare, plan_song and compose, from the seed's streams."""
    prepared = prepare(request)
    plan = plan_song(prepared)
    return prepared, plan, compose(plan, streams=Streams(prepared.seed))


def score_of(request: SongRequest) -> tuple[Plan, Score]:
    """The plan and the notes of a request, without rendering any audio."""
    _, plan, score = composed(request.validate())
    return plan, score


def only_stems(score: Score, stems: tuple[str, ...]) -> Score:
    """The score with only these stems' parts: performed, it gives those stems of the whole song to
    the sample (each stem renders and is levelled on its own) in a fraction of the time."""
    import dataclasses

    return dataclasses.replace(score, parts=[p for p in score.parts if p.stem in stems])


def generate_composer(request: SongRequest, progress: Progress = _quiet, *, keep_stems: bool = True) -> Song:
    """Plan, compose, render with FluidSynth and MBROLA, mix and master."""
    progress("planning", 0.0)
    return perform(*composed(request), progress=progress, keep_stems=keep_stems)


def perform(prepared: Prepared, plan: Plan, score: Score, *, progress: Progress = _quiet,
            edits: tuple[dict, ...] = (), keep_stems: bool = True) -> Song:
    """Render, mix and master a composed song: the stages after `compose` (`keep_stems=False`:
    the song names its stems but does not hold them)."""
    from .render.mix import master  # the audio stages pull in scipy, pedalboard and FluidSynth
    from .render.mix import MixLevels
    from .render.pipeline import render_mix
    from .render.sound import GenreSound

    progress("rendering", 0.1)
    stems, premaster, gains = render_mix(score, plan, SAMPLE_RATE, progress, keep_stems=keep_stems)
    progress("mastering", 0.8)
    mastered = master(premaster, SAMPLE_RATE, style=GenreSound.from_table(table=plan.style.sound).master)
    del premaster
    progress("done", 1.0)
    return Song(mastered.audio.T, SAMPLE_RATE, stems, plan, score, mastered.loudness_lufs, mastered.true_peak_dbtp,
                request=prepared.request, seed=prepared.seed, engine="composer",
                warnings=prepared.warnings + plan.warnings, versions=versions(), edits=edits,
                levels=MixLevels(gains, mastered.gains))


@dataclass(frozen=True)
class Passage:
    """Samples [start, start + len(audio)) of a song, rendered on their own: the mastered audio
    (samples, 2) and each stem's."""
    audio: np.ndarray
    stems: dict[str, np.ndarray]
    start: int


def perform_passage(plan: Plan, score: Score, *, start_s: float, end_s: float | None, levels: MixLevels,
                    progress: Progress = _quiet) -> Passage:
    """Samples from `start_s` to `end_s` (None: the end) of the song `plan` and `score` make,
    rendered, mixed and mastered at `levels` (the song's it is cut into), after PREROLL_S more
    rendered before them and dropped: the notes, effect tails and compressors that sound into
    `start_s` sound as they would in the whole song."""
    from .render.mix import master
    from .render.pipeline import Span, render_mix

    end = plan.total_samples if end_s is None else min(plan.total_samples, round(end_s * SAMPLE_RATE))
    start = min(round(start_s * SAMPLE_RATE), end)
    span = Span(max(0, start - round(PREROLL_S * SAMPLE_RATE)), end)
    progress("rendering", 0.1)
    stems, premaster, _ = render_mix(score, plan, SAMPLE_RATE, progress, span=span, levels=levels.stems)
    progress("mastering", 0.8)
    mastered = master(premaster, SAMPLE_RATE, gains=levels.master, ends=end == plan.total_samples)
    progress("done", 1.0)
    drop = start - span.start
    return Passage(mastered.audio.T[drop:], {name: np.array(audio[drop:]) for name, audio in stems.items()}, start)


def versions() -> dict[str, str]:
    """The versions a song is made with: Songwright, the libraries that shape its samples, the soundfont."""
    from .render.synth import soundfont_path

    return {**package_versions("songwright", "numpy", "pedalboard", "pyfluidsynth", "mido"),
            "soundfont": soundfont_path().name}
