"""Comping idioms: strums, stabs, arpeggios, pads, skanks... Each writes one bar of one part."""

from __future__ import annotations

from collections.abc import Callable

from ..score import Part
from .common import Bar
from .voicing import close_voicing, guitar_voicing, power_voicing

STRUM_SPREAD_BEATS = 0.025


class Comper:
    """Writes a part bar by bar, remembering its last voicing for smooth voice leading."""

    def __init__(self, part: Part, idiom: str, center: int):
        self.part = part
        self.write = COMP_IDIOMS[idiom]
        self.center = center
        self.previous: list[int] | None = None

    def voicing(self, bar: Bar, notes: int = 4) -> list[int]:
        self.previous = close_voicing(bar.chord, self.center, notes, self.previous)
        return self.previous

    def bar(self, bar: Bar) -> None:
        self.write(self, bar)

    def hit(self, bar: Bar, step: float, length_steps: float, pitches: list[int], velocity: int,
            spread: float = 0.0) -> None:
        for i, pitch in enumerate(pitches):
            offset = i * spread
            self.part.add(bar.at(step) + offset, max(0.05, length_steps * 0.25 - offset), pitch,
                          bar.velocity(velocity - 3 * i * (spread > 0)))


def strum(c: Comper, bar: Bar) -> None:
    pitches = guitar_voicing(bar.chord, 40)
    pattern = {16: [(0, 4, 100), (4, 2, 84), (6, 4, 92), (10, 2, 80), (12, 2, 90), (14, 2, 80)],
               12: [(0, 4, 100), (4, 4, 84), (8, 4, 86)]}[bar.steps]
    if bar.energy < 0.6:
        pattern = [(s, 8 if bar.steps == 16 else 6, v) for s, _, v in pattern if s % 8 == 0]
    for i, (step, length, velocity) in enumerate(pattern):
        up = i % 2 == 1
        c.hit(bar, step, length, pitches[::-1] if up else pitches, velocity - (8 if up else 0), STRUM_SPREAD_BEATS)


def offbeat_stabs(c: Comper, bar: Bar) -> None:
    pitches = c.voicing(bar, 3)
    for step in range(2, bar.steps, 4):
        c.hit(bar, step, 1, pitches, 96)
    if bar.energy > 0.8 and bar.steps == 16:
        c.hit(bar, 7, 0.5, pitches, 70)
        c.hit(bar, 15, 0.5, pitches, 70)


def skank(c: Comper, bar: Bar) -> None:
    pitches = c.voicing(bar, 3)
    for step in range(4, bar.steps, 8):
        c.hit(bar, step, 1.2, pitches, 98)


def bubble(c: Comper, bar: Bar) -> None:
    pitches = c.voicing(bar, 3)
    for step in range(2, bar.steps, 4):
        c.hit(bar, step, 1.5, pitches, 70)


def arpeggio(c: Comper, bar: Bar) -> None:
    chord = c.voicing(bar, 4)
    order = chord + [chord[0] + 12] + chord[1:3][::-1]
    stride = 1 if bar.energy > 0.85 else 2
    for i, step in enumerate(range(0, bar.steps, stride)):
        c.part.add(bar.at(step), stride * 0.25 * 0.9, order[i % len(order)], bar.velocity(88 if step % 4 == 0 else 72))


def pad(c: Comper, bar: Bar) -> None:
    c.hit(bar, 0, bar.steps, c.voicing(bar, 4), 78)


def horn_stabs(c: Comper, bar: Bar) -> None:
    """A horn section's figure (funk's brass; disco's strings stab alike): a stab on the one,
    another on its last 16th, and a longer one on the & of 2 (held chords in a bar of 12 steps)."""
    if bar.steps != 16:
        return pad(c, bar)
    pitches = c.voicing(bar, 3)
    for step, length_steps, velocity in ((0, 1, 100), (3, 1, 92), (6, 2, 104)):
        c.hit(bar, step, length_steps, pitches, velocity)


def block(c: Comper, bar: Bar) -> None:
    pitches = c.voicing(bar, 4)
    if bar.steps == 12:
        c.hit(bar, 0, 4, [pitches[0] - 12], 86)
        c.hit(bar, 4, 4, pitches, 72)
        c.hit(bar, 8, 4, pitches, 70)
        return
    c.hit(bar, 0, 8, pitches, 86)
    c.hit(bar, 8, 6 if bar.energy > 0.8 else 8, pitches, 78)
    if bar.energy > 0.8:
        c.hit(bar, 14, 2, pitches, 70)


