"""Arrangement: which part plays in which bar, the dynamic arc, the ending, the human feel."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from ..plan import Plan
from ..score import Note, Part, Score, midi_velocity
from ..theory import Chord
from ..streams import Streams
from .bass import BASS_CENTER, BASS_IDIOMS, GLIDING_IDIOMS
from .common import Bar, bars_of, section_place
from .comping import Comper
from .drums import write_drums
from ..singer.voices import VOICES
from .melody import VOCAL_RANGES, voice_gender, write_fills, write_harmony, write_lead, write_vocals
from .voicing import bass_root, close_voicing, guitar_voicing

PAD_KINDS = {"intro", "pre-chorus", "chorus", "hook", "bridge", "break", "inst", "solo", "outro"}
KEYS_KINDS = {"intro", "pre-chorus", "chorus", "hook", "bridge", "break", "inst", "outro"}
TIGHT_GENRES = {"electronic", "trap", "synthwave", "disco"}
VOCAL_GUIDE_PROGRAM = 53  # GM "Voice Oohs": the vocal line's program in the MIDI file
RELEASE_BEFORE_END_S = 1.2


def compose(plan: Plan, *, streams: Streams | None = None) -> Score:
    """Every part of the song, written from the plan; each random choice from its own named
    stream (`streams`, by default the plan's seed's)."""
    streams = streams if streams is not None else Streams(plan.seed)
    style = plan.style
    score = Score(plan.tempo_bpm, plan.time_signature, plan.key.name, plan.ending_beat)
    score.markers = [(s.start_bar * plan.beats_per_bar, s.label) for s in plan.sections]
    bars = bars_of(plan, streams)

    drums = Part("drums", "drums", style.kit, is_drum=True)
    write_drums(drums, plan, bars)

    bass = Part("bass", "bass", style.bass.program, volume=104, portamento_ms=GLIDING_IDIOMS.get(style.bass.idiom, 0))
    write_bass = BASS_IDIOMS[style.bass.idiom]
    for bar in bars:
        if _bass_plays(bar):
            if bar.spans:  # the chart's chords: on their bass notes, a drone too
                charted = BASS_IDIOMS["root_long"] if style.bass.idiom == "drone" else write_bass
                _by_spans(bar, bass, lambda b: charted(bass, b), lowest_on_bass=True)
            else:
                write_bass(bass, _pedal(bar, plan) if bar.section.kind == "intro" else bar)

    comp = Part("comp", style.comp.stem, style.comp.program, pan=44)
    comper = Comper(comp, style.comp.idiom, 60)
    keys_centre, pad_centre = accompaniment_centres(plan)
    keys = Part("keys", "keys", style.keys.program, pan=84, volume=88)
    keyer = Comper(keys, style.keys.idiom, keys_centre) if style.keys.idiom != "none" else None
    pad = Part("pad", "strings", style.pad_program, volume=80)
    pad_comper = Comper(pad, style.pad_idiom, pad_centre)
    for bar in bars:
        kind = bar.section.kind
        if _comp_plays(bar):
            _by_spans(bar, comp, comper.bar)
        if keyer and (kind in KEYS_KINDS or bar.section.occurrence > 0):  # a second verse gets fuller
            _by_spans(bar, keys, keyer.bar)
        if kind in PAD_KINDS:
            _by_spans(bar, pad, pad_comper.bar)

    lead = Part("lead", "lead", style.lead_program, pan=70, volume=92)
    vocals = Part("vocals", "vocals", VOCAL_GUIDE_PROGRAM, volume=110)
    harmony = Part("harmony", "harmony", VOCAL_GUIDE_PROGRAM, volume=90)
    if plan.vocal:
        write_vocals(plan, vocals, streams)
        write_harmony(plan, vocals, harmony)
        write_lead(plan, lead, ("solo", "inst"), streams)
        if style.fills:
            write_fills(plan, vocals, lead, streams)
    else:
        write_lead(plan, lead, ("verse", "chorus", "hook", "bridge", "solo", "inst", "pre-chorus"), streams)

    _final_chord(plan, bass, comp, keys if keyer else None, pad)
    parts = [drums, bass, comp, keys, pad, lead, vocals, harmony]
    for part in parts:  # each note remembers the bar it was written for (an edit splices by bar)
        for note in part.notes:
            if note.bar is None:
                note.bar = int(np.floor(note.start_beats / plan.beats_per_bar + 1e-6))
    timing_ms = 2.0 if style.groove_genre in TIGHT_GENRES else 6.0
    for part in parts:
        if plan.tune_notes is not None and part.name in ("vocals", "harmony"):
            continue  # your melody is sung as written: no swing, no timing feel
        _feel(plan, part, streams, timing_ms)
    score.parts = [p for p in parts if p.notes]
    return score


def accompaniment_centres(plan: Plan) -> tuple[int, int]:
    """Where the keys and the pad are voiced (MIDI centre of each chord): out of the singer's way
    and apart from each other. Under a high voice the keys sit just below its lowest notes and the
    pad a fifth lower; over a low voice the keys sit just above its top and the pad above them.
    Without a voice: keys around E4, the pad around G3."""
    if not plan.vocal:
        return 64, 55
    low, high, centre = VOICES[plan.lead_voice].range_midi if plan.lead_voice else VOCAL_RANGES[voice_gender(plan.style)]
    if centre >= 60:
        return low - 2, high + 1
    return high + 2, high + 14


MIN_CLIPPED_BEATS = 0.05
# A note held to a chord change lets go this much before it, so the same pitch struck on the change
# is not silenced by the held note's note-off arriving after it (the parts' timing feel moves both).
RELEASE_BEFORE_CHANGE_BEATS = 0.06


def _by_spans(bar: Bar, part: Part, write: Callable[[Bar], None], *, lowest_on_bass: bool = False) -> None:
    """Write a bar; a bar from the chart is written once per chord span, as if the whole bar held
    that chord, and only what sounds inside the span is kept (a note held into the span from
    before starts again on the change; a note held to the change ends just before it). `lowest_on_bass`: no note of a span under its bass note."""
    if not bar.spans:
        write(bar)
        return
    for i, span in enumerate(bar.spans):
        if not span.chord.intervals:  # N.C.: the part rests
            continue
        following = bar.spans[i + 1].chord if i + 1 < len(bar.spans) else bar.next_chord
        written = len(part.notes)
        write(dataclasses.replace(bar, chord=span.chord, next_chord=following, spans=(), charted=True))
        notes, part.notes[written:] = part.notes[written:], []
        start, end = bar.start + span.start_beats, bar.start + span.start_beats + span.duration_beats
        kept = []
        for note in notes:
            note_start, note_end = max(note.start_beats, start), min(note.end_beats, end - RELEASE_BEFORE_CHANGE_BEATS)
            if note_end - note_start >= MIN_CLIPPED_BEATS:
                note.start_beats, note.duration_beats = note_start, note_end - note_start
                kept.append(note)
        if lowest_on_bass:
            _bass_under(kept, bar, start=start, end=end, chord=span.chord)
        part.notes += kept


def _bass_under(notes: list[Note], bar: Bar, *, start: float, end: float, chord: Chord) -> None:
    """The chord's bass note (root or slash bass) on the change and under every other note."""
    bass = bass_root(chord, BASS_CENTER)
    for note in notes:
        while note.pitch < bass:
            note.pitch += 12
        if abs(note.start_beats - start) < 1e-6:
            note.pitch = bass
    first = min((n.start_beats for n in notes), default=end)
    if first - start > 1e-6:
        notes.insert(0, Note(start, (first - start) * 0.92, bass, bar.velocity(96)))


