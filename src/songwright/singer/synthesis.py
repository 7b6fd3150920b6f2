"""The vocal line -> a sung stem. Each note becomes onset consonants placed just before its beat,
a vowel held across it and coda consonants at its end, written as an MBROLA .pho file with pitch
targets (a short glide in, portamento between close notes, vibrato on long notes). MBROLA has no
volume control, so the note envelopes and breaths are shaped afterwards."""

from __future__ import annotations

import dataclasses

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import MissingDependency, RenderError
from ..plan import Plan
from ..score import Note, Part
from ..streams import Streams
from .voices import VOICES, Voice
from .phonemes import VOICELESS_FRICATIVES, ends_voiceless
from .voicing import voicing_onsets_s

MAX_ONSET_S = 0.16
MAX_CODA_SHARE = 0.35
MIN_VOWEL_SHARE = 0.4
GLIDE_S = 0.05
PORTAMENTO_S = 0.09
VIBRATO_FROM_S = 0.28
VIBRATO_HZ = 5.3
VIBRATO_CENTS = 22.0
RELEASE_S = 0.03  # after a note's last consonant: its burst is heard whole
BREATH_S = 0.22
BREATH_BAND_HZ = (1500.0, 7000.0)
BREATH_GAIN = 0.012
MAX_REST_MS = 5000
MAX_PHO_LINE_CHARS = 1000
MIN_CONSONANT_S = 0.03
JOINED_S = 0.02  # a note this close after the last one follows it without a rest
KEEP_CONSONANT_SHARE = 0.6
ASPIRATED = {"p_h", "t_h", "k_h", "ts\\_h"}
# MBROLA stretches a vowel's first half-diphone, aspiration and all, with the vowel: a vowel becomes
# voiced later the longer it is (a 1 s vowel after k_h: some 200 ms), by an amount that depends on
# the voice, the consonant, the vowel and what follows. So each line is rendered, each vowel after
# a voiceless consonant found where it becomes voiced, and moved to put that on the beat; then
# rendered again. A fricative keeps its whole length when its vowel moves (the time comes from
# before it): squeezing it as much as a stop cost intelligibility.
ONSET_PASSES = 3  # renders per line: the last one is kept
MAX_EARLY_S = 0.3
MAX_LATE_S = 0.08
MAX_STRETCH_SHARE = 0.6
MIN_FOLLOW = 0.3  # a vowel whose voicing moves less than this with it is not moved further
# Where moving a vowel cannot put its voicing on the beat (no room before it, or an aspiration so
# large a share of the vowel that moving it x moves the voicing only x/2), the stretched aspiration
# itself is shortened: the part of MBROLA's output past ASPIRATION_KEPT_S of it is skipped on
# playback (a cut in noise, over CUT_S), and MBROLA's vowel made longer by as much. Aspiration
# stretched tenfold is MBROLA repeating one noise frame, a buzz at its frame rate that pYIN calls
# voiced; cut, it is no longer heard. One more render, only for lines with such a vowel.
CUT_FROM_S = 0.02  # a voicing later than this after the early passes is cut to the beat
ASPIRATION_KEPT_S = 0.02
CUT_S = 0.005
CUT_MARGIN_S = 0.01  # the cut ends at least this before where the voicing is expected
# The voicing detector finds onsets a median 5 ms after pYIN does (benchmarks/bench_voicing.py:
# 209 onsets, 87 % within 15 ms of that, 95 % within 30 ms).
DETECTOR_DELAY_S = 0.005
UNKNOWN_DIPHONE = re.compile(r"Warning: (\S+) unknown")


@dataclass
class Segment:
    phoneme: str
    start_s: float
    end_s: float
    hz: list[tuple[float, float]] = field(default_factory=list)  # (seconds from segment start, Hz)
    syllable_start: bool = False
    note: int = 0  # index of its note in start order
    beat_s: float | None = None  # on a vowel after a voiceless consonant: its note's written onset


