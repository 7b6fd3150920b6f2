"""Score -> processed stems: FluidSynth renders one stem while the previous one is mixed.

Each song gets a freshly loaded renderer (0.11 s) that renders its stems in a fixed order;
FluidSynth carries state from one render to the next, so a reused synth would not give the
same bytes for the same request. Mixing runs in a thread (pedalboard and FluidSynth both
release the GIL), so the two cores stay busy.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..plan import Plan
from ..score import Score
from ..singer.synthesis import sing
from .mix import process_stem
from .synth import FluidRenderer, soundfont_path


def render_mix(score: Score, plan: Plan, sample_rate: int,
               progress: Callable[[str, float], None] | None = None) -> dict[str, np.ndarray]:
    """Every stem of the score, rendered (FluidSynth, or the singer for a sung vocal line) and
    through its mix chain. `progress` hears of each stem rendered (0.1..0.8 of the song)."""
    total_samples = plan.total_samples
    renderer = FluidRenderer(sample_rate, soundfont_path(), cpu_cores=min(2, os.cpu_count() or 1))
    try:
        with ThreadPoolExecutor(max_workers=1) as mixer:
            pending = {}
            for index, stem in enumerate(score.stems):
                parts = [p for p in score.parts if p.stem == stem and p.notes]
                if any(n.phones is not None for p in parts for n in p.notes):
                    raw = sing(parts[0], plan, sample_rate, total_samples)
                else:
                    raw = renderer.render(parts, score.tempo_bpm, total_samples)
                pending[stem] = mixer.submit(process_stem, stem, raw, sample_rate, score.tempo_bpm)
                if progress is not None:
                    progress("rendering", 0.1 + 0.7 * (index + 1) / len(score.stems))
            return {stem: future.result() for stem, future in pending.items()}
    finally:
        renderer.close()
