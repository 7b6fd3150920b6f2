"""The acestep engine: a SongRequest through the ACE-Step v1 pipeline to a mastered Song.

Loaded pipelines are kept per (checkpoint, runtime options), so a server or a batch pays the
loading once. Runtime options (device, dtype, offload, compile) are how to run, not what to
make, so they live in `Runtime`, not in the request.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

from ..errors import InvalidRequest
from ..render.mix import master
from ..request import SongRequest
from ..song import Song
from .pipeline import SAMPLE_RATE_HZ, AceStepPipeline, DiffusionSettings, Generation

CHECKPOINT_ENV = "SONGWRIGHT_ACESTEP_CHECKPOINT"
DEFAULT_STEPS = 60


@dataclass(frozen=True)
class Runtime:
    """Where and how the model runs. `device` "auto" picks CUDA, then MPS, then CPU."""

    device: str = "auto"
    dtype: str | None = None  # "float32", "bfloat16" or "float16"; None: bf16 on CUDA, else fp32
    cpu_offload: bool = False
    compile: bool = False
    lyric_vocab: str | None = None


_PIPELINES: dict[tuple, AceStepPipeline] = {}
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def checkpoint_dir(request: SongRequest) -> Path:
    path = request.checkpoint or os.environ.get(CHECKPOINT_ENV)
    if not path:
        raise InvalidRequest("checkpoint", f"is required by the acestep engine (or set ${CHECKPOINT_ENV}): "
                             "the folder of a downloaded ACE-Step v1 checkpoint", None)
    if not Path(path).expanduser().is_dir():
        raise InvalidRequest("checkpoint", "must be an existing folder", path)
    return Path(path).expanduser().resolve()


def load_pipeline(checkpoint: Path, runtime: Runtime) -> AceStepPipeline:
    if runtime.dtype is not None and runtime.dtype not in DTYPES:
        raise InvalidRequest("dtype", "must be one of " + ", ".join(DTYPES), runtime.dtype)
    key = (str(checkpoint), runtime)
    if key not in _PIPELINES:
        _PIPELINES[key] = AceStepPipeline.from_checkpoint(
            checkpoint, device=runtime.device, dtype=DTYPES.get(runtime.dtype), lyric_vocab=runtime.lyric_vocab,
            cpu_offload=runtime.cpu_offload, compile=runtime.compile)
    return _PIPELINES[key]


def prompt_of(request: SongRequest) -> str:
    """The tags, plus tempo and key written the way ACE-Step's training prompts write them."""
    parts = [request.tags.strip()]
    if request.tempo_bpm is not None:
        parts.append(f"{request.tempo_bpm:g} bpm")
    if request.key is not None:
        parts.append(request.key)
    return ", ".join(p for p in parts if p)


def generate_acestep(request: SongRequest, progress, runtime: Runtime | None = None) -> Song:
    """Condition, sample and decode; a guided request first renders the composer's version."""
    runtime = runtime or Runtime()
    seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
    pipeline = load_pipeline(checkpoint_dir(request), runtime)
    settings = DiffusionSettings(steps=request.steps or DEFAULT_STEPS, sampler=request.sampler,
                                 guidance_scale=request.guidance_scale)
    generation = Generation(prompt=prompt_of(request), lyrics="" if request.instrumental else request.lyrics,
                            duration_s=request.duration_s, seed=seed, settings=settings)
    warnings = []
    if request.guided:
        progress("composing the guide", 0.0)
        guide = _composer_guide(request, seed)
        generation = replace(generation, task="audio2audio", source_audio=guide, source_rate_hz=SAMPLE_RATE_HZ,
                             strength=request.guide_strength)
        warnings.append("guided by the composer's render of the same request")
    progress("sampling", 0.2)
    latents = pipeline.generate_latents(generation)
    progress("decoding", 0.8)
    audio = pipeline.decode(latents, SAMPLE_RATE_HZ)[0].numpy()
    audio = _exact_length(audio, round(request.duration_s * SAMPLE_RATE_HZ))
    mastered = master(audio, SAMPLE_RATE_HZ)
    progress("done", 1.0)
    report = {"steps": settings.steps, "sampler": settings.sampler, "guidance_scale": settings.guidance_scale,
              "guided": request.guided, "device": str(pipeline.device), "dtype": str(pipeline.dtype).removeprefix("torch.")}
    return Song(mastered.audio.T, SAMPLE_RATE_HZ, {}, None, None, mastered.loudness_lufs, mastered.true_peak_dbtp,
                request=request, seed=seed, engine="acestep", warnings=warnings, versions=_versions(),
                settings=report)


def _composer_guide(request: SongRequest, seed: int) -> torch.Tensor:
    from ..engines import generate_composer

    song = generate_composer(request.replace(engine="composer", seed=seed), lambda stage, fraction: None)
    return torch.from_numpy(np.ascontiguousarray(song.audio.T))


def _exact_length(audio: np.ndarray, samples: int) -> np.ndarray:
    """(channels, n) trimmed or zero-padded to the requested length."""
    if audio.shape[1] >= samples:
        return np.ascontiguousarray(audio[:, :samples])
    return np.pad(audio, ((0, 0), (0, samples - audio.shape[1])))


def _versions() -> dict[str, str]:
    versions = {}
    for package in ("songwright", "torch", "diffusers", "transformers"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions
