#!/usr/bin/env python3
"""A small Songwright API client, standard library only: queue a song, follow it, download it.

    python examples/client.py --tags "pop, piano" --lyrics "[verse] hello there" --duration 20 -o song.mp3
    python examples/client.py --url http://127.0.0.1:8000 --api-key KEY --instrumental -o beat.wav
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request


class SongwrightClient:
    def __init__(self, url: str, *, api_key: str | None = None, timeout_s: float = 60.0):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout_s = timeout_s

    def _call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path, method=method, data=None if body is None else json.dumps(body).encode())
        request.add_header("Content-Type", "application/json")
        if self.api_key:
            request.add_header("Authorization", f"Bearer {self.api_key}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            payload = json.loads(error.read() or b"{}").get("error", {})
            raise SystemExit(f"songwright: {error.code}: {payload.get('message', error.reason)}") from None

    def submit(self, request: dict, *, idempotency_key: str | None = None) -> dict:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return json.loads(self._call("POST", "/v1/songs", request, headers)[1])

    def status(self, job_id: str) -> dict:
        return json.loads(self._call("GET", f"/v1/songs/{job_id}")[1])

    def wait(self, job_id: str, *, poll_s: float = 0.5, on_progress=None) -> dict:
        while True:
            job = self.status(job_id)
            if on_progress:
                on_progress(job)
            if job["status"] in ("succeeded", "failed", "canceled"):
                return job
            time.sleep(poll_s)

    def download(self, job_id: str, path: str) -> None:
        kind = path.rsplit(".", 1)[-1].lower()
        with open(path, "wb") as out:
            out.write(self._call("GET", f"/v1/songs/{job_id}/audio?format={kind}")[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--api-key")
    parser.add_argument("--tags", default="pop")
    parser.add_argument("--lyrics", default="")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--instrumental", action="store_true")
    parser.add_argument("-o", "--output", default="song.mp3")
    args = parser.parse_args(argv)
    client = SongwrightClient(args.url, api_key=args.api_key)
    request = {"tags": args.tags, "lyrics": args.lyrics, "duration_s": args.duration, "instrumental": args.instrumental}
    if args.seed is not None:
        request["seed"] = args.seed
    job = client.submit(request)
    print(f"queued {job['id']} (place {job['queue_position']})", file=sys.stderr)
    job = client.wait(job["id"], on_progress=lambda j: print(f"\r{j['stage']:<16} {j['progress'] * 100:3.0f}%",
                                                             end="", file=sys.stderr))
    print(file=sys.stderr)
    if job["status"] != "succeeded":
        print(f"songwright: {job['status']}: {job['error']}", file=sys.stderr)
        return 1
    client.download(job["id"], args.output)
    result = job["result"]
    print(f"{args.output}: {result['duration_s']} s, {result['tempo_bpm']} BPM, {result['key']}, seed {result['seed']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
