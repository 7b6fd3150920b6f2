"""Score -> a multi-track Standard MIDI File with tempo, meter, key, section markers and lyrics."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from .score import Score
from .theory import parse_key

if TYPE_CHECKING:
    import mido

TICKS_PER_BEAT = 480


def score_to_midi(score: Score) -> mido.MidiFile:
    import mido  # (17 ms: imported when a song's MIDI is first written)

    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT, charset="utf-8")  # lyrics in any script
    numerator, denominator = (int(x) for x in score.time_signature.split("/"))
    meta = [(0, mido.MetaMessage("track_name", name="songwright")),
            (0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(score.tempo_bpm))),
            (0, mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator)),
            (0, mido.MetaMessage("key_signature", key=parse_key(score.key_name).mido_name))]
    meta += [(_ticks(beat), mido.MetaMessage("marker", text=label)) for beat, label in score.markers]
    midi.tracks.append(_track(meta))
    channel = 0
    for part in score.parts:
        if part.is_drum:
            chan = 9
        else:
            chan = channel
            channel += 1 + (channel + 1 == 9)
        events = [(0, mido.MetaMessage("track_name", name=part.name)),
                  (0, mido.Message("program_change", channel=chan, program=part.program)),
                  (0, mido.Message("control_change", channel=chan, control=7, value=part.volume)),
                  (0, mido.Message("control_change", channel=chan, control=10, value=part.pan))]
        if part.portamento_ms:  # overlapping notes glide, as the renderer plays them
            events += [(0, mido.Message("control_change", channel=chan, control=control, value=value))
                       for control, value in ((65, 127), (5, part.portamento_ms // 128), (37, part.portamento_ms % 128))]
        for index, note in enumerate(part.notes):
            start, end = _ticks(note.start_beats), _ticks(note.end_beats)
            if note.syllable is not None:
                following = part.notes[index + 1] if index + 1 < len(part.notes) else None
                continues = following is not None and not following.word_start
                text = note.syllable + ("" if continues else " ")
                events.append((start, mido.MetaMessage("lyrics", text=text)))
            events.append((start, mido.Message("note_on", channel=chan, note=note.pitch, velocity=note.velocity)))
            events.append((max(end, start + 1), mido.Message("note_off", channel=chan, note=note.pitch, velocity=0)))
        midi.tracks.append(_track(events))
    return midi


def _ticks(beats: float) -> int:
    return max(0, round(beats * TICKS_PER_BEAT))


def _track(events: list[tuple[int, mido.Message]]) -> mido.MidiTrack:
    import mido

    # note_off before note_on at the same tick; meta (lyrics) before the note it labels.
    order = {"note_off": 0}
    events = sorted(events, key=lambda e: (e[0], order.get(e[1].type, 1)))
    track = mido.MidiTrack()
    now = 0
    for tick, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def midi_bytes(score: Score) -> bytes:
    buffer = io.BytesIO()
    score_to_midi(score).save(file=buffer)
    return buffer.getvalue()
