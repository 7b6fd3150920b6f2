"""SongRequest validation: every field's rule, from_dict, and the error's content."""

from __future__ import annotations

import dataclasses

import pytest

from songwright.errors import InvalidRequest, SongwrightError
from songwright.request import SongRequest


def rejects(field: str, **fields) -> InvalidRequest:
    """Validate a request built from `fields`; it must fail on `field`. Returns the error."""
    with pytest.raises(InvalidRequest) as caught:
        SongRequest(**fields).validate()
    assert caught.value.field == field, str(caught.value)
    return caught.value


# ---------------------------------------------------------------- defaults and the happy path

def test_defaults_are_valid_and_validate_returns_the_request():
    request = SongRequest()
    assert request.validate() is request
    assert (request.tags, request.lyrics, request.duration_s) == ("pop", "", 60.0)
    assert request.tempo_bpm is None and request.key is None and request.seed is None
    assert request.instrumental is False and request.engine == "composer"


def test_a_fully_specified_request_is_valid():
    request = SongRequest(
        tags="pop, funk, female vocal", lyrics="[verse]\nhello\tworld\r\n[chorus]\nla la", duration_s=120,
        tempo_bpm=128.5, key="Eb major", time_signature="6/8", seed=42, instrumental=True,
    )
    assert request.validate() is request


def test_request_is_frozen():
    request = SongRequest()
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.tags = "rock"  # type: ignore[misc]


def test_replace_returns_a_new_request():
    request = SongRequest(tags="pop")
    changed = request.replace(tags="rock", seed=3)
    assert (changed.tags, changed.seed) == ("rock", 3)
    assert request.tags == "pop" and request.seed is None


# ---------------------------------------------------------------- tags

@pytest.mark.parametrize("tags", ["", "   ", ",,, ;;", "!!!", "\n\t"])
def test_tags_without_a_word_are_rejected(tags):
    rejects("tags", tags=tags)


def test_tags_length_limit_is_500_characters():
    SongRequest(tags="a" * 500).validate()
    error = rejects("tags", tags="a" * 501)
    assert "500" in error.rule


@pytest.mark.parametrize("tags", [None, 5, ["pop"]])
def test_tags_must_be_text(tags):
    rejects("tags", tags=tags)


def test_tags_with_a_control_character_are_rejected():
    error = rejects("tags", tags="pop\x00rock")
    assert error.value == "U+0000"


# ---------------------------------------------------------------- lyrics

def test_lyrics_allow_newline_carriage_return_and_tab():
    SongRequest(lyrics="[verse]\r\n\thello\nworld").validate()


def test_lyrics_allow_non_latin_text():
    SongRequest(lyrics="[verse]\n霓虹闪烁 街道流淌\nこんにちは 안녕하세요 café 🎵").validate()


def test_lyrics_length_limit_is_20000_characters():
    SongRequest(lyrics="a" * 20_000).validate()
    error = rejects("lyrics", lyrics="a" * 20_001)
    assert "20000" in error.rule


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ufffd", "\ud800", "\ue000"])
def test_lyrics_with_control_or_undecodable_characters_are_rejected(char):
    error = rejects("lyrics", lyrics="[verse]\nhello" + char + "world")
    assert error.value == f"U+{ord(char):04X}"
    assert "position 13" in error.rule


def test_lyrics_must_be_text():
    rejects("lyrics", lyrics=b"hello")


# ---------------------------------------------------------------- duration

@pytest.mark.parametrize("duration", [10, 10.0, 60, 599.5, 600])
def test_duration_inside_10_to_600_seconds_is_accepted(duration):
    SongRequest(duration_s=duration).validate()


@pytest.mark.parametrize("duration", [0, 9.99, -60, 600.01, 7200, float("inf"), float("-inf")])
def test_duration_outside_10_to_600_seconds_is_rejected(duration):
    error = rejects("duration_s", duration_s=duration)
    assert "10" in error.rule and "600" in error.rule
    assert error.value == duration


