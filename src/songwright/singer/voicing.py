"""Where a sung vowel becomes voiced, found cheaply on MBROLA's output so the singer can move it
onto the beat. A frame is voiced when the minimum of its YIN cumulative mean normalised difference
(32 ms frames every 5 ms, periods for 70-1000 Hz, computed as librosa's pYIN does) is below
VOICED_BELOW; the vowel is voiced from the first run of MIN_RUN_S voiced frames after the
consonant's unvoiced ones. pYIN itself (the measure in `songwright.audio.vocal_metrics`) costs
about 50 ms a note; this costs well under 1 ms. `benchmarks/bench_voicing.py` compares the two."""

from __future__ import annotations

import numpy as np

FRAME_S = 0.032
HOP_S = 0.005
FMIN_HZ, FMAX_HZ = 70.0, 1000.0
VOICED_BELOW = 0.45
MIN_RUN_S = 0.06
FRAMES_AT_ONCE = 512
UNVOICED_BY_S = 0.1  # the consonant's unvoiced frames are looked for up to this long after the beat


def cmndf_minima(audio: np.ndarray, sample_rate: int, times_s: np.ndarray) -> np.ndarray:
    """The smallest YIN cumulative mean normalised difference of the frame centred on each time,
    FRAMES_AT_ONCE frames at a time (a song's thousands of frames would take hundreds of MB)."""
    frame = int(round(FRAME_S * sample_rate))
    starts = np.round(np.asarray(times_s) * sample_rate).astype(int)
    starts = np.clip(starts, 0, len(audio) + 1 - frame % 2)  # (the audio with frame // 2 zeros before and + 1 after)
    return np.concatenate([_cmndf_minima(audio, starts[i:i + FRAMES_AT_ONCE], sample_rate=sample_rate, frame=frame)
                           for i in range(0, len(starts), FRAMES_AT_ONCE)] or [np.zeros(0)])


def _cmndf_minima(audio: np.ndarray, starts: np.ndarray, *, sample_rate: int, frame: int) -> np.ndarray:
    min_period, max_period = int(sample_rate // FMAX_HZ), min(int(np.ceil(sample_rate / FMIN_HZ)), frame - 1)
    at = starts[:, None] + np.arange(frame) - frame // 2  # frames of the audio, zeros beyond its ends
    inside = (at >= 0) & (at < len(audio))
    frames = np.where(inside, audio[np.clip(at, 0, len(audio) - 1)], 0.0).astype(np.float64)
    n_fft = 1 << int(np.ceil(np.log2(frame + max_period + 1)))
    spectrum = np.fft.rfft(frames, n_fft, axis=1)
    acf = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, n_fft, axis=1)[:, :max_period + 1]
    energy = np.cumsum(frames[:, :max_period] ** 2, axis=1)
    difference = 2 * (acf[:, :1] - acf[:, 1:]) - energy  # librosa's d(k), k = 1 .. max_period
    mean = np.cumsum(difference, axis=1) / np.arange(1, max_period + 1)
    cmndf = difference[:, min_period - 1:] / (mean[:, min_period - 1:] + 1e-12)
    silent = frames.std(axis=1) < 1e-6
    return np.where(silent, np.inf, cmndf.min(axis=1))


def voicing_onsets_s(audio: np.ndarray, sample_rate: int, spans_s: list[tuple[float, float, float]]) -> list[float | None]:
    """For each (first consonant, beat, vowel end) of a syllable, in seconds: where its vowel
    becomes voiced for good (the first run of MIN_RUN_S voiced frames after an unvoiced one, found
    before the beat + UNVOICED_BY_S), or None where there is no unvoiced frame or no such run."""
    windows = [np.arange(begin, max(end, beat + UNVOICED_BY_S) + 1e-9, HOP_S) for begin, beat, end in spans_s]
    if not windows:
        return []
    voiced = cmndf_minima(audio, sample_rate, np.concatenate(windows)) < VOICED_BELOW
    bounds = np.cumsum([0] + [len(w) for w in windows])
    return [_onset(times, voiced[a:b], beat + UNVOICED_BY_S)
            for times, a, b, (_, beat, _) in zip(windows, bounds[:-1], bounds[1:], spans_s)]


def _onset(times: np.ndarray, voiced: np.ndarray, unvoiced_by_s: float) -> float | None:
    """Stretched consonants and aspiration have voiced-looking stretches (MBROLA repeats their
    frames), shorter than MIN_RUN_S: they are skipped. A run cut short by the end of the vowel
    counts from half that length."""
    unvoiced = np.flatnonzero(~voiced & (times <= unvoiced_by_s))
    if not unvoiced.size:
        return None
    run = int(round(MIN_RUN_S / HOP_S))
    after = np.concatenate([voiced[unvoiced[0]:], np.ones(run // 2, dtype=bool)])
    found = np.flatnonzero(np.convolve(after.astype(int), np.ones(run, dtype=int), mode="valid") == run)
    return float(times[unvoiced[0] + found[0]]) if found.size else None
