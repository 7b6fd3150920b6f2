"""Score -> processed stems: FluidSynth renders one stem while the previous one is mixed.

Each song gets a freshly loaded renderer (0.05 s: samples load when a preset is first played)
that renders its stems in a fixed order, with the soundfonts, doubled parts and effects its
genre's sound names (render/sound.py). FluidSynth carries state from one render to the next, so
a reused synth would not give the same bytes for the same request. Mixing runs in a thread
(pedalboard and FluidSynth both release the GIL), so the two cores stay busy.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..plan import Plan
from ..score import Score
from ..singer.synthesis import sing
from ..streams import Streams
from .mix import process_stem
from .sound import PUMPED, GenreSound, crackle, doubled, pump_envelope
from .synth import FluidRenderer, soundfont_path


def render_mix(score: Score, plan: Plan, sample_rate: int,
               progress: Callable[[str, float], None] | None = None) -> dict[str, np.ndarray]:
    """Every stem of the score, rendered (FluidSynth, or the singer for a sung vocal line) and
    through its mix chain. `progress` hears of each stem rendered (0.1..0.8 of the song)."""
    total_samples = plan.total_samples
    sound = GenreSound.from_table(table=plan.style.sound)
    streams = Streams(plan.seed)
    fonts = dict(sound.fonts)
    fonts.update({name + ":double": choice for name, choice in sound.fonts.items()})
    pump = pump_envelope(score, depth_db=sound.pump_db, total_samples=total_samples, sample_rate=sample_rate) if sound.pump_db else None
    renderer = FluidRenderer(sample_rate, soundfont_path(), cpu_cores=min(2, os.cpu_count() or 1))
    try:
        with ThreadPoolExecutor(max_workers=1) as mixer:
            pending = {}
            for index, stem in enumerate(score.stems):
                parts = [p for p in score.parts if p.stem == stem and p.notes]
                if any(n.phones is not None for p in parts for n in p.notes):
                    raw = sing(parts[0], plan, sample_rate, total_samples)
                else:
                    parts = doubled(parts, sound=sound, tempo_bpm=score.tempo_bpm, streams=streams)
                    raw = renderer.render(parts, score.tempo_bpm, total_samples, fonts=fonts)
                    if stem == "drums" and sound.crackle_db is not None:
                        noise = crackle(total_samples=total_samples, sample_rate=sample_rate, level_db=sound.crackle_db,
                                        streams=streams)
                        raw = raw + _at_level(noise=noise, stem=raw, sample_rate=sample_rate)
                pending[stem] = mixer.submit(process_stem, stem, raw, sample_rate, score.tempo_bpm,
                                             pre_chain=sound.pre_chain(stem=stem),
                                             gain_curve=pump if stem in PUMPED else None,
                                             level_offset_db=sound.levels_db.get(stem, 0.0))
                if progress is not None:
                    progress("rendering", 0.1 + 0.7 * (index + 1) / len(score.stems))
            return {stem: future.result() for stem, future in pending.items()}
    finally:
        renderer.close()


def _at_level(*, noise: np.ndarray, stem: np.ndarray, sample_rate: int) -> np.ndarray:
    """Noise made at a level relative to full scale, put at that level relative to a stem at
    -20 dBFS RMS (the stem's own level is not fixed before mixing)."""
    from ..audio.measure import rms_db

    return noise * np.float32(10 ** ((rms_db(stem[0], sample_rate) + 20.0) / 20))
