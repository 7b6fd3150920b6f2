"""The planner: exact durations, forms that fit the lyrics, reported adjustments, harmony."""

import pytest

import songwright as sw
from songwright.errors import InvalidRequest
from songwright.lyrics import parse_lyrics
from songwright.plan import MIN_RINGOUT_S, make_plan
from songwright.styles import resolve_tags

from .conftest import shared_requests


def plan_for(**fields):
    request = sw.SongRequest(**fields).validate()
    return make_plan(request, parse_lyrics(request.lyrics), resolve_tags(request.tags), request.seed or 0, 44100)


@pytest.mark.parametrize("entry", shared_requests(), ids=lambda e: e["name"])
def test_every_shared_request_plans_to_its_exact_length(entry):
    fields = {k: v for k, v in entry.items() if k != "name"}
    plan = plan_for(**fields)
    assert plan.total_samples == round(fields["duration_s"] * 44100)
    assert sum(s.bars for s in plan.sections) == plan.content_bars
    ringout = plan.duration_s - plan.content_bars * plan.bar_s
    assert MIN_RINGOUT_S <= ringout < MIN_RINGOUT_S + plan.bar_s
    if fields.get("tempo_bpm"):
        assert plan.tempo_bpm == fields["tempo_bpm"]
    if fields.get("key"):
        assert plan.key == sw.request.parse_key(fields["key"])
    sung = [p.text for s in plan.sections for p in s.phrases]
    lyric_phrases = [p.text for s in parse_lyrics(fields["lyrics"]).sections for p in s.phrases]
    for phrase in lyric_phrases:  # no word is ever dropped
        assert phrase in sung


@pytest.mark.parametrize("tempo", [40, 71, 97.5, 133, 240])
@pytest.mark.parametrize("meter", ["4/4", "3/4", "6/8"])
def test_any_tempo_and_meter_fills_the_duration(tempo, meter):
    plan = plan_for(tags="pop", lyrics="[verse]\nLa la la\n[chorus]\nOh oh oh", duration_s=37.3, tempo_bpm=tempo,
                    time_signature=meter)
    assert sum(s.bars for s in plan.sections) == plan.content_bars
    assert plan.total_samples == round(37.3 * 44100)


def test_lyrics_too_long_for_the_duration_are_refused_not_dropped():
    lyrics = "[verse]\n" + "\n".join(["Every single word of this line must be sung by someone"] * 30)
    with pytest.raises(InvalidRequest) as error:
        plan_for(tags="pop", lyrics=lyrics, duration_s=20, tempo_bpm=90)
    assert error.value.field == "duration_s"
    assert "phrases" in error.value.rule and "longer duration" in error.value.rule


def test_long_duration_with_few_lyrics_repeats_the_chorus_and_says_so():
    plan = plan_for(tags="rock", lyrics="[verse]\nWe were young\n[chorus]\nHold on, hold on", duration_s=120, tempo_bpm=124)
    choruses = [s for s in plan.sections if s.kind == "chorus"]
    assert len(choruses) >= 2
    assert any("chorus" in a for a in plan.adjustments)


def test_intro_and_outro_are_added_when_the_lyrics_have_none():
    plan = plan_for(tags="pop", lyrics="[chorus]\nLa la la, here we go", duration_s=30, seed=1)
    assert plan.sections[0].kind == "intro" and plan.sections[-1].kind == "outro"
    assert "added an intro" in plan.adjustments and "added an outro" in plan.adjustments


def test_empty_lyrics_make_an_instrumental_form():
    plan = plan_for(tags="lo-fi, chill", lyrics="", duration_s=60, tempo_bpm=80)
    assert not plan.vocal
    kinds = [s.kind for s in plan.sections]
    assert kinds[0] == "intro" and kinds[-1] == "outro" and "chorus" in kinds


def test_instrumental_flag_keeps_structure_without_singing():
    plan = plan_for(tags="pop", lyrics="[verse]\nHello\n[chorus]\nGoodbye", duration_s=30, instrumental=True)
    assert not plan.vocal


def test_chorus_and_verse_progressions_differ_and_end_on_a_cadence():
    for seed in range(5):
        plan = plan_for(tags="pop", lyrics="[verse]\nOne two three\n[chorus]\nFour five six", duration_s=45, seed=seed)
        verse = next(s for s in plan.sections if s.kind == "verse")
        chorus = next(s for s in plan.sections if s.kind == "chorus")
        assert [c.symbol for c in verse.chords] != [c.symbol for c in chorus.chords]
        assert plan.sections[-1].chords[-1].symbol.startswith("V")
        assert plan.final_chord.root_pc == plan.key.tonic_pc


def test_tempo_and_key_come_from_style_and_mood_when_not_given():
    sad = plan_for(tags="pop, sad", duration_s=30, seed=4)
    happy = plan_for(tags="pop, happy", duration_s=30, seed=4)
    assert sad.key.mode == "minor" and happy.key.mode == "major"
    metal = plan_for(tags="metal", duration_s=30, seed=4)
    low, high = resolve_tags("metal").tempo_range_bpm
    assert low <= metal.tempo_bpm <= high
