"""The clients in examples/ run against a real server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from .conftest import API_KEY

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_python_client(server, tmp_path):
    out = tmp_path / "song.wav"
    result = subprocess.run([sys.executable, str(EXAMPLES / "client.py"), "--url", server.url, "--api-key", API_KEY,
                             "--tags", "jazz", "--duration", "12", "--seed", "3", "--instrumental", "-o", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "12.0 s" in result.stdout and "seed 3" in result.stdout
    audio, rate = sf.read(out)
    assert len(audio) == 12 * rate
    wrong = subprocess.run([sys.executable, str(EXAMPLES / "client.py"), "--url", server.url, "--api-key", "nope"],
                           capture_output=True, text=True, timeout=60)
    assert wrong.returncode != 0 and "401" in wrong.stderr


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_script(server, tmp_path):
    out = tmp_path / "song.mp3"
    env = dict(os.environ, SONGWRIGHT_URL=server.url, SONGWRIGHT_API_KEY=API_KEY)
    result = subprocess.run(["bash", str(EXAMPLES / "curl.sh"), str(out)], env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    audio, rate = sf.read(out)
    assert abs(len(audio) / rate - 20.0) < 0.1
