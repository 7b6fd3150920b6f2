"""Measure how late each MBROLA voice makes a vowel audible after its nominal start.

MBROLA's diphones put the transition into a vowel (an aspiration, a fade in from silence) inside
the vowel's own segment, so a vowel written to start on the beat is heard later. For each voice
and each kind of syllable onset, this synthesizes the syllable on several vowels and finds the
first 5 ms frame voiced at the sung pitch (WORLD DIO + StoneMask); the medians are the table
`Voice.onset_lag_s` in src/songwright/singer/voices.py, which the singer uses to start those
syllables that much earlier.

    python benchmarks/calibrate_onsets.py
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pyworld

from songwright.singer.voices import VOICES

CLASSES = {
    "en": {"vowel": [[]], "aspirated": [["t_h"], ["k_h"], ["p_h"]], "stop": [["t"], ["k"], ["p"]],
           "fricative": [["s"], ["S"], ["f"], ["h"], ["T"]]},
    "zh": {"vowel": [[]], "aspirated": [["t"], ["k"], ["p"], ["q"], ["ch"], ["c"]], "stop": [["d"], ["g"], ["b"]],
           "fricative": [["s"], ["sh"], ["x"], ["h"], ["f"]]},
}
VOWELS = {"en": ["A", "i", "@", "EI", "O", "u"], "zh": ["a", "an", "ao", "e", "ou", "ang"]}
PITCH_HZ = 200.0


def lag_ms(voice, onset: list[str], vowel: str) -> float | None:
    pho = "_ 500\n" + "".join(f"{p} 80 0 {PITCH_HZ} 100 {PITCH_HZ}\n" for p in onset)
    pho += f"{vowel} 500 0 {PITCH_HZ} 100 {PITCH_HZ}\n_ 200\n"
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "x.raw"
        result = subprocess.run(["mbrola", str(voice.path), "-", str(raw)], input=pho.encode(), capture_output=True)
        if result.returncode != 0 or result.stderr:
            return None  # the voice lacks this diphone
        y = np.fromfile(raw, dtype="<i2").astype(np.float64) / 32768.0
    f0, times = pyworld.dio(y, voice.sample_rate, f0_floor=70.0, f0_ceil=1000.0, frame_period=5.0)
    f0 = pyworld.stonemask(y, f0, times, voice.sample_rate)
    start = 0.5 + 0.08 * len(onset)
    at_pitch = np.flatnonzero((f0 > 0) & (np.abs(1200 * np.log2(np.maximum(f0, 1.0) / PITCH_HZ)) < 100) & (times > start - 0.1))
    return 1000 * (times[at_pitch[0]] - start) if at_pitch.size else None


def main() -> None:
    for voice in VOICES.values():
        if not voice.installed:
            continue
        table = {}
        for name, onsets in CLASSES[voice.language].items():
            values = [v for onset in onsets for vowel in VOWELS[voice.language] if (v := lag_ms(voice, onset, vowel)) is not None]
            table[name] = round(float(np.median(values)) / 1000, 3)
        print(f"{voice.name}: {table}")


if __name__ == "__main__":
    main()
