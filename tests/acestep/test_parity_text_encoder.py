"""UMT5 tag encoder against upstream get_text_embeddings(_null) (modules/text_encoder.safetensors)."""

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from songwright.acestep.text_encoder import TagEncoder  # noqa: E402
from songwright.errors import CheckpointError  # noqa: E402

from .conftest import CHECKPOINT, FIXTURES, MODULES, load_tensors, tolerance  # noqa: E402

FILE = "modules/text_encoder.safetensors"
FIXTURE_INFO = json.loads((FIXTURES / "manifest.json").read_text())["files"][FILE]
PROMPTS = FIXTURE_INFO["prompts"]


@pytest.fixture(scope="module")
def ref():
    return load_tensors(MODULES / "text_encoder.safetensors")


@pytest.fixture(scope="module")
def encoder():
    return TagEncoder.from_dir(CHECKPOINT / "umt5-base")


def assert_close(actual, expected, atol):
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype
    assert (actual - expected).abs().max().item() <= atol


def query_hooks(encoder):
    return sum(len(block.layer[0].SelfAttention.q._forward_hooks) for block in encoder.model.encoder.block)


@pytest.mark.parametrize("name", list(PROMPTS))
def test_single_prompt(ref, encoder, name):
    atol = tolerance(FILE)
    input_ids, _ = encoder.tokenize([PROMPTS[name]])
    assert torch.equal(input_ids, ref[f"{name}.input_ids"])
    hidden, mask = encoder.encode([PROMPTS[name]])
    assert mask.dtype == torch.int64 and torch.equal(mask, ref[f"{name}.attention_mask"])
    assert_close(hidden, ref[f"{name}.last_hidden_state"], atol)
    null_hidden, null_mask = encoder.encode([PROMPTS[name]], erg_null=True)
    assert torch.equal(null_mask, mask)
    assert_close(null_hidden, ref[f"{name}.last_hidden_state_erg_null"], atol)
    assert query_hooks(encoder) == 0


def test_long_prompt_truncated_with_eos(ref, encoder):
    input_ids, _ = encoder.tokenize([PROMPTS["long_truncated"]])
    assert input_ids.shape == (1, 256) and input_ids[0, -1].item() == 1


def test_padded_batch(ref, encoder):
    prompts = [PROMPTS[name] for name in FIXTURE_INFO["batch_prompts"]]
    input_ids, _ = encoder.tokenize(prompts)
    assert torch.equal(input_ids, ref["batch.input_ids"])
    hidden, mask = encoder.encode(prompts)
    assert torch.equal(mask, ref["batch.attention_mask"])
    assert_close(hidden, ref["batch.last_hidden_state"], tolerance(FILE))


def test_erg_hooks_removed_on_error(encoder):
    def fail(*_):
        raise RuntimeError("boom")

    handle = encoder.model.encoder.final_layer_norm.register_forward_pre_hook(fail)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            encoder.encode(["pop"], erg_null=True)
    finally:
        handle.remove()
    assert query_hooks(encoder) == 0


def test_missing_files(tmp_path):
    with pytest.raises(CheckpointError, match="model.safetensors"):
        TagEncoder.from_dir(tmp_path)
