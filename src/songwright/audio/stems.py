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

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="songwright-stems-")
        self._names: list[str] = []

    def add(self, name: str, audio: np.ndarray) -> None:
        """Keep a (channels, samples) stem; stems keep the order they are added in."""
        np.save(self._path(name), np.asarray(audio, dtype=np.float32))
        self._names.append(name)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._names:
            raise KeyError(name)
        return np.load(self._path(name), mmap_mode="r").T

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def _path(self, name: str) -> Path:
        return Path(self._folder.name) / f"{name}.npy"


def mixed(stems: Mapping[str, np.ndarray]) -> np.ndarray:
    """The stems added up in their order, (samples, channels) float32, one stem in memory at a time."""
    total = None
    for audio in stems.values():
        if total is None:
            total = np.array(audio, dtype=np.float32)
        else:
            total += audio
    return total
