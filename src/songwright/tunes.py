"""Your own melody: a MIDI file's melody line, or a hummed or sung recording transcribed by
`songwright.hum`, read into notes in beats, and the lyrics fitted to it.

One track (`melody_track`, counted from 1 as `songwright` lists them, when the file has several
with notes) must hold one voice: notes that overlap by more than OVERLAP_BEATS are refused. Its
tempo, meter and key are the file's first ones (a request's own win). Rests of REST_BEATS or more
end a phrase; each lyric line is sung to one phrase, the tune again from its top when the lines
outlast it. A line with fewer syllables than its phrase has notes sings its last syllable over the
rest (a melisma); a line with more splits the phrase's longest notes, with a warning.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
from dataclasses import dataclass, field, replace

from .errors import InvalidRequest
from .theory import Key, parse_key

FIELD = "melody"
MAX_MELODY_BYTES = 8_000_000  # a MIDI file, or a recording: 45 s of 16-bit stereo 44.1 kHz WAV, minutes of MP3
OVERLAP_BEATS = 0.125  # a legato overlap up to a 32nd note is trimmed, more is a second voice
REST_BEATS = 1.0  # a rest this long ends a phrase
MIN_NOTE_BEATS = 0.0625
METERS = {(4, 4): "4/4", (3, 4): "3/4", (6, 8): "6/8"}
DEFAULT_TEMPO_BPM = 120.0


@dataclass(frozen=True)
class TuneNote:
    start_beats: float  # from the start of the file
    duration_beats: float
    pitch: int


@dataclass(frozen=True)
class Tune:
    notes: tuple[TuneNote, ...]
    tempo_bpm: float | None  # the file's first tempo, None when it has none
    meter: str | None
    key: Key | None
    track: int  # counted from 1

    def phrases(self) -> list[list[TuneNote]]:
        """The notes cut at every rest of REST_BEATS or more."""
        out = [[self.notes[0]]]
        for previous, note in zip(self.notes, self.notes[1:]):
            if note.start_beats - (previous.start_beats + previous.duration_beats) >= REST_BEATS - 1e-9:
                out.append([])
            out[-1].append(note)
        return out


def decode_melody(text: str) -> bytes:
    """The MIDI file's or recording's bytes from the request's base64 text."""
    if not isinstance(text, str):
        raise InvalidRequest(FIELD, "must be a MIDI file's or a recording's bytes as base64 text", text)
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidRequest(FIELD, "must be a MIDI file's or a recording's bytes as base64 text", text[:40]) from None
    if len(data) > MAX_MELODY_BYTES:
        raise InvalidRequest(FIELD, f"must be a MIDI file or recording of at most {MAX_MELODY_BYTES} bytes", f"{len(data)} bytes")
    return data


@functools.lru_cache(maxsize=4)
def tune_of(data: bytes, *, track: int | None, tempo_bpm: float | None = None) -> Tune:
    """The tune of a request's melody: a MIDI file's track, or a hummed or sung recording
    transcribed (`read_recording`)."""
    from . import hum

    if hum.is_midi(data):
        return read_tune(data, track=track)
    if track is not None:
        raise InvalidRequest("melody_track", "must not be given with a recording (it holds one voice)", track)
    return read_recording(data, tempo_bpm=tempo_bpm)


def read_recording(data: bytes, *, tempo_bpm: float | None) -> Tune:
    """A hummed or sung recording (WAV, FLAC, OGG, MP3) as a tune: its notes transcribed by
    `songwright.hum` and quantised to sixteenths of `tempo_bpm`, or of the tempo heard in its
    onsets; no meter or key (the request's, the style's, or the key its notes imply)."""
    from . import hum

    notes_s = hum.transcribe_s(*hum.read_audio_bytes(data))
    tempo = tempo_bpm if tempo_bpm is not None else hum.estimate_tempo_bpm(notes_s)
    notes = tuple(TuneNote(start, length, pitch) for start, length, pitch in hum.quantise(notes_s, tempo_bpm=tempo))
    return Tune(notes, tempo, None, None, track=1)


def tune_midi_bytes(tune: Tune, *, ticks_per_beat: int = 480) -> bytes:
    """The tune as a type-1 MIDI file `read_tune` reads back: a conductor track (its tempo, and its
    meter when it has one), then one track of its notes."""
    import mido

    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tune.tempo_bpm or DEFAULT_TEMPO_BPM))])
    if tune.meter is not None:
        numerator, denominator = next(m for m, name in METERS.items() if name == tune.meter)
        conductor.append(mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator))
    events = sorted([(round(n.start_beats * ticks_per_beat), 1, n.pitch) for n in tune.notes] +
                    [(round((n.start_beats + n.duration_beats) * ticks_per_beat), 0, n.pitch) for n in tune.notes])
    track, now = mido.MidiTrack([mido.MetaMessage("track_name", name="melody")]), 0
    for tick, on, pitch in events:  # at one tick, a note ends before the next starts
        track.append(mido.Message("note_on" if on else "note_off", note=pitch, velocity=90 if on else 0, time=tick - now))
        now = tick
    midi.tracks += [conductor, track]
    out = io.BytesIO()
    midi.save(file=out)
    return out.getvalue()


