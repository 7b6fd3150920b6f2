"""Words -> sung syllables of phonemes: espeak-ng for every language with an `mb-*` voice (in the
MBROLA voice's own phoneme names), pinyin for Mandarin. A sung syllable is onset consonants, one
vowel, coda consonants."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass

from ..errors import MissingDependency
from .pinyin import syllable_units

# First characters of MBROLA vowels, SAMPA-based in every voice (us: i I E { A V O U u @ 3 r=;
# en1: Q e@ I@ i: A: ...; de: y: 2: 6 9 Y; fr: o~ a~ e~ 9~; it: a1 o1 ...).
_VOWEL_START = set("aeiouAEIOUV@{3Qy2Y69&")
SYLLABIC = {"r=", "l=", "n=", "m="}
DEFAULT_CONSONANT_MS = 70
# Voiceless stops and affricates in the voices' phoneme sets (SAMPA; cn1's pinyin initials p t k c q
# ch; hn1's lax, tense and aspirated ones), and voiceless fricatives (SAMPA; pinyin f s sh x h;
# hn1's s s_> h). After one of these a vowel becomes voiced late, the more so the longer it is.
VOICELESS_STOPS = {"p", "t", "k", "p_h", "t_h", "k_h", "c", "tS", "ts", "pf", "q", "ch",
                   "p_>", "t_>", "k_>", "ts\\", "ts\\_h", "ts\\_>"}
VOICELESS_FRICATIVES = {"f", "s", "S", "T", "x", "h", "H", "C", "sh", "s_>"}
VOICELESS = VOICELESS_STOPS | VOICELESS_FRICATIVES
# Words espeak reads alone as a letter name or stressed form; sung, they are the weak form.
CITATION_FIXES = {"a": "uh"}
# espeak reads a lower-case word of Roman-numeral letters as a number ("xx": "roman twenty", "vi":
# "roman six", in es "veinte"); capitalised, it reads the word ("Xx": "ex ex", "Vi": "vie").
_ROMAN_LIKE = re.compile(r"[ivxlcdm]+")


@dataclass(frozen=True)
class SungSyllable:
    onset: tuple[tuple[str, int], ...]  # (phoneme, natural ms) before the vowel
    vowel: str
    coda: tuple[tuple[str, int], ...]  # after it


def is_vowel(phoneme: str) -> bool:
    return phoneme in SYLLABIC or phoneme[:1] in _VOWEL_START


def ends_voiceless(onset: tuple[tuple[str, int], ...]) -> bool:
    """Whether the last of these consonants (a syllable's onset, or its coda) is a voiceless stop,
    affricate or fricative."""
    return bool(onset) and onset[-1][0] in VOICELESS


def syllabify(phones: list[tuple[str, int]]) -> list[SungSyllable]:
    """Vowel nuclei become syllables; a consonant run between two vowels gives its last
    consonant to the next syllable's onset (two when it forms a cluster like st, pl, tr).
    A final consonant + l or n with no vowel ("little", "button") is sung as its own syllable."""
    phones = _syllabic_endings(phones)
    nuclei = [i for i, (p, _) in enumerate(phones) if is_vowel(p)]
    if not nuclei:
        return []
    syllables = []
    for index, nucleus in enumerate(nuclei):
        start = 0 if index == 0 else _onset_start(phones, nuclei[index - 1], nucleus)
        end = len(phones) if index == len(nuclei) - 1 else _onset_start(phones, nucleus, nuclei[index + 1])
        syllables.append(SungSyllable(tuple(phones[start:nucleus]), phones[nucleus][0], tuple(phones[nucleus + 1:end])))
    return syllables


def _syllabic_endings(phones: list[tuple[str, int]]) -> list[tuple[str, int]]:
    if len(phones) >= 3 and phones[-1][0] in ("l", "n") and not is_vowel(phones[-2][0]) and any(is_vowel(p) for p, _ in phones[:-2]):
        return phones[:-1] + [("@", 60), phones[-1]]
    return phones


def _onset_start(phones: list[tuple[str, int]], previous: int, nucleus: int) -> int:
    run = nucleus - previous - 1
    if run <= 1:
        return nucleus - run
    first, second = phones[nucleus - 2][0], phones[nucleus - 1][0]
    cluster = first in ("s", "S") or second in ("r", "l", "w", "j")
    return nucleus - (2 if cluster else 1)


def pronunciations(words: list[str], espeak_voice: str,
                   substitutes: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> dict[str, list[SungSyllable]]:
    """Each distinct word (lower-cased) -> its sung syllables in that voice, from one espeak-ng call.
    A phoneme in `substitutes` (one the voice's database lacks) is replaced by its stand-ins,
    which share its length."""
    distinct = sorted({w.lower() for w in words})
    if not distinct:
        return {}
    spoken = [CITATION_FIXES.get(w, w) if espeak_voice.startswith("mb-us") else w for w in distinct]
    spoken = [w.capitalize() if _ROMAN_LIKE.fullmatch(w) else w for w in spoken]
    groups = _aligned_groups(spoken, espeak_voice)
    stand_ins = dict(substitutes)
    return {word: syllabify(_substituted(group, stand_ins)) for word, group in zip(distinct, groups)}


def _aligned_groups(spoken: list[str], espeak_voice: str) -> list[list[tuple[str, int]]]:
    """One phoneme group per word, from as few espeak-ng calls as it takes: all words at once;
    where espeak split or joined a word, each half again (a few calls per such word, not one
    per word)."""
    groups = _espeak_groups("\n".join(spoken), espeak_voice)
    if len(groups) == len(spoken):
        return groups
    if len(spoken) == 1:
        return [sum(groups, [])]
    half = len(spoken) // 2
    return _aligned_groups(spoken[:half], espeak_voice) + _aligned_groups(spoken[half:], espeak_voice)


def _substituted(phones: list[tuple[str, int]], stand_ins: dict[str, tuple[str, ...]]) -> list[tuple[str, int]]:
    out = []
    for phoneme, ms in phones:
        replacement = stand_ins.get(phoneme, (phoneme,))
        out += [(p, max(1, ms // len(replacement))) for p in replacement]
    return out


def _espeak_groups(text: str, espeak_voice: str) -> list[list[tuple[str, int]]]:
    groups: list[list[tuple[str, int]]] = [[]]
    for line in _espeak_pho(text, espeak_voice).splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "_":
            if groups[-1]:
                groups.append([])
            continue
        duration = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else DEFAULT_CONSONANT_MS
        groups[-1].append((fields[0], duration))
    return [g for g in groups if g]


@functools.lru_cache(maxsize=64)
def _espeak_pho(text: str, espeak_voice: str) -> str:
    """espeak-ng's phonemes for `text` (its .pho lines), kept for the next song of the same lyrics
    (a process making variations of one song asks again: 18 ms of a warm English song's 45 ms
    before any audio)."""
    if shutil.which("espeak-ng") is None:
        raise MissingDependency("espeak-ng", "bash scripts/setup-system.sh  (apt-get install espeak-ng)")
    result = subprocess.run(["espeak-ng", "-v", espeak_voice, "-q", "--pho", "-b", "1"], input=text.encode("utf-8"),
                            capture_output=True, check=True, timeout=60)
    return result.stdout.decode("utf-8", "replace")


def chinese_syllable(char: str) -> SungSyllable:
    onset, final = syllable_units(char)
    return SungSyllable(((onset, 80),) if onset else (), final, ())
