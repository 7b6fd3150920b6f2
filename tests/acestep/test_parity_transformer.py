"""The ACE-Step transformer (DiT + lyric Conformer) against upstream, and its strict loader.

Reference: modules/transformer.safetensors (upstream encode / decode / forward on the tiny
checkpoint, with hooked intermediates and the two ERG variants).
"""

import json
import math
import shutil
from contextlib import contextmanager

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from safetensors.torch import load_file, save_file

from songwright.acestep.checkpoint import CONFIG_FILE, WEIGHTS_FILE
from songwright.acestep.transformer import (
    AceStepTransformer,
    TransformerConfig,
    full_size_config,
    load_transformer,
)
from songwright.errors import CheckpointError

from .conftest import CHECKPOINT, MODULES, load_tensors, tolerance

MODEL_DIR = CHECKPOINT / "ace_step_transformer"
ATOL = tolerance("modules/transformer.safetensors")
BLOCK_RTOL = 1e-5  # block outputs grow to O(10)
ENCODE_INPUTS = ("encoder_text_hidden_states", "text_attention_mask", "speaker_embeds", "lyric_token_idx",
                 "lyric_mask")
UPSTREAM_VALUE_COUNT = 3_305_659_264  # fixtures README: meta-device build of the upstream class


@pytest.fixture(scope="module")
def ref():
    return load_tensors(MODULES / "transformer.safetensors")


@pytest.fixture(scope="module")
def model():
    return load_transformer(MODEL_DIR)


@pytest.fixture(scope="module")
def weights():
    return load_file(str(MODEL_DIR / WEIGHTS_FILE))


def encode_args(ref):
    return [ref[name] for name in ENCODE_INPUTS]


def forward_args(ref):
    return [ref["hidden_states"], ref["attention_mask"], *encode_args(ref), ref["timestep"]]


def assert_close(actual, expected, *, atol=ATOL, rtol=0.0):
    torch.testing.assert_close(actual, expected, atol=atol, rtol=rtol)


@contextmanager
def capture(modules):
    """Record the output of each named module while the block runs."""
    seen = {}
    handles = [module.register_forward_hook(lambda _m, _i, out, name=name: seen.__setitem__(name, out))
               for name, module in modules.items()]
    try:
        yield seen
    finally:
        for handle in handles:
            handle.remove()


def write_checkpoint(folder, tensors, config=None):
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / WEIGHTS_FILE))
    if config is None:
        shutil.copy(MODEL_DIR / CONFIG_FILE, folder / CONFIG_FILE)
    else:
        (folder / CONFIG_FILE).write_text(json.dumps(config))
    return folder


# --------------------------------------------------------------------------- parity


def test_encode_matches_upstream(model, ref):
    with capture({"lyric_encoder_out": model.lyric_encoder}) as seen, torch.no_grad():
        states, mask = model.encode(*encode_args(ref))
    assert_close(states, ref["encoder_hidden_states"])
    assert_close(mask, ref["encoder_hidden_mask"], atol=0.0)
    assert_close(seen["lyric_encoder_out"], ref["lyric_encoder_out"])


def test_forward_and_every_intermediate_match_upstream(model, ref):
    hooked = {"embedded_timestep": model.timestep_embedder, "temb": model.t_block, "proj_in_out": model.proj_in}
    blocks = {f"block{index:02d}_out": block for index, block in enumerate(model.transformer_blocks)}
    with capture({**hooked, **blocks}) as seen, torch.no_grad():
        sample = model(*forward_args(ref))
    assert_close(sample, ref["sample"])
    for name in hooked:
        assert_close(seen[name], ref[name])
    assert len(blocks) == 24
    for name in blocks:
        assert_close(seen[name], ref[name], rtol=BLOCK_RTOL)


def test_decode_of_encode_matches_upstream(model, ref):
    with torch.no_grad():
        states, mask = model.encode(*encode_args(ref))
        sample = model.decode(ref["hidden_states"], ref["attention_mask"], states, mask, ref["timestep"])
    assert_close(sample, ref["sample_via_decode"])


def test_erg_lyric_weakens_conformer_layers_4_and_5(model, ref):
    assert (ref["encoder_hidden_states_erg_lyric"] - ref["encoder_hidden_states"]).abs().max() > 100 * ATOL
    with torch.no_grad():
        weak, _ = model.encode(*encode_args(ref), erg_lyric=True)
    assert_close(weak, ref["encoder_hidden_states_erg_lyric"])


def test_erg_diffusion_weakens_blocks_15_to_19(model, ref):
    assert (ref["sample_erg_diffusion"] - ref["sample"]).abs().max() > 100 * ATOL
    with torch.no_grad():
        sample = model.decode(ref["hidden_states"], ref["attention_mask"], ref["encoder_hidden_states"],
                              ref["encoder_hidden_mask"], ref["timestep"], erg_diffusion=True)
    assert_close(sample, ref["sample_erg_diffusion"])


# --------------------------------------------------------------------------- strict loading


def _drop(key):
    return lambda tensors: tensors.pop(key)


