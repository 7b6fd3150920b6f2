"""The ACE-Step v1 inference pipeline: conditioning, flow-matching sampling and decoding.

Stages, each a function or method below:
1. `conditions`: tags through UMT5, lyrics through the lyric tokenizer, both through the
   transformer's `encode` into the cond / uncond (/ text-only) conditioning.
2. `start_latents`: the seeded noise, mixed for retake and repaint, or noised from a reference
   for audio2audio, and the timesteps to run.
3. `denoise`: the sampler loop with guidance inside the guidance window.
4. `decode`: latents to a stereo waveform through the DCAE and the vocoder.

Everything is deterministic for a given seed: noise comes from CPU generators seeded per batch
item, as upstream does on CPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from ..errors import CheckpointError, InvalidRequest
from . import guidance as guide
from .codec import MusicCodec, load_codec
from .lyric_tokenizer import LyricTokenizer, find_lyric_vocab
from .resample import resample
from .schedulers import FlowMatchScheduler, make_scheduler, schedule
from .text_encoder import TagEncoder
from .transformer import AceStepTransformer, load_transformer

SAMPLE_RATE_HZ = 44100
SAMPLES_PER_FRAME = 512 * 8  # one latent frame: 8 mel frames of 512 samples
SPEAKER_DIM = 512
MAX_DURATION_S = 240.0  # the longest song the model was trained to make
SAMPLERS = ("euler", "heun", "pingpong")
GUIDANCE_TYPES = ("apg", "cfg", "cfg_star")
TASKS = ("text2music", "retake", "repaint", "extend", "audio2audio")
SUBFOLDERS = ("ace_step_transformer", "music_dcae_f8c8", "music_vocoder", "umt5-base")


@dataclass(frozen=True)
class DiffusionSettings:
    """How to sample. The defaults are upstream's."""

    steps: int = 60
    sampler: str = "euler"
    guidance: str = "apg"
    guidance_scale: float = 15.0
    omega: float = 10.0
    guidance_interval: float = 0.5
    guidance_interval_decay: float = 0.0
    min_guidance_scale: float = 3.0
    text_guidance_scale: float = 0.0
    lyric_guidance_scale: float = 0.0
    erg_tag: bool = True
    erg_lyric: bool = True
    erg_diffusion: bool = True
    oss_steps: tuple[int, ...] = ()
    zero_steps: int = 1
    use_zero_init: bool = True

    def validate(self) -> "DiffusionSettings":
        if not isinstance(self.steps, int) or not 1 <= self.steps <= 1000:
            raise InvalidRequest("steps", "must be a whole number from 1 to 1000", self.steps)
        if self.sampler not in SAMPLERS:
            raise InvalidRequest("sampler", "must be one of " + ", ".join(SAMPLERS), self.sampler)
        if self.guidance not in GUIDANCE_TYPES:
            raise InvalidRequest("guidance_type", "must be one of " + ", ".join(GUIDANCE_TYPES), self.guidance)
        if not 0.0 <= self.guidance_scale <= 200.0:
            raise InvalidRequest("guidance", "must be from 0 to 200 (0 or 1 turns guidance off)", self.guidance_scale)
        if not 0.0 <= self.guidance_interval <= 1.0:
            raise InvalidRequest("guidance_interval", "must be from 0 to 1", self.guidance_interval)
        if any(not isinstance(s, int) or s < 1 for s in self.oss_steps):
            raise InvalidRequest("oss_steps", "must be positive step numbers", self.oss_steps)
        return self

    @property
    def double_condition(self) -> bool:
        return self.text_guidance_scale > 1.0 and self.lyric_guidance_scale > 1.0

    @property
    def guided(self) -> bool:
        return self.guidance_scale not in (0.0, 1.0)


