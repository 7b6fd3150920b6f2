"""How the acestep engine runs (device, dtype, offload, compile): light to import, no torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Runtime:
    """Where and how the model runs. `device` "auto" picks CUDA, then MPS, then CPU."""

    device: str = "auto"
    dtype: str | None = None  # "float32", "bfloat16" or "float16"; None: bf16 on CUDA, else fp32
    cpu_offload: bool = False
    compile: bool = False
    lyric_vocab: str | None = None
