"""The mix chains' reverb applied as its measured response (render/reverb.py): the samples the
plugin itself gives, to within the response's floor."""

import numpy as np
import pedalboard as pb
import pytest

from songwright.render import reverb
from songwright.render.mix import stem_chain

SR = 44100


def error_db(got: np.ndarray, want: np.ndarray) -> float:
    """The difference's energy against the plugin's output, dB."""
    diff = got.astype(np.float64) - want
    return float(10 * np.log10(np.sum(diff ** 2) / np.sum(want.astype(np.float64) ** 2) + 1e-300))


def chain_reverbs() -> list[pb.Reverb]:
    rooms = [p for stem in ("keys", "strings", "lead", "vocals", "harmony") for p in stem_chain(stem, 100.0)
             if isinstance(p, pb.Reverb)]
    assert len(rooms) == 5
    return rooms


def music(seconds: float, seed: int) -> np.ndarray:
    """Stereo notes with gaps and a loud burst: what a stem holds, not white noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    notes = sum(np.sin(2 * np.pi * hz * t + rng.uniform(0, 6)) * (np.sin(2 * np.pi * rate * t) > 0.3)
                for hz, rate in ((220, 0.7), (330, 1.3), (440, 2.1), (1760, 5.0)))
    left = 0.1 * notes + 0.01 * rng.standard_normal(t.size)
    right = 0.5 * left + 0.05 * rng.standard_normal(t.size)
    audio = np.stack([left, right]).astype(np.float32)
    audio[:, SR:SR + 2000] *= 8  # a hit: the response must hold level too
    return audio


@pytest.mark.parametrize("seconds", [0.05, 2.0, 14.0])  # one block shorter than the response; one; several
def test_every_chains_reverb_gives_the_plugins_samples_to_within_its_floor(seconds):
    for index, plugin in enumerate(chain_reverbs()):
        audio = music(seconds, seed=index)
        want = plugin(audio, SR, reset=True)
        got = audio.copy()
        reverb.reverb_in_place(plugin, got, SR)
        assert got.dtype == np.float32 and got.shape == audio.shape
        assert error_db(got, want) < -80.0, (plugin, seconds)  # measured: -85 to -151 dB
        assert np.abs(got - want).max() < 1e-4 * np.abs(want).max()


def test_a_mono_line_on_two_channels_comes_out_stereo_as_from_the_plugin():
    plugin = chain_reverbs()[3]
    line = music(5.0, seed=9)[:1]
    audio = np.repeat(line, 2, axis=0)
    want = plugin(audio, SR, reset=True)
    reverb.reverb_in_place(plugin, audio, SR)
    assert error_db(audio, want) < -80.0
    assert not np.array_equal(audio[0], audio[1])  # the room spreads it


def test_the_response_is_measured_from_the_plugin_and_cut_at_its_floor():
    keys, strings = chain_reverbs()[:2]
    small, large = (reverb.response(reverb.Room.of(p), SR) for p in (keys, strings))
    assert 0.5 * SR < small.wet.shape[1] < large.wet.shape[1] < reverb.RESPONSE_MAX_S * SR  # the larger room rings longer
    impulse = np.zeros((2, SR), dtype=np.float32)
    impulse[0, 0] = 1.0
    heard = keys(impulse, SR, reset=True)
    assert heard[0, 0] == small.dry_gain and heard[1, 0] == small.wet[1, 0]
    assert np.array_equal(heard[1, 1:SR // 4], small.wet[1, 1:SR // 4])


@pytest.mark.parametrize("plugin", [pb.Reverb(room_size=0.5, freeze_mode=1.0), pb.Reverb(room_size=1.0)])
def test_a_room_that_is_not_a_short_filter_is_left_to_the_plugin(plugin):
    audio = music(1.0, seed=3)
    want = plugin(audio, SR, reset=True)
    reverb.reverb_in_place(plugin, audio, SR)
    assert np.array_equal(audio, want)
