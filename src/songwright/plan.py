"""The planner: request + lyrics + style -> form, tempo, key, meter and chords per bar.

A section the request's chord chart names plays that chart's chords, as spans in beats (several
in a bar where the chart says so); every other section gets the composer's own progression.

The song's content fills whole bars at the requested tempo; a final tonic chord lands on the
next downbeat and rings out to the exact requested duration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .tunes import Tune, TuneLine, decode_melody, fit_tune, infer_tune_key, tune_of
from .charts import (Chart, ChartSection, ChordSpan, chart_key, chart_text, check_chart_sections, parse_chart,
                     section_spans)
from .errors import InvalidRequest
from .lyrics import Lyrics, Phrase
from .request import MAX_TEMPO_BPM, MIN_TEMPO_BPM, SongRequest
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
LAST_CHORUS_ENERGY = 1.15
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
    chords: list[Chord] = field(default_factory=list)  # one per bar: the chord on its downbeat
    spans: list[tuple[ChordSpan, ...]] | None = None  # per bar, for a section played from the chart
    tune: bool = False  # sings (or, instrumental, plays) the request's melody
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
    takes: dict[int, int] = field(default_factory=dict)  # bar -> the retake (its seed) that wrote it anew
    adjustments: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    chart: Chart | None = None  # the request's chord chart, read
    chart_key: Key | None = None  # the key its roman numerals are read in
    tune_notes: list[TuneLine] | None = None  # the request's melody as sung (or played), lyrics fitted

    def chart_of(self, *, kind: str, label: str) -> ChartSection | None:
        return None if self.chart is None else self.chart.section_for(kind=kind, label=label)

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

    def take_of(self, bars: range) -> int | None:
        """The retake that wrote a span of bars anew (its last retaken bar's), or None."""
        return next((self.takes[b] for b in reversed(bars) if b in self.takes), None)

    def chord_at_bar(self, bar: int) -> Chord:
        for section in self.sections:
            if section.start_bar <= bar < section.end_bar:
                return section.chords[bar - section.start_bar]
        return self.final_chord

    def spans_of_bar(self, bar: int) -> tuple[ChordSpan, ...]:
        """The chords sounding in a bar, each with its start in the bar and length in beats: a
        chart's as written; the composer's one per bar, but for a turnaround."""
        for number, section in enumerate(self.sections):
            if section.start_bar <= bar < section.end_bar:
                if section.spans is not None:
                    return section.spans[bar - section.start_bar]
                chord = section.chords[bar - section.start_bar]
                following = self.sections[number + 1] if number + 1 < len(self.sections) else None
                if bar == section.end_bar - 1 and following is not None:
                    turn = turnaround(self.style.harmony, chord=chord, into=following.chords[0], kind=following.kind)
                    if turn is not None:  # the second half of the bar leads into the next section
                        half = float(math.ceil(self.beats_per_bar / 2))
                        return (ChordSpan(0.0, half, chord), ChordSpan(half, self.beats_per_bar - half, turn))
                return (ChordSpan(0.0, float(self.beats_per_bar), chord),)
        return (ChordSpan(0.0, float(self.beats_per_bar), self.final_chord),)

    def chord_at_beat(self, beat: float) -> Chord:
        """The chord sounding at a beat of the song (the final chord after the last bar)."""
        bar = int(np.floor(beat / self.beats_per_bar + 1e-9))
        offset = beat - bar * self.beats_per_bar
        spans = self.spans_of_bar(bar)
        return next((s.chord for s in reversed(spans) if s.start_beats <= offset + 1e-9), spans[0].chord)

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
            "chord_changes": self.chord_changes(),
            "adjustments": self.adjustments,
        }

    def chord_changes(self) -> list[dict]:
        """Every chord as it starts (a chord held on over bars listed once), the final chord last."""
        changes: list[dict] = []
        for bar in range(self.content_bars + 1):
            for span in self.spans_of_bar(bar) if bar < self.content_bars else (ChordSpan(0.0, 0.0, self.final_chord),):
                name = span.chord.name(self.key)
                beat = bar * self.beats_per_bar + span.start_beats
                if changes and changes[-1]["chord"] == name and bar < self.content_bars:
                    continue
                changes.append({"chord": name, "start_beats": beat, "start_s": round(beat * self.seconds_per_beat, 6)})
        return changes

    def chart_text(self) -> str:
        """The song's chords as a chord chart (`songwright.charts`): the key, then each section the
        chart syntax can name (those of the lyrics, the intro and the outro) once, as played the
        longest time it plays (each time starts from its top), four bars a line; sections the
        planner added (solo, inst, break) as comments."""
        lines = [f"key: {self.key.name}"]
        longest: dict[str, Section] = {}
        for section in self.sections:
            known = longest.get(section.label.lower())
            if known is None or section.bars > known.bars:
                longest[section.label.lower()] = section
        for section in longest.values():
            bars = [self.spans_of_bar(section.start_bar + i) for i in range(section.bars)]
            comment = "# " if section.kind in ("solo", "inst", "break") and not section.phrases else ""
            lines.append(f"{comment}[{section.label}]")
            for at in range(0, len(bars), 4):
                lines.append(comment + chart_text(bars=bars[at:at + 4], key=self.key, meter=self.time_signature))
        return "\n".join(lines) + "\n"


