"""Speed of the composer engine: a 60 s song with mix, stems, MIDI, LRC and JSON written.

Runs the seed example several times in fresh processes (the soundfont load is part of every
run, as it is for the CLI) and prints the median wall time of generate() + writing the files,
the median of the whole CLI command, and the peak memory (max RSS of the process and its
render children).

    python benchmarks/bench_generate.py [--runs 5] [--format wav]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time

SEED_EXAMPLE = {
    "tags": "pop,funk,melodic,electronic",
    "lyrics": "[verse] 霓虹闪烁 街道流淌 脚步轻快 心跳跟上 [chorus] 城市的脉搏 在夜里跳荡 代码与光影 编织梦想",
    "duration_s": 60,
}

CHILD = r"""
import json, sys, time, resource
import songwright as sw
request = sw.SongRequest(**json.loads(sys.argv[1]), seed=int(sys.argv[2]))
out = sys.argv[3]
fmt = sys.argv[4]
start = time.perf_counter()
song = sw.generate(request)
generated = time.perf_counter()
song.save(f"{out}/song.{fmt}")
song.save_stems(f"{out}/stems")
song.save_midi(f"{out}/song.mid")
song.save_lrc(f"{out}/song.lrc")
song.save_json(f"{out}/song.json")
done = time.perf_counter()
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"generate_s": generated - start, "total_s": done - start, "peak_rss_mb": rss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--format", default="wav", choices=["wav", "mp3", "flac", "ogg"])
    args = parser.parse_args()
    library, cli = [], []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as out:
            result = subprocess.run([sys.executable, "-c", CHILD, json.dumps(SEED_EXAMPLE), str(run), out, args.format],
                                    check=True, capture_output=True, text=True)
            library.append(json.loads(result.stdout.strip().splitlines()[-1]))
            lyrics = f"{out}/lyrics.txt"
            with open(lyrics, "w", encoding="utf-8") as handle:
                handle.write(SEED_EXAMPLE["lyrics"])
            start = time.perf_counter()
            subprocess.run(["songwright", "generate", "--tags", SEED_EXAMPLE["tags"], "--lyrics", lyrics, "--duration", "60",
                            "--seed", str(run), "-o", f"{out}/cli.{args.format}", "--stems", f"{out}/cli-stems",
                            "--midi", f"{out}/cli.mid", "--lrc", f"{out}/cli.lrc", "--json", f"{out}/cli.json", "--quiet"],
                           check=True)
            cli.append(time.perf_counter() - start)
    median = statistics.median
    print(f"runs: {args.runs}, format: {args.format}, 60 s song, seed example, mix + stems + MIDI + LRC + JSON")
    print(f"generate() median: {median(r['generate_s'] for r in library):.2f} s")
    print(f"generate() + write all files median: {median(r['total_s'] for r in library):.2f} s "
          f"(min {min(r['total_s'] for r in library):.2f}, max {max(r['total_s'] for r in library):.2f})")
    print(f"CLI command end to end (Python start and imports included) median: {median(cli):.2f} s")
    print(f"peak memory (max RSS of one process): {max(r['peak_rss_mb'] for r in library):.0f} MB")


if __name__ == "__main__":
    main()
