"""Casting: which voice sings each word, and the phonemes of every word in that voice.

A line is sung by a voice of its own language when one is installed (the lead's gender first);
otherwise by the lead from a transliteration, with a warning. A requested voice sings every word:
those of other languages from a transliteration, with a warning; cn1 and hn1, written from pinyin
and Hangul, read nothing else, so other words go to a voice that reads them (with a warning), and
a request for one of them when the lyrics have no word in its language is refused. A word's sung syllables come from
its pronunciation (espeak-ng in the MBROLA voice's phoneme set, or pinyin for Mandarin), and its
written syllables are re-split to match, so every melody note carries exactly one sung syllable
and the MIDI lyrics, the LRC and the audio agree."""

from __future__ import annotations

import dataclasses
import unicodedata
from collections import Counter

from anyascii import anyascii

from ..errors import InvalidRequest
from ..lyrics import Lyrics, Phrase, Word, english_syllables
from .hangul import hangul_syllables, romanize_hangul
from .phonemes import SungSyllable, chinese_syllable, pronunciations
from .voices import DEFAULTS, VOICES, Voice, installed_voices

HUM = SungSyllable((), "@", (("m", 80),))


@dataclasses.dataclass
class Casting:
    lead: Voice  # the voice that sings the most syllables
    warnings: list[str]
    syllables_by_voice: dict[str, int] = dataclasses.field(default_factory=dict)


def choose_lead(requested: str | None, language: str, gender: str) -> Voice:
    if requested is not None:
        voice = VOICES.get(requested)
        if voice is None or not voice.installed:
            names = ", ".join(v.name for v in installed_voices()) or "none"
            raise InvalidRequest("voice", f"must be an installed voice ({names}; see `songwright voices`)", requested)
        return voice
    return voice_for(language, gender) or VOICES[DEFAULTS[("en", gender)][0]]


def voice_for(language: str, gender: str) -> Voice | None:
    """An installed voice of the language, of the given gender if there is one."""
    for wanted in (gender, "female" if gender == "male" else "male"):
        for name in DEFAULTS.get((language, wanted), ()):
            if VOICES[name].installed:
                return VOICES[name]
    return None


def cast_lyrics(lyrics: Lyrics, requested: str | None, gender: str) -> tuple[Lyrics, Casting]:
    """Give every word a voice and its sung syllables; warn where a word is sung from a transliteration."""
    words = [w for s in lyrics.sections for p in s.phrases for w in p.words]
    counts = Counter(w.language for w in words for _ in w.syllables)
    main = counts.most_common(1)[0][0] if counts else "en"
    lead = choose_lead(requested, main, gender)
    if requested is not None and lead.espeak is None and counts and lead.language not in counts:
        raise InvalidRequest("voice", f"{lead.name} sings only {lead.description.split(',')[0]} (written from its own "
                             f"script), and these lyrics have none ('{main}'): choose a voice that reads them "
                             "(see `songwright voices`) or leave the voice out", requested)
    singers = {lead.language: lead}
    # a voice written from pinyin or Hangul cannot read a transliteration: an English voice does
    reader = lead if lead.espeak else voice_for("en", gender) or lead
    for language in counts:
        singers.setdefault(language, reader if requested is not None else voice_for(language, gender) or reader)
    assigned = [(w, singers[w.language]) for w in words]
    warnings = sorted({_transliteration_warning(w, v, requested) for w, v in assigned if w.language != v.language})
    by_voice = Counter(v.name for w, v in assigned for _ in w.syllables)
    if by_voice:
        lead = VOICES[by_voice.most_common(1)[0][0]]
    spoken = {}
    for voice in {v for _, v in assigned if v.espeak}:
        texts = [spoken_text(w, voice) for w, v in assigned if v is voice]
        spoken[voice.name] = pronunciations(texts, voice.espeak, voice.substitutes)
    sung = iter(_phonetize(w, v, spoken.get(v.name, {})) for w, v in assigned)
    for section in lyrics.sections:
        section.phrases = [Phrase(p.text, tuple(next(sung) for _ in p.words), p.line_index) for p in section.phrases]
    return lyrics, Casting(lead, warnings, dict(by_voice))


