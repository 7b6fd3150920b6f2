"""Casting: which voice sings each lyric line, and the phonemes of every word in that voice.

A word's sung syllables come from its pronunciation (espeak-ng for English, pinyin for Chinese),
and its written syllables are re-split to match, so every note of the melody carries exactly one
sung syllable and the MIDI lyrics, LRC and audio agree."""

from __future__ import annotations

import dataclasses
import unicodedata

from ..errors import InvalidRequest
from ..lyrics import Lyrics, Phrase, Word, english_syllables
from .phonemes import chinese_syllable, english_pronunciations
from .voices import DEFAULTS, VOICES, Voice, installed_voices


@dataclasses.dataclass
class Casting:
    lead: Voice
    warnings: list[str]


def choose_lead(requested: str | None, language: str, gender: str) -> Voice:
    if requested is not None:
        voice = VOICES.get(requested)
        if voice is None or not voice.installed:
            names = ", ".join(v.name for v in installed_voices()) or "none"
            raise InvalidRequest("voice", f"must be an installed voice ({names}; see `songwright voices`)", requested)
        return voice
    name = DEFAULTS.get((language, gender)) or DEFAULTS[("en", gender)]
    return VOICES[name]


def cast_lyrics(lyrics: Lyrics, requested: str | None, gender: str) -> tuple[Lyrics, Casting]:
    """Give every word a voice and its sung syllables; warn where a line needs another language's voice."""
    languages = [p.language for s in lyrics.sections for p in s.phrases]
    main = max(set(languages), key=languages.count) if languages else "en"
    lead = choose_lead(requested, _sung_language(main), gender)
    warnings: list[str] = []
    voices_by_language: dict[str, Voice] = {lead.language: lead}
    for language in {_sung_language(w.language) for s in lyrics.sections for p in s.phrases for w in p.words}:
        if language not in voices_by_language:
            name = DEFAULTS.get((language, gender))
            voice = VOICES[name] if name and VOICES[name].installed else None
            voices_by_language[language] = voice or lead
    english = [w.text for s in lyrics.sections for p in s.phrases for w in p.words]
    english_voice = voices_by_language.get("en", lead if lead.language == "en" else VOICES[DEFAULTS[("en", gender)]])
    pronunciations = english_pronunciations([_latin(w) for w in english], english_voice.espeak) if english else {}
    for section in lyrics.sections:
        phrases = []
        for phrase in section.phrases:
            words = []
            for word in phrase.words:
                language = _sung_language(word.language)
                voice = voices_by_language[language]
                if language != voice.language:
                    voice = english_voice
                if word.language not in ("en", voice.language):
                    warnings.append(f"'{word.text}' ({word.language}) sung by {voice.name} from a transliteration")
                words.append(_phonetize(word, voice, pronunciations))
            phrases.append(Phrase(phrase.text, tuple(words), phrase.line_index))
        section.phrases = phrases
    return lyrics, Casting(lead, sorted(set(warnings)))


def _sung_language(language: str) -> str:
    return "zh" if language == "zh" else "en"


def _latin(text: str) -> str:
    """Latin letters for espeak: accents stripped ("corazón" -> "corazon"), Chinese as pinyin."""
    if any("\u3400" <= c <= "\u9fff" for c in text):
        from pypinyin import lazy_pinyin

        text = "".join(lazy_pinyin(text))
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c == "'")) or "la"


def _phonetize(word: Word, voice: Voice, pronunciations: dict) -> Word:
    if voice.language == "zh" and word.language == "zh":
        return dataclasses.replace(word, phones=(chinese_syllable(word.text),), voice=voice.name)
    sung = pronunciations.get(_latin(word.text).lower()) or []
    if not sung:  # espeak found no vowel (e.g. "hmm"): hum it on a neutral vowel
        from .phonemes import SungSyllable
        sung = [SungSyllable((), "@", (("m", 80),))]
    return dataclasses.replace(word, syllables=respell(word.text, len(sung)), phones=tuple(sung), voice=voice.name)


def respell(text: str, count: int) -> tuple[str, ...]:
    """The word's written syllables, split or merged to `count` pieces."""
    pieces = list(english_syllables(text)) if text.isascii() else list(text)
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
