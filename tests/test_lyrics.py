"""Lyrics parsing: structure tags, phrases, syllables (English and Chinese), numbers."""

from __future__ import annotations

import pytest

from songwright.lyrics import (
    english_syllables,
    number_words,
    parse_lyrics,
    rap_tag,
    section_kind,
    words_of,
)


def kinds(text: str) -> list[str]:
    return [section.kind for section in parse_lyrics(text).sections]


def phrase_texts(section) -> list[str]:
    return [phrase.text for phrase in section.phrases]


# ---------------------------------------------------------------- structure tags

@pytest.mark.parametrize(
    "tag, kind",
    [
        ("[verse]", "verse"),
        ("[Verse 1]", "verse"),
        ("[VERSE 2]", "verse"),
        ("[CHORUS]", "chorus"),
        ("[chorus]", "chorus"),
        ("[pre-chorus]", "pre-chorus"),
        ("[Pre Chorus]", "pre-chorus"),
        ("[PRE-CHORUS]", "pre-chorus"),
        ("[bridge]", "bridge"),
        ("[intro]", "intro"),
        ("[outro]", "outro"),
        ("[inst]", "inst"),
        ("[instrumental]", "inst"),
        ("[solo]", "solo"),
        ("[Guitar Solo]", "solo"),
        ("[hook]", "hook"),
        ("[break]", "break"),
        ("[refrain]", "chorus"),
    ],
)
def test_bracket_tags_open_sections_of_their_kind(tag, kind):
    lyrics = parse_lyrics(f"{tag}\nsing a little song")
    assert [s.kind for s in lyrics.sections] == [kind]
    assert lyrics.sections[0].label == tag[1:-1]
    assert phrase_texts(lyrics.sections[0]) == ["sing a little song"]
    assert lyrics.unknown_tags == []


@pytest.mark.parametrize("tag, rapped", [("Rap", True), ("Rap Verse 2", True), ("rap-verse: Ana", True),
                                         ("RAP x2", True), ("Verse 1", False), ("Chorus - Ana", False),
                                         ("Bridge", False), ("rapture", False)])
def test_rap_tags_are_verses_that_say_they_are_rapped(tag, rapped):
    assert rap_tag(tag) is rapped
    if rapped:
        assert section_kind(tag) == "verse"


def test_a_full_song_keeps_its_sections_in_order():
    text = "\n".join([
        "[Intro]", "[Verse 1]", "walking down the road", "[Pre-Chorus]", "here it comes",
        "[Chorus]", "sing it loud", "[Verse 2]", "back again", "[Bridge]", "turn around",
        "[Solo]", "[Chorus]", "sing it loud", "[Outro]",
    ])
    lyrics = parse_lyrics(text)
    assert [s.kind for s in lyrics.sections] == [
        "intro", "verse", "pre-chorus", "chorus", "verse", "bridge", "solo", "chorus", "outro",
    ]
    assert [s.label for s in lyrics.sections][:2] == ["Intro", "Verse 1"]
    assert [len(s.phrases) for s in lyrics.sections] == [0, 1, 1, 1, 1, 1, 0, 1, 0]
    assert lyrics.has_words


def test_instrumental_sections_have_no_phrases_and_are_not_sung():
    lyrics = parse_lyrics("[intro]\n[solo]\n[verse]\nhello there\n[break]\n[outro]")
    by_kind = {s.kind: s for s in lyrics.sections}
    for kind in ("intro", "solo", "break", "outro"):
        assert not by_kind[kind].sung and by_kind[kind].phrases == []
    assert by_kind["verse"].sung


def test_parenthesised_tag_on_its_own_line():
    lyrics = parse_lyrics("(Chorus)\nla la la\n(bridge)\noh no")
    assert [s.kind for s in lyrics.sections] == ["chorus", "bridge"]
    assert lyrics.sections[0].label == "Chorus"
    assert phrase_texts(lyrics.sections[0]) == ["la la la"]


def test_parenthesised_words_that_are_not_a_tag_are_sung():
    lyrics = parse_lyrics("[verse]\n(oh yeah)\nthing")
    assert [s.kind for s in lyrics.sections] == ["verse"]
    assert phrase_texts(lyrics.sections[0]) == ["oh yeah", "thing"]


def test_colon_tag_at_line_start_with_words_after_it():
    lyrics = parse_lyrics("Verse: one two\nChorus: na na\nmore words")
    assert [s.kind for s in lyrics.sections] == ["verse", "chorus"]
    assert phrase_texts(lyrics.sections[0]) == ["one two"]
    assert phrase_texts(lyrics.sections[1]) == ["na na", "more words"]


def test_colon_tag_on_its_own_line():
    lyrics = parse_lyrics("Chorus:\nna na na")
    assert [s.kind for s in lyrics.sections] == ["chorus"]
    assert phrase_texts(lyrics.sections[0]) == ["na na na"]