def make_plan(request: SongRequest, lyrics: Lyrics, style: StyleProfile, seed: int, sample_rate: int,
              lead_voice: str | None = None) -> Plan:
    streams = Streams(seed)
    tune = (tune_of(decode_melody(request.melody), track=request.melody_track, tempo_bpm=request.tempo_bpm)
            if request.melody is not None else None)
    if request.tempo_bpm is not None:
        tempo = request.tempo_bpm
    elif tune is not None and tune.tempo_bpm is not None:
        tempo = float(min(max(tune.tempo_bpm, MIN_TEMPO_BPM), MAX_TEMPO_BPM))
    else:
        tempo = _choose_tempo(style, streams.rng("tempo", *style.genres, *style.moods))
    meter = request.time_signature or (tune.meter if tune is not None else None) or style.time_signature
    chart = parse_chart(request.chords) if request.chords is not None else None
    reading = chart_key(chart, request_key=request.key) if chart is not None else None
    if request.key:
        key = parse_key(request.key)
    elif reading is not None:
        key = reading
    elif tune is not None:
        key = tune.key or infer_tune_key(tune)
    else:
        key = _choose_key(style, streams.rng("key", *style.genres, *style.moods))
    vocal = is_vocal(request, lyrics, style)
    bar_s = BEATS_PER_BAR[meter] * 60.0 / tempo
    content_bars = math.floor((request.duration_s - MIN_RINGOUT_S) / bar_s + 1e-9)
    if content_bars < 2:
        raise InvalidRequest("duration_s", f"is too short for two bars plus an ending at {tempo:g} BPM in {meter}; "
                             f"ask for at least {2 * bar_s + MIN_RINGOUT_S:.1f} s or a faster tempo", request.duration_s)
    plan = Plan(request, style, seed, tempo, key, meter, [], content_bars,
                parse_roman(cadence_of(style.harmony, key.mode)[1], key), sample_rate, vocal, lead_voice)
    if chart is not None:
        plan.chart, plan.chart_key = chart, reading or key
        _check_chart_sections(plan, lyrics)
    progressions = _choose_progressions(plan, streams)
    if tune is not None:
        plan.sections = _tune_form(plan, lyrics, tune)
    else:
        plan.sections = _form(plan, lyrics, {slot: len(chords) for slot, chords in progressions.items()})
    _assign_chords(plan, progressions)
    return plan


