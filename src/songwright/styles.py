"""Style tags -> one resolved style profile. The styles themselves are data (data/styles.toml)."""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources

from .errors import InvalidRequest

TAG_SEPARATORS = re.compile(r"[,;|/\n]+")


@functools.cache
def load_styles() -> dict:
    with resources.files("songwright").joinpath("data/styles.toml").open("rb") as handle:
        return tomllib.load(handle)


def normalize_tag(tag: str) -> str:
    tag = tag.strip().lower().replace("&", " and ").replace("_", " ").replace("-", " ")
    tag = re.sub(r"[^\w\s]", "", tag)
    return re.sub(r"\s+", " ", tag).strip()


@functools.cache
def tag_index() -> dict[str, tuple[str, str]]:
    """Every accepted spelling (normalized, and with spaces removed) -> (category, name)."""
    index: dict[str, tuple[str, str]] = {}
    for category in ("genre", "mood", "instrument", "vocal"):
        for name, table in load_styles()[category].items():
            for spelling in [name, *table.get("aliases", [])]:
                key = normalize_tag(spelling)
                index.setdefault(key, (category, name))
                index.setdefault(key.replace(" ", ""), (category, name))
    return index


def split_tags(text: str) -> list[str]:
    return [t.strip() for t in TAG_SEPARATORS.split(text) if t.strip()]


def lookup_tag(tag: str) -> tuple[str, str] | None:
    key = normalize_tag(tag)
    index = tag_index()
    found = index.get(key) or index.get(key.replace(" ", ""))
    if found is None and key.endswith("s"):
        found = index.get(key[:-1])
    return found


@dataclass(frozen=True)
class Voicing:
    """One pitched part's sound: which idiom it plays, with which GM program, into which stem."""

    idiom: str
    program: int
    stem: str


@dataclass(frozen=True)
class StyleProfile:
    genres: tuple[str, ...]
    moods: tuple[str, ...]
    instruments: tuple[str, ...]
    unknown_tags: tuple[str, ...]
    groove_genre: str
    harmony_genre: str
    texture_genre: str
    tempo_range_bpm: tuple[float, float]
    time_signature: str
    mode: str  # "major" | "minor" | "either"
    harmony: str
    drum_patterns: dict = field(hash=False)
    kit: int = 0
    bass: Voicing = Voicing("root_eighths", 33, "bass")
    comp: Voicing = Voicing("strum", 25, "guitar")
    keys: Voicing = Voicing("block", 0, "keys")
    pad_program: int = 89
    pad_idiom: str = "pad"  # how the pad plays: held chords, or a comping idiom (funk's horn stabs)
    lead_program: int = 80
    swing: float = 0.0
    fills: bool = False  # the lead answers the singer in the rests between lines (call and response)
    energy: float = 0.0
    voice_gender: str | None = None
    instrumental: bool = False
    sound: dict = field(default_factory=dict, hash=False)  # the texture genre's [genre.NAME.sound] (render/sound.py)


def resolve_tags(text: str) -> StyleProfile:
    """Combine every tag of a request into one profile; unknown tags are reported, not fatal."""
    data = load_styles()
    found: dict[str, list[str]] = {"genre": [], "mood": [], "instrument": [], "vocal": []}
    unknown: list[str] = []
    for tag in split_tags(text):
        hit = lookup_tag(tag)
        if hit is None:
            unknown.append(tag)
        elif hit[1] not in found[hit[0]]:
            found[hit[0]].append(hit[1])
    if not any(found.values()):
        raise InvalidRequest(
            "tags", "must contain at least one known genre, mood or instrument (list them with `songwright styles`)", text
        )
    genres = found["genre"] or ["pop"]
    tables = data["genre"]

    def pick(role: str) -> str:
        # Highest priority wins; ties go to the tag written first.
        return max(genres, key=lambda g: (tables[g]["priority"][role], -genres.index(g)))

    groove, harmony, texture = pick("groove"), pick("harmony"), pick("texture")
    g, h, t = tables[groove], tables[harmony], tables[texture]
    tempo_scale, energy, mode = 1.0, 0.0, h["mode"]
    for mood in found["mood"]:
        table = data["mood"][mood]
        tempo_scale *= table.get("tempo_scale", 1.0)
        energy += table.get("energy", 0.0)
        mode = table.get("mode", mode)
    low, high = g["tempo_bpm"]
    settings = {
        "kit": t["kit"],
        "bass": Voicing(g["bass"], t["bass_program"], "bass"),
        "comp": Voicing(g["comp"]["idiom"], g["comp"]["program"], g["comp"]["stem"]),
        "keys": Voicing(t["keys"]["idiom"] if t["keys"]["idiom"] != "none" else g["keys"]["idiom"], t["keys"]["program"], "keys"),
        "pad_program": t["pad_program"],
        "pad_idiom": t.get("pad_idiom", "pad"),
        "lead_program": t["lead_program"],
        "sound": dict(t.get("sound", {})),
    }
    for name in found["instrument"]:
        _apply_instrument(settings, data["instrument"][name])
    vocal = found["vocal"]
    return StyleProfile(
        genres=tuple(genres),
        moods=tuple(found["mood"]),
        instruments=tuple(found["instrument"]),
        unknown_tags=tuple(unknown),
        groove_genre=groove,
        harmony_genre=harmony,
        texture_genre=texture,
        tempo_range_bpm=(low * tempo_scale, high * tempo_scale),
        time_signature=g["time_signature"],
        mode=mode,
        harmony=h["harmony"],
        drum_patterns=dict(g["drums"]),
        swing=g["swing"],
        fills=g.get("fills", False),
        energy=max(-1.0, min(1.0, energy)),
        voice_gender="female" if "female" in vocal else "male" if "male" in vocal else None,
        instrumental="instrumental" in vocal,
        **settings,
    )


def _apply_instrument(settings: dict, table: dict) -> None:
    role, program = table["role"], table["program"]
    if "kit" in table:
        settings["kit"] = table["kit"]
    if role == "bass":
        old = settings["bass"]
        settings["bass"] = Voicing(table.get("idiom", old.idiom), program, "bass")
    elif role in ("comp", "keys"):
        old = settings[role]
        idiom = table.get("idiom", old.idiom if old.idiom != "none" else "block")
        settings[role] = Voicing(idiom, program, table.get("stem", old.stem))
    elif role == "pad":  # strings, pads and choirs hold their chords
        settings["pad_program"] = program
        settings["pad_idiom"] = table.get("idiom", "pad")
    elif role == "lead":
        settings["lead_program"] = program


def describe_styles() -> str:
    """The text `songwright styles` prints."""
    data = load_styles()
    lines = []
    titles = {"genre": "Genres", "mood": "Moods", "instrument": "Instruments", "vocal": "Vocals"}
    for category, title in titles.items():
        lines.append(f"{title}:")
        for name, table in data[category].items():
            aliases = ", ".join(table.get("aliases", []))
            extra = ""
            if category == "genre":
                low, high = table["tempo_bpm"]
                extra = f" ({low}-{high} BPM, {table['time_signature']})"
            lines.append(f"  {name.replace('_', ' ')}{extra}" + (f": {aliases}" if aliases else ""))
        lines.append("")
    lines.append("Separate tags with commas; case, spaces, hyphens, ';' and '|' do not matter.")
    return "\n".join(lines)
