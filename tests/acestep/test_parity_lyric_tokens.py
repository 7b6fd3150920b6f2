"""Lyric tokenizer parity with upstream ACE-Step (fixtures: modules/lyric_tokens.json).

Each stage is checked on its own, so a failure points at it: language detection
(`line_language`, `language_counts`), the cleaner (`clean_line`), the BPE input string
(`bpe_text`), one line's ids (`encode_line`) and whole lyric sheets (`tokenize`,
`model_inputs`). All ids must be identical.
"""

import json

import pytest

for _module in ("tokenizers", "py3langid", "num2words", "pypinyin", "hangul_romanize", "cutlet", "fugashi", "unidic_lite"):
    pytest.importorskip(_module)

from songwright.acestep.lyric_text import clean_line
from songwright.acestep.lyric_tokenizer import (
    VOCAB_ENV,
    LyricTokenizer,
    bpe_text,
    find_lyric_vocab,
    language_counts,
    line_language,
)
from songwright.errors import CheckpointError

from .conftest import CHECKPOINT, LYRIC_VOCAB, MODULES

CASES = json.loads((MODULES / "lyric_tokens.json").read_text(encoding="utf-8"))["cases"]
ENCODE_CALLS = [
    pytest.param(call, id=f"{name}-{i}") for name, case in CASES.items() for i, call in enumerate(case["encode_calls"])
]
DETECTED_LINES = [
    pytest.param(line, id=f"{name}-{i}")
    for name, case in CASES.items()
    for i, line in enumerate(case["lines"])
    if line["get_lang"] is not None
]


@pytest.fixture(scope="module")
def tokenizer() -> LyricTokenizer:
    return LyricTokenizer.from_file(LYRIC_VOCAB)


def test_fixture_inventory():
    assert len(CASES) == 14
    assert len(ENCODE_CALLS) > 50 and len(DETECTED_LINES) > 50


# ------------------------------------------------------------------ per stage


@pytest.mark.parametrize("line", DETECTED_LINES)
def test_line_language(line):
    assert [list(count) for count in language_counts(line["line"])] == line["lang_counts"]
    assert line_language(line["line"]) == line["get_lang"]


@pytest.mark.parametrize("call", ENCODE_CALLS)
def test_cleaner(call):
    assert clean_line(call["line"], call["lang"]) == call["cleaned"]


@pytest.mark.parametrize("call", ENCODE_CALLS)
def test_bpe_input(call):
    assert bpe_text(call["line"], call["lang"]) == call["bpe_input"]


@pytest.mark.parametrize("call", ENCODE_CALLS)
def test_encode_line(tokenizer, call):
    assert tokenizer.encode_line(call["line"], call["lang"]) == call["ids"]


# ------------------------------------------------------------------ whole lyric sheets


@pytest.mark.parametrize("name", CASES)
def test_tokenize(tokenizer, name):
    assert tokenizer.tokenize(CASES[name]["lyrics"]) == CASES[name]["tokenize_lyrics"]


@pytest.mark.parametrize("name", CASES)
def test_model_inputs(tokenizer, name):
    ids, mask = tokenizer.model_inputs(CASES[name]["lyrics"])
    assert ids == CASES[name]["pipeline_lyric_token_idx"]
    assert mask == CASES[name]["pipeline_lyric_mask"]


def test_empty_lyrics(tokenizer):
    assert tokenizer.tokenize("") == [261, 2]
    assert tokenizer.model_inputs("") == ([0], [0])


def test_failing_line_is_dropped(tokenizer, monkeypatch):
    encode = tokenizer.encode_line

    def failing_on_boom(line, language):
        if line == "boom":
            raise RuntimeError("cleaner failed")
        return encode(line, language)

    monkeypatch.setattr(tokenizer, "encode_line", failing_on_boom)
    assert tokenizer.tokenize("[verse]\n boom \n") == [261, 259, 6683, 2, 2]


def test_unknown_language_has_no_cleaner(tokenizer):
    with pytest.raises(NotImplementedError):
        tokenizer.encode_line("hello", "xx")


# ------------------------------------------------------------------ finding vocab.json


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(VOCAB_ENV, raising=False)


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    return path


def test_find_vocab_next_to_fixture_checkpoint(no_env):
    assert find_lyric_vocab(CHECKPOINT).resolve() == LYRIC_VOCAB.resolve()


def test_find_vocab_order(tmp_path, monkeypatch, no_env):
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    sibling = _touch(tmp_path / "lyric_tokenizer" / "vocab.json")
    assert find_lyric_vocab(checkpoint).resolve() == sibling.resolve()

    inside = _touch(checkpoint / "lyric_tokenizer" / "vocab.json")
    assert find_lyric_vocab(checkpoint) == inside

    from_env = _touch(tmp_path / "env" / "vocab.json")
    monkeypatch.setenv(VOCAB_ENV, str(from_env))
    assert find_lyric_vocab(checkpoint) == from_env

    explicit = _touch(tmp_path / "explicit.json")
    assert find_lyric_vocab(checkpoint, explicit) == explicit
    assert find_lyric_vocab(checkpoint, tmp_path / "missing.json") == from_env


def test_missing_vocab_error_names_places(tmp_path, monkeypatch):
    monkeypatch.setenv(VOCAB_ENV, str(tmp_path / "env.json"))
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    with pytest.raises(CheckpointError) as raised:
        find_lyric_vocab(checkpoint, tmp_path / "explicit.json")
    message = str(raised.value)
    for place in ("explicit.json", "env.json", str(checkpoint / "lyric_tokenizer" / "vocab.json")):
        assert place in message
    assert "acestep/models/lyrics_utils/vocab.json" in message


def test_from_file_missing(tmp_path):
    with pytest.raises(CheckpointError, match="missing.json"):
        LyricTokenizer.from_file(tmp_path / "missing.json")
