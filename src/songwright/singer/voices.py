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

    @property
    def path(self) -> Path:
        return MBROLA_DIR / self.name / self.name

    @property
    def installed(self) -> bool:
        return self.path.is_file()


VOICES = {
    v.name: v
    for v in (
        Voice("us1", "en", "female", "mb-us1", 16000, (57, 76, 66), "American English, female"),
        Voice("us2", "en", "male", "mb-us2", 16000, (45, 64, 54), "American English, male"),
        Voice("us3", "en", "male", "mb-us3", 16000, (45, 64, 54), "American English, male"),
        Voice("en1", "en", "male", "mb-en1", 16000, (45, 64, 54), "British English, male"),
        Voice("cn1", "zh", "female", None, 22050, (57, 76, 66), "Mandarin Chinese, female (recorded from singers)"),
    )
}
DEFAULTS = {("en", "female"): "us1", ("en", "male"): "us2", ("zh", "female"): "cn1", ("zh", "male"): "cn1"}


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
