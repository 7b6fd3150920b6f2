"""Song: what generate() returns. The mastered mix, the stems, the plan and score, and writers.

The composer fills everything. The acestep engine makes audio only: no plan, score or stems.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .audio.io import LOSSLESS_FORMATS, StagedOutputs, audio_format, pcm16, write_audio, write_bytes, write_text
from .audio.stems import StemFiles, mixed
from .errors import InvalidRequest, RenderError
from .lyrics import Word, join_words
from .midi import midi_bytes
from .plan import Plan
from .request import SongRequest
from .score import Score

if TYPE_CHECKING:
    from .render.mix import MixLevels

SONG_FORMAT = "songwright-song"
SONG_FORMAT_VERSION = 1
MAX_SONG_FILE_BYTES = 2_000_000


@dataclass(frozen=True)
class WordTiming:
    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class LineTiming:
    text: str
    start_s: float
    end_s: float
    words: tuple[WordTiming, ...]


@dataclass
class Song:
    audio: np.ndarray  # (samples, 2) float32, mastered
    sample_rate: int
    stems: Mapping[str, np.ndarray]  # processed stems (audio.stems.StemFiles: in memory, or on disk when long); they add up to `premaster`
    plan: Plan | None
    score: Score | None
    loudness_lufs: float
    true_peak_dbtp: float
    request: SongRequest
    seed: int
    engine: str = "composer"
    warnings: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)  # engine settings worth reporting (steps, sampler...)
    edits: tuple[dict, ...] = ()  # the edits applied to the song its request makes, in order
    levels: MixLevels | None = None  # the gains its mix and master set (composer): an edit renders at them

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate

    @property
    def premaster(self) -> np.ndarray:
        from .render.pipeline import mix_order

        return mixed(self.stems, order=mix_order(self.score))

    # ------------------------------------------------------------ lyrics

    def lyric_timings(self) -> list[LineTiming]:
        """Each sung phrase with its words, timed as the vocal line sings them."""
        part = self.score.part("vocals") if self.score is not None else None
        if part is None:
            return []
        lines: list[list] = []
        for note in part.notes:
            if note.phrase_start or not lines:
                lines.append([])
            if note.word_start or not lines[-1]:
                lines[-1].append([note])
            else:
                lines[-1][-1].append(note)
        seconds = self.score.seconds
        timings = []
        for line in lines:
            words = tuple(WordTiming("".join(n.syllable for n in notes), seconds(notes[0].start_beats), seconds(notes[-1].end_beats))
                          for notes in line)
            text = join_words([Word(w.text, (w.text,), _script(w.text)) for w in words])
            timings.append(LineTiming(text, words[0].start_s, words[-1].end_s, words))
        return timings

    def voices(self) -> dict[str, int]:
        """The voices that sang, each with its number of sung syllables, the most first."""
        part = self.score.part("vocals") if self.score is not None else None
        counts = Counter(note.voice for note in part.notes if note.voice) if part is not None else Counter()
        return dict(counts.most_common())

    def lrc(self) -> str:
        """Enhanced LRC: a [mm:ss.xx] stamp per line and a <mm:ss.xx> stamp per word."""
        out = [f"[ti:{self.request.tags}]", "[by:songwright]", f"[length:{_stamp(self.duration_s)}]"]
        for line in self.lyric_timings():
            words = "".join(f"<{_stamp(w.start_s)}>{w.text}" + ("" if _script(w.text) in ("zh", "ja") else " ") for w in line.words)
            out.append(f"[{_stamp(line.start_s)}]{words.rstrip()}")
        return "\n".join(out) + "\n"

    # ------------------------------------------------------------ the song file

    def resolved_request(self) -> SongRequest:
        """The request with every choice the seed made pinned (seed, tempo, key, meter):
        it gives this song again, byte for byte."""
        if self.edits:  # the request is the source's, pinned before the edits changed the plan
            return self.request
        return pinned_request(self.request, seed=self.seed, plan=self.plan)

    def edit(self, verb: str, **options) -> "Song":
        """This song with one edit more (`songwright.edits`): `song.edit("retake", section="chorus")`,
        `song.edit("extend", duration_s=120)`. The song itself is not changed."""
        from . import edits

        if verb not in edits.EDITS:
            raise InvalidRequest("verb", "must be one of " + ", ".join(edits.EDITS), verb)
        return edits.edit(self, edits.EDITS[verb](**options))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Song":
        """The song a song file (the `--json` output) describes, made again (its edits applied):
        the same bytes."""
        from .edits import make

        return make(*read_song_file(path))

    # ------------------------------------------------------------ report

    def to_dict(self, *, mix: dict | None = None) -> dict:
        """The song file's JSON. `mix`: the mix file the song file sits beside (`mix_entry`)."""
        report = {"format": SONG_FORMAT, "format_version": SONG_FORMAT_VERSION, "engine": self.engine,
                  "request": self.request.to_dict() | {"seed": self.seed},
                  "resolved_request": self.resolved_request().to_dict(), "edits": list(self.edits)}
        if self.plan is None:
            report |= {"resolved": {"duration_s": self.duration_s, "seed": self.seed, "sample_rate": self.sample_rate},
                       "settings": self.settings}
        else:
            report |= self._plan_report()
        return report | {
            "stems": list(self.stems),
            "lyrics": [{"text": line.text, "start_s": round(line.start_s, 3), "end_s": round(line.end_s, 3),
                        "words": [{"text": w.text, "start_s": round(w.start_s, 3), "end_s": round(w.end_s, 3)} for w in line.words]}
                       for line in self.lyric_timings()],
            "loudness_lufs": round(self.loudness_lufs, 2),
            "true_peak_dbtp": round(self.true_peak_dbtp, 2),
            "warnings": self.warnings,
            "versions": self.versions,
        } | ({"levels": self.levels.to_dict()} if self.levels is not None else {}) | ({"mix": mix} if mix else {})

    def _plan_report(self) -> dict:
        style = self.plan.style
        return {
            "resolved": {"tempo_bpm": self.plan.tempo_bpm, "key": self.plan.key.name, "time_signature": self.plan.time_signature,
                         "duration_s": self.duration_s, "seed": self.seed, "sample_rate": self.sample_rate,
                         "vocal": self.plan.vocal, "voice": self.plan.lead_voice, "voices": self.voices()},
            "style": {"genres": list(style.genres), "moods": list(style.moods), "instruments": list(style.instruments),
                      "groove": style.groove_genre, "harmony": style.harmony_genre, "texture": style.texture_genre},
            "unknown_tags": list(style.unknown_tags),
            "plan": self.plan.to_dict(),
        }

    # ------------------------------------------------------------ files

    def save_all(self, output: str | os.PathLike, *, stems_dir: str | os.PathLike | None = None,
                 midi_path: str | os.PathLike | None = None, lrc_path: str | os.PathLike | None = None,
                 json_path: str | os.PathLike | None = None, staged: StagedOutputs | None = None,
                 chart_path: str | os.PathLike | None = None,
                 melody_midi_path: str | os.PathLike | None = None) -> list[Path]:
        """The mix and whichever of stems, MIDI, LRC, JSON, chord chart and the melody's tune as MIDI
        are asked for, as one set: all the
        files appear, or (after an error or Ctrl-C) none of them, and a stems folder this call
        made is removed again. Returns the paths written; `staged.committed` tells a caller
        interrupted at the very end whether they were."""
        with staged or StagedOutputs() as staged:
            pool = ThreadPoolExecutor(max_workers=1)  # the mix (an MP3 is encoded) while the rest is written
            try:
                mix = pool.submit(self.save, output, staged=staged)
                if stems_dir is not None:
                    self.save_stems(stems_dir, staged=staged)
                if midi_path is not None:
                    self.save_midi(midi_path, staged=staged)
                if lrc_path is not None:
                    self.save_lrc(lrc_path, staged=staged)
                if json_path is not None:
                    self.save_json(json_path, staged=staged, mix=self.mix_entry(output, json_path, stems_dir=stems_dir))
                if chart_path is not None:
                    self.save_chart(chart_path, staged=staged)
                if melody_midi_path is not None:
                    self.save_melody_midi(melody_midi_path, staged=staged)
                mix.result()
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
            return staged.commit()

    def save(self, path: str | os.PathLike, *, staged: StagedOutputs | None = None) -> None:
        write_audio(path, self.audio, self.sample_rate, staged=staged)

    def save_stems(self, folder: str | os.PathLike, *, staged: StagedOutputs | None = None) -> list[Path]:
        """One 32-bit float WAV per stem, so they add up exactly to the pre-master mix."""
        folder = staged.folder(folder) if staged is not None else Path(folder)
        folder.mkdir(parents=False, exist_ok=True)
        paths = [folder / f"{name}.wav" for name in self.stems]
        pool = ThreadPoolExecutor(max_workers=2)  # libsndfile writes release the GIL
        try:
            list(pool.map(lambda item: write_audio(item[0], item[1], self.sample_rate, subtype="FLOAT", staged=staged),
                          zip(paths, self.stems.values())))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # after Ctrl-C, no stem is started
        return paths

    def save_midi(self, path: str | os.PathLike, *, staged: StagedOutputs | None = None) -> None:
        if self.score is None:
            raise RenderError(f"the {self.engine} engine makes no MIDI; use the composer engine for MIDI")
        write_bytes(path, midi_bytes(self.score), staged=staged)

    def save_melody_midi(self, path: str | os.PathLike, *, staged: StagedOutputs | None = None) -> None:
        """The request's melody as the song read it, one MIDI track: a hummed or sung recording's
        notes as transcribed and quantised (`songwright.hum`), a MIDI file's chosen track."""
        from .tunes import decode_melody, tune_midi_bytes, tune_of

        if self.request.melody is None:
            raise InvalidRequest("melody_midi_out", "needs a melody (a MIDI file or a recording of the tune)", None)
        tune = tune_of(decode_melody(self.request.melody), track=self.request.melody_track,
                       tempo_bpm=self.request.tempo_bpm)
        write_bytes(path, tune_midi_bytes(tune), staged=staged)

    def save_chart(self, path: str | os.PathLike, *, staged: StagedOutputs | None = None) -> None:
        """The song's chords as a chord chart (the `--chords` syntax): the lead sheet's harmony."""
        if self.plan is None:
            raise RenderError(f"the {self.engine} engine makes no chord chart; use the composer engine for a chart")
        write_text(path, self.plan.chart_text(), staged=staged)

    def save_lrc(self, path: str | os.PathLike, *, staged: StagedOutputs | None = None) -> None:
        write_text(path, self.lrc(), staged=staged)

    def save_json(self, path: str | os.PathLike, *, staged: StagedOutputs | None = None, mix: dict | None = None) -> None:
        write_text(path, json.dumps(self.to_dict(mix=mix), ensure_ascii=False, indent=2) + "\n", staged=staged)

    def mix_entry(self, output: str | os.PathLike, json_path: str | os.PathLike, *,
                   stems_dir: str | os.PathLike | None = None) -> dict | None:
        """Where a song file finds its mix (and stems) again, when the mix is written losslessly
        (16-bit WAV or FLAC): paths from the song file's folder and hashes of their samples, so an
        edit of the song file can splice into them instead of rendering the song again
        (`read_song_mix`)."""
        if audio_format(output) not in LOSSLESS_FORMATS:
            return None
        try:
            entry = {"file": _relative(output, json_path), "pcm16_sha256": _samples_sha256(self.audio)}
            if stems_dir is not None:
                entry["stems"] = {"folder": _relative(stems_dir, json_path),
                                  "float32_sha256": {name: _samples_sha256(audio, float32=True) for name, audio in self.stems.items()}}
        except ValueError:  # on another drive
            return None
        return entry


