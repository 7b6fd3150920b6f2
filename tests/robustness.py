"""Inputs and oracles for the robustness checks, shared by tests/test_properties.py (bounded, in
CI) and benchmarks/fuzz.py (a campaign of N minutes).

Each `check_*` function takes one input and returns None when the answer is as promised, or a
short description of what went wrong. The promises (issue 15):
- validation: a SongRequest, or an InvalidRequest naming a real field, in under 50 ms, for any
  input up to the size limits;
- lyrics: no exception; every word's syllables spell it, none empty; every letter of the text
  is in a sung word, in order, or in a word a warning names;
- planning (validate -> parse -> style -> cast -> plan -> compose, no audio): success or a
  SongwrightError naming a field; every cast syllable has a vowel and ASCII phonemes only (what
  MBROLA reads), and the vocal part sings the plan's syllables in order.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from songwright.errors import InvalidRequest, SongwrightError
from songwright.lyrics import normalize_text, parse_lyrics
from songwright.request import MAX_LYRICS_CHARS, MAX_TAGS_CHARS, SongRequest

MAX_VALIDATION_S = 0.05
FIELDS = {f.name for f in dataclasses.fields(SongRequest)}

# Characters and words that broke the parser or the singer once (findings F1, F2, F14, F15), or
# that sit on a rule's edge.
TRICKY_WORDS = [
    "❶", "➊", "⓵", "፩", "፲", "١٩٩٩", "½", "Ⅻ", "⑩", "²", "1999", "24seven", "0", "12345678",
    "❤️", "👍🏽", "👨‍👩‍👧", "don´t", "don't", "don’t", "rock`n`roll", "café¨", "¨", "´", "beau\u00adtiful",
    "hel\u200dlo", "wo\u200brld", "\u2060", "\ufeff", "e\u0301", "\u0301", "xx", "vi", "ix", "xii", "mmm",
    "㐂", "𮚺", "𠀀", "鿰", "ᅟ", "\u3164", "我爱你", "さくら", "사랑해", "Я", "тебя", "σ'αγαπώ", "שלום",
    "ฉันรักเธอ", "हूँ", "ﬁre", "ＡＢＣ", "a", "A", "I", "o", "y", "w", "hmm", "brrr", "ー",
]
# Lyric text without tag syntax ([ ] ( ) :) or URLs (. /): the letter oracle can then expect
# every letter to be sung.
_PLAIN = st.characters(codec="utf-8", exclude_categories=("Cs", "Co", "Cn", "Cc"), exclude_characters="[]():./\\")
_WORD = st.one_of(st.sampled_from(TRICKY_WORDS), st.text(_PLAIN, min_size=1, max_size=12))
_SEPARATOR = st.sampled_from([" ", " ", "\n", ", ", "! ", "\t"])


@st.composite
def plain_lyrics(draw, max_words: int = 30) -> str:
    words = draw(st.lists(_WORD, max_size=max_words))
    return "".join(word + draw(_SEPARATOR) for word in words)


_TAGS = st.sampled_from(["[verse]", "[Chorus x2]", "[chorus x9]", "(Bridge)", "Chorus:", "End:", "[I love you]",
                         "[weird tag]", "[Verse 2: Ana]", "[outro]", "[", "]", "[]", "(", "Hook: la la", "[rap]",
                         "[Rap Verse 2]"])


@st.composite
def tagged_lyrics(draw) -> str:
    """Plain lyrics with structure tags, odd tags and URLs mixed in, in any order."""
    parts = draw(st.lists(st.one_of(plain_lyrics(max_words=6), _TAGS, st.just("see www.example.com/x ")),
                          max_size=8))
    return "\n".join(parts) if draw(st.booleans()) else " ".join(parts)


def _long_text(limit: int) -> st.SearchStrategy[str]:
    """Text near a size limit, built by repetition (hypothesis would take long to draw it)."""
    return st.tuples(st.text(min_size=1, max_size=8), st.integers(limit - 50, limit + 50)).map(
        lambda pair: (pair[0] * (pair[1] // len(pair[0]) + 1))[:pair[1]])


_WEIRD = st.one_of(st.none(), st.booleans(), st.integers(), st.just(10**5000), st.just(-(10**400)),
                   st.floats(allow_nan=True, allow_infinity=True), st.just(float("nan")), st.just(-0.0),
                   st.sampled_from([np.float32(60), np.float64(30.5), np.int64(7), np.float32("nan"), Fraction(61, 2)]),
                   st.text(max_size=30), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                   st.just([[[[[]]]]]), st.just(b"pop"), st.just(complex(1, 2)))
_KEYS = st.one_of(st.sampled_from(["A minor", "Eb major", "F#m", "c# MINOR", " Db  minor ", "H major", "A" + " " * 3000 + "x",
                                   "A" + " " * 20 + "x", "a\u00a0minor", "B♭ major"]), _long_text(32), st.text(max_size=40))

REQUEST_FIELDS = {
    "tags": st.one_of(st.sampled_from(["pop", "lo-fi, chill, piano", "jazz, ballad, female vocal", ",,,", "x"]),
                      _long_text(MAX_TAGS_CHARS), st.text(max_size=60), _WEIRD),
    "lyrics": st.one_of(plain_lyrics(), tagged_lyrics(), _long_text(MAX_LYRICS_CHARS), _WEIRD),
    "duration_s": st.one_of(st.floats(0, 700), st.integers(-5, 700), _WEIRD),
    "tempo_bpm": st.one_of(st.none(), st.floats(30, 250), _WEIRD),
    "key": st.one_of(st.none(), _KEYS, _WEIRD),
    "time_signature": st.one_of(st.none(), st.sampled_from(["4/4", "3/4", "6/8", "5/4", "4/4 " * 100]), _WEIRD),
    "seed": st.one_of(st.none(), st.integers(-2, 2**33), _WEIRD),
    "instrumental": st.one_of(st.booleans(), _WEIRD),
    "voice": st.one_of(st.none(), st.sampled_from(["us1", "de2", "cn1", "hn1", "es3", "xx9", "us1" * 20]), _WEIRD),
    "engine": st.one_of(st.sampled_from(["composer", "acestep", "nope"]), _WEIRD),
    "steps": st.one_of(st.none(), st.integers(-1, 300), _WEIRD),
    "sampler": st.one_of(st.sampled_from(["euler", "heun", "pingpong", "x"]), _WEIRD),
    "guidance_scale": st.one_of(st.floats(-1, 300), _WEIRD),
    "guided": st.one_of(st.booleans(), _WEIRD),
    "guide_strength": st.one_of(st.floats(-1, 2), _WEIRD),
}


@st.composite
def request_fields(draw) -> dict:
    """Some of SongRequest's fields, each valid or not."""
    names = draw(st.sets(st.sampled_from(sorted(REQUEST_FIELDS)), max_size=5))
    return {name: draw(REQUEST_FIELDS[name]) for name in sorted(names)}