@pytest.mark.parametrize("duration", [float("nan"), "60", None, True, False])
def test_duration_must_be_a_real_number(duration):
    rejects("duration_s", duration_s=duration)


# ---------------------------------------------------------------- tempo

@pytest.mark.parametrize("tempo", [None, 40, 40.0, 120.5, 240])
def test_tempo_inside_40_to_240_bpm_is_accepted(tempo):
    SongRequest(tempo_bpm=tempo).validate()


@pytest.mark.parametrize("tempo", [-5, 0, 39.9, 240.1, 1000])
def test_tempo_outside_40_to_240_bpm_is_rejected(tempo):
    error = rejects("tempo_bpm", tempo_bpm=tempo)
    assert "BPM" in error.rule


@pytest.mark.parametrize("tempo", [float("nan"), "120", True])
def test_tempo_must_be_a_real_number(tempo):
    rejects("tempo_bpm", tempo_bpm=tempo)


# ---------------------------------------------------------------- key

@pytest.mark.parametrize("key", ["A minor", "Eb major", "F#m", "C", "a minor", "Bb", "Am", "C# minor", "  D major  "])
def test_valid_keys_are_accepted(key):
    SongRequest(key=key).validate()


@pytest.mark.parametrize("key", ["H major", "", "X", "C major minor", "Cm7", "A dorian", "C##"])
def test_invalid_keys_are_rejected(key):
    error = rejects("key", key=key)
    assert error.value == key


def test_key_must_be_text():
    rejects("key", key=5)


# ---------------------------------------------------------------- time signature

@pytest.mark.parametrize("meter", [None, "4/4", "3/4", "6/8"])
def test_supported_time_signatures_are_accepted(meter):
    SongRequest(time_signature=meter).validate()


@pytest.mark.parametrize("meter", ["5/0", "5/4", "7/8", "4/4 ", "four four", ""])
def test_other_time_signatures_are_rejected(meter):
    error = rejects("time_signature", time_signature=meter)
    assert "4/4" in error.rule and "3/4" in error.rule and "6/8" in error.rule


# ---------------------------------------------------------------- seed, instrumental, engine

@pytest.mark.parametrize("seed", [None, 0, 1, 2**32 - 1])
def test_seed_in_range_is_accepted(seed):
    SongRequest(seed=seed).validate()


@pytest.mark.parametrize("seed", [-1, 2**32, 2**64, 1.0, 1.5, "1", True, False])
def test_seed_out_of_range_or_not_an_int_is_rejected(seed):
    error = rejects("seed", seed=seed)
    assert str(2**32 - 1) in error.rule


@pytest.mark.parametrize("value", [1, 0, "yes", None])
def test_instrumental_must_be_a_bool(value):
    rejects("instrumental", instrumental=value)


@pytest.mark.parametrize("engine", ["", "diffusion", "Composer"])
def test_unknown_engines_are_rejected(engine):
    error = rejects("engine", engine=engine)
    assert "composer" in error.rule


# ---------------------------------------------------------------- from_dict / to_dict

def test_from_dict_builds_a_validated_request():
    request = SongRequest.from_dict({"tags": "rock, sad", "duration_s": 30, "tempo_bpm": 90, "key": "A minor", "seed": 5})
    assert request == SongRequest(tags="rock, sad", duration_s=30, tempo_bpm=90, key="A minor", seed=5)


def test_from_dict_of_nothing_gives_the_defaults():
    assert SongRequest.from_dict({}) == SongRequest()


@pytest.mark.parametrize("name", ["bpm", "duration", "Tags", "extras", "lyrics_file"])
def test_from_dict_rejects_unknown_fields(name):
    with pytest.raises(InvalidRequest) as caught:
        SongRequest.from_dict({"tags": "pop", name: 1})
    error = caught.value
    assert error.field == name
    assert "not a request field" in error.rule
    # The rule lists the real fields so the caller can fix the spelling.
    for known in ("tags", "lyrics", "duration_s", "tempo_bpm", "key", "time_signature", "seed"):
        assert known in error.rule
    assert "extras" not in error.rule


