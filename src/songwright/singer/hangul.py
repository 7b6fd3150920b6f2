"""Korean words -> MBROLA hn1 syllables, written from the Hangul letters (espeak-ng has no hn1
voice). Each precomposed syllable is an initial, a vowel and a final (Unicode arithmetic); the
phonemes are hn1's XSAMPA, as in its own examples. The spoken rules a singer needs: lax stops are
voiced between voiced sounds inside a word, a final consonant moves onto a following syllable that
starts with a vowel (당신을 -> dang-si-neul), finals are neutralised to the seven that can close
a Korean syllable and nasalised before n or m (합니다 -> ham-ni-da), a lax stop after ㅎ is
aspirated (많다 -> man-ta), and ㄹㄹ is a long l."""

from __future__ import annotations

from .phonemes import SungSyllable

FIRST, LAST = 0xAC00, 0xD7A3
SILENT = ""
INITIALS = ("k", "k_>", "n", "t", "t_>", "4", "m", "p", "p_>", "s", "s_>", SILENT, "ts\\", "ts\\_>", "ts\\_h", "k_h",
            "t_h", "p_h", "h")
VOWELS = ("a", "E", "ja", "jE", "V", "e", "jV", "je", "o", "wa", "wE", "2", "jo", "u", "wV", "we", "wi", "ju", "M",
          "M\\i", "i")
# Each final: (what closes the syllable, what closes it before a syllable that starts with a
# vowel, what that syllable then starts with).
FINALS = (
    (None, None, None), ("k_}", None, "k"), ("k_}", None, "k_>"), ("k_}", "k_}", "s_>"), ("n_}", None, "n"),
    ("n_}", "n_}", "ts\\"), ("n_}", None, "n"), ("t_}", None, "t"), ("l_}", None, "4"), ("k_}", "l_}", "k"),
    ("m_}", "l_}", "m"), ("l_}", "l_}", "p"), ("l_}", "l_}", "s"), ("l_}", "l_}", "t_h"), ("p_}", "l_}", "p_h"),
    ("l_}", None, "4"), ("m_}", None, "m"), ("p_}", None, "p"), ("p_}", "p_}", "s_>"), ("t_}", None, "s"),
    ("t_}", None, "s_>"), ("N", "N", None), ("t_}", None, "ts\\"), ("t_}", None, "ts\\_h"), ("k_}", None, "k_h"),
    ("t_}", None, "t_h"), ("p_}", None, "p_h"), ("t_}", None, None),
)
VOICED_LAX = {"k": "g", "t": "d", "p": "b", "ts\\": "dz\\"}
ASPIRATED_LAX = {"k": "k_h", "t": "t_h", "p": "p_h", "ts\\": "ts\\_h"}
SONORANT_CODAS = {None, "n_}", "m_}", "N", "l_}"}
NASALISED = {"k_}": "N", "t_}": "n_}", "p_}": "m_}"}  # an obstruent final before n or m
WITH_H = (6, 15, 27)  # finals with ㅎ: a lax stop after one is aspirated
ONSET_MS, CODA_MS = 80, 80
# Revised Romanization, for singing Hangul through another language's voice.
ROMAN_INITIALS = ("g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h")
ROMAN_VOWELS = ("a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi",
                "yu", "eu", "ui", "i")
ROMAN_FINALS = ("", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p", "t", "t",
                "ng", "t", "t", "k", "t", "p", "t")


def is_hangul(char: str) -> bool:
    return FIRST <= ord(char) <= LAST


def hangul_syllables(word: str) -> list[SungSyllable]:
    """One sung syllable per Hangul syllable of `word` (other characters are skipped)."""
    letters = [_letters(c) for c in word if is_hangul(c)]
    onsets, codas = _linked(letters)
    for i in range(1, len(letters)):
        onsets[i], codas[i - 1] = _joined(onsets[i], codas[i - 1], letters[i - 1][2])
    return [SungSyllable(((onset, ONSET_MS),) if onset else (), VOWELS[vowel], ((coda, CODA_MS),) if coda else ())
            for onset, (_, vowel, _), coda in zip(onsets, letters, codas)]


def _linked(letters: list[tuple[int, int, int]]) -> tuple[list[str], list[str | None]]:
    """Each syllable's onset and coda, a final moved onto a following syllable that starts with a vowel."""
    onsets = [INITIALS[initial] for initial, _, _ in letters]
    codas: list[str | None] = []
    for i, (_, _, final) in enumerate(letters):
        alone, before_vowel, moved = FINALS[final]
        if i + 1 < len(letters) and onsets[i + 1] == SILENT:
            codas.append(before_vowel)
            onsets[i + 1] = moved or SILENT
        else:
            codas.append(alone)
    return onsets, codas


def _joined(onset: str, coda: str | None, final: int) -> tuple[str, str | None]:
    """The sound changes where a syllable meets the one before it, which has `final`."""
    if onset in ASPIRATED_LAX and final in WITH_H:
        return ASPIRATED_LAX[onset], None if final == 27 else coda  # 좋다 -> jo-ta
    if onset in VOICED_LAX and coda in SONORANT_CODAS:
        return VOICED_LAX[onset], coda
    if onset in ("n", "m") and coda in NASALISED:
        return onset, NASALISED[coda]
    if onset == "4" and coda == "l_}":  # 빨리: ㄹㄹ is a long l
        return "l", coda
    return onset, coda


def _letters(char: str) -> tuple[int, int, int]:
    index = ord(char) - FIRST
    return index // 588, (index % 588) // 28, index % 28


def romanize_hangul(text: str) -> str:
    """Hangul syllables in `text` romanised (사랑 -> sarang); other characters kept."""
    out = []
    for char in text:
        if is_hangul(char):
            initial, vowel, final = _letters(char)
            out.append(ROMAN_INITIALS[initial] + ROMAN_VOWELS[vowel] + ROMAN_FINALS[final])
        else:
            out.append(char)
    return "".join(out)
