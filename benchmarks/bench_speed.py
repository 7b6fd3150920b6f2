"""Speed against a plain accompaniment generator (issue 12): the peer and us, side by side.

The peer is MMA ("Musical MIDI Accompaniment") writing a 60 s 8-beat backing track as MIDI,
rendered to a 44.1 kHz WAV by the FluidSynth command line with the FluidR3 General MIDI font.
It is not a project dependency; install it with

    apt-get install mma fluidsynth fluid-soundfont-gm

Us: `songwright generate` on the README's seed example, as whole processes (Python start-up and
imports included, as a new user runs it): the cold CLI writing a WAV and an MP3; a warm process
making its second song (the server and the Python API keep one process: generate + write the
mix, vocals, stems and mastering included); the peak memory of each (max RSS, /usr/bin/time);
and the time per minute of audio for songs of 30 s, 60 s, 3 min and 10 min with stems written.
Every figure is the median of `--runs` runs; the peer and the cold runs alternate within each
round, so a busy neighbour on the machine slows both alike. The load average is printed.

    PYTHONPATH=src python3 benchmarks/bench_speed.py [--runs 3] [--lengths 30 60 180 600]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SEED_EXAMPLE_TAGS = "pop,funk,melodic,electronic"
SEED_EXAMPLE_LYRICS = "[verse] 霓虹闪烁 街道流淌 脚步轻快 心跳跟上 [chorus] 城市的脉搏 在夜里跳荡 代码与光影 编织梦想"
PEER_SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
PEER_TEMPO_BPM = 120
PEER_DURATION_S = 60
PEER_CHORDS = ("C", "Am", "F", "G")

# Targets of issue 12, as ratios against the peer measured in the same run, or absolute.
TARGET_COLD_WAV_RATIO = 1.5
TARGET_COLD_MP3_RATIO = 1.8
TARGET_WARM_RATIO = 1.0
TARGET_COLD_PEAK_MB = 350
TARGET_LONG_SONG_PEAK_MB = 1000
TARGET_PER_MINUTE_SPREAD = 0.20

# A process that makes one song first (as a server has), then times its second one.
WARM_CHILD = r"""
import json, resource, sys, time
import songwright as sw
def cpu_s():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
def make(seed, out):
    song = sw.generate(sw.SongRequest(tags=sys.argv[1], lyrics=sys.argv[2], duration_s=60, seed=seed))
    song.save(out)
make(1, sys.argv[3] + "/first.wav")
start, cpu = time.perf_counter(), cpu_s()
make(2, sys.argv[3] + "/second.wav")
print(json.dumps({"second_song_s": time.perf_counter() - start, "cpu_s": cpu_s() - cpu}))
"""

# One song of a given length in a fresh process, the mix and the stems written; the time after
# the imports (made before the clock starts: generate() imports the audio stages on first use),
# per minute of audio.
LENGTH_CHILD = r"""
import json, sys, time
import songwright as sw
import lameenc, soxr, songwright.render.mix, songwright.render.pipeline, songwright.stages
start = time.perf_counter()
song = sw.generate(sw.SongRequest(tags=sys.argv[1], lyrics=sys.argv[2], duration_s=float(sys.argv[3]), seed=1))
song.save_all(sys.argv[4] + "/song.wav", stems_dir=sys.argv[4] + "/stems")
print(json.dumps({"song_s": time.perf_counter() - start}))
"""


@dataclass(frozen=True)
class Run:
    """One measured process (or two, for the peer): wall and CPU seconds (user + system, the
    process and its children: the CPU figure moves less than the wall when the machine is shared)
    and peak memory (MB, the largest max RSS)."""
    wall_s: float
    cpu_s: float
    peak_mb: float
    stdout: str = ""

    def __add__(self, other: "Run") -> "Run":
        return Run(self.wall_s + other.wall_s, self.cpu_s + other.cpu_s, max(self.peak_mb, other.peak_mb))


def timed(command: list[str]) -> Run:
    """One process run under /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.perf_counter()
        result = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", report.name, *command],
                                capture_output=True, text=True)
        wall_s = time.perf_counter() - start
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:4])}... failed ({result.returncode}): {result.stderr[-2000:]}")
        peak_kb, user_s, system_s = report.read().strip().splitlines()[-1].split()
    return Run(wall_s, float(user_s) + float(system_s), int(peak_kb) / 1024, result.stdout)


def peer_once(folder: Path) -> Run:
    """MMA writes the backing track, FluidSynth renders it."""
    source = folder / "backing.mma"
    bars = PEER_DURATION_S * PEER_TEMPO_BPM // 60 // 4
    source.write_text(f"Tempo {PEER_TEMPO_BPM}\nGroove 8Beat\n"
                      + "".join(f"{bar + 1} {PEER_CHORDS[bar % len(PEER_CHORDS)]}\n" for bar in range(bars)))
    backing = timed(["mma", str(source), "-f", str(folder / "backing.mid")])
    return backing + timed(["fluidsynth", "-ni", "-q", "-F", str(folder / "backing.wav"), "-r", "44100", PEER_SOUNDFONT,
                            str(folder / "backing.mid")])


def cli_once(folder: Path, *, suffix: str, seed: int) -> Run:
    return timed([sys.executable, "-m", "songwright", "generate", "--tags", SEED_EXAMPLE_TAGS, "--lyrics-text",
                  SEED_EXAMPLE_LYRICS, "--seed", str(seed), "-o", str(folder / f"song.{suffix}"), "--quiet"])


def warm_once(folder: Path) -> Run:
    """The second song of a process that made one first (its wall and CPU; no peak of its own)."""
    run = timed([sys.executable, "-c", WARM_CHILD, SEED_EXAMPLE_TAGS, SEED_EXAMPLE_LYRICS, str(folder)])
    second = json.loads(run.stdout.strip().splitlines()[-1])
    return Run(second["second_song_s"], second["cpu_s"], run.peak_mb)