def _transliteration_warning(word: Word, voice: Voice, requested: str | None) -> str:
    if requested is None:
        reason = "has no installed voice"
    elif voice.name == requested:
        reason = "is not the requested voice's language"
    else:
        reason = f"cannot be read by {requested}"
    return f"'{word.text}' ({word.language}) {reason}: sung by {voice.name} from a transliteration"


def spoken_text(word: Word, voice: Voice) -> str:
    """What the voice's espeak-ng front end reads for this word: the word itself in its own
    language, else a Latin transliteration (pinyin for Chinese, romanised Hangul, anyascii's for
    other scripts, no accents)."""
    if word.language == voice.language:
        return word.text.lower()
    text = word.text
    if word.language == "zh":
        from pypinyin import lazy_pinyin

        text = "".join(lazy_pinyin(text))
    elif word.language == "ko":
        text = romanize_hangul(text)
    return latin_letters(text) or "la"


def latin_letters(text: str) -> str:
    """`text` in Latin letters (anyascii's transliteration), lower case: letters, digits, apostrophes."""
    return "".join(c for c in anyascii(text) if c.isalnum() or c == "'").lower()


def _phonetize(word: Word, voice: Voice, spoken: dict) -> Word:
    if voice.espeak is None:  # written from pinyin (cn1) or Hangul (hn1)
        sung = [chinese_syllable(word.text)] if voice.language == "zh" else hangul_syllables(word.text)
        return dataclasses.replace(word, phones=tuple(sung), voice=voice.name)
    sung = spoken.get(spoken_text(word, voice)) or [HUM]  # no vowel at all ("hmm", "brrr"): hum it
    sung = _at_most(sung, len(_characters(word.text)))
    return dataclasses.replace(word, syllables=respell(word.text, len(sung)), phones=tuple(sung), voice=voice.name)


MERGED_VOWEL_MS = 80


def _at_most(sung: list[SungSyllable], count: int) -> list[SungSyllable]:
    """At most `count` sung syllables: a word has no more written syllables than characters
    ("w" read "double-u", "爱" read by an English voice), so the syllables past the last
    character are sung, quickly, at the end of the last note instead of on notes of their own
    with no text."""
    if len(sung) <= count:
        return sung
    keep, rest = sung[:count - 1], sung[count - 1:]
    tail = tuple(phone for s in rest[1:] for phone in s.onset + ((s.vowel, MERGED_VOWEL_MS),) + s.coda)
    return keep + [SungSyllable(rest[0].onset, rest[0].vowel, rest[0].coda + tail)]


def respell(text: str, count: int) -> tuple[str, ...]:
    """The word's written syllables, split or merged to `count` pieces."""
    latin = all(not c.isalpha() or unicodedata.name(c, "").startswith("LATIN") for c in text)
    pieces = list(english_syllables(text)) if latin else _characters(text)
    while len(pieces) > count and len(pieces) > 1:
        pieces[-2:] = [pieces[-2] + pieces[-1]]
    while len(pieces) < count:
        longest = max(range(len(pieces)), key=lambda i: len(pieces[i]))
        piece = pieces[longest]
        if len(piece) < 2:
            pieces.append("")
            continue
        half = len(piece) // 2
        pieces[longest:longest + 1] = [piece[:half], piece[half:]]
    return tuple(pieces)


def _characters(text: str) -> list[str]:
    """Characters, each with the combining marks that follow it (Thai and Devanagari vowel signs)."""
    out: list[str] = []
    for char in text:
        if out and unicodedata.category(char).startswith("M"):
            out[-1] += char
        else:
            out.append(char)
    return out
