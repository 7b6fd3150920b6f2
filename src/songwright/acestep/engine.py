"""The acestep engine's work: a SongRequest through a loaded ACE-Step v1 pipeline to a mastered Song.

`songwright.engines.AceStepEngine` owns the checkpoint folder and the loaded pipeline. Runtime
options (device, dtype, offload, compile) are how to run, not what to make, so they live in
`Runtime`, not in the request. A guided request gets its guide from a callable it is given.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ..errors import InvalidRequest
from ..render.mix import master
from ..request import SongRequest
from ..song import Song, package_versions
from .runtime import Runtime
from .pipeline import SAMPLE_RATE_HZ, AceStepPipeline, DiffusionSettings, Generation

DEFAULT_STEPS = 60
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def load_pipeline(checkpoint: Path, runtime: Runtime) -> AceStepPipeline:
    if runtime.dtype is not None and runtime.dtype not in DTYPES:
        raise InvalidRequest("dtype", "must be one of " + ", ".join(DTYPES), runtime.dtype)
    return AceStepPipeline.from_checkpoint(
        checkpoint, device=runtime.device, dtype=DTYPES.get(runtime.dtype), lyric_vocab=runtime.lyric_vocab,
        cpu_offload=runtime.cpu_offload, compile=runtime.compile)


def prompt_of(request: SongRequest) -> str:
    """The tags, plus tempo and key written the way ACE-Step's training prompts write them."""
    parts = [request.tags.strip()]
    if request.tempo_bpm is not None:
        parts.append(f"{request.tempo_bpm:g} bpm")
    if request.key is not None:
        parts.append(request.key)
    return ", ".join(p for p in parts if p)


Guide = Callable[[SongRequest, int], np.ndarray]  # (request, seed) -> (samples, 2) audio at 44.1 kHz


def generate_acestep(request: SongRequest, *, pipeline: AceStepPipeline, progress, guide: Guide | None = None) -> Song:
    """Condition, sample and decode; a guided request first renders `guide`'s version (the composer's)."""
    seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
    settings = DiffusionSettings(steps=request.steps or DEFAULT_STEPS, sampler=request.sampler,
                                 guidance_scale=request.guidance_scale)
    generation = Generation(prompt=prompt_of(request), lyrics="" if request.instrumental else request.lyrics,
                            duration_s=request.duration_s, seed=seed, settings=settings)
    warnings = []
    if request.guided:
        progress("composing the guide", 0.0)
        if guide is None:
            raise InvalidRequest("guided", "needs a guide renderer (the composer); use songwright.engines.AceStepEngine", True)
        source = torch.from_numpy(np.ascontiguousarray(guide(request, seed).T))
        generation = replace(generation, task="audio2audio", source_audio=source, source_rate_hz=SAMPLE_RATE_HZ,
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
                request=request, seed=seed, engine="acestep", warnings=warnings,
                versions=package_versions("songwright", "torch", "diffusers", "transformers"), settings=report)


EDIT_VARIANCE = 0.5  # how far a retake or repaint moves from the source (0: not at all, 1: new noise)


def edit_acestep(song: Song, edit: dict, *, pipeline: AceStepPipeline, progress) -> Song:
    """An acestep song with one edit more, through the pipeline's own tasks: retake (the whole song,
    a variation), repaint (a time range) and extend (to a longer duration), the source audio being
    `song`'s. Outside a repaint's range, and before an extension, the source is kept sample for
    sample (`songwright.edits.splice`)."""
    from ..edits import splice
    from ..stages import Passage

    request = song.request
    verb = edit["verb"]
    settings = DiffusionSettings(steps=request.steps or DEFAULT_STEPS, sampler=request.sampler,
                                 guidance_scale=request.guidance_scale)
    base = Generation(prompt=prompt_of(request), lyrics="" if request.instrumental else request.lyrics,
                      duration_s=song.duration_s, seed=song.seed, settings=settings)
    source = torch.from_numpy(np.ascontiguousarray(song.audio.T))
    window = None
    if verb == "retake":
        generation = replace(base, task="retake", retake_seed=edit["seed"], variance=EDIT_VARIANCE)
    elif verb == "repaint":
        if edit["end_s"] > song.duration_s:
            raise InvalidRequest("end_s", f"must be within the song's {song.duration_s:g} s", edit["end_s"])
        generation = replace(base, task="repaint", source_audio=source, source_rate_hz=song.sample_rate,
                             start_s=edit["start_s"], end_s=edit["end_s"], retake_seed=edit["seed"],
                             variance=EDIT_VARIANCE)
        window = (edit["start_s"], edit["end_s"])
    else:  # extend
        lyrics = "\n".join(t for t in (base.lyrics, edit.get("lyrics") or "") if t)
        generation = replace(base, task="extend", lyrics=lyrics, duration_s=edit["duration_s"], source_audio=source,
                             source_rate_hz=song.sample_rate, start_s=0.0, end_s=edit["duration_s"], variance=1.0)
        window = (song.duration_s, None)
    progress("sampling", 0.2)
    latents = pipeline.generate_latents(generation.validate())
    progress("decoding", 0.8)
    duration_s = edit["duration_s"] if verb == "extend" else song.duration_s
    audio = _exact_length(pipeline.decode(latents, SAMPLE_RATE_HZ)[0].numpy(), round(duration_s * SAMPLE_RATE_HZ))
    mastered = master(audio, SAMPLE_RATE_HZ)
    edits = (*song.edits, edit)
    if window is None:
        return replace(song, audio=mastered.audio.T, loudness_lufs=mastered.loudness_lufs,
                       true_peak_dbtp=mastered.true_peak_dbtp, edits=edits)
    start = round(window[0] * SAMPLE_RATE_HZ)
    end = None if window[1] is None else round(window[1] * SAMPLE_RATE_HZ)
    passage = Passage(mastered.audio.T[start:end], {}, start)
    return replace(splice(song, passage, length=mastered.audio.shape[1], to_end=end is None), edits=edits)


def _exact_length(audio: np.ndarray, samples: int) -> np.ndarray:
    """(channels, n) trimmed or zero-padded to the requested length."""
    if audio.shape[1] >= samples:
        return np.ascontiguousarray(audio[:, :samples])
    return np.pad(audio, ((0, 0), (0, samples - audio.shape[1])))