@pytest.mark.parametrize("data", [None, [], "tags=pop", [("tags", "pop")]])
def test_from_dict_rejects_non_objects(data):
    with pytest.raises(InvalidRequest) as caught:
        SongRequest.from_dict(data)
    assert caught.value.field == "request"


def test_from_dict_validates_values():
    with pytest.raises(InvalidRequest) as caught:
        SongRequest.from_dict({"tags": "pop", "duration_s": 5})
    assert caught.value.field == "duration_s"


def test_to_dict_round_trips_through_from_dict():
    request = SongRequest(tags="jazz", lyrics="[verse]\nhi", duration_s=45, tempo_bpm=100, key="F#m",
                          time_signature="3/4", seed=9, instrumental=True)
    data = request.to_dict()
    assert "extras" not in data
    assert data["tempo_bpm"] == 100 and data["key"] == "F#m"
    assert SongRequest.from_dict(data) == request


# ---------------------------------------------------------------- the error itself

def test_error_carries_field_rule_and_value_and_reads_as_one_line():
    error = rejects("duration_s", duration_s=7200)
    assert error.value == 7200
    assert str(error) == f"duration_s: {error.rule}, got 7200"
    assert str(error) == "duration_s: must be between 10 and 600 seconds, got 7200"
    assert "\n" not in str(error)


def test_error_is_a_value_error_and_a_songwright_error():
    error = rejects("tempo_bpm", tempo_bpm=1000)
    assert isinstance(error, ValueError) and isinstance(error, SongwrightError)


def test_error_message_for_a_bad_key_names_the_field_and_shows_examples():
    error = rejects("key", key="H major")
    message = str(error)
    assert message.startswith("key: ")
    assert message.endswith("got 'H major'")
    assert "A minor" in message


def test_error_message_shortens_long_values():
    error = rejects("duration_s", duration_s="Q" * 300)  # key, voice... have length limits of their own
    message = str(error)
    assert message.startswith("duration_s: ")
    assert message.endswith("...")
    assert len(message) < len(error.rule) + 100


def test_error_for_too_long_text_reports_the_length_not_the_text():
    error = rejects("lyrics", lyrics="x" * 25_000)
    assert error.value == "25000 characters"
    assert "x" * 100 not in str(error)


# ---------------------------------------------------------------- the acestep engine's fields

def test_acestep_duration_is_1_to_240_seconds_and_10_when_guided():
    SongRequest(engine="acestep", duration_s=1).validate()
    SongRequest(engine="acestep", duration_s=240).validate()
    rejects("duration_s", engine="acestep", duration_s=0.5)
    rejects("duration_s", engine="acestep", duration_s=241)
    rejects("duration_s", engine="acestep", duration_s=4, guided=True)
    rejects("duration_s", duration_s=4)  # the composer keeps 10 s


@pytest.mark.parametrize("field, value", [
    ("steps", 0), ("steps", 201), ("steps", 2.5), ("steps", True), ("sampler", "ddim"), ("guidance_scale", -1),
    ("guidance_scale", 500), ("guided", "yes"), ("guide_strength", 0.99), ("guide_strength", -0.1),
])
def test_acestep_settings_are_checked(field, value):
    rejects(field, engine="acestep", duration_s=30, **{field: value})


def test_acestep_settings_round_trip_through_a_dict():
    request = SongRequest(engine="acestep", duration_s=30, steps=27, sampler="heun",
                          guidance_scale=7.0, guided=True, guide_strength=0.7)
    assert SongRequest.from_dict(request.to_dict()) == request


def test_checkpoint_is_engine_configuration_never_a_request_field():
    with pytest.raises(InvalidRequest) as error:
        SongRequest.from_dict({"engine": "acestep", "checkpoint": "/models/ace"})
    assert error.value.field == "checkpoint" and "not a request field" in error.value.rule
