"""Speed and memory of the acestep engine at full size, with random weights.

Builds the official-size architecture (3.5B DiT, Music-DCAE, vocoder, UMT5-base encoder) with
random weights, then times whole generations (text encoding, lyric encoding, sampling with
APG guidance and the default guidance window, DCAE decode, vocoder) and prints seconds per
minute of audio, the real-time factor and peak memory. The tokenizers' files come from the
fixture checkpoint (data only); no real weights are needed.

    python benchmarks/bench_acestep.py                        # CPU: a 5 s clip, 27 and 60 steps
    python benchmarks/bench_acestep.py --device cuda --clip-s 60 --repeats 3

Upstream reports 27.3x real time for 27 steps on an A100 (bfloat16).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

import torch

from songwright.acestep.codec import full_size_codec
from songwright.acestep.lyric_tokenizer import LyricTokenizer
from songwright.acestep.pipeline import AceStepPipeline, DiffusionSettings, Generation, default_dtype, resolve_device
from songwright.acestep.text_encoder import TagEncoder
from songwright.acestep.transformer import AceStepTransformer, full_size_config
from songwright.acestep.vocoder import fill_random_

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "acestep-v1"
PROMPT = "pop, funk, female vocal, 120 bpm, upbeat, electronic, melodic"
LYRICS = "\n".join(["[verse]", "Neon lights they flicker bright", "City hums in dead of night",
                    "[chorus]", "Turn it up and let it go", "Every heartbeat steals the show"] * 4)
UMT5_BASE = dict(d_model=768, d_kv=64, num_heads=12, d_ff=2048, num_layers=12, vocab_size=256384,
                 feed_forward_proj="gated-gelu", relative_attention_num_buckets=32, relative_attention_max_distance=128)


def build_pipeline(device: torch.device, dtype: torch.dtype) -> AceStepPipeline:
    from transformers import AutoTokenizer, UMT5Config, UMT5EncoderModel

    with torch.device("meta"):
        transformer = AceStepTransformer(full_size_config())
    transformer = transformer.to_empty(device=device)
    fill_random_(transformer, seed=0)
    transformer = transformer.to(dtype).eval().requires_grad_(False)
    codec = full_size_codec(dtype=dtype, device=device)
    text_model = UMT5EncoderModel(UMT5Config(**UMT5_BASE)).to(device, dtype).eval().requires_grad_(False)
    tags = TagEncoder(AutoTokenizer.from_pretrained(FIXTURES / "checkpoint" / "umt5-base"), text_model)
    lyrics = LyricTokenizer.from_file(FIXTURES / "lyric_tokenizer" / "vocab.json")
    return AceStepPipeline(transformer, codec, tags, lyrics, device=device, dtype=dtype)


def time_generation(pipeline: AceStepPipeline, clip_s: float, steps: int, seed: int) -> dict[str, float]:
    """Seconds spent conditioning, sampling and decoding one clip, and in total."""
    generation = Generation(prompt=PROMPT, lyrics=LYRICS, duration_s=clip_s, seed=seed,
                            settings=DiffusionSettings(steps=steps))
    clock = Stopwatch(pipeline.device)
    conditions = pipeline.conditions(generation.prompt, generation.lyrics, generation.settings)
    clock.lap("condition")
    start = pipeline.start_latents(generation)
    latents = pipeline.denoise(start, conditions, generation.settings, torch.Generator().manual_seed(seed))
    clock.lap("sample")
    pipeline.decode(latents, 44100)
    clock.lap("decode")
    return clock.laps | {"total": sum(clock.laps.values())}


class Stopwatch:
    def __init__(self, device: torch.device):
        self.device = device
        self.laps: dict[str, float] = {}
        synchronize(device)
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        synchronize(self.device)
        now = time.perf_counter()
        self.laps[name] = now - self.last
        self.last = now


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def peak_memory_gb(device: torch.device) -> str:
    if device.type == "cuda":
        return f"GPU {torch.cuda.max_memory_allocated() / 1e9:.1f} GB"
    return f"RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.1f} GB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--clip-s", type=float, default=5.0, help="audio length per generation (default 5 s)")
    parser.add_argument("--steps", type=int, nargs="+", default=[27, 60])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()):
        torch.backends.cuda.matmul.allow_tf32 = True  # speed runs; parity runs keep TF32 off
        torch.backends.cudnn.allow_tf32 = True
    device = resolve_device(args.device)
    dtype = getattr(torch, args.dtype) if args.dtype else default_dtype(device)

    start = time.perf_counter()
    pipeline = build_pipeline(device, dtype)
    print(f"device {device}, {dtype}, torch threads {torch.get_num_threads()}; "
          f"built in {time.perf_counter() - start:.1f} s, {peak_memory_gb(device)}")
    time_generation(pipeline, min(args.clip_s, 2.0), 2, seed=0)  # warm-up (kernels, allocator)
    for steps in args.steps:
        runs = [time_generation(pipeline, args.clip_s, steps, seed=i) for i in range(args.repeats)]
        median = {stage: statistics.median(run[stage] for run in runs) for stage in runs[0]}
        seconds = median["total"]
        stages = ", ".join(f"{stage} {median[stage]:.1f} s" for stage in ("condition", "sample", "decode"))
        print(f"{steps:3d} steps, {args.clip_s:g} s clip: {seconds:.2f} s (median of {len(runs)}; {stages}) -> "
              f"{seconds * 60 / args.clip_s:.1f} s per minute of audio, {args.clip_s / seconds:.2f}x real time; "
              f"peak {peak_memory_gb(device)}", flush=True)


if __name__ == "__main__":
    main()