def _tune_form(plan: Plan, lyrics: Lyrics, tune: Tune) -> list[Section]:
    """The form around your melody: an intro, the tune once per round of its phrases (each lyric
    line on one phrase, the tune again from the top while lines are left; a round takes the kind
    and label of the lyric section its first line is in), an instrumental round between sung ones
    and a longer outro where the duration leaves room, and the outro."""
    bpb = plan.beats_per_bar
    tune_bars = max(1, math.ceil(max(n.start_beats + n.duration_beats for n in tune.notes) / bpb - 1e-9))
    lines = [(s, p) for s in lyrics.sections for p in s.phrases] if plan.vocal else []
    rounds = max(1, math.ceil(len(lines) / len(tune.phrases())))
    intro = Section("intro", "intro", 0, _instrumental_bars(plan, "intro", "intro"))
    outro = Section("outro", "outro", 0, 2)
    per_round = len(tune.phrases())
    body = []
    for r in range(rounds):
        mine = lines[r * per_round:(r + 1) * per_round]
        kind = (mine[0][0].kind if mine[0][0].kind != "unknown" else "verse") if mine else "verse"
        label = mine[0][0].label if mine else "verse"
        body.append(Section(kind, label, 0, tune_bars, [p for _, p in mine], tune=True))
    spare = plan.content_bars - intro.bars - outro.bars - rounds * tune_bars
    if spare < 0:
        intro.bars = max(1, intro.bars + spare)
        spare = plan.content_bars - intro.bars - outro.bars - rounds * tune_bars
    if spare < 0:
        need_s = (intro.bars + outro.bars + rounds * tune_bars) * plan.bar_s + MIN_RINGOUT_S
        raise InvalidRequest("duration_s", f"is too short for the melody ({tune_bars} bars at {plan.tempo_bpm:g} BPM) "
                                           f"sung {rounds} time(s) for the lyrics' {len(lines)} lines: ask for at "
                                           f"least {need_s:.1f} s", plan.request.duration_s)
    at = len(body) - 1 if len(body) > 1 else len(body)
    while spare >= tune_bars + 4 and tune_bars >= 2:  # a round for the band before the last sung one
        body.insert(at, Section("inst", "inst", 0, tune_bars))
        spare -= tune_bars
        plan.adjustments.append("an instrumental round of the melody's length to fill the duration")
    outro.bars += spare
    sections = [intro] + body + [outro]
    place_sections(sections)
    plan.tune_notes = fit_tune(tune, sections=[(s.start_bar * bpb, s.phrases) for s in sections if s.tune],
                               voice=plan.lead_voice, vocal=plan.vocal, warnings=plan.warnings)
    return sections


def _check_chart_sections(plan: Plan, lyrics: Lyrics) -> None:
    check_chart_sections(plan.chart, lyrics)
    for section in plan.chart.sections:  # every bar's counts add up in this meter, in this key
        section_spans(section, key=plan.chart_key, meter=plan.time_signature)


def is_vocal(request: SongRequest, lyrics: Lyrics, style: StyleProfile) -> bool:
    return lyrics.has_words and not (request.instrumental or style.instrumental)


def _choose_tempo(style: StyleProfile, rng: np.random.Generator) -> float:
    return float(round(rng.uniform(*style.tempo_range_bpm)))


def _choose_key(style: StyleProfile, rng: np.random.Generator) -> Key:
    mode = style.mode if style.mode != "either" else ("major" if rng.random() < 0.5 else "minor")
    tonics = MAJOR_TONICS if mode == "major" else MINOR_TONICS
    return parse_key(f"{tonics[rng.integers(len(tonics))]} {mode}")


# ---------------------------------------------------------------- form

GOOD_BARS = (2, 4, 8, 12, 16)


