"""Flow-matching samplers of ACE-Step v1: Euler, Heun and PingPong.

The model predicts a velocity v = noise - x0, and sigma runs from 1 (noise) to 0 (clean).
The schedules reproduce upstream's floating-point path exactly, quirks included:

- the shift ``s·σ / (1 + (s-1)·σ)`` is applied once at construction and again in
  `set_timesteps` (and custom ``sigmas`` get it once more on top of that);
- `set_timesteps` spaces the inference steps in float64, custom sigmas are shifted in float32;
- Euler and Heun rescale the update's deviation from its mean (over the whole tensor,
  batch included) by ``omega``, squashed into (0.9, 1.1);
- update arithmetic runs on a float32 copy of the sample, and the result is cast back to
  the dtype of ``model_output``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from ..errors import InvalidRequest

SAMPLERS = ("euler", "heun", "pingpong")


def shift_sigmas(sigmas, shift: float):
    """Push sigmas toward 1 (more time at high noise); works on tensors and numpy arrays."""
    return shift * sigmas / (1 + (shift - 1) * sigmas)


def omega_multiplier(omega: float) -> float:
    """Squash a user omega into (0.9, 1.1) with a logistic curve (0 -> 1.0, 10 -> 1.0462)."""
    low, high = 0.9, 1.1
    return low + (high - low) / (1 + math.exp(-0.1 * omega))


def _mean_preserving_scale(dx: Tensor, omega: float) -> Tensor:
    """Scale dx around its global mean by the omega multiplier; the mean itself is kept."""
    mean = dx.mean()
    return (dx - mean) * omega_multiplier(omega) + mean


def _gaussian_like(sample: Tensor, generator: torch.Generator | None) -> Tensor:
    """Standard normal noise shaped like `sample`, drawn on the generator's own device.

    A CPU generator thus gives the same noise whatever device the sample lives on.
    """
    device = generator.device if generator is not None else sample.device
    noise = torch.empty(sample.shape, dtype=sample.dtype, device=device).normal_(generator=generator)
    return noise.to(sample.device)


class FlowMatchScheduler:
    """Shared schedule and step bookkeeping; subclasses implement `_update`."""

    def __init__(self, num_train_timesteps: int = 1000, shift: float = 3.0, sigma_max: float | None = None):
        self.num_train_timesteps = num_train_timesteps
        self.shift = shift
        top = (1.0 if sigma_max is None else sigma_max) * num_train_timesteps
        train_t = np.linspace(1.0, top, num_train_timesteps, dtype=np.float32)[::-1].copy()
        self.train_sigmas = shift_sigmas(torch.from_numpy(train_t) / num_train_timesteps, shift)
        self.timesteps = self.train_sigmas * num_train_timesteps
        self.sigmas = self.train_sigmas
        self._step_index: int | None = None

    @property
    def sigma_max(self) -> float:
        """Largest training sigma, shifted once (audio2audio mixes the reference with it)."""
        return self.train_sigmas[0].item()

    @property
    def sigma_min(self) -> float:
        """Smallest training sigma, shifted once."""
        return self.train_sigmas[-1].item()

    def set_timesteps(
        self, num_inference_steps: int | None = None, *, sigmas: Sequence[float] | Tensor | None = None
    ) -> None:
        """Fill `timesteps` and `sigmas` (with a trailing 0), from a step count or custom sigmas."""
        if sigmas is None:
            if num_inference_steps is None:
                raise ValueError("set_timesteps needs num_inference_steps or sigmas")
            t = self.num_train_timesteps
            spaced = np.linspace(self.sigma_max * t, self.sigma_min * t, num_inference_steps) / t
            shifted = torch.from_numpy(shift_sigmas(spaced, self.shift)).to(torch.float32)
        else:
            shifted = shift_sigmas(torch.as_tensor(sigmas, dtype=torch.float32).cpu(), self.shift)
        self._install(shifted)
        self._step_index = None

    def _install(self, sigmas: Tensor) -> None:
        self.timesteps = sigmas * self.num_train_timesteps
        self.sigmas = torch.cat([sigmas, sigmas.new_zeros(1)])

    def step(
        self,
        model_output: Tensor,
        timestep: Tensor | float,
        sample: Tensor,
        *,
        omega: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Advance `sample` one call; the first call locates `timestep` in the schedule."""
        if self._step_index is None:
            self._step_index = self._index_of(timestep)
        prev_sample = self._update(model_output, sample.to(torch.float32), omega, generator)
        self._step_index += 1
        return prev_sample.to(model_output.dtype)

    def _index_of(self, timestep: Tensor | float) -> int:
        """Position of `timestep`; of a repeated value the second one (as upstream picks)."""
        if isinstance(timestep, int) or (isinstance(timestep, Tensor) and not timestep.is_floating_point()):
            raise TypeError("step() takes a timestep value from scheduler.timesteps, not an integer index")
        matches = (self.timesteps == torch.as_tensor(timestep).to(self.timesteps.device)).nonzero()
        if len(matches) == 0:
            raise ValueError(f"timestep {float(timestep)} is not in this scheduler's timesteps")
        return matches[1 if len(matches) > 1 else 0].item()

    def _update(self, model_output: Tensor, sample: Tensor, omega: float, generator) -> Tensor:
        raise NotImplementedError


