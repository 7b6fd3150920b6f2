"""Loudness (ITU-R BS.1770-4 via pyloudnorm) and true peak (4x oversampled)."""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyloudnorm

# pyloudnorm and scipy.signal (0.5 s) are imported when first measured: rms_db, which every
# stem's mix chain uses, needs neither, so FluidSynth's stems start while they load.

OVERSAMPLE = 4
BLOCK = 1 << 20  # samples measured at a time
ABSOLUTE_GATE_LUFS = -70.0


@functools.cache
def _meter(sample_rate: int) -> pyloudnorm.Meter:
    import pyloudnorm

    return pyloudnorm.Meter(sample_rate)


def integrated_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness of (samples, channels) audio, in LUFS: pyloudnorm's BS.1770-4 meter
    (its K-weighting filters, blocks and gates), one channel and BLOCK samples at a time, so a
    long song is measured without float64 copies of it."""
    meter = _meter(sample_rate)
    audio = np.asarray(audio)
    audio = audio[:, None] if audio.ndim == 1 else audio
    samples, channels = audio.shape
    block_s, step = meter.block_size, 1.0 - meter.overlap
    if samples < block_s * sample_rate:
        return float(meter.integrated_loudness(np.asarray(audio, dtype=np.float64)))  # pyloudnorm's own error
    j = np.arange(int(np.round((samples / sample_rate - block_s) / (block_s * step))) + 1)
    lower = (block_s * (j * step) * sample_rate).astype(np.int64)  # pyloudnorm's bounds, to the sample
    upper = np.minimum((block_s * (j * step + 1) * sample_rate).astype(np.int64), samples)
    energy = np.stack([_block_energy(audio[:, ch], meter, lower=lower, upper=upper) for ch in range(channels)])
    z = energy / (block_s * sample_rate)  # (channels, blocks) mean square
    gains = np.array([1.0, 1.0, 1.0, 1.41, 1.41][:channels])[:, None]
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10.0 * np.log10(np.sum(gains * z, axis=0))
        above = loudness >= ABSOLUTE_GATE_LUFS
        relative = -0.691 + 10.0 * np.log10(np.sum(gains[:, 0] * z[:, above].mean(axis=1))) - 10.0
        gated = (loudness > relative) & (loudness > ABSOLUTE_GATE_LUFS)
        return float(-0.691 + 10.0 * np.log10(np.sum(gains[:, 0] * np.nan_to_num(z[:, gated].mean(axis=1)))))


def _block_energy(channel: np.ndarray, meter: pyloudnorm.Meter, *, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The sum of squares of the K-weighted channel between each lower and upper bound."""
    from scipy.signal import lfilter, lfilter_zi

    stages = list(meter._filters.values())  # pyloudnorm's K-weighting: high shelf, then high pass
    states = [lfilter_zi(stage.b, stage.a) * 0.0 for stage in stages]
    bounds = np.concatenate([lower, upper])
    prefix = np.empty(len(bounds), dtype=np.float64)  # sum of squares before each bound
    total = 0.0
    for start in range(0, len(channel), BLOCK):
        x = np.asarray(channel[start:start + BLOCK], dtype=np.float64)
        for index, stage in enumerate(stages):
            x, states[index] = lfilter(stage.b, stage.a, x, zi=states[index])
            x *= stage.passband_gain
        running = np.concatenate([[total], total + np.cumsum(np.square(x))])
        here = (bounds >= start) & (bounds <= start + len(x))
        prefix[here] = running[bounds[here] - start]
        total = running[-1]
    return prefix[len(lower):] - prefix[:len(lower)]


@functools.cache
def _interpolator() -> np.ndarray:
    from scipy.signal import firwin

    return (firwin(48, 1.0 / OVERSAMPLE) * OVERSAMPLE).astype(np.float32)


def true_peak_db(audio: np.ndarray) -> float:
    """The highest peak of the waveform between samples, in dBTP (BS.1770 4x oversampling)."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[:, None]
    if not audio.size:
        return -240.0
    with ThreadPoolExecutor(max_workers=2) as pool:  # one channel per core
        peaks = pool.map(_oversampled_peak, audio.T)
        peak = max(float(np.max(np.abs(audio))), *peaks)
    return 20.0 * np.log10(max(peak, 1e-12))


def _oversampled_peak(channel: np.ndarray) -> float:
    """The largest |sample| of the channel upsampled OVERSAMPLE times, BLOCK input samples at a
    time: each block is upsampled with the samples before it that its first outputs need, and
    keeps only the outputs that the whole channel's upsampling has at those places."""
    from scipy.signal import upfirdn

    taps = _interpolator()
    reach = len(taps) // OVERSAMPLE  # input samples before an output that reach it
    peak = 0.0
    for start in range(0, len(channel), BLOCK):
        end = min(len(channel), start + BLOCK)
        begin = max(0, start - reach)
        out = upfirdn(taps, channel[begin:end], up=OVERSAMPLE)
        out = out[(start - begin) * OVERSAMPLE:None if end == len(channel) else (end - begin) * OVERSAMPLE]
        peak = max(peak, float(out.max()), -float(out.min()))
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
