"""Pitch names, keys, scales and roman-numeral chords.

Pitches are MIDI note numbers; pitch classes are 0..11 with C = 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidRequest

NOTE_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SHARP_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
FLAT_NAMES = ["C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"]
# Tonic pitch classes whose usual spelling uses flats, per mode.
FLAT_TONICS = {"major": {5, 10, 3, 8, 1, 6}, "minor": {2, 7, 0, 5, 10, 3}}

SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
}

# Matched against the key with its blanks removed: no two blank runs meet, so no backtracking.
_KEY_RE = re.compile(r"([A-Ga-g])([#♯b♭]?)((?i:major|minor|maj|min)|m|M|)")
MAX_KEY_CHARS = 32
KEY_RULE = 'must be a note A-G with an optional # or b, then "major" or "minor" (e.g. "A minor", "Eb major", "F#m")'


@dataclass(frozen=True)
class Key:
    tonic_pc: int
    mode: str  # "major" | "minor"

    @property
    def name(self) -> str:
        return f"{pc_name(self.tonic_pc, self)} {self.mode}"

    @property
    def scale(self) -> tuple[int, ...]:
        return tuple((self.tonic_pc + step) % 12 for step in SCALES[self.mode])

    @property
    def uses_flats(self) -> bool:
        return self.tonic_pc in FLAT_TONICS[self.mode]

    @property
    def mido_name(self) -> str:
        """The spelling mido's key_signature meta event accepts."""
        name = pc_name(self.tonic_pc, self)
        if self.mode == "minor" and name in ("Gb", "Db"):
            name = {"Gb": "F#", "Db": "C#"}[name]
        if self.mode == "major" and name in ("G#", "D#", "A#"):
            name = {"G#": "Ab", "D#": "Eb", "A#": "Bb"}[name]
        return name + ("m" if self.mode == "minor" else "")


def pc_name(pc: int, key: Key | None = None) -> str:
    names = FLAT_NAMES if key is not None and key.uses_flats else SHARP_NAMES
    return names[pc % 12]


def parse_key(text: str, field: str = "key") -> Key:
    if not isinstance(text, str) or len(text) > MAX_KEY_CHARS:
        raise InvalidRequest(field, KEY_RULE + f" in at most {MAX_KEY_CHARS} characters", text)
    match = _KEY_RE.fullmatch("".join(text.split()))
    if not match:
        raise InvalidRequest(field, KEY_RULE, text)
    letter, accidental, mode = match.groups()
    pc = NOTE_PC[letter.upper()] + {"#": 1, "♯": 1, "b": -1, "♭": -1, "": 0}[accidental]
    is_minor = mode.lower() in ("minor", "min") or mode == "m"
    return Key(pc % 12, "minor" if is_minor else "major")


# ---------------------------------------------------------------- chords

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7}
_CHORD_RE = re.compile(r"^([b#]?)(VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)(.*)$")

# Quality suffix -> intervals above the root. Upper-case numerals default to major, lower to minor.
_QUALITIES = {
    "": None,
    "7": "dom7",
    "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10),
    "9": "ninth",  # a dominant 9th on an upper-case numeral, a minor 9th on a lower-case one
    "m9": (0, 3, 7, 10, 14),
    "maj9": (0, 4, 7, 11, 14),
    "add9": "add9",
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "5": (0, 7),
    "dim": (0, 3, 6),
    "o": (0, 3, 6),
    "m7b5": (0, 3, 6, 10),
    "6": "six",
}


@dataclass(frozen=True)
class Chord:
    symbol: str  # roman numeral as written, e.g. "vi7"; a chart's symbol as written, e.g. "Am7/G"
    root_pc: int
    intervals: tuple[int, ...]  # empty: no chord (a chart's N.C.)
    bass_pc: int | None = None  # a slash chord's bass; None: the root

    def name(self, key: Key) -> str:
        if not self.intervals:
            return "N.C."
        third = 3 in self.intervals and 4 not in self.intervals
        suffix = {
            (0, 4, 7): "", (0, 3, 7): "m", (0, 4, 7, 10): "7", (0, 4, 7, 11): "maj7",
            (0, 3, 7, 10): "m7", (0, 3, 6): "dim", (0, 2, 7): "sus2", (0, 5, 7): "sus4",
            (0, 7): "5", (0, 3, 6, 10): "m7b5", (0, 4, 7, 10, 14): "9", (0, 3, 7, 10, 14): "m9",
            (0, 4, 7, 11, 14): "maj9", (0, 4, 7, 14): "add9", (0, 3, 7, 14): "madd9",
            (0, 4, 7, 9): "6", (0, 3, 7, 9): "m6",
            (0, 3, 6, 9): "dim7", (0, 4, 8): "aug", (0, 5, 7, 10): "7sus4", (0, 7, 10, 14, 17): "11",
            (0, 4, 7, 10, 14, 21): "13", (0, 3, 7, 11): "m(maj7)", (0, 3, 7, 10, 14, 17): "m11",
        }.get(self.intervals, "m" if third else "")
        names = FLAT_NAMES if key.uses_flats or self.symbol.startswith("b") else SHARP_NAMES
        slash = "" if self.bass_pc is None else "/" + names[self.bass_pc]
        return names[self.root_pc] + suffix + slash

    @property
    def bass(self) -> int:
        """The pitch class the bass plays: the slash bass, else the root."""
        return self.root_pc if self.bass_pc is None else self.bass_pc

    def pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.root_pc + i) % 12 for i in self.intervals)

    def tones(self, low: int, high: int) -> list[int]:
        """Every chord tone between two MIDI pitches, inclusive."""
        pcs = set(self.pitch_classes())
        return [p for p in range(low, high + 1) if p % 12 in pcs]


def parse_roman(symbol: str, key: Key) -> Chord:
    match = _CHORD_RE.match(symbol)
    if not match:
        raise ValueError(f"not a roman-numeral chord: {symbol!r}")
    accidental, numeral, suffix = match.groups()
    degree = _ROMAN[numeral.lower()]
    root = key.tonic_pc + SCALES[key.mode][degree - 1] + {"b": -1, "#": 1, "": 0}[accidental]
    minor = numeral.islower()
    quality = _QUALITIES.get(suffix)
    if suffix not in _QUALITIES:
        raise ValueError(f"unknown chord quality {suffix!r} in {symbol!r}")
    triad = (0, 3, 7) if minor else (0, 4, 7)
    if quality is None:
        intervals = triad
    elif quality == "dom7":
        intervals = triad + (10,)
    elif quality == "add9":
        intervals = triad + (14,)
    elif quality == "ninth":
        intervals = triad + (10, 14)
    elif quality == "six":
        intervals = triad + (9,)
    else:
        intervals = quality
    return Chord(symbol, root % 12, tuple(intervals))


def nearest_pitch(pc: int, target: int) -> int:
    """The MIDI pitch of pitch class `pc` closest to `target`."""
    base = target - ((target - pc) % 12)
    return base if target - base <= 6 else base + 12
