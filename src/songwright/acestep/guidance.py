"""Classifier-free guidance variants of ACE-Step v1: APG, CFG, CFG-zero* and double condition.

Every function combines velocity predictions of shape (B, C, H, W). Cond and uncond come
from separate transformer passes; the pipeline picks one function per step inside the
guidance window.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


class MomentumBuffer:
    """Running sum with a negative momentum that APG applies to the guidance difference."""

    def __init__(self, momentum: float = -0.75):
        self.momentum = momentum
        self.running_average: Tensor | float = 0

    def update(self, value: Tensor) -> None:
        self.running_average = value + self.momentum * self.running_average


def _split_along(v: Tensor, direction: Tensor, dims: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """Parallel and orthogonal parts of v relative to `direction`, computed in float64."""
    unit = F.normalize(direction.double(), dim=dims)
    v64 = v.double()
    parallel = (v64 * unit).sum(dim=dims, keepdim=True) * unit
    orthogonal = v64 - parallel
    return parallel.to(v.dtype), orthogonal.to(v.dtype)


def apg(
    pred_cond: Tensor,
    pred_uncond: Tensor,
    guidance_scale: float,
    momentum_buffer: MomentumBuffer | None = None,
    eta: float = 0.0,
    norm_threshold: float = 2.5,
    dims: tuple[int, ...] = (-1, -2),
) -> Tensor:
    """Adaptive projected guidance: momentum, norm clipping, then drop the part along pred_cond.

    Clipping rescales the difference to at most `norm_threshold` per (batch, channel) over
    `dims`; `eta` keeps that fraction of the component parallel to `pred_cond`.
    """
    diff = pred_cond - pred_uncond
    if momentum_buffer is not None:
        momentum_buffer.update(diff)
        diff = momentum_buffer.running_average
    if norm_threshold > 0:
        norm = diff.norm(p=2, dim=dims, keepdim=True)
        diff = diff * torch.minimum(torch.ones_like(diff), norm_threshold / norm)
    parallel, orthogonal = _split_along(diff, pred_cond, dims)
    return pred_cond + (guidance_scale - 1) * (orthogonal + eta * parallel)


def cfg(pred_cond: Tensor, pred_uncond: Tensor, guidance_scale: float) -> Tensor:
    """Plain classifier-free guidance."""
    return pred_uncond + guidance_scale * (pred_cond - pred_uncond)


def optimized_scale(pred_cond: Tensor, pred_uncond: Tensor) -> Tensor:
    """Per-sample least-squares scale of uncond toward cond, <c, u> / (|u|² + 1e-8), shape (B, 1)."""
    cond = pred_cond.reshape(pred_cond.shape[0], -1)
    uncond = pred_uncond.reshape(pred_uncond.shape[0], -1)
    dot = torch.sum(cond * uncond, dim=1, keepdim=True)
    return dot / (torch.sum(uncond**2, dim=1, keepdim=True) + 1e-8)


def cfg_zero_star(
    pred_cond: Tensor,
    pred_uncond: Tensor,
    guidance_scale: float,
    step_index: int,
    zero_steps: int = 1,
    use_zero_init: bool = True,
) -> Tensor:
    """CFG-zero*: CFG around an optimally scaled uncond; zero velocity for steps <= zero_steps."""
    if use_zero_init and step_index <= zero_steps:
        return pred_cond * 0.0
    batch = pred_cond.shape[0]
    alpha = optimized_scale(pred_cond, pred_uncond).view(batch, *([1] * (pred_cond.dim() - 1)))
    return pred_uncond * alpha + guidance_scale * (pred_cond - pred_uncond * alpha)


def cfg_double(
    pred_cond: Tensor, pred_uncond: Tensor, pred_text_only: Tensor, text_scale: float, lyric_scale: float
) -> Tensor:
    """Text and lyric guided apart: uncond + text·(text_only − uncond) + lyric·(cond − text_only)."""
    return (1 - text_scale) * pred_uncond + (text_scale - lyric_scale) * pred_text_only + lyric_scale * pred_cond
