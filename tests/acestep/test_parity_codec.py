"""Our codec chain against upstream MusicDCAE.encode / .decode (modules/audio_dcae.safetensors)."""

import shutil

import pytest

torch = pytest.importorskip("torch")

from .conftest import CHECKPOINT, MODULES, load_tensors, tolerance  # noqa: E402

FIXTURE = "modules/audio_dcae.safetensors"


@pytest.fixture(scope="module")
def codec():
    from songwright.acestep.codec import load_codec

    return load_codec(CHECKPOINT)


@pytest.fixture(scope="module")
def fixture():
    return load_tensors(MODULES / "audio_dcae.safetensors")


@pytest.fixture(scope="module")
def encoded(codec, fixture):
    return codec.encode(fixture["audio_in"], sample_rate_hz=44100)


@pytest.fixture(scope="module")
def decoded(codec, fixture):
    return codec.decode(fixture["latents"], output_rate_hz=48000)


def assert_close(actual, expected):
    assert actual.shape == expected.shape
    assert (actual - expected).abs().max().item() <= tolerance(FIXTURE)


def test_mel_of_padded_audio(codec, fixture):
    assert_close(codec.mel(fixture["audio_in"]), fixture["mel"])


def test_mel_normalisation(codec, fixture):
    assert_close(codec.normalize_mel(fixture["mel"]), fixture["mel_normalized"])


def test_encoder(codec, fixture):
    with torch.no_grad():
        assert_close(codec.dcae.encoder(fixture["mel_normalized"][0][None]), fixture["encoder_out"])


def test_encode(encoded, fixture):
    latents, latent_lengths = encoded
    assert_close(latents, fixture["latents"])
    assert latent_lengths.dtype == torch.int64
    assert torch.equal(latent_lengths, fixture["latent_lengths"])  # 32, though there are 33 frames


def test_decoder(codec, fixture):
    assert_close(fixture["latents"] / codec.LATENT_SCALE + codec.LATENT_SHIFT, fixture["decoder_in"])
    with torch.no_grad():
        assert_close(codec.dcae.decoder(fixture["decoder_in"]), fixture["decoder_out"])
    assert_close(codec.denormalize_mel(fixture["decoder_out"]), fixture["mel_decoded"])


def test_latents_to_mel(codec, fixture):
    with torch.no_grad():
        assert_close(codec.latents_to_mel(fixture["latents"]), fixture["mel_decoded"])


def test_vocoder_per_channel(codec, fixture):
    waveform = codec.vocode(fixture["mel_decoded"][0])
    assert waveform.dtype == torch.float32 and waveform.device.type == "cpu"
    assert_close(waveform, fixture["wav_44k1"])


def test_decode_48k(decoded, fixture):
    (waveform,) = decoded
    assert waveform.dtype == torch.float32 and waveform.device.type == "cpu"
    assert_close(waveform, fixture["wav_48k"])  # ceil(135168 * 48000 / 44100), not trimmed


def test_encode_other_rate_resamples_first(codec, fixture):
    from songwright.acestep.resample import resample

    audio_48k = resample(fixture["audio_in"], 44100, 48000)
    latents, lengths = codec.encode(audio_48k, sample_rate_hz=48000)
    expected, _ = codec.encode(resample(audio_48k, 48000, 44100))
    assert torch.equal(latents, expected)
    assert lengths.tolist() == [int(audio_48k.shape[-1] / 48000 * 44100 / 4096)]


def test_missing_component_folder(tmp_path):
    from songwright.acestep.codec import load_codec
    from songwright.errors import CheckpointError

    shutil.copytree(CHECKPOINT / "music_dcae_f8c8", tmp_path / "music_dcae_f8c8")
    with pytest.raises(CheckpointError, match="music_vocoder"):
        load_codec(tmp_path)


def test_dcae_loading_is_strict(tmp_path):
    from safetensors.torch import save_file

    from songwright.acestep.codec import load_codec
    from songwright.errors import CheckpointError

    for sub in ("music_dcae_f8c8", "music_vocoder"):
        shutil.copytree(CHECKPOINT / sub, tmp_path / sub)
    weights = tmp_path / "music_dcae_f8c8" / "diffusion_pytorch_model.safetensors"
    state = load_tensors(weights)
    name = min(state)
    del state[name]
    save_file(state, str(weights))
    with pytest.raises(CheckpointError, match=name.replace(".", r"\.")):
        load_codec(tmp_path)


def test_official_sizes():
    """Parameter counts of the full-size build equal those the fixture README measured upstream."""
    from songwright.acestep.codec import OFFICIAL_DCAE_CONFIG, _empty_dcae
    from songwright.acestep.vocoder import Vocoder

    with torch.device("meta"):
        vocoder = Vocoder()
    assert sum(p.numel() for p in _empty_dcae(OFFICIAL_DCAE_CONFIG).parameters()) == 156_812_426
    assert sum(t.numel() for t in vocoder.state_dict().values()) == 103_138_386
