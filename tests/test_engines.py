"""The engine registry: the composer never pulls in the neural extra."""

import subprocess
import sys

import pytest

import songwright as sw


def test_composer_never_imports_torch(tmp_path):
    """Nor scipy, librosa or pyloudnorm: a second or more of a cold start, for filters numpy and
    pedalboard make as well (audio/filters.py)."""
    script = (
        "import sys, songwright as sw\n"
        "from songwright.cli import main\n"
        f"assert main(['generate', '--duration', '15', '--seed', '1', '-q', '--lyrics-text', '[verse] Sing it soft and "
        f"clear tonight', '-o', r'{tmp_path / 'x.mp3'}', '--stems', r'{tmp_path}']) == 0\n"
        "heavy = sorted(m for m in ('torch', 'diffusers', 'transformers', 'scipy', 'librosa', 'pyloudnorm')"
        " if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
    assert (tmp_path / "x.mp3").stat().st_size > 0 and (tmp_path / "vocals.wav").stat().st_size > 0


def test_acestep_needs_a_checkpoint(monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.delenv("SONGWRIGHT_ACESTEP_CHECKPOINT", raising=False)
    with pytest.raises(sw.InvalidRequest) as error:
        sw.generate(sw.SongRequest(engine="acestep", duration_s=4))
    assert error.value.field == "checkpoint"


def test_importing_the_request_pulls_in_no_renderer():
    script = ("import sys, songwright.request, songwright\n"
              "print(','.join(m for m in ('scipy', 'pedalboard', 'fluidsynth', 'torch', 'songwright.engines') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_the_registry_is_the_list_of_engine_names():
    from songwright.engines import ENGINES

    assert list(ENGINES) == ["composer", "acestep"]
    with pytest.raises(sw.InvalidRequest) as error:
        sw.SongRequest(engine="magic").validate()
    assert error.value.field == "engine" and "composer, acestep" in error.value.rule


def test_check_fixes_the_seed_and_refuses_lyrics_that_cannot_fit():
    checked = sw.check(sw.SongRequest(tags="pop", lyrics="[verse]\nhello there", duration_s=12))
    assert isinstance(checked.seed, int)
    assert sw.check(checked) == checked
    words = "\n".join("every single word of this long line must be sung" for _ in range(12))
    with pytest.raises(sw.InvalidRequest) as error:
        sw.check(sw.SongRequest(tags="pop", lyrics=f"[verse]\n{words}", duration_s=12, tempo_bpm=60))
    assert error.value.field == "duration_s" and "too short for these lyrics at 60 BPM" in error.value.rule
    # the same words as an instrumental fit: only their structure is used
    sw.check(sw.SongRequest(tags="pop", lyrics=f"[verse]\n{words}", duration_s=12, tempo_bpm=60, instrumental=True))


def test_composer_cancel_stops_at_the_next_stage_boundary():
    from songwright.engines import ComposerEngine

    stages = []
    with pytest.raises(sw.SongwrightError, match="canceled before rendering"):
        ComposerEngine().generate(sw.SongRequest(duration_s=10, seed=1, instrumental=True),
                                  progress=lambda stage, fraction: stages.append(stage), cancel=lambda: bool(stages))
    assert stages == ["planning"]


def test_an_engine_refuses_a_request_for_another_engine():
    from songwright.engines import ComposerEngine

    with pytest.raises(sw.InvalidRequest) as error:
        ComposerEngine().check(sw.SongRequest(engine="acestep", duration_s=10))
    assert error.value.field == "engine"
