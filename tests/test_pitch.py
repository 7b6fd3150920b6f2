"""songwright.audio.pitch: pYIN's Viterbi step done band by band gives librosa's own states."""

import librosa
import librosa.sequence
import numpy as np
import pytest

from songwright.audio import pitch


def pyin_transition(pitches: int, width: int, switch: float) -> np.ndarray:
    """The transition matrix librosa.pyin decodes with: a triangle band in each voicing block."""
    local = librosa.sequence.transition_local(pitches, width, window="triangle", wrap=False)
    return np.kron(librosa.sequence.transition_loop(2, 1 - switch), local)


@pytest.mark.parametrize("seed", range(6))
def test_the_banded_decoder_finds_librosas_states(seed):
    rng = np.random.default_rng(seed)
    pitches, frames = int(rng.integers(20, 90)), int(rng.integers(2, 120))
    transition = pyin_transition(pitches, int(rng.choice([3, 11, 21, 51])), float(rng.choice([0.01, 0.3])))
    prob = rng.random((2 * pitches, frames))
    if seed % 2:  # few distinct values and zeros: ties everywhere, broken as np.argmax breaks them
        prob = np.round(prob * 3) / 3 * (rng.random(prob.shape) > 0.3)
    p_init = np.full(2 * pitches, 1 / (2 * pitches))
    want = librosa.sequence.viterbi(prob, transition, p_init=p_init)
    got = pitch.banded_viterbi(prob, transition, p_init=p_init)
    assert got.dtype == want.dtype and np.array_equal(got, want)
    stacked = np.stack([prob, prob[::-1]])  # (channels, states, frames), as pyin hands it over
    assert np.array_equal(pitch.banded_viterbi(stacked, transition, p_init=p_init),
                          librosa.sequence.viterbi(stacked, transition, p_init=p_init))


@pytest.mark.parametrize("seed", range(4))
def test_jumps_across_the_band_and_ties_between_far_states_go_where_librosa_sends_them(seed):
    """Frames where only a few far-apart states are possible at all (probability 1 or 0): the
    path must leave the band (a zero transition, where librosa adds the log of its epsilon), and
    equally good states abound, so every tie must be broken towards the first state."""
    rng = np.random.default_rng(100 + seed)
    pitches, frames = 60, 80
    transition = pyin_transition(pitches, 3 if seed % 2 else 11, 0.01)
    prob = (rng.random((2 * pitches, frames)) < 0.04).astype(float)
    prob[:, rng.random(frames) < 0.1] = 0.0  # frames where nothing is possible: every state ties
    want = librosa.sequence.viterbi(prob, transition)
    assert np.array_equal(pitch.banded_viterbi(prob, transition), want)
    assert np.abs(np.diff(want.astype(int) % pitches)).max() > 5  # it did jump out of the band


def test_a_matrix_with_a_gap_in_a_column_is_decoded_by_librosa_and_a_full_one_banded():
    rng = np.random.default_rng(7)
    prob = rng.random((10, 30))
    full = rng.random((10, 10))
    gap = full.copy()
    gap[2, 1] = 0.0  # column 1: rows 0 and 1, then 3-4
    for transition, banded in ((full, True), (gap, False)):
        transition = transition / transition.sum(axis=1, keepdims=True)
        assert (pitch._bands(transition) is not None) == banded
        assert np.array_equal(pitch.banded_viterbi(prob, transition), librosa.sequence.viterbi(prob, transition))


def test_pyin_gives_librosas_track_and_puts_its_viterbi_back():
    sr = 22050
    t = np.arange(int(1.5 * sr)) / sr
    hz = 220 * 2 ** ((np.floor(t * 4) % 3) / 12 + 0.3 / 12 * np.sin(2 * np.pi * 5.5 * t))  # steps, vibrato
    y = (0.3 * np.sin(2 * np.pi * np.cumsum(hz) / sr) * (np.sin(2 * np.pi * 1.3 * t) > -0.6)).astype(np.float32)
    kwargs = dict(fmin=65.0, fmax=1000.0, sr=sr, frame_length=2048, hop_length=256)
    want = librosa.pyin(y, **kwargs)
    got = pitch.pyin(y, **kwargs)
    assert want[1].any() and not want[1].all()  # voiced and unvoiced frames both
    for a, b in zip(got, want):
        assert np.array_equal(a, b, equal_nan=True)
    assert librosa.sequence.viterbi is pitch._original()
    with pytest.raises(Exception):
        pitch.pyin(y, fmin=500.0, fmax=100.0, sr=sr)  # librosa refuses fmin > fmax
    assert librosa.sequence.viterbi is pitch._original()
