"""A sung melody measured against the notes it was given, from the vocal stem: pitch (pYIN, the
median over the middle half of each note's vowel, in cents from the given note), vowel onsets
(vocal_metrics.onset_errors: where the vowel after an unvoiced consonant becomes voiced) and
whether each syllable was heard (voiced frames in its vowel). Used by tests/test_tunes.py and
benchmarks/bench_tunes.py."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..singer.synthesis import midi_hz
from .analysis import mono_at
from .pitch import pyin
from .vocal_metrics import F0_RATE, PITCH_RESOLUTION, note_timings, onset_errors

HOP = F0_RATE // 200  # 5 ms
MIN_MIDDLE_FRAMES = 3
LEAP_SEMITONES = 2


@dataclass(frozen=True)
class TuneScore:
    pitched: int  # notes whose middle could be measured (voiced)
    in_tune: int  # of those, within 50 cents of the given pitch
    onsets: int  # notes with a measurable onset: a vowel after an unvoiced consonant
    on_time: int  # of those, within 50 ms of the given onset
    syllables: int  # notes that start a syllable
    heard: int  # of those, voiced in their vowel
    leaps: tuple[float, ...]  # legato leaps (no consonant between): half-way crossing - note start (s)


def sung_tune(song, *, tolerance_cents: float = 50.0, tolerance_s: float = 0.05) -> TuneScore:
    import librosa

    notes = sorted(song.score.part("vocals").notes, key=lambda n: n.start_beats)
    timings = note_timings(notes, song.plan.seconds_per_beat)
    vocals = song.stems["vocals"]
    y = mono_at(vocals, song.sample_rate, F0_RATE)
    first, last = timings[0].start_s - 0.3, timings[-1].end_s + 0.3
    a = max(0, int(first * F0_RATE))
    f0, voiced, _ = pyin(y[a:int(last * F0_RATE)], fmin=70, fmax=1000, sr=F0_RATE, frame_length=1024,
                         hop_length=HOP, resolution=PITCH_RESOLUTION)
    times = librosa.times_like(f0, sr=F0_RATE, hop_length=HOP) + a / F0_RATE
    pitched = in_tune = syllables = heard = 0
    for note, t in zip(notes, timings):
        middle, quarter = (t.start_s + t.vowel_end_s) / 2, (t.vowel_end_s - t.start_s) / 4
        inside = (times >= middle - quarter) & (times <= middle + quarter) & voiced
        if note.syllable:
            syllables += 1
            heard += bool(np.any((times >= t.start_s) & (times <= t.vowel_end_s) & voiced))
        if inside.sum() >= MIN_MIDDLE_FRAMES:
            pitched += 1
            cents = 1200 * np.log2(np.median(f0[inside]) / midi_hz(t.pitch))
            in_tune += abs(cents) <= tolerance_cents
    errors = onset_errors(vocals, song.sample_rate, timings)
    leaps = pitch_onset_errors(times, f0, voiced, timings)
    return TuneScore(pitched, in_tune, int(errors.size), int(np.sum(np.abs(errors) <= tolerance_s)), syllables, heard,
                     tuple(float(e) for e in leaps))


def pitch_onset_errors(times: np.ndarray, f0: np.ndarray, voiced: np.ndarray, timings: list) -> np.ndarray:
    """For a note sung straight on from the one before (no rest, no unvoiced consonant) at least
    LEAP_SEMITONES away: when the voiced F0 first crosses half-way between the two pitches, minus
    the note's start (s). Reported, not held to 50 ms: the singer glides into a close note over
    90 ms from its start (half-way near +45 ms), and a voiced onset consonant (m, n, l) sung
    before the beat already carries the new pitch (half-way before the start)."""
    errors = []
    for before, t in zip(timings, timings[1:]):
        if t.clean_onset or t.start_s - before.end_s > 0.02 or abs(t.pitch - before.pitch) < LEAP_SEMITONES:
            continue
        half = (midi_hz(t.pitch) * midi_hz(before.pitch)) ** 0.5
        window = (times >= (before.start_s + t.start_s) / 2) & (times <= (t.start_s + t.vowel_end_s) / 2) & voiced
        index = np.flatnonzero(window)
        if index.size < MIN_MIDDLE_FRAMES:
            continue
        rising = t.pitch > before.pitch
        crossed = index[(f0[index] >= half) if rising else (f0[index] <= half)]
        if crossed.size:
            errors.append(times[crossed[0]] - t.start_s)
    return np.asarray(errors)
