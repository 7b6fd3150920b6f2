"""Style tags -> StyleProfile: spellings, separators, role combination, moods, instruments."""

from __future__ import annotations

import pytest

from songwright.composer.comping import COMP_IDIOMS
from songwright.errors import InvalidRequest
from songwright.styles import Voicing, describe_styles, load_styles, resolve_tags, split_tags

GENRES = ("pop", "rock", "funk", "electronic", "hiphop", "trap", "jazz", "lofi", "cinematic", "folk", "rnb",
          "metal", "reggae", "latin", "country", "ambient", "synthwave", "disco", "blues")


# ---------------------------------------------------------------- the genre data

def test_at_least_18_genres_are_defined():
    genres = load_styles()["genre"]
    assert len(genres) >= 18
    assert set(GENRES) <= set(genres)


@pytest.mark.parametrize("genre", GENRES)
def test_each_genre_resolves_to_itself_in_every_role(genre):
    profile = resolve_tags(genre)
    assert profile.genres == (genre,)
    assert (profile.groove_genre, profile.harmony_genre, profile.texture_genre) == (genre, genre, genre)
    low, high = profile.tempo_range_bpm
    assert 40 <= low <= high <= 240
    assert profile.mode in ("major", "minor", "either")
    assert profile.time_signature in ("4/4", "3/4", "6/8")
    assert profile.unknown_tags == ()
    assert profile.pad_idiom in COMP_IDIOMS and profile.fills in (True, False)


def test_genres_differ_in_sound():
    profiles = [resolve_tags(genre) for genre in GENRES]
    assert len({(p.bass.idiom, p.comp.idiom, p.comp.program, p.kit, p.tempo_range_bpm) for p in profiles}) >= 15


# ---------------------------------------------------------------- spellings and synonyms

@pytest.mark.parametrize(
    "tag, genre",
    [
        ("POP", "pop"), ("  Pop  ", "pop"), ("pops", "pop"), ("K-Pop", "pop"),
        ("lo-fi", "lofi"), ("Lo Fi", "lofi"), ("LOFI", "lofi"), ("lofi hip hop", "lofi"),
        ("Hip Hop", "hiphop"), ("hip-hop", "hiphop"), ("HIP_HOP", "hiphop"), ("hiphop", "hiphop"), ("rap", "hiphop"),
        ("R&B", "rnb"), ("r and b", "rnb"), ("R & B", "rnb"), ("rnb", "rnb"), ("neo-soul", "rnb"),
        ("bossa nova", "latin"), ("Bossa-Nova", "latin"), ("samba", "latin"),
        ("Electro", "electronic"), ("edm", "electronic"), ("EDM", "electronic"), ("house", "electronic"),
        ("Synth-Pop", "synthwave"), ("80s", "synthwave"),
        ("heavy metal", "metal"), ("Singer-Songwriter", "folk"), ("orchestral", "cinematic"),
    ],
)
def test_genre_spellings_and_synonyms(tag, genre):
    profile = resolve_tags(tag)
    assert profile.genres == (genre,)
    assert profile.unknown_tags == ()


@pytest.mark.parametrize("text", ["pop, rock, jazz", "pop;rock;jazz", "pop|rock|jazz", "pop/rock/jazz",
                                  "pop\nrock\njazz", "pop ,; rock || jazz", ", pop,,rock ,jazz,"])
def test_tag_separators(text):
    assert resolve_tags(text).genres == ("pop", "rock", "jazz")


def test_split_tags_drops_empty_pieces():
    assert split_tags(" pop ,, ; rock |\n") == ["pop", "rock"]


def test_repeated_tags_count_once():
    profile = resolve_tags("pop, POP, Pop Music, sad, melancholic")
    assert profile.genres == ("pop",)
    assert profile.moods == ("sad",)


# ---------------------------------------------------------------- combining genres by role

def test_pop_funk_electronic_combines_roles():
    profile = resolve_tags("pop, funk, electronic")
    assert profile.genres == ("pop", "funk", "electronic")
    assert profile.groove_genre == "funk"
    assert profile.harmony_genre == "pop"
    assert profile.texture_genre == "electronic"

    funk, pop, electronic = resolve_tags("funk"), resolve_tags("pop"), resolve_tags("electronic")
    # Groove from funk: its bass and comping idioms, swing, tempo and drums.
    assert profile.bass.idiom == funk.bass.idiom
    assert profile.comp == funk.comp
    assert profile.swing == funk.swing
    assert profile.tempo_range_bpm == funk.tempo_range_bpm
    assert profile.drum_patterns == funk.drum_patterns
    # Harmony from pop: chord vocabulary and mode.
    assert profile.harmony == pop.harmony
    assert profile.mode == pop.mode
    # Texture from electronic: kit and sounds.
    assert profile.kit == electronic.kit
    assert profile.bass.program == electronic.bass.program
    assert profile.keys == electronic.keys
    assert (profile.pad_program, profile.lead_program) == (electronic.pad_program, electronic.lead_program)


def test_role_choice_does_not_depend_on_tag_order_when_priorities_differ():
    a = resolve_tags("pop, funk, electronic")
    b = resolve_tags("electronic, pop, funk")
    assert (a.groove_genre, a.harmony_genre, a.texture_genre) == (b.groove_genre, b.harmony_genre, b.texture_genre)
    assert b.genres == ("electronic", "pop", "funk")


def test_only_mood_or_instrument_tags_default_to_pop():
    assert resolve_tags("sad").genres == ("pop",)
    assert resolve_tags("saxophone").genres == ("pop",)


# ---------------------------------------------------------------- unknown tags

def test_unknown_tags_are_reported_not_fatal():
    profile = resolve_tags("pop, asdfgh, Sad, qwerty")
    assert profile.genres == ("pop",)
    assert profile.moods == ("sad",)
    assert profile.unknown_tags == ("asdfgh", "qwerty")


