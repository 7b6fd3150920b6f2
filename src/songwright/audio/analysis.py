"""What a listener would measure from a finished file: tempo, key, loudness, true peak, length.

Tempo comes from librosa's onset autocorrelation, refined to a fraction of a lag; key from the
best match of the mix's mean CQT chroma to the 24 rotations of Albrecht & Shanahan's (2013)
major and minor key profiles.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import InvalidRequest
from ..theory import SHARP_NAMES
from .io import read_audio
from .measure import integrated_lufs, true_peak_db

ANALYSIS_RATE = 22050
HOP = 256
# Albrecht & Shanahan (2013) key profiles, tonic first.
MAJOR_PROFILE = np.array([0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081])
MINOR_PROFILE = np.array([0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052])


def mono_at(audio: np.ndarray, sample_rate: int, target_rate: int = ANALYSIS_RATE) -> np.ndarray:
    """(samples, channels) or mono audio, mixed to mono and resampled to `target_rate`."""
    import librosa

    mono = np.asarray(audio, dtype=np.float32)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    return librosa.resample(mono, orig_sr=sample_rate, target_sr=target_rate, res_type="soxr_hq")


def estimate_tempo(audio: np.ndarray, sample_rate: int) -> float:
    """The beat rate in BPM (librosa may answer half or double the written tempo)."""
    import librosa

    y = mono_at(audio, sample_rate)
    onset = librosa.onset.onset_strength(y=y, sr=ANALYSIS_RATE, hop_length=HOP)
    coarse = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=onset, sr=ANALYSIS_RATE, hop_length=HOP))[0])
    # Refine: parabolic interpolation of the onset autocorrelation around the chosen lag.
    lag = 60.0 * ANALYSIS_RATE / (HOP * coarse)
    acf = librosa.autocorrelate(onset - onset.mean(), max_size=int(lag * 2) + 3)
    k = int(round(lag))
    k = max(1, min(len(acf) - 2, k - 1 + int(np.argmax(acf[k - 1:k + 2]))))
    left, centre, right = acf[k - 1], acf[k], acf[k + 1]
    denominator = left - 2 * centre + right
    refined = k + (0.5 * (left - right) / denominator if denominator < 0 else 0.0)
    return 60.0 * ANALYSIS_RATE / (HOP * refined)


def estimate_key(audio: np.ndarray, sample_rate: int) -> tuple[str, str, float]:
    """(tonic name, "major"|"minor", correlation score)."""
    import librosa

    y = mono_at(audio, sample_rate)
    chroma = librosa.feature.chroma_cqt(y=y, sr=ANALYSIS_RATE, hop_length=2048).mean(axis=1)
    best = ("C", "major", -np.inf)
    for mode, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
        for tonic in range(12):
            score = np.corrcoef(chroma, np.roll(profile, tonic))[0, 1]
            if score > best[2]:
                best = (SHARP_NAMES[tonic], mode, float(score))
    return best


MIN_ANALYSIS_S = 1.0  # shorter audio has too few frames for a tempo or key
SILENCE_DBFS = -90.0  # a file whose peak is below this is silent: no tempo, key or loudness


def analyze_file(path: str) -> dict:
    """Duration, tempo, key, loudness and true peak of an audio file. Audio too short to analyse
    or holding NaN or infinite samples is refused (InvalidRequest on `file`); for silence the
    tempo, key and loudness are None (JSON null) and `silent` says why."""
    audio, sample_rate = read_audio(path)
    duration_s = len(audio) / sample_rate
    if duration_s < MIN_ANALYSIS_S:
        raise InvalidRequest("file", f"is too short to analyse (needs at least {MIN_ANALYSIS_S:g} s of audio)",
                             f"{len(audio)} samples ({duration_s:.3f} s)")
    if not np.isfinite(audio).all():
        raise InvalidRequest("file", "holds NaN or infinite samples, which are not audio", str(path))
    peak = float(np.max(np.abs(audio)))
    silent = peak < 10 ** (SILENCE_DBFS / 20)
    report = {"duration_s": round(duration_s, 3), "sample_rate": sample_rate, "channels": audio.shape[1],
              "silent": silent, "tempo_bpm": None, "key": None, "loudness_lufs": None,
              "true_peak_dbtp": round(20 * np.log10(peak), 2) if peak > 0 else None}
    if silent:
        return report
    with warnings.catch_warnings():  # librosa's notes on quiet passages ("empty frequency set")
        warnings.simplefilter("ignore")
        tonic, mode, _ = estimate_key(audio, sample_rate)
        tempo_bpm = float(estimate_tempo(audio, sample_rate))
        loudness = integrated_lufs(audio, sample_rate)
    report |= {"tempo_bpm": round(tempo_bpm, 1) if np.isfinite(tempo_bpm) else None, "key": f"{tonic} {mode}",
               "loudness_lufs": round(loudness, 2) if np.isfinite(loudness) else None,
               "true_peak_dbtp": round(true_peak_db(audio), 2)}
    return report
