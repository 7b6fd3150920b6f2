"""Measuring a rendered song against its chart, from the audio: chords from chroma, bass notes
from pYIN. Shared by the chart tests and benchmarks/charts.py."""

from __future__ import annotations

import librosa
import numpy as np

ANALYSIS_SR = 22050
HOP = 512
# Templates: triads and sevenths, intervals above the root.
TEMPLATES = {"maj": (0, 4, 7), "min": (0, 3, 7), "7": (0, 4, 7, 10), "m7": (0, 3, 7, 10), "maj7": (0, 4, 7, 11)}
FAMILY = {"maj": "maj", "7": "maj", "maj7": "maj", "min": "min", "m7": "min"}
TREBLE_FROM = "C3"
PARTIALS = 6
HARMONIC_DECAY = 0.6
CHORD_STEMS = ("bass", "keys", "guitar", "strings")  # the accompaniment: no drums, no melody


def mono(song, stems) -> np.ndarray:
    mix = sum(np.asarray(song.stems[s], dtype=np.float64).mean(axis=1) for s in stems if s in song.stems)
    return librosa.resample(mix, orig_sr=song.sample_rate, target_sr=ANALYSIS_SR)


def chart_spans(song) -> list[tuple[float, float, object]]:
    """(start_s, end_s, chord) of every span the chart plays."""
    plan = song.plan
    out = []
    for section in plan.sections:
        if section.spans is None:
            continue
        for position, spans in enumerate(section.spans):
            bar_start = (section.start_bar + position) * plan.bar_s
            for span in spans:
                start = bar_start + span.start_beats * plan.seconds_per_beat
                out.append((start, start + span.duration_beats * plan.seconds_per_beat, span.chord,
                            section.start_bar + position))
    return out


def family(chord) -> str:
    return "min" if 3 in chord.intervals and 4 not in chord.intervals else "maj"


def note_profile(pc: int) -> np.ndarray:
    """The chroma of one played note: its first six partials, each HARMONIC_DECAY times the one
    before (the 3rd partial adds the fifth, the 5th the major third), as in Gomez's HPCP and
    Papadopoulos and Peeters' harmonic chord templates; an organ's D minor otherwise reads D major."""
    profile = np.zeros(12)
    for h in range(1, PARTIALS + 1):
        profile[(pc + int(round(12 * np.log2(h)))) % 12] += HARMONIC_DECAY ** (h - 1)
    return profile


def recognise(chroma: np.ndarray) -> tuple[int, str]:
    """The best (root pitch class, template name) for one chroma vector (cosine similarity with
    harmonic templates)."""
    best, best_score = (0, "maj"), -1.0
    norm = chroma / (np.linalg.norm(chroma) + 1e-12)
    for name, intervals in TEMPLATES.items():
        for root in range(12):
            template = sum(note_profile(root + i) for i in intervals)
            score = float(norm @ template / np.linalg.norm(template))
            if score > best_score:
                best, best_score = (root, name), score
    return best


def treble_chroma(audio: np.ndarray) -> np.ndarray:
    """Chroma from C3 up: above the register where a semitone's bins blur into each other."""
    return librosa.feature.chroma_cqt(y=audio, sr=ANALYSIS_SR, hop_length=HOP, fmin=librosa.note_to_hz(TREBLE_FROM),
                                      n_octaves=5)


def chord_agreement(song) -> tuple[int, int, list[str]]:
    """Bars whose every chord is recognised (root and major/minor) from the accompaniment's chroma,
    of the charted bars where the accompaniment plays; with a line per miss."""
    audio = mono(song, CHORD_STEMS)
    chroma = treble_chroma(audio)
    bars: dict[int, bool] = {}
    misses = []
    for start, end, chord, bar in chart_spans(song):
        if not chord.intervals:
            continue
        a = int((start + 0.15 * (end - start)) * ANALYSIS_SR / HOP)
        b = int(end * ANALYSIS_SR / HOP)
        vector = chroma[:, a:b].mean(axis=1)
        root, name = recognise(vector)
        ok = root == chord.root_pc and FAMILY[name] == family(chord)
        bars[bar] = bars.get(bar, True) and ok
        if not ok:
            misses.append(f"bar {bar} at {start:.2f}s: chart {chord.symbol}, heard {librosa.midi_to_note(root + 60, octave=False)}{name}")
    return sum(bars.values()), len(bars), misses


def bass_agreement(song) -> tuple[int, int, list[str]]:
    """Spans whose lowest bass note (pYIN on the bass stem, notes held 80 ms or more) has the pitch
    class of the chord's bass (root or slash bass), of the spans where the bass plays."""
    audio = mono(song, ("bass",))
    f0, voiced, _ = librosa.pyin(audio, fmin=librosa.note_to_hz("A0"), fmax=librosa.note_to_hz("C4"),
                                 sr=ANALYSIS_SR, frame_length=4096, hop_length=HOP)
    midi = np.where(voiced, np.round(librosa.hz_to_midi(np.nan_to_num(f0, nan=1.0))), np.nan)
    min_frames = int(0.08 * ANALYSIS_SR / HOP)
    good = total = 0
    misses = []
    for start, end, chord, bar in chart_spans(song):
        if not chord.intervals:
            continue
        a, b = int((start + 0.03) * ANALYSIS_SR / HOP), int((end - 0.03) * ANALYSIS_SR / HOP)
        values = midi[a:b]
        held = [p for p in np.unique(values[~np.isnan(values)]) if np.sum(values == p) >= min_frames]
        if not held:
            continue
        total += 1
        lowest = int(min(held))
        if lowest % 12 == chord.bass:
            good += 1
        else:
            misses.append(f"bar {bar} at {start:.2f}s: chart {chord.symbol}, lowest bass {librosa.midi_to_note(lowest)}")
    return good, total, misses
