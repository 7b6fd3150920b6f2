"""A candidate singer measured before it is built: Festival's slt HTS voice (female, Debian
festvox-us-slt-hts) singing the lead line of bench_naturalness' female songs, against MBROLA us1,
which sings them today. Not Songwright's singer: a measurement prototype for issue 13.

How it sings (benchmarks/bench_voices.py: spoken, slt is heard 96.9 % against us1's 81.7 %):
1. Festival analyses each sung line's text (its phones, syllables and words) and writes the
   hts_engine label strings of the line with every segment's end time set from the notes: a
   syllable's onset consonants before its note (at most 0.15 s), its vowel on the note, its coda
   consonants at the end of the note (at most 35 % of it); pauses fill the gaps. A word Festival
   splits into another number of syllables than ours spreads its syllables evenly over its notes.
2. Debian's libhtsengine1 (hts_engine API 1.10, through ctypes) generates the line with phoneme
   alignment on (the given durations are kept) and every state's log-F0 mean set from the note
   under it (`HTS_Engine_set_state_mean` on stream 1), so the voice itself sings the pitches.
3. The line goes into the song at its place (32 kHz -> 44.1 kHz), through the vocal stem's chain.

Measured as bench_naturalness measures: Whisper tiny.en word recall on the vocal stem, DNSMOS.

Needs `apt-get install festival festvox-us-slt-hts libhtsengine1` (not project dependencies) and
`pip install -e ".[eval]"`.

    python benchmarks/bench_hts_sung.py [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import json
import math
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_naturalness as naturalness  # noqa: E402

import songwright as sw  # noqa: E402
from songwright.audio import vocal_metrics as vm  # noqa: E402
from songwright.render.mix import process_stem  # noqa: E402
from songwright.singer.synthesis import midi_hz, resampled, sing  # noqa: E402
from songwright.stages import score_of  # noqa: E402

HTS_RATE = 32000
LEAD_IN_S = 0.3  # a line's own clock starts this long before its first note
MAX_ONSET_S, MAX_CODA_SHARE, MIN_SEGMENT_S = 0.15, 0.35, 0.01
VOICE_GLOB = "/usr/share/festival/voices/us/cmu_us_slt_arctic_hts/**/*.htsvoice"

FESTIVAL_SCHEME = """(voice_cmu_us_slt_arctic_hts)
(define (dump-segments text out)
  (let ((utt (SynthText text)) (fd (fopen out "w")))
    (mapcar (lambda (s)
      (format fd "%s %s %s %s %s\\n" (item.name s) (item.feat s "ph_vc")
              (item.feat s "R:SylStructure.parent.R:SylStructure.parent.id")
              (item.feat s "R:SylStructure.parent.id") (item.feat s "end")))
      (utt.relation.items utt 'Segment))
    (fclose fd)))
(define (timed-labels text ends out)
  (let ((utt (SynthText text)) (fd (fopen out "w")) (left ends))
    (mapcar (lambda (s) (item.set_feat s "end" (car left)) (set! left (cdr left)))
            (utt.relation.items utt 'Segment))
    (mapcar (lambda (label) (format fd "%s\\n" label)) (hts_dump_feats_string_list utt hts_feats_list))
    (fclose fd)))
"""


def festival(calls: str, folder: str) -> None:
    script = Path(folder) / "run.scm"
    script.write_text(FESTIVAL_SCHEME + calls)
    subprocess.run(["festival", "-b", str(script)], check=True, capture_output=True, timeout=600)


class Segment:
    def __init__(self, line: str, previous_end_s: float):
        self.phone, vc, self.word, self.syllable, end = line.split()
        self.vowel = vc == "+"
        self.spoken_s = float(end) - previous_end_s  # its length as Festival speaks it
        self.target: tuple[float, float] | None = None  # (start, end) s on the line's clock; None: a pause


def segments_of(rows: list[str]) -> list[Segment]:
    out, end_s = [], 0.0
    for row in rows:
        out.append(Segment(row, end_s))
        end_s = float(row.split()[-1])
    return out


def syllables_by_word(segments: list[Segment]) -> list[list[list[Segment]]]:
    """Festival's words, each a list of its syllables' segments; pauses left out."""
    words: list[list[list[Segment]]] = []
    for seg in segments:
        if seg.phone == "pau":
            continue
        if not words or words[-1][0][0].word != seg.word:
            words.append([[]])
        elif words[-1][-1][0].syllable != seg.syllable:
            words[-1].append([])
        words[-1][-1].append(seg)
    return words


def time_syllable(segments: list[Segment], start_s: float, end_s: float) -> None:
    """Onset before the note, vowel on it, coda at its end."""
    vowel = next((i for i, s in enumerate(segments) if s.vowel), None)
    if vowel is None:
        step = (end_s - start_s) / len(segments)
        for i, seg in enumerate(segments):
            seg.target = (start_s + i * step, start_s + (i + 1) * step)
        return
    onset, coda = segments[:vowel], segments[vowel + 1:]
    onset_s = min(MAX_ONSET_S, sum(s.spoken_s for s in onset))
    coda_s = min(MAX_CODA_SHARE * (end_s - start_s), sum(s.spoken_s for s in coda))
    _spread(onset, start_s - onset_s, start_s)
    segments[vowel].target = (start_s, end_s - coda_s)
    _spread(coda, end_s - coda_s, end_s)


def _spread(segments: list[Segment], start_s: float, end_s: float) -> None:
    """Consonants share their span in proportion to their spoken lengths."""
    total = sum(s.spoken_s for s in segments) or 1.0
    for seg in segments:
        length = (end_s - start_s) * seg.spoken_s / total
        seg.target = (start_s, start_s + length)
        start_s += length


def segment_ends(segments: list[Segment]) -> list[float]:
    """Each segment's end on the line's clock, increasing; a pause lasts until the next segment."""
    ends, last = [], 0.0
    for i, seg in enumerate(segments):
        if seg.target is not None:
            end = seg.target[1]
        else:
            end = next((s.target[0] for s in segments[i + 1:] if s.target is not None), last + LEAD_IN_S)
        last = max(end, last + MIN_SEGMENT_S)
        ends.append(last)
    return ends


class HtsEngine:
    """libhtsengine1 through ctypes (its HTS_Boolean is a char)."""

    def __init__(self) -> None:
        lib = ctypes.CDLL("libHTSEngine.so.1")
        for name in ("HTS_Engine_load", "HTS_Engine_generate_state_sequence_from_fn",
                     "HTS_Engine_generate_parameter_sequence", "HTS_Engine_generate_sample_sequence"):
            getattr(lib, name).restype = ctypes.c_bool
        for name in ("HTS_Engine_get_total_state", "HTS_Engine_get_nsamples", "HTS_Engine_get_state_duration",
                     "HTS_Engine_get_fperiod"):
            getattr(lib, name).restype = ctypes.c_size_t
        lib.HTS_Engine_get_generated_speech.restype = ctypes.c_double
        lib.HTS_Engine_set_state_mean.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_size_t,
                                                  ctypes.c_double]
        self.lib, self.voice = lib, glob.glob(VOICE_GLOB, recursive=True)[0].encode()

    def sing(self, label_file: str, hz_at) -> np.ndarray:
        """The labelled line at HTS_RATE, float32, every state's log-F0 mean from `hz_at(seconds)`."""
        lib, engine = self.lib, ctypes.create_string_buffer(1 << 16)  # larger than HTS_Engine
        lib.HTS_Engine_initialize(engine)
        try:
            if not lib.HTS_Engine_load(engine, (ctypes.c_char_p * 1)(self.voice), ctypes.c_size_t(1)):
                raise RuntimeError("hts_engine could not load the slt voice")
            lib.HTS_Engine_set_phoneme_alignment_flag(engine, ctypes.c_int(1))
            if not lib.HTS_Engine_generate_state_sequence_from_fn(engine, label_file.encode()):
                raise RuntimeError(f"hts_engine refused the labels {label_file}")
            frame_s = lib.HTS_Engine_get_fperiod(engine) / HTS_RATE
            at_s = 0.0
            for state in range(lib.HTS_Engine_get_total_state(engine)):
                length_s = lib.HTS_Engine_get_state_duration(engine, ctypes.c_size_t(state)) * frame_s
                lib.HTS_Engine_set_state_mean(engine, 1, state, 0, math.log(hz_at(at_s + length_s / 2)))
                at_s += length_s
            if not (lib.HTS_Engine_generate_parameter_sequence(engine) and lib.HTS_Engine_generate_sample_sequence(engine)):
                raise RuntimeError("hts_engine could not generate the line")
            count = lib.HTS_Engine_get_nsamples(engine)
            return np.array([lib.HTS_Engine_get_generated_speech(engine, ctypes.c_size_t(i)) for i in range(count)],
                            dtype=np.float32) / 32768.0
        finally:
            lib.HTS_Engine_clear(engine)


def lines_of(part) -> list[list[list]]:
    """The sung notes by line, each line a list of words, each word its notes."""
    lines: dict[int, list[list]] = {}
    for note in sorted((n for n in part.notes if n.phones is not None), key=lambda n: n.start_beats):
        words = lines.setdefault(note.line, [])
        if note.word_start or not words:
            words.append([])
        words[-1].append(note)
    return list(lines.values())


def sing_with_hts(plan, part, engine: HtsEngine) -> tuple[np.ndarray, int]:
    """The part sung by slt: (2, total_samples) float32, and how many lines were left out (Festival
    heard another number of words in them)."""
    beat_s = 60.0 / plan.tempo_bpm
    lines = lines_of(part)
    texts = [" ".join("".join(n.syllable for n in word) for word in line).replace('"', "") for line in lines]
    out = np.zeros(plan.total_samples, dtype=np.float32)
    skipped = 0
    with tempfile.TemporaryDirectory() as folder:
        festival("".join(f'(dump-segments "{t}" "{folder}/{i}.seg")\n' for i, t in enumerate(texts)), folder)
        timed = []
        for i, (text, line) in enumerate(zip(texts, lines)):
            segments = segments_of(Path(folder, f"{i}.seg").read_text().splitlines())
            words = syllables_by_word(segments)
            if len(words) != len(line):
                skipped += 1
                continue
            origin_s = line[0][0].start_beats * beat_s - LEAD_IN_S
            for syllables, notes in zip(words, line):
                spans = [(n.start_beats * beat_s - origin_s, n.end_beats * beat_s - origin_s) for n in notes]
                if len(spans) != len(syllables):
                    first, last = spans[0][0], spans[-1][1]
                    step = (last - first) / len(syllables)
                    spans = [(first + k * step, first + (k + 1) * step) for k in range(len(syllables))]
                for syllable, (start_s, end_s) in zip(syllables, spans):
                    time_syllable(syllable, start_s, end_s)
            notes = [(n.start_beats * beat_s - origin_s, n.end_beats * beat_s - origin_s, midi_hz(n.pitch))
                     for word in line for n in word]
            timed.append((i, text, segment_ends(segments), notes, origin_s))
        festival("".join(f'(timed-labels "{text}" (list {" ".join(f"{e:.4f}" for e in ends)}) "{folder}/{i}.lab")\n'
                         for i, text, ends, _, _ in timed), folder)
        for i, _, _, notes, origin_s in timed:
            label_file = Path(folder, f"{i}.lab")
            label_file.write_text("".join(row.strip() + "\n" for row in label_file.read_text().splitlines() if row.strip()))
            hz_at = lambda t, notes=notes: next((hz for _, end, hz in notes if t < end), notes[-1][2])  # noqa: E731
            line_audio = resampled(engine.sing(str(label_file), hz_at), HTS_RATE, plan.sample_rate)
            start = int(round(origin_s * plan.sample_rate))
            if start < 0:
                line_audio, start = line_audio[-start:], 0
            end = min(len(out), start + len(line_audio))
            out[start:end] += line_audio[:end - start]
    return np.vstack([out, out]), skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--duration", type=float, default=45.0)
    args = parser.parse_args()
    entries = [json.loads(line) for line in naturalness.LYRICS.read_text(encoding="utf-8").splitlines() if line.strip()]
    songs = [e for e in entries if e["lang"] == "en" and "female" in e["tags"]]
    engine = HtsEngine()
    rows: dict[str, list[tuple[float, float, float]]] = {"MBROLA us1": [], "Festival slt HTS": []}
    for seed in args.seeds:
        for entry in songs:
            request = sw.SongRequest(**{k: v for k, v in entry.items() if k != "lang"}, duration_s=args.duration, seed=seed)
            plan, score = score_of(request)
            part = score.part("vocals")
            reference = vm.normalize_words(" ".join(p.text for s in plan.sections for p in s.phrases)).split()
            for name in rows:
                if name == "MBROLA us1":
                    raw, skipped = sing(part, plan, plan.sample_rate, plan.total_samples), 0
                else:
                    raw, skipped = sing_with_hts(plan, part, engine)
                stem = process_stem("vocals", raw, plan.sample_rate, plan.tempo_bpm)
                heard = vm.normalize_words(vm.transcribe(stem.T, plan.sample_rate)).split()
                sig, p808 = naturalness.dnsmos(stem.T, plan.sample_rate)
                rows[name].append((naturalness.recall(reference, heard), sig, p808))
                note = f" ({skipped} line(s) left out)" if skipped else ""
                print(f"{seed} {entry['tags']:<28} {name:<17} recall {rows[name][-1][0]:4.0%}{note} | {' '.join(heard)}",
                      flush=True)
    for name, values in rows.items():
        print(f"{name:<17} recall {statistics.mean(v[0] for v in values):.1%}  SIG {statistics.mean(v[1] for v in values):.2f}"
              f"  P.808 {statistics.mean(v[2] for v in values):.2f}  ({len(values)} songs)")


if __name__ == "__main__":
    main()
