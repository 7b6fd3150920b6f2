"""Guidance functions against upstream acestep/apg_guidance.py (modules/guidance.safetensors)."""

import pytest

torch = pytest.importorskip("torch")

from songwright.acestep.guidance import (  # noqa: E402
    MomentumBuffer,
    apg,
    cfg,
    cfg_double,
    cfg_zero_star,
    optimized_scale,
)

from .conftest import MODULES, load_tensors, tolerance  # noqa: E402

SCALE = 15.0


@pytest.fixture(scope="module")
def ref():
    return load_tensors(MODULES / "guidance.safetensors")


@pytest.fixture(scope="module")
def atol():
    return tolerance("modules/guidance.safetensors")


def assert_close(actual, expected, atol):
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype
    assert (actual - expected).abs().max().item() <= atol


def test_apg_with_shared_momentum_buffer(ref, atol):
    """Three successive calls share one buffer; clipping to norm 2.5 is active."""
    buffer = MomentumBuffer()
    assert buffer.momentum == -0.75 and buffer.running_average == 0
    for i in range(3):
        key = f"apg.step{i}"
        out = apg(ref[f"{key}.pred_cond"], ref[f"{key}.pred_uncond"], SCALE, momentum_buffer=buffer)
        assert_close(out, ref[f"{key}.out"], atol)
        assert_close(buffer.running_average, ref[f"{key}.running_average"], atol)


def test_apg_without_clipping_or_buffer(ref, atol):
    out = apg(ref["apg_small.pred_cond"], ref["apg_small.pred_uncond"], SCALE)
    assert_close(out, ref["apg_small.out"], atol)


def test_cfg(ref, atol):
    assert_close(cfg(ref["cfg.pred_cond"], ref["cfg.pred_uncond"], SCALE), ref["cfg.out"], atol)


def test_optimized_scale(ref, atol):
    assert_close(optimized_scale(ref["cfg.pred_cond"], ref["cfg.pred_uncond"]), ref["cfg_star.alpha"], atol)


@pytest.mark.parametrize("step_index", [0, 5])
def test_cfg_zero_star(ref, atol, step_index):
    out = cfg_zero_star(
        ref["cfg.pred_cond"], ref["cfg.pred_uncond"], SCALE, step_index, zero_steps=1, use_zero_init=True
    )
    assert_close(out, ref[f"cfg_star.i{step_index}.out"], atol)


def test_cfg_zero_star_zeroes_up_to_zero_steps(ref):
    cond, uncond = ref["cfg.pred_cond"], ref["cfg.pred_uncond"]
    assert not cfg_zero_star(cond, uncond, SCALE, 1).any()
    assert cfg_zero_star(cond, uncond, SCALE, 2).abs().sum() > 0
    assert cfg_zero_star(cond, uncond, SCALE, 0, use_zero_init=False).abs().sum() > 0


def test_cfg_double(ref, atol):
    out = cfg_double(ref["cfg.pred_cond"], ref["cfg.pred_uncond"], ref["cfg.pred_text_only"], 5.0, 2.5)
    assert_close(out, ref["cfg_double.out"], atol)
