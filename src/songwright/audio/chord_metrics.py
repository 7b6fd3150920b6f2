"""A song measured against its chord chart, from the audio: each chart chord recognised from the
harmony stems' chroma (per beat, against major, minor and seventh templates with harmonics), and
the lowest note of the bass stem in each chord span (pYIN). Used by tests/test_charts.py and
benchmarks/bench_charts.py."""

from __future__ import annotations

import librosa
import numpy as np

from .pitch import pyin

ANALYSIS_SR = 22050
HOP = 512
# Templates: triads and sevenths, intervals above the root.
TEMPLATES = {"maj": (0, 4, 7), "min": (0, 3, 7), "7": (0, 4, 7, 10), "m7": (0, 3, 7, 10), "maj7": (0, 4, 7, 11)}
FAMILY = {"maj": "maj", "7": "maj", "maj7": "maj", "min": "min", "m7": "min"}
TREBLE_FROM = "C3"
BASS_FRAME = 4096  # 186 ms at 22.05 kHz: two periods of an E1
EDGE_S = 0.1  # half a bass frame: no frame of a span's bass reaches into its neighbours
BASS_RESOLUTION = 0.25  # semitones per pYIN bin: a bass note is named to the semitone, and bins 2.5x
# librosa's 0.1 make pYIN's Viterbi pass 6x faster
SOUNDING_SHARE = 0.05  # a bass frame quieter than this share of the stem's loudest is a rest (a release tail)
PARTIALS = 6
HARMONIC_DECAY = 0.6
# The harmony: no drums, no melody, and no bass, whose low notes' loud upper partials (the 5th is a
# major third) outweigh the chord's own third; the bass stem is measured on its own (bass_agreement).
CHORD_STEMS = ("keys", "guitar", "strings")


def mono(song, stems: tuple[str, ...]) -> np.ndarray:
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


def span_chord(chroma: np.ndarray, *, start_s: float, end_s: float, beat_s: float) -> tuple[int, str]:
    """The chord of a span: each beat's chroma recognised, the most frequent (root, major/minor)
    wins; a tie goes to the recognition of the whole span's mean chroma."""
    frame = lambda t: int(t * ANALYSIS_SR / HOP)  # noqa: E731
    votes: dict[tuple[int, str], int] = {}
    beats = max(1, int(round((end_s - start_s) / beat_s)))
    for i in range(beats):
        a, b = start_s + i * beat_s, min(end_s, start_s + (i + 1) * beat_s)
        root, name = recognise(chroma[:, frame(a + 0.1 * (b - a)):max(frame(b), frame(a) + 1)].mean(axis=1))
        votes[(root, FAMILY[name])] = votes.get((root, FAMILY[name]), 0) + 1
    whole = recognise(chroma[:, frame(start_s + 0.1 * beat_s):frame(end_s)].mean(axis=1))
    most = max(votes.values())
    leaders = [v for v, n in votes.items() if n == most]
    if (whole[0], FAMILY[whole[1]]) in leaders or len(leaders) > 1:
        return whole if (whole[0], FAMILY[whole[1]]) in leaders else (leaders[0][0], leaders[0][1])
    return leaders[0]


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
        root, name = span_chord(chroma, start_s=start, end_s=end, beat_s=song.plan.seconds_per_beat)
        ok = root == chord.root_pc and FAMILY[name] == family(chord)
        bars[bar] = bars.get(bar, True) and ok
        if not ok:
            misses.append(f"bar {bar} at {start:.2f}s: chart {chord.symbol}, heard {librosa.midi_to_note(root + 60, octave=False)}{name}")
    return sum(bars.values()), len(bars), misses


def bass_agreement(song) -> tuple[int, int, list[str]]:
    """Spans whose lowest bass note (pYIN on the bass stem, notes held 80 ms or more, away from the
    span's edges) has the pitch class of the chord's bass (root or slash bass), of the spans where
    the bass plays."""
    audio = mono(song, ("bass",))
    f0, voiced, _ = pyin(audio, fmin=librosa.note_to_hz("A0"), fmax=librosa.note_to_hz("C4"),
                         sr=ANALYSIS_SR, frame_length=BASS_FRAME, hop_length=HOP, resolution=BASS_RESOLUTION)
    rms = librosa.feature.rms(y=audio, frame_length=BASS_FRAME, hop_length=HOP)[0][:len(f0)]
    sounding = voiced & (rms >= SOUNDING_SHARE * rms.max())
    midi = np.where(sounding, np.round(librosa.hz_to_midi(np.nan_to_num(f0, nan=1.0))), np.nan)
    min_frames = int(0.08 * ANALYSIS_SR / HOP)
    good = total = 0
    misses = []
    for start, end, chord, bar in chart_spans(song):
        if not chord.intervals:
            continue
        a, b = int((start + EDGE_S) * ANALYSIS_SR / HOP), int((end - EDGE_S) * ANALYSIS_SR / HOP)
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