def length_once(folder: Path, *, duration_s: float) -> tuple[float, float]:
    run = timed([sys.executable, "-c", LENGTH_CHILD, SEED_EXAMPLE_TAGS, SEED_EXAMPLE_LYRICS, str(duration_s), str(folder)])
    return json.loads(run.stdout.strip().splitlines()[-1])["song_s"], run.peak_mb


def require_peer() -> None:
    missing = [tool for tool in ("mma", "fluidsynth", "/usr/bin/time") if shutil.which(tool) is None]
    if missing or not Path(PEER_SOUNDFONT).is_file():
        sys.exit(f"bench_speed: needs {', '.join(missing) or PEER_SOUNDFONT}: "
                 "apt-get install mma fluidsynth fluid-soundfont-gm time")


def compile_sources() -> None:
    """Our modules byte-compiled, as they are after a user's first run: an editable install leaves
    them as source, and where PYTHONDONTWRITEBYTECODE is set (as on our machines) every cold start
    would otherwise compile them again (0.2 s of the cold CLI, measured)."""
    import compileall

    import songwright

    compileall.compile_dir(str(Path(songwright.__file__).parent), quiet=1)


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement (medians are printed)")
    parser.add_argument("--lengths", type=float, nargs="*", default=[30, 60, 180, 600],
                        help="song lengths in seconds for the time per minute of audio (none: skip)")
    args = parser.parse_args()
    require_peer()
    compile_sources()
    median = statistics.median
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    runs: dict[str, list[Run]] = {"peer": [], "wav": [], "mp3": [], "warm": []}
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as out:
            folder = Path(out)
            runs["peer"].append(peer_once(folder))
            runs["wav"].append(cli_once(folder, suffix="wav", seed=1))
            runs["mp3"].append(cli_once(folder, suffix="mp3", seed=1))
            runs["warm"].append(warm_once(folder))
        print(f"  round {run + 1}: " + ", ".join(f"{name} {r[-1].wall_s:.2f} s ({r[-1].cpu_s:.2f} s CPU)"
                                                 for name, r in runs.items()), flush=True)
    wall = {name: median(r.wall_s for r in rs) for name, rs in runs.items()}
    cpu = {name: median(r.cpu_s for r in rs) for name, rs in runs.items()}
    peak = {name: median(r.peak_mb for r in rs) for name, rs in runs.items()}
    print(f"\nmedians of {args.runs} runs; ratios against the peer (wall, and CPU seconds in brackets)")
    print(f"{'':46s}{'wall':>8s}{'CPU':>8s}{'peak':>8s}{'ratio':>8s}{'(CPU)':>8s}  target")
    rows = (("peer: MMA 60 s 8-beat MIDI + FluidSynth WAV", "peer", None),
            ("us: cold CLI, seed example, WAV", "wav", TARGET_COLD_WAV_RATIO),
            ("us: cold CLI, seed example, MP3", "mp3", TARGET_COLD_MP3_RATIO),
            ("us: warm process, second song (gen + WAV)", "warm", TARGET_WARM_RATIO))
    for label, name, target in rows:
        line = f"{label:46s}{wall[name]:7.2f}s{cpu[name]:7.2f}s{peak[name]:6.0f}MB"
        if target is not None:
            ratio = wall[name] / wall["peer"]
            line += f"{ratio:7.2f}x{cpu[name] / cpu['peer']:7.2f}x  <= {target}x {verdict(ratio, target)}"
        print(line)
    cold_peak_mb = max(peak["wav"], peak["mp3"])
    print(f"peak memory of the cold CLI: {cold_peak_mb:.0f} MB (target <= {TARGET_COLD_PEAK_MB} MB: "
          f"{verdict(cold_peak_mb, TARGET_COLD_PEAK_MB)})")
    if args.lengths:
        print_lengths(args, median)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def print_lengths(args: argparse.Namespace, median) -> None:
    """Time per minute of audio (generate + mix + stems written, after the imports) and peak memory."""
    per_length: dict[float, list[tuple[float, float]]] = {d: [] for d in args.lengths}
    for _ in range(args.runs):
        for duration_s in args.lengths:  # alternating lengths within each round
            with tempfile.TemporaryDirectory() as out:
                per_length[duration_s].append(length_once(Path(out), duration_s=duration_s))
    print("\nsong length (fresh process, generate + mix and stems written, imports excluded)")
    per_minute = {}
    for duration_s, runs in per_length.items():
        song_s, peak_mb = median(r[0] for r in runs), median(r[1] for r in runs)
        per_minute[duration_s] = song_s / (duration_s / 60)
        print(f"  {duration_s:5.0f} s: {song_s:6.2f} s, {per_minute[duration_s]:5.2f} s per minute of audio, "
              f"peak {peak_mb:5.0f} MB")
    minutes = [v for d, v in per_minute.items() if d >= 60]
    if len(minutes) > 1:
        spread = max(minutes) / min(minutes) - 1
        print(f"  per-minute spread from 1 to {max(args.lengths) / 60:g} min: {spread:.0%} "
              f"(target <= {TARGET_PER_MINUTE_SPREAD:.0%}: {verdict(spread, TARGET_PER_MINUTE_SPREAD)})")
    longest = max(args.lengths)
    if longest >= 600:
        peak_mb = median(r[1] for r in per_length[longest])
        print(f"  {longest / 60:g}-minute song with stems: peak {peak_mb:.0f} MB (target <= {TARGET_LONG_SONG_PEAK_MB} MB: "
              f"{verdict(peak_mb, TARGET_LONG_SONG_PEAK_MB)})")


if __name__ == "__main__":
    main()