@dataclass(frozen=True)
class Expression:
    """How one held note is sung, drawn per note: a singer never sings two notes alike. A scoop
    from below with a small overshoot, a slow pitch drift, and vibrato that starts late, at its
    own rate and depth, with a rate that wanders."""
    scoop_cents: float = -50.0
    scoop_s: float = GLIDE_S
    overshoot_cents: float = 0.0
    drift_cents: tuple[float, ...] = ()  # one value every DRIFT_STEP_S
    vibrato_delay_s: float = VIBRATO_FROM_S
    vibrato_hz: float = VIBRATO_HZ
    vibrato_cents: float = VIBRATO_CENTS
    vibrato_wander: float = 0.0  # +- share of the rate, slowly
    bent: bool = False  # a blue note: its scoop is sung even after a close note (no portamento)

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "Expression":
        return cls(scoop_cents=float(rng.uniform(-80, -30)), scoop_s=float(rng.uniform(0.04, 0.08)),
                   overshoot_cents=float(rng.uniform(3, 12)),
                   drift_cents=tuple(np.cumsum(rng.normal(0, DRIFT_CENTS, 64)).clip(-8, 8).round(2)),
                   vibrato_delay_s=float(rng.uniform(0.18, 0.4)), vibrato_hz=float(rng.uniform(4.8, 6.2)),
                   vibrato_cents=float(rng.uniform(16, 32)), vibrato_wander=float(rng.uniform(0.03, 0.08)))


PLAIN = Expression()
BEND_S = 0.16  # a blue note's bend up into the written pitch


def _bent(expression: Expression, note: Note) -> Expression:
    """A note the melody bends into (`Note.bend_cents`, a blue third): its scoop from that far below."""
    if not note.bend_cents:
        return expression
    return dataclasses.replace(expression, scoop_cents=note.bend_cents, scoop_s=BEND_S, overshoot_cents=0.0, bent=True)
DRIFT_STEP_S = 0.12
DRIFT_CENTS = 2.5


def midi_hz(pitch: float) -> float:
    return 440.0 * 2 ** ((pitch - 69) / 12)


def sing(part: Part, plan: Plan, sample_rate: int, total_samples: int) -> np.ndarray:
    """A sung part (the lead line or its harmony): (2, total_samples) float32, centred."""
    if shutil.which("mbrola") is None:
        raise MissingDependency("mbrola", "bash scripts/setup-system.sh  (apt-get install mbrola mbrola-us1 ...)")
    seconds = 60.0 / plan.tempo_bpm
    notes = [n for n in part.notes if n.phones is not None]
    out = np.zeros((2, total_samples), dtype=np.float32)
    mono = out[0]  # summed on the left channel, then copied to the right
    for name in sorted({n.voice for n in notes}):
        line = [n for n in notes if n.voice == name]
        if VOICES[name].engine == "hts":
            from .hts import render_hts_line

            render_hts_line(line, VOICES[name], seconds, sample_rate, total_samples, streams=Streams(plan.seed),
                            stem=part.stem, into=mono, spoken_bars=rapped_bars(plan))
        else:
            render_line(line, VOICES[name], seconds, sample_rate, total_samples, streams=Streams(plan.seed),
                        stem=part.stem, into=mono)
    if part.stem == "vocals":
        mono += breaths(notes, seconds, sample_rate, total_samples, Streams(plan.seed))
    out[1] = mono
    return out


def rapped_bars(plan: Plan) -> frozenset[int]:
    """The bars of the song's rapped sections."""
    from ..composer.melody import rapped

    return frozenset(bar for section in plan.sections if rapped(plan.style, section)
                     for bar in range(section.start_bar, section.start_bar + section.bars))


# ---------------------------------------------------------------- timing

