"""A job's result files under `<data-dir>/results/<job id>/`, named by the server, never by a client.

A song is written into `.<id>.partial/` and the folder renamed into place, so a crash never leaves
a half-written file where it would be served; partial folders are removed at start-up.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from ..audio.io import AUDIO_FORMATS

JOB_ID = re.compile(r"^[0-9a-f]{16}$")
STEM_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MIX = "mix"  # mix.wav and mix.mp3 are written with the song; flac and ogg on first request
STORED_FORMATS = ("wav", "mp3")


class Results:
    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def folder(self, job_id: str) -> Path:
        if not JOB_ID.match(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.root / job_id

    def write(self, job_id: str, song) -> None:
        """Every file of the song, then one rename that makes them visible together."""
        partial = self.root / f".{job_id}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        for kind in STORED_FORMATS:
            song.save(partial / f"{MIX}.{kind}")
        if song.stems:
            song.save_stems(partial / "stems")
        if song.score is not None:
            song.save_midi(partial / "song.mid")
            song.save_lrc(partial / "song.lrc")
        song.save_json(partial / "song.json", mix=song.mix_entry(partial / f"{MIX}.wav", partial / "song.json",
                                                                  stems_dir=partial / "stems" if song.stems else None))
        final = self.folder(job_id)
        shutil.rmtree(final, ignore_errors=True)  # a re-run after a restart replaces an old one
        partial.rename(final)

    def discard_partial(self, job_id: str) -> None:
        shutil.rmtree(self.root / f".{job_id}.partial", ignore_errors=True)

    def remove(self, job_id: str) -> None:
        self.discard_partial(job_id)
        shutil.rmtree(self.folder(job_id), ignore_errors=True)

    def clean_partials(self) -> list[str]:
        removed = []
        for path in self.root.glob(".*.partial"):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        return removed

    def exists(self, job_id: str) -> bool:
        return (self.folder(job_id) / "song.json").is_file()

    def report(self, job_id: str) -> dict:
        return json.loads((self.folder(job_id) / "song.json").read_text(encoding="utf-8"))

    def audio(self, job_id: str, kind: str) -> Path:
        """The mix in a format; FLAC and OGG are encoded from the WAV the first time they are asked for."""
        assert kind in AUDIO_FORMATS, kind
        path = self.folder(job_id) / f"{MIX}.{kind}"
        if not path.is_file():
            from ..audio.io import read_audio, write_audio

            audio, sample_rate = read_audio(self.folder(job_id) / f"{MIX}.wav")
            write_audio(path, audio, sample_rate)
        return path

    def stems(self, job_id: str) -> list[str]:
        folder = self.folder(job_id) / "stems"
        return sorted(p.stem for p in folder.glob("*.wav")) if folder.is_dir() else []

    def stem(self, job_id: str, name: str) -> Path | None:
        if not STEM_NAME.match(name) or name not in self.stems(job_id):
            return None
        return self.folder(job_id) / "stems" / f"{name}.wav"

    def file(self, job_id: str, name: str) -> Path | None:
        path = self.folder(job_id) / name
        return path if path.is_file() else None
