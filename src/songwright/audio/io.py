"""Audio files in and out. Every write goes to a temporary file beside the target, then is
renamed into place, so a failure never leaves a half-written file; `StagedOutputs` does the same
for a set of files, so either all of them appear or none. A symbolic link is written through:
the file it points to is replaced, the link stays."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import InvalidRequest, RenderError

AUDIO_FORMATS = ("mp3", "wav", "flac", "ogg")
WRITE_BLOCK_FRAMES = 1 << 16  # frames converted and written at a time...
VORBIS_BLOCK_FRAMES = 8192  # ...but libsndfile's Vorbis encoder crashes on long writes
LOSSLESS_FORMATS = ("wav", "flac")  # written as 16-bit PCM: the song exactly (a mastered song is on that grid)
PCM16_FULL_SCALE = 32767.0  # float 1.0 as a 16-bit sample, written and read alike (libsndfile reads by 32768)
GRID_BLOCK = 1 << 20  # values put on the 16-bit grid at a time


def pcm16(audio: np.ndarray) -> np.ndarray:
    """Float audio as 16-bit samples: clipped to -1..1, times PCM16_FULL_SCALE, rounded to even."""
    return np.rint(np.clip(audio, -1.0, 1.0) * np.float32(PCM16_FULL_SCALE)).astype(np.int16)


def on_pcm16_grid(audio: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """Float audio holding exactly what a 16-bit file of it holds: a mastered song is this, so a
    16-bit WAV or FLAC of it read back (`read_audio`) is the song, sample for sample. A new
    float32 array, the same shape (`in_place`: `audio` itself when it is C-ordered float32, as
    the master's own is: a 10-minute master's 0.46 s -> 0.02 s, no fresh 212 MB to fault in),
    made GRID_BLOCK values at a time: `pcm16(audio) / full scale` without its three temporary
    copies of a long song."""
    source = np.ascontiguousarray(audio, dtype=np.float32)
    out = source if in_place and source is audio else np.empty_like(source)
    flat_in, flat_out = source.reshape(-1), out.reshape(-1)
    scale = np.float32(PCM16_FULL_SCALE)
    for start in range(0, flat_in.size, GRID_BLOCK):
        block = flat_out[start:start + GRID_BLOCK]
        np.clip(flat_in[start:start + GRID_BLOCK], -1.0, 1.0, out=block)
        block *= scale
        np.rint(block, out=block)  # the int16 value, held exactly in float32
        block /= scale
    return out


def audio_format(path: str | os.PathLike, field: str = "output") -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in AUDIO_FORMATS:
        raise InvalidRequest(field, "must end in one of " + ", ".join("." + f for f in AUDIO_FORMATS), str(path))
    return suffix


def check_writable(path: str | os.PathLike, field: str, is_dir: bool = False) -> Path:
    """Fail before any work if `path` cannot be written (its folder missing or read-only, or
    it is, or links to, a device, pipe or socket). Links are followed: the file they point to
    is what will be written."""
    shown = str(path)
    path = Path(path)
    if path.exists() and not (path.is_file() or path.is_dir()):
        kind = "is a link to " if path.is_symlink() else "is "
        raise InvalidRequest(field, "must be a regular file path (it " + kind + _file_kind(path) + ")", shown)
    path = resolved(path)
    folder = path if is_dir and path.exists() else path.parent
    if path.exists() and (path.is_dir() != is_dir):
        raise InvalidRequest(field, "must be a " + ("folder" if is_dir else "file path, not a folder"), shown)
    if not folder.is_dir():
        raise InvalidRequest(field, "must be in an existing folder", shown)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidRequest(field, "must be in a folder you can write to", shown)
    return path


def _file_kind(path: Path) -> str:
    mode = path.stat().st_mode
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file"


def resolved(path: str | os.PathLike) -> Path:
    """The path with symbolic links followed (the file a link points to, existing or not)."""
    return Path(os.path.realpath(path))


def _temporary_beside(path: Path) -> Path:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix, dir=path.parent or ".")
    os.close(handle)
    return Path(temporary)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it over the target on success."""
    path = resolved(path)
    temporary = _temporary_beside(path)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; a saved song is as any new file
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class StagedOutputs:
    """A set of output files that appear together or not at all.

    `stage(target)` gives a temporary file beside each target; `commit()` renames them all into
    place (with Ctrl-C and SIGTERM held back for those few microseconds); `discard()` removes the temporaries
    and any folder `folder()` made. Used as a context manager, anything that escapes (an error,
    KeyboardInterrupt) before `commit()` discards."""

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []  # (temporary, target)
        self._made: list[Path] = []
        self.committed: list[Path] = []

    def __enter__(self) -> "StagedOutputs":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if not self.committed:
            self.discard()

    def folder(self, path: str | os.PathLike) -> Path:
        path = resolved(path)
        if not path.is_dir():
            self._made.append(path)  # noted first: a Ctrl-C between the two still has it removed
            try:
                path.mkdir()
            except BaseException:
                if not path.is_dir():
                    self._made.remove(path)
                raise
        return path

    def stage(self, target: str | os.PathLike) -> Path:
        target = resolved(target)
        temporary = _temporary_beside(target)
        self._staged.append((temporary, target))
        return temporary

    def commit(self) -> list[Path]:
        in_main = threading.current_thread() is threading.main_thread()
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM}) if in_main else None
        try:
            mode = 0o666 & ~_umask()
            for temporary, target in self._staged:
                try:
                    os.chmod(temporary, mode)
                    os.replace(temporary, target)
                except OSError as exc:
                    missing = ", ".join(str(t) for _, t in self._staged if t not in self.committed)
                    self.discard()
                    raise RenderError(f"could not move {target} into place ({exc.strerror}); not written: "
                                      f"{missing}") from exc
                self.committed.append(target)
        finally:
            if held is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
        return self.committed

    def discard(self) -> None:
        for temporary, _ in self._staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        for folder in reversed(self._made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._staged, self._made = [], []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str, *, staged: StagedOutputs | None = None) -> None:
    _write(path, lambda temporary: temporary.write_text(text, encoding="utf-8"), staged)