def segments(notes: list[Note], seconds_per_beat: float, early_s: dict[int, float] | None = None,
             expressions: list[Expression] | None = None) -> list[Segment]:
    """Place every phoneme in time: vowels start on the beat, or `early_s[i]` seconds before it for
    the i-th note (in start order; negative: after it) when it follows a voiceless consonant (its
    own onset's, or the coda of the note just before), onset consonants before the vowel, codas at
    the end. Time a note needs before its beat is taken from the previous vowel's tail (keeping
    MIN_VOWEL_SHARE of it) and onset consonants keep MIN_CONSONANT_S."""
    out: list[Segment] = []
    previous_end = 0.0
    previous_vowel: Segment | None = None
    previous_pitch: float | None = None
    previous_coda: tuple = ()
    for index, note in enumerate(sorted(notes, key=lambda n: n.start_beats)):
        syllable = note.phones
        start = note.start_beats * seconds_per_beat
        end = note.end_beats * seconds_per_beat
        coda_s = min(MAX_CODA_SHARE * (end - start), sum(ms for _, ms in syllable.coda) / 1000.0)
        moves = ends_voiceless(syllable.onset) or (not syllable.onset and ends_voiceless(previous_coda)
                                                   and start - previous_end < JOINED_S)
        early = (early_s or {}).get(index, 0.0) if moves else 0.0
        onset_start = start - _lead_s(syllable.onset, early)
        if onset_start < previous_end:  # legato: shorten the previous note's tail, then this onset
            previous_end -= _cut_tail(out, previous_vowel, previous_end - onset_start)
            onset_start = max(onset_start, previous_end)
        if early > 0:
            early = min(early, max(0.0, start - onset_start - _shortest_onset_s(syllable.onset)))
        f0 = midi_hz(note.pitch)
        first = len(out)
        out += _spread(syllable.onset, onset_start, start - early, f0, index)
        vowel = Segment(syllable.vowel, start - early, end - coda_s,
                        _vowel_contour(end - coda_s - start + early, f0, previous_pitch, start - early - previous_end,
                                       max(0.0, early), expressions[index] if expressions else PLAIN),
                        note=index, beat_s=start if moves else None)
        out.append(vowel)
        out[first].syllable_start = True
        out += _spread(syllable.coda, end - coda_s, end, f0, index)
        previous_end, previous_vowel, previous_pitch, previous_coda = end, vowel, f0, syllable.coda
    return out


def _lead_s(onset: tuple, early_s: float) -> float:
    """How long before the beat a syllable starts: its onset consonants at their natural length
    (at most MAX_ONSET_S), squeezed when the vowel starts early (down to _shortest_onset_s, then
    starting earlier), moved later with the vowel when it starts late."""
    if not onset:  # a vowel after the last note's voiceless coda: it starts before the beat by itself
        return max(0.0, early_s)
    natural = _natural_onset_s(onset)
    return natural + early_s if early_s < 0 else max(natural, early_s + _shortest_onset_s(onset))


def _natural_onset_s(onset: tuple) -> float:
    return min(MAX_ONSET_S, sum(ms for _, ms in onset) / 1000.0)


def _shortest_onset_s(onset: tuple) -> float:
    """How short onset consonants may be squeezed: an aspirated stop to its burst (the aspiration
    is the vowel's), a fricative not at all, others (an affricate's noise says which it is) to
    KEEP_CONSONANT_SHARE."""
    if not onset:
        return 0.0
    if onset[-1][0] in ASPIRATED:
        return MIN_CONSONANT_S
    if onset[-1][0] in VOICELESS_FRICATIVES:
        return _natural_onset_s(onset)
    return max(MIN_CONSONANT_S, KEEP_CONSONANT_SHARE * _natural_onset_s(onset))


def _cut_tail(out: list[Segment], vowel: Segment | None, wanted_s: float) -> float:
    """Shorten `vowel` (and its coda) by up to `wanted_s`, keeping MIN_VOWEL_SHARE of it; how much."""
    if vowel is None:
        return 0.0
    keep = vowel.start_s + MIN_VOWEL_SHARE * (vowel.end_s - vowel.start_s)
    cut = min(wanted_s, max(0.0, vowel.end_s - keep))
    _shift_tail(out, vowel, cut)
    return cut


def _spread(phones: tuple, start: float, end: float, f0: float, note: int) -> list[Segment]:
    """Consonants share their span in proportion to their natural lengths."""
    total = sum(ms for _, ms in phones)
    if not phones or end <= start or total <= 0:
        return []
    segs, at = [], start
    for phoneme, ms in phones:
        length = (end - start) * ms / total
        segs.append(Segment(phoneme, at, at + length, [(0.0, f0)], note=note))
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


def _vowel_contour(length: float, f0: float, previous: float | None, gap: float, heard_from_s: float = 0.0,
                   expression: Expression = PLAIN) -> list[tuple[float, float]]:
    """Pitch targets over a vowel of `length` s that becomes voiced `heard_from_s` after its
    written start: from there a scoop in (or portamento from a close previous note), drift and
    vibrato on long ones."""
    if heard_from_s <= 0:
        return _voiced_contour(length, f0, previous, gap, expression)
    body = _voiced_contour(length - heard_from_s, f0, previous, gap, expression)
    return [(0.0, body[0][1])] + [(heard_from_s + t, f) for t, f in body]


