"""The planner: request + lyrics + style -> form, tempo, key, meter and chords per bar.

The song's content fills whole bars at the requested tempo; a final tonic chord lands on the
next downbeat and rings out to the exact requested duration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import InvalidRequest
from .lyrics import Lyrics, Phrase
from .request import SongRequest
from .streams import Streams
from .styles import StyleProfile, load_styles
from .theory import Chord, Key, parse_key, parse_roman

MIN_RINGOUT_S = 2.0
INTRO_TARGET_S = 8.0
OUTRO_TARGET_S = 6.0
MAX_SYLLABLES_PER_S = 6.5
BEATS_PER_BAR = {"4/4": 4, "3/4": 3, "6/8": 3}  # quarter-note beats
STEPS_PER_BAR = {"4/4": 16, "3/4": 12, "6/8": 12}  # sixteenth notes
ENERGY = {"intro": 0.45, "verse": 0.65, "pre-chorus": 0.75, "chorus": 1.0, "hook": 1.0, "bridge": 0.7,
          "inst": 0.85, "solo": 0.9, "break": 0.35, "outro": 0.55, "unknown": 0.7}
MAJOR_TONICS = ("C", "G", "D", "A", "E", "F", "Bb", "Eb")
MINOR_TONICS = ("A", "E", "D", "B", "C", "G", "F#", "F")


@dataclass
class Section:
    kind: str
    label: str
    start_bar: int
    bars: int
    phrases: list[Phrase] = field(default_factory=list)
    phrase_bars: list[int] = field(default_factory=list)
    chords: list[Chord] = field(default_factory=list)  # one per bar
    occurrence: int = 0  # 0 for the first section of this kind, 1 for the second...
    energy: float = 0.6

    @property
    def end_bar(self) -> int:
        return self.start_bar + self.bars

    @property
    def sung(self) -> bool:
        return bool(self.phrases)


@dataclass
class Plan:
    request: SongRequest
    style: StyleProfile
    seed: int
    tempo_bpm: float
    key: Key
    time_signature: str
    sections: list[Section]
    content_bars: int
    final_chord: Chord
    sample_rate: int
    vocal: bool
    lead_voice: str | None = None  # the MBROLA voice of the vocal line, once cast
    adjustments: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def beats_per_bar(self) -> int:
        return BEATS_PER_BAR[self.time_signature]

    @property
    def steps_per_bar(self) -> int:
        return STEPS_PER_BAR[self.time_signature]

    @property
    def seconds_per_beat(self) -> float:
        return 60.0 / self.tempo_bpm

    @property
    def bar_s(self) -> float:
        return self.beats_per_bar * self.seconds_per_beat

    @property
    def duration_s(self) -> float:
        return self.request.duration_s

    @property
    def total_samples(self) -> int:
        return round(self.duration_s * self.sample_rate)

    @property
    def ending_beat(self) -> float:
        """The beat where the final chord lands."""
        return self.content_bars * self.beats_per_bar

    def chord_at_bar(self, bar: int) -> Chord:
        for section in self.sections:
            if section.start_bar <= bar < section.end_bar:
                return section.chords[bar - section.start_bar]
        return self.final_chord

    def to_dict(self) -> dict:
        return {
            "tempo_bpm": self.tempo_bpm,
            "key": self.key.name,
            "lead_voice": self.lead_voice,
            "time_signature": self.time_signature,
            "bar_s": round(self.bar_s, 6),
            "content_bars": self.content_bars,
            "ending_s": round(self.content_bars * self.bar_s, 6),
            "final_chord": self.final_chord.name(self.key),
            "sections": [
                {
                    "kind": s.kind,
                    "label": s.label,
                    "start_bar": s.start_bar,
                    "bars": s.bars,
                    "start_s": round(s.start_bar * self.bar_s, 6),
                    "end_s": round(s.end_bar * self.bar_s, 6),
                    "chords": [c.name(self.key) for c in s.chords],
                    "lines": [p.text for p in s.phrases],
                }
                for s in self.sections
            ],
            "adjustments": self.adjustments,
        }


def make_plan(request: SongRequest, lyrics: Lyrics, style: StyleProfile, seed: int, sample_rate: int,
              lead_voice: str | None = None) -> Plan:
    streams = Streams(seed)
    tempo = request.tempo_bpm if request.tempo_bpm is not None else _choose_tempo(style, streams.rng("tempo", *style.genres, *style.moods))
    meter = request.time_signature or style.time_signature
    key = parse_key(request.key) if request.key else _choose_key(style, streams.rng("key", *style.genres, *style.moods))
    vocal = is_vocal(request, lyrics, style)
    bar_s = BEATS_PER_BAR[meter] * 60.0 / tempo
    content_bars = math.floor((request.duration_s - MIN_RINGOUT_S) / bar_s + 1e-9)
    if content_bars < 2:
        raise InvalidRequest("duration_s", f"is too short for two bars plus an ending at {tempo:g} BPM in {meter}; "
                             f"ask for at least {2 * bar_s + MIN_RINGOUT_S:.1f} s or a faster tempo", request.duration_s)
    plan = Plan(request, style, seed, tempo, key, meter, [], content_bars, parse_roman("i" if key.mode == "minor" else "I", key),
                sample_rate, vocal, lead_voice)
    plan.sections = _form(plan, lyrics)
    _assign_chords(plan, streams)
    return plan


def is_vocal(request: SongRequest, lyrics: Lyrics, style: StyleProfile) -> bool:
    return lyrics.has_words and not (request.instrumental or style.instrumental)


def _choose_tempo(style: StyleProfile, rng: np.random.Generator) -> float:
    return float(round(rng.uniform(*style.tempo_range_bpm)))


def _choose_key(style: StyleProfile, rng: np.random.Generator) -> Key:
    mode = style.mode if style.mode != "either" else ("major" if rng.random() < 0.5 else "minor")
    tonics = MAJOR_TONICS if mode == "major" else MINOR_TONICS
    return parse_key(f"{tonics[rng.integers(len(tonics))]} {mode}")


# ---------------------------------------------------------------- form

def _form(plan: Plan, lyrics: Lyrics) -> list[Section]:
    if plan.vocal:
        sections = _sung_form(plan, lyrics)
    else:
        sections = _instrumental_form(plan, lyrics)
    _fit_to_bars(plan, sections)
    start = 0
    counts: dict[str, int] = {}
    for section in sections:
        section.start_bar = start
        start += section.bars
        section.occurrence = counts.get(section.kind, 0)
        counts[section.kind] = section.occurrence + 1
        section.energy = ENERGY.get(section.kind, 0.7)
    assert start == plan.content_bars, (start, plan.content_bars)
    return sections


def _phrase_bars(plan: Plan, phrase: Phrase, relaxed: bool) -> int:
    slots = plan.beats_per_bar * (2 if relaxed else 4)  # eighths when relaxed, sixteenths at most
    per_bar = min(slots, int(plan.bar_s * MAX_SYLLABLES_PER_S))
    bars = max(1, math.ceil((phrase.syllable_count + 1) / max(per_bar, 1)))
    if relaxed and plan.bar_s < 2.4:
        bars = max(bars, 2)
    return bars


def _sung_form(plan: Plan, lyrics: Lyrics) -> list[Section]:
    sections: list[Section] = []
    for lyric in lyrics.sections:
        kind = lyric.kind if lyric.kind != "unknown" else "verse"
        section = Section(kind, lyric.label, 0, 0, list(lyric.phrases))
        if section.phrases:
            section.phrase_bars = [_phrase_bars(plan, p, relaxed=True) for p in section.phrases]
            section.bars = sum(section.phrase_bars)
        else:
            section.bars = _instrumental_bars(plan, kind)
        if lyric.kind == "unknown":
            plan.warnings.append(f"unknown section tag [{lyric.label}] sung as a verse")
        sections.append(section)
    if not sections or sections[0].kind != "intro":
        sections.insert(0, Section("intro", "intro", 0, _instrumental_bars(plan, "intro")))
        plan.adjustments.append("added an intro")
    if sections[-1].kind != "outro":
        sections.append(Section("outro", "outro", 0, _instrumental_bars(plan, "outro")))
        plan.adjustments.append("added an outro")
    return sections


def _instrumental_bars(plan: Plan, kind: str) -> int:
    target = {"intro": INTRO_TARGET_S, "outro": OUTRO_TARGET_S}.get(kind)
    if target is not None:
        return max(2, min(8, 2 * round(target / plan.bar_s / 2)))
    return {"break": 2, "inst": 4, "solo": 8}.get(kind, 4)


def _instrumental_form(plan: Plan, lyrics: Lyrics) -> list[Section]:
    """Without words: the tags' structure if they give one, else A-B-A-B-bridge-B sized to the time."""
    tagged = [s.kind for s in lyrics.sections if s.kind not in ("unknown", "inst", "intro", "outro")]
    if lyrics.has_words:
        plan.adjustments.append("instrumental: the lyrics' words are not sung, their structure is kept")
    intro = Section("intro", "intro", 0, _instrumental_bars(plan, "intro"))
    outro = Section("outro", "outro", 0, _instrumental_bars(plan, "outro"))
    free = plan.content_bars - intro.bars - outro.bars
    phrase = 8 if plan.bar_s < 2.4 and free >= 16 else 4
    room = max(1, free // phrase)
    body = tagged or ["verse", "chorus", "verse", "chorus", "bridge", "chorus"][:room]
    if not tagged and len(body) >= 2 and body[-1] != "chorus":
        body[-1] = "chorus"
    return [intro] + [Section(k, k, 0, phrase if k != "break" else 2) for k in body] + [outro]


def _fit_to_bars(plan: Plan, sections: list[Section]) -> None:
    target = plan.content_bars
    total = sum(s.bars for s in sections)
    if total > target:
        _shrink(plan, sections, total - target)
    elif total < target:
        _grow(plan, sections, target - total)


def _shrink(plan: Plan, sections: list[Section], excess: int) -> None:
    # 1. sung phrases from two bars to the fewest they need;
    for section in sections:
        for i, phrase in enumerate(section.phrases):
            tight = _phrase_bars(plan, phrase, relaxed=False)
            while excess > 0 and section.phrase_bars[i] > tight:
                section.phrase_bars[i] -= 1
                section.bars -= 1
                excess -= 1
    # 2. then instrumental sections, the longest first; at the very end, intro and outro may go.
    while excess > 0:
        unsung = [s for s in sections if not s.phrases and s.bars > (0 if s.kind in ("intro", "outro") else 1)]
        if not unsung:
            break
        longest = max(unsung, key=lambda s: (s.bars, s.kind not in ("intro", "outro")))
        longest.bars -= 1
        excess -= 1
    sections[:] = [s for s in sections if s.bars > 0]
    if excess > 0:
        phrases = sum(len(s.phrases) for s in sections)
        need_s = sum(s.bars for s in sections) * plan.bar_s + MIN_RINGOUT_S
        raise InvalidRequest(
            "duration_s",
            f"is too short for these lyrics at {plan.tempo_bpm:g} BPM: their {phrases} phrases need at least "
            f"{need_s:.1f} s with the final chord; ask for a longer duration, a faster tempo or fewer words",
            plan.request.duration_s,
        )
    plan.adjustments.append("tightened the form to fit the duration")


def _grow(plan: Plan, sections: list[Section], spare: int) -> None:
    """Fill spare bars the way an arranger would: a full intro and outro, sections of at least
    four bars, the chorus repeated after a break, instrumental solos, then longer section tails."""
    intro, outro = sections[0], sections[-1]
    targets = [(intro, min(8, round(INTRO_TARGET_S / plan.bar_s)))]
    targets += [(section, 4) for section in sections[1:-1]]
    targets += [(outro, min(8, round(OUTRO_TARGET_S / plan.bar_s) + 2))]
    for section, bars in targets:
        grow = min(spare, max(0, bars - section.bars))
        section.bars += grow
        spare -= grow
    chorus = next((s for s in reversed(sections) if s.kind in ("chorus", "hook") and s.phrases), None)
    middle = "solo" if plan.vocal else "bridge"
    repeats = 0
    while chorus is not None and spare >= chorus.bars + 4 and repeats < 2:
        copy = Section(chorus.kind, chorus.label, 0, chorus.bars, list(chorus.phrases), list(chorus.phrase_bars))
        sections[-1:-1] = [Section(middle, middle, 0, 4), copy]
        spare -= 4 + chorus.bars
        repeats += 1
    if repeats:
        plan.adjustments.append(f"sang the last {chorus.label} {repeats} more time(s), after an instrumental break, to fill the duration")
    inserted = 0
    while spare >= 8 and inserted < 3:
        kind = ("solo" if plan.vocal else "chorus") if inserted % 2 == 0 else "inst"
        sections.insert(-2 if len(sections) > 3 else -1, Section(kind, kind, 0, 8))
        spare -= 8
        inserted += 1
    middles = sorted(range(1, len(sections) - 1), key=lambda i: (sections[i].kind not in ("chorus", "hook", "solo", "inst"), i))
    while spare > 0:
        for i in middles + [len(sections) - 1]:
            grow = min(spare, 2 if i != len(sections) - 1 else 1)
            sections[i].bars += grow
            spare -= grow
            if spare == 0:
                break


# ---------------------------------------------------------------- harmony

def _vocabulary_slot(kind: str) -> str:
    return {"chorus": "chorus", "hook": "chorus", "inst": "chorus", "solo": "chorus", "outro": "chorus",
            "bridge": "bridge", "pre-chorus": "bridge", "break": "bridge"}.get(kind, "verse")


def _assign_chords(plan: Plan, streams: Streams) -> None:
    vocabulary = load_styles()["harmony"][plan.style.harmony][plan.key.mode]
    chosen: dict[str, list[Chord]] = {}
    for slot in ("verse", "chorus", "bridge"):
        options = vocabulary[slot]
        symbols = options[streams.rng("chords", slot).integers(len(options))].split()
        chosen[slot] = [parse_roman(s, plan.key) for s in symbols]
    for section in plan.sections:
        progression = chosen[_vocabulary_slot(section.kind)]
        section.chords = [progression[i % len(progression)] for i in range(section.bars)]
    _cadence(plan)


def _cadence(plan: Plan) -> None:
    """End on a dominant (or its stand-in) so the final tonic lands as a cadence."""
    last = plan.sections[-1]
    harmony = plan.style.harmony
    symbol = {"blues": "V7", "jazz": "V7", "bossa": "V7", "rock": "IV" if plan.key.mode == "major" else "VII",
              "metal": "VII5" if plan.key.mode == "minor" else "bVII", "ambient": "IV" if plan.key.mode == "major" else "VI"
              }.get(harmony, "V" if plan.key.mode == "major" else "V7")
    last.chords[-1] = parse_roman(symbol, plan.key)
    if last.bars >= 2 and symbol in ("V", "V7"):  # not VI, VII or VII5: a iv before those is no cadence
        last.chords[-2] = parse_roman("IV" if plan.key.mode == "major" else "iv", plan.key)