def test_a_colon_after_an_ordinary_word_is_not_a_tag():
    lyrics = parse_lyrics("Hello: world")
    assert [s.kind for s in lyrics.sections] == ["verse"]
    assert phrase_texts(lyrics.sections[0]) == ["Hello world"]


def test_inline_tags_on_one_line():
    lyrics = parse_lyrics("[verse] hello there [chorus] oh yeah [bridge] far away")
    assert [s.kind for s in lyrics.sections] == ["verse", "chorus", "bridge"]
    assert [phrase_texts(s) for s in lyrics.sections] == [["hello there"], ["oh yeah"], ["far away"]]


def test_words_before_an_inline_tag_stay_in_the_previous_section():
    lyrics = parse_lyrics("[verse]\nfirst line [chorus] second part")
    assert [phrase_texts(s) for s in lyrics.sections] == [["first line"], ["second part"]]


def test_words_before_any_tag_form_a_verse():
    lyrics = parse_lyrics("just words\nno tags\n[chorus]\nhey")
    assert [s.kind for s in lyrics.sections] == ["verse", "chorus"]
    assert phrase_texts(lyrics.sections[0]) == ["just words", "no tags"]


# ---------------------------------------------------------------- unknown tags

def test_unknown_bracket_tags_are_kept_as_sung_sections_and_reported():
    lyrics = parse_lyrics("[verse]\nhello\n[Spoken Word]\nlisten to me\n[chorus]\nla\n[weird]\nstuff")
    assert [s.kind for s in lyrics.sections] == ["verse", "unknown", "chorus", "unknown"]
    assert lyrics.sections[1].label == "Spoken Word"
    assert phrase_texts(lyrics.sections[1]) == ["listen to me"]
    assert lyrics.unknown_tags == ["Spoken Word", "weird"]


def test_unknown_inline_tag_with_words_beside_it_is_sung_and_reported():
    lyrics = parse_lyrics("[verse] hello there [weird tag] stuff")
    assert [s.kind for s in lyrics.sections] == ["verse"]
    assert phrase_texts(lyrics.sections[0]) == ["hello there weird tag stuff"]
    assert lyrics.warnings == ["[weird tag] is not a section tag: sung as lyrics"]


def test_known_tags_are_not_reported_as_unknown():
    assert parse_lyrics("[Verse 1]\na\n[CHORUS]\nb\n(Bridge)\nc\nOutro:").unknown_tags == []


# ---------------------------------------------------------------- empty input

@pytest.mark.parametrize("text", ["", None, "\n\n", "   \n\t\n"])
def test_empty_lyrics_have_no_sections(text):
    lyrics = parse_lyrics(text)
    assert lyrics.sections == [] and lyrics.unknown_tags == []
    assert not lyrics.has_words and lyrics.syllable_count == 0


def test_tags_without_words_give_empty_sections():
    lyrics = parse_lyrics("[verse]\n\n   \n[chorus]")
    assert [s.kind for s in lyrics.sections] == ["verse", "chorus"]
    assert not lyrics.has_words and lyrics.syllable_count == 0


def test_punctuation_only_lines_make_no_phrases():
    lyrics = parse_lyrics("[verse]\n...\n!!! ???\nhello")
    assert phrase_texts(lyrics.sections[0]) == ["hello"]


# ---------------------------------------------------------------- English syllables

@pytest.mark.parametrize(
    "word, count",
    [
        ("love", 1), ("the", 1), ("time", 1), ("heart", 1), ("night", 1), ("world", 1), ("you", 1),
        ("yes", 1), ("smile", 1), ("dreams", 1), ("walked", 1), ("loved", 1), ("jumped", 1), ("sky", 1),
        ("hello", 2), ("little", 2), ("table", 2), ("simple", 2), ("people", 2), ("baby", 2),
        ("music", 2), ("dancing", 2), ("tonight", 2), ("believe", 2), ("morning", 2), ("wanted", 2),
        ("needed", 2), ("started", 2), ("boxes", 2), ("city", 2), ("rhythm", 2),
        ("beautiful", 3), ("forever", 3), ("together", 3), ("family", 3),
    ],
)
def test_english_syllable_counts_of_common_words(word, count):
    syllables = english_syllables(word)
    assert len(syllables) == count, syllables
    assert "".join(syllables) == word  # syllables are pieces of the word, in order


def test_syllables_keep_the_original_case():
    assert "".join(english_syllables("Beautiful")) == "Beautiful"
    assert len(english_syllables("HELLO")) == 2