@dataclass(frozen=True)
class Generation:
    """One call of the pipeline: what to make and from which source.

    - text2music: `prompt`, `lyrics`, `duration_s`, `seed`.
    - retake: the same, plus `retake_seed` and `variance` (0 = the original, 1 = new noise).
    - repaint: `source_audio` re-generated between `start_s` and `end_s`, the rest kept.
    - extend: `source_audio` grown by `start_s` < 0 seconds on the left and/or to `end_s`
      past its end on the right.
    - audio2audio: `source_audio` as a reference, followed with `strength` (1 = keep it).
    """

    prompt: str
    lyrics: str = ""
    duration_s: float = 60.0
    seed: int = 0
    task: str = "text2music"
    retake_seed: int | None = None
    variance: float = 0.5
    start_s: float = 0.0
    end_s: float = 0.0
    source_audio: torch.Tensor | None = None  # (channels, samples)
    source_rate_hz: int = SAMPLE_RATE_HZ
    strength: float = 0.5
    settings: DiffusionSettings = field(default_factory=DiffusionSettings)

    def validate(self) -> "Generation":
        if self.task not in TASKS:
            raise InvalidRequest("task", "must be one of " + ", ".join(TASKS), self.task)
        if self.task in ("repaint", "extend", "audio2audio") and self.source_audio is None:
            raise InvalidRequest("source_audio", f"is required for the {self.task} task", None)
        if not 0.0 <= self.variance <= 1.0:
            raise InvalidRequest("variance", "must be from 0 to 1", self.variance)
        if not 0.0 <= self.strength < 1.0:
            raise InvalidRequest("strength", "must be from 0 up to (not including) 1", self.strength)
        if self.task == "repaint" and not self.start_s < self.end_s:
            raise InvalidRequest("repaint_end_s", "must be after repaint_start_s", (self.start_s, self.end_s))
        if self.task == "extend" and self.start_s >= 0 and self.end_s <= self.source_duration_s:
            raise InvalidRequest("extend", "needs start_s < 0 (left) or end_s past the source's end (right)",
                                 (self.start_s, self.end_s))
        if self.task == "extend" and max(self.end_s, self.source_duration_s) - min(self.start_s, 0.0) > MAX_DURATION_S:
            raise InvalidRequest("extend", f"the extended song must be at most {MAX_DURATION_S:g} s",
                                 (self.start_s, self.end_s))
        self.settings.validate()
        return self

    @property
    def source_duration_s(self) -> float:
        return 0.0 if self.source_audio is None else self.source_audio.shape[-1] / self.source_rate_hz


@dataclass
class Conditions:
    """The transformer's conditioning sequences, computed once before sampling."""

    cond: torch.Tensor
    mask: torch.Tensor
    uncond: torch.Tensor
    text_only: torch.Tensor | None = None


@dataclass
class Start:
    """Where sampling begins: the latents, the timesteps and what repaint needs."""

    latents: torch.Tensor
    scheduler: FlowMatchScheduler
    timesteps: torch.Tensor
    window_steps: int  # the step count the guidance window formula uses
    first_step: int = 0
    repaint_mask: torch.Tensor | None = None  # 1 where new material is made
    source: torch.Tensor | None = None  # x0 of repaint / extend
    noise: torch.Tensor | None = None  # z0 of repaint / extend


def frame_count(duration_s: float) -> int:
    """Latent frames for a duration, truncated as upstream does."""
    return int(duration_s * SAMPLE_RATE_HZ / SAMPLES_PER_FRAME)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    if str(device) != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def default_dtype(device: torch.device) -> torch.dtype:
    """bfloat16 on CUDA (upstream's default), float32 elsewhere."""
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def check_checkpoint(checkpoint_dir: str | Path) -> Path:
    root = Path(checkpoint_dir).expanduser()
    missing = [name for name in SUBFOLDERS if not (root / name).is_dir()]
    if missing:
        raise CheckpointError(f"{root} is not an ACE-Step v1 checkpoint: missing folder(s) {', '.join(missing)} "
                              f"(expected {', '.join(SUBFOLDERS)})")
    return root


