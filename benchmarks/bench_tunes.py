"""Your own melody sung as written, measured from the vocal stem: for each melody of MELODIES (a
MIDI file made here), a song is made with its lyrics and the sung line measured
(songwright.audio.tune_metrics): notes within 50 cents of the given pitch (pYIN, middle of each
note), vowel onsets after unvoiced consonants within 50 ms, syllables heard; legato leaps reported.

    python benchmarks/bench_tunes.py
"""

from __future__ import annotations

import base64
import io

import mido

import songwright as sw
from songwright import stages
from songwright.audio.tune_metrics import sung_tune

TICKS_PER_BEAT = 480


def midi_file(notes: list[tuple[float, float, int]], *, tempo_bpm: float, meter: tuple[int, int] = (4, 4),
              key: str | None = None, other_tracks: tuple = ()) -> bytes:
    """A type-1 MIDI file: a conductor track (tempo, meter, key), the melody's track, then any
    other tracks; notes as (start beats, duration beats, pitch)."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm)),
                                mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1])])
    if key:
        conductor.append(mido.MetaMessage("key_signature", key=key))
    midi.tracks.append(conductor)
    for track_notes in (notes, *other_tracks):
        events = sorted([(round(s * TICKS_PER_BEAT), 1, p) for s, _, p in track_notes] +
                        [(round((s + d) * TICKS_PER_BEAT), 0, p) for s, d, p in track_notes], key=lambda e: (e[0], e[1]))
        track, now = mido.MidiTrack(), 0
        for tick, on, pitch in events:
            track.append(mido.Message("note_on" if on else "note_off", note=pitch, velocity=90 if on else 0, time=tick - now))
            now = tick
        midi.tracks.append(track)
    out = io.BytesIO()
    midi.save(file=out)
    return out.getvalue()


def line(*steps: tuple[float, int], start: float = 0.0) -> list[tuple[float, float, int]]:
    """Notes from (duration beats, pitch) steps, one after another; pitch 0 is a rest."""
    notes, at = [], start
    for duration, pitch in steps:
        if pitch:
            notes.append((at, duration, pitch))
        at += duration
    return notes


# (name, tags, lyrics, notes, file settings, request fields)
MELODIES = [
    ("one note a syllable", "pop", "[verse]\nTake the time to sing it\nSoft and clear tonight",
     line((1, 67), (1, 69), (1, 71), (1, 72), (1, 74), (3, 72), (0, 0), (2, 0), (1, 71), (1, 69), (1, 67), (1, 69), (4, 67)),
     {"tempo_bpm": 96, "key": "G"}, {}),
    ("waltz 3/4", "folk", "[verse]\nCome to the fair in the spring time\nSee how the sun shines",
     line((1, 64), (1, 67), (1, 67), (2, 69), (1, 67), (1, 64), (1, 62), (1, 60), (3, 62), (3, 0),
          (1, 64), (1, 65), (1, 67), (2, 69), (1, 67), (3, 64)),
     {"tempo_bpm": 120, "meter": (3, 4), "key": "C"}, {}),
    ("6/8 lilt", "folk, romantic", "[verse]\nSail the sea so far from home\nTake me back to stay",
     line((1, 62), (0.5, 64), (1, 66), (0.5, 67), (1.5, 69), (1.5, 66), (1, 64), (0.5, 62), (1.5, 64), (1.5, 0),
          (1, 62), (0.5, 64), (1, 66), (0.5, 64), (3, 62)),
     {"tempo_bpm": 84, "meter": (6, 8), "key": "D"}, {}),
    ("pickup", "pop", "[verse]\nAnd so the story starts\nTo see the city lights",
     line((1, 60), (1, 65), (1, 65), (1, 67), (1, 69), (2, 65), (2, 0), (1, 60), (1, 65), (1, 67), (1, 69), (1, 70), (3, 69),
          start=3.0),
     {"tempo_bpm": 100, "key": "F"}, {}),
    ("melisma", "rnb, soul", "[verse]\nOh the night\nStay with me",
     line((1, 67), (1, 69), (0.5, 71), (0.5, 72), (0.5, 71), (0.5, 69), (2, 67), (2, 0), (1, 64), (1, 67), (0.5, 69),
          (0.5, 67), (0.5, 64), (0.5, 62), (2, 64)),
     {"tempo_bpm": 80, "key": "C"}, {}),
    ("more syllables than notes", "pop", "[verse]\nSuper fast syllables tumbling to the ground\nPast the city",
     line((2, 64), (2, 67), (1, 69), (1, 67), (2, 64), (2, 0), (2, 62), (2, 64)),
     {"tempo_bpm": 90, "key": "C"}, {}),
    ("syncopated", "funk", "[verse]\nStep to the side and stop it\nKick it to the top",
     line((0.75, 69), (0.75, 69), (0.5, 72), (1, 74), (0.5, 72), (0.5, 69), (1, 67), (1, 69), (2, 0),
          (0.75, 64), (0.75, 67), (0.5, 69), (1, 72), (1, 69), (2, 69)),
     {"tempo_bpm": 104, "key": "Am"}, {}),
    ("sung an octave up", "pop, female vocal", "[verse]\nFrom the deep low sea\nTo the sky so high",
     line((1, 48), (1, 50), (1, 52), (2, 55), (1, 0), (1, 57), (1, 55), (1, 53), (1, 52), (4, 50)),
     {"tempo_bpm": 92, "key": "C"}, {}),
    ("minor leaps", "rock", "[verse]\nCast the stone and feel it fall\nTake it past the wall",
     line((1, 57), (1, 64), (1, 60), (1, 62), (2, 64), (1, 67), (1, 64), (2, 62), (2, 0),
          (1, 57), (1, 60), (1, 64), (1, 69), (4, 64)),
     {"tempo_bpm": 112, "key": "Am"}, {}),
    ("second track", "jazz", "[verse]\nSit at the piano play it slow\nSoft as the snow",
     line((1, 72), (1, 71), (1, 69), (1, 67), (2, 65), (2, 64), (1, 62), (1, 64), (1, 65), (1, 67), (4, 69)),
     {"tempo_bpm": 100, "key": "C", "other_tracks": ([(b * 4.0, 4.0, p) for b in range(4) for p in (48, 52, 55)],)},
     {"melody_track": 2}),
    ("two verses on one tune", "country", "[verse]\nTake the road to town\nCatch the sun go down\n[chorus]\nSing it to the sky\nSay it one more time",
     line((1, 67), (1, 67), (1, 69), (1, 71), (4, 67), (2, 0), (2, 0), (1, 64), (1, 67), (1, 69), (1, 71), (4, 72)),
     {"tempo_bpm": 108, "key": "G"}, {}),
]


def measure(name: str, tags: str, lyrics: str, notes: list, settings: dict, fields: dict, seed: int = 1, *,
            band: bool = True):
    """The melody's song and its sung line measured; without the `band`, only its vocal part is
    rendered (the vocal stem is the same to the sample: the tests' quicker way)."""
    data = midi_file(notes, **settings)
    request = sw.SongRequest(tags=tags, lyrics=lyrics, melody=base64.b64encode(data).decode("ascii"), seed=seed,
                             **({"duration_s": 40} | fields))
    if band:
        song = sw.generate(request)
    else:
        prepared, plan, score = stages.composed(request.validate())
        song = stages.perform(prepared, plan, stages.only_stems(score, ("vocals",)))
    return sung_tune(song), song


def main() -> None:
    totals = [0] * 6
    leaps: list[float] = []
    for melody in MELODIES:
        score, song = measure(*melody)
        values = (score.in_tune, score.pitched, score.on_time, score.onsets, score.heard, score.syllables)
        totals = [a + b for a, b in zip(totals, values)]
        leaps += score.leaps
        print(f"{melody[0]:28s} pitch {score.in_tune}/{score.pitched}  onsets {score.on_time}/{score.onsets}  "
              f"syllables heard {score.heard}/{score.syllables}  ({len(song.warnings)} warnings)")
    print(f"total over {len(MELODIES)} melodies: pitch within 50 cents {totals[0]}/{totals[1]} "
          f"({100 * totals[0] / totals[1]:.1f} %), onsets within 50 ms {totals[2]}/{totals[3]} "
          f"({100 * totals[2] / totals[3]:.1f} %), syllables heard {totals[4]}/{totals[5]}")
    if leaps:
        print(f"legato leaps (reported, no threshold): {len(leaps)}, half-way crossing median "
              f"{1000 * sorted(leaps)[len(leaps) // 2]:+.0f} ms, {sum(abs(e) <= 0.05 for e in leaps)} within 50 ms")


if __name__ == "__main__":
    main()
