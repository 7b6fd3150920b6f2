"""Named random streams: one generator per decision and place, derived from the song's seed.

Every random choice the composer makes draws from a stream named for what it decides and where:
`streams.rng("key")`, `streams.rng("chords", "chorus")`, `streams.rng("drums", "verse", 1, 3)`
(bar 3 of the second verse). A stream depends only on the seed and its name (numpy's
SeedSequence, with each name part hashed to a stable 64-bit word), never on what else was drawn
before it, so pinning the tempo the seed chose leaves the key as it was, and a part's notes in one
section do not move when another section changes.
"""

from __future__ import annotations

import hashlib

import numpy as np

Place = str | int


def _word(part: Place) -> int:
    """A stable non-negative integer for one part of a stream's name."""
    if isinstance(part, (int, np.integer)) and not isinstance(part, bool) and part >= 0:
        return int(part)
    return int.from_bytes(hashlib.blake2b(repr(part).encode("utf-8"), digest_size=8).digest(), "little")


class Streams:
    """The random streams of one song. `rng(name, *place)` gives a new generator each call: the
    same name and place give the same numbers."""

    def __init__(self, seed: int):
        self.seed = int(seed)

    def rng(self, name: str, *place: Place) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([_word(self.seed), _word(name), *map(_word, place)]))

    def __repr__(self) -> str:
        return f"Streams(seed={self.seed})"
