"""Band-limited resampling, numerically equal to torchaudio's default `transforms.Resample`.

The sample rates are reduced by their gcd to `orig` input and `new` output samples per
period. Every output phase gets its own Hann-windowed sinc filter (`lowpass_filter_width`
6 zero crossings, cutoff `rolloff` 0.99 times the lower Nyquist rate); a strided conv1d
then applies all `new` phases at once and the phases are interleaved. The filters are
built in float64 and stored as float32, and the signal is filtered in float32, as
torchaudio does with its default arguments.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import Tensor

LOWPASS_FILTER_WIDTH = 6
ROLLOFF = 0.99


def resample(waveform: Tensor, orig_hz: int, new_hz: int) -> Tensor:
    """Resample `(..., samples)` from `orig_hz` to `new_hz`; float32 math and result.

    The output has ceil(samples * new_hz / orig_hz) samples (that quotient rounded to
    float32 first, as torchaudio does). Equal rates return the float32 input unchanged.
    """
    if orig_hz <= 0 or new_hz <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_hz} -> {new_hz}")
    waveform = waveform.to(torch.float32)
    if orig_hz == new_hz:
        return waveform
    gcd = math.gcd(int(orig_hz), int(new_hz))
    orig, new = int(orig_hz) // gcd, int(new_hz) // gcd
    filters, width = _phase_filters(orig, new)
    filters = filters.to(waveform.device)

    leading_shape, n_samples = waveform.shape[:-1], waveform.shape[-1]
    signals = waveform.reshape(-1, 1, n_samples)
    signals = F.pad(signals, (width, width + orig))
    phases = F.conv1d(signals, filters, stride=orig)  # (N, new, periods)
    out = phases.transpose(1, 2).reshape(signals.shape[0], -1)
    return out[:, : _output_length(n_samples, orig, new)].reshape(*leading_shape, -1)


def _output_length(n_samples: int, orig: int, new: int) -> int:
    """ceil(n * new / orig), with the quotient rounded to float32 before the ceil."""
    quotient = torch.tensor(new * n_samples / orig, dtype=torch.float32)
    return int(torch.ceil(quotient))


@functools.lru_cache(maxsize=16)
def _phase_filters(orig: int, new: int) -> tuple[Tensor, int]:
    """The `(new, 1, 2*width + orig)` float32 filter bank and its half-width in input samples."""
    cutoff = min(orig, new) * ROLLOFF  # in cycles per period of the reduced rates
    width = math.ceil(LOWPASS_FILTER_WIDTH * orig / cutoff)
    input_times = torch.arange(-width, width + orig, dtype=torch.float64) / orig
    # torchaudio computes the output phase offsets in float32 before mixing them with the
    # float64 input times; keep that rounding so the filters agree to the last bit.
    phase_offsets = (torch.arange(0, -new, -1) / new).to(torch.float64)
    t = (phase_offsets[:, None, None] + input_times[None, None, :]) * cutoff
    t = t.clamp(-LOWPASS_FILTER_WIDTH, LOWPASS_FILTER_WIDTH)

    hann = torch.cos(t * math.pi / LOWPASS_FILTER_WIDTH / 2) ** 2
    t = t * math.pi
    sinc = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / t)
    filters = sinc * (hann * (cutoff / orig))
    return filters.to(torch.float32), width
