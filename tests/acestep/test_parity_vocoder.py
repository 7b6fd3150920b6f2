"""Our vocoder against upstream ADaMoSHiFiGANV1 (modules/vocoder.safetensors), and strict loading."""

import shutil

import pytest

torch = pytest.importorskip("torch")

from .conftest import CHECKPOINT, MODULES, load_tensors, tolerance  # noqa: E402

FIXTURE = "modules/vocoder.safetensors"
VOCODER_DIR = CHECKPOINT / "music_vocoder"
WEIGHTS = "diffusion_pytorch_model.safetensors"


@pytest.fixture(scope="module")
def vocoder():
    from songwright.acestep.vocoder import load_vocoder

    return load_vocoder(VOCODER_DIR)


@pytest.fixture(scope="module")
def fixture():
    return load_tensors(MODULES / "vocoder.safetensors")


def assert_close(actual, expected):
    assert actual.shape == expected.shape
    assert (actual - expected).abs().max().item() <= tolerance(FIXTURE)


def test_mel(vocoder, fixture):
    assert_close(vocoder.mel(fixture["wav_in"]), fixture["mel"])


def test_backbone(vocoder, fixture):
    with torch.no_grad():
        assert_close(vocoder.backbone(fixture["mel"]), fixture["backbone_out"])


@pytest.mark.parametrize(("mel", "wav"), [("mel", "wav_out"), ("mel_random", "wav_out_random")])
def test_decode(vocoder, fixture, mel, wav):
    assert_close(vocoder.decode(fixture[mel]), fixture[wav])


def test_state_dict_is_the_checkpoint(vocoder):
    stored = load_tensors(VOCODER_DIR / WEIGHTS)
    ours = vocoder.state_dict()
    assert set(ours) == set(stored)
    assert all(torch.equal(ours[k], stored[k]) for k in stored)


def test_computed_mel_buffers_equal_stored_ones():
    from songwright.acestep.vocoder import VocoderConfig, slaney_mel_filterbank

    stored = load_tensors(VOCODER_DIR / WEIGHTS)
    c = VocoderConfig()
    fb = slaney_mel_filterbank(c.n_fft // 2 + 1, c.f_min, c.f_max, c.n_mels, c.sampling_rate)
    assert (fb - stored["mel_transform.mel_scale.fb"]).abs().max().item() < 1e-6
    assert torch.equal(torch.hann_window(c.win_length), stored["mel_transform.spectrogram.window"])


@pytest.mark.parametrize("file_dtype", [torch.float16, torch.bfloat16])
def test_loads_16_bit_files(tmp_path, file_dtype):
    from safetensors.torch import save_file

    from songwright.acestep.vocoder import load_vocoder

    stored = load_tensors(VOCODER_DIR / WEIGHTS)
    shutil.copy(VOCODER_DIR / "config.json", tmp_path / "config.json")
    save_file({k: v.to(file_dtype) for k, v in stored.items()}, str(tmp_path / WEIGHTS))
    loaded = load_vocoder(tmp_path, dtype=torch.float32).state_dict()
    assert all(loaded[k].dtype == torch.float32 for k in stored)
    assert all(torch.equal(loaded[k], stored[k].to(file_dtype).float()) for k in stored)
    as_bf16 = load_vocoder(tmp_path, dtype=torch.bfloat16)
    assert as_bf16.head.conv_pre.weight_v.dtype == torch.bfloat16


def _edit(state, how):
    name = "head.resblocks.3.convs2.1.weight_v"
    if how == "missing":
        del state[name]
    elif how == "unexpected":
        name = "head.noise_convs.0.weight"
        state[name] = torch.zeros(3)
    else:
        state[name] = state[name][:, :, :-1].contiguous()
    return name


@pytest.mark.parametrize("how", ["missing", "unexpected", "misshaped"])
def test_strict_loading_names_the_bad_tensor(tmp_path, how):
    from safetensors.torch import save_file

    from songwright.acestep.vocoder import load_vocoder
    from songwright.errors import CheckpointError

    state = load_tensors(VOCODER_DIR / WEIGHTS)
    name = _edit(state, how)
    shutil.copy(VOCODER_DIR / "config.json", tmp_path / "config.json")
    save_file(state, str(tmp_path / WEIGHTS))
    with pytest.raises(CheckpointError, match=name.replace(".", r"\.")) as error:
        load_vocoder(tmp_path)
    assert {"missing": "missing", "unexpected": "unexpected", "misshaped": "wrong shape"}[how] in str(error.value)


@pytest.mark.parametrize("absent", ["config.json", WEIGHTS])
def test_missing_files(tmp_path, absent):
    from songwright.acestep.vocoder import load_vocoder
    from songwright.errors import CheckpointError

    for name in ("config.json", WEIGHTS):
        if name != absent:
            shutil.copy(VOCODER_DIR / name, tmp_path / name)
    with pytest.raises(CheckpointError, match=absent):
        load_vocoder(tmp_path)
