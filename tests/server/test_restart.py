"""kill -9 the server with jobs queued and running; start it again on the same data folder:
every job ends succeeded, or failed with a reason, and no half-written file is ever served."""

from __future__ import annotations

import io
import time

import soundfile as sf

from .conftest import Server, wait_finished

LONG = {"tags": "pop", "duration_s": 60, "instrumental": True, "seed": 1}
SHORT = {"tags": "folk", "duration_s": 10, "instrumental": True}


def wait_running(client, job_id: str) -> None:
    deadline = time.monotonic() + 60
    while client.get(f"/v1/songs/{job_id}").json()["stage"] not in ("rendering", "mastering") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.get(f"/v1/songs/{job_id}").json()["status"] == "running"


def assert_no_partial_served(data_dir) -> None:
    results = data_dir / "results"
    for folder in results.iterdir():
        if not folder.name.startswith("."):
            assert (folder / "song.json").is_file(), f"{folder} is a result folder without its report"


def test_kill_9_then_restart(tmp_path):
    data = tmp_path / "data"
    server = Server(data, "--rate-limit", "1000")
    with server.client() as client:
        running = client.post("/v1/songs", json=LONG).json()["id"]
        queued = [client.post("/v1/songs", json={**SHORT, "seed": i}).json()["id"] for i in range(2)]
        wait_running(client, running)
    server.kill()
    assert_no_partial_served(data)

    # first restart: the running job is re-run once; kill it again while it runs a second time
    server = Server(data, "--rate-limit", "1000")
    with server.client() as client:
        wait_running(client, running)
    server.kill()

    server = Server(data, "--rate-limit", "1000")
    try:
        with server.client() as client:
            failed = wait_finished(client, running)
            assert failed["status"] == "failed" and "server stopped while this job was running, 2 times" in failed["error"]
            for job_id in queued:
                done = wait_finished(client, job_id)
                assert done["status"] == "succeeded", done
                audio, rate = sf.read(io.BytesIO(client.get(f"/v1/songs/{job_id}/audio", params={"format": "wav"}).content))
                assert len(audio) == 10 * rate
            assert_no_partial_served(data)
            assert not list((data / "results").glob(".*.partial"))
    finally:
        server.stop()


def test_a_job_interrupted_once_is_run_again(tmp_path):
    data = tmp_path / "data"
    server = Server(data, "--rate-limit", "1000")
    with server.client() as client:
        job_id = client.post("/v1/songs", json={**LONG, "duration_s": 30}).json()["id"]
        wait_running(client, job_id)
    server.kill()
    server = Server(data, "--rate-limit", "1000")
    try:
        with server.client() as client:
            done = wait_finished(client, job_id)
            assert done["status"] == "succeeded" and done["result"]["duration_s"] == 30.0
    finally:
        server.stop()
