"""The voices Songwright sings with (MBROLA's diphone voices, and Festival's slt HTS voice): data,
and which of them are installed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MBROLA_DIR = Path("/usr/share/mbrola")
FEMALE, MALE = (57, 76, 66), (45, 64, 54)  # singing ranges: lowest, highest, centre (MIDI)

ENGLISH = (("l/", ("l",)),)  # espeak's l before j ("lyublyu", a transliteration)
ITALIAN = (("ts2", ("ts",)), ("i/", ("i",)))


@dataclass(frozen=True)
class Voice:
    name: str
    language: str  # "en", "zh", "es", ...
    gender: str  # "female" | "male"
    espeak: str | None  # espeak-ng voice that gives this voice's phonemes (None: we write them: cn1, hn1)
    sample_rate: int
    range_midi: tuple[int, int, int]
    description: str
    # cn1 has diphones into and out of silence for every unit but not between every pair of
    # units: a zero-length rest between syllables (as its own examples do) joins any two.
    rest_between_syllables: bool = False
    # Phonemes espeak-ng writes for this voice that its database lacks (MBROLA would sing silence
    # in their place), each with what is sung instead.
    substitutes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    engine: str = "mbrola"  # what sings it: "mbrola" (synthesis.render_line) or "hts" (hts.render_hts_line)
    fallback: str | None = None  # an HTS voice's MBROLA twin: sings a line Festival cannot read as written
    formant_ratio: float = 1.0  # an HTS voice's formants moved by this factor (its vocoder's frequency warping)

    @property
    def path(self) -> Path:
        """An MBROLA voice's database (an HTS voice's file is hts.VOICE_FILE)."""
        return MBROLA_DIR / self.name / self.name

    @property
    def installed(self) -> bool:
        if self.engine == "hts":
            from .hts import available

            return available() and VOICES[self.fallback].installed
        return self.path.is_file()


VOICES = {
    v.name: v
    for v in (
        Voice("slt", "en", "female", "mb-us1", 32000, FEMALE, "American English, female (Festival's HTS voice)",
              substitutes=ENGLISH, engine="hts", fallback="us1"),
        Voice("sltm", "en", "male", "mb-us2", 32000, MALE,
              "American English, male (Festival's slt HTS voice sung low, its formants lowered 17 %)",
              substitutes=ENGLISH, engine="hts", fallback="us2", formant_ratio=0.833),
        Voice("us1", "en", "female", "mb-us1", 16000, FEMALE, "American English, female", substitutes=ENGLISH),
        Voice("us2", "en", "male", "mb-us2", 16000, MALE, "American English, male", substitutes=ENGLISH),
        Voice("us3", "en", "male", "mb-us3", 16000, MALE, "American English, male",
              substitutes=ENGLISH + (("O2", ("O",)),)),
        Voice("en1", "en", "male", "mb-en1", 16000, MALE, "British English, male", substitutes=ENGLISH),
        Voice("cn1", "zh", "female", None, 22050, FEMALE, "Mandarin Chinese, female (recorded from singers)",
              rest_between_syllables=True),
        Voice("es3", "es", "female", "mb-es3", 16000, FEMALE, "Spanish, female", substitutes=(
            ("R2", ("R",)), ("rr", ("R",)), ("L", ("j",)), ("J^", ("j",)), ("h", ("H",)), ("x", ("H",)),
            ("tS", ("t", "s")))),
        Voice("es1", "es", "male", "mb-es1", 16000, MALE, "Spanish, male", substitutes=(("o/", ("o",)), ("e/", ("e",)))),
        Voice("fr4", "fr", "female", "mb-fr4", 22050, FEMALE, "French, female"),
        Voice("fr1", "fr", "male", "mb-fr1", 16000, MALE, "French, male"),
        Voice("de1", "de", "female", "mb-de1", 16000, FEMALE, "German, female"),
        Voice("de2", "de", "male", "mb-de2", 16000, MALE, "German, male"),
        Voice("it4", "it", "female", "mb-it4", 16000, FEMALE, "Italian, female", substitutes=ITALIAN),
        Voice("it3", "it", "male", "mb-it3", 16000, MALE, "Italian, male", substitutes=ITALIAN),
        Voice("br4", "pt", "female", "mb-br4", 16000, FEMALE, "Brazilian Portuguese, female"),
        Voice("br1", "pt", "male", "mb-br1", 16000, MALE, "Brazilian Portuguese, male"),
        Voice("nl3", "nl", "female", "mb-nl3", 16000, FEMALE, "Dutch, female", substitutes=(("W", ("w",)),)),
        Voice("nl2", "nl", "male", "mb-nl2", 16000, MALE, "Dutch, male"),
        Voice("jp2", "ja", "female", "mb-jp2", 22050, FEMALE, "Japanese, female"),
        Voice("jp1", "ja", "male", "mb-jp1", 22050, MALE, "Japanese, male", substitutes=(("r", ("d",)),)),
        Voice("hn1", "ko", "male", None, 16000, MALE, "Korean, male (written from Hangul)"),
    )
}
# The voices listed for a language and gender, in order: the first installed one is its default.
DEFAULTS: dict[tuple[str, str], tuple[str, ...]] = {}
for _voice in VOICES.values():
    DEFAULTS[(_voice.language, _voice.gender)] = DEFAULTS.get((_voice.language, _voice.gender), ()) + (_voice.name,)
DEFAULTS[("zh", "male")] = ("cn1",)  # Debian has one Mandarin voice
DEFAULTS[("ko", "female")] = ("hn1",)  # and one Korean voice


def installed_voices() -> list[Voice]:
    return [v for v in VOICES.values() if v.installed]