def _voiced_contour(length: float, f0: float, previous: float | None, gap: float,
                    expression: Expression = PLAIN) -> list[tuple[float, float]]:
    cents = lambda c: 2 ** (c / 1200)  # noqa: E731
    if previous is not None and gap < 0.12 and abs(12 * np.log2(f0 / previous)) <= 5 and not expression.bent:
        arrive = min(PORTAMENTO_S, 0.3 * length)
        points = [(0.0, previous)]
    else:
        arrive = min(expression.scoop_s, 0.25 * length)
        points = [(0.0, f0 * cents(expression.scoop_cents))]
    if length > 0.3 and expression.overshoot_cents:
        points += [(arrive, f0 * cents(expression.overshoot_cents)), (min(arrive + 0.06, 0.5 * length), f0)]
    else:
        points.append((arrive, f0))
    start = points[-1][0] + 0.02
    if length > start + 0.1:
        times = np.arange(start, length, 0.02)
        drift = np.interp(times / DRIFT_STEP_S, np.arange(len(expression.drift_cents)), expression.drift_cents) \
            if expression.drift_cents else np.zeros_like(times)
        delay = expression.vibrato_delay_s
        depth = expression.vibrato_cents * np.clip((times - delay) / 0.25, 0.0, 1.0) if length > delay + 0.15 else 0 * times
        rate = expression.vibrato_hz * (1 + expression.vibrato_wander * np.sin(2 * np.pi * 0.7 * times))
        phase = 2 * np.pi * np.cumsum(rate * 0.02)
        phase -= phase[np.searchsorted(times, delay)] if delay < times[-1] else 0.0
        wobble = drift + depth * np.sin(phase)
        points += [(float(t), f0 * cents(float(c))) for t, c in zip(times, wobble)]
    points.append((length, points[-1][1]))
    return points


# ---------------------------------------------------------------- MBROLA

def pho_text(segs: list[Segment], rest_between_syllables: bool = False, broken: frozenset = frozenset()) -> str:
    """MBROLA's input: one phoneme per line with its length in ms and (position %, Hz) targets.
    Boundaries are rounded to whole milliseconds from the start, so no error accumulates. Two
    phonemes whose diphone the voice lacks (a pair in `broken`) are joined through a zero-length
    rest, as are all syllables with `rest_between_syllables`."""
    lines = []
    now_ms = 0
    previous = "_"
    for seg in segs:
        start_ms, end_ms = round(seg.start_s * 1000), round(seg.end_s * 1000)
        while start_ms > now_ms:  # MBROLA fails on a phoneme longer than about 10 s: rest in pieces
            rest = min(MAX_REST_MS, start_ms - now_ms)
            lines.append(f"_ {rest}")
            now_ms, previous = now_ms + rest, "_"
        length = end_ms - now_ms
        if length <= 0:
            continue
        if previous != "_" and ((rest_between_syllables and seg.syllable_start) or (previous, seg.phoneme) in broken):
            lines.append("_ 0")
        pairs = [f"{min(100.0, 100 * t / max(seg.end_s - seg.start_s, 1e-6)):.0f} {f:.1f}" for t, f in seg.hz]
        while len(f"{seg.phoneme} {length} " + " ".join(pairs)) > MAX_PHO_LINE_CHARS:  # a very long vowel:
            pairs = pairs[:-1:2] + pairs[-1:]  # every other target (MBROLA reads at most 1024 characters a line)
        lines.append(f"{seg.phoneme} {length} {' '.join(pairs)}".rstrip())
        now_ms, previous = end_ms, seg.phoneme
    lines.append("_ 50")
    return "\n".join(lines) + "\n"


