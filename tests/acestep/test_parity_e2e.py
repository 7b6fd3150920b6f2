"""End-to-end parity: whole pipeline runs against upstream's recorded `ACEStepPipeline.__call__`.

Each case checks the conditioning, the initial noise, every transformer pass (in upstream's
order of cond / text-only / uncond passes), the final latents and the 48 kHz waveform.
"""

import json
from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from songwright.acestep.pipeline import AceStepPipeline, DiffusionSettings, Generation  # noqa: E402

from .conftest import CHECKPOINT, E2E, LYRIC_VOCAB, load_tensors  # noqa: E402

CASES = ["t2m_euler_apg", "t2m_heun_cfg", "t2m_pingpong_cfgstar", "t2m_euler_double_oss", "retake", "repaint",
         "audio2audio"]
LATENT_ATOL = 1e-3
WAVEFORM_ATOL = 5e-4


@pytest.fixture(scope="module")
def pipeline():
    return AceStepPipeline.from_checkpoint(CHECKPOINT, device="cpu", dtype=torch.float32, lyric_vocab=LYRIC_VOCAB)


def generation_of(args: dict) -> Generation:
    """Our Generation for upstream's `__call__` keyword arguments."""
    oss = tuple(int(s) for s in args.get("oss_steps", "").split(",") if s)
    settings = DiffusionSettings(
        steps=args["infer_step"], sampler=args["scheduler_type"], guidance=args["cfg_type"],
        guidance_scale=args["guidance_scale"], omega=args["omega_scale"],
        guidance_interval=args.get("guidance_interval", 0.5),
        guidance_interval_decay=args.get("guidance_interval_decay", 0.0),
        min_guidance_scale=args.get("min_guidance_scale", 3.0),
        text_guidance_scale=args.get("guidance_scale_text", 0.0),
        lyric_guidance_scale=args.get("guidance_scale_lyric", 0.0),
        erg_tag=args["use_erg_tag"], erg_lyric=args["use_erg_lyric"], erg_diffusion=args["use_erg_diffusion"],
        oss_steps=oss)
    source = None
    if "src_audio_path" in args or "ref_audio_input" in args:
        source = load_tensors(E2E / "t2m_euler_apg.safetensors")["waveform"]
    task = args.get("task", "text2music")
    if args.get("audio2audio_enable"):
        task = "audio2audio"
    retake_seeds = args.get("retake_seeds")
    return Generation(
        prompt=args["prompt"], lyrics=args["lyrics"], duration_s=args["audio_duration"], seed=args["manual_seeds"][0],
        task=task, retake_seed=retake_seeds[0] if retake_seeds else None, variance=args.get("retake_variance", 0.5),
        start_s=args.get("repaint_start", 0.0), end_s=args.get("repaint_end", 0.0), source_audio=source,
        source_rate_hz=48000, strength=args.get("ref_audio_strength", 0.5), settings=settings)


def record_passes(pipeline, monkeypatch) -> list:
    """Observe every transformer.decode output, in call order."""
    passes = []
    decode = pipeline.transformer.decode

    def recording(*args, **kwargs):
        out = decode(*args, **kwargs)
        passes.append(out.detach().clone())
        return out

    monkeypatch.setattr(pipeline.transformer, "decode", recording)
    return passes


def assert_close(ours, theirs, atol, what):
    assert ours.shape == theirs.shape, f"{what}: shape {tuple(ours.shape)} != {tuple(theirs.shape)}"
    diff = (ours.float() - theirs.float()).abs().max().item()
    assert diff <= atol, f"{what}: max |diff| {diff:.3g} > {atol}"


@pytest.mark.parametrize("case", CASES)
def test_parity_e2e(case, pipeline, monkeypatch):
    meta = json.loads((E2E / f"{case}.json").read_text())
    expected = load_tensors(E2E / f"{case}.safetensors")
    generation = generation_of(meta["call_args"])
    passes = record_passes(pipeline, monkeypatch)

    conditions = pipeline.conditions(generation.prompt, generation.lyrics, generation.settings)
    assert_close(conditions.cond, expected["encoder_hidden_states.cond"], LATENT_ATOL, "cond")
    assert_close(conditions.uncond, expected["encoder_hidden_states.uncond"], LATENT_ATOL, "uncond")
    if "encoder_hidden_states.text_only" in expected:
        assert_close(conditions.text_only, expected["encoder_hidden_states.text_only"], LATENT_ATOL, "text_only")
    if "src_latents" in expected:
        source = pipeline.encode_audio(generation.source_audio, generation.source_rate_hz)
        assert_close(source, expected["src_latents"], LATENT_ATOL, "source latents")
    latents = pipeline.generate_latents(generation)
    waveform = pipeline.decode(latents, 48000)[0]

    assert len(passes) == meta["n_transformer_passes"]
    for n, velocity in enumerate(passes):
        assert_close(velocity, expected[f"pass{n:02d}.velocity"], LATENT_ATOL, f"pass {n} ({meta['pass_roles'][n]})")
    assert_close(latents, expected["final_latents"], LATENT_ATOL, "final latents")
    assert_close(waveform, expected["waveform"], WAVEFORM_ATOL, "waveform")


def test_parity_e2e_noise_matches_seed(pipeline):
    expected = load_tensors(E2E / "t2m_euler_apg.safetensors")
    generation = generation_of(json.loads((E2E / "t2m_euler_apg.json").read_text())["call_args"])
    start = pipeline.start_latents(generation)
    assert torch.equal(start.latents, expected["init_noise"])


def test_same_seed_same_latents(pipeline):
    generation = Generation(prompt="pop, piano", lyrics="[verse]\nla la", duration_s=2.0, seed=3,
                            settings=DiffusionSettings(steps=3, sampler="pingpong"))
    first = pipeline.generate_latents(generation)
    assert torch.equal(first, pipeline.generate_latents(generation))
    assert not torch.equal(first, pipeline.generate_latents(replace(generation, seed=4)))