@dataclass(frozen=True)
class SongMix:
    """A song file's mix read back from the 16-bit WAV or FLAC it names, its samples checked
    against the song file's hash, and the song file itself: what an edit of the song file splices
    into (or, for acestep, samples from) instead of making the song again."""
    audio: np.ndarray  # (samples, 2) float32, on the 16-bit grid: the song's own samples
    report: dict  # the song file (`Song.to_dict`)
    levels: MixLevels | None  # the gains the composer's mix and master set (None: an acestep song)
    stems: StemFiles | None  # read back too, when asked for and the song has some


def read_song_mix(path: str | os.PathLike, *, stems: bool = False) -> SongMix | None:
    """The mix (and, `stems`, the stems) of the song file at `path`, or None where they cannot be
    had exactly: the song file names no lossless mix (or no stems), a file is gone or changed (its
    samples' hash differs), or a composer song was made by other versions of Songwright or its
    dependencies than these (a passage rendered now might not match it)."""
    from .audio.io import read_audio
    from .render.mix import MixLevels
    from .stages import SAMPLE_RATE, versions

    try:
        with open(path, "rb") as handle:
            report = json.loads(handle.read(MAX_SONG_FILE_BYTES + 1).decode("utf-8"))
        entry, names = report["mix"], tuple(report["stems"])
        if report["engine"] == "composer" and (report["versions"] != versions() or "levels" not in report):
            return None
        levels = MixLevels.from_dict(report["levels"]) if "levels" in report else None
        folder = Path(path).parent
        audio, rate = read_audio(folder / entry["file"])
        if rate != SAMPLE_RATE or audio.shape[1] != 2 or _samples_sha256(audio) != entry["pcm16_sha256"]:
            return None
        kept = None
        if stems and names:
            kept = _read_stems(folder / entry["stems"]["folder"], names, entry["stems"]["float32_sha256"], len(audio))
            if kept is None:
                return None
        return SongMix(audio, report, levels, kept)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, InvalidRequest):  # read_audio names libsndfile's errors
        return None


