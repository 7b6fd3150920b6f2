"""The filters a song is made and measured with (audio/filters.py, audio/measure.py) against the
libraries they stand in for: scipy.signal's Butterworth designs and filtfilt, scipy.ndimage's
running filters, firwin and upfirdn, and pyloudnorm's BS.1770 meter."""

import numpy as np
import pyloudnorm
import pytest
from scipy.ndimage import maximum_filter1d, uniform_filter1d
from scipy.signal import butter, firwin, sosfiltfilt, sosfreqz, upfirdn

from songwright.audio import filters
from songwright.audio.measure import integrated_lufs, true_peak_db

RATE = 44100


@pytest.mark.parametrize("order, band, kind", [(4, 5000.0, "highpass"), (2, 300.0, "lowpass"),
                                               (2, (1500.0, 7000.0), "bandpass")])
def test_butterworth_power_is_scipys_design_squared(order, band, kind):
    hz = np.linspace(5.0, 22000.0, 2000)
    _, h = sosfreqz(butter(order, band, btype=kind, fs=RATE, output="sos"), worN=hz, fs=RATE)
    edges = {"highpass": lambda: {"low_hz": band}, "lowpass": lambda: {"high_hz": band},
             "bandpass": lambda: {"low_hz": band[0], "high_hz": band[1]}}[kind]()
    mine = filters.butterworth_power(hz, sample_rate=RATE, order=order, **edges)
    assert np.max(np.abs(mine - np.abs(h) ** 2)) < 1e-9


def test_zero_phase_is_filtfilt_away_from_the_ends():
    x = np.random.default_rng(1).standard_normal(30000)
    sos = butter(4, 5000.0, btype="highpass", fs=RATE, output="sos")
    mine = filters.zero_phase(x, lambda hz: filters.butterworth_power(hz, sample_rate=RATE, order=4, low_hz=5000.0),
                              sample_rate=RATE)
    assert np.max(np.abs(mine - sosfiltfilt(sos, x))[2000:-2000]) < 1e-9


@pytest.mark.parametrize("size", [1, 7, 8, 83])
def test_running_mean_and_hold_are_scipy_ndimages(size):
    x = np.random.default_rng(size).random(1000).astype(np.float32)
    assert np.allclose(filters.moving_mean(x, size), uniform_filter1d(x, size=size, mode="constant"), atol=1e-6)
    assert np.array_equal(filters.max_ahead(x, size), maximum_filter1d(x, size=size, origin=-(size // 2)))
    assert np.array_equal(filters.max_ahead(x[:50], size), maximum_filter1d(x[:50], size=size, origin=-(size // 2)))


def test_the_interpolator_and_the_upsampled_peak_are_firwin_and_upfirdn():
    taps = filters.lowpass_taps(48, 0.25)
    assert np.max(np.abs(taps - firwin(48, 0.25))) < 1e-12
    x = np.random.default_rng(2).standard_normal(5000)
    up = upfirdn(taps * 4, x, up=4)
    assert filters.upsampled_peak(x, taps * 4, 4) == pytest.approx(np.max(np.abs(up)), abs=1e-12)
    assert filters.upsampled_peak(x, taps * 4, 4, first=101, stop=4003) == pytest.approx(np.max(np.abs(up[101:4003])),
                                                                                       abs=1e-12)
    odd = firwin(50, 0.3) * 4  # a branch shorter than the others; outputs starting and stopping mid-branch
    up = upfirdn(odd, x, up=4)
    for first, stop in ((0, None), (1, 7), (3, 4), (4097, 20000), (19999, 20050), (17, 17)):
        expected = np.abs(up[first:stop]).max(initial=0.0)
        assert filters.upsampled_peak(x, odd, 4, first=first, stop=stop) == pytest.approx(expected, abs=1e-12)
        assert filters.upsampled_peak(x.astype(np.float32), odd.astype(np.float32), 4, first=first,
                                      stop=stop) == pytest.approx(expected, abs=1e-5)


def test_the_loudness_meter_reads_what_pyloudnorm_reads(seed_song):
    rng = np.random.default_rng(3)
    t = np.arange(5 * RATE) / RATE
    signals = [rng.standard_normal((10 * RATE, 2)) * 0.1,  # broadband
               np.repeat(0.5 * np.sin(2 * np.pi * 30 * t)[:, None], 2, axis=1),  # under the 38 Hz high pass
               np.repeat(0.2 * np.sin(2 * np.pi * 3000 * t)[:, None], 2, axis=1),  # on the shelf
               rng.standard_normal((3 * RATE, 1)) * 0.01,  # mono, quiet
               seed_song.audio]
    for audio in signals:
        audio = audio.astype(np.float32)
        reference = pyloudnorm.Meter(RATE).integrated_loudness(audio.astype(np.float64))
        assert integrated_lufs(audio, RATE) == pytest.approx(reference, abs=0.005)
    with pytest.raises(ValueError, match="gating block"):
        integrated_lufs(np.zeros((1000, 2), np.float32), RATE)


def test_true_peak_finds_the_peak_between_samples():
    t = np.arange(RATE) / RATE
    x = np.sin(2 * np.pi * (RATE / 4) * t + np.pi / 4).astype(np.float32)  # samples at +-0.707, peaks at 1
    assert float(np.max(np.abs(x))) == pytest.approx(0.7071, abs=1e-3)
    assert true_peak_db(x) == pytest.approx(0.0, abs=0.2)


def test_true_peak_counts_the_largest_sample_of_either_sign():
    """A single sample is never under the peak reported, whichever its sign (the largest |sample|
    is the larger of the maximum and minus the minimum: no copy of the song)."""
    for sample in (0.5, -0.5):
        x = np.zeros((64, 2), np.float32)
        x[20, 1] = sample
        assert true_peak_db(x) == pytest.approx(20 * np.log10(0.5), abs=1e-6)  # (between samples: 0.488)
    assert np.isnan(true_peak_db(np.array([[0.1, np.nan]], np.float32)))


def test_the_glue_compressor_run_channel_by_channel_is_the_stereo_compressor():
    """The master's bus compressor runs each channel on its own core: pedalboard's compressor does
    not link the channels, so the samples are those of one stereo run (a linked one would fail)."""
    import pedalboard as pb

    from songwright.render import mix

    rng = np.random.default_rng(3)
    audio = (rng.standard_normal((2, 3 * 44100)) * np.array([[0.5], [0.05]])).astype(np.float32)
    stereo = pb.Pedalboard([pb.Compressor(threshold_db=-14, ratio=2, attack_ms=20, release_ms=200)])(audio, 44100)
    mix._compress_bus(audio, 44100)
    assert np.array_equal(audio, stereo)
