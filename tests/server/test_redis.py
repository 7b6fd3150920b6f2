"""Scale-out: a real redis-server, the API with --queue, and two `songwright worker` processes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import pytest

from .conftest import Server, environment, free_port, wait_finished

pytest.importorskip("rq")
REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed (apt-get install redis-server)")
SHORT = {"tags": "lofi", "duration_s": 10, "instrumental": True}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    root = tmp_path_factory.mktemp("redis")
    port = free_port()
    redis = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(root), "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    data = root / "data"
    workers = []
    server = None
    try:
        deadline = time.monotonic() + 10
        import redis as redis_client

        while True:
            try:
                redis_client.Redis.from_url(url).ping()
                break
            except redis_client.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        for index in range(2):
            log = (root / f"worker-{index}.log").open("wb")
            workers.append((subprocess.Popen([sys.executable, "-m", "songwright", "worker", "--queue", url, "--data-dir",
                                              str(data)], env=environment(), stdout=log, stderr=subprocess.STDOUT), log))
        server = Server(data, "--queue", url, "--rate-limit", "1000")
        yield server, url, root
    finally:
        if server is not None:
            server.stop()
        for process, log in workers:
            process.terminate()
            process.wait(10)
            log.close()
        redis.terminate()
        redis.wait(10)


def test_jobs_run_on_two_workers_with_progress(cluster):
    server, url, root = cluster
    from redis import Redis
    from rq.job import Job

    with server.client() as client:
        assert client.get("/health").json()["queue"] == "redis"
        ids = [client.post("/v1/songs", json={**SHORT, "seed": i}).json()["id"] for i in range(4)]
        stages = set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            views = [client.get(f"/v1/songs/{job_id}").json() for job_id in ids]
            stages |= {view["stage"] for view in views}
            if all(view["status"] == "succeeded" for view in views):
                break
            assert not any(view["status"] in ("failed", "canceled") for view in views), views
            time.sleep(0.1)
        assert all(view["status"] == "succeeded" for view in views), views
        assert "rendering" in stages or "writing files" in stages, stages
        for job_id in ids:
            response = client.get(f"/v1/songs/{job_id}/audio", params={"format": "wav"})
            assert response.status_code == 200 and len(response.content) > 10 * 44100 * 4
        connection = Redis.from_url(url)
        workers = {Job.fetch(job_id, connection=connection).worker_name for job_id in ids}
        assert len(workers) == 2, f"both workers should have taken jobs: {workers}"
        stats = client.get("/v1/stats").json()
        assert stats["succeeded"] >= 4 and stats["queue"] == "redis"


def test_cancel_reaches_a_job_running_on_another_process(cluster):
    server, url, root = cluster
    with server.client() as client:
        job = client.post("/v1/songs", json={**SHORT, "duration_s": 90, "seed": 7}).json()
        deadline = time.monotonic() + 60
        while client.get(f"/v1/songs/{job['id']}").json()["stage"] != "rendering" and time.monotonic() < deadline:
            time.sleep(0.05)
        client.post(f"/v1/songs/{job['id']}/cancel")
        final = wait_finished(client, job["id"])
        assert final["status"] == "canceled"
        assert not (server.data_dir / "results" / job["id"]).exists()
        assert not list((server.data_dir / "results").glob(f".{job['id']}*"))


def test_cancel_a_job_still_in_the_redis_queue(cluster):
    server, url, root = cluster
    from redis import Redis
    from rq.job import Job, JobStatus

    with server.client() as client:
        busy = [client.post("/v1/songs", json={**SHORT, "duration_s": 60, "seed": 20 + i}).json()["id"] for i in range(2)]
        waiting = client.post("/v1/songs", json={**SHORT, "seed": 30}).json()["id"]
        deadline = time.monotonic() + 60
        while any(client.get(f"/v1/songs/{i}").json()["status"] != "running" for i in busy) and time.monotonic() < deadline:
            time.sleep(0.05)
        canceled = client.post(f"/v1/songs/{waiting}/cancel").json()
        assert canceled["status"] == "canceled" and canceled["started_at"] is None
        assert Job.fetch(waiting, connection=Redis.from_url(url)).get_status() == JobStatus.CANCELED
        for job_id in busy:
            client.post(f"/v1/songs/{job_id}/cancel")
        assert {wait_finished(client, job_id)["status"] for job_id in busy} == {"canceled"}
