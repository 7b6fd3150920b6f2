"""Bass lines in each genre's idiom. Every idiom writes one bar from its chord."""

from __future__ import annotations

from collections.abc import Callable

from ..score import Part
from ..theory import Chord, nearest_pitch
from .common import Bar
from .voicing import bass_root

BASS_CENTER = 38  # D2


def _third(chord: Chord) -> int:
    return next((i for i in chord.intervals if i in (3, 4)), 4)


def _fifth(chord: Chord) -> int:
    return next((i for i in chord.intervals if i in (6, 7, 8)), 7)


def _interval(chord: Chord, name: str) -> int:
    return {"R": 0, "3": _third(chord), "5": _fifth(chord), "O": 12, "b7": 10, "6": 9, "-5": _fifth(chord) - 12}[name]


def _play(part: Part, bar: Bar, pattern: list[tuple[int, str, int, int]]) -> None:
    """pattern: (step, interval name, length in steps, velocity)."""
    root = bass_root(bar.chord, BASS_CENTER)
    for step, name, length, velocity in pattern:
        if step >= bar.steps:
            continue
        if bar.chord.bass_pc is not None:  # a slash chord: its bass note and octave only
            name = "O" if name == "O" else "R"
        length = min(length, bar.steps - step)
        part.add(bar.at(step), length * 0.25 * 0.92, root + _interval(bar.chord, name), bar.velocity(velocity))


def root_eighths(part: Part, bar: Bar) -> None:
    pattern = [(s, "R", 2, 100 if s % 4 == 0 else 86) for s in range(0, bar.steps, 2)]
    if bar.energy > 0.8 and bar.steps == 16:
        pattern[-1] = (14, "5", 2, 90)
    _play(part, bar, pattern)


def root_long(part: Part, bar: Bar) -> None:
    pattern = [(0, "R", bar.steps, 96)]
    if bar.energy > 0.8 and bar.steps == 16:
        pattern = [(0, "R", 8, 96), (8, "5", 6, 88), (14, "R", 2, 80)]
    _play(part, bar, pattern)


def root_fifth(part: Part, bar: Bar) -> None:
    if bar.steps == 16:
        _play(part, bar, [(0, "R", 4, 100), (8, "-5", 4, 90)] + ([(14, "3", 2, 80)] if bar.energy > 0.9 else []))
    else:
        _play(part, bar, [(0, "R", 4, 100), (4, "5", 4, 80), (8, "5", 4, 78)])


def funk16(part: Part, bar: Bar) -> None:
    variants = [
        [(0, "R", 2, 112), (3, "R", 1, 80), (6, "O", 1, 96), (7, "b7", 1, 70), (8, "R", 2, 100), (10, "R", 1, 70),
         (11, "5", 1, 84), (13, "R", 1, 90), (14, "O", 1, 96), (15, "b7", 1, 76)],
        [(0, "R", 3, 112), (3, "O", 1, 88), (5, "R", 1, 76), (6, "5", 2, 92), (8, "R", 1, 100), (10, "O", 1, 90),
         (12, "R", 2, 96), (14, "b7", 1, 84), (15, "5", 1, 78)],
    ]
    _play(part, bar, variants[bar.position % 2] if bar.steps == 16 else variants[0][:7])


LOWEST_BASS = 28  # E1, a four-string bass's open E


def walking(part: Part, bar: Bar) -> None:
    """Quarter notes that walk: the root on 1, then steps through chord and passing tones towards
    the next chord, and a chromatic or scale approach into its root on the last beat."""
    rng = bar.rng("bass")
    root = bass_root(bar.chord, BASS_CENTER)
    root = root + 12 if root < LOWEST_BASS + 3 else root
    target = nearest_pitch(bar.next_chord.root_pc, root)
    target = target + 12 if target < LOWEST_BASS + 1 else target
    approach = target + (1 if rng.random() < 0.5 else -1) if target != root else target + (2 if rng.random() < 0.5 else -1)
    line = [root]
    tones = sorted({root + i for i in bar.chord.intervals if i < 12} | {root + 12, root - 12 + _fifth(bar.chord)})
    for beat in range(1, bar.beats - 1):
        previous = line[-1]
        toward = 1 if approach > previous else -1
        steps = [p for p in tones if 1 <= (p - previous) * toward <= 5 and p != approach] or \
                [previous + toward * (2 if rng.random() < 0.6 else 1)]
        line.append(max(LOWEST_BASS, min(steps, key=lambda p: abs(p - previous)) if rng.random() < 0.7 else steps[-1]))
    if bar.beats > 1:
        line.append(max(LOWEST_BASS, approach))
    for beat, pitch in enumerate(line):
        part.add(bar.start + beat, 0.9, pitch, bar.velocity(96 if beat == 0 else 84))


