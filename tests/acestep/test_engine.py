"""The acestep engine behind SongRequest and the CLI, on the tiny fixture checkpoint."""

import hashlib
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("transformers")

import songwright as sw  # noqa: E402
from songwright.acestep.engine import Runtime, load_pipeline  # noqa: E402
from songwright.acestep.pipeline import DiffusionSettings, Generation  # noqa: E402
from songwright.cli import main  # noqa: E402
from songwright.engines import AceStepEngine  # noqa: E402

from .conftest import CHECKPOINT  # noqa: E402

LYRICS = "[verse]\nNeon lights they flicker bright\n[chorus]\nTurn it up"


def cli(*args: str) -> int:
    return main(["generate", "--engine", "acestep", "--checkpoint", str(CHECKPOINT), "-q", *args])


def test_cli_writes_a_deterministic_song(tmp_path):
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    for path in (first, second):
        assert cli("--duration", "4", "--steps", "5", "--seed", "3", "--lyrics-text", LYRICS, "-o", str(path)) == 0
    audio, rate = sf.read(first)
    assert rate == 44100 and audio.shape == (4 * 44100, 2)
    assert np.abs(audio).max() > 0.01
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    assert cli("--duration", "4", "--steps", "5", "--seed", "4", "-o", str(second)) == 0
    assert first.read_bytes() != second.read_bytes()


@pytest.fixture(scope="module")
def engine():
    return AceStepEngine(checkpoint=CHECKPOINT, runtime=Runtime(device="cpu"))


@pytest.mark.parametrize("sampler", ["euler", "heun", "pingpong"])
def test_every_sampler_runs_from_the_request(sampler, engine):
    request = sw.SongRequest(tags="rock", lyrics=LYRICS, duration_s=2, engine="acestep", steps=3, sampler=sampler, seed=1)
    song = sw.generate(request, engine=engine)
    assert song.engine == "acestep" and song.audio.shape == (2 * 44100, 2)
    assert song.to_dict()["settings"]["sampler"] == sampler
    assert song.loudness_lufs == pytest.approx(-14.0, abs=0.5)


def test_bad_checkpoint_is_exit_2_naming_it(tmp_path, capsys):
    assert cli("--checkpoint", str(tmp_path / "nowhere"), "--duration", "4", "-o", str(tmp_path / "x.wav")) == 2
    assert "checkpoint" in capsys.readouterr().err
    (tmp_path / "half" / "music_vocoder").mkdir(parents=True)
    assert main(["generate", "--engine", "acestep", "--checkpoint", str(tmp_path / "half"), "--duration", "4",
                 "-o", str(tmp_path / "x.wav")]) == 2
    error = capsys.readouterr().err
    assert "ace_step_transformer" in error and "umt5-base" in error
    assert not list(tmp_path.glob("*.wav"))


def test_engine_loads_its_pipeline_once_and_checks_requests(engine, tmp_path):
    assert engine.pipeline() is engine.pipeline()
    checked = engine.check(sw.SongRequest(engine="acestep", duration_s=3))
    assert checked.seed is not None
    with pytest.raises(sw.InvalidRequest) as error:
        AceStepEngine(checkpoint=None).check(sw.SongRequest(engine="acestep", duration_s=3))
    assert error.value.field == "checkpoint"
    with pytest.raises(sw.SongwrightError, match="umt5-base"):
        AceStepEngine(checkpoint=tmp_path).check(sw.SongRequest(engine="acestep", duration_s=3))


def test_cancel_stops_at_a_stage_boundary(engine):
    stages = []
    with pytest.raises(sw.SongwrightError, match="canceled"):
        engine.generate(sw.SongRequest(engine="acestep", duration_s=2, steps=2, seed=1),
                        progress=lambda stage, fraction: stages.append(stage), cancel=lambda: "sampling" in stages)
    assert stages == ["loading", "sampling"]


def test_composer_only_outputs_are_refused(tmp_path, capsys):
    assert cli("--duration", "4", "--midi", str(tmp_path / "x.mid"), "-o", str(tmp_path / "x.wav")) == 2
    assert "midi" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_guided_song_follows_the_composer_render():
    """audio2audio from the composer's render: the closer the guide, the closer the latents."""
    pipeline = load_pipeline(CHECKPOINT.resolve(), Runtime(device="cpu"))
    request = sw.SongRequest(tags="pop, piano", duration_s=10, seed=5, tempo_bpm=100, key="C major")
    guide = torch.from_numpy(np.ascontiguousarray(sw.generate(request).audio.T))
    reference = pipeline.encode_audio(guide, 44100)
    settings = DiffusionSettings(steps=10)

    def distance(strength: float | None) -> float:
        task = dict(task="audio2audio", source_audio=guide, source_rate_hz=44100, strength=strength) if strength else {}
        latents = pipeline.generate_latents(Generation(prompt="pop", duration_s=reference.shape[-1] * 4096 / 44100,
                                                       seed=5, settings=settings, **task))
        return (latents - reference).pow(2).mean().sqrt().item()

    close, loose, free = distance(0.9), distance(0.5), distance(None)
    assert close < loose < free


