"""A song's processed stems on disk: a 10-minute stereo stem is 212 MB of float32, so a song's
eight are kept in .npy files in a temporary folder and mapped back, read-only, when one is read."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np


class StemFiles(Mapping):
    """Stem name -> (samples, channels) float32, read from its file each time it is asked for (the
    mapping goes when the array does, so reading every stem in turn holds one at a time). The
    folder is removed when this object is."""

    def __init__(self, *, names: tuple[str, ...]) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="songwright-stems-")
        self._order = names  # the order the stems are listed (and added up) in, whenever they come
        self._added: set[str] = set()

    def add(self, name: str, audio: np.ndarray) -> None:
        """Keep a (channels, samples) stem, one of `names`."""
        if name not in self._order:
            raise ValueError(f"stem {name!r} is not one of {', '.join(self._order)}")
        np.save(self._path(name), np.asarray(audio, dtype=np.float32))
        self._added.add(name)

    def create(self, name: str, *, samples: int) -> np.ndarray:
        """A new stem of `samples` (samples, channels) float32, zeros, to be written in place: its
        file mapped for writing (the stem is kept as it is written, never held in memory whole)."""
        if name not in self._order:
            raise ValueError(f"stem {name!r} is not one of {', '.join(self._order)}")
        audio = np.lib.format.open_memmap(self._path(name), mode="w+", dtype=np.float32, shape=(2, samples))
        self._added.add(name)
        return audio.T

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._added:
            raise KeyError(name)
        return np.load(self._path(name), mmap_mode="r").T

    def __iter__(self) -> Iterator[str]:
        return iter([name for name in self._order if name in self._added])

    def __len__(self) -> int:
        return len(self._added)

    def _path(self, name: str) -> Path:
        return Path(self._folder.name) / f"{name}.npy"


class StemsNotKept(Mapping):
    """The names of a song's stems, whose audio was not kept: a song spliced from a mix read back
    from its file (an edit of a song file, songwright.edits) has no stems outside the edit's
    window. Reading one is an error."""

    def __init__(self, *, names: tuple[str, ...]) -> None:
        self._names = names

    def __getitem__(self, name: str) -> np.ndarray:
        from ..errors import RenderError

        raise RenderError(f"the {name} stem was not kept: this edit was spliced into the song file's mix; "
                          "ask for the stems (--stems) and the whole song is rendered again")

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def mixed(stems: Mapping[str, np.ndarray]) -> np.ndarray:
    """The stems added up in their order, (samples, channels) float32, one stem in memory at a time.
    The sum is held channel by channel ((channels, samples) in C order, as stems are kept), so
    its `.T` is a C-ordered pre-master that mastering works on in place, not a copy of it."""
    total = None
    for audio in stems.values():
        if total is None:
            total = np.array(audio.T, dtype=np.float32, order="C")
        else:
            total += audio.T
    return total.T
