"""Control measured from the audio: is the tempo and key a listener hears the one asked for?

Generates every request of tests/data/control_requests.jsonl (genres across the style table,
70-170 BPM, major and minor keys, 4/4 and 3/4), estimates tempo and key from the mastered mix
and prints one row per song plus the hit rates.

    python benchmarks/bench_control.py [--duration 30] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import songwright as sw
from songwright.audio.analysis import estimate_key, estimate_tempo
from songwright.theory import parse_key

REQUESTS = Path(__file__).resolve().parent.parent / "tests" / "data" / "control_requests.jsonl"
TEMPO_TOLERANCE = 0.04


def tempo_matches(estimated: float, asked: float) -> bool:
    """Within 4% of the tempo, or of half or double it."""
    return any(abs(estimated - asked * factor) <= TEMPO_TOLERANCE * asked * factor for factor in (0.5, 1.0, 2.0))


def key_matches(tonic: str, mode: str, asked: str) -> bool:
    return parse_key(f"{tonic} {mode}") == parse_key(asked)


def measure(request: sw.SongRequest) -> dict:
    song = sw.generate(request)
    tempo = estimate_tempo(song.audio, song.sample_rate)
    tonic, mode, _ = estimate_key(song.audio, song.sample_rate)
    return {"tags": request.tags, "asked_bpm": request.tempo_bpm, "heard_bpm": round(tempo, 1),
            "tempo_ok": tempo_matches(tempo, request.tempo_bpm), "asked_key": request.key,
            "heard_key": f"{tonic} {mode}", "key_ok": key_matches(tonic, mode, request.key)}


def load_requests(duration_s: float, seed: int) -> list[sw.SongRequest]:
    lines = REQUESTS.read_text(encoding="utf-8").splitlines()
    return [sw.SongRequest(**json.loads(line), duration_s=duration_s, seed=seed) for line in lines if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = [measure(r) for r in load_requests(args.duration, args.seed)]
    for row in rows:
        print(f"{row['tags']:<28} {row['asked_bpm']:>5g} -> {row['heard_bpm']:>6} {'ok ' if row['tempo_ok'] else 'MISS'}"
              f"   {row['asked_key']:<9} -> {row['heard_key']:<9} {'ok' if row['key_ok'] else 'MISS'}")
    n = len(rows)
    print(f"tempo within 4% (half/double allowed): {sum(r['tempo_ok'] for r in rows)}/{n} "
          f"= {100 * sum(r['tempo_ok'] for r in rows) / n:.0f}%")
    print(f"key (tonic and mode) exact: {sum(r['key_ok'] for r in rows)}/{n} = {100 * sum(r['key_ok'] for r in rows) / n:.0f}%")


if __name__ == "__main__":
    main()