def render_line(notes: list[Note], voice: Voice, seconds_per_beat: float, sample_rate: int, total_samples: int,
                *, streams: Streams | None = None, stem: str = "vocals", into: np.ndarray | None = None) -> np.ndarray:
    """One voice's notes, sung: rendered ONSET_PASSES times, each vowel moved after each render so
    that it becomes voiced on its beat, and once more where a voicing is still late (its aspiration
    cut, `aspiration_cuts`); then played back on the written clock (`TuningMap`), which
    puts every note on its written pitch. With `streams`, every note is sung with its own
    `Expression`. With `into` (float32, total_samples), the line is added into it, a block at a
    time, and `into` returned."""
    ordered = sorted(notes, key=lambda n: n.start_beats)
    expressions = [_bent(Expression.draw(streams.rng("expression", stem, voice.name, round(n.start_beats * 4))), n)
                   for n in ordered] if streams is not None else None
    tries: dict[int, list[tuple[float, float, float]]] = {}
    joins = Joins()
    for render in range(ONSET_PASSES):
        segs = segments(notes, seconds_per_beat, {note: next_early(seen) for note, seen in tries.items()}, expressions)
        tuning = TuningMap.for_segments(segs, voice.sample_rate)
        voice_audio = joins.sing(tuning.to_mbrola(segs), voice)
        _record_onsets(segs, voice_audio, voice.sample_rate, tries, tuning)
    cuts = aspiration_cuts(segs, tries)
    if cuts:  # the same segments, MBROLA's vowels longer by what playback skips
        tuning = TuningMap.for_segments(segs, voice.sample_rate, cuts)
        voice_audio = joins.sing(tuning.to_mbrola(segs), voice)
    # the resampled line goes straight into `play`, which lets it go once it has its padded copy
    return tuning.play(resampled(voice_audio, voice.sample_rate, sample_rate),
                       sample_rate=sample_rate, total_samples=total_samples, into=into,
                       gain=Envelope.of(notes, segs, seconds_per_beat, sample_rate, total_samples).block)


