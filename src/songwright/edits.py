"""Edits of a finished composer song: the same composition changed in one respect.

A song file (`--json`) holds the request that makes a song and the edits applied to it since, in
order; `make(request, edits)` composes the song its request makes, applies each edit to the plan
and the score, and performs the result. The source file is never changed: an edit writes a new
song file that lists one edit more.

    remix    {"verb": "remix", "key": "D major", "tempo_bpm": 124}
             the same notes played in another key (every pitched note moved by the same interval,
             the nearest way, within a tritone) and/or at another tempo (every note re-timed, the
             song's length with it; the ring-out keeps its length in beats).
    retake   {"verb": "retake", "section": "chorus 2" | 3 | null, "bars": [17, 24] | null,
              "seed": 5, "keep_chords": false}
             new material for one section or a span of bars (1-based, inclusive): melody, fills,
             comping, and new chords unless kept; every other note as it was.
    repaint  {"verb": "repaint", "start_s": 20.0, "end_s": 31.0, "seed": 5, "keep_chords": false}
             a retake of the bars a time range touches.
    extend   {"verb": "extend", "duration_s": 120, "lyrics": "[chorus] ..." | null}
             more sections after the song's last one (before its outro): the new lyrics' sections,
             or without lyrics an instrumental block and the last chorus again (with its tune);
             every bar before the outro kept.
    relyric  {"verb": "relyric", "line": 3, "text": "new words here"}
             one sung line (1-based, in song order) sung with new words, its tune re-fitted.

Edits that change a part of the song (retake, repaint, extend, relyric) keep the audio outside it:
only the edited window of the new song is rendered (`stages.perform_passage`, at the gains the
source's mix and master set), then spliced into the song before the edit, which stays
sample-identical outside the window (see `splice`).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .errors import InvalidRequest
from .plan import LAST_CHORUS_ENERGY, Plan, Section, _vocabulary_slot as _slot, place_sections
from .request import (MAX_DURATION_S, MAX_TEMPO_BPM, MIN_DURATION_S, MIN_TEMPO_BPM, SongRequest, _check_number)
from .score import Note, Part, Score
from .audio.io import on_pcm16_grid
from .audio.stems import StemFiles, StemsNotKept
from .song import Song, SongMix, pinned_request
from .stages import Passage, Prepared, Progress, _quiet, composed, perform, perform_passage
from .streams import Streams
from .theory import parse_key

RELEASE_S = 1.2  # the final chord's release before the end: seconds at any tempo
LEAD_IN_S = 0.25  # a sung consonant starts before its note
TAIL_S = 2.0  # the longest release and reverb tail after an edited note (the strings' reverb)
CROSSFADE_S = 0.05  # equal-power, at each edge of an edited window
MAX_SEED = 2**32 - 1


# ---------------------------------------------------------------- checking edits

def remix_edit(*, key: str | None = None, tempo_bpm: float | None = None, voice: str | None = None,
               tags: str | None = None, time_signature: str | None = None) -> dict:
    """A validated remix edit, as the song file keeps it: another key, tempo, singer, or
    instruments (`tags`: "+strings, -guitar" adds and drops tags; a dropped instrument is silent),
    or meter (the same form, chords and lyrics, every part's rhythm set again in the new meter)."""
    if key is None and tempo_bpm is None and voice is None and tags is None and time_signature is None:
        raise InvalidRequest("remix", "must change the key, the tempo, the voice, the tags or the meter "
                             "(--key, --bpm, --voice, --tags, --time-signature)", None)
    if key is not None:
        parse_key(key)
    if tempo_bpm is not None:
        _check_number("tempo_bpm", tempo_bpm, MIN_TEMPO_BPM, MAX_TEMPO_BPM, "BPM")
    if voice is not None or tags is not None or time_signature is not None:
        SongRequest(voice=voice, tags=tags or "pop", time_signature=time_signature).validate()  # the request's rules
    edit = {"verb": "remix", "key": key, "tempo_bpm": None if tempo_bpm is None else float(tempo_bpm)}
    return edit | {name: value for name, value in (("voice", voice), ("tags", tags), ("time_signature", time_signature))
                   if value is not None}


def retake_edit(*, section: str | int | None = None, bars: str | list[int] | tuple[int, int] | None = None,
                seed: int | None = None, keep_chords: bool = False) -> dict:
    """A validated retake edit: one section (its number from 1, or its name: "chorus", "chorus 2"),
    a span of bars ("17-24", 1-based, inclusive), or neither: the whole song (its tempo, key and
    form kept); `seed` picks the take (default: a new one)."""
    if section is not None and bars is not None:
        raise InvalidRequest("section", "name the section or the bars to retake, not both", section)
    if section is not None and not isinstance(section, (str, int)) or isinstance(section, bool):
        raise InvalidRequest("section", "must be a section's number (1 for the first) or name (e.g. chorus 2)", section)
    if isinstance(section, str) and not section.strip():
        raise InvalidRequest("section", "must not be empty", section)
    span = None if bars is None else list(_bar_span(bars))
    return {"verb": "retake", "section": section, "bars": span, "seed": _edit_seed(seed),
            "keep_chords": bool(keep_chords)}


def repaint_edit(*, start_s: float, end_s: float, seed: int | None = None, keep_chords: bool = False) -> dict:
    """A validated repaint edit: new material for the bars from `start_s` to `end_s`."""
    _check_number("start_s", start_s, 0.0, MAX_DURATION_S, "s")
    _check_number("end_s", end_s, 0.0, MAX_DURATION_S, "s")
    if end_s <= start_s:
        raise InvalidRequest("end_s", f"must be after start_s ({start_s:g} s)", end_s)
    return {"verb": "repaint", "start_s": float(start_s), "end_s": float(end_s), "seed": _edit_seed(seed),
            "keep_chords": bool(keep_chords)}


def extend_edit(*, duration_s: float, lyrics: str | None = None, before: bool = False) -> dict:
    """A validated extend edit: the song made `duration_s` long, with new sections before its outro
    (or, `before`, between its intro and its first section)."""
    _check_number("duration_s", duration_s, MIN_DURATION_S, MAX_DURATION_S, "s")
    if lyrics is not None:
        SongRequest(lyrics=lyrics).validate()  # the request's own rules for lyrics (type, length)
    if not isinstance(before, bool):
        raise InvalidRequest("before", "must be true or false", before)
    edit = {"verb": "extend", "duration_s": float(duration_s), "lyrics": lyrics or None}
    return edit | ({"before": True} if before else {})


def relyric_edit(*, line: int, text: str) -> dict:
    """A validated relyric edit: sung line `line` (1-based, in song order) sung with `text`."""
    if isinstance(line, bool) or not isinstance(line, (int, np.integer)) or line < 1:
        raise InvalidRequest("line", "must be a sung line's number, 1 for the first", line)
    if not isinstance(text, str) or not text.strip() or "\n" in text.strip() or "[" in text:
        raise InvalidRequest("text", "must be one line of words, without section tags", text)
    SongRequest(lyrics=text).validate()
    return {"verb": "relyric", "line": int(line), "text": " ".join(text.split())}


def _edit_seed(seed: int | None) -> int:
    if seed is None:
        import secrets

        return secrets.randbelow(MAX_SEED + 1)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise InvalidRequest("seed", f"must be a whole number from 0 to {MAX_SEED}", seed)
    return int(seed)


def _bar_span(bars) -> tuple[int, int]:
    if isinstance(bars, str):
        match = re.fullmatch(r"\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?", bars)
        if not match:
            raise InvalidRequest("bars", "must be a bar or a span of bars, 1-based: 17 or 17-24", bars)
        first = int(match[1])
        last = int(match[2]) if match[2] else first
    elif isinstance(bars, (list, tuple)) and len(bars) == 2 and all(isinstance(b, int) and not isinstance(b, bool) for b in bars):
        first, last = bars
    else:
        raise InvalidRequest("bars", "must be a bar or a span of bars, 1-based: 17 or 17-24", bars)
    if first < 1 or last < first:
        raise InvalidRequest("bars", "must run forward from bar 1 or later: 17-24", bars)
    return first, last


EDITS = {"remix": remix_edit, "retake": retake_edit, "repaint": repaint_edit, "extend": extend_edit,
         "relyric": relyric_edit}  # verb -> its checked edit, from keyword arguments
CHECKS = {"remix": lambda e: remix_edit(key=e.get("key"), tempo_bpm=e.get("tempo_bpm"), voice=e.get("voice"),
                                        tags=e.get("tags"), time_signature=e.get("time_signature")),
          "retake": lambda e: retake_edit(section=e.get("section"), bars=e.get("bars"), seed=e.get("seed", -1),
                                          keep_chords=e.get("keep_chords", False)),
          "repaint": lambda e: repaint_edit(start_s=e.get("start_s"), end_s=e.get("end_s"), seed=e.get("seed", -1),
                                            keep_chords=e.get("keep_chords", False)),
          "extend": lambda e: extend_edit(duration_s=e.get("duration_s"), lyrics=e.get("lyrics"),
                                          before=e.get("before", False)),
          "relyric": lambda e: relyric_edit(line=e.get("line"), text=e.get("text"))}
VERBS = tuple(CHECKS)


def check_edit(edit: dict) -> dict:
    """An edit as a song file or an HTTP request gives it, checked: the same edit, or InvalidRequest."""
    if not isinstance(edit, dict):
        raise InvalidRequest("edits", "must be a list of edits (JSON objects with a \"verb\")", edit)
    verb = edit.get("verb")
    if verb not in CHECKS:
        raise InvalidRequest("edits", "must name a known verb (" + ", ".join(VERBS) + ")", verb)
    return CHECKS[verb](edit)


def edit_from_fields(fields: object) -> dict:
    """An edit from a client's fields (`{"verb": "retake", "section": "chorus"}`): the verb's own
    keyword arguments, checked as the CLI checks them; a missing seed is a new take."""
    import inspect

    if not isinstance(fields, dict):
        raise InvalidRequest("edit", "must be a JSON object with a \"verb\" and its fields", type(fields).__name__)
    options = dict(fields)
    verb = options.pop("verb", None)
    if verb not in EDITS:
        raise InvalidRequest("verb", "must be one of " + ", ".join(EDITS), verb)
    known = inspect.signature(EDITS[verb]).parameters
    for name in options:
        if name not in known:
            raise InvalidRequest(str(name), f"is not a field of a {verb} edit (its fields: {', '.join(known)})", options[name])
    for name, parameter in known.items():
        if parameter.default is inspect.Parameter.empty and name not in options:
            raise InvalidRequest(name, f"is required for a {verb} edit", None)
    return EDITS[verb](**options)


def check_edits(request: SongRequest, edits: Iterable[dict]) -> None:
    """Apply `edits` to the notes `request` makes (no audio): raises InvalidRequest where one does
    not fit the song (a section it does not have, a window outside it...)."""
    edits = tuple(check_edit(e) for e in edits)
    if request.engine == "acestep":
        for each in edits:
            check_acestep_edit(each)
        return
    require_composer(request)
    prepared, plan, score = composed(request.validate())
    for edit in edits:
        change = apply(edit, prepared, plan, score)
        plan, score = change.plan, change.score


def require_composer(request: SongRequest) -> None:
    if request.engine != "composer":
        raise InvalidRequest("edits", f"are made on composer songs only (this song is from {request.engine})", request.engine)


# ---------------------------------------------------------------- making an edited song

@dataclass(frozen=True)
class Change:
    """One edit applied to a composed song: the new plan and score, and the window of audio it
    changes (start and end in seconds of the new song; no end: to the end; no window: everything)."""
    plan: Plan
    score: Score
    window: tuple[float, float | None] | None
    shift_s: float = 0.0  # the source after the window sits this much later in the new song (extend --before)


def make(request: SongRequest, edits: Iterable[dict] = (), *, progress: Progress = _quiet, engine=None,
         source: SongMix | None = None) -> Song:
    """The song `request` makes with `edits` applied in order. Every edit is checked and applied
    to the notes before any audio is rendered, so a bad edit costs no rendering. An acestep song's
    edits run through its pipeline (`engine`: a configured AceStepEngine; default: from the
    environment). `source`: the mix of the song before the last edit, read back from its file
    (`song.read_song_mix`): where that edit keeps audio, it is spliced into this mix and nothing
    else is rendered; the same bytes (the stems too where they were read back; else they are
    `StemsNotKept`)."""
    from .engines import generate

    edits = tuple(check_edit(e) for e in edits)
    if not edits:
        return generate(request, progress=progress, engine=engine)
    if request.engine == "acestep":
        return _make_acestep(request, edits, progress=progress, engine=engine, source=source)
    require_composer(request)
    progress("planning", 0.0)
    prepared, plan, score = composed(request.validate())
    pinned = pinned_request(prepared.request, seed=prepared.seed, plan=plan)  # what the song file keeps
    prepared = dataclasses.replace(prepared, request=pinned)
    states = [(plan, score)]
    changes = []
    for edit in edits:
        changes.append(apply(edit, prepared, *states[-1]))
        states.append((changes[-1].plan, changes[-1].score))
    first, song = 0, None  # the first edit to render, and the audio of the song before it once rendered
    if source is not None and changes[-1].window is not None and len(source.audio) == states[-2][0].total_samples:
        first, song = len(changes) - 1, _song_of_mix(source, prepared, *states[-2])
    renders = 1 if song is not None else _renders(changes)
    done = 0

    def share(stage: str, fraction: float) -> None:  # each render a share of the progress, in order
        progress(stage, (done + fraction) / renders)

    for before, change in zip(states[first:], changes[first:]):
        if change.window is None:  # every note changed: nothing to keep
            song = None
            continue
        if song is None:
            song = perform(prepared, *before, progress=share)
            done += 1
        song = _spliced_song(prepared, song, change, progress=share)
        done += 1
    if song is None:
        song = perform(prepared, *states[-1], progress=share)
    return dataclasses.replace(song, edits=edits)


def _song_of_mix(mix: SongMix, prepared: Prepared, plan: Plan, score: Score) -> Song:
    """The song `plan` and `score` make, its audio the mix read back from its file."""
    from .stages import SAMPLE_RATE, versions

    stems = mix.stems if mix.stems is not None else StemsNotKept(names=tuple(mix.report["stems"]), why=StemsNotKept.SPLICED)
    return Song(mix.audio, SAMPLE_RATE, stems, plan, score, mix.report["loudness_lufs"], mix.report["true_peak_dbtp"],
                request=prepared.request, seed=prepared.seed, warnings=prepared.warnings + plan.warnings,
                versions=versions(), levels=mix.levels)


def _spliced_song(prepared: Prepared, song: Song, change: Change, *, progress: Progress) -> Song:
    """`song` with `change`'s window rendered again at the song's levels and spliced in."""
    passage = perform_passage(change.plan, change.score, start_s=change.window[0], end_s=change.window[1],
                              levels=song.levels, progress=progress)
    spliced = splice(song, passage, length=change.plan.total_samples, to_end=change.window[1] is None,
                     shift_s=change.shift_s)
    return dataclasses.replace(spliced, plan=change.plan, score=change.score, request=prepared.request,
                               seed=prepared.seed, warnings=prepared.warnings + change.plan.warnings)


def _renders(changes: list[Change]) -> int:
    """How many renders `make` needs: the song before each run of splicing edits, and each
    edit's window."""
    count, rendered = 0, False
    for change in changes:
        if change.window is None:
            rendered = False
            continue
        count += 1 if rendered else 2
        rendered = True
    return count + (0 if rendered else 1)


ACESTEP_VERBS = ("retake", "repaint", "extend")


def check_acestep_edit(edit: dict) -> None:
    """What an acestep song can take: a retake of the whole song, a repaint, an extension."""
    if edit["verb"] not in ACESTEP_VERBS:
        raise InvalidRequest("verb", f"must be one of {', '.join(ACESTEP_VERBS)} for an acestep song "
                             f"({edit['verb']} changes notes, and acestep songs have none)", edit["verb"])
    if edit["verb"] == "extend" and edit.get("before"):
        raise InvalidRequest("before", "acestep songs are extended after their end only", True)
    if edit["verb"] == "retake" and (edit["section"] is not None or edit["bars"] is not None):
        raise InvalidRequest("section", "acestep songs have no sections or bars: retake the whole song, or "
                             "repaint a time range (--start-s, --end-s)", edit["section"] or edit["bars"])


def _make_acestep(request: SongRequest, edits: tuple[dict, ...], *, progress: Progress, engine,
                  source: SongMix | None) -> Song:
    """The acestep song `request` makes, then each edit through the pipeline; with `source` (the
    song before the last edit, read back from its file) only the last edit is sampled, from it."""
    from .acestep.engine import edit_acestep
    from .engines import default_engine
    from .stages import SAMPLE_RATE

    for each in edits:
        check_acestep_edit(each)
    engine = engine or default_engine("acestep")
    if source is not None and source.report.get("engine") == "acestep":
        report = source.report
        song = Song(source.audio, SAMPLE_RATE, {}, None, None, report["loudness_lufs"],
                    report["true_peak_dbtp"], request=request, seed=request.seed, engine="acestep",
                    warnings=list(report["warnings"]), versions=dict(report["versions"]), settings=dict(report["settings"]),
                    edits=edits[:-1])
        edits = edits[-1:]
    else:
        song = engine.generate(request, progress=progress)
    for each in edits:
        song = edit_acestep(song, each, pipeline=engine.pipeline(), progress=progress)
    return song


def edit(song: Song, edit: dict, *, progress: Progress = _quiet) -> Song:
    """`song` with one edit more, from the notes and audio in hand (one render where `make` from
    the song file needs two): the same bytes as `make(request, edits)` with the edit appended."""
    from .stages import prepare

    edit = check_edit(edit)
    if song.engine == "acestep":
        from .acestep.engine import edit_acestep
        from .engines import default_engine

        check_acestep_edit(edit)
        return edit_acestep(song, edit, pipeline=default_engine("acestep").pipeline(), progress=progress)
    require_composer(song.request)
    prepared = prepare(song.resolved_request())
    change = apply(edit, prepared, song.plan, song.score)
    if change.window is None:
        made = perform(prepared, change.plan, change.score, progress=progress)
    else:
        made = _spliced_song(prepared, song, change, progress=progress)
    return dataclasses.replace(made, edits=(*song.edits, edit))


def apply(edit: dict, prepared: Prepared, plan: Plan, score: Score) -> Change:
    verb = edit["verb"]
    if verb == "remix":
        if edit.get("voice") is not None:
            plan, score = revoice(plan, score, voice=edit["voice"])
        if edit.get("time_signature") is not None:
            plan, score = remeter(prepared, plan, time_signature=edit["time_signature"])
        if edit.get("tags") is not None:
            plan, score = retag(plan, score, tags=edit["tags"])
        if edit["key"] is not None or edit["tempo_bpm"] is not None:
            plan, score = remix(plan, score, key=edit["key"], tempo_bpm=edit["tempo_bpm"])
        return Change(plan, score, window=None)
    if verb in ("retake", "repaint"):
        bars = retake_bars(plan, score, edit)
        return retake(prepared, plan, score, bars=bars, seed=edit["seed"], keep_chords=edit["keep_chords"])
    if verb == "extend":
        grow = extend_before if edit.get("before") else extend
        return grow(prepared, plan, score, duration_s=edit["duration_s"], lyrics=edit["lyrics"])
    return relyric(prepared, plan, score, line=edit["line"], text=edit["text"])


# ---------------------------------------------------------------- remix

def remix(plan: Plan, score: Score, *, key: str | None, tempo_bpm: float | None) -> tuple[Plan, Score]:
    """New plan and score: every pitched note transposed to `key`, every note at `tempo_bpm`."""
    new_key = parse_key(key) if key is not None else plan.key
    if new_key.mode != plan.key.mode:
        raise InvalidRequest("key", f"must keep the song's mode ({plan.key.mode}): a remix moves every note "
                             "by the same interval", key)
    shift = (new_key.tonic_pc - plan.key.tonic_pc) % 12
    shift = shift - 12 if shift > 6 else shift
    tempo = float(tempo_bpm) if tempo_bpm is not None else plan.tempo_bpm
    ratio = plan.tempo_bpm / tempo
    duration_s = round((plan.duration_s - RELEASE_S) * ratio + RELEASE_S, 6)
    if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
        raise InvalidRequest("tempo_bpm", f"makes the song {duration_s:.1f} s long at {tempo:g} BPM; songs are "
                             f"{MIN_DURATION_S:g}-{MAX_DURATION_S:g} s", tempo_bpm)
    request = plan.request.replace(key=new_key.name, tempo_bpm=tempo, duration_s=duration_s)
    moved = lambda chord: dataclasses.replace(chord, root_pc=(chord.root_pc + shift) % 12, bass_pc=(  # noqa: E731
        None if chord.bass_pc is None else (chord.bass_pc + shift) % 12))
    sections = [dataclasses.replace(s, chords=[moved(c) for c in s.chords], spans=None if s.spans is None else [
        tuple(dataclasses.replace(span, chord=moved(span.chord)) for span in bar) for bar in s.spans])
        for s in plan.sections]
    new_plan = dataclasses.replace(plan, request=request, key=new_key, tempo_bpm=tempo, sections=sections,
                                   final_chord=moved(plan.final_chord))
    parts = [dataclasses.replace(part, notes=[dataclasses.replace(n, pitch=n.pitch + (0 if part.is_drum else shift))
                                              for n in part.notes]) for part in score.parts]
    new_score = dataclasses.replace(score, tempo_bpm=tempo, key_name=new_key.name, parts=parts)
    return new_plan, new_score


def revoice(plan: Plan, score: Score, *, voice: str) -> tuple[Plan, Score]:
    """The same notes sung by `voice`: every syllable re-cast for it (its phonemes), the vocal
    lines moved by whole octaves to the middle of its range."""
    from .composer.melody import voice_gender
    from .lyrics import LyricSection, Lyrics
    from .singer.casting import cast_lyrics
    from .singer.voices import VOICES

    if not plan.vocal:
        raise InvalidRequest("voice", "must be left out: this song has no vocals", voice)
    sung = [s for s in plan.sections if s.phrases]
    lyrics = Lyrics([LyricSection(s.kind, s.label, list(s.phrases)) for s in sung], [])
    cast, casting = cast_lyrics(lyrics, voice, voice_gender(plan.style))
    phrases = {id(old): new.phrases for old, new in zip(sung, cast.sections)}
    for old, new in zip(sung, cast.sections):
        for before, after in zip(old.phrases, new.phrases):
            if before.syllable_count != after.syllable_count:
                raise InvalidRequest("voice", f"{voice} sings '{before.text}' in {after.syllable_count} syllables "
                                     f"where the song sings {before.syllable_count}: the notes cannot be kept", voice)
    sections = [dataclasses.replace(s, phrases=list(phrases[id(s)])) if id(s) in phrases else s for s in plan.sections]
    sung_as = [(syllable, word.phones[j] if word.phones else None, word.voice)
               for s in sections for p in s.phrases for word in p.words for j, syllable in enumerate(word.syllables)]
    old_centre = VOICES[plan.lead_voice].range_midi[2] if plan.lead_voice in VOICES else None
    shift = 0 if old_centre is None else 12 * round((VOICES[casting.lead.name].range_midi[2] - old_centre) / 12)
    vocals = sorted(score.part("vocals").notes, key=lambda n: (n.line, n.start_beats))
    by_note = {id(note): sung for note, sung in zip(vocals, sung_as)}
    by_place = {(n.line, round(n.start_beats, 6)): by_note[id(n)] for n in vocals}

    def recast(note: Note, sung) -> Note:
        syllable, phones, who = sung
        return dataclasses.replace(note, pitch=note.pitch + shift, syllable=syllable, phones=phones, voice=who)

    parts = []
    for part in score.parts:
        if part.name == "vocals":
            part = dataclasses.replace(part, notes=[recast(n, by_note[id(n)]) for n in part.notes])
        elif part.name == "harmony":
            part = dataclasses.replace(part, notes=[recast(n, by_place.get((n.line, round(n.start_beats, 6)),
                                                                           (n.syllable, n.phones, n.voice)))
                                                    for n in part.notes])
        parts.append(part)
    request = plan.request.replace(voice=voice)
    return (dataclasses.replace(plan, request=request, sections=sections, lead_voice=casting.lead.name),
            dataclasses.replace(score, parts=parts))


def remeter(prepared: Prepared, plan: Plan, *, time_signature: str) -> tuple[Plan, Score]:
    """The same song in another meter: its form, bars, chords, lyrics and seed kept, every part
    written again from the same named streams in the new meter (a note-for-note copy cannot
    exist: a 4/4 bar has beats a 3/4 bar does not). The song's length follows its bars."""
    from .plan import BEATS_PER_BAR

    if time_signature == plan.time_signature:
        raise InvalidRequest("time_signature", f"must differ from the song's ({plan.time_signature})", time_signature)
    bar_s = BEATS_PER_BAR[time_signature] * plan.seconds_per_beat
    ring_s = plan.duration_s - plan.content_bars * plan.bar_s
    duration_s = round(plan.content_bars * bar_s + ring_s, 6)
    if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
        raise InvalidRequest("time_signature", f"makes the song {duration_s:.1f} s long; songs are "
                             f"{MIN_DURATION_S:g}-{MAX_DURATION_S:g} s", time_signature)
    request = plan.request.replace(time_signature=time_signature, duration_s=duration_s)
    new_plan = dataclasses.replace(plan, request=request, time_signature=time_signature)
    return new_plan, _recompose(prepared, new_plan)


def retag(plan: Plan, score: Score, *, tags: str) -> tuple[Plan, Score]:
    """The same notes played by the instruments of other tags: "+strings, -guitar" adds the
    strings tag and drops the guitar (a tag without a sign is added). Each part takes the program
    its role has under the new tags; a dropped instrument or stem that would still sound is silent."""
    from .score import STEMS
    from .styles import lookup_tag, normalize_tag, resolve_tags, split_tags

    adds, drops = [], []
    for tag in split_tags(tags):
        name = tag.lstrip("+-").strip()
        if not name:
            continue
        if tag.startswith("-"):
            drops.append(name)
        else:
            if lookup_tag(name) is None:
                raise InvalidRequest("tags", f"'{name}' is not a tag Songwright knows (see `songwright styles`)", tags)
            adds.append(name)
    dropped = {normalize_tag(t) for t in drops}
    kept = [t for t in split_tags(plan.request.tags) if normalize_tag(t) not in dropped]
    new_tags = ", ".join(kept + [t for t in adds if normalize_tag(t) not in {normalize_tag(k) for k in kept}])
    style = resolve_tags(new_tags)
    def sounds(of) -> dict[str, tuple[int, str]]:  # part -> (program, stem) under a style
        return {"drums": (of.kit, "drums"), "bass": (of.bass.program, of.bass.stem), "comp": (of.comp.program, of.comp.stem),
                "keys": (of.keys.program, "keys"), "pad": (of.pad_program, "strings"), "lead": (of.lead_program, "lead")}

    before, after = sounds(plan.style), sounds(style)
    role_part = {"comp": "comp", "keys": "keys", "pad": "pad", "lead": "lead", "bass": "bass"}
    silent = set()
    for tag in drops:
        hit = lookup_tag(tag)
        if tag.lower() in STEMS:
            silent.add(tag.lower())
        elif hit and hit[0] == "instrument" and load_role(hit[1]) in role_part:
            part = role_part[load_role(hit[1])]
            if after[part][1] == before[part][1]:  # still that instrument's stem without the tag: silence it
                silent.add(before[part][1])
        else:
            raise InvalidRequest("tags", f"'-{tag}' names no instrument or stem of the song", tags)
    parts = []
    for part in score.parts:
        program, stem = after.get(part.name, (part.program, part.stem))
        if stem in silent or part.stem in silent:
            continue
        parts.append(dataclasses.replace(part, program=program, stem=stem))
    if not any(part.notes for part in parts):
        raise InvalidRequest("tags", "must leave at least one instrument or voice playing", tags)
    request = plan.request.replace(tags=new_tags)
    return dataclasses.replace(plan, request=request, style=style), dataclasses.replace(score, parts=parts)


def load_role(instrument: str) -> str | None:
    from .styles import load_styles

    return load_styles()["instrument"].get(instrument, {}).get("role")


# ---------------------------------------------------------------- retake and repaint

def find_section(plan: Plan, name: str | int) -> Section:
    """A section by its number (1 for the first) or its name: "chorus" (the first chorus), "chorus 2"."""
    names = ", ".join(f"{i} {s.label}" for i, s in enumerate(plan.sections, 1))
    if isinstance(name, int) or str(name).strip().isdigit():
        number = int(name)
        if not 1 <= number <= len(plan.sections):
            raise InvalidRequest("section", f"must be a section of the song, 1-{len(plan.sections)} ({names})", name)
        return plan.sections[number - 1]
    match = re.fullmatch(r"\s*([a-z][a-z -]*?)[\s:#]*(\d*)\s*", str(name).lower())
    if match:
        kind, nth = match[1].strip(), int(match[2] or 1)
        same = [s for s in plan.sections if kind in (s.kind, s.label.lower())]
        if 1 <= nth <= len(same):
            return same[nth - 1]
    raise InvalidRequest("section", f"must be a section of the song ({names})", name)


def retake_bars(plan: Plan, score: Score, edit: dict) -> range:
    """The bars (0-based) an edit writes anew, widened to whole sung and played lines."""
    if edit["verb"] == "repaint":
        ending_s = plan.content_bars * plan.bar_s
        if edit["start_s"] >= ending_s:
            raise InvalidRequest("start_s", f"must be before the final chord at {ending_s:.2f} s (the song's "
                                 f"bars end there)", edit["start_s"])
        if edit["end_s"] > plan.duration_s:
            raise InvalidRequest("end_s", f"must be within the song's {plan.duration_s:g} s", edit["end_s"])
        first = int(math.floor(edit["start_s"] / plan.bar_s + 1e-9))
        last = min(plan.content_bars, int(math.ceil(edit["end_s"] / plan.bar_s - 1e-9))) - 1
        bars = range(first, max(first, last) + 1)
    elif edit["section"] is not None:
        section = find_section(plan, edit["section"])
        bars = range(section.start_bar, section.end_bar)
    elif edit["bars"] is None:  # the whole song
        bars = range(0, plan.content_bars)
    else:
        first, last = edit["bars"]
        if last > plan.content_bars:
            raise InvalidRequest("bars", f"must lie within the song's {plan.content_bars} bars", f"{first}-{last}")
        bars = range(first - 1, last)
    for part in score.parts:  # a line is retaken whole, or not at all
        for span in _line_spans(plan, part).values():
            if span.start < bars.stop and bars.start < span.stop:
                bars = range(min(bars.start, span.start), max(bars.stop, span.stop))
    return bars


def _line_spans(plan: Plan, part: Part) -> dict[int, range]:
    """The bars each line of a melodic part was written over."""
    spans: dict[int, range] = {}
    for note in part.notes:
        if note.line is not None:
            last = max(int(math.ceil(note.end_beats / plan.beats_per_bar - 1e-6)), note.bar + 1)
            old = spans.get(note.line, range(note.bar, last))
            spans[note.line] = range(min(old.start, note.bar), max(old.stop, last))
    return spans


def retake(prepared: Prepared, plan: Plan, score: Score, *, bars: range, seed: int, keep_chords: bool) -> Change:
    """New material for `bars`, drawn from take `seed`'s streams; every note outside them kept."""
    from .plan import cadence_of
    from .styles import load_styles
    from .theory import parse_roman

    sections = []
    cadence = len(cadence_of(plan.style.harmony, plan.key.mode)[0])
    for section in plan.sections:
        inside = [b for b in bars if section.start_bar <= b < section.end_bar]
        if not inside or keep_chords or section.spans is not None or plan.tune_notes is not None:
            # a chart's chords, or chords harmonising the request's own melody, are the user's: kept
            sections.append(section)
            continue
        vocabulary = load_styles()["harmony"][plan.style.harmony][plan.key.mode][_slot(section.kind)]
        current = " ".join(c.symbol for c in section.chords)
        options = [o for o in vocabulary if not current.startswith(o)] or vocabulary
        rng = Streams(plan.seed).rng("chords", section.kind, section.occurrence, "take", seed)
        progression = [parse_roman(s, plan.key) for s in options[int(rng.integers(len(options)))].split()]
        chords = list(section.chords)
        keep_from = section.bars - cadence if section is plan.sections[-1] else section.bars  # the song's cadence stays
        for b in inside:
            position = b - section.start_bar
            if position < keep_from:
                chords[position] = progression[position % len(progression)]
        sections.append(dataclasses.replace(section, chords=chords))
    new_plan = dataclasses.replace(plan, sections=sections, takes={**plan.takes, **{b: seed for b in bars}})
    new_score = _recompose(prepared, new_plan)
    taken = lambda part, note: note.bar in bars  # noqa: E731
    return _spliced(plan, score, new_plan, new_score, taken, bars)


def _recompose(prepared: Prepared, plan: Plan) -> Score:
    from .composer import compose

    return compose(plan, streams=Streams(prepared.seed))


def _spliced(plan: Plan, score: Score, new_plan: Plan, new_score: Score, taken, bars: range) -> Change:
    """The score with the `taken` notes of the new score in place of the source's; the window of
    audio that changes: from a beat before the first changed note to the last one's tail."""
    parts, changed = [], []
    names = [p.name for p in score.parts] + [p.name for p in new_score.parts if score.part(p.name) is None]
    for name in names:
        old, new = score.part(name), new_score.part(name)
        kept = [n for n in (old.notes if old else []) if not taken(name, n)]
        added = [n for n in (new.notes if new else []) if taken(name, n)]
        changed += [n for n in (old.notes if old else []) if taken(name, n)] + added
        notes = sorted(kept + added, key=lambda n: (n.start_beats, n.pitch))
        if notes:
            parts.append(dataclasses.replace(old or new, notes=notes))
    seconds = new_score.seconds
    first_beat = bars.start * plan.beats_per_bar - 1.0
    start_s = min([seconds(first_beat)] + [seconds(n.start_beats) - LEAD_IN_S for n in changed])
    end_s = max([seconds(bars.stop * plan.beats_per_bar)] + [seconds(n.end_beats) for n in changed]) + TAIL_S
    return Change(new_plan, dataclasses.replace(new_score, parts=parts), window=(max(0.0, start_s), end_s))


# ---------------------------------------------------------------- relyric

def _cast_phrases(prepared: Prepared, plan: Plan, text: str):
    """Parsed and cast lyrics for new words, sung by the song's lead where they are in its language."""
    from .composer.melody import voice_gender
    from .lyrics import parse_lyrics
    from .singer.casting import cast_lyrics
    from .singer.voices import VOICES

    lyrics = parse_lyrics(text)
    languages = {w.language for s in lyrics.sections for p in s.phrases for w in p.words}
    lead = VOICES.get(plan.lead_voice) if plan.lead_voice else None
    requested = prepared.request.voice or (lead.name if lead and languages <= {lead.language} else None)
    return cast_lyrics(lyrics, requested, voice_gender(plan.style))[0]


def relyric(prepared: Prepared, plan: Plan, score: Score, *, line: int, text: str) -> Change:
    """Sung line `line` (1-based, in song order) sung with `text`: its tune written again for the
    new syllables; every other note kept."""
    from .plan import _phrase_bars

    if not plan.vocal:
        raise InvalidRequest("line", "must be a sung line, and this song has no vocals", line)
    if plan.tune_notes is not None:
        raise InvalidRequest("line", "cannot take new words in a song sung to your own melody: change the lyrics "
                             "in its request (the words are fitted to the melody's notes)", line)
    places = [(i, j) for i, s in enumerate(plan.sections) for j in range(len(s.phrases))]
    if not 1 <= line <= len(places):
        raise InvalidRequest("line", f"must be a sung line of the song, 1-{len(places)}", line)
    at, index = places[line - 1]
    words = [p for s in _cast_phrases(prepared, plan, text).sections for p in s.phrases]
    if len(words) != 1:
        raise InvalidRequest("text", "must be one line of words", text)
    phrase = dataclasses.replace(words[0], line_index=plan.sections[at].phrases[index].line_index)
    bars = plan.sections[at].phrase_bars[index]
    if _phrase_bars(plan, phrase, relaxed=False) > bars:
        raise InvalidRequest("text", f"has {phrase.syllable_count} syllables, more than line {line}'s {bars} "
                             f"bar(s) can hold at {plan.tempo_bpm:g} BPM", text)
    section = plan.sections[at]
    phrases = list(section.phrases)
    phrases[index] = phrase
    sections = list(plan.sections)
    sections[at] = dataclasses.replace(section, phrases=phrases)
    new_plan = dataclasses.replace(plan, sections=sections)
    vocals = score.part("vocals")
    line_id = sorted({n.line for n in vocals.notes})[line - 1]
    first = section.start_bar + sum(section.phrase_bars[:index])
    taken = lambda part, note: part in ("vocals", "harmony") and note.line == line_id  # noqa: E731
    return _spliced(plan, score, new_plan, _recompose(prepared, new_plan), taken, range(first, first + bars))


# ---------------------------------------------------------------- extend

def _lyric_sections(prepared: Prepared, plan: Plan, lyrics: str, loops: dict[str, int]) -> list[Section]:
    """New sections for new lyrics, cast for the song's singer and sized as the planner sizes any."""
    from .plan import _set_lines

    cast = _cast_phrases(prepared, plan, lyrics) if plan.vocal else None
    sections = []
    for lyric in (cast.sections if cast else []):
        kind = lyric.kind if lyric.kind != "unknown" else "verse"
        section = Section(kind, lyric.label, 0, 0, list(lyric.phrases))
        if section.phrases:
            _set_lines(plan, section, loops, relaxed=True)
        else:
            section.bars = 4
        sections.append(section)
    if not sections:
        raise InvalidRequest("lyrics", "must have words to sing (the song is instrumental)" if not plan.vocal
                             else "must have words to sing", lyrics)
    return sections


def extend_before(prepared: Prepared, plan: Plan, score: Score, *, duration_s: float, lyrics: str | None) -> Change:
    """New sections between the intro and the song's first section (the new lyrics' sections, or
    instrumental blocks stating the song's themes), in whole bars: the song becomes as long as
    `duration_s` allows in whole bars. The intro is kept where it was; every bar after it is the
    source's, sample for sample, later by the new bars."""
    from .plan import _choose_progressions, _play_chart

    if duration_s <= plan.duration_s:
        raise InvalidRequest("duration_s", f"must be longer than the song's {plan.duration_s:g} s", duration_s)
    if plan.tune_notes is not None:
        raise InvalidRequest("duration_s", "cannot lengthen a song sung to your own melody (it is as long as the "
                             "melody): give a longer melody", duration_s)
    room = math.floor((duration_s - plan.duration_s) / plan.bar_s + 1e-9)
    progressions = _choose_progressions(plan, Streams(prepared.seed))
    loops = {slot: len(chords) for slot, chords in progressions.items()}
    new = _lyric_sections(prepared, plan, lyrics, loops) if lyrics else []
    spare = room - sum(s.bars for s in new)
    if spare < 0:
        need_s = plan.duration_s + (room - spare) * plan.bar_s
        raise InvalidRequest("duration_s", f"is too short for the new lyrics: they need the song at least "
                             f"{need_s:.1f} s long", duration_s)
    while spare >= 4:
        bars = 8 if spare >= 8 else 4
        new.append(Section("inst", "inst", 0, bars))
        spare -= bars
    if not new:
        raise InvalidRequest("duration_s", f"must add at least 4 bars ({4 * plan.bar_s:.1f} s) before the song",
                             duration_s)
    head = plan.sections[:1] if plan.sections[0].kind == "intro" else []
    at = sum(s.bars for s in head)
    inserted = sum(s.bars for s in new)
    counts = {kind: sum(s.kind == kind for s in plan.sections) for kind in {s.kind for s in plan.sections}}
    place_sections(new, start_bar=at, counts=counts)  # their streams after the song's own: (kind, occurrence) names no source section
    for section in new:
        progression = progressions[_slot(section.kind)]
        section.chords = [progression[i % len(progression)] for i in range(section.bars)]
    later = [dataclasses.replace(s, start_bar=s.start_bar + inserted) for s in plan.sections[len(head):]]
    added_s = inserted * plan.bar_s
    request = plan.request.replace(duration_s=round(plan.duration_s + added_s, 6))
    new_plan = dataclasses.replace(plan, request=request, sections=[*head, *new, *later],
                                   content_bars=plan.content_bars + inserted, warnings=list(plan.warnings),
                                   adjustments=[*plan.adjustments, f"{inserted} bars put before the song: "
                                                f"{request.duration_s:g} s, whole bars"],
                                   takes={b + inserted * (b >= at): t for b, t in plan.takes.items()})
    for section in new:
        chart = plan.chart_of(kind=section.kind, label=section.label)
        if chart is not None:
            _play_chart(new_plan, section, chart)
    new_score = _recompose(prepared, new_plan)
    beats = inserted * plan.beats_per_bar
    moved = lambda note: dataclasses.replace(note, start_beats=note.start_beats + beats, bar=note.bar + inserted)  # noqa: E731
    parts, added = [], []
    names = [p.name for p in score.parts] + [p.name for p in new_score.parts if score.part(p.name) is None]
    for name in names:
        old, fresh = score.part(name), new_score.part(name)
        notes = [n if n.bar < at else moved(n) for n in (old.notes if old else [])]
        mine = [n for n in (fresh.notes if fresh else []) if at <= n.bar < at + inserted]
        added += mine
        if notes or mine:
            parts.append(dataclasses.replace(old or fresh, notes=sorted(notes + mine, key=lambda n: (n.start_beats, n.pitch))))
    seconds = new_score.seconds
    start_s = min([seconds(at * plan.beats_per_bar - 1.0)] + [seconds(n.start_beats) - LEAD_IN_S for n in added])
    end_s = max([seconds((at + inserted) * plan.beats_per_bar)] + [seconds(n.end_beats) for n in added]) + TAIL_S
    score_out = dataclasses.replace(new_score, parts=_renumbered(parts))
    return Change(new_plan, score_out, window=(max(0.0, start_s), end_s), shift_s=added_s)


def _renumbered(parts: list[Part]) -> list[Part]:
    """Each melodic part's lines numbered again in the order they are sung."""
    out = []
    for part in parts:
        firsts: dict[int, float] = {}
        for note in part.notes:
            if note.line is not None:
                firsts[note.line] = min(firsts.get(note.line, note.start_beats), note.start_beats)
        order = {line: i for i, line in enumerate(sorted(firsts, key=firsts.get))}
        out.append(dataclasses.replace(part, notes=[n if n.line is None else dataclasses.replace(n, line=order[n.line])
                                                    for n in part.notes]))
    return out

def extend(prepared: Prepared, plan: Plan, score: Score, *, duration_s: float, lyrics: str | None) -> Change:
    """The song made `duration_s` long: new sections between its last section and its outro (the
    new lyrics' sections, or an instrumental block and the last chorus again), every bar before
    the outro kept; the outro and the final chord follow the new sections."""
    from .plan import MIN_RINGOUT_S, _cadence, _choose_progressions, _instrumental_bars, _play_chart, _set_lines

    if duration_s <= plan.duration_s:
        raise InvalidRequest("duration_s", f"must be longer than the song's {plan.duration_s:g} s", duration_s)
    if plan.tune_notes is not None:
        raise InvalidRequest("duration_s", "cannot lengthen a song sung to your own melody (it is as long as the "
                             "melody): give a longer melody", duration_s)
    content_bars = math.floor((duration_s - MIN_RINGOUT_S) / plan.bar_s + 1e-9)
    outro = plan.sections[-1]
    kept = plan.sections[:-1]
    streams = Streams(prepared.seed)
    progressions = _choose_progressions(plan, streams)
    loops = {slot: len(chords) for slot, chords in progressions.items()}
    new = _lyric_sections(prepared, plan, lyrics, loops) if lyrics else []
    spare = content_bars - outro.start_bar - outro.bars - sum(s.bars for s in new)
    for section in (s for s in new if s.phrases and spare < 0):
        before = section.bars
        _set_lines(plan, section, loops, relaxed=False, tail=False)
        spare += before - section.bars
    if spare < 0:
        need_s = (content_bars - spare) * plan.bar_s + MIN_RINGOUT_S
        raise InvalidRequest("duration_s", f"is too short for the new lyrics: they need the song at least "
                             f"{need_s:.1f} s long", duration_s)
    outro_bars = min(outro.bars, _instrumental_bars(plan, "outro", outro.label))  # a grown outro gives its room back
    spare += outro.bars - outro_bars
    block = 8 if plan.bar_s < 2.4 else 4
    chorus = next((s for s in reversed(kept) if s.kind in ("chorus", "hook") and s.phrases), None)
    middle = "solo" if plan.vocal else "bridge"
    while not lyrics and chorus is not None and spare >= block + chorus.bars:
        new += [Section(middle, middle, 0, block), Section(chorus.kind, chorus.label, 0, chorus.bars,
                                                           list(chorus.phrases), list(chorus.phrase_bars))]
        spare -= block + chorus.bars
    grow = min(spare, max(0, 8 - outro_bars))  # an outro of up to 8 bars, then instrumental blocks
    outro_bars += grow
    spare -= grow
    while spare >= 4:
        bars = 8 if spare >= 8 else 4
        new.insert(0, Section("inst", "inst", 0, bars))
        spare -= bars
    ending = dataclasses.replace(outro, bars=outro_bars + spare, chords=[], spans=None)
    counts = {section.kind: section.occurrence + 1 for section in kept}
    ending.start_bar = place_sections(new, start_bar=outro.start_bar, counts=counts)
    for section in new + [ending]:
        progression = progressions[_slot(section.kind)]
        section.chords = [progression[i % len(progression)] for i in range(section.bars)]
    choruses = [s for s in new if s.kind in ("chorus", "hook")]
    if choruses:
        choruses[-1].energy = LAST_CHORUS_ENERGY
    request = plan.request.replace(duration_s=float(duration_s))
    new_plan = dataclasses.replace(plan, request=request, sections=[*kept, *new, ending], content_bars=content_bars,
                                   adjustments=[*plan.adjustments, f"extended to {duration_s:g} s"],
                                   warnings=list(plan.warnings))
    for section in new + [ending]:  # a section the request's chart names plays it, as it does in the song
        chart = plan.chart_of(kind=section.kind, label=section.label)
        if chart is not None:
            _play_chart(new_plan, section, chart)
    if ending.spans is None:  # the cadence never overwrites a user's bars
        _cadence(new_plan)
    new_score = _recompose(prepared, new_plan)
    taken = lambda part, note: note.bar >= outro.start_bar  # noqa: E731
    change = _spliced(plan, score, new_plan, new_score, taken, range(outro.start_bar, content_bars))
    return dataclasses.replace(change, window=(change.window[0], None))


# ---------------------------------------------------------------- audio

def splice(before: Song, passage: Passage, *, length: int, to_end: bool, shift_s: float = 0.0) -> Song:
    """`before` with `passage` in place of its samples from the passage's start to its end (or,
    `to_end`, to the end of a song `length` samples long), `before`'s sample for sample outside,
    with an equal-power crossfade of CROSSFADE_S just inside each edge; the mix and every stem
    alike (stems on disk). After the passage `before` is taken `shift_s` later (whole samples):
    the source's bars after new ones put before them. Loudness and true peak are measured again."""
    from .audio.measure import integrated_lufs, true_peak_db

    rate = before.sample_rate
    shift = int(round(shift_s * rate))
    start = passage.start
    end = length if to_end else min(start + len(passage.audio), len(before.audio) + shift, length)
    fade = min(int(CROSSFADE_S * rate), (end - start) // 2)

    def join(old: np.ndarray | None, new: np.ndarray | None, out: np.ndarray) -> np.ndarray:
        if old is not None:
            out[:start] = old[:start]
            later = old[end - shift:length - shift]
            out[end:end + len(later)] = later
        if new is not None:
            out[start:end] = new[:end - start]
        rise = np.sin(np.linspace(0.0, np.pi / 2, fade, dtype=np.float32))[:, None]
        fade_in = fade if old is None else min(fade, len(old) - start)  # none where the source has ended
        if fade_in > 0 and start > 0:  # the passage comes in over the source
            out[start:start + fade_in] *= rise[:fade_in]
            if old is not None:
                out[start:start + fade_in] += old[start:start + fade_in] * rise[::-1][:fade_in]
        if fade and end < length:  # and goes out under it
            out[end - fade:end] *= rise[::-1]
            if old is not None:
                out[end - fade:end] += old[end - fade - shift:end - shift] * rise
        return out

    audio = on_pcm16_grid(join(before.audio, passage.audio, np.zeros((length, 2), np.float32)))
    names = (*passage.stems, *(name for name in before.stems if name not in passage.stems))
    if isinstance(before.stems, StemsNotKept):
        stems = StemsNotKept(names=names, why=StemsNotKept.SPLICED)
    else:
        stems = StemFiles(names=names, samples=length)  # as a render keeps them
        for name in names:
            join(before.stems.get(name), passage.stems.get(name), stems.create(name, samples=length))
    return dataclasses.replace(before, audio=audio, stems=stems, loudness_lufs=integrated_lufs(audio, rate),
                               true_peak_dbtp=true_peak_db(audio))
