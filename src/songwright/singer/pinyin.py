"""Mandarin syllables -> MBROLA cn1 units, written from pinyin (pypinyin).

cn1 was recorded from singers with a unit per pinyin initial and a unit per final; a compound
final's first vowel moves onto the initial (hua = hu + a, biao = bi + ao), so every sung
syllable is one short onset unit and one sustained vowel unit. Tones are not sung: the melody
carries the pitch.
"""

from __future__ import annotations

import functools
import unicodedata

INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z",
            "c", "s", "y", "w")
SIMPLE_FINALS = {"a", "ai", "an", "ang", "ao", "e", "ei", "en", "eng", "er", "o", "ou", "i", "ie", "u", "v",
                 "ong", "in", "ing", "ui", "iu", "ue", "un"}


@functools.cache
def _pinyin(char: str) -> str:
    """The character's pinyin without tones (ü written v); for one pypinyin has no reading of
    (rare Extension A-H characters), anyascii's, which comes from the Unihan Mandarin readings."""
    reading = _first_reading(char)
    if not (reading.isascii() and reading.isalpha()):
        from anyascii import anyascii

        reading = "".join(c for c in anyascii(char).lower() if "a" <= c <= "z") or "a"
    return reading


def _first_reading(char: str) -> str:
    """pypinyin's first reading of one character, tones taken off: what its `lazy_pinyin(char,
    Style.NORMAL)` gives (tests/test_singer.py checks every character it knows), read from its
    table of single characters alone. A phrase table is no use for one character, and importing
    pypinyin loads it (0.13 s and 40 MB, the most of a Chinese song's set-up)."""
    readings = _readings()
    if readings is None:  # a pypinyin laid out otherwise: ask it
        from pypinyin import Style, lazy_pinyin

        return lazy_pinyin(char, style=Style.NORMAL, v_to_u=False, neutral_tone_with_five=False)[0]
    found = readings.get(ord(char))
    if found is None:
        return char
    marked = unicodedata.normalize("NFD", found.split(",")[0]).replace("u\u0308", "v")  # ü, ǘ, ǚ...: v
    return "".join(c for c in marked if not unicodedata.combining(c))


@functools.cache
def _readings() -> dict[int, str] | None:
    """pypinyin's table of single characters (code point -> readings with tone marks, comma-separated),
    loaded from its module file without the package, or None where it is not there."""
    import importlib.util

    try:
        package = importlib.util.find_spec("pypinyin")
        location = next(iter(package.submodule_search_locations or []))
        spec = importlib.util.spec_from_file_location("songwright._pypinyin_table", f"{location}/pinyin_dict.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.pinyin_dict
    except (AttributeError, ImportError, OSError, StopIteration, TypeError):
        return None


def syllable_units(char: str) -> tuple[str | None, str]:
    """(onset unit or None, sustained final unit) for one Han character."""
    return split_pinyin(_pinyin(char))


# Rare syllables whose units cn1 lacks, sung with the nearest ones it has.
NEAREST = {"yue": ("y", "ue"), "len": ("l", "eng"), "lo": ("lu", "o"), "kei": ("k", "e"), "tei": ("t", "e"),
           "nia": ("n", "a"), "rua": ("ru", "an"), "yo": ("y", "ou"), "fiao": ("f", "u"), "hm": ("h", "en"),
           "hng": ("h", "eng"), "m": ("m", "u"), "n": ("n", "en"), "ng": ("n", "eng")}


def split_pinyin(syllable: str) -> tuple[str | None, str]:
    syllable = syllable.lower().replace("ü", "v")
    if syllable in NEAREST:
        return NEAREST[syllable]
    initial = next((i for i in INITIALS if syllable.startswith(i) and len(syllable) > len(i)), "")
    final = syllable[len(initial):]
    if initial in ("j", "q", "x", "y") and final.startswith("u"):
        final = "v" + final[1:]  # ju, que, xuan, yun: the u is ü
    if initial in ("zh", "ch", "sh", "r") and final == "i":
        return initial, "ll"
    if initial in ("z", "c", "s") and final == "i":
        return initial, "ii"
    if initial == "y":
        initial, final = _y_syllable(final)
    elif initial == "w":
        initial, final = _w_syllable(final)
    if final == "ve":
        final = "ue"
    if final == "vn":
        final = "un"
    if final not in SIMPLE_FINALS and len(final) > 1 and final[0] in "iuv":
        glide, rest = final[0], final[1:]  # a compound final: its first vowel joins the initial
        initial = (initial or "") + {"v": "u"}.get(glide, glide)
        final = rest
    return initial or None, final


def _y_syllable(final: str) -> tuple[str, str]:
    if final in ("i", "in", "ing"):
        return "", final
    if final == "vn":
        return "y", "un"
    if final.startswith("v"):
        return ("yu", final[1:]) if len(final) > 1 else ("", "v")
    return "y", final


def _w_syllable(final: str) -> tuple[str, str]:
    if final == "u":
        return "", "u"
    return "w", final