def test_phrase_syllable_count_sums_its_words():
    lyrics = parse_lyrics("[verse]\nhello beautiful world")
    (phrase,) = lyrics.sections[0].phrases
    assert [w.text for w in phrase.words] == ["hello", "beautiful", "world"]
    assert [len(w.syllables) for w in phrase.words] == [2, 3, 1]
    assert phrase.syllable_count == 6
    assert lyrics.sections[0].syllable_count == 6 and lyrics.syllable_count == 6
    assert phrase.language == "en"


def test_contractions_stay_one_word():
    assert [w.text for w in words_of("don't stop, I'm here")] == ["don't", "stop", "I'm", "here"]


def test_long_english_lines_are_split_into_shorter_phrases():
    lyrics = parse_lyrics("[verse]\n" + " ".join(["la"] * 20))
    phrases = lyrics.sections[0].phrases
    assert len(phrases) == 2
    assert [p.syllable_count for p in phrases] == [10, 10]
    assert all(p.line_index == 0 for p in phrases)


def test_short_lines_are_one_phrase_each_with_increasing_line_index():
    lyrics = parse_lyrics("[verse]\nfirst line\nsecond line\n[chorus]\nthird line")
    phrases = [p for s in lyrics.sections for p in s.phrases]
    assert [p.text for p in phrases] == ["first line", "second line", "third line"]
    assert [p.line_index for p in phrases] == [0, 1, 2]


# ---------------------------------------------------------------- Chinese

def test_chinese_counts_one_syllable_per_character():
    lyrics = parse_lyrics("[verse]\n我爱你")
    (phrase,) = lyrics.sections[0].phrases
    assert phrase.syllable_count == 3
    assert [w.text for w in phrase.words] == ["我", "爱", "你"]
    assert all(w.language == "zh" for w in phrase.words)
    assert phrase.text == "我爱你"  # no spaces put between Chinese characters
    assert phrase.language == "zh"


def test_space_separated_chinese_groups_become_phrases():
    lyrics = parse_lyrics("[verse]\n霓虹闪烁 街道流淌 脚步轻快 心跳跟上")
    phrases = lyrics.sections[0].phrases
    assert [p.text for p in phrases] == ["霓虹闪烁", "街道流淌", "脚步轻快", "心跳跟上"]
    assert [p.syllable_count for p in phrases] == [4, 4, 4, 4]


def test_short_chinese_line_with_a_space_stays_one_phrase():
    lyrics = parse_lyrics("[verse]\n我爱 你")
    assert [p.syllable_count for p in lyrics.sections[0].phrases] == [3]


def test_chinese_line_splits_at_chinese_punctuation():
    lyrics = parse_lyrics("[verse]\n我爱你，你爱我，我们一起走到天涯海角")
    phrases = lyrics.sections[0].phrases
    assert [p.text for p in phrases] == ["我爱你", "你爱我", "我们一起走到天涯海角"]
    assert [p.syllable_count for p in phrases] == [3, 3, 10]


def test_mixed_chinese_and_english_line():
    (phrase,) = parse_lyrics("我们的歌 hello").sections[0].phrases
    assert phrase.syllable_count == 4 + 2
    assert [w.language for w in phrase.words] == ["zh"] * 4 + ["en"]


# ---------------------------------------------------------------- numbers

@pytest.mark.parametrize(
    "digits, words",
    [
        ("0", ["zero"]),
        ("7", ["seven"]),
        ("13", ["thirteen"]),
        ("21", ["twenty", "one"]),
        ("42", ["forty", "two"]),
        ("100", ["one", "hundred"]),
        ("101", ["one", "hundred", "one"]),
        ("1000", ["one", "thousand"]),
        ("1999", ["nineteen", "ninety", "nine"]),
        ("2000", ["two", "thousand"]),
        ("2005", ["two", "thousand", "five"]),
        ("2024", ["twenty", "twenty", "four"]),
        ("12345", ["twelve", "thousand", "three", "hundred", "forty", "five"]),
        ("12345678", ["one", "two", "three", "four", "five", "six", "seven", "eight"]),
    ],
)
def test_number_words(digits, words):
    assert number_words(digits) == words


def test_numbers_in_lyrics_are_sung_as_words():
    (phrase,) = parse_lyrics("In 1999 we had 2 cars").sections[0].phrases
    assert [w.text for w in phrase.words] == ["In", "nineteen", "ninety", "nine", "we", "had", "two", "cars"]
    assert phrase.text == "In nineteen ninety nine we had two cars"


def test_a_combining_mark_after_a_number_written_as_one_character_is_dropped():
    """Ethiopic ten becomes " 10 " (several characters): a combining accent after it follows no
    letter (found by benchmarks/fuzz.py: this raised TypeError in unicodedata.category)."""
    (phrase,) = parse_lyrics("\u1372\u0301 la").sections[0].phrases
    assert [w.text for w in phrase.words] == ["ten", "la"]


def test_digits_glued_to_letters_are_split():
    assert [w.text for w in words_of("24seven")] == ["twenty", "four", "seven"]
