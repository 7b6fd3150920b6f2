"""Audio files in and out. Every write goes to a temporary file beside the target, then is
renamed into place, so a failure never leaves a half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import InvalidRequest, RenderError

AUDIO_FORMATS = ("mp3", "wav", "flac", "ogg")
MP3_BITRATE_KBPS = 192
MP3_QUALITY = 5  # LAME's -q: 2 is slower and barely different at 192 kbps
OGG_BLOCK_FRAMES = 8192


def audio_format(path: str | os.PathLike, field: str = "output") -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in AUDIO_FORMATS:
        raise InvalidRequest(field, "must end in one of " + ", ".join("." + f for f in AUDIO_FORMATS), str(path))
    return suffix


def check_writable(path: str | os.PathLike, field: str, is_dir: bool = False) -> Path:
    """Fail before any work if `path` cannot be written (its folder missing or read-only)."""
    path = Path(path)
    folder = path if is_dir and path.exists() else path.parent
    folder = folder if str(folder) else Path(".")
    if path.exists() and (path.is_dir() != is_dir):
        raise InvalidRequest(field, "must be a " + ("folder" if is_dir else "file path, not a folder"), str(path))
    if is_dir and not path.exists():
        folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidRequest(field, "must be in an existing folder", str(path))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidRequest(field, "must be in a folder you can write to", str(path))
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it over the target on success."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix, dir=path.parent or ".")
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; a saved song is as any new file
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def write_audio(path: str | os.PathLike, audio: np.ndarray, sample_rate: int, subtype: str | None = None) -> None:
    """Write (samples, channels) float audio; the format follows the extension."""
    kind = audio_format(path)
    audio = np.ascontiguousarray(np.clip(audio, -1.0, 1.0) if subtype != "FLOAT" else audio, dtype=np.float32)
    try:
        if kind == "mp3":
            write_bytes(path, encode_mp3(audio, sample_rate))
            return
        with atomic_path(path) as temporary:
            if kind == "ogg":  # libsndfile's Vorbis encoder crashes on long one-shot writes
                with sf.SoundFile(temporary, "w", sample_rate, audio.shape[1], format="OGG", subtype="VORBIS") as out:
                    for start in range(0, len(audio), OGG_BLOCK_FRAMES):
                        out.write(audio[start:start + OGG_BLOCK_FRAMES])
            else:
                sf.write(temporary, audio, sample_rate, format=kind.upper(), subtype=subtype or "PCM_16")
    except (OSError, RuntimeError, sf.LibsndfileError) as exc:
        raise RenderError(f"could not write {path}: {exc}") from exc


def encode_mp3(audio: np.ndarray, sample_rate: int) -> bytes:
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(MP3_BITRATE_KBPS)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(audio.shape[1])
    encoder.set_quality(MP3_QUALITY)
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype("<i2")
    return bytes(encoder.encode(pcm.tobytes()) + encoder.flush())


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """(samples, channels) float32 and the sample rate, for WAV, FLAC, OGG and MP3."""
    try:
        audio, sample_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise InvalidRequest("file", "must be a readable audio file (WAV, FLAC, OGG or MP3)", str(path)) from exc
    return audio, sample_rate
