"""songwright.hum (not yet wired to --melody): a hummed tune made here (a voice-like tone with
vibrato, glides between legato notes, breaths between repeated notes and a little noise) is
transcribed note for note, scored with mir_eval's note-level transcription F-measure."""

import numpy as np
import pytest

from songwright import hum
from songwright.errors import InvalidRequest

TEMPO_BPM = 100
RATE = 22050
# (start beats, duration beats, MIDI): steps, a leap, repeated notes, eighths, rests
TUNES = [
    [(0, 1, 60), (1, 1, 62), (2, 1, 64), (3, 1, 65), (4, 2, 67), (7, 0.5, 67), (7.5, 0.5, 69), (8, 1, 67), (9, 1, 65),
     (10, 1, 64), (11, 1, 64), (12, 2, 62), (15, 1, 60), (16, 1, 60), (17, 2, 60)],
    [(0, 1.5, 57), (1.5, 0.5, 60), (2, 1, 64), (3, 1, 69), (4, 2, 67), (6, 1, 64), (7, 1, 62), (8, 3, 60)],
    [(0, 0.5, 72), (0.5, 0.5, 71), (1, 0.5, 69), (1.5, 0.5, 67), (2, 1, 65), (3, 1, 64), (4, 2, 62), (7, 1, 67), (8, 3, 72)],
]


def hummed(notes, *, seed: int, glide_s: float = 0.04, vibrato_cents: float = 25.0, noise_db: float = -35.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    beat_s = 60.0 / TEMPO_BPM
    total = int((max(s + d for s, d, _ in notes) * beat_s + 0.5) * RATE)
    midi, loudness = np.full(total, 60.0), np.zeros(total)
    for i, (start, length, pitch) in enumerate(notes):
        a, b = int(start * beat_s * RATE), int((start + length) * beat_s * RATE)
        t = np.arange(b - a) / RATE
        curve = np.full(b - a, float(pitch))
        before = notes[i - 1] if i else None
        if before and abs(before[0] + before[1] - start) < 1e-9 and before[2] != pitch:  # legato: glide in
            g = min(int(glide_s * RATE), b - a)
            curve[:g] = np.linspace(before[2], pitch, g)
        curve += vibrato_cents / 100 * np.sin(2 * np.pi * 5.5 * t) * np.clip((t - 0.15) / 0.2, 0, 1)
        midi[a:b] = curve
        loudness[a:b] = np.clip(np.minimum(t / 0.03, (t[-1] - t) / 0.05), 0, 1)  # a breath between notes
    phase = 2 * np.pi * np.cumsum(440.0 * 2 ** ((midi - 69) / 12)) / RATE
    y = sum(np.sin(h * phase) / h ** 1.2 for h in range(1, 12)) * loudness
    y = 0.5 * y / np.max(np.abs(y)) + rng.normal(0, 0.5 * 10 ** (noise_db / 20), total)
    return y.astype(np.float32)


def test_a_hummed_tune_is_transcribed_note_for_note():
    transcription = pytest.importorskip("mir_eval.transcription")
    beat_s = 60.0 / TEMPO_BPM
    matched = reference = estimated = 0
    for seed, notes in enumerate(TUNES):
        heard = hum.transcribe_s(hummed(notes, seed=seed)[:, None], RATE)
        ref_i = np.array([[s * beat_s, (s + d) * beat_s] for s, d, _ in notes])
        ref_p = 440.0 * 2 ** ((np.array([p for *_, p in notes]) - 69) / 12)
        est_i = np.array([[a, b] for a, b, _ in heard])
        est_p = 440.0 * 2 ** ((np.array([p for *_, p in heard]) - 69) / 12)
        matched += len(transcription.match_notes(ref_i, ref_p, est_i, est_p, onset_tolerance=0.05,
                                                 pitch_tolerance=50.0, offset_ratio=None))
        reference, estimated = reference + len(notes), estimated + len(heard)
        assert [p for *_, p in hum.quantise(heard, tempo_bpm=TEMPO_BPM)] == [p for *_, p in notes]
    precision, recall = matched / estimated, matched / reference
    assert 2 * precision * recall / (precision + recall) >= 0.9, (matched, reference, estimated)


def test_quantised_to_the_tempo():
    heard = hum.transcribe_s(hummed(TUNES[1], seed=1)[:, None], RATE)
    starts = [s for s, _, _ in hum.quantise(heard, tempo_bpm=TEMPO_BPM)]
    first = TUNES[1][0][0]
    assert [s - starts[0] for s in starts] == [s - first for s, _, _ in TUNES[1]]


def test_silence_and_noise_are_refused():
    with pytest.raises(InvalidRequest, match="silent"):
        hum.transcribe_s(np.zeros((RATE * 2, 1), np.float32), RATE)
    noise = np.random.default_rng(0).normal(0, 0.1, (RATE * 2, 1)).astype(np.float32)
    with pytest.raises(InvalidRequest, match="no pitched note"):
        hum.transcribe_s(noise, RATE)
