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


def is_hangul(char: str) -> bool:
    return FIRST <= ord(char) <= LAST


def hangul_syllables(word: str) -> list[SungSyllable]:
    """One sung syllable per Hangul syllable of `word` (other characters are skipped)."""
    letters = [_letters(c) for c in word if is_hangul(c)]
    codas, onsets = [], []
    for index, (initial, vowel, final) in enumerate(letters):
        alone, linked_coda, linked_onset = FINALS[final]
        carried = onsets.pop() if len(onsets) > index else None
        onset = INITIALS[initial] or carried
        if index and onset in ASPIRATED_LAX and letters[index - 1][2] in WITH_H:
            onset = ASPIRATED_LAX[onset]
            codas[-1] = None if letters[index - 1][2] == 27 else codas[-1]  # 좋다 -> jo-ta
        elif index and onset in VOICED_LAX and codas[-1] in SONORANT_CODAS:
            onset = VOICED_LAX[onset]
        if index and onset in ("n", "m") and codas[-1] in NASALISED:
            codas[-1] = NASALISED[codas[-1]]
        if onset == "4" and index and codas[-1] == "l_}":  # 빨리: ㄹㄹ is a long l
            onset = "l"
        onsets.append(onset)
        vowel_next = index + 1 < len(letters) and INITIALS[letters[index + 1][0]] == SILENT
        codas.append(linked_coda if vowel_next else alone)
        if vowel_next:
            onsets.append(linked_onset)
    return [SungSyllable(((onset, ONSET_MS),) if onset else (), VOWELS[vowel], ((coda, CODA_MS),) if coda else ())
            for onset, (_, vowel, _), coda in zip(onsets, letters, codas)]


def _letters(char: str) -> tuple[int, int, int]:
    index = ord(char) - FIRST
    return index // 588, (index % 588) // 28, index % 28
