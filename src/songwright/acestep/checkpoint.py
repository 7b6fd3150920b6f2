"""Strict checkpoint loading, shared by the transformer, Music-DCAE and the vocoder: a model
folder's `config.json`, and a safetensors file loaded all or nothing, with one CheckpointError that
names every missing, unexpected, mis-shaped or unsupported tensor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from torch import nn

from ..errors import CheckpointError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "diffusion_pytorch_model.safetensors"
STORAGE_DTYPES = {"F32", "F16", "BF16"}  # how floating-point tensors may be stored


def read_json_config(model_dir: str | Path) -> dict:
    """The `config.json` of a model folder; CheckpointError if it is missing or unreadable."""
    path = Path(model_dir) / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"missing checkpoint file: {path}")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise CheckpointError(f"unreadable checkpoint config {path}: {error}") from error


def load_strict(module: nn.Module, weights: str | Path, *, dtype: torch.dtype, device: str | torch.device,
                unused: dict[str, tuple[int, ...]] | None = None) -> None:
    """Load a safetensors file into `module` (possibly built on the meta device), all or nothing.

    Every tensor of the module must be in the file with its exact shape, and nothing else may be,
    except `unused` (name -> shape: tensors upstream stores and the module does not need; never
    read). Floating-point tensors may be stored as fp32, fp16 or bf16 and are cast to `dtype`.
    """
    weights = Path(weights)
    if not weights.is_file():
        raise CheckpointError(f"missing checkpoint file: {weights}")
    expected = module.state_dict()
    with _open(weights) as file:
        problems = _problems({name: file.get_slice(name) for name in file.keys()}, expected, unused or {})
        if problems:
            raise CheckpointError(f"{weights} does not fit {type(module).__name__}; " + "; ".join(problems))
        state = {name: _cast(file.get_tensor(name), dtype, device) for name in expected}
    module.load_state_dict(state, strict=True, assign=True)


def stored_shapes(weights: str | Path) -> dict[str, tuple[int, ...]]:
    """The name and shape of every tensor in a safetensors file, without reading the data."""
    with _open(Path(weights)) as file:
        return {name: tuple(file.get_slice(name).get_shape()) for name in file.keys()}


def _open(weights: Path) -> Any:
    """A safetensors file opened lazily (shapes and dtypes without the data); CheckpointError if unreadable."""
    try:
        return safe_open(str(weights), framework="pt")
    except Exception as error:  # safetensors raises its own error type for a malformed file
        raise CheckpointError(f"cannot read checkpoint weights {weights}: {error}") from error


def _problems(stored: dict[str, Any], expected: dict[str, torch.Tensor], unused: dict[str, tuple[int, ...]]) -> list[str]:
    shapes = {name: tuple(tensor.get_shape()) for name, tensor in stored.items()}
    allowed = {**unused, **{name: tuple(tensor.shape) for name, tensor in expected.items()}}
    found = {
        "missing": sorted(expected.keys() - stored.keys()),
        "unexpected": sorted(stored.keys() - allowed.keys()),
        "wrong shape": sorted(f"{name} {list(shape)} (expected {list(allowed[name])})"
                              for name, shape in shapes.items() if name in allowed and shape != allowed[name]),
        "unsupported dtype": sorted(f"{name} {stored[name].get_dtype()}" for name in stored.keys() & expected.keys()
                                    if expected[name].is_floating_point()
                                    and stored[name].get_dtype() not in STORAGE_DTYPES),
    }
    return [f"{kind}: {_listing(names)}" for kind, names in found.items() if names]


def _cast(tensor: torch.Tensor, dtype: torch.dtype, device: str | torch.device) -> torch.Tensor:
    return tensor.to(device=device, dtype=dtype) if tensor.is_floating_point() else tensor.to(device=device)


def _listing(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names) - limit} more)"
