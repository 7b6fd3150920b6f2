"""A real `songwright serve` on a free loopback port, in a temporary data folder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

SRC = Path(__file__).resolve().parents[2] / "src"
API_KEY = "test-key-123"
LYRICS = "[verse]\nHello there my friend\n[chorus]\nSing it loud tonight"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("SONGWRIGHT_API_KEY", None)
    return env


class Server:
    """`python -m songwright serve ...` as a child process; `client()` talks to it."""

    def __init__(self, data_dir: Path, *args: str, api_key: str | None = API_KEY):
        self.data_dir = data_dir
        self.port = free_port()
        self.api_key = api_key
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "songwright", "serve", "--port", str(self.port), "--data-dir", str(data_dir), *args]
        if api_key:
            command += ["--api-key", api_key]
        self.log = (data_dir.parent / f"server-{self.port}.log").open("wb")
        self.process = subprocess.Popen(command, env=environment(), stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_ready()

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited {self.process.returncode}: {self.log_text()}")
            try:
                if httpx.get(self.url + "/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start: " + self.log_text())

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def client(self, *, key: str | None = "default") -> "httpx.Client":
        key = self.api_key if key == "default" else key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60.0)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def wait_finished(client, job_id: str, timeout_s: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = client.get(f"/v1/songs/{job_id}").json()
        if body["status"] in ("succeeded", "failed", "canceled"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {body}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("server") / "data", "--rate-limit", "1000")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(server):
    with server.client() as session:
        yield session


@pytest.fixture(scope="module")
def song(client):
    """One finished 12 s vocal song, shared by the download tests."""
    response = client.post("/v1/songs", json={"tags": "pop, piano", "lyrics": LYRICS, "duration_s": 12, "seed": 5},
                           headers={"Prefer": "wait=60"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "succeeded", body
    return body
