"""Edits of a finished composer song: the same composition changed in one respect.

A song file (`--json`) holds the request that makes a song and the edits applied to it since, in
order; `make(request, edits)` composes the song its request makes, applies each edit to the plan
and the score, and performs the result. The source file is never changed: an edit writes a new
song file that lists one edit more.

    remix  {"verb": "remix", "key": "D major", "tempo_bpm": 124}
           the same notes played in another key (every pitched note moved by the same interval,
           the nearest way, within a tritone) and/or at another tempo (every note re-timed, the
           song's length with it; the ring-out keeps its length in beats).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from .errors import InvalidRequest
from .plan import Plan
from .request import MAX_DURATION_S, MAX_TEMPO_BPM, MIN_DURATION_S, MIN_TEMPO_BPM, SongRequest, _check_number
from .score import Score
from .song import Song, pinned_request
from .stages import Progress, _quiet, composed, perform
from .theory import parse_key

VERBS = ("remix",)
RELEASE_S = 1.2  # the final chord's release before the end: seconds at any tempo


def remix_edit(*, key: str | None = None, tempo_bpm: float | None = None) -> dict:
    """A validated remix edit, as the song file keeps it."""
    if key is None and tempo_bpm is None:
        raise InvalidRequest("remix", "must change the key or the tempo (--key, --bpm)", None)
    if key is not None:
        parse_key(key)
    if tempo_bpm is not None:
        _check_number("tempo_bpm", tempo_bpm, MIN_TEMPO_BPM, MAX_TEMPO_BPM, "BPM")
    return {"verb": "remix", "key": key, "tempo_bpm": None if tempo_bpm is None else float(tempo_bpm)}


def require_composer(request: SongRequest) -> None:
    if request.engine != "composer":
        raise InvalidRequest("edits", f"are made on composer songs only (this song is from {request.engine})", request.engine)


def make(request: SongRequest, edits: Iterable[dict] = (), *, progress: Progress = _quiet) -> Song:
    """The song `request` makes with `edits` applied in order."""
    from .engines import generate

    edits = tuple(edits)
    if not edits:
        return generate(request, progress=progress)
    require_composer(request)
    progress("planning", 0.0)
    prepared, plan, score = composed(request.validate())
    source = pinned_request(prepared.request, seed=prepared.seed, plan=plan)  # what the song file keeps
    for edit in edits:
        plan, score = apply(edit, plan, score)
    return perform(dataclasses.replace(prepared, request=source), plan, score, progress=progress, edits=edits)


def apply(edit: dict, plan: Plan, score: Score) -> tuple[Plan, Score]:
    verb = edit.get("verb")
    if verb != "remix":
        raise InvalidRequest("edits", "must name a known verb (" + ", ".join(VERBS) + ")", verb)
    checked = remix_edit(key=edit.get("key"), tempo_bpm=edit.get("tempo_bpm"))
    return remix(plan, score, key=checked["key"], tempo_bpm=checked["tempo_bpm"])


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
