"""The ACE-Step music vocoder (ADaMoS HiFi-GAN): log-mel front end and mel -> waveform decoder.

Three parts, named as in the checkpoint:

- `mel_transform`: reflect-padded STFT magnitude (n_fft 2048, hop 512, no centring),
  a Slaney mel filterbank and a clamped natural log. The checkpoint stores the Hann
  window and the filterbank as buffers, and those stored values are the ones used.
- `backbone`: a 1-D ConvNeXt encoder that maps the 128-bin mel to `num_mels` channels.
- `head`: a HiFi-GAN generator (7 transposed-conv upsamplers, 512x in all, each followed
  by the average of 4 multi-dilation residual blocks), ending in tanh.

The convolutions of the head use old-style weight normalisation: the checkpoint holds
`weight_g` (one gain per output filter) and `weight_v` (the direction), and the kernel
is `g * v / ||v||`, recomputed at every call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import CheckpointError
from .checkpoint import WEIGHTS_FILE, load_strict, read_json_config



@dataclass(frozen=True)
class VocoderConfig:
    """Hyper-parameters of `music_vocoder/config.json`; the defaults are the official model."""

    input_channels: int = 128
    depths: tuple[int, ...] = (3, 3, 9, 3)
    dims: tuple[int, ...] = (128, 256, 384, 512)
    kernel_sizes: tuple[int, ...] = (7,)
    upsample_rates: tuple[int, ...] = (4, 4, 2, 2, 2, 2, 2)
    upsample_kernel_sizes: tuple[int, ...] = (8, 8, 4, 4, 4, 4, 4)
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11, 13)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5),) * 4
    num_mels: int = 512
    upsample_initial_channel: int = 1024
    use_template: bool = False
    pre_conv_kernel_size: int = 13
    post_conv_kernel_size: int = 13
    sampling_rate: int = 44100
    n_fft: int = 2048
    win_length: int = 2048
    hop_length: int = 512
    f_min: float = 40.0
    f_max: float = 16000.0
    n_mels: int = 128

    @classmethod
    def from_dict(cls, values: dict) -> VocoderConfig:
        """Read the known keys (lists become tuples) and reject variants this code lacks."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: _as_tuple(v) for k, v in values.items() if k in known}
        config = cls(**kwargs)
        if config.use_template:
            raise CheckpointError("music_vocoder: use_template=true (noise templates) is not supported")
        if len(config.kernel_sizes) != 1:
            raise CheckpointError(
                f"music_vocoder: only one ConvNeXt kernel size is supported, got {config.kernel_sizes}"
            )
        if math.prod(config.upsample_rates) != config.hop_length:
            raise CheckpointError(
                f"music_vocoder: upsample_rates {config.upsample_rates} do not multiply to "
                f"hop_length {config.hop_length}"
            )
        return config


def _as_tuple(value):
    return tuple(_as_tuple(v) for v in value) if isinstance(value, list) else value


# ---------------------------------------------------------------- log-mel front end