def read_tune(data: bytes, *, track: int | None) -> Tune:
    """The melody line of a Standard MIDI File; InvalidRequest naming what is wrong with it."""
    import mido

    try:
        midi = mido.MidiFile(file=io.BytesIO(data))
    except Exception as exc:  # mido raises OSError, EOFError, ValueError, KeyError... on a broken file
        raise InvalidRequest(FIELD, f"must be a Standard MIDI File ({type(exc).__name__}: {exc})",
                             f"{len(data)} bytes") from None
    if midi.type == 2:
        raise InvalidRequest(FIELD, "must be a type 0 or 1 MIDI file (type 2 holds separate songs)", "type 2")
    per_track, meta = _read_tracks(midi)
    with_notes = [i for i, notes in enumerate(per_track) if notes]
    if not with_notes:
        raise InvalidRequest(FIELD, "must hold notes: this MIDI file has none", f"{len(midi.tracks)} track(s)")
    listing = ", ".join(f"track {i + 1}{_name(midi.tracks[i])}: {len(per_track[i])} notes" for i in with_notes)
    if track is None:
        if len(with_notes) > 1:
            raise InvalidRequest("melody_track", f"must say which track holds the melody (the file has {listing})",
                                 None)
        index = with_notes[0]
    else:
        index = track - 1
        if not 0 <= index < len(per_track) or not per_track[index]:
            raise InvalidRequest("melody_track", f"must be a track with notes ({listing})", track)
    notes = _one_voice(per_track[index], midi.ticks_per_beat, track=index + 1)
    return Tune(tuple(notes), *meta, track=index + 1)


def _name(track) -> str:
    name = next((m.name for m in track if m.type == "track_name" and m.name.strip()), "")
    return f" ({name.strip()})" if name else ""


def _read_tracks(midi) -> tuple[list[list[tuple[int, int, int]]], tuple]:
    """Each track's notes as (start tick, end tick, pitch), drums left out; the first tempo,
    meter and key of the file."""
    tempo = meter = key = None
    per_track = []
    for track in midi.tracks:
        tick, sounding, notes = 0, {}, []
        for message in track:
            tick += message.time
            if message.type == "set_tempo" and tempo is None:
                tempo = round(60_000_000 / message.tempo, 3)
            elif message.type == "time_signature" and meter is None:
                meter = (message.numerator, message.denominator)
            elif message.type == "key_signature" and key is None:
                key = parse_key(message.key.replace("m", " minor") if message.key.endswith("m") else message.key,
                                field=FIELD)
            elif message.type in ("note_on", "note_off") and message.channel != 9:
                if message.type == "note_on" and message.velocity > 0:
                    sounding.setdefault(message.note, []).append(tick)
                elif sounding.get(message.note):
                    notes.append((sounding[message.note].pop(0), tick, message.note))
        per_track.append(sorted(notes))
    if meter is not None and meter not in METERS:
        raise InvalidRequest(FIELD, "must be in 4/4, 3/4 or 6/8 (the file's time signature)", f"{meter[0]}/{meter[1]}")
    return per_track, (tempo, METERS.get(meter) if meter else None, key)


def _one_voice(notes: list[tuple[int, int, int]], ticks_per_beat: int, *, track: int) -> list[TuneNote]:
    out: list[TuneNote] = []
    for start, end, pitch in notes:
        start_beats, end_beats = start / ticks_per_beat, end / ticks_per_beat
        if out:
            previous = out[-1]
            overlap = previous.start_beats + previous.duration_beats - start_beats
            if overlap > OVERLAP_BEATS or start_beats - previous.start_beats < MIN_NOTE_BEATS:
                raise InvalidRequest(FIELD, f"track {track} must hold one voice, but notes overlap at beat "
                                            f"{start_beats:g} (pitches {previous.pitch} and {pitch}); choose "
                                            "another track with --melody-track or keep only the tune", f"track {track}")
            if overlap > 0:  # legato: the earlier note lets go as the next starts
                out[-1] = TuneNote(previous.start_beats, start_beats - previous.start_beats, previous.pitch)
        if end_beats - start_beats >= MIN_NOTE_BEATS:
            out.append(TuneNote(start_beats, end_beats - start_beats, pitch))
    if not out:
        raise InvalidRequest(FIELD, f"track {track} must hold notes longer than a 64th", f"track {track}")
    return out


@dataclass
class Fitted:
    """One lyric line on one phrase of the tune: per note, the syllable it starts (None: the
    syllable before it goes on, a melisma)."""

    notes: list[TuneNote]
    syllables: list[int | None]
    warnings: list[str] = field(default_factory=list)


