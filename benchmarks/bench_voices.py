"""Candidate English voices compared on the same phrases, spoken (issue 13: "look for singing or
speech voices that ship inside a PyPI wheel or a Debian package ... compare them blind on the same
phrases before choosing").

Each voice speaks the English lyrics of tests/data/vocal_lyrics.jsonl (13 texts, section tags
removed, one sentence per line); each recording is measured as bench_naturalness measures the sung
stems: Whisper tiny.en word recall (the lyric's words heard, in order) and DNSMOS SIG and P.808.
Speech, not singing: it ranks the voices' own timbre and articulation, before any pitch or timing
is imposed on them. The voices:

- MBROLA us1 (female), us2, us3, en1 (male), through espeak-ng's mb-* voices: what Songwright sings with;
- Festival's cmu_us_slt_arctic_hts (female, HMM-based, hts_engine; Debian festvox-us-slt-hts) and
  kal_diphone (male, diphone; festvox-kallpc16k).

Needs `apt-get install festival festvox-us-slt-hts festvox-kallpc16k` (not project dependencies)
and `pip install -e ".[eval]"`. A voice whose tools are missing is skipped with a note.

    python benchmarks/bench_voices.py
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_naturalness as naturalness  # noqa: E402

from songwright.audio import vocal_metrics as vm  # noqa: E402

def english_texts() -> list[str]:
    entries = [json.loads(line) for line in naturalness.LYRICS.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [re.sub(r"\[[^\]]*\]", " ", e["lyrics"]).replace("\n", ". ") for e in entries if e["lang"] == "en"]
    return [" ".join(text.split()) for text in texts]


def festival(voice: str):
    def speak(text: str, path: Path) -> None:
        subprocess.run(["text2wave", "-o", str(path), "-eval", f"({voice})"], input=text.encode(), check=True,
                       capture_output=True, timeout=120)
    return speak, shutil.which("text2wave") is not None


def espeak_mbrola(voice: str):
    def speak(text: str, path: Path) -> None:
        subprocess.run(["espeak-ng", "-v", f"mb-{voice}", "-w", str(path), text], check=True, capture_output=True,
                       timeout=120)
    return speak, shutil.which("espeak-ng") is not None and Path(f"/usr/share/mbrola/{voice}/{voice}").is_file()


VOICES = {
    "MBROLA us1 (female)": espeak_mbrola("us1"),
    "MBROLA us2 (male)": espeak_mbrola("us2"),
    "MBROLA us3 (male)": espeak_mbrola("us3"),
    "MBROLA en1 (male)": espeak_mbrola("en1"),
    "Festival slt HTS (female)": festival("voice_cmu_us_slt_arctic_hts"),
    "Festival kal diphone (male)": festival("voice_kal_diphone"),
}


def main() -> None:
    texts = english_texts()
    print(f"{len(texts)} English lyrics, spoken; Whisper tiny.en word recall, DNSMOS SIG and P.808 (means)")
    with tempfile.TemporaryDirectory() as folder:
        for name, (speak, available) in VOICES.items():
            if not available:
                print(f"{name:30s} skipped: its tools are not installed")
                continue
            recalls, sigs, p808s, failed = [], [], [], 0
            for i, text in enumerate(texts):
                path = Path(folder) / f"{i}.wav"
                try:
                    speak(text, path)
                except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                    failed += 1  # (Festival's kal_diphone crashes on one of the texts)
                    continue
                audio, rate = sf.read(path, dtype="float32", always_2d=True)
                reference = vm.normalize_words(text).split()
                heard = vm.normalize_words(vm.transcribe(audio, rate)).split()
                recalls.append(naturalness.recall(reference, heard))
                sig, p808 = naturalness.dnsmos(audio, rate)
                sigs.append(sig)
                p808s.append(p808)
            note = f"  ({failed} text(s) failed to render)" if failed else ""
            print(f"{name:30s} recall {statistics.mean(recalls):6.1%}  SIG {statistics.mean(sigs):.2f}  "
                  f"P.808 {statistics.mean(p808s):.2f}{note}", flush=True)


if __name__ == "__main__":
    main()
