"""Melodies: the vocal line (a note per syllable) and the lead in instrumental sections.

A phrase first gets its rhythm, from the words' stress and the genre's rhythm vocabulary, with a
breath at the end; then its pitches, over the chords that sound under the final rhythm: chord tones
on strong notes, tones of each chord's own scale between them, along a contour. The first chorus
line is the hook's motif, the other chorus lines develop it, and the chorus sits above the verse;
a line whose words were sung before is sung alike, and the song's last note resolves.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..lyrics import Phrase, phrase_stress, rap_tag
from ..plan import Plan, Section
from ..score import Part
from ..singer.voices import VOICES
from ..streams import Streams
from ..styles import StyleProfile, load_styles
from ..theory import Chord, Key
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


TICKS_PER_BEAT = 12  # a 16th is 3 ticks, a triplet 8th 4
STRESSED_COST = {4: 0.0, 3: 0.1, 2: 0.3, 1: 0.9, 0: 1.5}  # by metric weight of the onset
UNSTRESSED_COST = {4: 1.0, 3: 0.7, 2: 0.4, 1: 0.05, 0: 0.2}
FIRST_ONSET_COST = {0: 0.0, 6: 0.5, 12: 0.8}  # a phrase may start late, on the & of 1 or on beat 2
PICKUP_COST = {-6: 0.05, -3: 0.35}  # or before its bar line, when it opens unstressed
WORD_ORDER_COST = 50.0  # an unstressed syllable on a stronger beat than its word's stressed one
MODEL_BONUS = 0.45
LONG_STRESS_BONUS = 0.25  # a stressed syllable may be held a beat or more; an unstressed one no more than an 8th  # a line developing a motif takes the motif's rhythm where its words allow
CHORUS_KINDS = ("chorus", "hook")
# How far each kind of section sits from the voice's centre, in semitones, and how far it may climb.
SECTION_CENTRE = {"chorus": 3.0, "hook": 3.0, "pre-chorus": 1.0, "verse": -1.0, "bridge": 1.0}
VERSE_CEILING = 3  # a verse stays at most this far above the centre, so the chorus peak is above it
HOOK_PEAK = (4, 8)  # the chorus motif's peak: this many semitones above the centre
# Each chorus line after the first develops the motif: the same rhythm and contour, moved by
# these steps (a scheme per song, from its stream); a line whose words were sung before repeats them.
HOOK_SCHEMES = ((0, -2, 0, -3), (0, -1, 0, -4), (0, 1, -1, -3), (0, -3, 0, -2))


@functools.cache
def rhythm_vocabulary(genre: str, *, rapped: bool = False) -> tuple[dict[int, float], float]:
    """The genre's melody rhythm (styles.toml [melody_rhythm], or [rap] for a rapped line): gap
    costs in ticks, anticipation cost."""
    if rapped:
        table = load_styles()["rap"]
        return {int(k): float(v) for k, v in table["gaps"].items()}, float(table["anticipation"])
    for table in load_styles()["melody_rhythm"].values():
        if genre in table["genres"]:
            return {int(k): float(v) for k, v in table["gaps"].items()}, float(table["anticipation"])
    table = load_styles()["melody_rhythm"]["pop"]
    return {int(k): float(v) for k, v in table["gaps"].items()}, float(table["anticipation"])


def metric_weight(*, tick: int, beats_per_bar: int) -> int:
    """4 the downbeat, 3 the middle of a 4/4 bar, 2 another beat, 1 an off-beat 8th, 0 the rest."""
    position = tick % (beats_per_bar * TICKS_PER_BEAT)
    if position == 0:
        return 4
    if beats_per_bar == 4 and position == 2 * TICKS_PER_BEAT:
        return 3
    if position % TICKS_PER_BEAT == 0:
        return 2
    return 1 if position % (TICKS_PER_BEAT // 2) == 0 else 0


def phrase_rhythm(*, stress: list[bool], joined: list[bool], room_beats: float, beats_per_bar: int, genre: str,
                  rng: np.random.Generator, model: list[float] | None = None, pickup: bool = True,
                  rapped: bool = False) -> list[tuple[float, float]]:
    """(offset, duration) in beats for each syllable, set by stress: the least-cost path through the
    onsets the genre's rhythm allows, where stressed syllables want strong beats, unstressed ones weak
    ones, no word puts its unstressed syllable on a stronger beat than its stressed one
    (`joined[i]`: syllable i and i+1 are one word), and a line developing a motif (`model`, its
    onsets) keeps that rhythm where it can. The last syllable is held to the end of the room."""
    n = len(stress)
    gaps, anticipation = rhythm_vocabulary(genre, rapped=rapped)
    jitter = {g: cost + float(rng.uniform(0, 0.5)) for g, cost in gaps.items()}
    room = int(round(room_beats * TICKS_PER_BEAT))
    bar = beats_per_bar * TICKS_PER_BEAT
    triplets = any(g % 3 for g in gaps)
    model_ticks = [int(round(o * TICKS_PER_BEAT)) for o in model] if model else []
    model_set = set(model_ticks)

    def on_grid(t: int) -> bool:
        return t % 3 == 0 or (triplets and t % 4 == 0)

    def cost(i: int, t: int) -> float:
        weight = metric_weight(tick=t, beats_per_bar=beats_per_bar)
        table = STRESSED_COST if stress[i] else UNSTRESSED_COST
        c = table[weight] * (1.5 if i == n - 1 else 1.0)
        if stress[i] and weight == 1 and (t + 6) % bar == 0 and not joined[i] and i < n - 1:
            c = min(c, anticipation)  # sung just before the bar line, across it
        if model_ticks:
            c -= MODEL_BONUS * (t in model_set) + 0.3 * (i < len(model_ticks) and model_ticks[i] == t)
        return c

    def pair(i: int, before: int, t: int) -> float:
        """The cost of syllable i at t after syllable i - 1 at `before`."""
        c = jitter[t - before]
        if stress[i - 1] and t - before >= TICKS_PER_BEAT:
            c -= LONG_STRESS_BONUS  # the stressed syllable held, the unstressed ones passing
        elif not stress[i - 1] and t - before > TICKS_PER_BEAT // 2:
            c += LONG_STRESS_BONUS
        if joined[i - 1] and stress[i - 1] != stress[i]:
            w_prev = metric_weight(tick=before, beats_per_bar=beats_per_bar)
            w_here = metric_weight(tick=t, beats_per_bar=beats_per_bar)
            unstressed, stressed = (w_prev, w_here) if stress[i] else (w_here, w_prev)
            if unstressed > stressed:
                c += WORD_ORDER_COST
        return c

    last_room = TICKS_PER_BEAT if room - TICKS_PER_BEAT >= 3 * (n - 1) + 6 else 3
    starts = dict(FIRST_ONSET_COST)
    if pickup and n >= 2 and not stress[0] and stress[1]:
        starts.update(PICKUP_COST)
    best: dict[int, tuple[float, int | None]] = {t: (c + cost(0, t), None) for t, c in starts.items()
                                                 if t <= room - last_room}
    trail = [best]
    for i in range(1, n):
        here: dict[int, tuple[float, int | None]] = {}
        for before, (total, _) in best.items():
            for gap in gaps:
                t = before + gap
                if t > room - last_room or not on_grid(t):
                    continue
                value = total + pair(i, before, t) + cost(i, t)
                if t not in here or value < here[t][0]:
                    here[t] = (value, before)
        if not here:
            return _even_rhythm(n, room_beats)
        best = here
        trail.append(best)
    end = min(best, key=lambda t: best[t][0] + 0.25 * max(0.0, (room - t) / TICKS_PER_BEAT - 3))
    onsets = [end]
    for i in range(n - 1, 0, -1):
        onsets.append(trail[i][onsets[-1]][1])
    onsets.reverse()
    ends = onsets[1:] + [min(room, onsets[-1] + 4 * TICKS_PER_BEAT)]
    return [(t / TICKS_PER_BEAT, (e - t) / TICKS_PER_BEAT) for t, e in zip(onsets, ends)]


def _even_rhythm(n: int, room_beats: float) -> list[tuple[float, float]]:
    """More syllables than any rhythm of the vocabulary holds: even 16ths, the last one held."""
    unit = min(0.25, room_beats / max(n, 1))
    timings = [(i * unit, unit) for i in range(n)]
    last = timings[-1][0]
    timings[-1] = (last, max(unit, room_beats - last))
    return timings


CONTOURS = {
    "arch": lambda t: np.sin(np.pi * t),
    "rise": lambda t: t - 0.3,
    "fall": lambda t: 0.7 - t,
    "valley": lambda t: -np.sin(np.pi * t) + 0.4,
    "wave": lambda t: np.sin(2 * np.pi * t) * 0.6,
}


def chord_scale(chord: Chord, key: Key) -> frozenset[int]:
    """The pitch classes a melody may use over a chord: its tones, and the key's tones that are not a
    semitone from any of them (over C: C D E G A; over G7 in C: G A B D F)."""
    tones = set(chord.pitch_classes())
    free = {pc for pc in key.scale if not any((pc - t) % 12 in (1, 11) for t in tones)}
    return frozenset(tones | free)


def phrase_pitches(*, plan: Plan, start_beat: float, rhythm: list[tuple[float, float]], targets: list[float],
                   low: int, high: int, rng: np.random.Generator, peak_index: int | None = None,
                   peak_range: tuple[int, int] | None = None) -> list[int]:
    """Pitches for a rhythm that is final: chord tones of the chord sounding under each strong note
    (on a beat, long, first or last), tones of that chord's own scale between them, each near its
    target. `peak_index`, `peak_range`: the note that must reach a height (a hook's peak)."""
    pitches: list[int] = []
    for i, (offset, duration) in enumerate(rhythm):
        beat = start_beat + offset
        chord = plan.chord_at_beat(beat)
        ticks = int(round(offset * TICKS_PER_BEAT))
        strong = (metric_weight(tick=ticks, beats_per_bar=plan.beats_per_bar) >= 2 or duration >= 0.75
                  or i == 0 or i == len(rhythm) - 1 or i == peak_index)
        target = targets[i]
        if strong:
            choices = chord.tones(low, high) or [p for p in range(low, high + 1) if p % 12 in plan.key.scale]
            if i == peak_index and peak_range is not None:
                choices = [p for p in choices if peak_range[0] <= p <= peak_range[1]] or choices
        else:
            allowed = chord_scale(chord, plan.key)
            choices = [p for p in range(low, high + 1) if p % 12 in allowed]
            if pitches:
                near = [p for p in choices if 1 <= abs(p - pitches[-1]) <= 4]
                choices = near or choices
        repeat = 0.0 if rng.random() < 0.25 else 1.2

        def score(p: int) -> float:
            if not pitches:
                return abs(p - target)
            leap = abs(p - pitches[-1])
            return abs(p - target) + 0.3 * leap + repeat * (leap == 0) + 3.0 * (leap > 7)
        pitches.append(int(min(choices, key=score)))
    return pitches


def rapped(style: StyleProfile, section: Section) -> bool:
    """Whether a section is rapped: tagged so ("[rap]", "[Rap Verse 2]"), or of a kind the style
    raps (styles.toml [rap]: hip-hop and trap verses)."""
    table = load_styles()["rap"]
    return rap_tag(section.label) or (style.groove_genre in table["genres"] and section.kind in table["sections"])


def rap_timing(rhythm: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A rapped line's syllables: each lasts until the next (at most half a beat: a rapper does not
    hold a syllable), the last at most [rap] last_beats."""
    last_beats = float(load_styles()["rap"]["last_beats"])
    out = [(offset, min(duration, 0.5)) for offset, duration in rhythm[:-1]]
    return out + [(rhythm[-1][0], min(rhythm[-1][1], last_beats))]


RAP_RECITE_ABOVE_LOW = 4  # semitones: a rapper speaks a little above a speaking voice's floor


def rap_pitches(*, plan: Plan, start_beat: float, rhythm: list[tuple[float, float]], stress: list[bool],
                low: int, rng: np.random.Generator) -> list[int]:
    """A rapped line's pitches, a speaking voice's: a reciting tone a few semitones above the
    voice's lowest (a tone of the chord under the line's first syllable), stressed syllables
    [rap] accent_steps scale steps above it, the line's last syllables falling [rap] fall_steps
    below it; each pitch of the chord scale of the chord under it, so the voice never rubs
    against the band."""
    table = load_styles()["rap"]
    accents, fall = [int(step) for step in table["accent_steps"]], int(table["fall_steps"])
    first = plan.chord_at_beat(start_beat + rhythm[0][0])
    recite = min(first.tones(low, low + 12) or [low + RAP_RECITE_ABOVE_LOW],
                 key=lambda p: (abs(p - low - RAP_RECITE_ABOVE_LOW), p))
    n = len(rhythm)
    pitches = []
    for i, (offset, _) in enumerate(rhythm):
        chord = plan.chord_at_beat(start_beat + offset)
        scale = [p for p in range(low - 7, low + 19) if p % 12 in chord_scale(chord, plan.key)]
        home = min(range(len(scale)), key=lambda j: (abs(scale[j] - recite), scale[j]))
        if n >= 4 and i >= n - 2:
            step = -fall if i == n - 1 else 0 if stress[i] else -1
        elif stress[i]:
            step = int(rng.choice(accents))
        else:
            step = 0
        pitches.append(scale[int(np.clip(home + step, 0, len(scale) - 1))])
    return pitches


def fit_to_chords(*, plan: Plan, start_beat: float, tones: list["Tone"], low: int, high: int) -> list["Tone"]:
    """A remembered line sung again over these chords: each note kept where it is in the chord
    scale of the chord sounding under it (no semitone against a chord tone), else moved to the
    nearest pitch that is, so a line over I7 and again over IV7 stays the same tune."""
    fitted = []
    for i, tone in enumerate(tones):
        chord = plan.chord_at_beat(start_beat + tone.offset_beats)
        allowed = chord_scale(chord, plan.key)
        pitch = tone.pitch
        if pitch % 12 not in allowed:
            pitch = min((p for p in range(low, high + 1) if p % 12 in allowed), key=lambda p: (abs(p - tone.pitch), p))
        fitted.append(Tone(tone.offset_beats, tone.duration_beats, pitch))
    return fitted


def resolve_last(*, plan: Plan, start_beat: float, tones: list["Tone"], low: int, high: int) -> list["Tone"]:
    """The song's last sung note: the tonic when the chord under it holds one, else the nearest tone
    of that chord; every other note as it was."""
    last = tones[-1]
    chord = plan.chord_at_beat(start_beat + last.offset_beats)
    pcs = set(chord.pitch_classes()) or set(plan.key.scale)  # over N.C.: the key's tones
    wanted = {plan.key.tonic_pc} if plan.key.tonic_pc in pcs else pcs
    pitch = min((p for p in range(low, high + 1) if p % 12 in wanted), key=lambda p: (abs(p - last.pitch), p))
    return tones[:-1] + [Tone(last.offset_beats, last.duration_beats, pitch)]


def _interp(values: list[float], count: int) -> list[float]:
    """A contour of `len(values)` points read at `count` evenly spaced places."""
    if count == 1 or len(values) == 1:
        return [float(values[0])] * count
    return list(np.interp(np.linspace(0, 1, count), np.linspace(0, 1, len(values)), values))


@dataclass
class Line:
    """A composed line, remembered: its notes, and its contour and onsets for lines that develop it."""
    tones: list[Tone]
    bars: int


FILL_ROOM_BEATS = 2.0  # beats a line of 2 bars or more leaves its answer, in a genre with fills
FILL_GAP_BEATS = 2.0  # a rest in the singing this long, inside a sung section, gets the lead's answer
FILL_MAX_BEATS = 3.0
BLUES_SCALE = (0, 3, 5, 6, 7, 10)  # the tonic's minor pentatonic and its flat fifth
BLUE_NOTE_CHANCE = 0.6  # of the lead's notes on the tonic's third, in the blues
BLUE_GRACE_BEATS = 0.125
BLUE_BEND_CENTS = -100.0  # a sung blue third: from the flat third up into the third


class MelodyWriter:
    """Writes phrases into a part and remembers them: by lyric text (a line sung again is sung
    alike, over whatever chords are under it), and by role: the first chorus line is the hook's
    motif, and every other chorus line develops it; a second verse follows the first."""

    def __init__(self, plan: Plan, part: Part, low: int, high: int, centre: int, streams: Streams):
        self.plan = plan
        self.part = part
        self.low, self.high, self.centre = low, high, centre
        self.streams = streams
        self.by_text: dict[tuple, Line] = {}
        self.by_role: dict[tuple, Line] = {}
        self.genre = plan.style.groove_genre
        self.lines = 0  # lines written so far: each note is tagged with its line's number

    def phrase_rng(self, section: Section, index: int, take: int | None = None) -> np.random.Generator:
        """The random stream of one phrase of this part: phrase `index` of that section (of a retake)."""
        return self.streams.rng(f"melody/{self.part.name}", *section_place(section), index, *(("take", take) if take is not None else ()))

    def _range(self, kind: str) -> tuple[int, int]:
        if kind in CHORUS_KINDS:
            return max(self.low, self.centre - 3), self.high
        if kind == "verse":
            return self.low, min(self.high, self.centre + VERSE_CEILING)
        return self.low, self.high

    def compose(self, *, section: Section, index: int, stress: list[bool], joined: list[bool], start_beat: float,
                bars: int, rng: np.random.Generator, fresh: bool = False, rap: bool = False) -> list[Tone]:
        """A new line: rhythm first, from the words' stress; then pitches over the chords under it
        (a `rap` line: a speaking voice's, `rap_pitches`). A `fresh` line (a retake's) neither
        follows the lines before it nor is remembered."""
        kind = section.kind
        chorus = kind in CHORUS_KINDS
        beats = bars * self.plan.beats_per_bar
        answer = FILL_ROOM_BEATS if self.plan.style.fills and bars >= 2 and self.part.name == "vocals" else 0.0
        room = beats - (1.0 if bars >= 2 else 0.5) - answer
        low, high = self._range(kind)
        motif = self.by_role.get(("motif",)) if chorus and not fresh else None
        model = None if fresh else motif if motif is not None else self.by_role.get((kind, index)) if not chorus else None
        model_onsets = [t.offset_beats for t in model.tones] if model is not None and model.bars == bars else None
        rhythm = phrase_rhythm(stress=stress, joined=joined, room_beats=room, beats_per_bar=self.plan.beats_per_bar,
                               genre=self.genre, rng=rng, model=model_onsets, pickup=start_beat > 0, rapped=rap)
        if rap:
            rhythm = rap_timing(rhythm)
            pitches = rap_pitches(plan=self.plan, start_beat=start_beat, rhythm=rhythm, stress=stress, low=low, rng=rng)
            return self._remember(kind, [Tone(o, d, p) for (o, d), p in zip(rhythm, pitches)], bars, fresh=fresh, index=index)
        n = len(rhythm)
        centre = self.centre + SECTION_CENTRE.get(kind, 0.0)
        peak_index = peak_range = None
        if chorus and motif is None:  # the hook: the title words rise to the chorus's peak
            scheme_peak = float(rng.uniform(0.2, 0.45))
            strong = [i for i, s in enumerate(stress) if s] or [0]
            peak_index = min(strong, key=lambda i: abs(i / max(n - 1, 1) - scheme_peak))
            peak_range = (self.centre + HOOK_PEAK[0], min(high, self.centre + HOOK_PEAK[1]))
            top = self.centre + 6
            base = centre - 2.5
            targets = [base + (top - base) * (1 - (abs(i - peak_index) / max(peak_index, n - 1 - peak_index, 1)) ** 2)
                       for i in range(n)]
        elif model is not None:
            step = 0
            if chorus:
                scheme = HOOK_SCHEMES[int(self.streams.rng("hook", "scheme").integers(len(HOOK_SCHEMES)))]
                step = scheme[index % len(scheme)]
            else:
                step = int(rng.integers(-1, 2))
            targets = [p + step for p in _interp([t.pitch for t in model.tones], n)]
        else:
            shape = CONTOURS[list(CONTOURS)[int(rng.integers(len(CONTOURS)))]]
            height = float(rng.uniform(2, 4.5))
            shift = float(rng.uniform(-1.5, 1.5))
            targets = [centre + shift + height * shape(i / max(n - 1, 1)) for i in range(n)]
        pitches = phrase_pitches(plan=self.plan, start_beat=start_beat, rhythm=rhythm, targets=targets, low=low,
                                 high=high, rng=rng, peak_index=peak_index, peak_range=peak_range)
        return self._remember(kind, [Tone(o, d, p) for (o, d), p in zip(rhythm, pitches)], bars, fresh=fresh,
                              index=index, motif=chorus and motif is None)

    def _remember(self, kind: str, tones: list[Tone], bars: int, *, fresh: bool, index: int = 0,
                  motif: bool = False) -> list[Tone]:
        """A new line, remembered by role (unless `fresh`): the hook's `motif`, or a verse's line."""
        if fresh:
            return tones
        if motif:
            self.by_role[("motif",)] = Line(tones, bars)
        elif kind not in CHORUS_KINDS:
            self.by_role.setdefault((kind, index), Line(tones, bars))
        return tones

    def line(self, *, section: Section, index: int, text: str, stress: list[bool], joined: list[bool],
             start_beat: float, bars: int, final: bool) -> list[Tone]:
        """The notes of one line: as sung (or rapped) before if its words were, else newly composed."""
        rap = rapped(self.plan.style, section)
        group = "chorus" if section.kind in CHORUS_KINDS else "rap" if rap else section.kind
        key = (group, " ".join(text.lower().split()), len(stress))
        low, high = self._range(section.kind)
        start_bar = int(round(start_beat / self.plan.beats_per_bar))
        take = self.plan.take_of(range(start_bar, start_bar + bars))
        known = self.by_text.get(key) if take is None else None
        if known is not None and known.bars == bars:
            tones = fit_to_chords(plan=self.plan, start_beat=start_beat, tones=known.tones, low=low, high=high)
        else:
            rng = self.phrase_rng(section, index, take)
            tones = self.compose(section=section, index=index, stress=stress, joined=joined, start_beat=start_beat,
                                 bars=bars, rng=rng, fresh=take is not None, rap=rap)
            if take is None:
                self.by_text.setdefault(key, Line(tones, bars))
        if final:
            tones = resolve_last(plan=self.plan, start_beat=start_beat, tones=tones, low=self.low, high=self.high)
        return tones

    def sing(self, section: Section, phrase: Phrase, index: int, start_bar: int, bars: int, ending: str,
             velocity: int) -> None:
        syllables = [(s, j == 0, w.phones[j] if w.phones else None, w.voice)
                     for w in phrase.words for j, s in enumerate(w.syllables)]
        stress, joined = phrase_stress(phrase)
        start_beat = start_bar * self.plan.beats_per_bar
        tones = self.line(section=section, index=index, text=phrase.text, stress=stress, joined=joined,
                          start_beat=start_beat, bars=bars, final=ending == "tonic")
        bends = self.streams.rng("blue", *section_place(section), index) if self.plan.style.harmony == "blues" else None
        for i, (tone, (syllable, word_start, phones, voice)) in enumerate(zip(tones, syllables)):
            accent = 8 if stress[i] and abs(tone.offset_beats % 1) < 1e-6 else 0
            blue = bends is not None and self._blue_third(start_beat + tone.offset_beats, tone) and \
                tone.duration_beats >= 0.5 and bends.random() < BLUE_NOTE_CHANCE
            self.part.add(start_beat + tone.offset_beats, tone.duration_beats * 0.95, tone.pitch,
                          velocity + accent, syllable=syllable, word_start=word_start, phrase_start=i == 0,
                          phones=phones, voice=voice, bar=start_bar, line=self.lines,
                          bend_cents=BLUE_BEND_CENTS if blue else 0.0)
        self.lines += 1

    def play(self, section: Section, index: int, start_bar: int, bars: int, ending: str, velocity: int) -> None:
        """An instrumental phrase: a theme stated in the first section of a kind (its phrases in an
        A A' B A' shape) and restated whenever that kind returns."""
        group = "chorus" if section.kind in CHORUS_KINDS else section.kind
        slot = index % 4
        if group in ("chorus", "inst", "solo") and slot == 2:
            slot = 0  # the theme comes back
        take = self.plan.take_of(range(start_bar, start_bar + bars))
        rng = self.streams.rng(f"melody/{self.part.name}", group, slot, bars, *(("take", take, start_bar) if take is not None else ()))
        notes = min(int(rng.integers(3, 6)) * bars, bars * self.plan.beats_per_bar * 2 - 2)
        stress = [i % 2 == 0 for i in range(notes)]
        start_beat = start_bar * self.plan.beats_per_bar
        tones = self.line(section=section, index=slot, text=f"theme {slot}", stress=stress, joined=[False] * notes,
                          start_beat=start_beat, bars=bars, final=ending == "tonic")
        bends = self.plan.style.harmony == "blues"
        for tone in tones:
            at, length = start_beat + tone.offset_beats, tone.duration_beats
            if bends and self._blue_third(at, tone) and rng.random() < BLUE_NOTE_CHANCE:
                # the blue note: the flat third first, bent up into the third
                self.part.add(at, BLUE_GRACE_BEATS, tone.pitch - 1, velocity - 6, bar=start_bar, line=self.lines)
                at, length = at + BLUE_GRACE_BEATS, length - BLUE_GRACE_BEATS
            self.part.add(at, length * 0.9, tone.pitch, velocity, bar=start_bar, line=self.lines)
        self.lines += 1

    def _blue_third(self, beat: float, tone: Tone) -> bool:
        """A note on the third of the key's tonic, over a chord with a major third, long enough to bend into."""
        chord = self.plan.chord_at_bar(int(beat // self.plan.beats_per_bar))
        third = (self.plan.key.tonic_pc + 4) % 12
        return (tone.pitch % 12 == third and tone.duration_beats >= 2 * BLUE_GRACE_BEATS
                and (chord.root_pc + 4) % 12 == third and 4 in chord.intervals)


def write_vocals(plan: Plan, part: Part, streams: Streams) -> None:
    if plan.tune_notes is not None:  # the request's melody, its notes as written, the lyrics fitted
        line = -1
        for note in plan.tune_notes:
            line += bool(note.phrase_start) or line < 0
            part.add(note.start_beats, note.duration_beats, note.pitch, 92, syllable=note.syllable,
                     word_start=note.word_start, phrase_start=note.phrase_start, phones=note.phones, voice=note.voice,
                     line=line)
        return
    low, high, centre = VOICES[plan.lead_voice].range_midi if plan.lead_voice else VOCAL_RANGES[voice_gender(plan.style)]
    writer = MelodyWriter(plan, part, low, high, centre, streams)
    sung = [s for s in plan.sections if s.phrases]
    for section in sung:
        bar = section.start_bar
        for index, (phrase, bars) in enumerate(zip(section.phrases, section.phrase_bars)):
            final = section is sung[-1] and index == len(section.phrases) - 1
            writer.sing(section, phrase, index, bar, bars, "tonic" if final else "open", 92)
            bar += bars


HARMONY_INTERVALS = (3, 4, 5, 8, 9)  # a third, a fourth, a sixth from the lead, in that preference


def write_harmony(plan: Plan, vocals: Part, part: Part) -> None:
    """Chorus and hook lines sung again a third (or a fourth or sixth) from the lead, always on the
    same side of it: above when the lead's chorus leaves room under the voice's top, else below;
    a tone of the chord under it (of its chord scale between the beats), moving smoothly."""
    low, highest = (VOICES[plan.lead_voice].range_midi[:2] if plan.lead_voice else VOCAL_RANGES["female"][:2])
    chorus_bars = {b for s in plan.sections if s.kind in CHORUS_KINDS for b in range(s.start_bar, s.end_bar)}
    notes = [n for n in vocals.notes if int(n.start_beats // plan.beats_per_bar) in chorus_bars]
    if not notes:
        return
    side = 1 if max(n.pitch for n in notes) + 4 <= highest else -1
    previous = None
    for note in notes:
        chord = plan.chord_at_beat(note.start_beats)
        on_beat = abs(note.start_beats - round(note.start_beats)) < 0.05 or note.duration_beats >= 0.7
        allowed = set(chord.pitch_classes()) if on_beat else chord_scale(chord, plan.key)
        choices = [note.pitch + side * i for i in HARMONY_INTERVALS if (note.pitch + side * i) % 12 in allowed]
        choices = choices or [note.pitch + side * i for i in HARMONY_INTERVALS
                              if (note.pitch + side * i) % 12 in chord_scale(chord, plan.key)]
        choices = [p for p in choices if low <= p <= highest]
        if not choices:
            continue
        pitch = min(choices, key=lambda p: HARMONY_INTERVALS.index(abs(p - note.pitch)) * 0.8 +
                    (0 if previous is None else 0.4 * abs(p - previous)))
        previous = pitch
        part.add(note.start_beats, note.duration_beats, pitch, note.velocity - 12,
                 syllable=note.syllable, word_start=note.word_start, phrase_start=note.phrase_start,
                 phones=note.phones, voice=note.voice, bar=note.bar, line=note.line)


def write_fills(plan: Plan, vocals: Part, part: Part, streams: Streams) -> None:
    """Call and response: where the singer rests FILL_GAP_BEATS or more inside a sung section, the
    lead answers with a lick of 8ths down the blues scale (from where its stream says, turning back
    up once in a while), entering an 8th after the voice and leaving half a beat before it sings again;
    its last note, held, is the tone of the chord under it nearest the run."""
    low, high, _ = LEAD_RANGE
    scale = [p for p in range(low, high + 1) if (p - plan.key.tonic_pc) % 12 in BLUES_SCALE]
    sung = sorted(vocals.notes, key=lambda n: n.start_beats)
    for section in (s for s in plan.sections if s.sung and not s.tune):
        begin, end = section.start_bar * plan.beats_per_bar, section.end_bar * plan.beats_per_bar
        inside = [n for n in sung if begin <= n.start_beats < end]
        for note, after in zip(inside, inside[1:] + [None]):
            back = after.start_beats if after is not None else end
            if back - note.end_beats < FILL_GAP_BEATS:
                continue
            start = np.ceil(note.end_beats * 2) / 2 + 0.5  # an 8th after the voice, on the 8th grid
            count = int(min(FILL_MAX_BEATS, back - 0.5 - start) / 0.5)
            if count < 2:
                continue
            bar = int(start // plan.beats_per_bar)
            rng = streams.rng("fills", *section_place(section), bar, round(start * 2))
            at = int(rng.integers(len(scale) // 2, len(scale)))
            for i in range(count - 1):
                part.add(start + 0.5 * i, 0.45, scale[at], 84 if i % 2 == 0 else 74, bar=bar)
                at = min(len(scale) - 1, max(0, at + (1 if rng.random() < 0.25 else -1)))
            last_beat = start + 0.5 * (count - 1)
            landing = plan.chord_at_beat(last_beat).tones(low, high) or [scale[at]]
            part.add(last_beat, max(0.45, back - 0.5 - last_beat), min(landing, key=lambda p: abs(p - scale[at])), 86, bar=bar)


def write_lead(plan: Plan, part: Part, kinds: tuple[str, ...], streams: Streams) -> None:
    """The lead plays two-bar phrases in the given section kinds; it ends the song on the tonic."""
    low, high, centre = LEAD_RANGE
    writer = MelodyWriter(plan, part, low, high, centre, streams)
    if not plan.vocal and plan.tune_notes is not None:  # an instrumental song: the lead plays your melody
        for note in plan.tune_notes:
            part.add(note.start_beats, note.duration_beats * 0.95, note.pitch, 90)
    chosen = [s for s in plan.sections if s.kind in kinds and not s.tune]
    for section in chosen:
        bar, index = section.start_bar, 0
        while bar < section.end_bar:
            bars = min(2, section.end_bar - bar)
            final = section is chosen[-1] and bar + bars >= section.end_bar
            writer.play(section, index, bar, bars, "tonic" if final else "open", 90)
            bar += bars
            index += 1