def _pedal(bar: Bar, plan: Plan) -> Bar:
    """The bar with the bass on the tonic: the intro states the key over a tonic pedal."""
    return dataclasses.replace(bar, chord=plan.final_chord, _rngs={})


def _bass_plays(bar: Bar) -> bool:
    kind = bar.section.kind
    if kind == "break":
        return False
    if kind == "intro":
        return bar.position >= bar.section.bars // 2
    return True


def _comp_plays(bar: Bar) -> bool:
    kind = bar.section.kind
    if kind in ("intro", "break"):
        return False
    if kind == "outro":
        return bar.position < bar.section.bars - 2
    return True


def _final_chord(plan: Plan, bass: Part, comp: Part, keys: Part | None, pad: Part) -> None:
    """The tonic on the last downbeat, held to ring out until just before the end."""
    chord = plan.final_chord
    beat = plan.ending_beat
    hold_s = plan.duration_s - plan.ending_beat * plan.seconds_per_beat - RELEASE_BEFORE_END_S
    hold = max(0.5, hold_s / plan.seconds_per_beat)
    bass.add(beat, hold, bass_root(chord, 38), 100)
    for i, pitch in enumerate(guitar_voicing(chord, 40)):
        comp.add(beat + i * 0.02, hold, pitch, 92)
    if keys is not None:
        for pitch in close_voicing(chord, 64, 4):
            keys.add(beat, hold, pitch, 84)
    for pitch in close_voicing(chord, 62, 4):
        pad.add(beat, hold, pitch, 80)


def _place_of(plan: Plan, beat: float) -> tuple:
    """The section a beat falls in, as `section_place` names it; ("ending",) after the last bar."""
    bar = int(beat // plan.beats_per_bar)
    for section in plan.sections:
        if section.start_bar <= bar < section.end_bar:
            return section_place(section)
    return ("ending",)


def _swing(beat: float, swing: float) -> float:
    """Delay off-beat eighths (swing >= 0.5: the long note's share of a beat) or 16ths (swing < 0.5)."""
    if swing <= 0:
        return beat
    whole = np.floor(beat + 1e-9)
    frac = beat - whole
    if swing >= 0.5:
        points = {0.25: swing / 2, 0.5: swing, 0.75: swing + (1 - swing) / 2}
    else:
        points = {0.25: 0.25 + swing * 0.25, 0.75: 0.75 + swing * 0.25}
    for position, moved in points.items():
        if abs(frac - position) < 1e-6:
            return whole + moved
    return beat


def _feel(plan: Plan, part: Part, streams: Streams, timing_ms: float) -> None:
    """Swing and humanised timing and velocity, from the part's own stream in each section."""
    sd_beats = timing_ms / 1000.0 / plan.seconds_per_beat
    swing = plan.style.swing
    part.notes.sort(key=lambda n: (n.start_beats, n.pitch))
    rngs: dict[tuple, np.random.Generator] = {}
    for note in part.notes:
        place = _place_of(plan, note.start_beats)
        if note.bar in plan.takes:  # a retaken bar: its own feel, the rest's draws untouched
            place = (*place, "take", plan.takes[note.bar], note.bar)
        if place not in rngs:
            rngs[place] = streams.rng(f"feel/{part.name}", *place)
        rng = rngs[place]
        start = _swing(note.start_beats, swing)
        if note.start_beats < plan.ending_beat:
            start += float(rng.normal(0.0, sd_beats))
        note.start_beats = max(0.0, start)
        note.velocity = midi_velocity(note.velocity + rng.normal(0, 4))
    part.notes.sort(key=lambda n: (n.start_beats, n.pitch))