def _add(key):
    return lambda tensors: tensors.__setitem__(key, torch.zeros(32))


def _reshape(key, shape):
    return lambda tensors: tensors.__setitem__(key, torch.zeros(shape))


@pytest.mark.parametrize("edit, key, kind", [
    (_drop("transformer_blocks.3.cross_attn.to_k.weight"), "transformer_blocks.3.cross_attn.to_k.weight", "missing"),
    (_drop("lyric_encoder.encoders.5.self_attn.pos_bias_v"), "lyric_encoder.encoders.5.self_attn.pos_bias_v",
     "missing"),
    (_add("transformer_blocks.3.attn.norm_q.weight"), "transformer_blocks.3.attn.norm_q.weight", "unexpected"),
    (_add("transformer_blocks.24.cross_attn.add_q_proj.bias"), "transformer_blocks.24.cross_attn.add_q_proj.bias",
     "unexpected"),
    (_reshape("lyric_encoder.encoders.2.feed_forward.w_1.weight", (65, 32)),
     "lyric_encoder.encoders.2.feed_forward.w_1.weight", "wrong shape"),
    (_reshape("projectors.1.4.weight", (767, 64)), "projectors.1.4.weight", "wrong shape"),
])
def test_load_rejects_tensors_that_do_not_fit(tmp_path, weights, edit, key, kind):
    tensors = dict(weights)
    edit(tensors)
    folder = write_checkpoint(tmp_path / "ace_step_transformer", tensors)
    with pytest.raises(CheckpointError, match=kind) as error:
        load_transformer(folder)
    assert key in str(error.value)


def test_load_rejects_missing_files(tmp_path, weights):
    with pytest.raises(CheckpointError, match=CONFIG_FILE):
        load_transformer(tmp_path)
    (tmp_path / CONFIG_FILE).write_text((MODEL_DIR / CONFIG_FILE).read_text())
    with pytest.raises(CheckpointError, match=WEIGHTS_FILE):
        load_transformer(tmp_path)


def test_known_unused_upstream_tensors_are_optional(tmp_path, weights, model):
    unused = model.unused_checkpoint_shapes()
    assert unused.keys() <= weights.keys()
    assert len(weights) - len(unused) == len(model.state_dict())
    folder = write_checkpoint(tmp_path / "ace_step_transformer",
                              {key: value for key, value in weights.items() if key not in unused})
    reloaded = load_transformer(folder).state_dict()
    assert reloaded.keys() == model.state_dict().keys()
    assert all(torch.equal(reloaded[key], value) for key, value in model.state_dict().items())


def test_bf16_weights_load_and_run(tmp_path, weights, ref):
    folder = write_checkpoint(tmp_path / "ace_step_transformer", {k: v.bfloat16() for k, v in weights.items()})
    upcast = load_transformer(folder)
    assert {p.dtype for p in upcast.parameters()} == {torch.float32}
    with torch.no_grad():
        sample = upcast(*forward_args(ref))
    assert_close(sample, ref["sample"], atol=0.2)  # bf16-rounded weights, fp32 arithmetic

    low = load_transformer(folder, dtype=torch.bfloat16)
    assert {p.dtype for p in low.parameters()} == {torch.bfloat16}
    args = [x.bfloat16() if x.is_floating_point() and x.dim() > 1 else x for x in forward_args(ref)]
    with torch.no_grad():
        sample = low(*args)
    assert sample.dtype == torch.bfloat16
    assert_close(sample.float(), ref["sample"], atol=0.5)


# --------------------------------------------------------------------------- config


def test_conformer_sizes_are_read_off_the_weights(tmp_path, weights):
    config = json.loads((MODEL_DIR / CONFIG_FILE).read_text())
    official_keys = {k: v for k, v in config.items() if not k.startswith("lyric_encoder_") or k.endswith("vocab_size")}
    folder = write_checkpoint(tmp_path / "ace_step_transformer", dict(weights), official_keys)
    sizes = TransformerConfig.from_dir(folder)
    assert (sizes.lyric_encoder_output_size, sizes.lyric_encoder_attention_heads,
            sizes.lyric_encoder_linear_units, sizes.lyric_encoder_num_blocks) == (32, 4, 64, 6)
    defaults = TransformerConfig.from_dict(official_keys)
    assert (defaults.lyric_encoder_output_size, defaults.lyric_encoder_attention_heads,
            defaults.lyric_encoder_linear_units, defaults.lyric_encoder_num_blocks) == (1024, 16, 4096, 6)
    assert TransformerConfig.from_dir(MODEL_DIR) == sizes


def test_full_size_model_builds_on_meta_with_the_upstream_value_count():
    config = full_size_config()
    assert (config.num_layers, config.inner_dim, config.lyric_hidden_size) == (24, 2560, 1024)
    with torch.device("meta"):
        big = AceStepTransformer(config)
    used = sum(p.numel() for p in big.parameters())
    unused = sum(math.prod(shape) for shape in big.unused_checkpoint_shapes().values())
    assert used + unused == UPSTREAM_VALUE_COUNT
