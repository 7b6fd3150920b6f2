"""The symbolic song: Score -> Part -> Note, times in quarter-note beats."""

from __future__ import annotations

from dataclasses import dataclass, field

STEMS = ("drums", "bass", "keys", "guitar", "strings", "lead", "vocals", "harmony")


@dataclass
class Note:
    start_beats: float
    duration_beats: float
    pitch: int
    velocity: int
    syllable: str | None = None  # sung text, on vocal notes only
    word_start: bool = False  # first syllable of a word
    phrase_start: bool = False  # first syllable of a lyric phrase
    phones: object = None  # the singer's SungSyllable for this note
    voice: str | None = None  # the MBROLA voice that sings it
    bar: int | None = None  # the bar it was written for, before any humanising (a line's: its first bar)
    line: int | None = None  # which line of its part a melody note belongs to (vocal and lead lines)
    bend_cents: float = 0.0  # sung from this far below, bent up into the pitch (a blue note)

    @property
    def end_beats(self) -> float:
        return self.start_beats + self.duration_beats


def midi_velocity(value: float) -> int:
    """`value` as a MIDI velocity: into 1..127, rounded toward zero (plain min and max: np.clip on
    one number costs 5 us, and a song sets 9,000 velocities)."""
    return int(max(1, min(127, value)))


@dataclass
class Part:
    name: str
    stem: str
    program: int  # GM program, 0-based; for drums, the kit preset of bank 128
    is_drum: bool = False
    notes: list[Note] = field(default_factory=list)
    pan: int = 64  # MIDI CC10
    volume: int = 100  # MIDI CC7
    portamento_ms: int = 0  # > 0: overlapping notes slide from one pitch to the next (CC65, CC5/37)

    def add(self, start_beats: float, duration_beats: float, pitch: int, velocity: int, **kw) -> Note:
        note = Note(start_beats, duration_beats, int(pitch), midi_velocity(velocity), **kw)
        self.notes.append(note)
        return note


@dataclass
class Score:
    tempo_bpm: float
    time_signature: str
    key_name: str
    total_beats: float
    parts: list[Part] = field(default_factory=list)
    markers: list[tuple[float, str]] = field(default_factory=list)  # (beat, section label)

    def part(self, name: str) -> Part | None:
        return next((p for p in self.parts if p.name == name), None)

    def seconds(self, beats: float) -> float:
        return beats * 60.0 / self.tempo_bpm

    @property
    def stems(self) -> list[str]:
        used = {p.stem for p in self.parts if p.notes}
        return [s for s in STEMS if s in used]