def stabs(c: Comper, bar: Bar) -> None:
    pitches = c.voicing(bar, 4)
    for step, velocity in ((0, 96), (6, 84), (10, 80)) if bar.steps == 16 else ((0, 96), (6, 84)):
        c.hit(bar, step, 1.5, pitches, velocity)


def _power_or_quality(bar: Bar) -> list[int]:
    """Root, fifth and octave; a chart's chord gets its written quality (third, seventh...) too."""
    return guitar_voicing(bar.chord, 40)[:4] if bar.charted else power_voicing(bar.chord, 40)


def power(c: Comper, bar: Bar) -> None:
    pitches = _power_or_quality(bar)
    if bar.energy < 0.8:  # palm-muted eighths
        for step in range(0, bar.steps, 2):
            c.hit(bar, step, 1, pitches[:2], 92 if step % 4 == 0 else 80)
    else:
        c.hit(bar, 0, 6, pitches, 104)
        c.hit(bar, 6, 2, pitches, 92)
        c.hit(bar, 8, bar.steps - 8, pitches, 98)


def chug(c: Comper, bar: Bar) -> None:
    pitches = _power_or_quality(bar)
    for step in range(0, bar.steps, 2 if bar.energy < 0.9 else 1):
        c.hit(bar, step, 0.8, pitches if bar.charted else pitches[:2], 104 if step % 4 == 0 else 88)


def jazz_comp(c: Comper, bar: Bar) -> None:
    pitches = c.voicing(bar, 4)
    rhythm = [(0, 5, 82), (6, 2, 76)] if bar.position % 2 == 0 else [(2, 2, 74), (10, 4, 80)]
    for step, length, velocity in rhythm:
        if step < bar.steps:
            c.hit(bar, step, length, pitches, velocity, 0.01)


BOSSA_CHORD_STEPS = ((0, 6, 12), (4, 10))


def bossa_comp(c: Comper, bar: Bar) -> None:
    pitches = c.voicing(bar, 4)
    low = guitar_voicing(bar.chord, 40)[0]
    for step in (0, 8):
        if step < bar.steps:
            c.part.add(bar.at(step), 1.6, low, bar.velocity(80))
    for step in BOSSA_CHORD_STEPS[bar.position % 2]:  # the clave in 8ths, over two bars
        if step < bar.steps:
            c.hit(bar, step, 3.0, pitches, 74, 0.008)


def sparse_keys(c: Comper, bar: Bar) -> None:
    pitches = c.voicing(bar, 4)
    c.hit(bar, 0, bar.steps - 3, pitches, 80, 0.02)
    if bar.energy > 0.7 and bar.steps == 16:
        c.hit(bar, 14, 2, pitches[1:], 66)


def ostinato(c: Comper, bar: Bar) -> None:
    root = close_voicing(bar.chord, c.center - 7, 3)[0]
    figure = [root, root + 7, root + 12, root + 7]
    if bar.charted:  # a chart's chord: up and down its own tones
        tones = sorted(root + (pc - root) % 12 for pc in bar.chord.pitch_classes())
        figure = (tones * 2)[:3] + [(tones * 2)[1]]
    for i, step in enumerate(range(0, bar.steps, 2)):
        c.part.add(bar.at(step), 0.45, figure[i % 4], bar.velocity(86 if step % 4 == 0 else 74))


def shuffle_comp(c: Comper, bar: Bar) -> None:
    root = power_voicing(bar.chord, 40)[0]
    third = next((i for i in bar.chord.intervals if i in (2, 3, 4, 5)), 4)
    fifth = next((i for i in bar.chord.intervals if i in (6, 7, 8)), 7)
    for beat in range(bar.beats):
        upper = root + ((third + 12 if beat % 2 else fifth) if bar.charted else (9 if beat % 2 else 7))
        for half, velocity in ((0.0, 92), (0.5, 78)):
            c.part.add(bar.start + beat + half, 0.45, root, bar.velocity(velocity))
            c.part.add(bar.start + beat + half, 0.45, upper, bar.velocity(velocity - 6))


COMP_IDIOMS: dict[str, Callable[[Comper, Bar], None]] = {
    f.__name__: f
    for f in (strum, offbeat_stabs, skank, bubble, arpeggio, pad, horn_stabs, block, stabs, power, chug, jazz_comp,
              bossa_comp, sparse_keys, ostinato, shuffle_comp)
}
