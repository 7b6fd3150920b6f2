"""schemathesis against /openapi.json: thousands of generated requests, no 5xx (bounded in time)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import API_KEY, Server

SCHEMATHESIS = shutil.which("schemathesis") or shutil.which("st")
pytestmark = pytest.mark.skipif(SCHEMATHESIS is None, reason="schemathesis is not installed (pip install -e '.[dev]')")
TIME_LIMIT_S = 240


def test_no_server_errors(tmp_path):
    # a small queue: generated valid requests fill it at once and are answered 429, not rendered
    server = Server(tmp_path / "data", "--max-queue", "2", "--rate-limit", "100000")
    try:
        result = subprocess.run(
            [SCHEMATHESIS, "run", f"{server.url}/openapi.json", "--checks", "not_a_server_error", "--max-examples", "12",
             "--header", f"Authorization: Bearer {API_KEY}", "--request-timeout", "30", "--generation-deterministic",
             "--no-color"],
            capture_output=True, text=True, timeout=TIME_LIMIT_S, cwd=tmp_path)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        assert "passed" in result.stdout and " 500 " not in server.log_text()
    finally:
        server.stop()
