"""The ACE-Step v1 diffusion transformer: a linear-attention DiT conditioned on tags, lyrics and a speaker.

`encode` turns the conditioning into one sequence (speaker | tags | lyrics); `decode` predicts
the flow-matching velocity of a latent (B, 8, 16, T) at a timestep. Module and parameter
names follow the released checkpoint, so its state dict loads as is.

A full-size model can be built without allocating or initialising weights:
`with torch.device("meta"): model = AceStepTransformer(full_size_config())`, then
`model.to_empty(device=...)` and fill the parameters as needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.normalization import RMSNorm
from torch import nn

from .attention import (
    CrossAttention,
    LinearSelfAttention,
    cross_attention_bias,
    rope_tables,
)
from .checkpoint import WEIGHTS_FILE, load_strict, read_json_config, stored_shapes
from .conformer import LyricConformer

TIMESTEP_CHANNELS = 256
ERG_LYRIC_LAYERS = range(4, 6)
ERG_DIFFUSION_BLOCKS = range(15, 20)


@dataclass(frozen=True)
class TransformerConfig:
    """Architecture sizes. The defaults are the released 3.5B model.

    The four `lyric_encoder_*` sizes are not in the official config.json (upstream hard-codes
    them); `from_dir` reads them off the weights when the config does not give them.
    """

    in_channels: int = 8
    out_channels: int = 8
    num_layers: int = 24
    num_attention_heads: int = 20
    attention_head_dim: int = 128
    mlp_ratio: float = 2.5
    rope_theta: float = 1000000.0
    patch_size: tuple[int, int] = (16, 1)
    speaker_embedding_dim: int = 512
    text_embedding_dim: int = 768
    lyric_encoder_vocab_size: int = 6693
    lyric_hidden_size: int = 1024
    ssl_latent_dims: tuple[int, ...] = (1024, 768)
    lyric_encoder_output_size: int = 1024
    lyric_encoder_attention_heads: int = 16
    lyric_encoder_linear_units: int = 4096
    lyric_encoder_num_blocks: int = 6

    @property
    def inner_dim(self) -> int:
        return self.num_attention_heads * self.attention_head_dim

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> TransformerConfig:
        """From a diffusers-style config dict; keys this architecture does not use are ignored."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in config.items() if key in known}
        for key in ("patch_size", "ssl_latent_dims"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    @classmethod
    def from_dir(cls, path: str | Path) -> TransformerConfig:
        """From `config.json` in `path`, with the Conformer sizes taken from the weights if absent."""
        config = read_json_config(path)
        weights = Path(path) / WEIGHTS_FILE
        if weights.is_file():
            config = {**_conformer_sizes(weights), **config}
        return cls.from_dict(config)


def full_size_config() -> TransformerConfig:
    """The released ACE-Step v1 3.5B transformer (upstream acestep/models/config.json)."""
    return TransformerConfig()


def _conformer_sizes(weights: Path) -> dict[str, int]:
    """The lyric Conformer sizes implied by the tensor shapes of a checkpoint file."""
    prefix = "lyric_encoder."
    shapes = {key: shape for key, shape in stored_shapes(weights).items() if key.startswith(prefix)}
    sizes = {}
    if (norm := shapes.get(prefix + "after_norm.weight")) is not None:
        sizes["lyric_encoder_output_size"] = norm[0]
    if (bias := shapes.get(prefix + "encoders.0.self_attn.pos_bias_u")) is not None:
        sizes["lyric_encoder_attention_heads"] = bias[0]
    if (w_1 := shapes.get(prefix + "encoders.0.feed_forward.w_1.weight")) is not None:
        sizes["lyric_encoder_linear_units"] = w_1[0]
    blocks = {key.split(".")[2] for key in shapes if key.startswith(prefix + "encoders.")}
    if blocks:
        sizes["lyric_encoder_num_blocks"] = len(blocks)
    return sizes


# --------------------------------------------------------------------------- building blocks


class PatchEmbed(nn.Module):
    """Latent (B, C, 16, T) -> tokens (B, T, dim): a 16x1 patch conv, GroupNorm, then a 1x1 conv."""

    def __init__(self, in_channels: int, dim: int, patch_size: tuple[int, int]):
        super().__init__()
        wide = in_channels * 256
        self.early_conv_layers = nn.Sequential(
            nn.Conv2d(in_channels, wide, kernel_size=patch_size, stride=patch_size),
            nn.GroupNorm(num_groups=32, num_channels=wide, eps=1e-6),
            nn.Conv2d(wide, dim, kernel_size=1),
        )

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.early_conv_layers(latent).flatten(2).transpose(1, 2)


class _Conv(nn.Module):
    """Holds a Conv1d under the name `conv`, as the checkpoint's GLUMBConv layers do."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()
        self.conv = nn.Conv1d(*args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class GatedConvFeedForward(nn.Module):
    """GLUMBConv: 1x1 conv + SiLU, depthwise 3-tap conv, SiLU-gated halves, 1x1 conv back."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.inverted_conv = _Conv(dim, hidden * 2, 1)
        self.depth_conv = _Conv(hidden * 2, hidden * 2, 3, padding=1, groups=hidden * 2)
        self.point_conv = _Conv(hidden, dim, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The 1x1 convolutions run as matmuls on (B, T, C) tokens: same arithmetic, faster on CPU.
        x = nn.functional.silu(_pointwise(x, self.inverted_conv.conv))
        x, gate = self.depth_conv(x.transpose(1, 2)).transpose(1, 2).chunk(2, dim=-1)
        return _pointwise(x * nn.functional.silu(gate), self.point_conv.conv)


def _pointwise(tokens: torch.Tensor, conv: nn.Conv1d) -> torch.Tensor:
    """A kernel-size-1 Conv1d applied to (B, T, C_in) tokens as a linear map."""
    return nn.functional.linear(tokens, conv.weight.squeeze(-1), conv.bias)


class DiTBlock(nn.Module):
    """adaLN-single block: modulated linear self-attention, plain cross-attention, modulated feed-forward."""

    def __init__(self, dim: int, heads: int, head_dim: int, mlp_ratio: float):
        super().__init__()
        self.norm1 = RMSNorm(dim, eps=1e-6, elementwise_affine=False)
        self.attn = LinearSelfAttention(dim, heads, head_dim)
        self.cross_attn = CrossAttention(dim, heads, head_dim)
        self.norm2 = RMSNorm(dim, eps=1e-6, elementwise_affine=False)
        self.ff = GatedConvFeedForward(dim, int(dim * mlp_ratio))
        self.scale_shift_table = nn.Parameter(torch.zeros(6, dim))

    def forward(self, x: torch.Tensor, temb: torch.Tensor, mask: torch.Tensor, context: torch.Tensor,
                context_bias: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor],
                context_rope: tuple[torch.Tensor, torch.Tensor], weak_queries: bool = False) -> torch.Tensor:
        modulation = self.scale_shift_table[None] + temb.unflatten(1, (6, -1))
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = modulation.chunk(6, dim=1)

        h = self.norm1(x) * (1 + scale_msa) + shift_msa
        x = gate_msa * self.attn(h, mask, rope, weak_queries) + x
        x = self.cross_attn(x, context, context_bias, rope, context_rope, weak_queries) + x

        h = self.norm2(x) * (1 + scale_mlp) + shift_mlp
        return x + gate_mlp * self.ff(h)


class FinalLayer(nn.Module):
    """Modulated RMSNorm, a linear map to patch pixels, and unpatchify to (B, C, 16, T)."""

    def __init__(self, dim: int, patch_size: tuple[int, int], out_channels: int):
        super().__init__()
        self.patch_size = patch_size
        self.out_channels = out_channels
        self.norm_final = nn.RMSNorm(dim, eps=1e-6, elementwise_affine=False)
        self.linear = nn.Linear(dim, patch_size[0] * patch_size[1] * out_channels)
        self.scale_shift_table = nn.Parameter(torch.zeros(2, dim))

    def forward(self, x: torch.Tensor, embedded_timestep: torch.Tensor, height: int) -> torch.Tensor:
        shift, scale = (self.scale_shift_table[None] + embedded_timestep[:, None]).chunk(2, dim=1)
        x = self.linear(self.norm_final(x) * (1 + scale) + shift)
        (p, q), rows = self.patch_size, height // self.patch_size[0]
        x = x.reshape(x.shape[0], rows, -1, p, q, self.out_channels)
        x = x.permute(0, 5, 1, 3, 2, 4)  # (B, C, rows, p, cols, q)
        return x.reshape(x.shape[0], self.out_channels, rows * p, -1)


# --------------------------------------------------------------------------- the model


class AceStepTransformer(nn.Module):
    """ACE-Step v1 DiT with its lyric Conformer (upstream `ACEStepTransformer2DModel`, inference only)."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        dim = config.inner_dim
        self.time_proj = Timesteps(TIMESTEP_CHANNELS, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.timestep_embedder = TimestepEmbedding(TIMESTEP_CHANNELS, dim)
        self.t_block = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))
        self.speaker_embedder = nn.Linear(config.speaker_embedding_dim, dim)
        self.genre_embedder = nn.Linear(config.text_embedding_dim, dim)
        self.lyric_embs = nn.Embedding(config.lyric_encoder_vocab_size, config.lyric_hidden_size)
        self.lyric_encoder = LyricConformer(
            config.lyric_hidden_size, config.lyric_encoder_output_size, config.lyric_encoder_attention_heads,
            config.lyric_encoder_linear_units, config.lyric_encoder_num_blocks)
        self.lyric_proj = nn.Linear(config.lyric_hidden_size, dim)
        self.proj_in = PatchEmbed(config.in_channels, dim, config.patch_size)
        self.transformer_blocks = nn.ModuleList(
            DiTBlock(dim, config.num_attention_heads, config.attention_head_dim, config.mlp_ratio)
            for _ in range(config.num_layers))
        self.final_layer = FinalLayer(dim, config.patch_size, config.out_channels)

    def encode(self, text_hidden_states: torch.Tensor, text_attention_mask: torch.Tensor,
               speaker_embeds: torch.Tensor, lyric_token_idx: torch.Tensor, lyric_mask: torch.Tensor,
               *, erg_lyric: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Conditioning sequence [speaker (1) | tags (Lt) | lyrics (Ll)] and its mask.

        The mask is float (the speaker slot is a float one). `erg_lyric` weakens the queries
        of Conformer layers 4-5, as the pipeline's ERG lyric guidance does.
        """
        batch = text_hidden_states.shape[0]
        speaker = self.speaker_embedder(speaker_embeds)[:, None]
        speaker_mask = torch.ones(batch, 1, device=text_hidden_states.device)
        tags = self.genre_embedder(text_hidden_states)
        lyrics = self.lyric_encoder(self.lyric_embs(lyric_token_idx), lyric_mask,
                                    weak_layers=ERG_LYRIC_LAYERS if erg_lyric else ())
        lyrics = self.lyric_proj(lyrics)
        states = torch.cat([speaker, tags, lyrics], dim=1)
        mask = torch.cat([speaker_mask, text_attention_mask, lyric_mask], dim=1)
        return states, mask

    def decode(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor,
               encoder_hidden_states: torch.Tensor, encoder_hidden_mask: torch.Tensor,
               timestep: torch.Tensor | float, *, erg_diffusion: bool = False) -> torch.Tensor:
        """Velocity (B, C, 16, T) of latents (B, C, 16, T) at `timestep` (0..1000, one per item or shared).

        `erg_diffusion` weakens the self- and cross-attention queries of blocks 15-19.
        """
        batch, _, height, _ = hidden_states.shape
        timestep = torch.as_tensor(timestep, device=hidden_states.device).reshape(-1).expand(batch)
        embedded_timestep = self.timestep_embedder(self.time_proj(timestep).to(hidden_states.dtype))
        temb = self.t_block(embedded_timestep)

        x = self.proj_in(hidden_states)
        config = self.config
        rope = rope_tables(x.shape[1], config.attention_head_dim, config.rope_theta,
                           device=x.device, dtype=x.dtype)
        context_rope = rope_tables(encoder_hidden_states.shape[1], config.attention_head_dim, config.rope_theta,
                                   device=x.device, dtype=encoder_hidden_states.dtype)
        context_bias = cross_attention_bias(attention_mask, encoder_hidden_mask, config.num_attention_heads, x.dtype)
        weak = ERG_DIFFUSION_BLOCKS if erg_diffusion else ()
        for index, block in enumerate(self.transformer_blocks):
            x = block(x, temb, attention_mask, encoder_hidden_states, context_bias, rope, context_rope,
                      weak_queries=index in weak)
        return self.final_layer(x, embedded_timestep, height)

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor,
                text_hidden_states: torch.Tensor, text_attention_mask: torch.Tensor,
                speaker_embeds: torch.Tensor, lyric_token_idx: torch.Tensor, lyric_mask: torch.Tensor,
                timestep: torch.Tensor | float) -> torch.Tensor:
        """`decode` on the output of `encode`: one velocity prediction from raw conditioning."""
        context, context_mask = self.encode(text_hidden_states, text_attention_mask, speaker_embeds,
                                            lyric_token_idx, lyric_mask)
        return self.decode(hidden_states, attention_mask, context, context_mask, timestep)

    def unused_checkpoint_shapes(self) -> dict[str, tuple[int, ...]]:
        """Tensors the released checkpoint holds that inference never reads, with their shapes.

        These are the cross-attention's context projections (built upstream, never called)
        and the training-only SSL projectors.
        """
        config, dim = self.config, self.config.inner_dim
        shapes: dict[str, tuple[int, ...]] = {}
        for block in range(config.num_layers):
            prefix = f"transformer_blocks.{block}.cross_attn."
            for name in ("add_q_proj", "add_k_proj", "add_v_proj"):
                shapes[f"{prefix}{name}.weight"] = (dim, dim)
                shapes[f"{prefix}{name}.bias"] = (dim,)
            shapes[f"{prefix}to_add_out.weight"] = (dim, dim)
            shapes[f"{prefix}to_add_out.bias"] = (dim,)
        for index, ssl_dim in enumerate(config.ssl_latent_dims):
            for layer, (out_dim, in_dim) in zip((0, 2, 4), ((2 * dim, dim), (2 * dim, 2 * dim), (ssl_dim, 2 * dim))):
                shapes[f"projectors.{index}.{layer}.weight"] = (out_dim, in_dim)
                shapes[f"projectors.{index}.{layer}.bias"] = (out_dim,)
        return shapes


# --------------------------------------------------------------------------- loading


def load_transformer(model_dir: str | Path, *, dtype: torch.dtype = torch.float32,
                     device: str | torch.device = "cpu") -> AceStepTransformer:
    """The transformer of a checkpoint folder, strictly checked, cast to `dtype`, in eval mode.

    Every tensor the model needs must be in the file with its exact shape, and nothing else
    may be, except the known unused upstream tensors (see `unused_checkpoint_shapes`).
    The file may store fp32, fp16 or bf16.
    """
    model_dir = Path(model_dir)
    config = TransformerConfig.from_dir(model_dir)
    with torch.device("meta"):
        model = AceStepTransformer(config)
    load_strict(model, model_dir / WEIGHTS_FILE, dtype=dtype, device=device, unused=model.unused_checkpoint_shapes())
    return model.eval().requires_grad_(False)