def one_drop(part: Part, bar: Bar) -> None:
    _play(part, bar, [(0, "R", 5, 100), (6, "3", 2, 84), (8, "5", 3, 92), (12, "R", 3, 88)])


def sub808(part: Part, bar: Bar) -> None:
    hits = [0, 7, 10] if bar.steps == 16 else [0, 6]
    for i, step in enumerate(hits):
        end = hits[i + 1] if i + 1 < len(hits) else bar.steps
        name = "R" if i != 2 or bar.energy < 0.9 else "O"
        _play(part, bar, [(step, name, end - step, 110 if i == 0 else 96)])


GLIDE_CHANCE = 0.5  # of the bars whose next chord has another root
GLIDE_OVERLAP_BEATS = 0.2  # the held note overlaps the next one: the synth slides between them
GLIDE_MS = 180


def sub808_glide(part: Part, bar: Bar) -> None:
    """Trap's 808: the sub pattern, and before a new root the last note held into the next bar's
    first, so the 808 slides to it (legato under portamento: `Part.portamento_ms`)."""
    sub808(part, bar)
    moves = bass_root(bar.next_chord, BASS_CENTER) != bass_root(bar.chord, BASS_CENTER)
    if moves and not bar.last_in_section and bar.rng("bass").random() < GLIDE_CHANCE:
        last = part.notes[-1]
        last.duration_beats = bar.start + bar.beats - last.start_beats + GLIDE_OVERLAP_BEATS


def offbeat_pulse(part: Part, bar: Bar) -> None:
    pattern = [(s, "R", 2, 100) for s in range(2, bar.steps, 4)]
    if bar.energy > 0.9:
        pattern += [(s, "O", 1, 80) for s in range(3, bar.steps, 8)]
    _play(part, bar, sorted(pattern))


def pulse_eighths(part: Part, bar: Bar) -> None:
    _play(part, bar, [(s, "R", 2, 104 if s % 4 == 0 else 84) for s in range(0, bar.steps, 2)])


def octaves(part: Part, bar: Bar) -> None:
    _play(part, bar, [(s, "R" if (s // 2) % 2 == 0 else "O", 2, 100 if s % 4 == 0 else 92) for s in range(0, bar.steps, 2)])


def gallop(part: Part, bar: Bar) -> None:
    pattern = []
    for beat_step in range(0, bar.steps, 4):
        pattern += [(beat_step, "R", 2, 108), (beat_step + 2, "R", 1, 92), (beat_step + 3, "R", 1, 92)]
    _play(part, bar, pattern)


def rnb_syncopated(part: Part, bar: Bar) -> None:
    _play(part, bar, [(0, "R", 3, 100), (3, "R", 1, 76), (6, "5", 2, 88), (10, "R", 2, 92), (14, "b7", 2, 80)])


def bossa(part: Part, bar: Bar) -> None:
    _play(part, bar, [(0, "R", 6, 96), (6, "-5", 2, 84), (8, "-5", 6, 90), (14, "R", 2, 82)])


def drone(part: Part, bar: Bar) -> None:
    """A tonic pedal under the changing chords (ambient, cinematic beds)."""
    tonic = nearest_pitch(bar.tonic_pc, BASS_CENTER)
    part.add(bar.start, bar.beats * 0.98, tonic, bar.velocity(90))
    if bar.energy > 0.9:
        part.add(bar.start + bar.beats / 2, bar.beats / 2 * 0.95, tonic + 7, bar.velocity(70))


GLIDING_IDIOMS = {"sub808_glide": GLIDE_MS}  # idiom -> portamento time of its part

BASS_IDIOMS: dict[str, Callable[[Part, Bar], None]] = {
    f.__name__: f
    for f in (root_eighths, root_long, root_fifth, funk16, walking, one_drop, sub808, sub808_glide, offbeat_pulse,
              pulse_eighths, octaves, gallop, rnb_syncopated, bossa, drone)
}
