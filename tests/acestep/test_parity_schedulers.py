"""Flow-matching schedulers against upstream ACE-Step (modules/schedulers.safetensors, e2e step records)."""

import json

import pytest

torch = pytest.importorskip("torch")

from songwright.acestep.schedulers import (  # noqa: E402
    EulerScheduler,
    HeunScheduler,
    PingPongScheduler,
    make_scheduler,
    omega_multiplier,
    schedule,
)
from songwright.errors import InvalidRequest  # noqa: E402

from .conftest import E2E, MODULES, load_tensors, tolerance  # noqa: E402

FILE = "modules/schedulers.safetensors"
SIGMA_ATOL = 1e-6  # manifest note: sigmas 1e-6, timesteps 1e-4, step outputs suggested_atol
TIMESTEP_ATOL = 1e-4
SAMPLERS = ["euler", "heun", "pingpong"]


@pytest.fixture(scope="module")
def ref():
    return load_tensors(MODULES / "schedulers.safetensors")


def assert_close(actual, expected, atol):
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype
    assert (actual - expected).abs().max().item() <= atol


def test_make_scheduler_classes_and_rejects_unknown():
    assert type(make_scheduler("euler")) is EulerScheduler
    assert type(make_scheduler("heun")) is HeunScheduler
    assert type(make_scheduler("pingpong")) is PingPongScheduler
    with pytest.raises(InvalidRequest) as error:
        make_scheduler("ddim")
    assert error.value.field == "sampler"


@pytest.mark.parametrize("name", SAMPLERS)
def test_train_sigmas_shifted_once(ref, name):
    assert_close(make_scheduler(name).train_sigmas, ref[f"{name}.train_sigmas"], SIGMA_ATOL)


@pytest.mark.parametrize("name", SAMPLERS)
@pytest.mark.parametrize("steps", [27, 60, 5])
def test_schedule_shifted_twice(ref, name, steps):
    scheduler = make_scheduler(name)
    timesteps, n = schedule(scheduler, steps)
    assert n == steps  # the requested N, also for heun's 2N-1 timesteps
    assert_close(timesteps, ref[f"{name}.n{steps}.timesteps"], TIMESTEP_ATOL)
    assert_close(scheduler.sigmas, ref[f"{name}.n{steps}.sigmas"], SIGMA_ATOL)


@pytest.mark.parametrize("steps", [27, 60])
def test_audio2audio_sigma_max(ref, steps):
    scheduler = make_scheduler("euler", sigma_max=0.5)
    assert scheduler.sigma_max == pytest.approx(0.75, abs=1e-7)
    timesteps, n = schedule(scheduler, int(0.5 * steps))
    assert n == int(0.5 * steps)
    assert_close(timesteps, ref[f"euler_sigma_max0.5.n{steps}.timesteps"], TIMESTEP_ATOL)
    assert_close(scheduler.sigmas, ref[f"euler_sigma_max0.5.n{steps}.sigmas"], SIGMA_ATOL)


def test_oss_steps_shifted_a_third_time(ref):
    scheduler = make_scheduler("euler")
    timesteps, n = schedule(scheduler, 60, oss_steps=[16, 29, 52, 60])
    assert n == 4
    assert_close(timesteps, ref["euler_oss.timesteps"], TIMESTEP_ATOL)
    assert_close(scheduler.sigmas, ref["euler_oss.sigmas"], SIGMA_ATOL)


def test_oss_steps_refused_where_upstream_fails():
    with pytest.raises(InvalidRequest):
        schedule(make_scheduler("heun"), 5, oss_steps=[1, 3])
    with pytest.raises(InvalidRequest):
        schedule(make_scheduler("euler"), 5, oss_steps=[0, 3])


def test_omega_multiplier():
    assert omega_multiplier(0.0) == 1.0
    assert omega_multiplier(10.0) == pytest.approx(1.046211715726001, abs=1e-15)


LOOPS = [("euler", 10, 5), ("euler", 0, 5), ("heun", 10, 9), ("pingpong", 10, 5)]


@pytest.mark.parametrize(("name", "omega", "calls"), LOOPS)
def test_step_loop(ref, name, omega, calls):
    """Five inference steps chained from x_init (heun: 9 predictor/corrector calls)."""
    atol = tolerance(FILE)
    scheduler = make_scheduler(name)
    timesteps, _ = schedule(scheduler, 5)
    assert len(timesteps) == calls
    generator = torch.Generator().manual_seed(7)
    sample = ref["loop.x_init"]
    for i in range(calls):
        key = f"loop.{name}.omega{omega}.step{i}"
        assert_close(timesteps[i : i + 1], ref[f"{key}.timestep"], TIMESTEP_ATOL)
        if name == "pingpong":  # the step draws exactly this noise from the shared generator
            state = generator.get_state()
            noise = torch.empty_like(sample).normal_(generator=generator)
            assert_close(noise, ref[f"{key}.noise"], atol)
            generator.set_state(state)
        sample = scheduler.step(
            ref[f"{key}.model_output"], timesteps[i], sample, omega=float(omega), generator=generator
        )
        assert_close(sample, ref[f"{key}.prev_sample"], atol)


