"""Shared paths for the ACE-Step parity tests (data in ../shared/fixtures/acestep-v1)."""

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "acestep-v1"
CHECKPOINT = FIXTURES / "checkpoint"
MODULES = FIXTURES / "modules"
E2E = FIXTURES / "e2e"
LYRIC_VOCAB = FIXTURES / "lyric_tokenizer" / "vocab.json"


def load_tensors(path: Path) -> dict:
    """Every tensor of a safetensors file, as torch tensors on CPU."""
    from safetensors.torch import load_file

    return load_file(str(path))


def tolerance(relative: str, default: float = 1e-4) -> float:
    """The manifest's suggested atol for a fixture file, e.g. "modules/vocoder.safetensors"."""
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    entry = manifest["files"].get(relative, {}).get("tolerance", {})
    return float(entry.get("suggested_atol", default))


@pytest.fixture(autouse=True)
def _float32_two_threads():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(threads)
