"""Score -> processed stems: every stem rendered and mixed on its own, two at a time.

Each stem gets a freshly loaded FluidSynth (0.05 s: samples load when a preset is first played)
with the soundfonts, doubled parts and effects its genre's sound names (render/sound.py), or the
singer for a sung line, and then goes through its mix chain. FluidSynth carries state from one
render to the next, so a synth of its own makes a stem's bytes independent of which stems were
rendered before it and of the order the workers take them in: the same request gives the same
bytes. FluidSynth, MBROLA (a subprocess), pedalboard and numpy release the GIL, so threads keep
the cores busy; the stems that take longest start first.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np

from ..plan import Plan
from ..score import Part, Score
from ..singer.synthesis import sing
from ..singer.voices import VOICES
from ..streams import Streams
from ..audio.heap import keep_freed_blocks
from ..audio.stems import RunningSum, StemFiles, StemsNotKept, mixed
from .mix import GainCurve, StemGains, levelled
from .sound import PUMPED, GenreSound, Pump, crackle, doubled
from .synth import FluidRenderer, FontChoice, soundfont_path


# What each stem typically costs (CPU seconds of render and chain for a 60 s song: medians over 19
# genres, an English and a Chinese song each, 2026-12-02); a sung stem by the engine that sings it
# (HTS for English, MBROLA for the other languages). Started longest first on two workers, the
# stems of those songs take 0.856 s on average (simulated on their measured costs), against 0.871 s
# in the order of the table before (2026-12-01: vocals 0.66 s whatever sang them) and 0.843 s in
# the order of each song's own costs.
TYPICAL_COST_S = {"strings": 0.29, "keys": 0.22, "drums": 0.21, "guitar": 0.16, "bass": 0.07, "lead": 0.06}
TYPICAL_SUNG_COST_S = {("vocals", "hts"): 0.60, ("harmony", "hts"): 0.30,
                       ("vocals", "mbrola"): 0.19, ("harmony", "mbrola"): 0.12}


@dataclass(frozen=True)
class Span:
    """Samples [start, end) of a song: the part of it rendered (an edit's window and its pre-roll)."""
    start: int
    end: int


@dataclass(frozen=True)
class _Job:
    """What one stem needs besides its parts: shared, read-only."""
    plan: Plan
    score: Score
    sound: GenreSound
    fonts: dict[str, FontChoice]
    pump: Pump | None
    sample_rate: int
    span: Span
    levels: Mapping[str, StemGains]


def render_mix(score: Score, plan: Plan, sample_rate: int,
               progress: Callable[[str, float], None] | None = None, *, span: Span | None = None,
               levels: Mapping[str, StemGains] | None = None,
               keep_stems: bool = True) -> tuple[Mapping[str, np.ndarray], np.ndarray, dict[str, StemGains]]:
    """Every stem of the score, rendered (FluidSynth, or the singer for a sung vocal line) and
    through its mix chain: kept (audio.stems.StemFiles), listed in the score's stem order, or
    with `keep_stems=False` only named (StemsNotKept: a song's stems take 150 MB a minute); the
    pre-master, the stems added up in `mix_order` (the same bytes either way), (2, samples); and
    each stem's gains. `progress` hears of each stem done (0.1..0.8 of the song). With `span`,
    only those samples are rendered, each stem at the `levels` the whole song set (a stem without
    them is measured on the span)."""
    keep_freed_blocks()  # what a stem frees serves the next (audio/heap.py)
    span = span or Span(0, plan.total_samples)
    sound = GenreSound.from_table(table=plan.style.sound)
    fonts = dict(sound.fonts)
    fonts.update({name + ":double": choice for name, choice in sound.fonts.items()})
    pump = Pump.of(score, depth_db=sound.pump_db, total_samples=span.end, sample_rate=sample_rate) if sound.pump_db else None
    job = _Job(plan, score, sound, fonts, pump, sample_rate, span, levels or {})
    parts = _parts(score)
    order = _order(parts)
    kept = StemFiles(names=tuple(score.stems), samples=span.end - span.start)  # the stems, or those waiting their turn
    # Added up as they come, unless they are long: a running sum beside a long song's stems in progress
    # would hold a stem more in memory than adding them up from their files at the end.
    total = RunningSum(order=order, waiting=kept, keep=keep_stems) if kept.in_memory else None
    gains: dict[str, StemGains] = {}
    pool = ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1))
    try:
        futures = {pool.submit(_stem, stem, parts[stem], job): stem for stem in order}
        for done, future in enumerate(as_completed(futures), start=1):
            stem = futures.pop(future)
            audio, stem_gains = future.result()
            if keep_stems or total is None:
                kept.add(stem, audio)
            if total is not None:
                total.add(stem, audio)  # added up now, or when its turn comes
            del future, audio  # out of memory unless kept or waiting
            if stem_gains is not None:
                gains[stem] = stem_gains
            if progress is not None:  # may raise Canceled: the stems not started are dropped
                progress("rendering", 0.1 + 0.7 * done / len(parts))
    except BaseException:  # an error, a cancel, Ctrl-C: the stems made so far go (a long song's from the disk)
        kept.close()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    premaster = mixed(kept, order=order).T if total is None else total.audio
    return kept if keep_stems else StemsNotKept(names=tuple(score.stems)), premaster, gains


