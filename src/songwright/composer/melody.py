"""Melodies: the vocal line (a note per syllable) and the lead in instrumental sections.

A phrase gets a rhythm that fits its syllables into its bars with a breath at the end, and a
pitch arc: chord tones on strong beats, scale steps between them, a long last note that rests on
the tonic at the end of the song. A chorus keeps its melody every time it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..lyrics import Phrase, syllable_stress
from ..plan import Plan, Section
from ..score import Part
from ..singer.voices import VOICES
from ..streams import Streams
from ..styles import StyleProfile
from ..theory import nearest_pitch
from .common import section_place

VOCAL_RANGES = {"female": (57, 77, 67), "male": (45, 65, 55)}  # low, high, centre (MIDI)
LEAD_RANGE = (62, 84, 72)
MALE_GENRES = {"rock", "metal", "blues", "country", "hiphop", "trap", "reggae"}


@dataclass(frozen=True)
class Tone:
    offset_beats: float  # from the phrase's first downbeat
    duration_beats: float
    pitch: int


def voice_gender(style: StyleProfile) -> str:
    if style.voice_gender:
        return style.voice_gender
    return "male" if style.groove_genre in MALE_GENRES else "female"


def phrase_rhythm(notes: int, room_beats: float, rng: np.random.Generator) -> list[tuple[float, float]]:
    """(offset, duration) for `notes` notes inside `room_beats`, on a beat, eighth or 16th grid."""
    unit = next((u for u in (1.0, 0.5, 0.25) if notes * u <= room_beats), 0.25)
    durations = [unit] * notes
    spare = room_beats - unit * notes
    last_cap = 2.0 if unit < 1.0 else 3.0
    grow_last = min(spare, last_cap - unit)
    grow_last -= grow_last % unit
    durations[-1] += grow_last
    spare -= grow_last
    lead_in = 0.0
    if spare >= 2 * unit and rng.random() < 0.35:
        lead_in = unit  # start on the offbeat now and then
        spare -= unit
    while spare >= unit - 1e-9 and notes > 1:
        i = int(rng.integers(notes - 1))
        durations[i] += unit
        spare -= unit
    timings, at = [], lead_in
    for d in durations:
        timings.append((at, d))
        at += d
    return timings


CONTOURS = {
    "arch": lambda t: np.sin(np.pi * t),
    "rise": lambda t: t - 0.3,
    "fall": lambda t: 0.7 - t,
    "valley": lambda t: -np.sin(np.pi * t) + 0.4,
    "wave": lambda t: np.sin(2 * np.pi * t) * 0.6,
}


def phrase_pitches(plan: Plan, start_beat: float, rhythm: list[tuple[float, float]], low: int, high: int,
                   centre: int, ending: str, rng: np.random.Generator) -> list[int]:
    """Chord tones on the beats, passing and neighbour tones between them, along a contour."""
    scale_pcs = set(plan.key.scale)
    scale = [p for p in range(low, high + 1) if p % 12 in scale_pcs]
    shape = CONTOURS[list(CONTOURS)[int(rng.integers(len(CONTOURS)))]]
    height = float(rng.uniform(3, 8))
    shift = float(rng.uniform(-3, 3))
    total = max(rhythm[-1][0], 1e-6)
    pitches: list[int] = []
    for i, (offset, _) in enumerate(rhythm):
        beat = start_beat + offset
        chord = plan.chord_at_bar(int(beat // plan.beats_per_bar))
        target = centre + shift + height * shape(offset / total)
        last = i == len(rhythm) - 1
        on_beat = abs(offset - round(offset)) < 1e-6
        if last and ending == "tonic":
            pitch = nearest_pitch(plan.key.tonic_pc, int(round(centre - 1)))
        elif on_beat or last or not pitches:
            tones = chord.tones(low, high) or scale
            if last:  # an open phrase end rests on the third or fifth
                tones = [p for p in tones if (p - chord.root_pc) % 12 in (3, 4, 7)] or tones
            repeat_cost = 0.0 if rng.random() < 0.25 else 1.5
            pitch = min(tones, key=lambda p: abs(p - target) + (0 if not pitches else
                        0.3 * abs(p - pitches[-1]) + repeat_cost * (p == pitches[-1])))
        else:
            pitch = _step(scale, pitches[-1], target, rng)
        pitches.append(int(np.clip(pitch, low, high)))
    return pitches


def _step(scale: list[int], previous: int, target: float, rng: np.random.Generator) -> int:
    """One scale step towards the target (a passing tone), or a neighbour tone when there."""
    index = min(range(len(scale)), key=lambda i: abs(scale[i] - previous))
    if abs(target - previous) < 1.5:
        direction = 1 if rng.random() < 0.5 else -1
    else:
        direction = 1 if target > previous else -1
    if rng.random() < 0.15:
        return scale[index]  # a repeated note now and then
    return scale[max(0, min(len(scale) - 1, index + direction))]


def pickup(tones: list[Tone], stress: list[bool], start_beat: float) -> list[Tone]:
    """An unstressed first syllable before a stressed one ("to-NIGHT", "the MOON") is sung as a
    pickup before the bar line, so the stress lands on the downbeat."""
    if len(tones) < 2 or len(stress) < 2 or stress[0] or not stress[1] or tones[0].offset_beats != 0:
        return tones
    shift = tones[1].offset_beats
    if shift > 1.0 or shift > start_beat:
        return tones
    moved = [Tone(t.offset_beats - shift, t.duration_beats, t.pitch) for t in tones]
    last = moved[-1]
    moved[-1] = Tone(last.offset_beats, last.duration_beats + shift, last.pitch)  # keep the phrase's end
    return moved


class MelodyWriter:
    """Writes phrases into a part and remembers them, so a returning chorus sings the same tune."""

    def __init__(self, plan: Plan, part: Part, low: int, high: int, centre: int, streams: Streams):
        self.plan = plan
        self.part = part
        self.low, self.high, self.centre = low, high, centre
        self.streams = streams
        self.memory: dict[tuple, list[Tone]] = {}

    def phrase_rng(self, section: Section, index: int) -> np.random.Generator:
        """The random stream of one phrase of this part: phrase `index` of that section."""
        return self.streams.rng(f"melody/{self.part.name}", *section_place(section), index)

    def tones(self, section: Section, index: int, notes: int, start_beat: float, bars: int, ending: str,
              rng: np.random.Generator) -> list[Tone]:
        key = (section.kind, index, notes, bars)
        remembered = self.memory.get(key)
        if remembered is not None and section.kind in ("chorus", "hook") and ending != "tonic":
            return remembered
        beats = bars * self.plan.beats_per_bar
        room = beats - (1.0 if bars >= 2 else 0.5)
        if remembered is not None:  # a returning verse: same rhythm, some new notes
            rhythm = [(t.offset_beats, t.duration_beats) for t in remembered]
        else:
            rhythm = phrase_rhythm(notes, room, rng)
        pitches = phrase_pitches(self.plan, start_beat, rhythm, self.low, self.high, self.centre, ending, rng)
        if remembered is not None and ending != "tonic":
            keep = rng.random(len(pitches)) < 0.6
            pitches = [old.pitch if k else new for old, new, k in zip(remembered, pitches, keep)]
        tones = [Tone(o, d, p) for (o, d), p in zip(rhythm, pitches)]
        self.memory.setdefault(key, tones)
        return tones

    def sing(self, section: Section, phrase: Phrase, index: int, start_bar: int, bars: int, ending: str,
             velocity: int) -> None:
        syllables = [(s, j == 0, w.phones[j] if w.phones else None, w.voice)
                     for w in phrase.words for j, s in enumerate(w.syllables)]
        stress = [st for w in phrase.words for st in syllable_stress(w)]
        start_beat = start_bar * self.plan.beats_per_bar
        rng = self.phrase_rng(section, index)
        tones = pickup(self.tones(section, index, len(syllables), start_beat, bars, ending, rng), stress, start_beat)
        for i, (tone, (syllable, word_start, phones, voice)) in enumerate(zip(tones, syllables)):
            accent = 8 if abs(tone.offset_beats % 1) < 1e-6 else 0
            self.part.add(start_beat + tone.offset_beats, tone.duration_beats * 0.95, tone.pitch,
                          velocity + accent, syllable=syllable, word_start=word_start, phrase_start=i == 0,
                          phones=phones, voice=voice)

    def play(self, section: Section, index: int, start_bar: int, bars: int, ending: str, velocity: int) -> None:
        rng = self.phrase_rng(section, index)
        notes = int(rng.integers(4, 7)) * bars
        notes = min(notes, bars * self.plan.beats_per_bar * 2 - 2)
        start_beat = start_bar * self.plan.beats_per_bar
        for tone in self.tones(section, index, notes, start_beat, bars, ending, rng):
            self.part.add(start_beat + tone.offset_beats, tone.duration_beats * 0.9, tone.pitch, velocity)


def write_vocals(plan: Plan, part: Part, streams: Streams) -> None:
    low, high, centre = VOICES[plan.lead_voice].range_midi if plan.lead_voice else VOCAL_RANGES[voice_gender(plan.style)]
    writer = MelodyWriter(plan, part, low, high, centre, streams)
    sung = [s for s in plan.sections if s.phrases]
    for section in sung:
        bar = section.start_bar
        for index, (phrase, bars) in enumerate(zip(section.phrases, section.phrase_bars)):
            final = section is sung[-1] and index == len(section.phrases) - 1
            writer.sing(section, phrase, index, bar, bars, "tonic" if final else "open", 92)
            bar += bars


def write_harmony(plan: Plan, vocals: Part, part: Part) -> None:
    """Chorus and hook lines doubled a diatonic third above (below, near the top of the range)."""
    highest = VOICES[plan.lead_voice].range_midi[1] if plan.lead_voice else VOCAL_RANGES["female"][1]
    chorus_bars = {b for s in plan.sections if s.kind in ("chorus", "hook") for b in range(s.start_bar, s.end_bar)}
    scale = [p for p in range(24, 108) if p % 12 in set(plan.key.scale)]
    for note in vocals.notes:
        if int(note.start_beats // plan.beats_per_bar) not in chorus_bars:
            continue
        above = [p for p in scale if p > note.pitch][1]
        below = [p for p in scale if p < note.pitch][-2]
        part.add(note.start_beats, note.duration_beats, above if above <= highest else below, note.velocity - 12,
                 syllable=note.syllable, word_start=note.word_start, phrase_start=note.phrase_start,
                 phones=note.phones, voice=note.voice)


def write_lead(plan: Plan, part: Part, kinds: tuple[str, ...], streams: Streams) -> None:
    """The lead plays two-bar phrases in the given section kinds; it ends the song on the tonic."""
    low, high, centre = LEAD_RANGE
    writer = MelodyWriter(plan, part, low, high, centre, streams)
    chosen = [s for s in plan.sections if s.kind in kinds]
    for section in chosen:
        bar, index = section.start_bar, 0
        while bar < section.end_bar:
            bars = min(2, section.end_bar - bar)
            final = section is chosen[-1] and bar + bars >= section.end_bar
            writer.play(section, index, bar, bars, "tonic" if final else "open", 90)
            bar += bars
            index += 1
