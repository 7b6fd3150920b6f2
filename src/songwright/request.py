"""SongRequest: the one validated request every client (CLI, Python, HTTP, web page) builds."""

from __future__ import annotations

import dataclasses
import numbers
import re
import unicodedata
from dataclasses import dataclass

from .charts import check_chart
from .errors import InvalidRequest
from .lyrics import parse_lyrics
from .singer.voices import VOICES
from .styles import resolve_tags
from .theory import MAX_KEY_CHARS, parse_key
from .tunes import MAX_MELODY_BYTES, decode_melody, tune_of

MIN_DURATION_S = 10.0
MAX_DURATION_S = 600.0
MIN_TEMPO_BPM = 40.0
MAX_TEMPO_BPM = 240.0
MAX_TAGS_CHARS = 500
MAX_LYRICS_CHARS = 20_000
MAX_CHART_CHARS = 20_000
MAX_MELODY_CHARS = (MAX_MELODY_BYTES + 2) // 3 * 4  # the file, base64
MAX_MELODY_TRACK = 1024
MAX_NAME_CHARS = 32  # time_signature, voice, engine, sampler
TIME_SIGNATURES = ("4/4", "3/4", "6/8")
MAX_SEED = 2**32 - 1
# The acestep engine: upstream's model makes up to 240 s; its own defaults otherwise.
ACESTEP_DURATION_S = (1.0, 240.0)
SAMPLERS = ("euler", "heun", "pingpong")
MAX_STEPS = 200
MAX_GUIDANCE_SCALE = 200.0

_ALLOWED_CONTROL = {"\n", "\r", "\t"}