def mix_order(score: Score) -> list[str]:
    """The order a song's stems are started in and added up in (its pre-master is their sum in this order)."""
    return _order(_parts(score))


def _parts(score: Score) -> dict[str, list[Part]]:
    return {stem: [p for p in score.parts if p.stem == stem and p.notes] for stem in score.stems}


def _order(parts: dict[str, list[Part]]) -> list[str]:
    """The order the stems are started in: the longest first (TYPICAL_COST_S, TYPICAL_SUNG_COST_S),
    so that the last ones to start are short and both workers finish together."""
    return sorted(parts, key=lambda stem: -_typical_cost_s(stem, parts[stem]))


def _typical_cost_s(stem: str, parts: list[Part]) -> float:
    engines = {VOICES[n.voice].engine for p in parts for n in p.notes if n.phones is not None}
    if not engines:
        return TYPICAL_COST_S.get(stem, 0.0)
    engine = "hts" if "hts" in engines else "mbrola"
    return TYPICAL_SUNG_COST_S.get((stem, engine), TYPICAL_SUNG_COST_S[("vocals", engine)])  # (another sung stem: as the lead)


def _sung(parts: list[Part]) -> bool:
    return any(n.phones is not None for p in parts for n in p.notes)


def _stem(stem: str, parts: list[Part], job: _Job) -> tuple[np.ndarray, StemGains | None]:
    """One stem rendered and through its chain, (2, span samples) float32, and its gains."""
    plan, sound, span, sample_rate = job.plan, job.sound, job.span, job.sample_rate
    streams = Streams(plan.seed)
    gains = job.levels.get(stem)
    if _sung(parts):  # the singer sings from the song's start: the notes before the span are left out
        heard = [n for n in parts[0].notes if job.score.seconds(n.end_beats) * sample_rate > span.start]
        raw = sing(dataclasses.replace(parts[0], notes=heard), plan, sample_rate, span.end)[:, span.start:]
    else:
        parts = doubled(parts, sound=sound, tempo_bpm=job.score.tempo_bpm, streams=streams)
        renderer = FluidRenderer(sample_rate, soundfont_path())
        try:
            raw = renderer.render(parts, job.score.tempo_bpm, span.end, fonts=job.fonts, start_sample=span.start)
        finally:
            renderer.close()
        if stem == "drums" and sound.crackle_db is not None:
            noise = crackle(total_samples=plan.total_samples, sample_rate=sample_rate, level_db=sound.crackle_db,
                            streams=streams)[:, span.start:span.end]
            noise_gain = gains.noise_gain if gains and gains.noise_gain is not None else _noise_gain(raw, sample_rate)
            raw += noise * np.float32(noise_gain)
    audio, made = levelled(stem, raw, sample_rate, job.score.tempo_bpm, pre_chain=sound.pre_chain(stem=stem),
                           gain_curve=_from(span.start, job.pump.block) if job.pump and stem in PUMPED else None,
                           level_offset_db=sound.levels_db.get(stem, 0.0), gains=gains)
    if made is not None and stem == "drums" and sound.crackle_db is not None:
        made = dataclasses.replace(made, noise_gain=noise_gain)
    return audio, made


def _from(offset: int, curve: GainCurve) -> GainCurve:
    """`curve` read from sample `offset` of the song on: a stem rendered from there."""
    return lambda start, end: curve(offset + start, offset + end)


def _noise_gain(stem: np.ndarray, sample_rate: int) -> float:
    """The gain that puts noise made at a level relative to full scale at that level relative to
    a stem at -20 dBFS RMS (the stem's own level is not fixed before mixing)."""
    from ..audio.measure import rms_db

    return float(np.float32(10 ** ((rms_db(stem[0], sample_rate) + 20.0) / 20)))
