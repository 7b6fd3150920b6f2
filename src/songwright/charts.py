"""Chord charts: the plain-text chart a player types, read into chord spans in beats.

    key: A minor
    [verse]
    | Am | F | C G | E7 |
    | Am . . . | F . . . | C . G . | G |
    [chorus]
    | vi | IV | I | V |
    | % | N.C. | Am/E | Am |

Bars stand between `|`. The chords of a bar share it evenly (`| C G |`: two beats each in 4/4), or,
when a bar holds a `.`, every token is one count of the meter (4 in 4/4, 3 in 3/4, 6 eighths in
6/8) and `.` holds the chord before it one count longer. `%` repeats the bar before; `N.C.` is no
chord. Chords are letter names (`F#m7b5`, `Bbmaj7`, `C/E`) or roman numerals read against the key
(`vi`, `V7`, `bVII`, `ii7/C`): the chart's `key:` line, else the request's key, else the key the
chart's letter chords imply. `[verse]` charts every verse; `[Verse 2]` only the section so labelled;
bars before any `[...]` chart every section without a chart of its own. A `#` alone (or starting a line) starts a comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidRequest
from .lyrics import section_kind
from .theory import NOTE_PC, SCALES, Chord, Key, parse_key

FIELD = "chords"
MAX_CHART_CHARS = 20_000
# Counts per bar (each of 4 / denominator quarter beats) of the meters the planner knows.
COUNTS = {"4/4": (4, 1.0), "3/4": (3, 1.0), "6/8": (6, 0.5)}
NO_CHORD = ("N.C.", "NC", "N.C", "n.c.")

# Quality suffix as written after a letter root -> intervals above the root.
QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7), "maj": (0, 4, 7), "M": (0, 4, 7),
    "m": (0, 3, 7), "min": (0, 3, 7), "-": (0, 3, 7),
    "7": (0, 4, 7, 10), "dom7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11), "M7": (0, 4, 7, 11), "Δ": (0, 4, 7, 11), "Δ7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10), "min7": (0, 3, 7, 10), "-7": (0, 3, 7, 10),
    "m7b5": (0, 3, 6, 10), "ø": (0, 3, 6, 10), "ø7": (0, 3, 6, 10), "-7b5": (0, 3, 6, 10),
    "dim": (0, 3, 6), "o": (0, 3, 6), "°": (0, 3, 6),
    "dim7": (0, 3, 6, 9), "o7": (0, 3, 6, 9), "°7": (0, 3, 6, 9),
    "aug": (0, 4, 8), "+": (0, 4, 8),
    "sus2": (0, 2, 7), "sus4": (0, 5, 7), "sus": (0, 5, 7), "7sus4": (0, 5, 7, 10), "7sus": (0, 5, 7, 10),
    "add9": (0, 4, 7, 14), "madd9": (0, 3, 7, 14),
    "6": (0, 4, 7, 9), "m6": (0, 3, 7, 9),
    "9": (0, 4, 7, 10, 14), "m9": (0, 3, 7, 10, 14), "maj9": (0, 4, 7, 11, 14),
    "11": (0, 7, 10, 14, 17), "m11": (0, 3, 7, 10, 14, 17),
    "13": (0, 4, 7, 10, 14, 21),
    "mmaj7": (0, 3, 7, 11), "m(maj7)": (0, 3, 7, 11),
    "5": (0, 7),
}
# A lower-case numeral is minor: these suffixes then read as their minor forms ("ii7" is ii m7).
_MINOR_OF = {"": "m", "7": "m7", "9": "m9", "6": "m6", "add9": "madd9", "maj7": "mmaj7", "11": "m11"}
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7}
_LETTER_RE = re.compile(r"([A-G])([#b♯♭]?)(.*)")
_ROMAN_RE = re.compile(r"([#b♯♭]?)(VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)(.*)")
_NOTE_RE = re.compile(r"([A-G])([#b♯♭]?)")
_ACCIDENTAL = {"#": 1, "♯": 1, "b": -1, "♭": -1, "": 0}


@dataclass(frozen=True)
class ChordSpan:
    """One chord in a bar: where it starts in the bar and how long it sounds, in quarter beats."""

    start_beats: float
    duration_beats: float
    chord: Chord


@dataclass(frozen=True)
class ChartSection:
    header: str | None  # the [tag] as written; None for bars before any tag
    bars: tuple[tuple[str, ...], ...]  # each bar's tokens, `%` already replaced
    places: tuple[tuple[int, int], ...]  # each bar's chart line and its place in that line, for messages

    def where(self, index: int) -> str:
        line, place = self.places[index]
        return f"line {line}, bar {place} (bar {index + 1} of {_where(self.header)})"


@dataclass(frozen=True)
class Chart:
    key: Key | None  # the `key:` line
    sections: tuple[ChartSection, ...]

    def header_names(self) -> list[str]:
        return [s.header for s in self.sections if s.header is not None]

    def section_for(self, *, kind: str, label: str) -> ChartSection | None:
        """The chart of a planned section: the one tagged with its label, else with its kind, else
        the untagged bars."""
        wanted = label.strip().lower()
        for section in self.sections:
            if section.header is not None and section.header.strip().lower() == wanted:
                return section
        for section in self.sections:
            if section.header is not None and section.header.strip().lower() == kind:
                return section
        return next((s for s in self.sections if s.header is None), None)

    def letter_chords(self) -> list[Chord]:
        chords = []
        for section in self.sections:
            for tokens in section.bars:
                for token in tokens:
                    if token not in NO_CHORD and token != "." and _LETTER_RE.fullmatch(token.split("/")[0]):
                        chords.append(parse_chord(token, key=None))
        return chords


def parse_chart(text: str) -> Chart:
    """Read a chart's text; raise InvalidRequest naming the line, bar and symbol of the first
    thing that cannot be read."""
    if not isinstance(text, str):
        raise InvalidRequest(FIELD, "must be chart text", text)
    key = None
    sections: list[ChartSection] = []
    header: str | None = None
    bars: list[tuple[str, ...]] = []
    places: list[tuple[int, int]] = []

    def close() -> None:
        if bars or header is not None:
            sections.append(ChartSection(header, tuple(bars), tuple(places)))

    for number, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw)
        if not line:
            continue
        if line.lower().startswith("key:"):
            key = parse_key(line[4:].strip(), field=FIELD)
            continue
        tag = re.fullmatch(r"\[([^\[\]]+)\]", line)
        if tag:
            close()
            header, bars, places = tag.group(1).strip(), [], []
            if section_kind(header) is None:
                raise InvalidRequest(FIELD, f"line {number}: [{header}] is not a section tag (verse, chorus, bridge, "
                                            "intro, outro...)", header)
            continue
        for place, tokens in enumerate(_bars_of_line(line, number), start=1):
            where = f"line {number}, bar {place} (bar {len(bars) + 1} of {_where(header)})"
            if tokens == ("%",):
                if not bars:
                    raise InvalidRequest(FIELD, f"line {number}: % repeats the bar before, but this is the first bar "
                                                f"of {_where(header)}", "%")
                tokens = bars[-1]
            for token in tokens:
                if token == "%":
                    raise InvalidRequest(FIELD, f"{where}: % must stand alone in its bar", " ".join(tokens))
                if token != "." and token not in NO_CHORD:
                    _check_symbol(token, where=where)
            if tokens[0] == ".":
                raise InvalidRequest(FIELD, f"{where}: a bar cannot start with '.' (it holds the chord before it "
                                            "in the same bar)", " ".join(tokens))
            bars.append(tokens)
            places.append((number, place))
    close()
    empty = [s.header for s in sections if not s.bars]
    if empty:
        raise InvalidRequest(FIELD, f"[{empty[0]}] has no bars (write them as | C | G | Am | F |)", empty[0])
    if not sections:
        raise InvalidRequest(FIELD, "must hold at least one bar, written as | C | G | Am | F |", text)
    return Chart(key, tuple(sections))


def _strip_comment(line: str) -> str:
    """The line without its comment: a '#' that starts the line, or stands alone after a blank
    (so F#m and #IV stay chords)."""
    line = line.strip()
    if line.startswith("#"):
        return ""
    match = re.search(r"\s#(\s|$)", line)
    return (line[:match.start()] if match else line).strip()


def _where(header: str | None) -> str:
    return f"[{header}]" if header is not None else "the chart"


def _bars_of_line(line: str, number: int) -> list[tuple[str, ...]]:
    if not line.startswith("|") or not line.endswith("|") or len(line) < 2:
        raise InvalidRequest(FIELD, f"line {number}: bars must stand between '|' (e.g. | Am | F | C G | E7 |), "
                                    "section tags in [ ], the key as 'key: A minor'", line)
    bars = []
    for index, cell in enumerate(line[1:-1].split("|"), start=1):
        tokens = tuple(cell.split())
        if not tokens:
            raise InvalidRequest(FIELD, f"line {number}, bar {index}: an empty bar (write N.C. for no chord, "
                                        "% to repeat the bar before)", line)
        bars.append(tokens)
    return bars


def _check_symbol(token: str, *, where: str) -> None:
    try:
        parse_chord(token, key=Key(0, "major"))
    except ValueError as exc:
        raise InvalidRequest(FIELD, f"{where}: cannot read the chord {token!r} ({exc})", token) from None


def parse_chord(token: str, *, key: Key | None) -> Chord:
    """One chord symbol: a letter chord, or a roman numeral against `key` (ValueError when the
    symbol cannot be read, or is a numeral and there is no key)."""
    if token in NO_CHORD:
        return Chord("N.C.", key.tonic_pc if key else 0, ())
    body, slash, bass = token.partition("/")
    if slash and not _NOTE_RE.fullmatch(bass):
        raise ValueError(f"the bass after '/' must be a note A-G with an optional # or b, not {bass!r}")
    bass_pc = (NOTE_PC[bass[0]] + _ACCIDENTAL[bass[1:]]) % 12 if slash else None
    letter = _LETTER_RE.fullmatch(body)
    if letter:
        name, accidental, suffix = letter.groups()
        root = NOTE_PC[name] + _ACCIDENTAL[accidental]
    else:
        roman = _ROMAN_RE.fullmatch(body)
        if not roman:
            raise ValueError("a chord is a note A-G (with # or b) or a roman numeral I-VII, then a quality")
        accidental, numeral, suffix = roman.groups()
        if key is None:
            raise ValueError("roman numerals need a key: add a 'key:' line or give the request's key")
        root = key.tonic_pc + SCALES[key.mode][_ROMAN[numeral.lower()] - 1] + _ACCIDENTAL[accidental]
        if numeral.islower() and suffix in _MINOR_OF:
            suffix = _MINOR_OF[suffix]
    if suffix not in QUALITIES:
        raise ValueError(f"unknown quality {suffix!r}; known: " + " ".join(q for q in QUALITIES if q))
    intervals = QUALITIES[suffix]
    bass_pc = None if bass_pc == root % 12 else bass_pc
    return Chord(token, root % 12, intervals, bass_pc)


def infer_key(chords: list[Chord]) -> Key | None:
    """The key a list of letter chords implies: the one whose scale holds most of their tones,
    a first chord on its tonic counting most, then a last one, then every tonic chord of its mode."""
    if not chords:
        return None
    best, best_score = None, None
    for mode in ("major", "minor"):
        for tonic in range(12):
            key = Key(tonic, mode)
            scale = set(key.scale)
            score = 2 * sum(pc in scale for c in chords for pc in c.pitch_classes())
            score += 3 * (chords[0].root_pc == tonic) + 2 * (chords[-1].root_pc == tonic)
            score += 2 * sum(c.root_pc == tonic and (3 in c.intervals) == (mode == "minor") for c in chords)
            if best_score is None or score > best_score:
                best, best_score = key, score
    return best


def bar_spans(tokens: tuple[str, ...], *, key: Key, meter: str, where: str) -> tuple[ChordSpan, ...]:
    """One bar's chords as spans in quarter beats; InvalidRequest when its counts do not add up."""
    counts, beats_per_count = COUNTS[meter]
    if "." in tokens:
        if len(tokens) != counts:
            raise InvalidRequest(FIELD, f"{where}: a bar written with '.' needs one token per count, {counts} in "
                                        f"{meter}, but has {len(tokens)}", " ".join(tokens))
        chords = []
        for token in tokens:
            if token == ".":
                chords[-1][1] += 1
            else:
                chords.append([token, 1])
    else:
        if counts % len(tokens):
            shares = [n for n in range(1, counts + 1) if counts % n == 0]
            raise InvalidRequest(FIELD, f"{where}: {len(tokens)} chords cannot share a bar of {counts} counts "
                                        f"({meter}) evenly: write {', '.join(map(str, shares))} chords, or one token "
                                        "per count with '.' holding a chord", " ".join(tokens))
        per = counts // len(tokens)
        chords = [[token, per] for token in tokens]
    spans, at = [], 0
    for token, length in chords:
        try:
            chord = parse_chord(token, key=key)
        except ValueError as exc:
            raise InvalidRequest(FIELD, f"{where}: cannot read the chord {token!r} ({exc})", token) from None
        spans.append(ChordSpan(at * beats_per_count, length * beats_per_count, chord))
        at += length
    return tuple(spans)


def section_spans(section: ChartSection, *, key: Key, meter: str) -> list[tuple[ChordSpan, ...]]:
    return [bar_spans(tokens, key=key, meter=meter, where=section.where(i)) for i, tokens in enumerate(section.bars)]


def chart_key(chart: Chart, *, request_key: str | None) -> Key | None:
    """The key the chart's numerals are read in: its `key:` line, the request's key, or inferred
    from its letter chords (None: a chart of numerals only, read in the planner's key)."""
    if chart.key is not None:
        return chart.key
    if request_key:
        return parse_key(request_key)
    return infer_key(chart.letter_chords())


def check_chart(text: str, *, meter: str | None, key: str | None, lyrics=None) -> Chart:
    """Parse, check the sections against the lyrics (when given) and, where the meter is known,
    every bar's counts (the request's validation). Numerals with no key to read them in are read
    in the key the planner chooses."""
    chart = parse_chart(text)
    if lyrics is not None:
        check_chart_sections(chart, lyrics)
    reading = chart_key(chart, request_key=key)
    for section in chart.sections:
        if meter is not None:
            section_spans(section, key=reading or Key(0, "major"), meter=meter)
    return chart


def check_chart_sections(chart: Chart, lyrics) -> None:
    """Every tagged part of the chart names a section the song has: one of the lyrics' (by label
    or kind), the intro or the outro, or (no sections in the lyrics) one the band plays alone."""
    kinds = {s.kind for s in lyrics.sections} | {"intro", "outro"}
    labels = {s.label.strip().lower() for s in lyrics.sections}
    if not lyrics.sections:
        kinds |= {"verse", "chorus", "bridge"}
    if any(s.kind == "unknown" for s in lyrics.sections):  # untagged lines are sung as a verse
        kinds.add("verse")
    for header in chart.header_names():
        name = header.strip().lower()
        if name not in labels and not (name == section_kind(header) and name in kinds):
            have = sorted({f"[{s.label}]" for s in lyrics.sections}) or ["(no tagged sections)"]
            raise InvalidRequest(FIELD, f"the chart's [{header}] is not a section of the lyrics (they have "
                                        f"{', '.join(have)}; [intro] and [outro] are always there)", header)


def chart_text(*, bars: list[tuple[ChordSpan, ...]], key: Key, meter: str) -> str:
    """Spans written back as chart bars (one token per count with '.' when chords are uneven)."""
    counts, beats_per_count = COUNTS[meter]
    cells = []
    for spans in bars:
        names = [s.chord.name(key) for s in spans]
        lengths = [round(s.duration_beats / beats_per_count) for s in spans]
        if len(set(lengths)) == 1 and counts % len(spans) == 0:
            cells.append(" ".join(names))
        else:
            tokens = []
            for name, length in zip(names, lengths):
                tokens += [name] + ["."] * (length - 1)
            cells.append(" ".join(tokens))
    return "| " + " | ".join(cells) + " |"
