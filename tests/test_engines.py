"""The engine registry: the composer never pulls in the neural extra."""

import subprocess
import sys

import pytest

import songwright as sw


def test_composer_never_imports_torch(tmp_path):
    script = (
        "import sys, songwright as sw\n"
        "from songwright.cli import main\n"
        f"assert main(['generate', '--duration', '10', '--seed', '1', '-q', '-o', r'{tmp_path / 'x.wav'}']) == 0\n"
        "heavy = sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
    assert (tmp_path / "x.wav").stat().st_size > 0


def test_acestep_needs_a_checkpoint(monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.delenv("SONGWRIGHT_ACESTEP_CHECKPOINT", raising=False)
    with pytest.raises(sw.InvalidRequest) as error:
        sw.generate(sw.SongRequest(engine="acestep", duration_s=4))
    assert error.value.field == "checkpoint"
