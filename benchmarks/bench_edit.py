"""What an edit costs next to making the whole song: a 60 s vocal song, one section retaken.

Three whole CLI processes, alternating, medians of --runs:
  generate   `songwright generate ... -o song.wav --json song.json` (the song)
  retake     `songwright retake song.json --section chorus -o re.wav` (from the song file: the
             mix it names, song.wav, is read back and checked by its samples' hash, the edit's
             window alone is rendered and spliced in)
  extend     `songwright extend song.json --duration 90 -o ext.wav`
in one warm process (the Python API): `song.edit("retake", ...)` on a song in hand, which renders
the edit's window only; and over HTTP on `songwright serve`: POST /v1/songs, then POST
/v1/songs/{id}/edits retaking its chorus (the worker keeps the songs it made), each timed from
the POST to the finished files as a client polling the job sees it.

    python benchmarks/bench_edit.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_server import free_port  # (run as a script: benchmarks/ is on the path)

LYRICS = """[verse]
Morning light on the window pane
Coffee cold but I feel no pain
[chorus]
Sing it loud, sing it clear
Everything I want is here
[verse]
Every street is a new refrain
I keep on walking in the rain
[chorus]
Sing it loud, sing it clear
Everything I want is here
"""

WARM = r"""
import sys, time
import songwright as sw
request = sw.SongRequest(tags="pop, female vocal", lyrics=open(sys.argv[1]).read(), duration_s=60, seed=5)
sw.generate(request.replace(duration_s=40))  # warm: imports, soundfont
start = time.perf_counter(); song = sw.generate(request); made = time.perf_counter() - start
start = time.perf_counter(); song.edit("retake", section="chorus 2", seed=3); edited = time.perf_counter() - start
print(f"{made:.3f} {edited:.3f}")
"""


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def served(work: Path, runs: int) -> tuple[list[float], list[float]]:
    """Generate and retake over HTTP, `runs` times each, alternating: seconds from each POST to
    the job's finished files, as a client polling it sees them."""
    import httpx

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "songwright", "serve", "--port", str(port), "--data-dir",
                               str(work / "data"), "--rate-limit", "100000"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    made, edited = [], []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for _ in range(300):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)

            def finished(path: str, body: dict) -> tuple[str, float]:
                start = time.perf_counter()
                job = client.post(path, json=body).json()
                while job["status"] not in ("succeeded", "failed", "canceled"):
                    time.sleep(0.05)
                    job = client.get(f"/v1/songs/{job['id']}").json()
                assert job["status"] == "succeeded", job
                return job["id"], time.perf_counter() - start

            finished("/v1/songs", {"tags": "pop, female vocal", "lyrics": LYRICS, "duration_s": 30, "seed": 1})  # warm
            for run in range(runs):
                song_id, seconds = finished("/v1/songs", {"tags": "pop, female vocal", "lyrics": LYRICS,
                                                          "duration_s": 60, "seed": 5 + run})
                made.append(seconds)
                edited.append(finished(f"/v1/songs/{song_id}/edits", {"verb": "retake", "section": "chorus 2",
                                                                       "seed": 3})[1])
    finally:
        server.terminate()
        server.wait(10)
    return made, edited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "songwright"]
    times: dict[str, list[float]] = {"generate": [], "retake (song file)": [], "extend to 90 s (song file)": [],
                                     "warm generate": [], "warm retake (song in hand)": []}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "lyrics.txt").write_text(LYRICS)
        for run in range(args.runs):
            times["generate"].append(timed(cli + ["generate", "--tags", "pop, female vocal", "--lyrics", "lyrics.txt",
                                                  "--seed", str(5 + run), "-o", "song.wav", "--json", "song.json", "-q"], work))
            times["retake (song file)"].append(timed(cli + ["retake", "song.json", "--section", "chorus 2", "--seed", "3",
                                                            "-o", "re.wav", "-q"], work))
            times["extend to 90 s (song file)"].append(timed(cli + ["extend", "song.json", "--duration", "90",
                                                                    "-o", "ext.wav", "-q"], work))
            made, edited = map(float, subprocess.run([sys.executable, "-c", WARM, "lyrics.txt"], cwd=work, check=True,
                                                     capture_output=True, text=True).stdout.split())
            times["warm generate"].append(made)
            times["warm retake (song in hand)"].append(edited)
        times["HTTP generate"], times["HTTP retake"] = served(work, args.runs)
    base = statistics.median(times["generate"])
    warm = statistics.median(times["warm generate"])
    print(f"60 s vocal song, {args.runs} runs, medians (whole CLI processes; warm: one process; HTTP: one server)")
    for name, values in times.items():
        median = statistics.median(values)
        against = (warm if name.startswith("warm") else statistics.median(times["HTTP generate"])
                   if name.startswith("HTTP") else base)
        print(f"  {name:30s} {median:6.2f} s   {median / against:4.2f}x its generate   runs: "
              + " ".join(f"{v:.2f}" for v in values))


if __name__ == "__main__":
    main()