class AceStepPipeline:
    """The loaded models and the sampling loop. Build it with `from_checkpoint`."""

    def __init__(self, transformer: AceStepTransformer, codec: MusicCodec, tag_encoder: TagEncoder,
                 lyric_tokenizer: LyricTokenizer, *, device: torch.device, dtype: torch.dtype,
                 cpu_offload: bool = False):
        self.transformer = transformer
        self.codec = codec
        self.tag_encoder = tag_encoder
        self.lyric_tokenizer = lyric_tokenizer
        self.device = device
        self.dtype = dtype
        self.cpu_offload = cpu_offload

    @classmethod
    def from_checkpoint(cls, checkpoint_dir: str | Path, *, device: str | torch.device = "auto",
                        dtype: torch.dtype | None = None, lyric_vocab: str | Path | None = None,
                        cpu_offload: bool = False, compile: bool = False) -> "AceStepPipeline":
        """Load the four parts of an official-layout checkpoint folder.

        `cpu_offload` keeps each model in CPU memory and moves it to the GPU only while it runs,
        for GPUs too small to hold them all. `compile` wraps the transformer in torch.compile.
        """
        root = check_checkpoint(checkpoint_dir)
        device = resolve_device(device)
        dtype = dtype or default_dtype(device)
        home = torch.device("cpu") if cpu_offload else device
        transformer = load_transformer(root / "ace_step_transformer", dtype=dtype, device=home)
        if compile:  # the sampling loop calls decode, so that is what gets compiled
            transformer.decode = torch.compile(transformer.decode)
        codec = load_codec(root, dtype=dtype, device=home)
        tag_encoder = TagEncoder.from_dir(root / "umt5-base", dtype=dtype, device=home)
        tokenizer = LyricTokenizer.from_file(find_lyric_vocab(root, lyric_vocab))
        return cls(transformer, codec, tag_encoder, tokenizer, device=device, dtype=dtype, cpu_offload=cpu_offload)

    # ------------------------------------------------------------------ stages

    @torch.no_grad()
    def __call__(self, generation: Generation, *, output_rate_hz: int = 48000) -> torch.Tensor:
        """Run one generation; returns the stereo waveform (2, samples) at `output_rate_hz`."""
        latents = self.generate_latents(generation)
        return self.decode(latents, output_rate_hz)[0]

    @torch.no_grad()
    def generate_latents(self, generation: Generation) -> torch.Tensor:
        generation = generation.validate()
        settings = generation.settings
        conditions = self.conditions(generation.prompt, generation.lyrics, settings)
        start = self.start_latents(generation)
        return self.denoise(start, conditions, settings, self._generator(generation.seed, skip=start.latents))

    def conditions(self, prompt: str, lyrics: str, settings: DiffusionSettings) -> Conditions:
        """Encode the tags and lyrics into the cond, uncond and (for double guidance) text-only sequences."""
        with self._on_device(self.tag_encoder):
            text, text_mask = self.tag_encoder.encode([prompt])
            text_null = self.tag_encoder.encode([prompt], erg_null=True)[0] if settings.erg_tag else None
        ids, mask = self.lyric_tokenizer.model_inputs(lyrics)
        lyric_ids = torch.tensor([ids], dtype=torch.long, device=self.device)
        lyric_mask = torch.tensor([mask], dtype=torch.long, device=self.device)
        text = text.to(self.device, self.dtype)
        text_mask = text_mask.to(self.device)
        speaker = torch.zeros(1, SPEAKER_DIM, device=self.device, dtype=self.dtype)
        no_speaker = torch.zeros_like(speaker)
        with self._on_device(self.transformer):
            encode = self.transformer.encode
            cond, cond_mask = encode(text, text_mask, speaker, lyric_ids, lyric_mask)
            if settings.erg_lyric:
                weak_text = text_null.to(self.device, self.dtype) if text_null is not None else torch.zeros_like(text)
                uncond = encode(weak_text, text_mask, no_speaker, lyric_ids, lyric_mask, erg_lyric=True)[0]
            else:
                uncond = encode(torch.zeros_like(text), text_mask, no_speaker, torch.zeros_like(lyric_ids), lyric_mask)[0]
            text_only = None
            if settings.double_condition:
                if settings.erg_lyric:
                    text_only = encode(text, text_mask, no_speaker, lyric_ids, lyric_mask, erg_lyric=True)[0]
                else:
                    text_only = encode(text, text_mask, no_speaker, torch.zeros_like(lyric_ids), lyric_mask)[0]
        return Conditions(cond, cond_mask, uncond, text_only)

    def start_latents(self, generation: Generation) -> Start:
        """The noise to start from and the timesteps to run, for each task."""
        settings = generation.settings
        source = self._source_latents(generation)
        frames = source.shape[-1] if source is not None else frame_count(generation.duration_s)
        noise = self._noise(generation.seed, frames)
        scheduler = make_scheduler(settings.sampler)
        timesteps, window_steps = schedule(scheduler, settings.steps, oss_steps=settings.oss_steps or None, dtype=self.dtype)
        timesteps = timesteps.to(self.device)
        start = Start(noise, scheduler, timesteps, window_steps)
        if generation.task == "retake":
            angle = generation.variance * math.pi / 2
            start.latents = math.cos(angle) * noise + math.sin(angle) * self._noise(self._retake_seed(generation), frames)
        elif generation.task == "repaint":
            start = self._repaint_start(start, generation, source)
        elif generation.task == "extend":
            start = self._extend_start(start, generation, source)
        elif generation.task == "audio2audio":
            start = self._audio2audio_start(start, generation, source)
        return start

    def denoise(self, start: Start, conditions: Conditions, settings: DiffusionSettings,
                generator: torch.Generator) -> torch.Tensor:
        """The sampler loop. Guidance runs only inside the guidance window."""
        latents = start.latents
        timesteps = start.timesteps
        window = guidance_window(start.window_steps, settings.guidance_interval)
        momentum = guide.MomentumBuffer()
        mask = torch.ones(latents.shape[0], latents.shape[-1], device=self.device, dtype=self.dtype)
        with self._on_device(self.transformer):
            for i, t in enumerate(timesteps):
                if i < start.first_step:
                    continue
                if start.repaint_mask is not None and i == start.first_step:
                    latents = _interpolate(start.source, start.noise, t / 1000)
                velocity = self._velocity(latents, t, mask, conditions, settings, i, window, momentum)
                if start.repaint_mask is not None:
                    latents = self._repaint_step(latents, velocity, start, i)
                else:
                    latents = start.scheduler.step(velocity, t, latents, omega=settings.omega, generator=generator)
        return latents

    @torch.no_grad()
    def decode(self, latents: torch.Tensor, output_rate_hz: int = 48000) -> list[torch.Tensor]:
        with self._on_device(self.codec):
            return [wav.float().cpu() for wav in self.codec.decode(latents, output_rate_hz)]

    @torch.no_grad()
    def encode_audio(self, audio: torch.Tensor, sample_rate_hz: int) -> torch.Tensor:
        """Latents of a (channels, samples) waveform: mono becomes stereo, then 44.1 kHz."""
        audio = audio.float()
        if audio.dim() == 1:
            audio = audio[None]
        if audio.shape[0] == 1:
            audio = audio.repeat(2, 1)
        audio = resample(audio[:2], sample_rate_hz, SAMPLE_RATE_HZ)
        with self._on_device(self.codec):
            latents, _ = self.codec.encode(audio[None].to(self.device, self.dtype), SAMPLE_RATE_HZ)
        return latents

    # ------------------------------------------------------------------ pieces

    def _velocity(self, latents, t, mask, conditions: Conditions, settings: DiffusionSettings, i: int,
                  window: tuple[int, int], momentum) -> torch.Tensor:
        timestep = t.expand(latents.shape[0])
        decode = self.transformer.decode
        cond = decode(latents, mask, conditions.cond, conditions.mask, timestep)
        if not (settings.guided and window[0] <= i < window[1]):
            return cond
        text_only = None
        if conditions.text_only is not None:
            text_only = decode(latents, mask, conditions.text_only, conditions.mask, timestep)
        uncond = decode(latents, mask, conditions.uncond, conditions.mask, timestep, erg_diffusion=settings.erg_diffusion)
        if text_only is not None:
            return guide.cfg_double(cond, uncond, text_only, settings.text_guidance_scale, settings.lyric_guidance_scale)
        scale = _scale_in_window(settings, i, window)
        if settings.guidance == "apg":
            return guide.apg(cond, uncond, scale, momentum)
        if settings.guidance == "cfg":
            return guide.cfg(cond, uncond, scale)
        return guide.cfg_zero_star(cond, uncond, scale, i, settings.zero_steps, settings.use_zero_init)

    def _repaint_step(self, latents, velocity, start: Start, i: int) -> torch.Tensor:
        """A plain Euler step inside the mask; outside it, the source re-noised to the next level."""
        t_now = start.timesteps[i] / 1000
        t_next = start.timesteps[i + 1] / 1000 if i + 1 < len(start.timesteps) else torch.zeros_like(t_now)
        stepped = (latents.float() + (t_next - t_now) * velocity).to(self.dtype)
        kept = _interpolate(start.source, start.noise, t_next)
        return torch.where(start.repaint_mask == 1.0, stepped, kept)

    def _repaint_start(self, start: Start, generation: Generation, source: torch.Tensor) -> Start:
        frames = source.shape[-1]
        first, last = frame_count(generation.start_s), frame_count(generation.end_s)
        mask = torch.zeros_like(source)
        mask[..., max(first, 0):min(last, frames)] = 1.0
        angle = generation.variance * math.pi / 2
        mixed = math.cos(angle) * start.latents + math.sin(angle) * self._noise(self._retake_seed(generation), frames)
        noise = torch.where(mask == 1.0, mixed, start.latents)
        first_step = int(generation.settings.steps * (1 - generation.variance))
        return replace(start, first_step=first_step, repaint_mask=mask, source=source, noise=noise)

    def _extend_start(self, start: Start, generation: Generation, source: torch.Tensor) -> Start:
        """Pad the source with new frames left and/or right; only the new frames are generated."""
        frames = source.shape[-1]
        left = -frame_count(min(generation.start_s, 0.0))
        right = max(0, frame_count(generation.end_s) - frames)
        extra = self._noise(self._retake_seed(generation), left + frames + right)
        padded = torch.nn.functional.pad(source, (left, right))
        mask = torch.zeros_like(padded)
        mask[..., :left] = 1.0
        if right:
            mask[..., -right:] = 1.0
        noise = torch.cat([extra[..., :left], start.latents, extra[..., left + frames:]], dim=-1)
        first_step = int(generation.settings.steps * (1 - generation.variance))
        return replace(start, latents=noise, first_step=first_step, repaint_mask=mask, source=padded, noise=noise)

    def _audio2audio_start(self, start: Start, generation: Generation, reference: torch.Tensor) -> Start:
        """Noise the reference to the level where sampling starts (upstream's `add_latents_noise`).

        The mix uses the scheduler's once-shifted `sigma_max`; sampling starts at the twice-shifted one.
        """
        level = 1.0 - generation.strength
        scheduler = make_scheduler(generation.settings.sampler, sigma_max=level)
        steps = max(generation.settings.oss_steps, default=generation.settings.steps)  # upstream's step count here
        timesteps, window_steps = schedule(scheduler, int(level * steps))
        sigma = scheduler.sigma_max
        latents = reference * (1 - sigma) + start.latents * sigma
        return Start(latents, scheduler, timesteps.to(self.device), window_steps)

    def _source_latents(self, generation: Generation) -> torch.Tensor | None:
        if generation.source_audio is None or generation.task not in ("repaint", "extend", "audio2audio"):
            return None
        return self.encode_audio(generation.source_audio, generation.source_rate_hz)

    def _noise(self, seed: int, frames: int) -> torch.Tensor:
        generator = torch.Generator("cpu").manual_seed(seed)
        noise = torch.randn((1, 8, 16, frames), generator=generator, dtype=torch.float32)
        return noise.to(self.device, self.dtype)

    def _generator(self, seed: int, skip: torch.Tensor) -> torch.Generator:
        """The seed's generator, advanced past the initial noise (PingPong draws from it next)."""
        generator = torch.Generator("cpu").manual_seed(seed)
        torch.randn((1, 8, 16, skip.shape[-1]), generator=generator)
        return generator

    @staticmethod
    def _retake_seed(generation: Generation) -> int:
        return generation.retake_seed if generation.retake_seed is not None else generation.seed + 1

    def _on_device(self, module):
        return _Offload(module, self.device) if self.cpu_offload and self.device.type != "cpu" else _Nothing()


