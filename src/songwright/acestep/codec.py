"""The ACE-Step audio codec: stereo waveform <-> Music-DCAE latents (B, 8, 16, T).

Encoding: resample to 44.1 kHz, zero-pad to whole latent frames (4096 samples), take the
vocoder's log-mel of each channel, map it to [-1, 1], run the DCAE encoder (8x down in
time and in frequency) and standardise the latent. Decoding runs that backwards: the DCAE
decoder gives a mel per channel, the vocoder turns each channel into 44.1 kHz audio on its
own (to bound memory), and the result is resampled on the CPU in float32. Nothing is
trimmed, so a latent of T frames decodes to T * 4096 samples at 44.1 kHz.

The DCAE itself is diffusers' `AutoencoderDC`, which reproduces upstream exactly.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from ..errors import CheckpointError, InvalidRequest, MissingDependency
from .resample import resample
from .checkpoint import WEIGHTS_FILE, load_strict, read_json_config
from .vocoder import Vocoder, fill_random_, load_vocoder, random_vocoder

DCAE_DIR = "music_dcae_f8c8"
VOCODER_DIR = "music_vocoder"

# The official Music-DCAE; the fixtures' tiny model differs only in widths and head size.
OFFICIAL_DCAE_CONFIG = {
    "in_channels": 2,
    "latent_channels": 8,
    "attention_head_dim": 32,
    "encoder_block_types": ["ResBlock", "ResBlock", "ResBlock", "EfficientViTBlock"],
    "decoder_block_types": ["ResBlock", "ResBlock", "ResBlock", "EfficientViTBlock"],
    "encoder_block_out_channels": [128, 256, 512, 1024],
    "decoder_block_out_channels": [128, 256, 512, 1024],
    "encoder_layers_per_block": [2, 2, 3, 3],
    "decoder_layers_per_block": [3, 3, 3, 3],
    "encoder_qkv_multiscales": [[], [], [5], [5]],
    "decoder_qkv_multiscales": [[], [], [5], [5]],
    "upsample_block_type": "interpolate",
    "downsample_block_type": "Conv",
    "decoder_norm_types": "rms_norm",
    "decoder_act_fns": "silu",
    "scaling_factor": 0.41407,
}


class MusicCodec(nn.Module):
    """Music-DCAE plus vocoder plus the mel front end, as one encode/decode pair."""

    sample_rate_hz = 44100
    output_rate_hz = 48000
    samples_per_latent_frame = 4096  # 8 mel frames of 512 samples

    # Log-mel values are mapped from [MEL_MIN, MEL_MAX] to [-1, 1] for the DCAE.
    MEL_MIN = -11.0
    MEL_MAX = 3.0
    # DCAE encoder outputs are standardised as (x - LATENT_SHIFT) * LATENT_SCALE.
    LATENT_SHIFT = -1.9091
    LATENT_SCALE = 0.1786

    def __init__(self, dcae: nn.Module, vocoder: Vocoder):
        super().__init__()
        self.dcae = dcae
        self.vocoder = vocoder

    @property
    def dtype(self) -> torch.dtype:
        return self.vocoder.head.conv_pre.bias.dtype

    @property
    def device(self) -> torch.device:
        return self.vocoder.head.conv_pre.bias.device

    # ------------------------------------------------------------ encode

    @torch.no_grad()
    def encode(self, audio: Tensor, sample_rate_hz: int = 44100) -> tuple[Tensor, Tensor]:
        """(B, 2, S) waveform -> latents (B, 8, 16, T) and int64 latent_lengths (B,).

        T covers the input padded to whole 4096-sample frames at 44.1 kHz, while
        latent_lengths truncates: int(S / sample_rate_hz * 44100 / 4096), in float32.
        """
        if audio.ndim != 3 or audio.shape[1] != 2:
            raise InvalidRequest("audio", "must have shape (batch, 2, samples)", tuple(audio.shape))
        audio = audio.to(self.device, self.dtype)
        audio_44k = resample(audio, sample_rate_hz, self.sample_rate_hz).to(self.dtype)
        mel = self.normalize_mel(self.mel(audio_44k))
        encoded = torch.cat([self.dcae.encoder(item[None]) for item in mel])
        latents = (encoded - self.LATENT_SHIFT) * self.LATENT_SCALE
        return latents, self.latent_lengths(audio.shape[0], audio.shape[-1], sample_rate_hz)

    def mel(self, audio_44k: Tensor) -> Tensor:
        """(B, 2, S) at 44.1 kHz -> (B, 2, 128, F) log-mel of the audio zero-padded to whole latent frames."""
        overhang = audio_44k.shape[-1] % self.samples_per_latent_frame
        if overhang:
            audio_44k = nn.functional.pad(audio_44k, (0, self.samples_per_latent_frame - overhang))
        return torch.stack([self.vocoder.mel(item) for item in audio_44k])

    @classmethod
    def normalize_mel(cls, mel: Tensor) -> Tensor:
        """Log-mel -> DCAE input: [MEL_MIN, MEL_MAX] to [0, 1], then to [-1, 1]."""
        unit = (mel - cls.MEL_MIN) / (cls.MEL_MAX - cls.MEL_MIN)
        return (unit - 0.5) / 0.5

    def latent_lengths(self, batch: int, n_samples: int, sample_rate_hz: int) -> Tensor:
        """Whole latent frames per item, computed in float32 and truncated as upstream does."""
        lengths = torch.full((batch,), n_samples, dtype=torch.int64, device=self.device)
        frames = lengths / sample_rate_hz * self.sample_rate_hz / 512 / 8
        return frames.long()

    # ------------------------------------------------------------ decode

    @torch.no_grad()
    def decode(self, latents: Tensor, output_rate_hz: int = 48000) -> list[Tensor]:
        """Latents (B, 8, 16, T) -> one (2, T * 4096 resampled) float32 CPU waveform per item."""
        latents = latents.to(self.device, self.dtype)
        waveforms = []
        for latent in latents:
            mel = self.latents_to_mel(latent[None])[0]
            waveforms.append(resample(self.vocode(mel), self.sample_rate_hz, output_rate_hz))
        return waveforms

    def latents_to_mel(self, latents: Tensor) -> Tensor:
        """(B, 8, 16, T) latents -> (B, 2, 128, 8T) log-mel, via the DCAE decoder."""
        decoded = self.dcae.decoder(latents / self.LATENT_SCALE + self.LATENT_SHIFT)
        return self.denormalize_mel(decoded)

    @classmethod
    def denormalize_mel(cls, x: Tensor) -> Tensor:
        """DCAE output in [-1, 1] -> log-mel in [MEL_MIN, MEL_MAX]."""
        unit = x * 0.5 + 0.5
        return unit * (cls.MEL_MAX - cls.MEL_MIN) + cls.MEL_MIN

    def vocode(self, mel: Tensor) -> Tensor:
        """(C, 128, F) log-mel -> (C, F * 512) float32 CPU waveform, one channel at a time."""
        channels = [self.vocoder.decode(mel[c : c + 1]).squeeze(1).cpu() for c in range(mel.shape[0])]
        return torch.cat(channels).float()


# ---------------------------------------------------------------- construction


def load_codec(
    checkpoint_dir: str | Path,
    *,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> MusicCodec:
    """Load `music_dcae_f8c8/` and `music_vocoder/` from an ACE-Step checkpoint folder."""
    checkpoint_dir = Path(checkpoint_dir)
    for sub in (DCAE_DIR, VOCODER_DIR):
        if not (checkpoint_dir / sub).is_dir():
            raise CheckpointError(f"missing checkpoint folder: {checkpoint_dir / sub}")
    dcae_dir = checkpoint_dir / DCAE_DIR
    dcae = _empty_dcae(read_json_config(dcae_dir))
    load_strict(dcae, dcae_dir / WEIGHTS_FILE, dtype=dtype, device=device)
    vocoder = load_vocoder(checkpoint_dir / VOCODER_DIR, dtype=dtype, device=device)
    return MusicCodec(dcae.eval(), vocoder).eval()


def full_size_codec(
    *, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu", seed: int = 0
) -> MusicCodec:
    """The official-size DCAE and vocoder with random weights, for speed benchmarks."""
    dcae = _empty_dcae(OFFICIAL_DCAE_CONFIG).to_empty(device=device)
    fill_random_(dcae, seed)
    if dtype != torch.float32:  # (diffusers logs a warning on any .to(dtype))
        dcae = dcae.to(dtype)
    vocoder = random_vocoder(dtype=dtype, device=device, seed=seed + 1)
    return MusicCodec(dcae.eval(), vocoder).eval()


def _empty_dcae(config: dict) -> nn.Module:
    """An `AutoencoderDC` with parameters on the meta device (no init cost)."""
    try:
        from diffusers import AutoencoderDC
    except ImportError as exc:
        raise MissingDependency("diffusers (for the Music-DCAE)", 'pip install -e ".[neural]"') from exc
    with torch.device("meta"):
        return AutoencoderDC.from_config(config)
