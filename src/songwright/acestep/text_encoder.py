"""Style-tag encoder of ACE-Step v1: the UMT5 encoder from transformers, used as it is.

The prompt goes in without a template: tokenized with padding, truncated at 256 tokens
(the tokenizer appends `</s>`), and the encoder's last hidden state is the conditioning.
The ERG "null" variant damps the query projections of encoder blocks 8 and 9 by 0.01,
which blurs attention there and gives a weakened prompt for the unconditional pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
from torch import Tensor, nn

from ..errors import CheckpointError, MissingDependency

MAX_TOKENS = 256
ERG_NULL_BLOCKS = (8, 9)
ERG_NULL_SCALE = 0.01


def _missing_files(umt5_dir: Path) -> list[str]:
    """Names of the files a loadable UMT5 folder lacks."""
    missing = [name for name in ("config.json", "model.safetensors") if not (umt5_dir / name).is_file()]
    if not any((umt5_dir / name).is_file() for name in ("tokenizer.json", "spiece.model")):
        missing.append("tokenizer.json (or spiece.model)")
    return missing


def _scale_output(module: nn.Module, inputs: tuple, output: Tensor) -> Tensor:
    return output * ERG_NULL_SCALE


class TagEncoder:
    """Tokenizer + UMT5 encoder that turn style-tag prompts into conditioning states."""

    def __init__(self, tokenizer, model: nn.Module):
        self.tokenizer = tokenizer
        self.model = model

    @classmethod
    def from_dir(cls, umt5_dir, *, dtype: torch.dtype = torch.float32, device="cpu") -> TagEncoder:
        """Load the `umt5-base` folder of a checkpoint, from local files only."""
        umt5_dir = Path(umt5_dir)
        missing = _missing_files(umt5_dir)
        if missing:
            raise CheckpointError(f"UMT5 text encoder folder {umt5_dir} lacks: {', '.join(missing)}")
        try:
            from transformers import AutoTokenizer, UMT5EncoderModel
            from transformers.utils import logging as transformers_logging
        except ImportError as error:
            raise MissingDependency("transformers", 'pip install -e ".[neural]"') from error
        transformers_logging.disable_progress_bar()  # a CLI run prints nothing but errors with -q
        try:
            tokenizer = AutoTokenizer.from_pretrained(umt5_dir, local_files_only=True)
            model = UMT5EncoderModel.from_pretrained(umt5_dir, local_files_only=True)
        except (OSError, ValueError) as error:
            raise CheckpointError(f"cannot load the UMT5 text encoder from {umt5_dir}: {error}") from error
        model = model.to(device).eval().to(dtype).requires_grad_(False)
        return cls(tokenizer, model)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def tokenize(self, prompts: list[str]) -> tuple[Tensor, Tensor]:
        """Token ids and attention mask (int64), padded to the longest prompt, at most 256."""
        tokens = self.tokenizer(prompts, return_tensors="pt", padding=True, truncation=True, max_length=MAX_TOKENS)
        return tokens["input_ids"].to(self.device), tokens["attention_mask"].to(self.device)

    @torch.no_grad()
    def encode(self, prompts: list[str], *, erg_null: bool = False) -> tuple[Tensor, Tensor]:
        """(last_hidden_state (B, L, D), attention_mask (B, L) int64) for a batch of prompts."""
        input_ids, attention_mask = self.tokenize(prompts)
        with self._damped_queries() if erg_null else nullcontext():
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return hidden, attention_mask

    @contextmanager
    def _damped_queries(self) -> Iterator[None]:
        """Scale the self-attention q outputs of the ERG blocks while inside; hooks always removed."""
        handles = []
        try:
            for index in ERG_NULL_BLOCKS:
                query = self.model.encoder.block[index].layer[0].SelfAttention.q
                handles.append(query.register_forward_hook(_scale_output))
            yield
        finally:
            for handle in handles:
                handle.remove()
