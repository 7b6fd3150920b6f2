"""The C heap of a process that renders songs: large blocks freed are kept for the next ones.

A 60 s song passes some 300 MB through numpy in blocks of 21 MB (a stem: two channels of
float32), rendered in worker threads and freed in another. glibc gives blocks that large fresh
pages of their own (mmap) and hands them back to the kernel when they are freed, each thread
works from its own arena, and every fresh page costs a page fault: some 80,000 per song, 0.4-0.6 s
of system time on a 2-core machine (glibc trims each arena's free top and the next block faults
it back in). From one arena that keeps what is freed, the next block is made of the last one's
pages: the seed example's cold CLI 81,000 -> 29,000 faults, system time 0.35 -> 0.18 s, the same
peak memory (medians of six, alternated). A block over glibc's largest threshold (a stem of a song
over 95 s) is still mapped on its own and given back when freed: a long song's memory does not
stay with the process.
"""

from __future__ import annotations

import ctypes
import functools

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 32 << 20  # glibc's most: blocks up to this come from the heap
TRIM_THRESHOLD_BYTES = 1 << 30  # free memory at the heap's top kept up to this
ARENA_MAX = 1  # every thread allocates from the one arena, so a block freed by one serves another


@functools.cache
def keep_freed_blocks() -> bool:
    """Set the process's C heap as the module's text says, once; False where the C library has
    no mallopt (not glibc): nothing changes there."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return all(mallopt(parameter, value) == 1 for parameter, value in (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES), (M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES), (M_ARENA_MAX, ARENA_MAX)))
