"""songwright.hum's transcription (what `--melody hum.wav` sings), scored with mir_eval's note-level
F-measure (onsets within 50 ms, pitch within 50 cents, offsets ignored): on the hummed tunes of
tests/test_hum.py, and on the dry MBROLA line the singer sings for each melody of bench_tunes.py:
the notes as heard (onsets in seconds), and the tune the song gets, quantised to sixteenths of the
request's tempo or of the tempo heard in the line (put back in seconds on that grid).

    python benchmarks/bench_hum.py     (needs mir_eval: pip install -e ".[dev]")
"""

from __future__ import annotations

import base64
import importlib.util
import sys
from pathlib import Path

import mir_eval
import numpy as np

import songwright as sw
from songwright import hum, stages
from songwright.singer.synthesis import sing

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_tunes import MELODIES, midi_file  # noqa: E402

_spec = importlib.util.spec_from_file_location("test_hum", HERE.parent / "tests" / "test_hum.py")
test_hum = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(test_hum)


def matched(ref: list[tuple[float, float, int]], heard: list[tuple[float, float, int]]) -> int:
    hz = lambda notes: 440.0 * 2 ** ((np.array([p for *_, p in notes]) - 69) / 12)  # noqa: E731
    return len(mir_eval.transcription.match_notes(np.array([[a, b] for a, b, _ in ref]), hz(ref),
                                                  np.array([[a, b] for a, b, _ in heard]), hz(heard),
                                                  onset_tolerance=0.05, pitch_tolerance=50.0, offset_ratio=None))


def report(name: str, counts: list[int]) -> None:
    good, ref, est = counts
    precision, recall = good / est, good / ref
    print(f"{name}: {good} of {ref} notes found, {est} transcribed: precision {precision:.2f}, recall {recall:.2f}, "
          f"F {2 * precision * recall / (precision + recall):.2f}")


def main() -> None:
    counts = [0, 0, 0]
    beat_s = 60.0 / test_hum.TEMPO_BPM
    for seed, notes in enumerate(test_hum.TUNES):
        heard = hum.transcribe_s(test_hum.hummed(notes, seed=seed)[:, None], test_hum.RATE)
        ref = [(s * beat_s, (s + d) * beat_s, p) for s, d, p in notes]
        counts = [counts[0] + matched(ref, heard), counts[1] + len(ref), counts[2] + len(heard)]
    report(f"hummed tone ({len(test_hum.TUNES)} tunes)", counts)
    counts = {way: [0, 0, 0] for way in ("as heard", "on the request's tempo", "on the tempo heard")}
    for _, tags, lyrics, notes, settings, fields in MELODIES:
        request = sw.SongRequest(tags=tags, lyrics=lyrics, melody=base64.b64encode(midi_file(notes, **settings)).decode(),
                                 seed=1, **({"duration_s": 40} | fields)).validate()
        plan, score = stages.score_of(request)
        part = score.part("vocals")
        dry = sing(part, plan, test_hum.RATE, int(plan.duration_s * test_hum.RATE))[0]
        ref = [(n.start_beats * plan.seconds_per_beat, n.end_beats * plan.seconds_per_beat, n.pitch)
               for n in sorted(part.notes, key=lambda n: n.start_beats)]
        heard = hum.transcribe_s(dry[:, None], test_hum.RATE)
        ways = {"as heard": heard, "on the request's tempo": test_hum.on_grid_s(heard, tempo_bpm=plan.tempo_bpm),
                "on the tempo heard": test_hum.on_grid_s(heard, tempo_bpm=hum.estimate_tempo_bpm(heard))}
        for way, notes_s in ways.items():
            counts[way] = [counts[way][0] + matched(ref, notes_s), counts[way][1] + len(ref), counts[way][2] + len(notes_s)]
    for way, numbers in counts.items():
        report(f"sung MBROLA line ({len(MELODIES)} melodies), {way}", numbers)


if __name__ == "__main__":
    main()
