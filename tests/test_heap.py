"""The C heap of a rendering process (audio/heap.py): a stem-sized block made in a worker thread
and freed in another serves the next one without fresh pages; a block larger than the heap
serves is still given back when freed. Each case runs in a fresh interpreter: the setting is
the whole process's."""

import json
import subprocess
import sys

import pytest

from songwright.audio.heap import keep_freed_blocks

CHILD = r"""
import json, resource, sys
import numpy as np
from songwright.audio.heap import keep_freed_blocks
if sys.argv[1] == "kept":
    assert keep_freed_blocks()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def resident_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
stem = 2 * 44100 * 60  # a 60 s stereo stem, float32: 21 MB
from concurrent.futures import ThreadPoolExecutor
def render(_):
    return np.ones(stem, dtype=np.float32)  # made in a worker, as stems are
with ThreadPoolExecutor(max_workers=2) as pool:
    total = sum(pool.map(render, range(2)))  # as a song's first stems
    before = faults()
    for _ in range(6):
        block = pool.submit(render, 0).result()
        total += block
        del block  # freed in this thread once added
    again = (faults() - before) / 6
del total
large = np.ones(2 * 44100 * 600, dtype=np.float32)  # a 10-minute stem: 212 MB
with_large = resident_mb()
del large
print(json.dumps({"faults": again, "given_back_mb": with_large - resident_mb()}))
"""


def child(mode: str) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


@pytest.mark.skipif(not keep_freed_blocks(), reason="glibc's mallopt is what the setting uses")
def test_a_freed_stem_sized_block_serves_the_next_without_page_faults():
    kept, default = child("kept"), child("default")
    # glibc's default maps fresh pages for each block (huge pages where numpy asks for them: ~190
    # faults for 21 MB, 5,000 without); kept, the last block's pages serve the next
    assert default["faults"] > 50
    assert kept["faults"] < 10
    assert kept["given_back_mb"] > 150 and default["given_back_mb"] > 150, "a long song's stem is still given back"