def _read_stems(folder: Path, names: tuple[str, ...], hashes: dict, samples: int) -> StemFiles | None:
    """Float WAV stems (`save_stems`) read back and kept as a render keeps them; None if one is
    missing or is not the stem it was."""
    from .audio.io import read_audio

    stems = StemFiles(names=names, samples=samples)
    for name in names:
        audio, _ = read_audio(folder / f"{name}.wav")
        if audio.shape != (samples, 2) or _samples_sha256(audio, float32=True) != hashes[name]:
            return None
        stems.add(name, audio.T)
    return stems


def _samples_sha256(audio: np.ndarray, *, float32: bool = False) -> str:
    """A hash of the samples as a file keeps them: 16-bit (the mix) or 32-bit float (a stem)."""
    data = np.ascontiguousarray(audio, dtype="<f4") if float32 else pcm16(audio).astype("<i2")
    return hashlib.sha256(data.tobytes()).hexdigest()


def _relative(path: str | os.PathLike, json_path: str | os.PathLike) -> str:
    """`path` from the song file's folder, with forward slashes."""
    return Path(os.path.relpath(os.path.abspath(path), os.path.dirname(os.path.abspath(json_path)))).as_posix()


def pinned_request(request: SongRequest, *, seed: int, plan: Plan | None) -> SongRequest:
    """`request` with the seed and every field the seed chose (tempo, key, meter) fixed. The
    voices are not the seed's: casting follows from the lyrics, tags and `voice` alone."""
    pinned = {"seed": seed}
    if plan is not None:
        pinned |= {"tempo_bpm": plan.tempo_bpm, "key": plan.key.name, "time_signature": plan.time_signature}
    return request.replace(**pinned)