@pytest.mark.parametrize("text", ["asdfgh, qwerty", "", " , ; ", "zzz"])
def test_all_unknown_tags_raise_invalid_request(text):
    with pytest.raises(InvalidRequest) as caught:
        resolve_tags(text)
    assert caught.value.field == "tags"
    assert "songwright styles" in caught.value.rule


# ---------------------------------------------------------------- moods

def test_sad_mood_makes_a_major_genre_minor_and_slower():
    plain, sad = resolve_tags("pop"), resolve_tags("pop, sad")
    assert plain.mode == "major" and sad.mode == "minor"
    assert sad.moods == ("sad",)
    assert sad.tempo_range_bpm[0] < plain.tempo_range_bpm[0]
    assert sad.tempo_range_bpm[1] < plain.tempo_range_bpm[1]
    assert sad.energy < plain.energy


def test_happy_mood_makes_a_minor_genre_major():
    assert resolve_tags("funk").mode == "minor"
    assert resolve_tags("funk, happy").mode == "major"


def test_energetic_mood_speeds_up_and_chill_slows_down():
    plain = resolve_tags("rock").tempo_range_bpm
    energetic = resolve_tags("rock, energetic").tempo_range_bpm
    chill = resolve_tags("rock, chill").tempo_range_bpm
    assert chill[0] < plain[0] < energetic[0]
    assert chill[1] < plain[1] < energetic[1]
    assert resolve_tags("rock, energetic").energy > resolve_tags("rock").energy > resolve_tags("rock, chill").energy


def test_mood_synonyms():
    assert resolve_tags("pop, melancholic").moods == ("sad",)
    assert resolve_tags("pop, Laid-Back").moods == ("chill",)
    assert resolve_tags("pop, upbeat").moods == ("energetic",)


def test_a_mood_does_not_change_the_sounds():
    plain, sad = resolve_tags("rock"), resolve_tags("rock, sad")
    assert (sad.bass, sad.comp, sad.keys, sad.kit) == (plain.bass, plain.comp, plain.keys, plain.kit)


# ---------------------------------------------------------------- instruments

def test_organ_replaces_the_keys_program():
    plain, organ = resolve_tags("pop"), resolve_tags("pop, organ")
    assert organ.instruments == ("organ",)
    assert plain.keys.program != 16
    assert organ.keys == Voicing(plain.keys.idiom, 16, "keys")


def test_piano_replaces_rock_keys():
    assert resolve_tags("rock").keys.program == 16
    assert resolve_tags("rock, piano").keys.program == 0


def test_saxophone_replaces_the_lead():
    assert resolve_tags("pop").lead_program != 65
    assert resolve_tags("pop, sax").lead_program == 65
    assert resolve_tags("pop, saxophone").instruments == ("saxophone",)


def test_funk_brass_plays_horn_stabs_and_a_strings_tag_holds_chords_again():
    from songwright.stages import score_of
    import songwright as sw

    assert (resolve_tags("funk").pad_idiom, resolve_tags("funk").pad_program) == ("horn_stabs", 61)
    assert resolve_tags("funk, strings").pad_idiom == "pad" == resolve_tags("pop").pad_idiom
    _, score = score_of(sw.SongRequest(tags="funk", duration_s=30, seed=1, instrumental=True))
    pad = next(p for p in score.parts if p.name == "pad")
    held = [n for n in pad.notes if n.end_beats - n.start_beats > 0.5]
    assert len(pad.notes) > 30 and len(held) <= 4  # stabs of a 16th or an 8th; the final chord held
    steps = {round((n.start_beats % 4) * 4) for n in pad.notes}
    assert {0, 3, 6} <= steps


def test_bass_instruments_change_the_bass_program():
    assert resolve_tags("pop").bass.program == 33
    assert resolve_tags("pop, upright bass").bass == Voicing("root_eighths", 32, "bass")
    assert resolve_tags("pop, synth bass").bass.program == 38


def test_808_changes_bass_idiom_and_kit():
    plain, with808 = resolve_tags("pop"), resolve_tags("pop, 808")
    assert with808.instruments == ("tr808",)
    assert with808.bass == Voicing("sub808", 38, "bass")
    assert with808.kit == 25 != plain.kit


def test_distorted_guitar_changes_comping():
    profile = resolve_tags("pop, distorted guitar")
    assert profile.comp == Voicing("chug", 30, "guitar")


def test_strings_replace_the_pad():
    assert resolve_tags("electronic").pad_program != 48
    assert resolve_tags("electronic, strings").pad_program == 48


# ---------------------------------------------------------------- vocal tags

def test_vocal_tags():
    assert resolve_tags("pop, female vocal").voice_gender == "female"
    assert resolve_tags("pop, Male Vocals").voice_gender == "male"
    assert resolve_tags("pop").voice_gender is None
    assert resolve_tags("pop, instrumental").instrumental is True
    assert resolve_tags("pop").instrumental is False


# ---------------------------------------------------------------- describe_styles

def test_describe_styles_lists_every_genre_mood_and_instrument():
    text = describe_styles()
    for title in ("Genres:", "Moods:", "Instruments:", "Vocals:"):
        assert title in text
    lines = text.splitlines()
    for genre in GENRES:
        assert any(line.startswith(f"  {genre} (") and "BPM" in line for line in lines), genre
    assert any(line.startswith("  sad") for line in lines)
    assert any(line.startswith("  electric piano") for line in lines)
    # Synonyms are listed beside their genre.
    rnb = next(line for line in lines if line.startswith("  rnb ("))
    assert "r&b" in rnb and "soul" in rnb
    assert "Separate tags with commas" in text
