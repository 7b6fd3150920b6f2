"""The lyric encoder of ACE-Step: a small Conformer without its convolution module.

What the released model uses, and nothing else: a linear input layer with LayerNorm,
ESPnet-style relative positional encoding, pre-norm blocks of relative-position
self-attention followed by a Swish feed-forward (no macaron half-step, no convolution),
full (non-chunked) attention over the valid tokens, and a final LayerNorm.
Parameter names follow the checkpoint (`embed.out.*`, `encoders.N.*`, `after_norm`).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from functools import lru_cache

import torch
from torch import nn

from .attention import ERG_SCALE

LAYER_NORM_EPS = 1e-5


@lru_cache(maxsize=8)
def relative_position_table(length: int, dim: int) -> torch.Tensor:
    """(2*length-1, dim) sinusoids for relative positions length-1, ..., 0, ..., -(length-1).

    Computed in float32 on CPU: sin on even channels, cos on odd ones.
    """
    position = torch.arange(0, length, dtype=torch.float32).unsqueeze(1)
    inv_freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * -(math.log(10000.0) / dim))
    ahead = torch.zeros(length, dim)
    ahead[:, 0::2] = torch.sin(position * inv_freq)
    ahead[:, 1::2] = torch.cos(position * inv_freq)
    behind = torch.zeros(length, dim)
    behind[:, 0::2] = torch.sin(-1 * position * inv_freq)
    behind[:, 1::2] = torch.cos(-1 * position * inv_freq)
    return torch.cat([ahead.flip(0), behind[1:]], dim=0)


def _by_distance(scores: torch.Tensor) -> torch.Tensor:
    """(..., T, 2T-1) scores against relative positions -> (..., T, T) against key positions.

    Column k of the input is relative position T-1-k, so key j of query i sits at T-1-i+j.
    """
    length = scores.shape[-2]
    steps = torch.arange(length, device=scores.device)
    index = (length - 1) - steps[:, None] + steps[None, :]
    return scores.gather(-1, index.expand(*scores.shape[:-1], length))


class RelativePositionSelfAttention(nn.Module):
    """Multi-head self-attention with Transformer-XL content and position biases (`self_attn`)."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.linear_q = nn.Linear(dim, dim)
        self.linear_k = nn.Linear(dim, dim)
        self.linear_v = nn.Linear(dim, dim)
        self.linear_out = nn.Linear(dim, dim)
        self.linear_pos = nn.Linear(dim, dim, bias=False)
        self.pos_bias_u = nn.Parameter(torch.zeros(heads, self.head_dim))
        self.pos_bias_v = nn.Parameter(torch.zeros(heads, self.head_dim))

    def forward(self, x: torch.Tensor, pos_emb: torch.Tensor, padding: torch.Tensor,
                weak_query: bool = False) -> torch.Tensor:
        """x (B, T, dim), pos_emb (1, 2T-1, dim), padding (B, 1, 1, T) True at padded keys."""
        query = self.linear_q(x)
        if weak_query:
            query = query * ERG_SCALE
        query = query.unflatten(-1, (self.heads, self.head_dim))  # (B, T, H, d)
        key = self._heads(self.linear_k(x))
        value = self._heads(self.linear_v(x))
        position = self._heads(self.linear_pos(pos_emb))  # (1, H, 2T-1, d)

        content = torch.matmul((query + self.pos_bias_u).transpose(1, 2), key.transpose(-2, -1))
        distance = torch.matmul((query + self.pos_bias_v).transpose(1, 2), position.transpose(-2, -1))
        scores = (content + _by_distance(distance)) / math.sqrt(self.head_dim)

        scores = scores.masked_fill(padding, -float("inf"))
        weights = torch.softmax(scores, dim=-1).masked_fill(padding, 0.0)  # an all-padded row: 0, not NaN
        out = torch.matmul(weights, value).transpose(1, 2).flatten(2)
        return self.linear_out(out)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(-1, (self.heads, self.head_dim)).transpose(1, 2)


class FeedForward(nn.Module):
    """Position-wise Swish (SiLU) feed-forward."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.w_1 = nn.Linear(dim, hidden)
        self.w_2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w_2(nn.functional.silu(self.w_1(x)))


class ConformerLayer(nn.Module):
    """Pre-norm residual self-attention, then pre-norm residual feed-forward."""

    def __init__(self, dim: int, heads: int, hidden: int):
        super().__init__()
        self.self_attn = RelativePositionSelfAttention(dim, heads)
        self.feed_forward = FeedForward(dim, hidden)
        self.norm_ff = nn.LayerNorm(dim, eps=LAYER_NORM_EPS)
        self.norm_mha = nn.LayerNorm(dim, eps=LAYER_NORM_EPS)

    def forward(self, x: torch.Tensor, pos_emb: torch.Tensor, padding: torch.Tensor,
                weak_query: bool = False) -> torch.Tensor:
        x = x + self.self_attn(self.norm_mha(x), pos_emb, padding, weak_query)
        return x + self.feed_forward(self.norm_ff(x))


class LyricConformer(nn.Module):
    """Lyric token embeddings (B, T, input_size) -> (B, T, dim) contextual features."""

    def __init__(self, input_size: int, dim: int, heads: int, hidden: int, num_blocks: int):
        super().__init__()
        self.dim = dim
        self.embed = nn.ModuleDict({"out": nn.Sequential(nn.Linear(input_size, dim),
                                                         nn.LayerNorm(dim, eps=LAYER_NORM_EPS))})
        self.encoders = nn.ModuleList(ConformerLayer(dim, heads, hidden) for _ in range(num_blocks))
        self.after_norm = nn.LayerNorm(dim, eps=LAYER_NORM_EPS)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, weak_layers: Collection[int] = ()) -> torch.Tensor:
        """mask (B, T) is nonzero at real tokens; `weak_layers` get their queries scaled for ERG."""
        x = self.embed["out"](x) * math.sqrt(self.dim)
        pos_emb = relative_position_table(x.shape[1], self.dim).to(x.device, x.dtype)[None]
        padding = ~mask.to(torch.bool)[:, None, None, :]
        for index, layer in enumerate(self.encoders):
            x = layer(x, pos_emb, padding, weak_query=index in weak_layers)
        return self.after_norm(x)
