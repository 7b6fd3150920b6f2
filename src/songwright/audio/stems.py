"""A song's processed stems, kept in memory when they are small and on disk when they are not: a
10-minute stereo stem is 212 MB of float32, so a long song's eight are kept in .npy files in a
temporary folder and mapped back, read-only, when one is read.

The folder goes when its StemFiles does (or is closed), and at the process's exit. A process
killed outright (SIGKILL, the kernel out of memory) cannot remove it: the folder's name holds its
process id, and the next long song on the machine removes the folders of processes that are gone.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

# A song whose stems together take this much or less keeps them in memory (a 60 s song's eight:
# 170 MB). Writing them to disk cost a warm 60 s song 0.1-0.2 s (0.05 s a stem once the kernel
# holds back writers, and the system time of 150 MB written and deleted per song).
IN_MEMORY_BYTES = 192 << 20
READ_SAMPLES = 1 << 20  # a stem on disk is added up this many samples at a time
FOLDER_PREFIX = "songwright-stems-"
STALE_AFTER_S = 600.0  # a dead process's folder untouched this long is removed


class StemFiles(Mapping):
    """Stem name -> (samples, channels) float32, read-only. Stems `samples` long that together fit
    in IN_MEMORY_BYTES are held in memory; others are read from their file each time one is asked
    for (the mapping goes when the array does, so reading every stem in turn holds one at a time),
    and the folder is removed when this object is, or is closed."""

    def __init__(self, *, names: tuple[str, ...], samples: int | None = None) -> None:
        self._order = names  # the order the stems are listed (and added up) in, whenever they come
        self._held: dict[str, np.ndarray] | None = None
        self._folder = None
        if samples is not None and len(names) * samples * 2 * 4 <= IN_MEMORY_BYTES:
            self._held = {}
        else:
            remove_stale_folders()
            self._folder = tempfile.TemporaryDirectory(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")
        self._added: set[str] = set()

    @property
    def in_memory(self) -> bool:
        return self._held is not None

    def add(self, name: str, audio: np.ndarray) -> None:
        """Keep a (channels, samples) stem, one of `names` (given up: a float32 one is kept, not copied)."""
        self._check(name)
        if self._held is not None:
            kept = np.ascontiguousarray(audio, dtype=np.float32).view()
            kept.flags.writeable = False
            self._held[name] = kept
        else:
            np.save(self._path(name), np.asarray(audio, dtype=np.float32))
        self._added.add(name)

    def create(self, name: str, *, samples: int) -> np.ndarray:
        """A new stem of `samples` (samples, channels) float32, zeros, to be written in place (on
        disk: its file mapped for writing, so the stem is never held in memory whole)."""
        self._check(name)
        if self._held is not None:
            audio = self._held[name] = np.zeros((2, samples), dtype=np.float32)
        else:
            audio = np.lib.format.open_memmap(self._path(name), mode="w+", dtype=np.float32, shape=(2, samples))
        self._added.add(name)
        return audio.T

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._added:
            raise KeyError(name)
        if self._held is not None:
            audio = self._held[name].view()
            audio.flags.writeable = False
            return audio.T
        return np.load(self._path(name), mmap_mode="r").T

    def add_into(self, name: str, total: np.ndarray | None) -> np.ndarray:
        """`total`, (channels, samples) float32, with stem `name` added in place (None: a new array,
        the stem's copy); a stem on disk is read a block at a time, never mapped or held whole."""
        if name not in self._added:
            raise KeyError(name)
        if self._held is not None:
            return plus(total, self._held[name])
        path = self._path(name)
        mapped = np.load(path, mmap_mode="r")  # its shape and where its samples start; nothing read
        offset, (channels, samples) = mapped.offset, mapped.shape
        del mapped
        first = total is None
        if first:
            total = np.empty((channels, samples), dtype=np.float32)
        with open(path, "rb") as file:
            for channel in range(channels):
                for begin in range(0, samples, READ_SAMPLES):
                    end = min(samples, begin + READ_SAMPLES)
                    file.seek(offset + (channel * samples + begin) * 4)
                    block = np.fromfile(file, dtype=np.float32, count=end - begin)
                    if first:
                        total[channel, begin:end] = block
                    else:
                        total[channel, begin:end] += block
        return total

    def discard(self, name: str) -> None:
        """Let a stem go (its memory or its file)."""
        if name in self._added:
            self._added.discard(name)
            if self._held is not None:
                del self._held[name]
            else:
                self._path(name).unlink()

    def __iter__(self) -> Iterator[str]:
        return iter([name for name in self._order if name in self._added])

    def __len__(self) -> int:
        return len(self._added)

    def __contains__(self, name: object) -> bool:
        return name in self._added

    def close(self) -> None:
        """Let every stem go, and the folder (a render that failed or was stopped)."""
        self._added.clear()
        if self._held is not None:
            self._held.clear()
        if self._folder is not None:
            self._folder.cleanup()

    def _check(self, name: str) -> None:
        if name not in self._order:
            raise ValueError(f"stem {name!r} is not one of {', '.join(self._order)}")

    def _path(self, name: str) -> Path:
        return Path(self._folder.name) / f"{name}.npy"


class StemsNotKept(Mapping):
    """The names of a song's stems, whose audio was not kept: a song made without them (the CLI
    when no stems are asked for), or spliced from a mix read back from its file (an edit of a
    song file, songwright.edits), which has no stems outside the edit's window. Reading one is an
    error saying `why`."""

    SPLICED = ("this edit was spliced into the song file's mix; ask for the stems (--stems) and the whole song "
               "is rendered again")

    def __init__(self, *, names: tuple[str, ...], why: str = "the song was made without them") -> None:
        self._names = names
        self._why = why

    def __getitem__(self, name: str) -> np.ndarray:
        from ..errors import RenderError

        raise RenderError(f"the {name} stem was not kept: {self._why}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def mixed(stems: Mapping[str, np.ndarray], *, order: list[str] | None = None) -> np.ndarray:
    """The stems added up in `order` (default: theirs), (samples, channels) float32, one stem in
    memory at a time (StemFiles on disk: a block of one). The sum is held channel by channel
    ((channels, samples) in C order, as stems are kept), so its `.T` is a C-ordered pre-master
    that mastering works on in place, not a copy."""
    total = None
    for name in list(stems) if order is None else order:
        total = stems.add_into(name, total) if isinstance(stems, StemFiles) else plus(total, stems[name].T)
    return total.T


def plus(total: np.ndarray | None, audio: np.ndarray) -> np.ndarray:
    """`total` with `audio` added in place, both (channels, samples) float32; None: a C-ordered
    float32 copy of `audio` (the sum's first stem)."""
    if total is None:
        return np.array(audio, dtype=np.float32, order="C")
    total += audio
    return total


class RunningSum:
    """Stems added up in a fixed `order` as they come, whatever order they come in (float sums
    depend on their order, and the same request must give the same bytes). A stem done before its
    turn waits in `waiting` (a StemFiles) until its turn: with `keep`, `waiting` holds the song's
    stems (the caller adds each there first) and keeps them; else each is let go once added."""

    def __init__(self, *, order: list[str], waiting: StemFiles, keep: bool = False) -> None:
        self.order = order
        self.waiting = waiting
        self.keep = keep
        self._next = 0
        self.audio: np.ndarray | None = None  # (channels, samples) float32, once the first stem is in

    def add(self, name: str, audio: np.ndarray) -> None:
        """Stem `name`, (channels, samples), is done: added now if its turn has come (and then every
        waiting stem whose turn follows), else it waits."""
        if name != self.order[self._next]:
            if not self.keep:
                self.waiting.add(name, audio)
            return
        self.audio = plus(self.audio, audio)
        self._next += 1
        while self._next < len(self.order) and self.order[self._next] in self.waiting:
            name = self.order[self._next]
            self.audio = self.waiting.add_into(name, self.audio)
            if not self.keep:
                self.waiting.discard(name)
            self._next += 1


def remove_stale_folders() -> list[Path]:
    """Remove the stem folders in the temporary directory left by processes that are gone (killed
    before they could remove them) and untouched for STALE_AFTER_S; the folders removed."""
    now_s = time.time()
    pattern = re.compile(re.escape(FOLDER_PREFIX) + r"(\d+)-")
    try:
        entries = list(os.scandir(tempfile.gettempdir()))
    except OSError:
        return []
    removed = []
    for entry in entries:
        match = pattern.match(entry.name)
        if not match or _alive(int(match.group(1))):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or now_s - entry.stat(follow_symlinks=False).st_mtime < STALE_AFTER_S:
                continue
        except OSError:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (another user's counts: not ours to judge)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        pass
    return True
