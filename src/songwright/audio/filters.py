"""Filters a song is made with, in numpy and pedalboard: importing scipy.signal costs about a
second of every cold start, more than any stage that used it.

- `butterworth_power`: the power response of a digital Butterworth filter (bilinear transform,
  prewarped, as scipy's `butter` designs it): what filtering forward and backward (`sosfiltfilt`)
  does to each frequency. `zero_phase` applies it, or its square root, through an FFT.
- `k_weighting`: BS.1770's K-weighting as pedalboard filters (JUCE's biquads): the high shelf,
  then the 38 Hz high pass, whose Q of 0.5 is two first-order high passes.
- `lowpass_taps` and `upsampled_peak`: a windowed-sinc interpolator and the peak of a signal
  upsampled through it, every polyphase branch at once (a matrix product).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

PEAK_ROWS = 1 << 15  # input samples upsampled at a time by upsampled_peak

# BS.1770 K-weighting, in the RBJ form pyloudnorm (and so our meter before) used.
K_SHELF_HZ, K_SHELF_DB, K_SHELF_Q = 1500.0, 4.0, 1 / np.sqrt(2)
K_HIGHPASS_HZ = 38.0


def butterworth_power(freqs_hz: np.ndarray, *, sample_rate: float, order: int, low_hz: float | None = None,
                      high_hz: float | None = None) -> np.ndarray:
    """|H|^2 at `freqs_hz` of the digital Butterworth filter passing above `low_hz` and below
    `high_hz` (a high pass, a low pass or a band pass of `order`)."""
    def warped(hz):  # the analog frequency the bilinear transform maps `hz` to
        return np.tan(np.pi * np.minimum(np.asarray(hz, dtype=np.float64), sample_rate / 2 * (1 - 1e-9)) / sample_rate)

    w = np.maximum(warped(freqs_hz), 1e-12)
    if low_hz is not None and high_hz is not None:
        w1, w2 = warped(low_hz), warped(high_hz)
        x = (w * w - w1 * w2) / (w * (w2 - w1))
    elif low_hz is not None:
        x = warped(low_hz) / w
    elif high_hz is not None:
        x = w / warped(high_hz)
    else:
        raise ValueError("butterworth_power needs low_hz, high_hz or both")
    return 1.0 / (1.0 + x ** (2 * order))


FFT_STEP = 1 << 12
RING_SAMPLES = 1024  # zeros after the signal: its filtered ringing does not wrap round onto its start


def zero_phase(x: np.ndarray, power: Callable[[np.ndarray], np.ndarray], *, sample_rate: float,
               squared: bool = True) -> np.ndarray:
    """`x` (..., samples) filtered without phase shift by the response `power(freqs_hz)` (an
    |H|^2: as filtering forward and back; `squared=False`: by |H|, once), through one FFT of the
    signal with RING_SAMPLES zeros or more after it (what lies beyond `x` counts as silence).
    float64 out, or float32 when `x` and the response are float32 (single-precision FFTs)."""
    n = x.shape[-1]
    size = -(-(n + RING_SAMPLES) // FFT_STEP) * FFT_STEP
    gain = power(np.fft.rfftfreq(size, 1.0 / sample_rate))
    if not squared:
        gain = np.sqrt(gain)
    return np.fft.irfft(np.fft.rfft(x, n=size, axis=-1) * gain, n=size, axis=-1)[..., :n]


def moving_mean(x: np.ndarray, size: int) -> np.ndarray:
    """The mean of `size` values around each of `x` (the window's centre at size // 2), zeros
    beyond its ends (scipy.ndimage.uniform_filter1d, mode "constant")."""
    left = size // 2
    total = np.concatenate([[0.0], np.cumsum(np.pad(np.asarray(x, dtype=np.float64), (left, size - 1 - left)))])
    return (total[size:] - total[:-size]) / size


def max_ahead(x: np.ndarray, size: int) -> np.ndarray:
    """The largest of each value of `x` and the size - 1 after it, mirrored at the end
    (scipy.ndimage.maximum_filter1d, origin -(size // 2), mode "reflect")."""
    from numpy.lib.stride_tricks import sliding_window_view

    return sliding_window_view(np.pad(x, (0, size - 1), mode="symmetric"), size).max(axis=1)


def k_weighting():
    """BS.1770's K-weighting filters as one pedalboard (float32, stateful between calls with
    reset=False; the sample rate is given when it is called): the +4 dB high shelf at 1.5 kHz, then the 38 Hz high pass (Q 0.5: a double
    real pole, so two first-order high passes)."""
    import pedalboard as pb

    return pb.Pedalboard([pb.HighShelfFilter(K_SHELF_HZ, K_SHELF_DB, float(K_SHELF_Q)),
                          pb.HighpassFilter(K_HIGHPASS_HZ), pb.HighpassFilter(K_HIGHPASS_HZ)])


def lowpass_taps(count: int, cutoff: float) -> np.ndarray:
    """A linear-phase low pass of `count` taps with its cutoff at `cutoff` x Nyquist: a sinc
    under a Hamming window, scaled to unit gain at DC (scipy's `firwin` defaults)."""
    m = np.arange(count) - (count - 1) / 2
    taps = cutoff * np.sinc(cutoff * m) * np.hamming(count)
    return taps / taps.sum()


def upsampled_peak(x: np.ndarray, taps: np.ndarray, up: int, *, first: int = 0, stop: int | None = None) -> float:
    """The largest |value| of `x` upsampled `up` times through `taps` (zeros stuffed between
    samples, then filtered), over outputs [first, stop) of the full upsampled signal, whose
    length is (len(x) - 1) * up + len(taps). Output m * up + p is the p-th polyphase branch at m:
    every branch at once is a window of `x` times a (branch taps, up) matrix, one BLAS product
    per block of PEAK_ROWS windows (4-5x faster than `np.convolve` branch by branch)."""
    total = (len(x) - 1) * up + len(taps)
    stop = total if stop is None else min(stop, total)
    if stop <= first:
        return 0.0
    width = -(-len(taps) // up)  # taps per branch
    dtype = np.result_type(x, taps)
    branches = np.zeros(width * up, dtype=dtype)
    branches[:len(taps)] = taps
    weights = branches.reshape(width, up)[::-1].copy()  # [j, p]: branch p's tap for x[m - j], reversed
    padded = np.concatenate([np.zeros(width - 1, dtype), np.asarray(x, dtype), np.zeros(width - 1, dtype)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)  # row m: x[m - width + 1 .. m]
    low, high = first // up, -(-stop // up)  # the rows holding outputs [first, stop)
    peak = 0.0
    for start in range(low, high, PEAK_ROWS):
        end = min(high, start + PEAK_ROWS)
        out = np.abs(windows[start:end] @ weights)
        if start == low:
            out[0, :first - low * up] = 0.0
        if end == high:
            out[-1, stop - (high - 1) * up:] = 0.0
        peak = max(peak, float(out.max()))
    return peak
