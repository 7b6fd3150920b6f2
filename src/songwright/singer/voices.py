"""The MBROLA voices Songwright sings with: data, and which of them are installed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MBROLA_DIR = Path("/usr/share/mbrola")


@dataclass(frozen=True)
class Voice:
    name: str
    language: str  # "en", "zh", ...
    gender: str  # "female" | "male"
    espeak: str | None  # espeak-ng voice that gives this voice's phonemes (None: we write them)
    sample_rate: int
    range_midi: tuple[int, int, int]  # low, high, centre of the singing range
    description: str
    # How late the vowel is heard after its written start, by the kind of onset before it
    # (measured by benchmarks/calibrate_onsets.py); the singer starts such syllables that early.
    onset_lag_s: tuple[tuple[str, float], ...] = ()
    # cn1 has diphones into and out of silence for every unit but not between every pair of
    # units: a zero-length rest between syllables (as its own examples do) joins any two.
    rest_between_syllables: bool = False

    def onset_lag(self, onset: tuple[tuple[str, int], ...]) -> float:
        kind = onset_kind(onset)
        return dict(self.onset_lag_s).get(kind, 0.0)

    @property
    def path(self) -> Path:
        return MBROLA_DIR / self.name / self.name

    @property
    def installed(self) -> bool:
        return self.path.is_file()


ASPIRATED = {"p_h", "t_h", "k_h"}
STOPS = {"p", "t", "k"}
FRICATIVES = {"s", "S", "f", "h", "T", "tS", "x", "sh", "ch", "c", "q"}


def onset_kind(onset: tuple[tuple[str, int], ...]) -> str:
    """vowel (no onset), aspirated, stop, fricative, or voiced (the vowel grows out of it)."""
    if not onset:
        return "vowel"
    last = onset[-1][0]
    if last in ASPIRATED:
        return "aspirated"
    if last in STOPS:
        return "stop"
    return "fricative" if last in FRICATIVES else "voiced"


FEMALE, MALE = (57, 76, 66), (45, 64, 54)
VOICES = {
    v.name: v
    for v in (
        Voice("us1", "en", "female", "mb-us1", 16000, (57, 76, 66), "American English, female",
              (("vowel", 0.015), ("aspirated", 0.09), ("stop", 0.045), ("fricative", 0.015))),
        Voice("us2", "en", "male", "mb-us2", 16000, (45, 64, 54), "American English, male",
              (("vowel", 0.025), ("aspirated", 0.1), ("stop", 0.065), ("fricative", 0.035))),
        Voice("us3", "en", "male", "mb-us3", 16000, (45, 64, 54), "American English, male",
              (("vowel", 0.135), ("aspirated", 0.112), ("stop", 0.112), ("fricative", 0.11))),
        Voice("en1", "en", "male", "mb-en1", 16000, (45, 64, 54), "British English, male",
              (("vowel", 0.035), ("aspirated", 0.015), ("stop", 0.015), ("fricative", 0.02))),
        Voice("cn1", "zh", "female", None, 22050, (57, 76, 66), "Mandarin Chinese, female (recorded from singers)",
              (("vowel", 0.035),), rest_between_syllables=True),
        Voice("es3", "es", "female", "mb-es3", 16000, FEMALE, "Spanish, female"),
        Voice("es1", "es", "male", "mb-es1", 16000, MALE, "Spanish, male"),
        Voice("fr4", "fr", "female", "mb-fr4", 22050, FEMALE, "French, female"),
        Voice("fr1", "fr", "male", "mb-fr1", 16000, MALE, "French, male"),
        Voice("de1", "de", "female", "mb-de1", 16000, FEMALE, "German, female"),
        Voice("de2", "de", "male", "mb-de2", 16000, MALE, "German, male"),
        Voice("it4", "it", "female", "mb-it4", 16000, FEMALE, "Italian, female"),
        Voice("it3", "it", "male", "mb-it3", 16000, MALE, "Italian, male"),
        Voice("br4", "pt", "female", "mb-br4", 16000, FEMALE, "Brazilian Portuguese, female"),
        Voice("br1", "pt", "male", "mb-br1", 16000, MALE, "Brazilian Portuguese, male"),
        Voice("nl3", "nl", "female", "mb-nl3", 16000, FEMALE, "Dutch, female"),
        Voice("nl2", "nl", "male", "mb-nl2", 16000, MALE, "Dutch, male"),
        Voice("jp2", "ja", "female", "mb-jp2", 22050, FEMALE, "Japanese, female"),
        Voice("jp1", "ja", "male", "mb-jp1", 22050, MALE, "Japanese, male"),
    )
}
DEFAULTS = {(v.language, v.gender): v.name for v in reversed(list(VOICES.values()))}
DEFAULTS[("zh", "male")] = "cn1"  # Debian has one Mandarin voice
LANGUAGES = sorted({v.language for v in VOICES.values()})


def installed_voices() -> list[Voice]:
    return [v for v in VOICES.values() if v.installed]


def voice_for(language: str, gender: str, requested: str | None = None) -> tuple[Voice, str | None]:
    """The voice to sing a line in `language`, and a warning when it is not that language's."""
    if requested is not None and VOICES[requested].language == language:
        return VOICES[requested], None
    name = DEFAULTS.get((language, gender))
    if name and VOICES[name].installed:
        return VOICES[name], None
    fallback = VOICES[requested] if requested else VOICES[DEFAULTS[("en", gender)]]
    return fallback, f"no {language} voice installed: sung by {fallback.name} from a transliteration"