def test_guided_request_end_to_end(engine):
    request = sw.SongRequest(tags="pop", duration_s=10, engine="acestep", steps=2, guided=True, seed=2, tempo_bpm=120)
    song = engine.generate(request)
    assert song.audio.shape == (10 * 44100, 2)
    assert song.settings["guided"] is True


@pytest.fixture(scope="module")
def tiny():
    return load_pipeline(CHECKPOINT.resolve(), Runtime(device="cpu"))


def source_song(pipeline, seconds: float = 4.0) -> torch.Tensor:
    generation = Generation(prompt="pop", duration_s=seconds, seed=9, settings=DiffusionSettings(steps=3))
    return pipeline.decode(pipeline.generate_latents(generation), 44100)[0]


def test_repaint_changes_only_the_window(tiny):
    source = source_song(tiny)
    reference = tiny.encode_audio(source, 44100)
    generation = Generation(prompt="rock", duration_s=4, seed=1, task="repaint", start_s=1.0, end_s=2.5,
                            source_audio=source, variance=0.8, settings=DiffusionSettings(steps=5))
    latents = tiny.generate_latents(generation)
    first, last = int(1.0 * 44100 / 4096), int(2.5 * 44100 / 4096)
    assert torch.equal(latents[..., :first], reference[..., :first])
    assert torch.equal(latents[..., last:], reference[..., last:])
    assert (latents[..., first:last] - reference[..., first:last]).abs().mean() > 0.05


def test_extend_keeps_the_source_and_adds_both_ends(tiny):
    source = source_song(tiny)
    reference = tiny.encode_audio(source, 44100)
    frames = reference.shape[-1]
    generation = Generation(prompt="pop", duration_s=4, seed=1, task="extend", start_s=-1.0, end_s=6.0,
                            source_audio=source, variance=1.0, settings=DiffusionSettings(steps=4))
    latents = tiny.generate_latents(generation)
    left = int(1.0 * 44100 / 4096)
    right = int(6.0 * 44100 / 4096) - frames
    assert latents.shape[-1] == left + frames + right
    assert torch.equal(latents[..., left:left + frames], reference)
    assert latents[..., :left].abs().mean() > 0.05 and latents[..., -right:].abs().mean() > 0.05


def test_retake_variance_moves_away_from_the_original(tiny):
    base = Generation(prompt="jazz", duration_s=3, seed=2, settings=DiffusionSettings(steps=4))
    original = tiny.generate_latents(base)

    def retake(variance: float) -> torch.Tensor:
        return tiny.generate_latents(replace(base, task="retake", retake_seed=77, variance=variance))

    assert torch.allclose(retake(0.0), original, atol=1e-6)
    small, large = (retake(v).sub(original).abs().mean().item() for v in (0.1, 0.9))
    assert 0 < small < large


@pytest.mark.parametrize("field, value", [("task", "edit"), ("variance", 1.5), ("strength", 1.0)])
def test_bad_generation_names_the_field(field, value):
    with pytest.raises(sw.InvalidRequest) as error:
        Generation(prompt="pop", **{field: value}).validate()
    assert error.value.field == field


def test_acestep_songs_take_retake_repaint_and_extend_from_the_cli(tmp_path):
    """The edit verbs on an acestep song file, through the pipeline's own tasks: the source kept
    sample for sample outside a repaint's range and before an extension; the song file makes the
    edited song again; note edits and sections are refused."""
    edit = lambda *args: main([*args, "--checkpoint", str(CHECKPOINT), "--device", "cpu", "-q"])  # noqa: E731
    assert cli("--duration", "6", "--steps", "4", "--seed", "3", "--lyrics-text", LYRICS, "-o", str(tmp_path / "a.wav"),
               "--json", str(tmp_path / "a.json")) == 0
    source, rate = sf.read(tmp_path / "a.wav", dtype="float32")
    assert edit("repaint", str(tmp_path / "a.json"), "--start-s", "2", "--end-s", "4", "--seed", "5",
                "-o", str(tmp_path / "p.wav"), "--json", str(tmp_path / "p.json")) == 0
    painted, _ = sf.read(tmp_path / "p.wav", dtype="float32")
    assert painted.shape == source.shape
    assert np.array_equal(painted[:2 * rate], source[:2 * rate]) and np.array_equal(painted[4 * rate:], source[4 * rate:])
    assert np.abs(painted[2 * rate + 2205:4 * rate - 2205] - source[2 * rate + 2205:4 * rate - 2205]).max() > 1e-3
    assert main(["generate", "--from", str(tmp_path / "p.json"), "--checkpoint", str(CHECKPOINT), "-q",
                 "-o", str(tmp_path / "again.wav")]) == 0
    assert (tmp_path / "again.wav").read_bytes() == (tmp_path / "p.wav").read_bytes()
    assert edit("extend", str(tmp_path / "a.json"), "--duration", "10", "-o", str(tmp_path / "e.wav")) == 0
    longer, _ = sf.read(tmp_path / "e.wav", dtype="float32")
    assert longer.shape == (10 * rate, 2) and np.array_equal(longer[:6 * rate], source)
    assert np.abs(longer[6 * rate + 2205:]).max() > 1e-3
    assert edit("retake", str(tmp_path / "a.json"), "--seed", "8", "-o", str(tmp_path / "r.wav")) == 0
    retaken, _ = sf.read(tmp_path / "r.wav", dtype="float32")
    assert retaken.shape == source.shape and not np.array_equal(retaken, source)
    assert edit("retake", str(tmp_path / "a.json"), "--section", "chorus", "-o", str(tmp_path / "x.wav")) == 2
    assert edit("relyric", str(tmp_path / "a.json"), "--line", "1", "--text", "hi", "-o", str(tmp_path / "x.wav")) == 2
    assert not (tmp_path / "x.wav").exists()