def slaney_mel_filterbank(
    n_freqs: int, f_min_hz: float, f_max_hz: float, n_mels: int, sample_rate_hz: int
) -> Tensor:
    """`(n_freqs, n_mels)` triangular filters on the Slaney mel scale, Slaney area-normalised.

    Float32 arithmetic in the order torchaudio's `melscale_fbanks` uses, so the result
    matches the `mel_transform.mel_scale.fb` buffer the checkpoints carry.
    """
    bin_hz = torch.linspace(0, sample_rate_hz // 2, n_freqs)
    mel_points = torch.linspace(_hz_to_slaney_mel(f_min_hz), _hz_to_slaney_mel(f_max_hz), n_mels + 2)
    edge_hz = _slaney_mel_to_hz(mel_points)

    edge_gap_hz = edge_hz[1:] - edge_hz[:-1]
    offset_hz = edge_hz[None, :] - bin_hz[:, None]  # (n_freqs, n_mels + 2)
    rising = (-1.0 * offset_hz[:, :-2]) / edge_gap_hz[:-1]
    falling = offset_hz[:, 2:] / edge_gap_hz[1:]
    filters = torch.clamp(torch.minimum(rising, falling), min=0.0)
    return filters * (2.0 / (edge_hz[2:] - edge_hz[:-2]))[None, :]


_SLANEY_HZ_PER_MEL = 200.0 / 3  # linear below 1 kHz
_SLANEY_LOG_START_HZ = 1000.0
_SLANEY_LOG_START_MEL = _SLANEY_LOG_START_HZ / _SLANEY_HZ_PER_MEL
_SLANEY_LOG_STEP = math.log(6.4) / 27.0


def _hz_to_slaney_mel(hz: float) -> float:
    if hz < _SLANEY_LOG_START_HZ:
        return hz / _SLANEY_HZ_PER_MEL
    return _SLANEY_LOG_START_MEL + math.log(hz / _SLANEY_LOG_START_HZ) / _SLANEY_LOG_STEP


def _slaney_mel_to_hz(mels: Tensor) -> Tensor:
    linear = _SLANEY_HZ_PER_MEL * mels
    logarithmic = _SLANEY_LOG_START_HZ * torch.exp(_SLANEY_LOG_STEP * (mels - _SLANEY_LOG_START_MEL))
    return torch.where(mels >= _SLANEY_LOG_START_MEL, logarithmic, linear)


class STFTMagnitude(nn.Module):
    """|STFT| of a reflect-padded signal: one frame per `hop_length` samples, no centring."""

    def __init__(self, n_fft: int, win_length: int, hop_length: int):
        super().__init__()
        self.n_fft, self.win_length, self.hop_length = n_fft, win_length, hop_length
        self.register_buffer("window", torch.empty(win_length))

    def forward(self, waveform: Tensor) -> Tensor:
        """(C, S) -> (C, n_fft // 2 + 1, S // hop_length) magnitudes, in the input dtype."""
        overlap = self.win_length - self.hop_length
        padded = F.pad(waveform.unsqueeze(1), (overlap // 2, (overlap + 1) // 2), mode="reflect")
        spectrum = torch.stft(
            padded.squeeze(1).float(),
            self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window.float(),
            center=False,
            onesided=True,
            return_complex=True,
        )
        power = torch.view_as_real(spectrum).pow(2).sum(-1)
        return torch.sqrt(power + 1e-6).to(waveform.dtype)


class MelProjection(nn.Module):
    """Applies the `(n_freqs, n_mels)` filterbank `fb` along the frequency axis."""

    def __init__(self, n_freqs: int, n_mels: int):
        super().__init__()
        self.register_buffer("fb", torch.empty(n_freqs, n_mels))

    def forward(self, magnitude: Tensor) -> Tensor:
        return torch.matmul(magnitude.transpose(-1, -2), self.fb).transpose(-1, -2)


class LogMel(nn.Module):
    """Waveform (C, S) at 44.1 kHz -> natural-log mel spectrogram (C, n_mels, S // hop)."""

    def __init__(self, config: VocoderConfig):
        super().__init__()
        self.config = config
        self.spectrogram = STFTMagnitude(config.n_fft, config.win_length, config.hop_length)
        self.mel_scale = MelProjection(config.n_fft // 2 + 1, config.n_mels)
        self.reset_buffers()

    @torch.no_grad()
    def reset_buffers(self) -> None:
        """Compute the periodic Hann window and the filterbank (checkpoints overwrite both)."""
        c = self.config
        self.spectrogram.window.copy_(torch.hann_window(c.win_length))
        f_max_hz = c.f_max or c.sampling_rate // 2
        self.mel_scale.fb.copy_(
            slaney_mel_filterbank(c.n_fft // 2 + 1, c.f_min, f_max_hz, c.n_mels, c.sampling_rate)
        )

    def forward(self, waveform: Tensor) -> Tensor:
        if waveform.ndim == 3:  # (C, 1, S)
            waveform = waveform.squeeze(1)
        mel = self.mel_scale(self.spectrogram(waveform))
        return torch.log(torch.clamp(mel, min=1e-5))


# ---------------------------------------------------------------- ConvNeXt backbone


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channel axis of (N, C, L) tensors."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        centred = x - x.mean(1, keepdim=True)
        variance = centred.pow(2).mean(1, keepdim=True)
        x = centred / torch.sqrt(variance + self.eps)
        return self.weight[:, None] * x + self.bias[:, None]


class ConvNeXtBlock(nn.Module):
    """Depthwise conv, LayerNorm, 4x MLP with GELU, per-channel layer scale `gamma`, residual."""

    def __init__(self, dim: int, kernel_size: int):
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel_size, padding=(kernel_size - 1) // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        h = self.dwconv(x).transpose(1, 2)  # (N, L, C)
        h = self.pwconv2(F.gelu(self.pwconv1(self.norm(h))))
        return x + (self.gamma * h).transpose(1, 2)


class ConvNeXtBackbone(nn.Module):
    """Four ConvNeXt stages; each is entered through a channel layer (stem conv or LN + 1x1 conv)."""

    def __init__(self, config: VocoderConfig):
        super().__init__()
        dims, kernel_size = config.dims, config.kernel_sizes[0]
        stem = nn.Sequential(
            nn.Conv1d(config.input_channels, dims[0], 7, padding=3, padding_mode="replicate"),
            ChannelLayerNorm(dims[0]),
        )
        transitions = [
            nn.Sequential(ChannelLayerNorm(dims[i]), nn.Conv1d(dims[i], dims[i + 1], 1))
            for i in range(len(dims) - 1)
        ]
        self.channel_layers = nn.ModuleList([stem, *transitions])
        self.stages = nn.ModuleList(
            nn.Sequential(*(ConvNeXtBlock(dim, kernel_size) for _ in range(depth)))
            for dim, depth in zip(dims, config.depths)
        )
        self.norm = ChannelLayerNorm(dims[-1])

    def forward(self, mel: Tensor) -> Tensor:
        x = mel
        for channel_layer, stage in zip(self.channel_layers, self.stages):
            x = stage(channel_layer(x))
        return self.norm(x)


# ---------------------------------------------------------------- HiFi-GAN head


def _weight_norm(gain: Tensor, direction: Tensor) -> Tensor:
    """g * v / ||v||, the norm taken over every axis but the first."""
    norm = direction.flatten(1).norm(dim=1).view(-1, *([1] * (direction.ndim - 1)))
    return direction * (gain / norm)


class WeightNormConv1d(nn.Module):
    """Stride-1 'same' Conv1d whose kernel is stored as `weight_g` / `weight_v`."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1):
        super().__init__()
        self.weight_g = nn.Parameter(torch.ones(out_channels, 1, 1))
        self.weight_v = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.dilation = dilation
        self.padding = dilation * (kernel_size - 1) // 2

    def forward(self, x: Tensor) -> Tensor:
        weight = _weight_norm(self.weight_g, self.weight_v)
        return F.conv1d(x, weight, self.bias, padding=self.padding, dilation=self.dilation)


class WeightNormConvTranspose1d(nn.Module):
    """ConvTranspose1d upsampling by `stride` (output = stride x input length), weight-normed."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int):
        super().__init__()
        self.weight_g = nn.Parameter(torch.ones(in_channels, 1, 1))
        self.weight_v = nn.Parameter(torch.empty(in_channels, out_channels, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.stride = stride
        self.padding = (kernel_size - stride) // 2

    def forward(self, x: Tensor) -> Tensor:
        weight = _weight_norm(self.weight_g, self.weight_v)
        return F.conv_transpose1d(x, weight, self.bias, stride=self.stride, padding=self.padding)


class ResBlock(nn.Module):
    """Three residual pairs: SiLU, dilated conv, SiLU, plain conv."""

    def __init__(self, channels: int, kernel_size: int, dilations: tuple[int, ...]):
        super().__init__()
        self.convs1 = nn.ModuleList(
            WeightNormConv1d(channels, channels, kernel_size, dilation=d) for d in dilations
        )
        self.convs2 = nn.ModuleList(
            WeightNormConv1d(channels, channels, kernel_size) for _ in dilations
        )

    def forward(self, x: Tensor) -> Tensor:
        for dilated, plain in zip(self.convs1, self.convs2):
            x = x + plain(F.silu(dilated(F.silu(x))))
        return x


class HiFiGANHead(nn.Module):
    """(N, num_mels, F) features -> (N, 1, F * hop_length) waveform in [-1, 1]."""

    def __init__(self, config: VocoderConfig):
        super().__init__()
        c0 = config.upsample_initial_channel
        self.conv_pre = WeightNormConv1d(config.num_mels, c0, config.pre_conv_kernel_size)
        self.ups = nn.ModuleList(
            WeightNormConvTranspose1d(c0 >> i, c0 >> (i + 1), kernel, rate)
            for i, (rate, kernel) in enumerate(zip(config.upsample_rates, config.upsample_kernel_sizes))
        )
        # Flat list: the blocks of upsampling stage i are resblocks[i * n_kernels : (i+1) * n_kernels].
        self.n_kernels = len(config.resblock_kernel_sizes)
        self.resblocks = nn.ModuleList(
            ResBlock(c0 >> (i + 1), kernel, dilations)
            for i in range(len(self.ups))
            for kernel, dilations in zip(config.resblock_kernel_sizes, config.resblock_dilation_sizes)
        )
        out_channels = c0 >> len(self.ups)
        self.conv_post = WeightNormConv1d(out_channels, 1, config.post_conv_kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv_pre(x)
        for i, upsample in enumerate(self.ups):
            x = upsample(F.silu(x))
            blocks = self.resblocks[i * self.n_kernels : (i + 1) * self.n_kernels]
            total = blocks[0](x)
            for block in blocks[1:]:
                total = total + block(x)
            x = total / self.n_kernels
        return torch.tanh(self.conv_post(F.silu(x)))


# ---------------------------------------------------------------- the vocoder


class Vocoder(nn.Module):
    """Log-mel transform plus mel -> waveform decoder; state-dict keys equal the checkpoint's."""

    def __init__(self, config: VocoderConfig = VocoderConfig()):
        super().__init__()
        self.config = config
        self.backbone = ConvNeXtBackbone(config)
        self.head = HiFiGANHead(config)
        self.mel_transform = LogMel(config)

    @torch.no_grad()
    def mel(self, waveform: Tensor) -> Tensor:
        """(C, S) waveform -> (C, n_mels, S // hop_length) log-mel."""
        return self.mel_transform(waveform)

    @torch.no_grad()
    def decode(self, mel: Tensor) -> Tensor:
        """(C, n_mels, F) log-mel -> (C, 1, F * hop_length) waveform."""
        return self.head(self.backbone(mel))

    def forward(self, mel: Tensor) -> Tensor:
        return self.decode(mel)


def load_vocoder(
    model_dir: str | Path, *, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"
) -> Vocoder:
    """Build the vocoder from `model_dir/config.json` and load its safetensors strictly."""
    model_dir = Path(model_dir)
    config = VocoderConfig.from_dict(read_json_config(model_dir))
    with torch.device("meta"):
        vocoder = Vocoder(config)
    load_strict(vocoder, model_dir / WEIGHTS_FILE, dtype=dtype, device=device)
    return vocoder.eval()


def random_vocoder(
    config: VocoderConfig = VocoderConfig(),
    *,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> Vocoder:
    """A vocoder with random weights (for benchmarks); the mel buffers are the real ones."""
    with torch.device("meta"):
        vocoder = Vocoder(config)
    vocoder = vocoder.to_empty(device=device)
    fill_random_(vocoder, seed)
    vocoder.mel_transform.reset_buffers()
    return vocoder.to(dtype).eval()


# ---------------------------------------------------------------- random weights (benchmarks)


@torch.no_grad()
def fill_random_(module: nn.Module, seed: int = 0) -> None:
    """Cheap random init for benchmark models: variance-1/fan_in kernels, unit gains, zero biases."""
    generator = None
    for name, param in module.named_parameters():
        if generator is None:
            generator = torch.Generator(device=param.device).manual_seed(seed)
        if param.ndim >= 2 and not name.endswith("weight_g"):
            bound = math.sqrt(3.0 / param[0].numel())  # unit-variance fan-in scaling
            param.uniform_(-bound, bound, generator=generator)
        elif name.endswith(("weight", "weight_g", "gamma")):
            param.fill_(1.0)
        else:
            param.zero_()
