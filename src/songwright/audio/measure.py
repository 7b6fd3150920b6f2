"""Loudness (ITU-R BS.1770-4, integrated, gated) and true peak (4x oversampled), measured with
numpy and pedalboard's filters (audio.filters), a block at a time: a long song is never copied
to float64. The meter gives pyloudnorm's figures (tests/test_filters.py compares them)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from .filters import k_weighting, lowpass_taps, upsampled_peak

OVERSAMPLE = 4
BLOCK = 1 << 20  # samples measured at a time
GATE_BLOCK_S = 0.4  # BS.1770's gating blocks: 400 ms...
GATE_OVERLAP = 0.75  # ...75 % overlapped
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
CHANNEL_GAINS = (1.0, 1.0, 1.0, 1.41, 1.41)  # L, R, C, Ls, Rs


def integrated_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness of (samples, channels) audio, in LUFS: K-weighted, in 400 ms blocks
    75 % overlapped, gated at -70 LUFS and 10 LU under the blocks above that. ValueError for
    audio shorter than one block."""
    audio = np.asarray(audio)
    audio = audio[:, None] if audio.ndim == 1 else audio
    samples, channels = audio.shape
    step = 1.0 - GATE_OVERLAP
    if samples < GATE_BLOCK_S * sample_rate:
        raise ValueError(f"audio must be longer than the {GATE_BLOCK_S} s gating block to measure its loudness")
    j = np.arange(int(np.round((samples / sample_rate - GATE_BLOCK_S) / (GATE_BLOCK_S * step))) + 1)
    lower = (GATE_BLOCK_S * (j * step) * sample_rate).astype(np.int64)
    upper = np.minimum((GATE_BLOCK_S * (j * step + 1) * sample_rate).astype(np.int64), samples)
    energy = np.stack(per_channel(lambda ch: _block_energy(audio[:, ch], sample_rate, lower=lower, upper=upper),
                                  range(channels)))
    z = energy / (GATE_BLOCK_S * sample_rate)  # (channels, blocks) mean square
    gains = np.array(CHANNEL_GAINS[:channels])[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        loudness = -0.691 + 10.0 * np.log10(np.sum(gains * z, axis=0))
        above = loudness >= ABSOLUTE_GATE_LUFS
        relative = -0.691 + 10.0 * np.log10(np.sum(gains[:, 0] * z[:, above].mean(axis=1))) + RELATIVE_GATE_LU
        gated = (loudness > relative) & (loudness > ABSOLUTE_GATE_LUFS)
        return float(-0.691 + 10.0 * np.log10(np.sum(gains[:, 0] * np.nan_to_num(z[:, gated].mean(axis=1)))))


def _block_energy(channel: np.ndarray, sample_rate: int, *, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The sum of squares of the K-weighted channel between each lower and upper bound: squared in
    float32, each stretch between two bounds summed in float64 (np.add.reduceat), the sums before
    each bound added up (a running sum of every sample took 3x as long)."""
    weighting = k_weighting()
    bounds = np.concatenate([lower, upper])
    prefix = np.empty(len(bounds), dtype=np.float64)  # sum of squares before each bound
    total = 0.0
    for start in range(0, len(channel), BLOCK):
        x = np.asarray(channel[start:start + BLOCK], dtype=np.float32)[None, :]
        x = weighting(x, sample_rate, reset=start == 0)[0]
        here = (bounds >= start) & (bounds <= start + len(x))
        at = bounds[here] - start
        cuts = np.sort(np.concatenate([[0], at[at < len(x)]]))
        cuts = cuts[np.concatenate([[True], cuts[1:] != cuts[:-1]])]  # (np.unique imports numpy.ma: 8 ms)
        pieces = np.add.reduceat(np.square(x), cuts, dtype=np.float64)
        before = total + np.concatenate([[0.0], np.cumsum(pieces)])  # before each cut, and at the end
        prefix[here] = before[np.searchsorted(cuts, at)]  # a bound at the block's end: the last entry
        total = before[-1]
    return prefix[len(lower):] - prefix[:len(lower)]


Result = TypeVar("Result")


def per_channel(work: Callable[[int], Result], channels: Sequence[int]) -> list[Result]:
    """`work(channel)` for each channel, side by side on the cores (pedalboard's filters and numpy
    let go of the GIL: a 60 s master's loudness 0.042 -> 0.02 s); one channel in this thread."""
    if len(channels) < 2 or (os.cpu_count() or 1) < 2:
        return [work(channel) for channel in channels]
    with ThreadPoolExecutor(max_workers=min(len(channels), os.cpu_count() or 1)) as pool:
        return list(pool.map(work, channels))


@functools.cache
def _interpolator() -> np.ndarray:
    return (lowpass_taps(48, 1.0 / OVERSAMPLE) * OVERSAMPLE).astype(np.float32)


def true_peak_db(audio: np.ndarray) -> float:
    """The highest peak of the waveform between samples, in dBTP (BS.1770 4x oversampling)."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[:, None]
    if not audio.size:
        return -240.0
    largest = np.maximum(np.max(audio), -np.min(audio))  # the largest |sample|, without a copy of the song
    peak = max(float(largest), *(_oversampled_peak(channel) for channel in audio.T))
    return 20.0 * np.log10(max(peak, 1e-12))


def _oversampled_peak(channel: np.ndarray) -> float:
    """The largest |sample| of the channel upsampled OVERSAMPLE times, BLOCK input samples at a
    time: each block is upsampled with the samples before it that its first outputs need, and
    keeps only the outputs that the whole channel's upsampling has at those places."""
    taps = _interpolator()
    reach = len(taps) // OVERSAMPLE  # input samples before an output that reach it
    peak = 0.0
    for start in range(0, len(channel), BLOCK):
        end = min(len(channel), start + BLOCK)
        begin = max(0, start - reach)
        peak = max(peak, upsampled_peak(channel[begin:end], taps, OVERSAMPLE, first=(start - begin) * OVERSAMPLE,
                                        stop=None if end == len(channel) else (end - begin) * OVERSAMPLE))
    return peak


def rms_db(audio: np.ndarray, sample_rate: int, gate_db: float = -60.0, stride: int = 4) -> float:
    """RMS level over the 50 ms frames louder than `gate_db` (how loud a part is when it plays),
    estimated from every `stride`-th sample of the first channel."""
    mono = np.asarray(audio, dtype=np.float32)
    mono = (mono[:, 0] if mono.ndim == 2 else mono)[::stride]
    frame = sample_rate // 20 // stride
    usable = len(mono) // frame * frame
    if usable == 0:
        return -120.0
    power = np.mean(mono[:usable].reshape(-1, frame) ** 2, axis=1)
    loud = power[power > 10 ** (gate_db / 10)]
    return float(10 * np.log10(np.mean(loud))) if loud.size else -120.0