def good_bars(*, bars: int, loop_bars: int) -> int:
    """The section length a songwriter would write for `bars` bars of music: 2, 4, 8, 12 or 16
    (then whole 8s), and whole loops of a chord progression of `loop_bars` (a 12-bar blues: 12)."""
    fits = [g for g in GOOD_BARS if g >= bars and (g % loop_bars == 0 or loop_bars % g == 0)]
    if fits:
        return fits[0]
    step = loop_bars if loop_bars > 8 else 8
    return -(-bars // step) * step


def place_sections(sections: list[Section], *, start_bar: int = 0, counts: dict[str, int] | None = None) -> int:
    """Lay `sections` end to end from `start_bar`, each at its kind's energy, numbering each kind's
    occurrences after the `counts` before them (kind -> how many; updated). Returns the bar after
    the last."""
    counts = {} if counts is None else counts
    for section in sections:
        section.start_bar = start_bar
        start_bar += section.bars
        section.occurrence = counts.get(section.kind, 0)
        counts[section.kind] = section.occurrence + 1
        section.energy = ENERGY.get(section.kind, 0.7)
    return start_bar


def _form(plan: Plan, lyrics: Lyrics, loops: dict[str, int]) -> list[Section]:
    if plan.vocal:
        sections = _sung_form(plan, lyrics, loops)
    else:
        sections = _instrumental_form(plan, lyrics, loops)
    _fit_to_bars(plan, sections, loops)
    start = place_sections(sections)
    choruses = [s for s in sections if s.kind in ("chorus", "hook")]
    if len(choruses) >= 2:
        choruses[-1].energy = LAST_CHORUS_ENERGY  # the last chorus is the biggest
    assert start == plan.content_bars, (start, plan.content_bars)
    return sections


def _phrase_bars(plan: Plan, phrase: Phrase, relaxed: bool) -> int:
    slots = plan.beats_per_bar * (2 if relaxed else 4)  # eighths when relaxed, sixteenths at most
    per_bar = min(slots, int(plan.bar_s * MAX_SYLLABLES_PER_S))
    bars = max(1, math.ceil((phrase.syllable_count + 1) / max(per_bar, 1)))
    if relaxed and plan.bar_s < 2.4:
        bars = max(bars, 2)
    return bars


def _set_lines(plan: Plan, section: Section, loops: dict[str, int], *, relaxed: bool, tail: bool = True) -> None:
    """Every line of a section gets the bars of its longest; the section is rounded up to a good
    length in whole chord loops, the bars after the last line left to the band."""
    line = max(_phrase_bars(plan, p, relaxed=relaxed) for p in section.phrases)
    section.phrase_bars = [line] * len(section.phrases)
    sung = line * len(section.phrases)
    chart = plan.chart_of(kind=section.kind, label=section.label)
    if chart is not None and tail:  # the chart as written, played again as often as the lines need
        section.bars = -(-sung // len(chart.bars)) * len(chart.bars)
    else:
        section.bars = good_bars(bars=sung, loop_bars=loops[_vocabulary_slot(section.kind)]) if tail else sung


def _sung_form(plan: Plan, lyrics: Lyrics, loops: dict[str, int]) -> list[Section]:
    sections: list[Section] = []
    for lyric in lyrics.sections:
        kind = lyric.kind if lyric.kind != "unknown" else "verse"
        section = Section(kind, lyric.label, 0, 0, list(lyric.phrases))
        if section.phrases:
            _set_lines(plan, section, loops, relaxed=True)
        else:
            section.bars = _instrumental_bars(plan, kind, lyric.label)
        if lyric.kind == "unknown":
            plan.warnings.append(f"unknown section tag [{lyric.label}]: the tag is not sung; its lines are sung as a verse")
        sections.append(section)
    if not sections or sections[0].kind != "intro":
        sections.insert(0, Section("intro", "intro", 0, _instrumental_bars(plan, "intro", "intro")))
        plan.adjustments.append("added an intro")
    if sections[-1].kind != "outro":
        sections.append(Section("outro", "outro", 0, _instrumental_bars(plan, "outro", "outro")))
        plan.adjustments.append("added an outro")
    return sections


def _instrumental_bars(plan: Plan, kind: str, label: str) -> int:
    chart = plan.chart_of(kind=kind, label=label)
    if chart is not None and kind not in ("intro", "outro"):
        return len(chart.bars)
    target = {"intro": INTRO_TARGET_S, "outro": OUTRO_TARGET_S}.get(kind)
    if target is not None:
        return min((2, 4, 8), key=lambda bars: abs(bars * plan.bar_s - target))
    return {"break": 2, "inst": 4, "solo": 8}.get(kind, 4)


def _instrumental_form(plan: Plan, lyrics: Lyrics, loops: dict[str, int]) -> list[Section]:
    """Without words: the tags' structure if they give one, else A-B-A-B-bridge-B sized to the time."""
    tagged = [s.kind for s in lyrics.sections if s.kind not in ("unknown", "inst", "intro", "outro")]
    if lyrics.has_words:
        plan.adjustments.append("instrumental: the lyrics' words are not sung, their structure is kept")
    intro = Section("intro", "intro", 0, _instrumental_bars(plan, "intro", "intro"))
    outro = Section("outro", "outro", 0, _instrumental_bars(plan, "outro", "outro"))
    free = plan.content_bars - intro.bars - outro.bars
    phrase = 8 if plan.bar_s < 2.4 and free >= 16 else 4
    sizes = {k: 2 if k == "break" else good_bars(bars=max(phrase, loops[_vocabulary_slot(k)]), loop_bars=loops[_vocabulary_slot(k)])
             for k in ("verse", "chorus", "bridge", *tagged)}
    for k in sizes:
        chart = plan.chart_of(kind=k, label=k)
        if chart is not None:  # the chart as written, again as often as a phrase needs
            sizes[k] = -(-max(phrase, len(chart.bars)) // len(chart.bars)) * len(chart.bars)
    body = tagged or []
    if not tagged:
        for kind in ("verse", "chorus", "verse", "chorus", "bridge", "chorus"):
            if sum(sizes[k] for k in body) + sizes[kind] > max(free, sizes["verse"]):
                break
            body.append(kind)
        body = body or ["verse"]
        if len(body) >= 2 and body[-1] != "chorus":
            body[-1] = "chorus"
    return [intro] + [Section(k, k, 0, sizes[k]) for k in body] + [outro]


def _fit_to_bars(plan: Plan, sections: list[Section], loops: dict[str, int]) -> None:
    target = plan.content_bars
    total = sum(s.bars for s in sections)
    if total > target:
        _shrink(plan, sections, total - target, loops)
    total = sum(s.bars for s in sections)
    if total < target:
        _grow(plan, sections, target - total)


def _shrink(plan: Plan, sections: list[Section], excess: int, loops: dict[str, int]) -> None:
    """Too long: the band's bars after the sung lines go first, then intro and outro down to two
    bars, then whole sections sing their lines in fewer bars, then instrumental sections shorten."""
    sung = [s for s in sections if s.phrases]
    for section in sorted(sung, key=lambda s: -(s.bars - sum(s.phrase_bars))):
        if excess <= 0:
            break
        tail = section.bars - sum(section.phrase_bars)
        section.bars -= tail
        excess -= tail
    for section in (sections[0], sections[-1]):
        if excess > 0 and not section.phrases and section.bars > 2:
            cut = section.bars - 2
            section.bars -= cut
            excess -= cut
    for section in sorted(sung, key=lambda s: -s.bars):
        if excess <= 0:
            break
        before = section.bars
        _set_lines(plan, section, loops, relaxed=False, tail=False)
        excess -= before - section.bars
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
            f"is too short for these lyrics at {plan.tempo_bpm:g} BPM: their {phrases} phrases in {len(sections)} "
            f"sections (each at least a bar) need at least "
            f"{need_s:.1f} s with the final chord; ask for a longer duration, a faster tempo or fewer words",
            plan.request.duration_s,
        )
    plan.adjustments.append("tightened the form to fit the duration")


MAX_CHORUSES = 4
INSTRUMENTAL_KINDS = ("solo", "inst", "break")


def _grow(plan: Plan, sections: list[Section], spare: int) -> None:
    """Fill spare bars the way an arranger would, in blocks of 4 and 8 bars: a full intro and
    outro, the chorus again after an instrumental break (four choruses at most), instrumental
    blocks between sung sections (never two side by side), a 2-bar breakdown before the last chorus."""
    intro, outro = sections[0], sections[-1]
    for section, target_s in ((intro, INTRO_TARGET_S), (outro, OUTRO_TARGET_S + 4 * plan.bar_s)):
        for bars in (2, 4, 8):
            if bars > section.bars and bars - section.bars <= spare and (bars - 2) * plan.bar_s <= target_s:
                spare -= bars - section.bars
                section.bars = bars
    for section in sections[1:-1]:  # a section of at least one whole 4-bar phrase
        if section.bars == 2 and section.kind != "break" and spare >= 2:
            section.bars = 4
            spare -= 2
    chorus = next((s for s in reversed(sections) if s.kind in ("chorus", "hook") and s.phrases), None)
    middle = "solo" if plan.vocal else "bridge"
    repeats = 0
    choruses = sum(s.kind in ("chorus", "hook") for s in sections)
    block = 8 if plan.bar_s < 2.4 else 4
    while chorus is not None and spare >= chorus.bars + block and choruses < MAX_CHORUSES:
        copy = Section(chorus.kind, chorus.label, 0, chorus.bars, list(chorus.phrases), list(chorus.phrase_bars))
        sections[-1:-1] = [Section(middle, middle, 0, block), copy]
        spare -= block + chorus.bars
        repeats += 1
        choruses += 1
    if repeats:
        plan.adjustments.append(f"sang the last {chorus.label} {repeats} more time(s), after an instrumental break, to fill the duration")
    kinds = ("inst", "solo") if plan.vocal else ("inst", "chorus")
    inserted = 0
    while spare >= 4:
        bars = 8 if spare >= 8 else 4
        places = [i for i in range(1, len(sections))
                  if sections[i - 1].kind not in INSTRUMENTAL_KINDS + ("intro",) and sections[i].kind not in INSTRUMENTAL_KINDS]
        places = places or [len(sections) - 1]  # no room left between sung sections: before the outro
        at = places[len(places) // 2] if inserted % 2 == 0 else places[-1]
        kind = kinds[inserted % 2]
        sections.insert(at, Section(kind, kind, 0, bars))
        spare -= bars
        inserted += 1
    last_chorus = max((i for i, s in enumerate(sections) if s.kind in ("chorus", "hook")), default=None)
    if spare >= 2 and last_chorus is not None and last_chorus > 1 and sections[last_chorus - 1].kind != "break":
        sections.insert(last_chorus, Section("break", "break", 0, 2))
        spare -= 2
    while spare >= 2:
        grow = 4 if outro.bars >= 4 and spare >= 4 else 2
        outro.bars += grow
        spare -= grow
    outro.bars += spare  # an odd bar left over lengthens the outro


# ---------------------------------------------------------------- harmony

def _vocabulary_slot(kind: str) -> str:
    return {"chorus": "chorus", "hook": "chorus", "inst": "chorus", "solo": "chorus", "outro": "chorus",
            "bridge": "bridge", "pre-chorus": "bridge", "break": "bridge"}.get(kind, "verse")


def _choose_progressions(plan: Plan, streams: Streams) -> dict[str, list[Chord]]:
    vocabulary = load_styles()["harmony"][plan.style.harmony][plan.key.mode]
    chosen: dict[str, list[Chord]] = {}
    for slot in ("verse", "chorus", "bridge"):
        taken = [" ".join(c.symbol for c in chords) for chords in chosen.values()]
        options = [o for o in vocabulary[slot] if o not in taken] or vocabulary[slot]  # each slot its own loop
        symbols = options[streams.rng("chords", slot).integers(len(options))].split()
        chosen[slot] = [parse_roman(s, plan.key) for s in symbols]
    return chosen


def _assign_chords(plan: Plan, chosen: dict[str, list[Chord]]) -> None:
    for section in plan.sections:
        progression = chosen[_vocabulary_slot(section.kind)]
        section.chords = [progression[i % len(progression)] for i in range(section.bars)]
        chart = plan.chart_of(kind=section.kind, label=section.label)
        if chart is not None:
            _play_chart(plan, section, chart)
        elif section.tune:
            _harmonise(plan, section, [c for chords in chosen.values() for c in chords])
    if plan.sections[-1].spans is None:  # the cadence never overwrites a user's bars
        _cadence(plan)


TUNE_FIT = {"tone": 1.0, "scale": 0.0, "clash": -1.0}
STRONG_WEIGHT = 1.5
OWN_CHORD_BONUS = 0.25


def _harmonise(plan: Plan, section: Section, vocabulary: list[Chord]) -> None:
    """Each bar of a section singing the request's melody gets the chord of the style's
    progressions that best holds the melody's notes in that bar (their tones count, a note a
    semitone from a chord tone counts against, a note on a strong beat half as much again); the
    progression's own chord for the bar wins a tie and a little more."""
    bpb = plan.beats_per_bar
    candidates = list({(c.root_pc, c.intervals): c for c in vocabulary}.values())
    for i in range(section.bars):
        start = (section.start_bar + i) * bpb
        notes = [n for n in plan.tune_notes if n.start_beats < start + bpb and n.start_beats + n.duration_beats > start]
        if not notes:
            continue
        own = section.chords[i]

        def fit(chord: Chord) -> float:
            tones = set(chord.pitch_classes())
            total = OWN_CHORD_BONUS if (chord.root_pc, chord.intervals) == (own.root_pc, own.intervals) else 0.0
            for note in notes:
                length = min(note.start_beats + note.duration_beats, start + bpb) - max(note.start_beats, start)
                offset = note.start_beats - start
                weight = STRONG_WEIGHT if offset >= 0 and abs(offset % (bpb / 2 if bpb % 2 == 0 else bpb)) < 1e-6 else 1.0
                pc = note.pitch % 12
                kind = "tone" if pc in tones else "clash" if any((pc - t) % 12 in (1, 11) for t in tones) else "scale"
                total += TUNE_FIT[kind] * length * weight
            return total

        section.chords[i] = max([own] + candidates, key=fit)


def _play_chart(plan: Plan, section: Section, chart: ChartSection) -> None:
    """The section plays its chart from the top, again as often as it is long; a section shorter
    than its chart, or not a whole number of times as long, is reported."""
    bars = section_spans(chart, key=plan.chart_key, meter=plan.time_signature)
    section.spans = [bars[i % len(bars)] for i in range(section.bars)]
    section.chords = [spans[0].chord for spans in section.spans]
    times, rest = divmod(section.bars, len(bars))
    if times == 0:
        plan.warnings.append(f"[{section.label}] plays only the first {section.bars} of its chart's {len(bars)} bars "
                             "(cut to fit the duration)")
    elif rest:
        plan.warnings.append(f"[{section.label}] plays its chart of {len(bars)} bars {times} time(s) and then only "
                             f"its first {rest} bar(s), to fit the duration")
    elif times > 1:
        plan.adjustments.append(f"[{section.label}] plays its chart of {len(bars)} bars {times} times, as long as "
                                "its lines")


def cadence_of(harmony: str, mode: str) -> tuple[list[str], str]:
    """The chords a harmony ends a song with (styles.toml [cadence]): the bars before the final
    chord, and the final chord."""
    tables = load_styles()["cadence"]
    table = tables.get(harmony, tables["default"])[mode]
    return table["before"].split(), table["final"]


def turnaround(harmony: str, *, chord: Chord, into: Chord, kind: str) -> Chord | None:
    """The chord a harmony plays on the second half of a section's last bar to lead into the next
    section's first chord (styles.toml [cadence] `turnaround`): its dominant seventh ("V7": jazz,
    bossa, lo-fi, R&B, at every section's end) or dominant triad ("V": pop, country, folk, disco,
    into a chorus); None where the bar's chord already is that dominant or leads nowhere."""
    table = load_styles()["cadence"].get(harmony, {})
    quality = table.get("turnaround")
    if quality is None or not into.intervals or not chord.intervals or kind in ("outro", "break"):
        return None
    if table.get("turnaround_into") and kind not in table["turnaround_into"]:
        return None
    root = (into.root_pc + 7) % 12
    intervals = (0, 4, 7, 10) if quality == "V7" else (0, 4, 7)
    if chord.root_pc == root and 4 in chord.intervals or chord.root_pc == into.root_pc:
        return None  # already there, or no change to lead into
    return Chord(f"{quality}/{into.symbol}", root, intervals)


def _cadence(plan: Plan) -> None:
    """End on the genre's cadence (ii7-V7-Imaj7 in jazz, IV7-V7-I7 in blues, bVI-bVII-I in metal...),
    so the final chord lands as one."""
    last = plan.sections[-1]
    before, _ = cadence_of(plan.style.harmony, plan.key.mode)
    before = before[-last.bars:]
    for i, symbol in enumerate(before):
        last.chords[last.bars - len(before) + i] = parse_roman(symbol, plan.key)