@st.composite
def plan_requests(draw) -> SongRequest:
    """Mostly valid composer requests with hostile lyrics (what reaches the planner)."""
    return SongRequest(
        tags=draw(st.sampled_from(["pop", "rock, male vocal", "lo-fi, chill", "jazz, ballad", "ambient", "hip-hop", "trap"])),
        lyrics=draw(st.one_of(plain_lyrics(max_words=16), tagged_lyrics())),
        duration_s=draw(st.sampled_from([10, 30, 60, 120])),
        tempo_bpm=draw(st.one_of(st.none(), st.sampled_from([40, 120, 240]))),
        time_signature=draw(st.sampled_from([None, "3/4", "6/8"])),
        voice=draw(st.sampled_from([None, None, "us1", "us2", "de2", "es3", "cn1", "hn1", "jp2"])),
        instrumental=draw(st.sampled_from([False, False, False, True])),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


# ---------------------------------------------------------------- oracles

def check_validation(fields: dict) -> str | None:
    """Success or an InvalidRequest that names a real field first, in under 50 ms."""
    elapsed = math.inf
    for _ in range(3):  # the best of three: a loaded machine must not fail a fast check
        start = time.perf_counter()
        try:
            SongRequest.from_dict(fields)
            outcome = None
        except InvalidRequest as error:
            outcome = error
        except Exception as error:  # anything else is a finding
            return f"{type(error).__name__}: {str(error)[:200]}"
        elapsed = min(elapsed, time.perf_counter() - start)
        if elapsed < MAX_VALIDATION_S:
            break
    if elapsed >= MAX_VALIDATION_S:
        return f"validation took {elapsed * 1000:.0f} ms"
    if outcome is not None and (outcome.field not in FIELDS or not str(outcome).startswith(outcome.field + ": ")):
        return f"InvalidRequest names {outcome.field!r}, not a request field: {str(outcome)[:120]}"
    return None


def _word_problem(word) -> str | None:
    if not word.syllables or any(not s for s in word.syllables):
        return f"empty syllable in {word.text!r}: {word.syllables}"
    if "".join(word.syllables) != word.text:
        return f"syllables {word.syllables} do not spell {word.text!r}"
    return None


def check_lyrics(text: str, *, letters_sung: bool = True) -> str | None:
    """No exception; each word spelled by its syllables; with `letters_sung`, every letter of
    the text sung in order or in a word some warning names."""
    try:
        lyrics = parse_lyrics(text)
    except Exception as error:
        return f"{type(error).__name__}: {str(error)[:200]}"
    words = [w for s in lyrics.sections for p in s.phrases for w in p.words]
    for word in words:
        problem = _word_problem(word)
        if problem:
            return problem
    if not letters_sung:
        return None
    warned = {c for warning in lyrics.warnings for quoted in re.findall(r"'([^']*)'", warning) for c in quoted}
    expected = [c for c in normalize_text(text)[0] if c.isalpha()]
    sung = iter("".join(w.text for w in words))
    for char in expected:
        if char in warned:
            continue
        if not any(c == char for c in sung):  # consumes `sung` up to the match: letters in order
            return f"letter {char!r} (U+{ord(char):04X}) neither sung nor named in a warning"
    return None


def plan_song(request: SongRequest):
    """The generate() path without audio: (lyrics, casting, plan, score)."""
    from songwright.composer import compose
    from songwright.composer.melody import voice_gender
    from songwright.plan import is_vocal, make_plan
    from songwright.singer.casting import cast_lyrics
    from songwright.styles import resolve_tags

    request = request.validate()
    lyrics = parse_lyrics(request.lyrics)
    style = resolve_tags(request.tags)
    casting = None
    if is_vocal(request, lyrics, style):
        lyrics, casting = cast_lyrics(lyrics, request.voice, voice_gender(style))
    plan = make_plan(request, lyrics, style, request.seed or 0, 44100, casting.lead.name if casting else None)
    return lyrics, casting, plan, compose(plan)


def check_planning(request: SongRequest) -> str | None:
    try:
        lyrics, casting, plan, score = plan_song(request)
    except SongwrightError as error:
        field = getattr(error, "field", None)
        if isinstance(error, InvalidRequest) and field in FIELDS:
            return None
        return f"{type(error).__name__} without a request field: {str(error)[:200]}"
    except Exception as error:
        return f"{type(error).__name__}: {str(error)[:200]}"
    if casting is None:
        return None
    for word in (w for s in lyrics.sections for p in s.phrases for w in p.words):
        problem = _word_problem(word)
        if problem:
            return problem
        if len(word.phones) != len(word.syllables):
            return f"{word.text!r}: {len(word.syllables)} syllables but {len(word.phones)} sung"
        for sung in word.phones:
            phonemes = [sung.vowel] + [p for p, _ in sung.onset + sung.coda]
            if not sung.vowel or not all(p and p.isascii() for p in phonemes):
                return f"{word.text!r} sung as {phonemes} (MBROLA reads ASCII phonemes with a vowel)"
    planned = [s for section in plan.sections for p in section.phrases for w in p.words for s in w.syllables]
    vocal = score.part("vocals")
    notes = [n.syllable for n in vocal.notes] if vocal else []
    if notes != planned:
        return f"the vocal part sings {len(notes)} syllables, the plan has {len(planned)}"
    if plan.lead_voice and casting.syllables_by_voice and plan.lead_voice != max(
            casting.syllables_by_voice, key=casting.syllables_by_voice.get):
        return f"reported voice {plan.lead_voice} is not the one that sings most ({casting.syllables_by_voice})"
    return None
