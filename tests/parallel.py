"""Independent measurements of songs, two at a time, each in a process of its own.

The measures that read audio (librosa's pYIN and chroma, the tempo and key estimators) run on
one core, so a test that makes and measures a dozen songs one after another leaves the other
core idle for half its time; in two processes the songs are made and measured side by side.
Where the suite itself runs in two processes (pytest-xdist, the default) the other core is busy
with other tests, and the songs are measured one after another here instead: two more processes
would only compete for the cores and each pay ~2 s of imports and of loading librosa's compiled
code.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor


def in_processes(function: Callable, items: Iterable, *, workers: int = 2) -> list:
    """`function(item)` for each item, in order, in `workers` fresh processes (forkserver: none of
    this process's threads is copied). `function` must be a module's top-level function."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return [function(item) for item in items]
    workers = max(1, min(workers, os.cpu_count() or 1))
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        return list(pool.map(function, items))
