"""librosa's pYIN, its Viterbi decoding done band by band: the same states in a fraction of the time.

pYIN decodes its pitch track over 2 x n pitch states (voiced, unvoiced) whose transitions are
non-zero only within a few semitones (`sequence.transition_local`'s triangle) in each voicing
block. librosa's `sequence.viterbi` scores every state against every state, n^2 a frame: most of
the 1.7 s pYIN takes on a 12.5 s sung line at 65-1000 Hz (0.44 s with this one). `banded_viterbi`
runs the same recursion in the same float64 sums: each column's non-zero band in full, and the
zero transitions (where librosa adds the log of its epsilon) through running maxima of each
block's prefixes and suffixes, ties going to the first state as `np.argmax` breaks them: the
states librosa finds, bit for bit (tests/test_pitch.py). `pyin` is `librosa.pyin` decoding with it.
"""

from __future__ import annotations

import threading
from typing import Callable

import numpy as np

_SWAP = threading.Lock()
_librosa_viterbi: Callable | None = None  # librosa's own, kept before `pyin` first swaps it


def pyin(y: np.ndarray, **kwargs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`librosa.pyin(y, **kwargs)` with `banded_viterbi` as its Viterbi step (one call at a time:
    the step is swapped in librosa's module while it runs)."""
    import librosa
    import librosa.sequence

    _original()
    with _SWAP:
        librosa.sequence.viterbi = banded_viterbi
        try:
            return librosa.pyin(y, **kwargs)
        finally:
            librosa.sequence.viterbi = _librosa_viterbi


def _original() -> Callable:
    global _librosa_viterbi
    if _librosa_viterbi is None:
        import librosa.sequence

        _librosa_viterbi = librosa.sequence.viterbi
    return _librosa_viterbi


def banded_viterbi(prob: np.ndarray, transition: np.ndarray, *, p_init: np.ndarray | None = None,
                   return_logp: bool = False) -> np.ndarray:
    """`librosa.sequence.viterbi(prob, transition, p_init=p_init)`: the most likely states, (...,
    steps) uint16, for prob (..., states, steps). A transition matrix that is not two equal
    blocks of states whose every column is non-zero over one run of rows in each (pYIN's), or a
    call for the log-likelihood too, is left to librosa."""
    bands = None if return_logp else _bands(transition)
    if bands is None:
        return _original()(prob, transition, p_init=p_init, return_logp=return_logp)
    count = transition.shape[0]
    epsilon = np.finfo(prob.dtype).tiny  # as librosa: log(x + tiny) keeps zeros finite
    p_init = np.full(count, 1.0 / count) if p_init is None else p_init
    log_trans = np.log(transition + epsilon)
    log_prob = np.log(prob + epsilon)
    decoder = _Decoder(log_trans, *bands, zero=np.log(epsilon))
    runs = log_prob.reshape(-1, *log_prob.shape[-2:])
    path = np.stack([decoder.states(run.T, np.log(p_init + epsilon)) for run in runs])
    return path.reshape(*log_prob.shape[:-2], log_prob.shape[-1])


def _bands(transition: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """For each of the two blocks of rows: the first and last row (whole-matrix indices) of each
    column's non-zero run, (2, states) each (an empty run: first = the block's end, last = first
    - 1); None if the matrix is not square with two equal blocks, or a run has a gap."""
    if transition.ndim != 2 or transition.shape[0] != transition.shape[1] or transition.shape[0] % 2:
        return None
    half = transition.shape[0] // 2
    first, last = [], []
    for block in range(2):
        rows = transition[block * half:(block + 1) * half] != 0
        sounding = rows.any(axis=0)
        top = np.where(sounding, rows.argmax(axis=0), half)
        bottom = np.where(sounding, half - 1 - rows[::-1].argmax(axis=0), half - 1)
        if np.any(rows.sum(axis=0) != bottom - top + 1):
            return None
        first.append(top + block * half)
        last.append(bottom + block * half)
    return np.array(first), np.array(last)


class _Decoder:
    """The Viterbi recursion over a two-block banded transition matrix (see `banded_viterbi`)."""

    def __init__(self, log_trans: np.ndarray, first: np.ndarray, last: np.ndarray, *, zero: float) -> None:
        self.half = log_trans.shape[0] // 2
        self.zero = zero
        self.columns = np.arange(log_trans.shape[0])
        # Per block: its band's rows (width, states) and their log transitions (-inf past a band's
        # end); where each column's band begins and ends, counted from the block's start.
        self.bands = []
        for block in range(2):
            start = block * self.half
            width = max(1, int((last[block] - first[block] + 1).max()))
            rows = first[block][None, :] + np.arange(width)[:, None]
            inside = rows <= last[block][None, :]
            rows = np.where(inside, rows, start)
            self.bands.append((start, rows, np.where(inside, log_trans[rows, self.columns[None, :]], -np.inf),
                               first[block] - start, last[block] + 1 - start))

    def states(self, log_prob: np.ndarray, log_p_init: np.ndarray) -> np.ndarray:
        """The most likely path, (steps,) uint16, for log_prob (steps, states)."""
        steps = log_prob.shape[0]
        pointers = np.zeros((steps, log_prob.shape[1]), dtype=np.uint16)
        value = log_prob[0] + log_p_init
        for t in range(1, steps):
            best, pointers[t] = self._best_before(value)
            value = log_prob[t] + best
        path = np.zeros(steps, dtype=np.uint16)
        path[-1] = np.argmax(value)
        for t in range(steps - 2, -1, -1):
            path[t] = pointers[t + 1, path[t + 1]]
        return path

    def _best_before(self, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For every state j: max over i of value[i] + log_trans[i, j], and the first i reaching
        it. The candidates are visited in the order of i (block 0 before its band, its band,
        after it; then block 1 likewise), a later one winning only when larger."""
        zeroed = value + self.zero  # value[i] + log_trans[i, j] wherever the transition is zero
        best = np.full(value.shape, -np.inf)
        where = np.zeros(value.shape, dtype=np.int64)
        for start, rows, log_trans, band_begins, band_ends in self.bands:
            before_value, before_at, after_value, after_at = _running_maxima(zeroed[start:start + self.half])
            scores = value[rows] + log_trans
            pick = scores.argmax(axis=0)
            for candidate, at in ((before_value[band_begins], before_at[band_begins] + start),
                                  (scores[pick, self.columns], rows[pick, self.columns]),
                                  (after_value[band_ends], after_at[band_ends] + start)):
                better = candidate > best
                best = np.where(better, candidate, best)
                where = np.where(better, at, where)
        return best, where


def _running_maxima(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For k = 0..len(z): the max of z[:k] and the first index reaching it (-inf, 0 when empty);
    the max of z[k:] and the first index reaching it."""
    n = len(z)
    steps = np.arange(n)
    ahead = np.maximum.accumulate(z)
    rises = np.empty(n, dtype=bool)
    rises[0], rises[1:] = True, ahead[1:] > ahead[:-1]
    ahead_at = np.maximum.accumulate(np.where(rises, steps, 0))
    backwards = z[::-1]
    behind = np.maximum.accumulate(backwards)
    reaches = np.empty(n, dtype=bool)
    reaches[0], reaches[1:] = True, backwards[1:] >= behind[:-1]  # an equal value earlier in z is the first
    behind_at = n - 1 - np.maximum.accumulate(np.where(reaches, steps, 0))
    return (np.concatenate([[-np.inf], ahead]), np.concatenate([[0], ahead_at]),
            np.concatenate([behind[::-1], [-np.inf]]), np.concatenate([behind_at[::-1], [0]]))
