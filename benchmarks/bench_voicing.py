"""The singer's voicing detector against pYIN: for every note of the test lyrics that starts with a
voiceless consonant, where the vowel becomes voiced by `songwright.singer.voicing` and by the pYIN
rule of `songwright.audio.vocal_metrics.onset_errors`, on the same dry vocal line. Prints the median
difference (the singer's DETECTOR_DELAY_S) and how many agree within 15 ms.

    python benchmarks/bench_voicing.py [--voice-threshold 0.45]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import songwright as sw
from songwright.audio import vocal_metrics as vm
from songwright.audio.analysis import mono_at
from songwright.singer import voicing
from songwright.singer.phonemes import ends_voiceless
from songwright.singer.synthesis import sing

LYRICS = Path(__file__).resolve().parent.parent / "tests" / "data" / "vocal_lyrics.jsonl"
RATE = vm.F0_RATE
WINDOW_S = 0.2


def pyin_onset_s(y: np.ndarray, note_s: float) -> float | None:
    """vocal_metrics.onset_errors' rule for one note: seconds after the note, or None."""
    import librosa

    a = int((note_s - WINDOW_S) * RATE)
    _, voiced, _ = librosa.pyin(y[a:a + int(2 * WINDOW_S * RATE)], fmin=70, fmax=1000, sr=RATE, frame_length=512,
                                hop_length=RATE // 200)
    times = librosa.times_like(voiced, sr=RATE, hop_length=RATE // 200) - WINDOW_S
    unvoiced = np.flatnonzero(~voiced & (times >= -0.15) & (times <= 0.1))
    after = np.flatnonzero(voiced & (times > times[unvoiced[-1]])) if unvoiced.size else []
    return float(times[after[0]]) if len(after) else None


def differences_ms(entry: dict) -> list[float]:
    fields = {k: v for k, v in entry.items() if k != "lang"}
    song = sw.generate(sw.SongRequest(**fields, duration_s=45, seed=1))
    part = song.score.part("vocals")
    y = mono_at(sing(part, song.plan, song.sample_rate, song.plan.total_samples).T, song.sample_rate, RATE)
    beat_s = 60.0 / song.plan.tempo_bpm
    starts = [n.start_beats * beat_s for n in part.notes if ends_voiceless(n.phones.onset)]
    starts = [s for s in starts if WINDOW_S <= s <= len(y) / RATE - WINDOW_S]
    ours = voicing.voicing_onsets_s(y, RATE, [(s - 0.15, s, s + WINDOW_S) for s in starts])
    out = []
    for start, mine in zip(starts, ours):
        theirs = pyin_onset_s(y, start)
        if mine is not None and theirs is not None:
            out.append(1000 * (mine - start - theirs))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voice-threshold", type=float, default=voicing.VOICED_BELOW)
    args = parser.parse_args()
    voicing.VOICED_BELOW = args.voice_threshold
    entries = [json.loads(line) for line in LYRICS.read_text(encoding="utf-8").splitlines() if line.strip()]
    diffs = np.concatenate([differences_ms(e) for e in entries])
    median = np.median(diffs)
    print(f"{diffs.size} onsets: detector - pYIN median {median:.0f} ms; "
          f"within 15 ms of pYIN (after the median) {np.mean(np.abs(diffs - median) <= 15):.0%}, "
          f"within 30 ms {np.mean(np.abs(diffs - median) <= 30):.0%}")


if __name__ == "__main__":
    main()