def read_song_file(path: str | os.PathLike) -> tuple[SongRequest, tuple[dict, ...]]:
    """The pinned request of a song file written by `Song.save_json` (`--json`), and its edits."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SONG_FILE_BYTES + 1)
    except OSError as exc:
        raise InvalidRequest("from", "must be a readable song file (the --json output of songwright generate)", str(path)) from exc
    if len(data) > MAX_SONG_FILE_BYTES:
        raise InvalidRequest("from", f"must be a song file of at most {MAX_SONG_FILE_BYTES} bytes", str(path))
    try:
        report = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest("from", "must be a song file in JSON (the --json output of songwright generate)", str(path)) from exc
    return song_file_request(report, field="from", where=str(path))


def song_file_request(report: object, *, field: str, where: str) -> tuple[SongRequest, tuple[dict, ...]]:
    """The pinned request and the edits of a song file's JSON (already parsed)."""
    if not isinstance(report, dict) or report.get("format") != SONG_FORMAT or not isinstance(report.get("resolved_request"), dict):
        raise InvalidRequest(field, f"must be a song file (JSON with \"format\": \"{SONG_FORMAT}\")", where)
    version = report.get("format_version")
    if not isinstance(version, int) or version > SONG_FORMAT_VERSION:
        raise InvalidRequest(field, f"was written by a newer Songwright (song file version {version!r}; "
                             f"this one reads up to {SONG_FORMAT_VERSION})", where)
    edits = report.get("edits", [])
    if not isinstance(edits, list) or not all(isinstance(e, dict) for e in edits):
        raise InvalidRequest(field, "must be a song file whose \"edits\" is a list of edits", where)
    return SongRequest.from_dict(report["resolved_request"]).validate(), tuple(edits)


def _stamp(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes):02d}:{rest:05.2f}"


def _script(text: str) -> str:
    """Enough of a word's script to join words as they are written (no spaces in CJK)."""
    if any("\u3400" <= c <= "\u9fff" for c in text):
        return "zh"
    return "ja" if any("\u3040" <= c <= "\u30ff" for c in text) else "en"


def package_versions(*packages: str) -> dict[str, str]:
    """Each package's installed version ("unknown" where it is not installed), as a song records
    them: read once a process (importlib.metadata scans the installed packages: 7 ms to import,
    5-9 ms a call)."""
    return dict(_installed_versions(packages))


@functools.cache
def _installed_versions(packages: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    from importlib import metadata

    found = []
    for package in packages:
        try:
            found.append((package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            found.append((package, "unknown"))
    return tuple(found)