def resampled(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """`audio` (mono) at `to_rate`, float32, ceil(len * to_rate / from_rate) samples long:
    libsoxr's high-quality resampler (linear phase, its delay compensated)."""
    import soxr

    out = soxr.resample(np.asarray(audio, dtype=np.float32), from_rate, to_rate, quality="HQ")
    length = -(-len(audio) * to_rate // from_rate)
    return out[:length] if len(out) >= length else np.pad(out, (0, length - len(out)))


# ---------------------------------------------------------------- tuning

TUNING_GRID_S = 0.001
PLAY_BLOCK = 1 << 18


@dataclass(frozen=True)
class TuningMap:
    """MBROLA makes every pitch period a whole number of samples at the voice's rate, rounding
    the period down, so a note asked at f is sung at rate / floor(rate / f): up to 35 cents sharp
    (C5 on a 16 kHz voice; ../shared/findings/tuning-2026-11.md). Asked for the written contour,
    MBROLA is given a clock that runs slower by that ratio wherever the voice sings: its phonemes
    are made shorter by it, and its output, played back on the written clock (`play`), is
    stretched by exactly the ratio that lowers each period to the written pitch. Durations and
    onsets stay as written; the formants move by the same fraction (at most 2 %, inaudible)."""

    written_s: np.ndarray  # a grid on the written clock
    mbrola_s: np.ndarray  # the same instants on MBROLA's clock

    @classmethod
    def for_segments(cls, segs: list[Segment], voice_rate: int, cuts: tuple[tuple[float, float], ...] = ()) -> "TuningMap":
        """The map for `segs`; each (written s, skipped s) of `cuts` makes MBROLA's clock jump
        ahead there by that much, over CUT_S."""
        times = np.array([s.start_s + t for s in segs for t, _ in s.hz], dtype=np.float64)
        hz = np.array([f for s in segs for _, f in s.hz], dtype=np.float64)
        end_s = max((s.end_s for s in segs), default=0.0) + 0.1
        grid = np.arange(0.0, end_s + TUNING_GRID_S, TUNING_GRID_S)
        if times.size == 0:
            return cls(grid, grid.copy())
        order = np.argsort(times, kind="stable")
        asked = np.interp(grid, times[order], hz[order])  # MBROLA interpolates pitch points linearly
        sung = voice_rate / np.floor(voice_rate / asked)
        rate = asked / sung  # MBROLA seconds per written second (<= 1)
        mbrola = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(grid))])
        for at_s, skipped_s in cuts:
            mbrola += skipped_s * np.clip((grid - at_s) / CUT_S, 0.0, 1.0)
        return cls(grid, mbrola)

    def to_mbrola(self, segs: list[Segment]) -> list[Segment]:
        """The segments on MBROLA's clock: new boundaries, pitch points at the mapped instants."""
        instants = [t for seg in segs for t in (seg.start_s, seg.end_s, *(seg.start_s + at for at, _ in seg.hz))]
        mapped = iter(np.interp(instants, self.written_s, self.mbrola_s).tolist())  # at once: one call, not one an instant
        out = []
        for seg in segs:
            start, end = next(mapped), next(mapped)
            out.append(replace(seg, start_s=start, end_s=end, hz=[(next(mapped) - start, f) for _, f in seg.hz]))
        return out

    def to_mbrola_s(self, written_s: float) -> float:
        return float(np.interp(written_s, self.written_s, self.mbrola_s))

    def to_written_s(self, mbrola_s: float) -> float:
        return float(np.interp(mbrola_s, self.mbrola_s, self.written_s))

    def play(self, audio: np.ndarray, *, sample_rate: int, total_samples: int,
             gain: Callable[[int, int], np.ndarray] | None = None, into: np.ndarray | None = None) -> np.ndarray:
        """MBROLA's output (on its clock, at `sample_rate`) read on the written clock: `total_samples`
        samples, cubic (Catmull-Rom) interpolation, PLAY_BLOCK samples at a time (a long song's
        positions in float64 would cost 100 MB a minute), each block times `gain(start, end)`;
        added into `into` (float32, total_samples) when given, which is returned."""
        padded = np.pad(np.asarray(audio, dtype=np.float32), (1, 3))  # read past either end: silence
        del audio  # a long line is held once, padded, while it is played
        out = np.empty(total_samples, dtype=np.float32) if into is None else into
        for start in range(0, total_samples, PLAY_BLOCK):
            end = min(total_samples, start + PLAY_BLOCK)
            block = self._play_block(padded, start=start, end=end, sample_rate=sample_rate)
            if gain is not None:
                block *= gain(start, end)
            if into is None:
                out[start:end] = block
            else:
                out[start:end] += block
        return out

    def _play_block(self, padded: np.ndarray, *, start: int, end: int, sample_rate: int) -> np.ndarray:
        written = np.arange(start, end, dtype=np.float64) / sample_rate
        position = np.interp(written, self.written_s, self.mbrola_s, right=np.nan) * sample_rate
        beyond = np.isnan(position)  # after the map's end both clocks run alike
        position[beyond] = written[beyond] * sample_rate + (self.mbrola_s[-1] - self.written_s[-1]) * sample_rate
        index = np.floor(position).astype(np.int64)
        first, last = max(0, min(int(index.min()), len(padded))), min(len(padded), int(index.max()) + 4)
        if not padded[first:last].any():  # silence between lines: nothing to interpolate
            return np.zeros(end - start, dtype=np.float32)
        frac = (position - index).astype(np.float32)
        p0, p1, p2, p3 = (padded[np.clip(index + k, 0, len(padded) - 1)] for k in range(4))
        return p1 + 0.5 * frac * (p2 - p0 + frac * (2 * p0 - 5 * p1 + 4 * p2 - p3 + frac * (3 * (p1 - p2) + p3 - p0)))


@dataclass
class Joins:
    """The phoneme pairs of a line whose diphone its voice lacks, learnt as the line is sung."""
    broken: frozenset = frozenset()  # joined through a zero-length rest
    tried: frozenset = frozenset()

    def sing(self, segs: list[Segment], voice: Voice) -> np.ndarray:
        audio, missing = mbrola(pho_text(segs, voice.rest_between_syllables, self.broken), voice)
        if missing - self.tried:  # sing again, joining what the voice lacks through a rest
            self.tried |= missing
            try:
                audio, _ = mbrola(pho_text(segs, voice.rest_between_syllables, self.broken | missing), voice)
                self.broken |= missing
            except RenderError:  # a zero-length rest beside a phoneme the voice lacks altogether
                pass  # can make MBROLA give up: keep the render without the joins
        return audio


