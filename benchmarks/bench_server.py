"""Load on `songwright serve`: 50 concurrent submissions of 20 s songs, then every job followed
to its end. Prints: how many were accepted (202) or refused (429), that none was lost or
duplicated, throughput, time to result (p50, p95: from submission to the finished files, as
the server recorded it) and the peak memory of the server and worker processes.

    python benchmarks/bench_server.py                 # the embedded default: SQLite, one worker thread
    python benchmarks/bench_server.py --redis --workers 2   # redis-server + two `songwright worker`s
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

LYRICS = "[verse]\nCity lights are calling me\nDancing on the open street\n[chorus]\nTurn it up tonight"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--songs", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--redis", action="store_true", help="scale out: redis-server and worker processes")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-queue", type=int, default=100)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-server-"))
    port = free_port()
    processes: list[subprocess.Popen] = []
    command = [sys.executable, "-m", "songwright", "serve", "--port", str(port), "--data-dir", str(root / "data"),
               "--max-queue", str(args.max_queue), "--rate-limit", "100000"]
    try:
        if args.redis:
            redis_port = free_port()
            processes.append(subprocess.Popen([shutil.which("redis-server"), "--port", str(redis_port), "--dir", str(root),
                                               "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL))
            time.sleep(0.5)
            url = f"redis://127.0.0.1:{redis_port}/0"
            command += ["--queue", url]
            for _ in range(args.workers):
                processes.append(subprocess.Popen([sys.executable, "-m", "songwright", "worker", "--queue", url,
                                                   "--data-dir", str(root / "data")], stdout=subprocess.DEVNULL,
                                                  stderr=subprocess.DEVNULL))
        else:
            command += ["--workers", str(args.workers)]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(server)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(base + "/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        report(base, args, server, processes)
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(10)
        shutil.rmtree(root, ignore_errors=True)
    return 0


def report(base: str, args, server: subprocess.Popen, processes: list[subprocess.Popen]) -> None:
    def submit(index: int) -> tuple[int, str | None]:
        body = {"tags": "pop, funk", "lyrics": LYRICS, "duration_s": args.duration, "seed": index}
        response = httpx.post(base + "/v1/songs", json=body, headers={"Idempotency-Key": f"bench-{index}"}, timeout=120)
        return response.status_code, response.json().get("id")

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.songs) as pool:
        answers = list(pool.map(submit, range(args.songs)))
    submitted_s = time.monotonic() - started
    accepted = [job_id for code, job_id in answers if code in (200, 202)]
    codes = sorted({code for code, _ in answers})
    assert set(codes) <= {200, 202, 429}, codes
    assert len(set(accepted)) == len(accepted), "duplicated job ids"

    finals: dict[str, dict] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        while len(finals) < len(accepted):
            for job_id in accepted:
                if job_id not in finals:
                    job = client.get(f"/v1/songs/{job_id}").json()
                    if job["status"] in ("succeeded", "failed", "canceled"):
                        finals[job_id] = job
            time.sleep(2.0)
        wall_s = time.monotonic() - started
        listed = {item["id"] for item in client.get("/v1/songs", params={"limit": 100}).json()["items"]}
        stats = client.get("/v1/stats").json()
    statuses = [job["status"] for job in finals.values()]
    to_result = [job["finished_at"] - job["created_at"] for job in finals.values() if job["status"] == "succeeded"]
    run_s = [job["finished_at"] - job["started_at"] for job in finals.values() if job["status"] == "succeeded"]
    print(f"mode: {'redis, ' + str(args.workers) + ' worker process(es)' if args.redis else 'embedded, ' + str(args.workers) + ' worker thread(s)'}")
    print(f"submissions: {args.songs} concurrent in {submitted_s:.2f} s -> {len(accepted)} accepted, "
          f"{sum(code == 429 for code, _ in answers)} refused with 429")
    print(f"finished: {statuses.count('succeeded')} succeeded, {statuses.count('failed')} failed; "
          f"lost: {len(set(accepted) - listed)}; duplicated: {len(accepted) - len(set(accepted))}")
    print(f"throughput: {statuses.count('succeeded') / wall_s * 60:.1f} songs/min "
          f"({statuses.count('succeeded') * args.duration / wall_s:.2f} s of audio per second) over {wall_s:.1f} s")
    print(f"time to result: p50 {statistics.median(to_result):.1f} s, p95 {percentile(to_result, 0.95):.1f} s; "
          f"one job runs {statistics.median(run_s):.2f} s (median)")
    names = (["redis-server"] + [f"worker {i + 1}" for i in range(args.workers)] if args.redis else []) + ["server"]
    peaks = {name: peak_rss_mb(p.pid) for name, p in zip(names, processes) if p.poll() is None}
    print("peak memory: " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in peaks.items()))
    print(f"server stats: {stats}")


if __name__ == "__main__":
    sys.exit(main())
