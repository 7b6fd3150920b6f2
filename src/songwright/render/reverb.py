"""pedalboard's reverb applied through its impulse response, by FFT convolution.

pedalboard's `Reverb` (JUCE's Freeverb: comb filters and all-passes fed the sum of both
channels) is linear and time-invariant: what it does to a stem is each channel scaled by a dry
gain, plus the channels' sum convolved with one response per side. Both are measured once a
process from the plugin itself (an impulse through it) and the response applied by overlap-add
FFT convolution: a 60 s stereo stem takes 0.05 s instead of the plugin's 0.10 s. The response
is cut where what is left of it holds RESPONSE_FLOOR_DB of its energy (1.4-2.8 s for the mix
chains' rooms): a stem comes out within -85 dB of the plugin's (a held chord, whose notes ring
in the combs longest; noise -95 dB), about one step of a 16-bit file (test_reverb.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pedalboard as pb

RESPONSE_FLOOR_DB = -96.0  # the response's tail left out holds this much of its energy, or less
RESPONSE_MAX_S = 4.0  # an impulse is followed this long; a room ringing longer is left to the plugin


@dataclass(frozen=True)
class Room:
    """A `pb.Reverb`'s settings (freeze mode off: with it on the plugin is not a filter)."""
    room_size: float
    damping: float
    wet_level: float
    dry_level: float
    width: float

    @classmethod
    def of(cls, plugin: pb.Reverb) -> Room | None:
        if plugin.freeze_mode:
            return None
        return cls(plugin.room_size, plugin.damping, plugin.wet_level, plugin.dry_level, plugin.width)

    def plugin(self) -> pb.Reverb:
        return pb.Reverb(room_size=self.room_size, damping=self.damping, wet_level=self.wet_level,
                         dry_level=self.dry_level, width=self.width)


@dataclass(frozen=True)
class Response:
    dry_gain: np.float32  # each channel's own, into its side
    wet: np.ndarray  # (2, taps) float32: each side's response to the sum of the channels


@functools.lru_cache(maxsize=None)
def response(room: Room, sample_rate: int) -> Response | None:
    """The room's dry gain and wet response, measured on the plugin; None if it still rings past
    RESPONSE_MAX_S."""
    impulse = np.zeros((2, int(RESPONSE_MAX_S * sample_rate)), dtype=np.float32)
    impulse[0, 0] = 1.0
    heard = room.plugin()(impulse, sample_rate).astype(np.float64)
    opposite = np.array([[1.0], [-1.0]], dtype=np.float32)  # the channels' sum is silent: the dry path alone
    dry_gain = room.plugin()(opposite, sample_rate)[0, 0]
    heard[0, 0] -= dry_gain
    energy = (heard ** 2).sum(axis=0)
    from_here = np.cumsum(energy[::-1])[::-1]  # the energy of the response from each sample on
    floor = (dry_gain ** 2 + energy.sum()) * 10 ** (RESPONSE_FLOOR_DB / 10)
    if from_here[-1] > floor:
        return None
    taps = int(np.flatnonzero(from_here > floor)[-1]) + 1 if from_here[0] > floor else 1
    return Response(np.float32(dry_gain), np.ascontiguousarray(heard[:, :taps], dtype=np.float32))


@functools.lru_cache(maxsize=32)
def _spectrum(room: Room, sample_rate: int, fft_size: int) -> np.ndarray:
    return np.fft.rfft(response(room, sample_rate).wet, n=fft_size, axis=1)


def reverb_in_place(plugin: pb.Reverb, audio: np.ndarray, sample_rate: int) -> None:
    """`plugin` over a (2, samples) float32 stem with contiguous rows, in place: as the plugin
    itself from a fresh start would (by the plugin, if it is not a filter or rings too long)."""
    room = Room.of(plugin)
    measured = response(room, sample_rate) if room is not None else None
    if measured is None:
        audio[:] = plugin(audio, sample_rate, reset=True)
        return
    samples, taps = audio.shape[1], measured.wet.shape[1]
    if samples == 0:
        return
    # Four times the response a block (fewest operations per sample), or the whole stem in one.
    fft_size = 1 << int(np.ceil(np.log2(min(4 * taps, samples + taps - 1))))
    step = fft_size - taps + 1
    spectrum = _spectrum(room, sample_rate, fft_size)
    carried = np.zeros((2, taps - 1), dtype=np.float32)  # the blocks before ring on into this one
    for start in range(0, samples, step):
        block = audio[:, start:start + step]
        wet = np.fft.irfft(np.fft.rfft(block[0] + block[1], n=fft_size) * spectrum, n=fft_size, axis=1)
        wet[:, :taps - 1] += carried
        carried = wet[:, block.shape[1]:block.shape[1] + taps - 1].copy()
        block *= measured.dry_gain
        block += wet[:, :block.shape[1]]
