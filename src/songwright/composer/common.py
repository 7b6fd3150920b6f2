"""What every part writer gets for one bar."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..charts import ChordSpan
from ..plan import Plan, Section
from ..score import midi_velocity
from ..streams import Streams
from ..theory import Chord


@dataclass
class Bar:
    index: int  # bar number in the song
    start: float  # beats
    beats: int  # quarter-note beats in the bar
    steps: int  # sixteenths in the bar
    chord: Chord
    next_chord: Chord
    section: Section
    position: int  # bar number inside its section
    energy: float  # 0..1.3, sets velocities and density
    streams: Streams
    tonic_pc: int
    take: int | None = None  # the retake that wrote this bar anew, if one did
    spans: tuple[ChordSpan, ...] = ()  # a bar played from the chart: its chords, in beats from its start
    charted: bool = False  # one chord of a chart: voice its written quality, never a bare fifth
    _rngs: dict[str, np.random.Generator] = field(default_factory=dict, repr=False)

    def rng(self, part: str) -> np.random.Generator:
        """This bar's own random stream for one part (the same generator for the whole bar)."""
        if part not in self._rngs:
            retake = ("take", self.take) if self.take is not None else ()
            self._rngs[part] = self.streams.rng(part, *section_place(self.section), self.position, *retake)
        return self._rngs[part]

    def at(self, step: float) -> float:
        """Beat time of a sixteenth step inside this bar."""
        return self.start + step * 0.25

    @property
    def last_in_section(self) -> bool:
        return self.position == self.section.bars - 1

    def velocity(self, base: int) -> int:
        return midi_velocity(base * (0.72 + 0.3 * self.energy))


def section_place(section: Section) -> tuple[str, int]:
    """Where a section is, for naming its random streams: its kind and which one of that kind."""
    return section.kind, section.occurrence


def bars_of(plan: Plan, streams: Streams) -> list[Bar]:
    """Every content bar of the song; each part draws from the bar's own stream (`Bar.rng`)."""
    bars = []
    for section in plan.sections:
        for position in range(section.bars):
            index = section.start_bar + position
            chord = section.chords[position]
            next_chord = plan.chord_at_bar(index + 1)
            energy = section.energy + 0.25 * plan.style.energy
            if section.kind == "outro":
                energy *= 1.0 - 0.5 * position / max(1, section.bars)
            elif section.kind == "intro":
                energy *= 0.8 + 0.4 * position / max(1, section.bars)
            spans = plan.spans_of_bar(index)  # a chart's chords, or a turnaround's two
            spans = spans if section.spans is not None or len(spans) > 1 else ()
            bars.append(Bar(index, index * plan.beats_per_bar, plan.beats_per_bar, plan.steps_per_bar,
                            chord, next_chord, section, position, energy, streams, plan.key.tonic_pc,
                            take=plan.takes.get(index), spans=spans))
    return bars