def test_an_acestep_edit_takes_the_source_audio_from_the_song_files_mix(tmp_path):
    """The mix the song file names is the song the user heard (made on another device, say): a
    repaint keeps that audio outside its range, and is not sampled from a song made again."""
    import json

    from songwright.audio.io import on_pcm16_grid, write_audio
    from songwright.song import _samples_sha256

    assert cli("--duration", "6", "--steps", "3", "--seed", "3", "-o", str(tmp_path / "a.wav"),
               "--json", str(tmp_path / "a.json")) == 0
    report = json.loads((tmp_path / "a.json").read_text())
    assert report["mix"]["file"] == "a.wav"
    heard = on_pcm16_grid(np.random.default_rng(1).uniform(-0.3, 0.3, (6 * 44100, 2)).astype(np.float32))
    write_audio(tmp_path / "a.wav", heard, 44100)
    report["mix"]["pcm16_sha256"] = _samples_sha256(heard)
    (tmp_path / "a.json").write_text(json.dumps(report))
    assert main(["repaint", str(tmp_path / "a.json"), "--start-s", "2", "--end-s", "4", "--seed", "5", "-q",
                 "--checkpoint", str(CHECKPOINT), "--device", "cpu", "-o", str(tmp_path / "p.wav")]) == 0
    painted, _ = sf.read(tmp_path / "p.wav", dtype="int16")
    kept = np.rint(heard * 32767).astype(np.int16)
    assert np.array_equal(painted[:2 * 44100], kept[:2 * 44100]) and np.array_equal(painted[4 * 44100:], kept[4 * 44100:])


CHART_A = "[verse]\n| C | F | C | G |\n[chorus]\n| F | G | C | C |"
CHART_B = "[verse]\n| Am | Dm | E7 | Am |\n[chorus]\n| Dm | E7 | Am | Am |"


def test_a_chart_or_melody_needs_guided_mode_on_acestep():
    for field, value in (("chords", CHART_A), ("melody", "TVRoZA==")):
        with pytest.raises(sw.InvalidRequest) as error:
            sw.SongRequest(tags="pop", lyrics=LYRICS, duration_s=10, engine="acestep", **{field: value}).validate()
        assert error.value.field == field and "guided" in str(error.value)


def test_a_guided_song_follows_the_chart_through_the_composers_render(engine):
    """The guide is the composer's song of that chart; latents sampled from it lie nearer its
    encoding than the encoding of another chart's render."""
    request = sw.SongRequest(tags="pop, piano", lyrics=LYRICS, duration_s=10, engine="acestep", guided=True, seed=4,
                             tempo_bpm=100, key="C major", steps=2)
    guides = {}
    for name, chart in (("a", CHART_A), ("b", CHART_B)):
        charted = request.replace(chords=chart).validate()
        guides[name] = engine._guide(charted, 4)
        composer = sw.generate(charted.replace(engine="composer", seed=4))
        assert np.array_equal(guides[name], composer.audio)
        assert composer.plan.chart_text().startswith("key: C major\n" + chart[:len("[verse]\n| C")])  # 4 bars: cut
    pipeline = engine.pipeline()
    encoded = {name: pipeline.encode_audio(torch.from_numpy(np.ascontiguousarray(g.T)), 44100) for name, g in guides.items()}
    guide = torch.from_numpy(np.ascontiguousarray(guides["a"].T))
    latents = pipeline.generate_latents(Generation(prompt="pop, piano", duration_s=10, seed=4, task="audio2audio",
                                                   source_audio=guide, source_rate_hz=44100, strength=0.8,
                                                   settings=DiffusionSettings(steps=4)))
    near, far = ((latents - encoded[name]).pow(2).mean().sqrt().item() for name in ("a", "b"))
    assert near < far
    song = engine.generate(request.replace(chords=CHART_A))
    assert song.audio.shape == (10 * 44100, 2) and song.settings["guided"] is True