def fit_line(notes: list[TuneNote], syllable_count: int, *, line: str) -> Fitted:
    """A line's syllables on a phrase's notes: one each; the last syllable held over spare notes;
    the longest notes split in two while syllables are left over."""
    notes = list(notes)
    warnings = []
    if syllable_count > len(notes):
        splits = syllable_count - len(notes)
        for _ in range(splits):
            longest = max(range(len(notes)), key=lambda i: (notes[i].duration_beats, -i))
            note = notes[longest]
            half = note.duration_beats / 2
            notes[longest:longest + 1] = [TuneNote(note.start_beats, half, note.pitch),
                                          TuneNote(note.start_beats + half, half, note.pitch)]
        warnings.append(f"\"{line}\": {syllable_count} syllables on {syllable_count - splits} notes; "
                        f"{splits} long note(s) split to sing them all")
    syllables: list[int | None] = [i if i < syllable_count else None for i in range(len(notes))]
    return Fitted(notes, syllables, warnings)


def octave_shift(pitches: list[int], *, low: int, high: int) -> int:
    """The whole octaves that put most of a tune inside a voice's range (the least moved first)."""
    def outside(shift: int) -> int:
        return sum(not low <= p + shift <= high for p in pitches)
    return min((12 * k for k in range(-4, 5)), key=lambda s: (outside(s), abs(s)))


@dataclass(frozen=True)
class TuneLine:
    """One note of the melody as the song sings it (or, instrumental, plays it)."""

    start_beats: float  # in the song
    duration_beats: float
    pitch: int
    syllable: str | None = None  # "" on a melisma's later notes
    word_start: bool = False
    phrase_start: bool = False
    phones: object = None  # the singer's SungSyllable
    voice: str | None = None


def infer_tune_key(tune: Tune) -> Key:
    """The key whose scale holds the most of the tune (by duration), its last note counting
    towards the tonic."""
    best, best_score = None, None
    for mode in ("major", "minor"):
        for tonic in range(12):
            key = Key(tonic, mode)
            score = sum(n.duration_beats for n in tune.notes if n.pitch % 12 in key.scale)
            score += 2.0 * (tune.notes[-1].pitch % 12 == tonic) + 0.5 * (tune.notes[0].pitch % 12 == tonic)
            if best_score is None or score > best_score + 1e-9:
                best, best_score = key, score
    return best


def fit_tune(tune: Tune, *, sections: list[tuple[float, list]], voice: str | None, vocal: bool,
             warnings: list[str]) -> list[TuneLine]:
    """The tune once in each of `sections` (its start beat in the song and its lyric phrases),
    each phrase's syllables fitted to a phrase of the tune, moved by octaves into the voice."""
    from .singer.voices import VOICES

    parts = tune.phrases()
    out: list[TuneLine] = []
    for offset, phrases in sections:
        if not vocal:
            out += [TuneLine(offset + n.start_beats, n.duration_beats, n.pitch) for n in tune.notes]
            continue
        for index, notes in enumerate(parts):
            if index >= len(phrases):
                warnings.append(f"the melody's phrase {index + 1} has no lyric line left: the band plays it, unsung")
                continue
            out += _sung(phrases[index], notes, offset, warnings)
    if vocal and voice is not None:
        out = _into_range(out, VOICES[voice].range_midi[:2], warnings)
    return out


def _sung(phrase, notes: list[TuneNote], offset: float, warnings: list[str]) -> list[TuneLine]:
    syllables = [(text, j == 0, w.phones[j] if w.phones else None, w.voice)
                 for w in phrase.words for j, text in enumerate(w.syllables)]
    fitted = fit_line(notes, len(syllables), line=phrase.text)
    warnings += fitted.warnings
    if len(fitted.notes) > len(syllables):
        warnings.append(f"\"{phrase.text}\": {len(syllables)} syllables on {len(fitted.notes)} notes; the last "
                        f"syllable is sung over the last {len(fitted.notes) - len(syllables) + 1} notes (a melisma)")
    out = []
    last = len(syllables) - 1
    for k, note in enumerate(fitted.notes):
        index = fitted.syllables[k]
        text, word_start, phones, voice = syllables[last if index is None else index]
        held = index is None or (index == last and k < len(fitted.notes) - 1)  # a melisma's note
        if phones is not None and held:  # the vowel goes on: the onset only on its first note, the coda on its last
            first, final = index is not None, k == len(fitted.notes) - 1
            phones = replace(phones, onset=phones.onset if first else (), coda=phones.coda if final else ())
        out.append(TuneLine(offset + note.start_beats, note.duration_beats, note.pitch,
                            text if index is not None else "", word_start and index is not None, k == 0, phones, voice))
    return out


def _into_range(notes: list[TuneLine], bounds: tuple[int, int], warnings: list[str]) -> list[TuneLine]:
    low, high = bounds
    shift = octave_shift([n.pitch for n in notes], low=low, high=high)
    if shift:
        warnings.append(f"the melody moved {abs(shift) // 12} octave(s) {'up' if shift > 0 else 'down'} into "
                        f"the voice's range (MIDI {low}-{high})")
    moved, out = 0, []
    for note in notes:
        pitch = note.pitch + shift
        while pitch < low:
            pitch += 12
        while pitch > high:
            pitch -= 12
        moved += pitch != note.pitch + shift
        out.append(replace(note, pitch=pitch))
    if moved:
        warnings.append(f"{moved} note(s) of the melody outside the voice's range (MIDI {low}-{high}) moved by octaves")
    return out
