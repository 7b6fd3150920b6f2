"""The vocal line -> a sung stem. Each note becomes onset consonants placed just before its beat,
a vowel held across it and coda consonants at its end, written as an MBROLA .pho file with pitch
targets (a short glide in, portamento between close notes, vibrato on long notes). MBROLA has no
volume control, so the note envelopes and breaths are shaped afterwards."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.signal import butter, resample_poly, sosfilt

from ..errors import MissingDependency, RenderError
from ..plan import Plan
from ..score import Note, Part
from .voices import VOICES, Voice

MAX_ONSET_S = 0.16
MAX_CODA_SHARE = 0.35
MIN_VOWEL_SHARE = 0.4
GLIDE_S = 0.05
PORTAMENTO_S = 0.09
VIBRATO_FROM_S = 0.28
VIBRATO_HZ = 5.3
VIBRATO_CENTS = 22.0
BREATH_S = 0.22
BREATH_GAIN = 0.012
MAX_REST_MS = 5000
FRICATIVES = {"s", "S", "f", "h", "T", "tS", "x", "sh", "ch", "c", "q"}
# How late MBROLA's English voices make a vowel heard after its written start, by what precedes
# it (median over vowels for us1 and us2, WORLD F0 on isolated syllables).
ONSET_LAG_S = {"aspirated": 0.09, "stop": 0.05, "fricative": 0.02}


@dataclass
class Segment:
    phoneme: str
    start_s: float
    end_s: float
    hz: list[tuple[float, float]] = field(default_factory=list)  # (seconds from segment start, Hz)
    syllable_start: bool = False


def midi_hz(pitch: float) -> float:
    return 440.0 * 2 ** ((pitch - 69) / 12)


def sing(part: Part, plan: Plan, sample_rate: int, total_samples: int) -> np.ndarray:
    """A sung part (the lead line or its harmony): (2, total_samples) float32, centred."""
    if shutil.which("mbrola") is None:
        raise MissingDependency("mbrola", "bash scripts/setup-system.sh  (apt-get install mbrola mbrola-us1 ...)")
    seconds = 60.0 / plan.tempo_bpm
    notes = [n for n in part.notes if n.phones is not None]
    mono = np.zeros(total_samples, dtype=np.float32)
    for name in sorted({n.voice for n in notes}):
        line = [n for n in notes if n.voice == name]
        mono += render_line(line, VOICES[name], seconds, sample_rate, total_samples)
    if part.stem == "vocals":
        mono += breaths(notes, seconds, sample_rate, total_samples, np.random.default_rng([plan.seed, 13]))
    return np.stack([mono, mono])


# ---------------------------------------------------------------- timing

def segments(notes: list[Note], seconds_per_beat: float) -> list[Segment]:
    """Place every phoneme in time: vowels start on the beat, onsets just before it."""
    out: list[Segment] = []
    previous_end = 0.0
    previous_vowel: Segment | None = None
    previous_pitch: float | None = None
    for note in sorted(notes, key=lambda n: n.start_beats):
        syllable = note.phones
        start = note.start_beats * seconds_per_beat
        end = note.end_beats * seconds_per_beat
        onset_s = min(MAX_ONSET_S, sum(ms for _, ms in syllable.onset) / 1000.0)
        coda_s = min(MAX_CODA_SHARE * (end - start), sum(ms for _, ms in syllable.coda) / 1000.0)
        onset_start = start - onset_s
        if onset_start < previous_end:  # legato: shorten the previous note's tail, then this onset
            room = previous_end - onset_start
            if previous_vowel is not None:
                keep = previous_vowel.start_s + MIN_VOWEL_SHARE * (previous_vowel.end_s - previous_vowel.start_s)
                cut = min(room, max(0.0, previous_vowel.end_s - keep))
                _shift_tail(out, previous_vowel, cut)
                previous_end -= cut
            onset_start = max(onset_start, previous_end)
            onset_s = start - onset_start
        f0 = midi_hz(note.pitch)
        first = len(out)
        # MBROLA makes a vowel heard some time after its written start, longer after a stop:
        # start it that much early, taking the time from the onset consonants (keeping 30 ms
        # of them), never from the previous vowel.
        early = min(ONSET_LAG_S.get(_onset_kind(syllable.onset), 0.0), max(0.0, onset_s - 0.03))
        out += _spread(syllable.onset, onset_start, start - early, f0)
        start -= early
        vowel = Segment(syllable.vowel, start, end - coda_s, _vowel_contour(end - coda_s - start, f0, previous_pitch,
                                                                             start - previous_end))
        out.append(vowel)
        out[first].syllable_start = True
        out += _spread(syllable.coda, end - coda_s, end, f0)
        previous_end, previous_vowel, previous_pitch = end, vowel, f0
    return out


def _onset_kind(onset: tuple) -> str:
    if not onset:
        return "vowel"
    last = onset[-1][0]
    if last in ("p_h", "t_h", "k_h"):
        return "aspirated"
    return "stop" if last in ("p", "t", "k") else "fricative" if last in FRICATIVES else "voiced"


def _spread(phones: tuple, start: float, end: float, f0: float) -> list[Segment]:
    """Consonants share their span in proportion to their natural lengths."""
    total = sum(ms for _, ms in phones)
    if not phones or end <= start or total <= 0:
        return []
    segs, at = [], start
    for phoneme, ms in phones:
        length = (end - start) * ms / total
        segs.append(Segment(phoneme, at, at + length, [(0.0, f0)]))
        at += length
    return segs


def _shift_tail(out: list[Segment], vowel: Segment, cut: float) -> None:
    """Move the end of `vowel`, and the coda after it, `cut` seconds earlier."""
    index = out.index(vowel)
    vowel.end_s -= cut
    length = vowel.end_s - vowel.start_s
    held = vowel.hz[-1][1]  # the written pitch, held to the new end
    vowel.hz = [(t, f) for t, f in vowel.hz if t < length] + [(length, held)]
    for segment in out[index + 1:]:
        segment.start_s -= cut
        segment.end_s -= cut


def _vowel_contour(length: float, f0: float, previous: float | None, gap: float) -> list[tuple[float, float]]:
    if previous is not None and gap < 0.12 and abs(12 * np.log2(f0 / previous)) <= 5:
        points = [(0.0, previous), (min(PORTAMENTO_S, 0.3 * length), f0)]
    else:
        points = [(0.0, f0 * 2 ** (-0.5 / 12)), (min(GLIDE_S, 0.25 * length), f0)]
    if length > VIBRATO_FROM_S + 0.15:
        for t in np.arange(VIBRATO_FROM_S, length, 0.03):
            depth = VIBRATO_CENTS * min(1.0, (t - VIBRATO_FROM_S) / 0.2)
            points.append((float(t), f0 * 2 ** (depth * np.sin(2 * np.pi * VIBRATO_HZ * (t - VIBRATO_FROM_S)) / 1200)))
    points.append((length, f0))
    return points


# ---------------------------------------------------------------- MBROLA

def pho_text(segs: list[Segment], rest_between_syllables: bool = False) -> str:
    """MBROLA's input: one phoneme per line with its length in ms and (position %, Hz) targets.
    Boundaries are rounded to whole milliseconds from the start, so no error accumulates."""
    lines = []
    now_ms = 0
    for seg in segs:
        start_ms, end_ms = round(seg.start_s * 1000), round(seg.end_s * 1000)
        while start_ms > now_ms:  # MBROLA fails on a phoneme longer than about 10 s: rest in pieces
            rest = min(MAX_REST_MS, start_ms - now_ms)
            lines.append(f"_ {rest}")
            now_ms += rest
        length = end_ms - now_ms
        if length <= 0:
            continue
        if rest_between_syllables and seg.syllable_start and lines and not lines[-1].startswith("_"):
            lines.append("_ 0")
        targets = " ".join(f"{min(100.0, 100 * t / max(seg.end_s - seg.start_s, 1e-6)):.0f} {f:.1f}" for t, f in seg.hz)
        lines.append(f"{seg.phoneme} {length} {targets}".rstrip())
        now_ms = end_ms
    lines.append("_ 50")
    return "\n".join(lines) + "\n"


def render_line(notes: list[Note], voice: Voice, seconds_per_beat: float, sample_rate: int, total_samples: int) -> np.ndarray:
    segs = segments(notes, seconds_per_beat)
    with tempfile.TemporaryDirectory(prefix="songwright-sing-") as folder:
        pho = Path(folder) / "line.pho"
        raw = Path(folder) / "line.raw"
        pho.write_text(pho_text(segs, voice.rest_between_syllables), encoding="ascii")
        result = subprocess.run(["mbrola", "-e", str(voice.path), str(pho), str(raw)], capture_output=True, timeout=120)
        if result.returncode != 0 or not raw.exists():
            raise RenderError(f"mbrola failed for voice {voice.name}: {result.stderr.decode(errors='replace')[:300]}")
        voice_audio = np.fromfile(raw, dtype="<i2").astype(np.float32) / 32768.0
    audio = resample_poly(voice_audio, sample_rate // np.gcd(sample_rate, voice.sample_rate),
                          voice.sample_rate // np.gcd(sample_rate, voice.sample_rate)).astype(np.float32)
    audio = _fit(audio, total_samples)
    return audio * envelope(notes, segs, seconds_per_beat, sample_rate, total_samples)


def _fit(audio: np.ndarray, total_samples: int) -> np.ndarray:
    if len(audio) >= total_samples:
        return audio[:total_samples]
    return np.pad(audio, (0, total_samples - len(audio)))


def envelope(notes: list[Note], segs: list[Segment], seconds_per_beat: float, sample_rate: int, total_samples: int) -> np.ndarray:
    """Per-note loudness from velocity, with soft attacks and releases."""
    gain = np.zeros(total_samples, dtype=np.float32)
    ordered = sorted(notes, key=lambda n: n.start_beats)
    starts = [n.start_beats * seconds_per_beat for n in ordered]
    bounds = _note_bounds(segs, starts)
    for note, (begin, end) in zip(ordered, bounds):
        a, b = max(0, int(begin * sample_rate)), min(total_samples, int(end * sample_rate))
        if b <= a:
            continue
        shape = np.full(b - a, (note.velocity / 100.0) ** 1.5, dtype=np.float32)
        ramp_in, ramp_out = min(len(shape), int(0.012 * sample_rate)), min(len(shape), int(0.04 * sample_rate))
        shape[:ramp_in] *= np.linspace(0.2, 1.0, ramp_in)
        shape[len(shape) - ramp_out:] *= np.linspace(1.0, 0.0, ramp_out)
        gain[a:b] = np.maximum(gain[a:b], shape)
    return gain


def _note_bounds(segs: list[Segment], starts: list[float]) -> list[tuple[float, float]]:
    """Each note's sounding span: from its first onset consonant to its last coda consonant."""
    bounds = []
    for i, start in enumerate(starts):
        following = starts[i + 1] if i + 1 < len(starts) else float("inf")
        mine = [s for s in segs if start - MAX_ONSET_S - 1e-6 <= s.start_s < following - 1e-9 or
                (s.start_s < start <= s.end_s)]
        bounds.append((min(s.start_s for s in mine), max(s.end_s for s in mine)) if mine else (start, start))
    return bounds


def breaths(notes: list[Note], seconds_per_beat: float, sample_rate: int, total_samples: int,
            rng: np.random.Generator) -> np.ndarray:
    """A soft breath before each phrase that follows a rest long enough to breathe in."""
    out = np.zeros(total_samples, dtype=np.float32)
    sos = butter(2, [1500, 7000], btype="bandpass", fs=sample_rate, output="sos")
    ordered = sorted(notes, key=lambda n: n.start_beats)
    previous_end = -1.0
    for note in ordered:
        start = note.start_beats * seconds_per_beat - MAX_ONSET_S
        if note.phrase_start and start - previous_end > BREATH_S + 0.15:
            length = int(BREATH_S * sample_rate)
            a = int((start - BREATH_S - 0.04) * sample_rate)
            if a >= 0:
                noise = sosfilt(sos, rng.standard_normal(length)).astype(np.float32)
                out[a:a + length] += BREATH_GAIN * noise * np.hanning(length).astype(np.float32)
        previous_end = note.end_beats * seconds_per_beat
    return out