def mbrola(pho: str, voice: Voice) -> tuple[np.ndarray, frozenset]:
    """MBROLA's rendering of a .pho text: float32 samples at the voice's own rate, and the
    phoneme pairs whose diphone the voice lacks (MBROLA sings silence for those). The text goes
    in on its standard input and the raw samples come back on its output (the same samples as
    through files, without a folder made and removed a line)."""
    result = subprocess.run(["mbrola", "-e", str(voice.path), "-", "-"], input=pho.encode("ascii"),
                            capture_output=True, timeout=120)
    if result.returncode != 0 or len(result.stdout) % 2:
        raise RenderError(f"mbrola failed for voice {voice.name}: {result.stderr.decode(errors='replace')[:300]}")
    warnings = result.stderr.decode(errors="replace")
    missing = frozenset(tuple(d.split("-", 1)) for d in UNKNOWN_DIPHONE.findall(warnings) if d.count("-") == 1)
    return np.frombuffer(result.stdout, dtype="<i2").astype(np.float32) / 32768.0, missing


def _record_onsets(segs: list[Segment], audio: np.ndarray, sample_rate: int,
                   tries: dict[int, list[tuple[float, float, float]]], tuning: TuningMap) -> None:
    """For each vowel after a voiceless consonant, add (how early it started, how late it became
    voiced after its beat, the share of its written length before it did) to its note's tries.
    `audio` is MBROLA's, on its own clock; times are compared on the written one."""
    vowels = [s for s in segs if s.beat_s is not None]
    firsts = {s.note: s.start_s for s in reversed(segs)}
    lasts = {s.note: s.end_s for s in segs}
    windows = [(firsts[v.note], v.beat_s, lasts[v.note] - 0.02) for v in vowels]
    on_mbrola = [tuple(tuning.to_mbrola_s(t) for t in window) for window in windows]
    onsets = voicing_onsets_s(audio, sample_rate, on_mbrola)
    for vowel, onset in zip(vowels, onsets):
        if onset is not None:
            onset = tuning.to_written_s(onset)
            share = (onset - vowel.start_s) / (vowel.end_s - vowel.start_s)
            tries.setdefault(vowel.note, []).append((vowel.beat_s - vowel.start_s, onset - DETECTOR_DELAY_S - vowel.beat_s, share))


def next_early(tries: list[tuple[float, float, float]]) -> float:
    """How early to start a vowel next, from its (early, error, share) tries. MBROLA stretches
    the share of a vowel before its voicing with it, so moving the vowel by x moves the voicing
    by x * (1 - share): the first step. Then along the line through the last two tries, if
    moving the vowel moved its voicing; if not (as where a voice lacks the diphone), where it was."""
    early, error, share = tries[-1]
    step = error / (1.0 - min(MAX_STRETCH_SHARE, max(0.0, share)))
    if len(tries) > 1 and abs(early - tries[-2][0]) > 1e-3:
        slope = (error - tries[-2][1]) / (early - tries[-2][0])
        if slope > -MIN_FOLLOW:
            return tries[0][0]
        step = -error / slope
    return min(MAX_EARLY_S, max(-MAX_LATE_S, early + step))


def aspiration_cuts(segs: list[Segment], tries: dict[int, list[tuple[float, float, float]]]) -> tuple[tuple[float, float], ...]:
    """(written s, skipped s) for each vowel still voiced more than CUT_FROM_S after its beat at
    the last render: skipping x of its aspiration moves the voicing x * (1 - share) earlier (MBROLA
    stretches the share before it over the x it is made longer). The cut starts ASPIRATION_KEPT_S
    into the vowel and ends CUT_MARGIN_S before the voicing is expected, so only noise is cut."""
    cuts = []
    for vowel in (s for s in segs if s.beat_s is not None and s.note in tries):
        _, error, share = tries[vowel.note][-1]
        at_s = vowel.start_s + ASPIRATION_KEPT_S
        room_s = vowel.beat_s + error - at_s - CUT_S - CUT_MARGIN_S  # the voicing may move this much
        if error > CUT_FROM_S and room_s > 0:
            moved_s = min(error, room_s)
            cuts.append((at_s, moved_s / (1.0 - min(MAX_STRETCH_SHARE, max(0.0, share)))))
    return tuple(cuts)