def guidance_window(steps: int, interval: float) -> tuple[int, int]:
    """Loop indices [start, end) where guidance runs: the middle `interval` of the steps."""
    return int(steps * ((1 - interval) / 2)), int(steps * (interval / 2 + 0.5))


def _scale_in_window(settings: DiffusionSettings, i: int, window: tuple[int, int]) -> float:
    """The guidance scale, decaying linearly across the window toward `min_guidance_scale`."""
    if settings.guidance_interval_decay <= 0:
        return settings.guidance_scale
    span = window[1] - window[0] - 1
    progress = (i - window[0]) / span if span > 0 else 0.0
    drop = (settings.guidance_scale - settings.min_guidance_scale) * progress * settings.guidance_interval_decay
    return settings.guidance_scale - drop


def _interpolate(source: torch.Tensor, noise: torch.Tensor, level) -> torch.Tensor:
    """The flow-matching path between data (level 0) and noise (level 1)."""
    return (1 - level) * source + level * noise


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Offload:
    """Move a module to the GPU for the duration of a block, then back to CPU memory."""

    def __init__(self, module, device: torch.device):
        self.module, self.device = module, device

    def __enter__(self):
        _move(self.module, self.device)
        return self

    def __exit__(self, *exc):
        _move(self.module, torch.device("cpu"))
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        return False


def _move(module, device: torch.device) -> None:
    if hasattr(module, "to"):
        module.to(device)
    else:
        for part in vars(module).values():
            if isinstance(part, torch.nn.Module):
                part.to(device)