def write_bytes(path: str | os.PathLike, data: bytes, *, staged: StagedOutputs | None = None) -> None:
    _write(path, lambda temporary: temporary.write_bytes(data), staged)


SFC_SET_ADD_PEAK_CHUNK = 0x1050  # libsndfile's sf_command number (sndfile.h); soundfile does not wrap it


def write_audio(path: str | os.PathLike, audio: np.ndarray, sample_rate: int, subtype: str | None = None, *,
                staged: StagedOutputs | None = None) -> None:
    """Write (samples, channels) float audio; the format follows the extension. The audio is
    converted and written a block at a time, so a long song (or a stem mapped from disk) is never
    copied whole."""
    kind = audio_format(path)
    if kind == "mp3":
        from .mp3 import encode_mp3

        write_bytes(path, encode_mp3(audio, sample_rate), staged=staged)
        return

    def write(temporary: Path) -> None:
        with sf.SoundFile(temporary, "w", sample_rate, audio.shape[1], format=kind.upper(),
                          subtype="VORBIS" if kind == "ogg" else subtype or "PCM_16") as out:
            if subtype == "FLOAT":  # libsndfile's PEAK chunk holds the time of writing: the same audio, other bytes
                sf._snd.sf_command(out._file, SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)
            frames = VORBIS_BLOCK_FRAMES if out.subtype == "VORBIS" else WRITE_BLOCK_FRAMES
            # Clipped unless written as floats; pcm16 clips its own blocks.
            for block in _blocks(audio, frames=frames, clip=out.subtype not in ("FLOAT", "PCM_16")):
                out.write(pcm16(block) if out.subtype == "PCM_16" else block)

    _write(path, write, staged)


def _blocks(audio: np.ndarray, *, frames: int, clip: bool) -> Iterator[np.ndarray]:
    """(frames, channels) float32 blocks of the audio, C-ordered, clipped to -1..1 if asked."""
    for start in range(0, len(audio), frames):
        block = audio[start:start + frames]
        yield np.ascontiguousarray(np.clip(block, -1.0, 1.0) if clip else block, dtype=np.float32)


MIN_FREE_BYTES = 1 << 20  # a write that fails with less than this free failed for lack of space


def _write(path: str | os.PathLike, write, staged: StagedOutputs | None) -> None:
    """Run `write(temporary)` for `path`: alone (atomic), or as part of `staged`. Errors become a
    RenderError that names the file and says plainly when the disk is full (libsndfile says only
    "System error.")."""
    try:
        if staged is not None:
            write(staged.stage(path))
            return
        with atomic_path(path) as temporary:
            try:
                write(temporary)
            except (OSError, RuntimeError, sf.LibsndfileError) as exc:
                raise RenderError(_write_failure(path, exc)) from exc
    except (OSError, RuntimeError, sf.LibsndfileError) as exc:
        raise RenderError(_write_failure(path, exc)) from exc


def _write_failure(path: str | os.PathLike, exc: BaseException) -> str:
    """Why writing `path` failed, in words (checked while the partial file still fills the disk)."""
    if isinstance(exc, RenderError):
        return str(exc)
    no_space = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if not no_space and not isinstance(exc, OSError):
        with contextlib.suppress(OSError):
            usage = os.statvfs(resolved(path).parent)
            no_space = usage.f_bavail * usage.f_frsize < MIN_FREE_BYTES
    if no_space:
        return f"could not write {path}: no space left on the device"
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"could not write {path}: {detail}"


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """(samples, channels) float32 and the sample rate, for WAV, FLAC, OGG and MP3."""
    try:
        with sf.SoundFile(str(path)) as source:
            if source.subtype == "PCM_16":  # at the scale it was written at: a 16-bit song reads back exactly
                return (source.read(dtype="int16", always_2d=True) / np.float32(PCM16_FULL_SCALE)).astype(np.float32), \
                    source.samplerate
            return source.read(dtype="float32", always_2d=True), source.samplerate
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise InvalidRequest("file", "must be a readable audio file (WAV, FLAC, OGG or MP3)", str(path)) from exc