@dataclass(frozen=True)
class Envelope:
    """Per-note loudness from velocity, with soft attacks and releases: each note's (first sample,
    past its release, level, attack samples, release samples), the gain where notes meet the
    louder one's. Made a block at a time (`block`): a long line's gain is never held whole."""
    notes: tuple[tuple[int, int, float, int, int], ...]

    @classmethod
    def of(cls, notes: list[Note], segs: list[Segment], seconds_per_beat: float, sample_rate: int,
           total_samples: int) -> "Envelope":
        ordered = sorted(notes, key=lambda n: n.start_beats)
        bounds = _note_bounds(segs, [n.start_beats * seconds_per_beat for n in ordered])
        out = []
        for note, (begin, end) in zip(ordered, bounds):
            a, b = max(0, int(begin * sample_rate)), min(total_samples, int(end * sample_rate))
            if b > a:
                release = min(int(RELEASE_S * sample_rate), total_samples - b)
                out.append((a, b + release, (note.velocity / 100.0) ** 1.5, min(b - a, int(0.012 * sample_rate)), release))
        return cls(tuple(sorted(out)))

    def block(self, start: int, end: int) -> np.ndarray:
        """The gain over samples [start, end), float32."""
        gain = np.zeros(end - start, dtype=np.float32)
        for a, stop, level, ramp_in, release in self.notes:
            if a >= end:
                break
            lo, hi = max(a, start), min(stop, end)
            if hi <= lo:
                continue
            shape = np.full(hi - lo, level, dtype=np.float32)
            if lo < a + ramp_in:
                top = min(hi, a + ramp_in)
                shape[:top - lo] *= np.linspace(0.2, 1.0, ramp_in)[lo - a:top - a]
            if hi > stop - release:
                first = max(lo, stop - release)
                shape[first - lo:] *= np.linspace(1.0, 0.0, release)[first - (stop - release):hi - (stop - release)]
            gain[lo - start:hi - start] = np.maximum(gain[lo - start:hi - start], shape)
        return gain


def _note_bounds(segs: list[Segment], starts: list[float]) -> list[tuple[float, float]]:
    """Each note's sounding span: from its first onset consonant to its last coda consonant, or on
    to the next note's onset when that one follows without a rest."""
    spans = [(float("inf"), float("-inf"))] * len(starts)
    for seg in segs:
        begin, end = spans[seg.note]
        spans[seg.note] = (min(begin, seg.start_s), max(end, seg.end_s))
    bounds = []
    for i, (begin, end) in enumerate(spans):
        if begin > end:
            bounds.append((starts[i], starts[i]))
            continue
        joined = i + 1 < len(starts) and spans[i + 1][0] <= end + 1e-3
        bounds.append((begin, max(end, starts[i + 1]) if joined else end))
    return bounds


def breaths(notes: list[Note], seconds_per_beat: float, sample_rate: int, total_samples: int,
            streams: Streams) -> np.ndarray:
    """A soft breath before each phrase that follows a rest long enough to breathe in; each
    breath's noise from its own stream, named by the sixteenth its phrase starts on."""
    out = np.zeros(total_samples, dtype=np.float32)
    from ..audio.filters import butterworth_power, zero_phase

    def band(hz: np.ndarray) -> np.ndarray:  # breath noise: a 2nd-order Butterworth band pass's spectrum
        return butterworth_power(hz, sample_rate=sample_rate, order=2, low_hz=BREATH_BAND_HZ[0], high_hz=BREATH_BAND_HZ[1])

    ordered = sorted(notes, key=lambda n: n.start_beats)
    previous_end = -1.0
    for note in ordered:
        start = note.start_beats * seconds_per_beat - MAX_ONSET_S
        if note.phrase_start and start - previous_end > BREATH_S + 0.15:
            length = int(BREATH_S * sample_rate)
            a = int((start - BREATH_S - 0.04) * sample_rate)
            if 0 <= a < total_samples:  # (a passage of a song may end during one)
                rng = streams.rng("breath", round(note.start_beats * 4))
                noise = zero_phase(rng.standard_normal(length), band, sample_rate=sample_rate, squared=False).astype(np.float32)
                breath = BREATH_GAIN * noise * np.hanning(length).astype(np.float32)
                out[a:a + length] += breath[:total_samples - a]
        previous_end = note.end_beats * seconds_per_beat
    return out
