"""Our resampler against torchaudio's `transforms.Resample` output (modules/resample.safetensors)."""

import math

import pytest

torch = pytest.importorskip("torch")

from .conftest import MODULES, load_tensors, tolerance  # noqa: E402

FIXTURE = "modules/resample.safetensors"


@pytest.fixture(scope="module")
def fixture():
    return load_tensors(MODULES / "resample.safetensors")


@pytest.mark.parametrize(
    ("source", "target", "orig_hz", "new_hz"),
    [("in_48k", "out_48k_to_44k1", 48000, 44100), ("in_44k1", "out_44k1_to_48k", 44100, 48000)],
)
def test_matches_torchaudio(fixture, source, target, orig_hz, new_hz):
    from songwright.acestep.resample import resample

    out = resample(fixture[source], orig_hz, new_hz)
    expected = fixture[target]
    assert out.dtype == torch.float32
    assert out.shape == expected.shape
    assert (out - expected).abs().max().item() <= tolerance(FIXTURE)


def test_leading_dims_and_length(fixture):
    from songwright.acestep.resample import resample

    signal = fixture["in_44k1"][:, :5001]  # an odd length: 5001 * 160 / 147 is not whole
    batched = resample(torch.stack([signal, -signal]), 44100, 48000)
    assert batched.shape == (2, 2, math.ceil(5001 * 48000 / 44100))
    assert torch.equal(batched[0], resample(signal, 44100, 48000))
    assert torch.equal(batched[1], -batched[0])


def test_equal_rates_are_identity(fixture):
    from songwright.acestep.resample import resample

    signal = fixture["in_48k"]
    assert torch.equal(resample(signal, 44100, 44100), signal)
    with pytest.raises(ValueError):
        resample(signal, 0, 44100)
