"""Property-based tests (hypothesis) for the request, the lyrics parser and the planning path.

The inputs and oracles live in tests/robustness.py, shared with the longer campaign in
benchmarks/fuzz.py. Each property is bounded (examples and time per example) so this file runs in
well under a minute; the examples are drawn from a fixed seed (derandomize) so CI is repeatable,
and the campaign explores further.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from songwright.errors import InvalidRequest
from songwright.lyrics import parse_lyrics
from songwright.request import MAX_LYRICS_CHARS, SongRequest
from tests.robustness import (
    MAX_VALIDATION_S, TRICKY_WORDS, check_lyrics, check_planning, check_validation, plain_lyrics, plan_requests,
    request_fields, tagged_lyrics,
)

BOUNDED = dict(deadline=None, derandomize=True, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(max_examples=400, **BOUNDED)
@given(request_fields())
def test_validation_answers_a_request_or_an_error_naming_the_field_in_under_50_ms(fields):
    assert check_validation(fields) is None


@settings(max_examples=300, **BOUNDED)
@given(plain_lyrics())
def test_every_letter_of_the_lyrics_is_sung_in_order_or_named_in_a_warning(text):
    assert check_lyrics(text) is None


@settings(max_examples=200, **BOUNDED)
@given(tagged_lyrics())
def test_lyrics_with_any_tags_parse_into_words_their_syllables_spell(text):
    assert check_lyrics(text, letters_sung=False) is None


@settings(max_examples=40, **BOUNDED)
@given(plan_requests())
def test_planning_path_sings_every_planned_syllable_with_ascii_phonemes(request):
    assert check_planning(request) is None


# ---------------------------------------------------------------- the oracles can fail

def test_the_validation_oracle_rejects_an_error_that_names_no_field(monkeypatch):
    def bad_validate(self):
        raise InvalidRequest("nonsense", "is wrong", 1)

    monkeypatch.setattr(SongRequest, "validate", bad_validate)
    assert "nonsense" in check_validation({"tags": "pop"})


def test_the_lyrics_oracle_notices_a_dropped_letter(monkeypatch):
    import tests.robustness as robustness

    monkeypatch.setattr(robustness, "parse_lyrics", lambda text: parse_lyrics(text.replace("q", "")))
    assert "neither sung" in robustness.check_lyrics("quiet")


# ---------------------------------------------------------------- limits at their edge

@pytest.mark.parametrize("char", TRICKY_WORDS)
def test_a_lyric_at_the_size_limit_validates_in_under_50_ms(char):
    text = (char + " ") * (MAX_LYRICS_CHARS // (len(char) + 1))
    request = SongRequest(lyrics=text[:MAX_LYRICS_CHARS], key="A" + " " * 29 + "m")
    start = time.perf_counter()
    for _ in range(3):
        try:
            request.validate()
        except InvalidRequest:
            pass
    assert (time.perf_counter() - start) / 3 < MAX_VALIDATION_S


@settings(max_examples=60, **BOUNDED)
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=40))
def test_any_key_text_is_a_key_or_an_error_naming_key(text):
    try:
        SongRequest(key=text).validate()
    except InvalidRequest as error:
        assert error.field == "key"