class EulerScheduler(FlowMatchScheduler):
    """First-order ODE step x + (σ_next − σ)·v, with the omega mean-preserving rescale."""

    def _update(self, model_output: Tensor, sample: Tensor, omega: float, generator) -> Tensor:
        sigma, sigma_next = self.sigmas[self._step_index], self.sigmas[self._step_index + 1]
        return sample + _mean_preserving_scale((sigma_next - sigma) * model_output, omega)


class HeunScheduler(FlowMatchScheduler):
    """Second-order steps: calls alternate predictor and corrector over 2N−1 timesteps."""

    def __init__(self, num_train_timesteps: int = 1000, shift: float = 3.0, sigma_max: float | None = None):
        super().__init__(num_train_timesteps, shift, sigma_max)
        self._clear_predictor()

    def _clear_predictor(self) -> None:
        self._derivative = self._dt = self._start = None

    def _install(self, sigmas: Tensor) -> None:
        """Repeat every interior point so that each Heun step owns two (predictor, corrector)."""
        timesteps = sigmas * self.num_train_timesteps
        self.timesteps = torch.cat([timesteps[:1], timesteps[1:].repeat_interleave(2)])
        padded = torch.cat([sigmas, sigmas.new_zeros(1)])
        self.sigmas = torch.cat([padded[:1], padded[1:-1].repeat_interleave(2), padded[-1:]])
        self._clear_predictor()

    def _update(self, model_output: Tensor, sample: Tensor, omega: float, generator) -> Tensor:
        i = self._step_index
        if self._dt is None:
            sigma, sigma_next = self.sigmas[i], self.sigmas[i + 1]
            denoised = sample - model_output * sigma
            derivative = (sample - denoised) / sigma
            dt = sigma_next - sigma
            self._derivative, self._dt, self._start = derivative, dt, sample
        else:
            sigma_next = self.sigmas[i]
            denoised = sample - model_output * sigma_next
            derivative = 0.5 * (self._derivative + (sample - denoised) / sigma_next)
            dt, sample = self._dt, self._start
            self._clear_predictor()
        return sample + _mean_preserving_scale(derivative * dt, omega)


class PingPongScheduler(FlowMatchScheduler):
    """Stochastic step: jump to the clean estimate, then re-noise to σ_next with fresh noise.

    The noise is drawn inside each call from `generator` (on its device); omega has no effect here.
    """

    def _update(self, model_output: Tensor, sample: Tensor, omega: float, generator) -> Tensor:
        sigma, sigma_next = self.sigmas[self._step_index], self.sigmas[self._step_index + 1]
        denoised = sample - sigma * model_output
        noise = _gaussian_like(sample, generator)
        return (1 - sigma_next) * denoised + sigma_next * noise


def make_scheduler(name: str, *, shift: float = 3.0, sigma_max: float | None = None) -> FlowMatchScheduler:
    """Build a sampler by name, with the pipeline's 1000 training timesteps."""
    classes = {"euler": EulerScheduler, "heun": HeunScheduler, "pingpong": PingPongScheduler}
    if name not in classes:
        raise InvalidRequest("sampler", f"must be one of {', '.join(SAMPLERS)}", name)
    return classes[name](num_train_timesteps=1000, shift=shift, sigma_max=sigma_max)


def schedule(
    scheduler: FlowMatchScheduler,
    num_inference_steps: int,
    *,
    oss_steps: Sequence[int] | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[Tensor, int]:
    """Set the schedule and return (timesteps, N for the guidance-window formula).

    N is the requested step count, not len(timesteps) (Heun has 2N−1). With `oss_steps`
    (1-based picks from a max(oss_steps)-step schedule) the picked timesteps, rounded to the
    pipeline `dtype`, are divided by 1000 and set as custom sigmas, which shifts them again;
    N is then len(oss_steps). Heun takes no custom sigmas upstream, so that pair is refused.
    """
    if not oss_steps:
        scheduler.set_timesteps(num_inference_steps)
        return scheduler.timesteps, num_inference_steps
    steps = list(oss_steps)
    if isinstance(scheduler, HeunScheduler):
        raise InvalidRequest("oss_steps", "cannot be used with the heun sampler", steps)
    if min(steps) < 1:
        raise InvalidRequest("oss_steps", "must be step numbers counted from 1", steps)
    scheduler.set_timesteps(max(steps))
    picked = scheduler.timesteps[[s - 1 for s in steps]].to(dtype)
    scheduler.set_timesteps(sigmas=(picked / scheduler.num_train_timesteps).float())
    return scheduler.timesteps, len(steps)
