"""Loudness (ITU-R BS.1770-4 via pyloudnorm) and true peak (4x oversampled)."""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyloudnorm
from scipy.signal import firwin, upfirdn

OVERSAMPLE = 4


@functools.cache
def _meter(sample_rate: int) -> pyloudnorm.Meter:
    return pyloudnorm.Meter(sample_rate)


def integrated_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness of (samples, channels) audio, in LUFS."""
    return float(_meter(sample_rate).integrated_loudness(np.asarray(audio, dtype=np.float64)))


@functools.cache
def _interpolator() -> np.ndarray:
    return (firwin(48, 1.0 / OVERSAMPLE) * OVERSAMPLE).astype(np.float32)


def true_peak_db(audio: np.ndarray) -> float:
    """The highest peak of the waveform between samples, in dBTP (BS.1770 4x oversampling)."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[:, None]
    if not audio.size:
        return -240.0
    with ThreadPoolExecutor(max_workers=2) as pool:  # one channel per core
        peaks = pool.map(lambda ch: float(np.max(np.abs(upfirdn(_interpolator(), ch, up=OVERSAMPLE)))), audio.T)
        peak = max(float(np.max(np.abs(audio))), *peaks)
    return 20.0 * np.log10(max(peak, 1e-12))


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
