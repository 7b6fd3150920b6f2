"""The two attentions of the ACE-Step DiT block, and the rotary position tables they share.

Self-attention is "LiteLA" linear attention: a ReLU feature map on queries and keys, with
the sums done in float32. Cross-attention is ordinary softmax attention over the
conditioning sequence. Both rotate queries and keys with RoPE; the rotation pairs adjacent
channels (2i, 2i+1), while the cos/sin tables repeat the frequencies as cat(freqs, freqs).
That mix is what the released weights were trained with, so it is kept as is.
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

ERG_SCALE = 0.01
"""Factor on the query projection of a layer weakened by energy-based guidance (ERG)."""

LINEAR_ATTENTION_EPS = 1e-15
FP16_MAX = 65504.0


@lru_cache(maxsize=8)
def _rope_angles(length: int, dim: int, theta: float) -> torch.Tensor:
    """(length, dim) rotation angles in float32 on CPU, frequencies laid out twice."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    positions = torch.arange(length, dtype=torch.int64).float()
    angles = torch.outer(positions, inv_freq)
    return torch.cat((angles, angles), dim=-1)


def rope_tables(length: int, dim: int, theta: float, *, device: torch.device,
                dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin for positions 0..length-1, computed in float32 and cast to `dtype`."""
    angles = _rope_angles(length, dim, theta)
    return angles.cos().to(device, dtype), angles.sin().to(device, dtype)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate (..., seq, dim) by RoPE, pairing adjacent channels, with a float32 product."""
    pairs = x.unflatten(-1, (-1, 2))
    rotated = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)
    return (x.float() * cos + rotated.float() * sin).to(x.dtype)


def cross_attention_bias(latent_mask: torch.Tensor, context_mask: torch.Tensor, heads: int,
                         dtype: torch.dtype) -> torch.Tensor:
    """Additive (B, heads, T, L) mask: 0 where both the latent frame and the context token are valid.

    A latent frame with no valid context would get an all -inf row (NaN after softmax);
    the pipeline always passes an all-ones latent mask.
    """
    both = latent_mask[:, :, None] * context_mask[:, None, :]
    bias = torch.where(both == 1, 0.0, -torch.inf)
    return bias[:, None].expand(-1, heads, -1, -1).to(dtype)


def _heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(B, S, heads*dim) -> (B, heads, S, dim)."""
    return x.unflatten(-1, (heads, -1)).transpose(1, 2)


class _Projections(nn.Module):
    """The q/k/v/out projections both attentions share (checkpoint names `to_q`... `to_out.0`)."""

    def __init__(self, dim: int, heads: int, head_dim: int):
        super().__init__()
        inner = heads * head_dim
        self.heads = heads
        self.to_q = nn.Linear(dim, inner)
        self.to_k = nn.Linear(dim, inner)
        self.to_v = nn.Linear(dim, inner)
        self.to_out = nn.ModuleList([nn.Linear(inner, dim)])

    def _query(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor], weak: bool) -> torch.Tensor:
        """Projected, optionally weakened (ERG), split into heads and rotated queries."""
        query = self.to_q(x)
        if weak:
            query = query * ERG_SCALE
        return apply_rope(_heads(query, self.heads), *rope)


class LinearSelfAttention(_Projections):
    """ReLU-kernel linear self-attention with RoPE (the DiT block's `attn`)."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor],
                weak_query: bool = False) -> torch.Tensor:
        query = self._query(x, rope, weak_query)
        key = apply_rope(_heads(self.to_k(x), self.heads), *rope)
        value = _heads(self.to_v(x), self.heads)

        frame_mask = mask[:, None, :, None].to(key.dtype)
        query = F.relu(query * frame_mask).float()
        key = F.relu(key * frame_mask).float()
        value = (value * frame_mask).float()

        out = self._linear_attention(query, key, value)
        out = out.transpose(1, 2).flatten(2).to(x.dtype)
        # Upstream clamps to the fp16 range whenever torch's autocast dtype setting is fp16,
        # which is its default, so in practice always.
        return self.to_out[0](out).clamp(-FP16_MAX, FP16_MAX)

    @staticmethod
    def _linear_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        """sum_s v_s (k_s . q_t) / sum_s (k_s . q_t), as (B, H, T, dim).

        The normaliser comes out of the same product by padding the values with a row of ones.
        """
        value = F.pad(value.transpose(-1, -2), (0, 0, 0, 1), value=1.0)  # (B, H, dim+1, S)
        out = torch.matmul(torch.matmul(value, key), query.transpose(-1, -2))  # (B, H, dim+1, T)
        out = out[:, :, :-1] / (out[:, :, -1:] + LINEAR_ATTENTION_EPS)
        return out.transpose(-1, -2)


class CrossAttention(_Projections):
    """Softmax attention from latent frames to the conditioning sequence (the block's `cross_attn`).

    Keys are rotated with positions 0..L-1 of the conditioning sequence. No norm, no gate.
    """

    def forward(self, x: torch.Tensor, context: torch.Tensor, bias: torch.Tensor,
                rope: tuple[torch.Tensor, torch.Tensor], context_rope: tuple[torch.Tensor, torch.Tensor],
                weak_query: bool = False) -> torch.Tensor:
        query = self._query(x, rope, weak_query)
        key = apply_rope(_heads(self.to_k(context), self.heads), *context_rope)
        value = _heads(self.to_v(context), self.heads)
        out = F.scaled_dot_product_attention(query, key, value, attn_mask=bias)
        out = out.transpose(1, 2).flatten(2).to(query.dtype)
        return self.to_out[0](out)