def test_omega_rescale_uses_mean_over_whole_batch(ref):
    """Upstream centres the update on dx.mean() over all items, not per item."""
    velocity, x = ref["loop.euler.omega10.step0.model_output"], ref["loop.x_init"]

    def first_step(model_output, sample):
        scheduler = make_scheduler("euler")
        timesteps, _ = schedule(scheduler, 5)
        dx = (scheduler.sigmas[1] - scheduler.sigmas[0]) * model_output
        return scheduler.step(model_output, timesteps[0], sample, omega=10.0), dx

    single, dx_single = first_step(velocity, x)
    batched, dx_batched = first_step(torch.cat([velocity, velocity + 1.0]), torch.cat([x, x]))
    shift = (1 - omega_multiplier(10.0)) * (dx_batched.mean() - dx_single.mean())
    assert_close(batched[:1], single + shift, tolerance(FILE))


def test_first_call_at_repeated_timestep_takes_second_position(ref):
    """Heun started at a duplicated timestep begins with the predictor there, like Euler's step."""
    velocity, x = ref["loop.euler.omega10.step1.model_output"], ref["loop.x_init"]
    heun, euler = make_scheduler("heun"), make_scheduler("euler")
    heun_t, _ = schedule(heun, 5)
    euler_t, _ = schedule(euler, 5)
    assert heun_t[1] == heun_t[2] == euler_t[1]
    expected = euler.step(velocity, euler_t[1], x, omega=10.0)
    assert_close(heun.step(velocity, heun_t[1], x, omega=10.0), expected, tolerance(FILE))


def test_step_casts_back_to_model_output_dtype(ref):
    scheduler = make_scheduler("euler")
    timesteps, _ = schedule(scheduler, 5)
    out = scheduler.step(ref["loop.euler.omega10.step0.model_output"].bfloat16(), timesteps[0], ref["loop.x_init"])
    assert out.dtype == torch.bfloat16


def test_step_rejects_integer_index(ref):
    scheduler = make_scheduler("euler")
    schedule(scheduler, 5)
    with pytest.raises(TypeError):
        scheduler.step(ref["loop.x_init"], 0, ref["loop.x_init"])


E2E_CASES = ["t2m_euler_apg", "t2m_heun_cfg", "t2m_pingpong_cfgstar", "t2m_euler_double_oss", "retake", "audio2audio"]


def _pipeline_schedule(args):
    """The scheduler and schedule the upstream pipeline builds for these call arguments."""
    steps = args["infer_step"]
    oss = [int(s) for s in args["oss_steps"].split(",")] if args.get("oss_steps") else None
    if args.get("audio2audio_enable"):
        sigma_max = 1 - args["ref_audio_strength"]
        scheduler = make_scheduler(args["scheduler_type"], sigma_max=sigma_max)
        return scheduler, *schedule(scheduler, int(sigma_max * steps))
    scheduler = make_scheduler(args["scheduler_type"])
    return scheduler, *schedule(scheduler, steps, oss_steps=oss)


@pytest.mark.parametrize("case", E2E_CASES)
def test_pipeline_driven_steps(case):
    """Every recorded scheduler.step call of a full pipeline run: timestep, N, and the result."""
    from safetensors import safe_open

    meta = json.loads((E2E / f"{case}.json").read_text())
    args = meta["call_args"]
    scheduler, timesteps, n = _pipeline_schedule(args)
    assert n == meta["num_inference_steps_for_window"]
    interval = args.get("guidance_interval", 0.5)
    assert [int(n * (1 - interval) / 2), int(n * (interval / 2 + 0.5))] == meta["guidance_window"]
    assert len(timesteps) == meta["n_scheduler_steps"]

    atol = tolerance(FILE)
    generator = torch.Generator().manual_seed(meta["actual_seeds"][0])
    with safe_open(str(E2E / f"{case}.safetensors"), "pt") as f:
        sample = f.get_tensor("step00.sample")
        torch.randn(sample.shape, generator=generator)  # the pipeline's initial noise comes first
        for i, t in enumerate(timesteps):
            assert_close(t.reshape(1), f.get_tensor(f"step{i:02d}.timestep"), TIMESTEP_ATOL)
            assert_close(sample, f.get_tensor(f"step{i:02d}.sample"), atol)
            sample = scheduler.step(
                f.get_tensor(f"step{i:02d}.model_output"), t, sample, omega=args["omega_scale"], generator=generator
            )
        assert_close(sample, f.get_tensor("final_latents"), atol)