@dataclass(frozen=True)
class SongRequest:
    """What to make. Every field is checked by `validate()`; units are in the names.

    tags: comma-separated style, mood, instrument and vocal tags ("pop, funk, female vocal").
    lyrics: text with structure tags ([verse], [chorus], ...); empty means instrumental.
    duration_s: length of the finished song, 10..600 seconds.
    tempo_bpm: quarter-note tempo; None picks one from the style.
    key: "A minor", "Eb major", "F#m"...; None picks one from style and mood.
    time_signature: "4/4", "3/4" or "6/8"; None takes the style's.
    seed: 0..2**32-1; the same request and seed give byte-identical audio. None: a random seed,
        reported in the Song.
    instrumental: ignore the lyrics' words (their structure still shapes the form).
    engine: a name in `songwright.engines.ENGINES`: "composer" (default, no model download) or
        "acestep" (needs the `neural` extra and a downloaded ACE-Step v1 checkpoint, which is the
        engine's configuration, never part of a request). Only acestep reads the fields below.
    steps: diffusion steps (1..200); None is upstream's 60.
    sampler: "euler", "heun" or "pingpong".
    guidance_scale: classifier-free guidance strength (APG); 0 or 1 turns it off.
    guided: first render the request with the composer and let the model follow that audio,
        so the song keeps the requested tempo, key and form.
    guide_strength: how closely a guided song follows the composer's render (0..0.95).
    chords: a chord chart (`songwright.charts`): the composer plays exactly these chords in the
        sections it names; None: the composer's own chords everywhere.
    melody: a MIDI file's bytes, or a hummed or sung recording's (WAV, FLAC, OGG, MP3), as base64
        text (`songwright.tunes`): the lyrics are sung to its tune, exactly its pitches and rhythm
        (a recording's transcribed by `songwright.hum`, quantised to tempo_bpm or the tempo heard);
        its tempo, meter and key unless given here. The acestep engine takes a chart or a melody
        only when guided: its reference is then the composer's render of them.
    melody_track: which of the file's tracks holds the tune (from 1), when several have notes.
    """

    tags: str = "pop"
    lyrics: str = ""
    duration_s: float = 60.0
    tempo_bpm: float | None = None
    key: str | None = None
    time_signature: str | None = None
    seed: int | None = None
    instrumental: bool = False
    engine: str = "composer"
    voice: str | None = None
    steps: int | None = None
    sampler: str = "euler"
    guidance_scale: float = 15.0
    guided: bool = False
    guide_strength: float = 0.5
    chords: str | None = None
    melody: str | None = None
    melody_track: int | None = None

    def validate(self) -> "SongRequest":
        """Return the request if every field is valid, else raise InvalidRequest.

        Every text field's type and length is checked before any pattern reads it. Numbers of
        other numeric types (numpy scalars, fractions) come back as Python floats and ints: the
        request returned is then a copy."""
        self._check_texts()
        if not re.search(r"\w", self.tags):
            raise InvalidRequest("tags", "must name at least one style, mood or instrument (see `songwright styles`)", self.tags)
        engines = engine_names()
        if not isinstance(self.engine, str) or self.engine not in engines:
            raise InvalidRequest("engine", "must be one of " + ", ".join(engines), self.engine)
        low, high = MIN_DURATION_S, MAX_DURATION_S
        if self.engine == "acestep":  # a guided song is first made by the composer, which needs 10 s
            low, high = (MIN_DURATION_S if self.guided else ACESTEP_DURATION_S[0]), ACESTEP_DURATION_S[1]
        _check_number("duration_s", self.duration_s, low, high, "seconds")
        if self.tempo_bpm is not None:
            _check_number("tempo_bpm", self.tempo_bpm, MIN_TEMPO_BPM, MAX_TEMPO_BPM, "BPM")
        if self.key is not None:
            if not isinstance(self.key, str):
                raise InvalidRequest("key", "must be text", self.key)
            parse_key(self.key)
        if self.time_signature is not None and (not isinstance(self.time_signature, str)
                                                or self.time_signature not in TIME_SIGNATURES):
            raise InvalidRequest("time_signature", "must be one of " + ", ".join(TIME_SIGNATURES), self.time_signature)
        if self.seed is not None:
            if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or not 0 <= self.seed <= MAX_SEED:
                raise InvalidRequest("seed", f"must be a whole number from 0 to {MAX_SEED}", self.seed)
        if not isinstance(self.instrumental, bool):
            raise InvalidRequest("instrumental", "must be true or false", self.instrumental)
        if self.voice is not None and (not isinstance(self.voice, str) or self.voice not in VOICES):
            raise InvalidRequest("voice", "must be one of " + ", ".join(VOICES) + " (see `songwright voices`)", self.voice)
        self._validate_neural()
        for name in ("chords", "melody"):  # the model takes neither: it follows the composer's render of them
            if self.engine == "acestep" and getattr(self, name) is not None and not self.guided:
                raise InvalidRequest(name, "is followed by the acestep engine only when guided (--guided): the model "
                                     "takes the composer's render of it as its reference", "guided is false")
        if self.melody_track is not None and (isinstance(self.melody_track, bool) or not isinstance(
                self.melody_track, numbers.Integral) or not 1 <= self.melody_track <= MAX_MELODY_TRACK):
            raise InvalidRequest("melody_track", f"must be a track number from 1 to {MAX_MELODY_TRACK}", self.melody_track)
        if self.melody is None and self.melody_track is not None:
            raise InvalidRequest("melody_track", "needs a melody (a MIDI file) to choose a track from", self.melody_track)
        tune = (tune_of(decode_melody(self.melody), track=self.melody_track, tempo_bpm=self.tempo_bpm)
                if self.melody is not None else None)
        if self.chords is not None:  # the sections against the lyrics, the bars against the meter
            meter = self.time_signature or (tune.meter if tune is not None else None) or resolve_tags(self.tags).time_signature
            check_chart(self.chords, meter=meter, key=self.key, lyrics=parse_lyrics(self.lyrics))
        return self._plain_numbers()

    def _check_texts(self) -> None:
        """Type and length of every text field, before any pattern runs on it."""
        _check_text("tags", self.tags, MAX_TAGS_CHARS)
        _check_text("lyrics", self.lyrics, MAX_LYRICS_CHARS)
        if self.chords is not None:
            _check_text("chords", self.chords, MAX_CHART_CHARS)
        if self.melody is not None:
            _check_text("melody", self.melody, MAX_MELODY_CHARS)
        for name, limit in (("key", MAX_KEY_CHARS), ("time_signature", MAX_NAME_CHARS), ("voice", MAX_NAME_CHARS),
                            ("engine", MAX_NAME_CHARS), ("sampler", MAX_NAME_CHARS)):
            value = getattr(self, name)
            if value is not None or name in ("engine", "sampler"):
                _check_text(name, value, limit)

    def _plain_numbers(self) -> "SongRequest":
        """The request with numpy (or other) numbers as Python floats and ints (plain ints and floats kept)."""
        changes = {}
        for name in ("duration_s", "tempo_bpm", "guidance_scale", "guide_strength"):
            value = getattr(self, name)
            if value is not None and type(value) not in (int, float):
                changes[name] = float(value)
        for name in ("seed", "steps", "melody_track"):
            value = getattr(self, name)
            if value is not None and type(value) is not int:
                changes[name] = int(value)
        return self.replace(**changes) if changes else self

    def _validate_neural(self) -> None:
        if self.steps is not None and (isinstance(self.steps, bool) or not isinstance(self.steps, numbers.Integral)
                                       or not 1 <= self.steps <= MAX_STEPS):
            raise InvalidRequest("steps", f"must be a whole number from 1 to {MAX_STEPS}", self.steps)
        if not isinstance(self.sampler, str) or self.sampler not in SAMPLERS:
            raise InvalidRequest("sampler", "must be one of " + ", ".join(SAMPLERS), self.sampler)
        _check_number("guidance_scale", self.guidance_scale, 0.0, MAX_GUIDANCE_SCALE, "(0 or 1: no guidance)")
        if not isinstance(self.guided, bool):
            raise InvalidRequest("guided", "must be true or false", self.guided)
        _check_number("guide_strength", self.guide_strength, 0.0, 0.95, "(0: loose, 0.95: close)")

    @classmethod
    def from_dict(cls, data: dict) -> "SongRequest":
        """Build and validate a request from JSON-like data, rejecting unknown fields."""
        if not isinstance(data, dict):
            raise InvalidRequest("request", "must be an object of fields", data)
        names = {f.name for f in dataclasses.fields(cls)}
        for name in data:
            if name not in names:
                raise InvalidRequest(name, "is not a request field; known fields: " + ", ".join(sorted(names)), data[name])
        return cls(**data).validate()

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def replace(self, **changes) -> "SongRequest":
        return dataclasses.replace(self, **changes)


def engine_names() -> tuple[str, ...]:
    """The engine registry's names (the registry imports the engines, so it is read when needed)."""
    from .engines import ENGINES

    return tuple(ENGINES)


def _check_text(name: str, value: object, max_chars: int) -> None:
    if not isinstance(value, str):
        raise InvalidRequest(name, "must be text", value)
    if len(value) > max_chars:
        raise InvalidRequest(name, f"must be at most {max_chars} characters", f"{len(value)} characters")
    for index, char in enumerate(value):
        if char in _ALLOWED_CONTROL:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Co", "Cn") or char == "\ufffd":
            raise InvalidRequest(name, f"must be plain text (control or undecodable character at position {index})", f"U+{ord(char):04X}")


def _check_number(name: str, value: object, low: float, high: float, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        raise InvalidRequest(name, f"must be a number of {unit}", value)
    if not low <= value <= high:
        raise InvalidRequest(name, f"must be between {low:g} and {high:g} {unit}", value)
